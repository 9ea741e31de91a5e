#include "news.hpp"

#include <algorithm>
#include <bit>
#include <boost/random/poisson_distribution.hpp>
#include <cmath>
#include <stdexcept>

#include "agents/parallel.hpp"
#include "checkpoint.hpp"
#include "lanes.hpp"

namespace bankrun {
namespace {

// Events a run can add: one per proof-of-reserves or capital-raise policy (each fires
// once), one per exposure (written down once) and one per asset that announces its first
// realised loss.
std::size_t runtime_events(const Scenario& scenario) {
  std::size_t count = 0;
  for (const InstitutionSpec& spec : scenario.institutions) {
    count += spec.exposures.size();
    for (const PolicySpec& p : spec.policies)
      count +=
          p.kind == PolicySpec::Kind::kProofOfReserves || p.kind == PolicySpec::Kind::kCapitalRaise;
    for (const AssetSpec& a : spec.assets) count += a.news_per_realised_loss > 0.0;
  }
  return count;
}

bool every_attention_one(const Scenario& scenario) {
  for (const InvestorClass& c : scenario.population.classes)
    if (!(c.attention == Distribution::constant(1.0))) return false;
  return true;
}

}  // namespace

NewsBoard::NewsBoard(const Scenario& scenario, std::uint32_t agents)
    : seed_(scenario.seed), events_(scenario.news), full_attention_(every_attention_one(scenario)) {
  draw_news_process(scenario);
  scenario_events_ = events_.size();
  capacity_ = events_.size() + runtime_events(scenario);
  events_.reserve(capacity_);
  value_.assign(capacity_, 0.0);
  live_.resize(capacity_);
  const std::size_t slots = agents > 0 ? slots_needed(runtime_events(scenario)) : 0;
  if (slots == 0 || slots > kMaxReachSlots) return;
  reach_words_ = (std::size_t{agents} + 63) / 64;
  reach_bits_.assign(slots * reach_words_, 0);
  slot_of_.assign(capacity_, -1);
  free_slots_.resize(slots);
  reset_reach_slots();
}

std::size_t NewsBoard::reach_slots(const Scenario& scenario) {
  const NewsBoard board(scenario);
  const std::size_t slots = board.slots_needed(runtime_events(scenario));
  return slots <= kMaxReachSlots ? slots : 0;
}

// The most events needing reach draws that can be live at once: the largest overlap of the
// boxes [t_j, t_j + d_j) of the scenario's and drawn events, plus every event the run can add.
std::size_t NewsBoard::slots_needed(std::size_t runtime) const {
  std::vector<std::pair<std::int64_t, int>> edges;  // (tick, +1 start / -1 end)
  for (const NewsEvent& e : events_) {
    if (!needs_reach_draw(e) || e.duration_ticks <= 0) continue;
    edges.push_back({e.tick, +1});
    edges.push_back({std::int64_t{e.tick} + e.duration_ticks, -1});
  }
  std::sort(edges.begin(), edges.end());  // at equal ticks the ends (-1) come first
  std::int64_t live = 0, most = 0;
  for (const auto& [tick, change] : edges) most = std::max(most, live += change);
  return static_cast<std::size_t>(most) + runtime;
}

void NewsBoard::reset_reach_slots() {
  std::fill(slot_of_.begin(), slot_of_.end(), -1);
  free_count_ = free_slots_.size();
  for (std::size_t s = 0; s < free_count_; ++s)
    free_slots_[s] = static_cast<std::uint32_t>(free_count_ - 1 - s);
}

// Stochastic news: at each tick t of [start, end) a Poisson(rate) number of events, each
// with a magnitude drawn from its distribution; all drawn from (seed, kNewsProcess, t, k).
// They join the scenario's list, which is then sorted by tick (stable).
void NewsBoard::draw_news_process(const Scenario& scenario) {
  const NewsProcessSpec& p = scenario.news_process;
  if (p.rate_per_tick <= 0.0) return;
  const std::int32_t end = std::min(p.end_tick, scenario.time.ticks);
  std::uint64_t drawn = 0;  // events so far: the index of an `exact` magnitude list
  for (std::int32_t t = p.start_tick; t < end; ++t) {
    CounterRng count_rng(seed_, Stream::kNewsProcess, static_cast<std::uint32_t>(t), 0);
    const int count = boost::random::poisson_distribution<int>(p.rate_per_tick)(count_rng);
    for (int k = 0; k < count; ++k) {
      CounterRng rng(seed_, Stream::kNewsProcess, static_cast<std::uint32_t>(t),
                     static_cast<std::uint32_t>(k + 1));
      events_.push_back({"news process", t, p.magnitude.sample(drawn++, rng), p.decay_ticks,
                         p.duration_ticks, p.reach, p.institution});
    }
  }
  std::stable_sort(events_.begin(), events_.end(),
                   [](const NewsEvent& a, const NewsEvent& b) { return a.tick < b.tick; });
}

void NewsBoard::add(NewsEvent event) {
  if (events_.size() >= capacity_)
    throw std::logic_error("news board: more runtime events than reserved");
  events_.push_back(std::move(event));
}

void NewsBoard::pack_added(std::vector<AddedEvent>& added, std::vector<char>& labels) const {
  for (std::size_t j = scenario_events_; j < events_.size(); ++j) {
    const NewsEvent& e = events_[j];
    added.push_back({e.tick, e.duration_ticks, e.institution,
                     static_cast<std::uint32_t>(e.label.size()), e.magnitude, e.decay_ticks,
                     e.reach});
    labels.insert(labels.end(), e.label.begin(), e.label.end());
  }
}

void NewsBoard::unpack_added(const std::vector<AddedEvent>& added,
                             const std::vector<char>& labels) {
  if (added.size() > capacity_ - scenario_events_)
    throw CheckpointError("news.added_events", "more events than this scenario can add");
  events_.resize(scenario_events_);  // shrinking keeps the capacity
  std::size_t at = 0;
  for (const AddedEvent& e : added) {
    if (e.label_size > labels.size() - at)
      throw CheckpointError("news.added_labels", "shorter than the events' labels");
    events_.push_back({std::string(labels.data() + at, e.label_size), e.tick, e.magnitude,
                       e.decay_ticks, e.duration_ticks, e.reach, e.institution});
    at += e.label_size;
  }
  if (at != labels.size())
    throw CheckpointError("news.added_labels", "longer than the events' labels");
}

double NewsBoard::prepare(std::int32_t t, const Population& population) {
  live_count_ = 0;
  live_targeted_ = false;
  double total = 0.0;
  for (std::size_t j = 0; j < events_.size(); ++j) {
    const NewsEvent& e = events_[j];
    const std::int64_t age = std::int64_t{t} - e.tick;
    double v = 0.0;
    if (age >= 0 && age < e.duration_ticks) v = e.magnitude * std::exp(-age / e.decay_ticks);
    value_[j] = v;
    if (v != 0.0) {
      live_[live_count_++] = static_cast<std::uint32_t>(j);
      live_targeted_ = live_targeted_ || e.institution >= 0;
    }
    total += v;
  }
  if (!reach_bits_.empty()) update_reach_bits(population);
  return total;
}

// Frees the slots of events that are no longer live; draws the bits of live events that
// have none yet (they became live at t, or the run was restored at t).
void NewsBoard::update_reach_bits(const Population& population) {
  for (std::size_t j = 0; j < events_.size(); ++j)
    if (slot_of_[j] >= 0 && value_[j] == 0.0) {
      free_slots_[free_count_++] = static_cast<std::uint32_t>(slot_of_[j]);
      slot_of_[j] = -1;
    }
  for (std::uint32_t k = 0; k < live_count_; ++k) {
    const std::uint32_t j = live_[k];
    if (slot_of_[j] >= 0 || !needs_reach_draw(events_[j])) continue;
    if (free_count_ == 0) throw std::logic_error("news board: more live events than reach slots");
    const std::uint32_t slot = free_slots_[--free_count_];
    slot_of_[j] = static_cast<std::int32_t>(slot);
    draw_reach_bits(j, slot, population);
  }
}

namespace {

// Bits [first, first + count) of the bit array `bits` (`words` words; count <= kBatchLanes)
// into out[0 ..], bit a of the run as bit a % 64 of out[a / 64].
void copy_bits(const std::uint64_t* bits, std::size_t words, std::uint32_t first,
               std::uint32_t count, std::uint64_t* out) {
  const std::size_t word = first >> 6;
  const unsigned shift = first & 63;
  for (std::uint32_t w = 0; w * 64 < count; ++w) {
    std::uint64_t value = bits[word + w] >> shift;
    if (shift != 0 && word + w + 1 < words) value |= bits[word + w + 1] << (64 - shift);
    out[w] = value;
  }
}

}  // namespace

// The sums of agent_news in the same order (list order) per agent. A not-reached event adds
// +0.0 instead of being skipped: the same value, since a sum that starts at +0.0 is never
// -0.0 (round to nearest gives +0.0 for an exact zero sum unless both terms are -0.0).
void NewsBoard::sum_news(const std::uint32_t* ids, std::uint32_t count,
                         const Population& population, double* out) const {
  if (reach_bits_.empty()) {
    for (std::uint32_t a = 0; a < count; ++a) out[a] = agent_news_drawn(ids[a], population);
    return;
  }
  std::fill_n(out, count, 0.0);
  const bool contiguous = count > 0 && count <= kBatchLanes && ids[count - 1] - ids[0] == count - 1;
  for (std::uint32_t k = 0; k < live_count_; ++k) {
    const std::uint32_t j = live_[k];
    const double v = value_[j];
    const std::int32_t target = events_[j].institution;
    const std::int32_t slot = slot_of_[j];
    if (target < 0 && slot < 0) {
      for (std::uint32_t a = 0; a < count; ++a) out[a] += v;
      continue;
    }
    const std::uint64_t* bits =
        slot >= 0 ? reach_bits_.data() + static_cast<std::size_t>(slot) * reach_words_ : nullptr;
    // Branch-free (whether an agent was reached is a coin flip the branch predictor cannot
    // learn): v's bits masked to +0.0 where not reached.
    const auto v_bits = std::bit_cast<std::uint64_t>(v);
    if (target < 0 && contiguous) {
      // ids[a] = ids[0] + a: the batch's bits are one run of the slot's bits, shifted into
      // words of the batch's own (bit a of lane a): no gather, and eight lanes at a time
      // where the processor can (lanes.hpp).
      std::uint64_t words[kBatchLanes / 64];
      copy_bits(bits, reach_words_, ids[0], count, words);
      add_where_set(words, count, v, out);
      continue;
    }
    const std::uint8_t* account = population.account.data();
    for (std::uint32_t a = 0; a < count; ++a) {
      const std::uint32_t i = ids[a];
      const std::uint64_t in_target = target < 0 || account[i] == target;
      const std::uint64_t hit = bits == nullptr ? 1u : (bits[i >> 6] >> (i & 63)) & 1u;
      out[a] += std::bit_cast<double>(v_bits & (std::uint64_t{0} - (in_target & hit)));
    }
  }
}

// Bit i of the slot: whether event j reached agent i (the draw agent_news_drawn makes, for
// 256 agents at a time by first_blocks).
void NewsBoard::draw_reach_bits(std::uint32_t j, std::uint32_t slot, const Population& population) {
  const std::uint32_t n = population.size();
  if ((std::size_t{n} + 63) / 64 != reach_words_)
    throw std::logic_error("news board: reach bits sized for another population");
  constexpr std::size_t kWordsPerBatch = kBatchLanes / 64;
  std::uint64_t* bits = reach_bits_.data() + std::size_t{slot} * reach_words_;
  const double reach = events_[j].reach;
  for_pieces(
      std::size_t{0}, (reach_words_ + kWordsPerBatch - 1) / kWordsPerBatch, 4,
      [&](std::size_t lo, std::size_t hi) {
        BlockWords words;
        std::uint32_t ids[kBatchLanes];
        const std::uint32_t* const word_of_event[4] = {words.w0, words.w1, words.w2, words.w3};
        for (std::size_t batch = lo; batch < hi; ++batch) {
          const auto first = static_cast<std::uint32_t>(batch * kBatchLanes);
          const std::uint32_t count = std::min<std::uint32_t>(kBatchLanes, n - first);
          for (std::uint32_t a = 0; a < count; ++a) ids[a] = first + a;
          first_blocks(seed_, Stream::kNewsReach, j / 4, ids, count, words);
          const std::uint32_t* u = word_of_event[j % 4];
          for (std::uint32_t w = 0; w * 64 < count; ++w) {
            std::uint64_t word = 0;
            for (std::uint32_t b = 0; b < 64 && w * 64 + b < count; ++b) {
              const std::uint32_t a = w * 64 + b;
              const double p = reach * population.attention_of(first + a);
              word |= std::uint64_t{p >= 1.0 || u[a] * 0x1.0p-32 < p} << b;
            }
            bits[batch * kWordsPerBatch + w] = word;
          }
        }
      });
}

}  // namespace bankrun
