#pragma once
// The news board: every news event of a run, in one list, and their values at the tick
// being run. The list is the scenario's events and those drawn by its news process, sorted
// by tick (stable), followed by the events the run adds as it goes (proofs of reserves,
// the news of write-downs), in the order they happen. An event's index in the list keys
// whether it reached each agent, so the list never changes order; room for every event the
// run can add is reserved at construction, so adding one never allocates.
#include <cstdint>
#include <vector>

#include "agents/population.hpp"
#include "agents/rng.hpp"
#include "scenario.hpp"

namespace bankrun {

class NewsBoard {
 public:
  explicit NewsBoard(const Scenario& scenario);

  // An event added during the run; throws std::logic_error beyond the room reserved.
  void add(NewsEvent event);

  // The values of tick t: A_j exp(-(t - t_j) / tau_j) for t_j <= t < t_j + d_j, else 0.
  // Returns their sum (the total news signal of the tick).
  double prepare(std::int32_t t);
  bool any_live() const { return live_count_ > 0; }

  // N_i(t), after prepare(t); see the definition below.
  double agent_news(std::uint32_t i, const Population& population) const;

  // The events as run: scenario, drawn and added ones.
  const std::vector<NewsEvent>& events() const { return events_; }

  // Checkpoints: the events the run added (proofs of reserves, write-downs). The scenario's
  // and the drawn events are rebuilt from the scenario; values and the live list are
  // recomputed by prepare() every tick. A restore replaces the added events (within the
  // room reserved, so the list never reallocates).
  template <class Archive>
  void visit_state(Archive& a);

 private:
  // An added event without its label (the labels go in one item of characters).
  struct AddedEvent {
    std::int32_t tick = 0, duration_ticks = 0, institution = 0;
    std::uint32_t label_size = 0;
    double magnitude = 0.0, decay_ticks = 0.0, reach = 0.0;
  };
  void pack_added(std::vector<AddedEvent>& added, std::vector<char>& labels) const;
  void unpack_added(const std::vector<AddedEvent>& added, const std::vector<char>& labels);
  void draw_news_process(const Scenario& scenario);

  std::uint64_t seed_;
  std::vector<NewsEvent> events_;
  std::size_t capacity_ = 0;         // events_ never grows beyond it
  std::size_t scenario_events_ = 0;  // events_[0, scenario_events_): scenario and drawn ones
  std::vector<double> value_;        // per event, this tick (0 when not live)
  std::vector<std::uint32_t> live_;  // the live events of this tick, in list order
  std::uint32_t live_count_ = 0;
  bool live_targeted_ = false;  // a live event has a target institution
};

template <class Archive>
void NewsBoard::visit_state(Archive& a) {
  std::vector<AddedEvent> added;
  std::vector<char> labels;
  if constexpr (!Archive::loading) pack_added(added, labels);
  a.items("news.added_events", added);
  a.items("news.added_labels", labels);
  if constexpr (Archive::loading) unpack_added(added, labels);
}

// N_i(t): sum of the live events' values over those that reached agent i (events with a
// target institution reach only its depositors). Whether event j reached i is drawn once
// per (event, agent) (a pure function, so nothing is stored): reached iff
// U_ij < reach_j * attention_i, where U_ij is the (j mod 4)-th 32-bit word of the Philox
// block of (seed, kNewsReach, slot floor(j / 4), id i) divided by 2^32 — one block serves
// four consecutive events. Inline: it is called per agent in the decide loop.
inline double NewsBoard::agent_news(std::uint32_t i, const Population& population) const {
  const double attention = population.attention[i];
  const std::int32_t account = live_targeted_ ? population.account[i] : -1;
  std::uint32_t group = ~0u;
  Philox4x32::Counter words{};
  double n = 0.0;
  for (std::uint32_t k = 0; k < live_count_; ++k) {
    const std::uint32_t j = live_[k];
    const NewsEvent& e = events_[j];
    if (e.institution >= 0 && e.institution != account) continue;
    const double p = e.reach * attention;
    if (p < 1.0) {
      if (j / 4 != group) {
        group = j / 4;
        words = CounterRng::block_at(seed_, Stream::kNewsReach, group, i);
      }
      if (words[j % 4] * 0x1.0p-32 >= p) continue;
    }
    n += value_[j];
  }
  return n;
}

}  // namespace bankrun
