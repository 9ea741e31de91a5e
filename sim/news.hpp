#pragma once
// The news board: every news event of a run, in one list, and their values at the tick
// being run. The list is the scenario's events and those drawn by its news process, sorted
// by tick (stable), followed by the events the run adds as it goes (proofs of reserves,
// the news of write-downs), in the order they happen. An event's index in the list keys
// whether it reached each agent, so the list never changes order; room for every event the
// run can add is reserved at construction, so adding one never allocates.
//
// Reach bits: whether event j reached agent i is a pure function of (seed, j, i), so it is
// drawn for all agents once, when j becomes live, into one bit per agent of a slot of a
// pool reserved at construction (one slot per event that can be live at once), instead of
// once per agent and tick; the slot is freed when j stops being live. Where the pool would
// need more than kMaxReachSlots slots the draws are made per agent and tick as before
// (same values: the bits are the same draws).
#include <cstdint>
#include <vector>

#include "agents/population.hpp"
#include "agents/rng.hpp"
#include "scenario.hpp"

namespace bankrun {

class NewsBoard {
 public:
  // `agents` > 0: reserve the reach bits for that many agents (see above); 0: none.
  explicit NewsBoard(const Scenario& scenario, std::uint32_t agents = 0);

  // The pool's size: at most this many slots, each of ceil(N / 64) 64-bit words.
  static constexpr std::size_t kMaxReachSlots = 32;
  // The slots a run of `scenario` reserves (0 = reach drawn per agent and tick).
  static std::size_t reach_slots(const Scenario& scenario);

  // An event added during the run; throws std::logic_error beyond the room reserved.
  void add(NewsEvent event);

  // The values of tick t: A_j exp(-(t - t_j) / tau_j) for t_j <= t < t_j + d_j, else 0.
  // Returns their sum (the total news signal of the tick). Draws the reach bits of the
  // events that became live (or are live after a restore) and frees those of the others.
  double prepare(std::int32_t t, const Population& population);
  bool any_live() const { return live_count_ > 0; }

  // N_i(t), after prepare(t); see the definition below.
  double agent_news(std::uint32_t i, const Population& population) const;
  // out[a] = agent_news(ids[a], population) for a < count, event by event over the agents.
  void sum_news(const std::uint32_t* ids, std::uint32_t count, const Population& population,
                double* out) const;

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
  bool needs_reach_draw(const NewsEvent& e) const { return e.reach < 1.0 || !full_attention_; }
  std::size_t slots_needed(std::size_t runtime) const;
  void reset_reach_slots();
  void update_reach_bits(const Population& population);
  void draw_reach_bits(std::uint32_t j, std::uint32_t slot, const Population& population);
  double agent_news_drawn(std::uint32_t i, const Population& population) const;

  std::uint64_t seed_;
  std::vector<NewsEvent> events_;
  std::size_t capacity_ = 0;         // events_ never grows beyond it
  std::size_t scenario_events_ = 0;  // events_[0, scenario_events_): scenario and drawn ones
  std::vector<double> value_;        // per event, this tick (0 when not live)
  std::vector<std::uint32_t> live_;  // the live events of this tick, in list order
  std::uint32_t live_count_ = 0;
  bool live_targeted_ = false;  // a live event has a target institution
  // Reach bits (empty pool: drawn per agent and tick).
  bool full_attention_ = false;            // every agent's attention is 1
  std::size_t reach_words_ = 0;            // 64-bit words per slot
  std::vector<std::uint64_t> reach_bits_;  // slot s: [s * reach_words_, (s + 1) * reach_words_)
  std::vector<std::int32_t> slot_of_;      // per event: its slot, or -1
  std::vector<std::uint32_t> free_slots_;  // a stack; its room is reserved
  std::size_t free_count_ = 0;
};

template <class Archive>
void NewsBoard::visit_state(Archive& a) {
  std::vector<AddedEvent> added;
  std::vector<char> labels;
  if constexpr (!Archive::loading) pack_added(added, labels);
  a.items("news.added_events", added);
  a.items("news.added_labels", labels);
  if constexpr (Archive::loading) {
    unpack_added(added, labels);
    if (!reach_bits_.empty()) reset_reach_slots();  // the next prepare() draws them again
  }
}

// N_i(t): sum of the live events' values over those that reached agent i (events with a
// target institution reach only its depositors). Whether event j reached i is drawn once
// per (event, agent) (a pure function): reached iff reach_j * attention_i >= 1 or
// U_ij < reach_j * attention_i, where U_ij is the (j mod 4)-th 32-bit word of the Philox
// block of (seed, kNewsReach, slot floor(j / 4), id i) divided by 2^32 — one block serves
// four consecutive events. The sum runs in list order whether the draws come from the reach
// bits (sum_news, which the decide loop calls per batch) or are made here.
inline double NewsBoard::agent_news(std::uint32_t i, const Population& population) const {
  double n;
  sum_news(&i, 1, population, &n);
  return n;
}

// The same sum with the draws made here (no reach bits): one Philox block per group of four
// consecutive live events.
inline double NewsBoard::agent_news_drawn(std::uint32_t i, const Population& population) const {
  const double attention = population.attention_of(i);
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
