#include "signals.hpp"

#include <algorithm>
#include <utility>

#include "agents/parallel.hpp"

namespace bankrun {

PublicSignals::PublicSignals(const Scenario& scenario, const std::vector<Institution>& institutions,
                             const Portfolio& portfolio, std::size_t classes)
    : weights_(scenario.stress),
      tick_hours_(scenario.time.tick_hours),
      classes_(classes),
      uniform_(institutions.size() == 1 && !portfolio.any_in_kind()),
      terms_(institutions.size() * classes, 0.0),
      flow_ring_(static_cast<std::size_t>(scenario.stress.flow_window_ticks) + 1) {
  const std::size_t nin = institutions.size();
  flow_out_.assign(nin * flow_ring_, 0);
  flow_deposits_.resize(nin * flow_ring_);
  for (std::size_t k = 0; k < nin; ++k)
    std::fill_n(flow_deposits_.begin() + k * flow_ring_, flow_ring_, institutions[k].deposits());
}

// G_k(t-1) of institution k: net outflow (paid out - re-deposited - arrived from other
// institutions) over the window, as a share of the deposits at its start.
//   window 0 ("since the start"): G = net_out(<= t-1) / deposits(0)
//   window W: G = (net_out(<= t-1) - net_out(<= t-1-W)) / deposits(end of t-1-W)
// Ticks before 0 count as "nothing paid, deposits = issued".
namespace {
Money net_outflow(const Institution& in) {
  return in.paid_total() - in.inflow_total() - in.transfer_in_total();
}
}  // namespace

double PublicSignals::flow_signal(std::int32_t t, std::size_t k, const Institution& in) const {
  if (weights_.flow_weight == 0.0) return 0.0;
  const Money out_now = net_outflow(in);
  if (weights_.flow_window_ticks == 0) {
    return in.issued() > 0 ? static_cast<double>(out_now) / static_cast<double>(in.issued()) : 0.0;
  }
  // The end of tick k is kept in slot (k + 1) mod (W + 1), so the end of tick t-1-W sits in
  // slot (t - W) mod (W + 1) = (t + 1) mod (W + 1); it survives the writes of t-W .. t-1.
  const std::size_t oldest = k * flow_ring_ + static_cast<std::size_t>(t + 1) % flow_ring_;
  const Money base = flow_deposits_[oldest];
  return base > 0 ? static_cast<double>(out_now - flow_out_[oldest]) / base : 0.0;
}

void PublicSignals::remember(std::int32_t t, const std::vector<Institution>& institutions) {
  if (weights_.flow_window_ticks == 0) return;
  for (std::size_t k = 0; k < institutions.size(); ++k) {
    const std::size_t slot = k * flow_ring_ + static_cast<std::size_t>(t + 1) % flow_ring_;
    flow_out_[slot] = net_outflow(institutions[k]);
    flow_deposits_[slot] = institutions[k].deposits();
  }
}

// Q_k(t-1): the waiting time of institution k's oldest unpaid request at the end of t-1,
// in days.
double PublicSignals::queue_signal(std::int32_t t, const Institution& in) const {
  if (t == 0) return 0.0;
  return in.oldest_wait(t - 1) * tick_hours_ / 24.0;
}

// For the depositors of each class c of institution k:
//   public_kc = b_flow G_k(t-1) + b_queue Q_k(t-1) + b_price X_kc(t-1),
//   X_kc = own token's drawdown + sum over claim currencies j >= 1 of w_cj * drawdown_kj
// (the drawdown 1 - P / max P of the assets the class's claims are held in).
void PublicSignals::observe(std::int32_t t, const std::vector<Institution>& institutions,
                            const Portfolio& portfolio, std::span<InstitutionTick> ticks) {
  const StressSpec& w = weights_;
  for (std::size_t k = 0; k < institutions.size(); ++k) {
    InstitutionTick& r = ticks[k];
    const Institution& in = institutions[k];
    r.flow_signal = flow_signal(t, k, in);
    r.queue_signal = queue_signal(t, in);
    r.price_signal = in.own_token_drawdown();
    const double base = w.flow_weight * r.flow_signal + w.queue_weight * r.queue_signal +
                        w.price_weight * r.price_signal;
    for (std::size_t c = 0; c < classes_; ++c) {
      double held = 0.0;
      if (portfolio.in_kind(c))
        for (std::size_t j = 1; j < portfolio.currencies(); ++j) {
          const std::int32_t a = portfolio.asset_of(k, j);
          const double weight = portfolio.weight(c, j);
          if (a >= 0 && weight > 0.0) {
            const AssetState& st = in.assets()[static_cast<std::size_t>(a)];
            held += weight * (1.0 - st.price / st.peak_price);
          }
        }
      terms_[k * classes_ + c] = base + w.price_weight * held;
    }
  }
}

Peers::Peers(const Scenario& scenario, const Population& population)
    : weighted_(scenario.stress.peer_balance_weighted),
      complete_(scenario.network.kind == NetworkSpec::Kind::kComplete),
      active_(scenario.stress.peer_weight != 0.0),
      count_(scenario.stress.peer_measure == StressSpec::PeerMeasure::kCount),
      lag_(scenario.stress.peer_lag_ticks),
      log_(population.size()),
      log_end_(static_cast<std::size_t>(scenario.stress.peer_lag_ticks) + 2, 0),
      seen_((std::size_t{population.size()} + 63) / 64, 0) {
  mode_ = complete_ || weighted_ ? Mode::kOther : Mode::kCounted;
  if (complete_ && weighted_)
    for (const Money c : population.initial_claim) total_weight_ += static_cast<double>(c);
}

Peers::Peers(const Scenario& scenario, const Population& population, const Network& network)
    : Peers(scenario, population) {
  if (active_ && !complete_) build_watchers(network, network.degree_stats(), population);
  allocate_counts(population);
}

Peers Peers::for_scenario(const Scenario& scenario, const Population& population,
                          DegreeStats& stats) {
  Peers peers(scenario, population);
  {
    const Network network = build_network(agent_network(scenario), population.size(), scenario.seed,
                                          population.class_begin);
    stats = network.degree_stats();
    if (peers.active_ && !peers.complete_) peers.build_watchers(network, stats, population);
  }  // the network is freed before the counts take its place
  peers.allocate_counts(population);
  return peers;
}

void Peers::allocate_counts(const Population& population) {
  if (watchers_.empty()) return;
  if (weighted_) {
    seen_claims_.assign(population.size(), 0);
  } else {
    seen_slots_.assign(population.size(), 0);
  }
}

// The transpose by a counting sort: in-degrees, their prefix sums, then each slot into its
// place, so each watcher list is in increasing i. Each agent's degree (or the one degree
// of a regular network) and, for balance-weighted peers, the initial claims of its
// neighbour slots are kept beside it.
void Peers::build_watchers(const Network& network, const DegreeStats& stats,
                           const Population& population) {
  const std::uint32_t n = network.node_count();
  if (stats.edges == 0) {  // P_i = 0 for everyone
    mode_ = Mode::kNoNeighbours;
    return;
  }
  if (count_) {  // P_i = m_i whatever the degree: the table up to the largest degree
    const auto d = static_cast<std::uint32_t>(stats.max);
    regular_fraction_.resize(std::size_t{d} + 1);
    for (std::uint32_t m = 0; m <= d; ++m) regular_fraction_[m] = static_cast<double>(m);
  } else if (stats.min == stats.max) {
    const auto d = static_cast<std::uint32_t>(stats.max);
    regular_fraction_.resize(std::size_t{d} + 1);
    for (std::uint32_t m = 0; m <= d; ++m)
      regular_fraction_[m] = static_cast<double>(m) / static_cast<double>(d);
  } else {
    degree_.resize(n);
    for (std::uint32_t i = 0; i < n; ++i)
      degree_[i] = static_cast<std::uint32_t>(network.neighbours_of(i).size());
  }
  // The rows lie one after the other in one array (agents/network.hpp). The agents j are
  // split into one range per worker thread; each worker reads all the slots in order and
  // handles those whose j is in its range (no two workers write the same count or watcher
  // place, so no locked adds, which wait for the memory they change), prefetching the
  // counts (and watcher places) of its slots kAhead further on so that many of its random
  // accesses are in flight at once. Each watcher list is in increasing i, whatever the
  // number of ranges.
  const std::uint32_t* const slots = network.neighbours_of(0).data();
  const std::uint64_t entries = stats.edges;
  constexpr std::uint64_t kAhead = 32;
  const auto ranges = static_cast<std::uint32_t>(std::clamp<std::size_t>(worker_count(), 1, 64));
  // Range r of the agents j: its first id and its length.
  const auto range_of = [&](std::uint32_t r) {
    const auto lo = static_cast<std::uint32_t>(std::uint64_t{n} * r / ranges);
    const auto hi = static_cast<std::uint32_t>(std::uint64_t{n} * (r + 1) / ranges);
    return std::pair{lo, hi - lo};
  };
  const auto transpose = [&](auto& begin) {
    begin.assign(std::size_t{n} + 1, 0);
    for_blocks(ranges, [&](std::uint32_t r) {
      const auto [lo, span] = range_of(r);
      for (std::uint64_t e = 0; e < entries; ++e) {
        if (e + kAhead < entries && slots[e + kAhead] - lo < span)
          __builtin_prefetch(&begin[std::size_t{slots[e + kAhead]} + 1], 1);
        if (slots[e] - lo < span) ++begin[std::size_t{slots[e]} + 1];
      }
    });
    for (std::uint32_t j = 0; j < n; ++j) begin[std::size_t{j} + 1] += begin[j];
    watchers_.resize(entries);
    for_blocks(ranges, [&](std::uint32_t r) {
      const auto [lo, span] = range_of(r);
      std::uint64_t e = 0;
      for (std::uint32_t i = 0; i < n; ++i)
        for (const std::uint32_t j : network.neighbours_of(i)) {
          if (e + 2 * kAhead < entries && slots[e + 2 * kAhead] - lo < span)
            __builtin_prefetch(&begin[slots[e + 2 * kAhead]], 1);
          if (e + kAhead < entries && slots[e + kAhead] - lo < span)
            __builtin_prefetch(&watchers_[begin[slots[e + kAhead]]], 1);
          if (j - lo < span) watchers_[begin[j]++] = i;
          ++e;
        }
    });
    // Each begin[j] now holds the start of j + 1's watchers: shift back by one.
    for (std::uint32_t j = n; j > 0; --j) begin[j] = begin[j - 1];
    begin[0] = 0;
  };
  if (stats.edges < (std::uint64_t{1} << 32)) {
    transpose(watcher_begin32_);
  } else {
    transpose(watcher_begin64_);
  }
  if (weighted_) {
    neighbour_claims_.assign(n, 0);
    for_range(0u, n, 4096, [&](std::uint32_t i) {
      for (const std::uint32_t j : network.neighbours_of(i))
        neighbour_claims_[i] += population.initial_claim[j];
    });
  }
}

// Each watcher i of j sees one more slot (or j's initial claim more). Integer counts, so
// the order of the pushes cannot change them. One thread: the whole run pushes each
// agent's decision once (O(N d) in all), and plain adds beat locked ones by far.
void Peers::push(std::uint32_t j, const Population& population) {
  const auto push_range = [&](std::uint64_t lo, std::uint64_t hi) {
    if (weighted_) {
      const Money claim = population.initial_claim[j];
      for (std::uint64_t e = lo; e < hi; ++e) seen_claims_[watchers_[e]] += claim;
    } else {
      for (std::uint64_t e = lo; e < hi; ++e) ++seen_slots_[watchers_[e]];
    }
  };
  if (!watcher_begin32_.empty()) {
    push_range(watcher_begin32_[j], watcher_begin32_[std::size_t{j} + 1]);
  } else if (!watcher_begin64_.empty()) {
    push_range(watcher_begin64_[j], watcher_begin64_[std::size_t{j} + 1]);
  }
}

void Peers::push_all(const std::uint32_t* agents, std::size_t count, const Population& population) {
  if (watchers_.empty()) return;
  for (std::size_t k = 0; k < count; ++k) push(agents[k], population);
}

// The deciders of tick k are log_[log_end(k-1) .. log_end(k)); the ring keeps the last
// L+2 ends.
void Peers::reveal(std::int32_t t, const Population& population) {
  const std::int32_t k = t - 1 - lag_;
  if (k < 0 || !active_) return;
  const std::size_t ring = log_end_.size();
  const std::uint64_t begin = k == 0 ? 0 : log_end_[static_cast<std::size_t>(k - 1) % ring];
  const std::uint64_t end = log_end_[static_cast<std::size_t>(k) % ring];
  for (std::uint64_t n = begin; n < end; ++n) {
    const std::uint32_t j = log_[n];
    seen_[j >> 6] |= std::uint64_t{1} << (j & 63);
    ++seen_count_;
    if (complete_ && weighted_) seen_weight_ += static_cast<double>(population.initial_claim[j]);
  }
  push_all(log_.data() + begin, end - begin, population);
}

void Peers::recount_seen(const Population& population) {
  std::fill(seen_slots_.begin(), seen_slots_.end(), 0u);
  std::fill(seen_claims_.begin(), seen_claims_.end(), Money{0});
  if (watchers_.empty()) return;
  std::vector<std::uint32_t> seen_agents;
  for (std::uint32_t j = 0; j < population.size(); ++j)
    if (seen(j)) seen_agents.push_back(j);
  push_all(seen_agents.data(), seen_agents.size(), population);
}

// The less common peer terms: balance-weighted on a network (the pushed claims), and the
// complete graph, whose neighbours are all other agents (global counts).
double Peers::fraction_other(std::uint32_t i, const Population& population) const {
  if (complete_) {
    const double self = seen(i) ? 1.0 : 0.0;
    if (count_) return static_cast<double>(seen_count_) - self;
    if (!weighted_) {
      const double others = static_cast<double>(population.size()) - 1.0;
      return others > 0 ? (static_cast<double>(seen_count_) - self) / others : 0.0;
    }
    const double w = static_cast<double>(population.initial_claim[i]);
    const double others = total_weight_ - w;
    return others > 0 ? (seen_weight_ - self * w) / others : 0.0;
  }
  // The gather summed the neighbours' claims as doubles, exactly (integers below 2^53
  // cents), so these integer sums give the same quotient.
  const Money all = neighbour_claims_.empty() ? 0 : neighbour_claims_[i];
  return all > 0 ? static_cast<double>(seen_claims_[i]) / static_cast<double>(all) : 0.0;
}

}  // namespace bankrun
