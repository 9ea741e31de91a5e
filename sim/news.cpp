#include "news.hpp"

#include <algorithm>
#include <boost/random/poisson_distribution.hpp>
#include <cmath>
#include <stdexcept>

#include "checkpoint.hpp"

namespace bankrun {
namespace {

// Events a run can add: one per proof-of-reserves policy (it fires once) and one per
// exposure (written down once).
std::size_t runtime_events(const Scenario& scenario) {
  std::size_t count = 0;
  for (const InstitutionSpec& spec : scenario.institutions) {
    count += spec.exposures.size();
    for (const PolicySpec& p : spec.policies) count += p.kind == PolicySpec::Kind::kProofOfReserves;
  }
  return count;
}

}  // namespace

NewsBoard::NewsBoard(const Scenario& scenario) : seed_(scenario.seed), events_(scenario.news) {
  draw_news_process(scenario);
  scenario_events_ = events_.size();
  capacity_ = events_.size() + runtime_events(scenario);
  events_.reserve(capacity_);
  value_.assign(capacity_, 0.0);
  live_.resize(capacity_);
}

// Stochastic news: at each tick t of [start, end) a Poisson(rate) number of events, each
// with a magnitude drawn from its distribution; all drawn from (seed, kNewsProcess, t, k).
// They join the scenario's list, which is then sorted by tick (stable).
void NewsBoard::draw_news_process(const Scenario& scenario) {
  const NewsProcessSpec& p = scenario.news_process;
  if (p.rate_per_tick <= 0.0) return;
  const std::int32_t end = std::min(p.end_tick, scenario.time.ticks);
  for (std::int32_t t = p.start_tick; t < end; ++t) {
    CounterRng count_rng(seed_, Stream::kNewsProcess, static_cast<std::uint32_t>(t), 0);
    const int count = boost::random::poisson_distribution<int>(p.rate_per_tick)(count_rng);
    for (int k = 0; k < count; ++k) {
      CounterRng rng(seed_, Stream::kNewsProcess, static_cast<std::uint32_t>(t),
                     static_cast<std::uint32_t>(k + 1));
      events_.push_back({"news process", t, p.magnitude.sample(rng), p.decay_ticks,
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

double NewsBoard::prepare(std::int32_t t) {
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
  return total;
}

}  // namespace bankrun
