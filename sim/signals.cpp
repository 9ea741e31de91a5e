#include "signals.hpp"

#include <atomic>
#include <type_traits>

#include "agents/parallel.hpp"

#include <algorithm>

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
  if (!needs_watchers()) return;
  build_watchers(
      network.node_count(),
      [&](std::uint32_t i, auto&& visit) {
        for (const std::uint32_t j : network.neighbours_of(i)) visit(j);
      },
      [&](std::uint32_t i) { return static_cast<std::uint32_t>(network.neighbours_of(i).size()); },
      population);
}

Peers Peers::for_scenario(const Scenario& scenario, const Population& population,
                          DegreeStats& stats) {
  const NetworkSpec& spec = scenario.network;
  const std::uint32_t n = population.size();
  if (spec.kind != NetworkSpec::Kind::kKOut || n < 2 || spec.k == 0) {
    const Network network = build_network(spec, n, scenario.seed, population.class_begin);
    stats = network.degree_stats();
    return Peers(scenario, population, network);
  }
  // k_out: every node has degree k (Network::degree_stats of it, exactly).
  const std::uint32_t k = spec.k;
  stats = DegreeStats{};
  stats.mean = static_cast<double>(k);
  stats.min = stats.max = k;
  stats.edges = std::uint64_t{n} * k;
  Peers peers(scenario, population);
  if (!peers.needs_watchers()) return peers;
  peers.build_watchers(
      n,
      [&](std::uint32_t i, auto&& visit) {
        std::uint32_t small[256];
        std::vector<std::uint32_t> large(k > 256 ? k : 0);  // allocates only past 256
        std::uint32_t* row = k > 256 ? large.data() : small;
        k_out_neighbours(n, k, scenario.seed, i, row);
        for (std::uint32_t s = 0; s < k; ++s) visit(row[s]);
      },
      [&](std::uint32_t) { return k; }, population);
  return peers;
}

// The transpose by a counting sort, in parallel: in-degrees (atomic adds), their prefix
// sums, then each slot into its place (an atomic cursor per j). The order of i within a
// watcher list depends on the schedule; nothing reads it (pushes commute). Each agent's
// degree (or the one degree of a regular network) and, for balance-weighted peers, the
// initial claims of its neighbour slots are kept beside it.
template <class Row, class Degree>
void Peers::build_watchers(std::uint32_t n, Row row, Degree degree, const Population& population) {
  constexpr std::size_t kGrain = 4096;
  std::uint64_t entries = 0;
  const std::uint32_t first_degree = n > 0 ? degree(0) : 0;
  bool regular = true;
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint32_t d = degree(i);
    entries += d;
    regular = regular && d == first_degree;
  }
  if (entries == 0) return;  // no neighbours: P_i = 0 for everyone
  if (regular) {
    regular_degree_ = first_degree;
  } else {
    degree_.resize(n);
    for (std::uint32_t i = 0; i < n; ++i) degree_[i] = degree(i);
  }
  const auto transpose = [&](auto& begin) {
    using Offset = typename std::remove_reference_t<decltype(begin)>::value_type;
    begin.assign(std::size_t{n} + 1, 0);
    for_pieces(0u, n, kGrain, [&](std::uint32_t lo, std::uint32_t hi) {
      for (std::uint32_t i = lo; i < hi; ++i)
        row(i, [&](std::uint32_t j) {
          std::atomic_ref<Offset>(begin[std::size_t{j} + 1])
              .fetch_add(1, std::memory_order_relaxed);
        });
    });
    for (std::uint32_t j = 0; j < n; ++j) begin[std::size_t{j} + 1] += begin[j];
    watchers_.resize(entries);
    for_pieces(0u, n, kGrain, [&](std::uint32_t lo, std::uint32_t hi) {
      for (std::uint32_t i = lo; i < hi; ++i)
        row(i, [&](std::uint32_t j) {
          watchers_[std::atomic_ref<Offset>(begin[j]).fetch_add(1, std::memory_order_relaxed)] = i;
        });
    });
    // Each begin[j] now holds the start of j + 1's watchers: shift back by one.
    for (std::uint32_t j = n; j > 0; --j) begin[j] = begin[j - 1];
    begin[0] = Offset{0};
  };
  if (entries < (std::uint64_t{1} << 32)) {
    transpose(watcher_begin32_);
  } else {
    transpose(watcher_begin64_);
  }
  if (weighted_) {
    seen_claims_.assign(n, 0);
    neighbour_claims_.assign(n, 0);
    for_pieces(0u, n, kGrain, [&](std::uint32_t lo, std::uint32_t hi) {
      for (std::uint32_t i = lo; i < hi; ++i)
        row(i, [&](std::uint32_t j) { neighbour_claims_[i] += population.initial_claim[j]; });
    });
  } else {
    seen_slots_.assign(n, 0);
  }
}

// Each watcher i of j sees one more slot (or j's initial claim more). Relaxed atomic adds:
// integers commute, so the counts do not depend on which thread pushes which j.
void Peers::push(std::uint32_t j, const Population& population) {
  const auto push_range = [&](std::uint64_t lo, std::uint64_t hi) {
    if (weighted_) {
      const Money claim = population.initial_claim[j];
      for (std::uint64_t e = lo; e < hi; ++e)
        std::atomic_ref<Money>(seen_claims_[watchers_[e]])
            .fetch_add(claim, std::memory_order_relaxed);
    } else {
      for (std::uint64_t e = lo; e < hi; ++e)
        std::atomic_ref<std::uint32_t>(seen_slots_[watchers_[e]])
            .fetch_add(1u, std::memory_order_relaxed);
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
  constexpr std::size_t kGrain = 4096;  // below this, one thread pushes faster than a task starts
  if (count < 2 * kGrain) {
    for (std::size_t k = 0; k < count; ++k) push(agents[k], population);
    return;
  }
  for_pieces(std::size_t{0}, count, kGrain, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t k = lo; k < hi; ++k) push(agents[k], population);
  });
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
