#include "simulation.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/poisson_distribution.hpp>
#include <cmath>
#include <limits>
#include <numeric>

#include "agents/rng.hpp"

namespace bankrun {
namespace {

// Fixed block size of the active list: per-block partial results are combined in block
// order, so floating-point sums do not depend on the thread count.
constexpr std::uint32_t kBlock = 2048;

std::uint32_t block_count(std::uint32_t n) {
  return (n + kBlock - 1) / kBlock;
}

template <typename Body>
void parallel_blocks(std::uint32_t nblocks, Body body) {
  tbb::parallel_for(tbb::blocked_range<std::uint32_t>(0, nblocks, 1),
                    [&](const tbb::blocked_range<std::uint32_t>& r) {
                      for (std::uint32_t b = r.begin(); b != r.end(); ++b) body(b);
                    });
}

// Standard normal CDF.
double normal_cdf(double x) {
  return 0.5 * std::erfc(-x * M_SQRT1_2);
}

// Linear interpolation between order statistics (numpy's default "linear" method) of the
// n values at `v`, which it reorders.
double quantile(double* v, std::size_t n, double q) {
  const double pos = q * static_cast<double>(n - 1);
  const std::size_t lo = static_cast<std::size_t>(std::floor(pos));
  std::nth_element(v, v + lo, v + n);
  const double a = v[lo];
  if (lo + 1 >= n) return a;
  const double b = *std::min_element(v + lo + 1, v + n);
  return a + (pos - static_cast<double>(lo)) * (b - a);
}

}  // namespace

Simulation::Simulation(Scenario scenario)
    : scenario_(std::move(scenario)),
      population_(create_population(scenario_.population, scenario_.seed)),
      network_(build_network(scenario_.network, population_.size(), scenario_.seed,
                             population_.class_begin)),
      institution_(scenario_.institution, population_.issued, population_.size(),
                   scenario_.time.tick_hours),
      classes_(population_.class_count()) {
  const std::uint32_t n = population_.size();
  draw_news_process();
  for (const auto& cls : scenario_.population.classes) {
    redeposit_rate_.push_back(cls.redeposit_rate);
    any_redeposit_ = any_redeposit_ || cls.redeposit_rate > 0.0;
  }

  prepare_policies(n);

  state_.assign(n, AgentState::kHolding);
  active_.resize(n);
  std::iota(active_.begin(), active_.end(), 0u);
  active_count_ = n;
  for (auto* v : {&staging_, &withdrawers_, &withdrawer_staging_, &redepositors_,
                  &redepositor_staging_, &returning_, &requests_, &decision_log_})
    v->resize(n);
  waiting_.resize(n);
  const std::uint32_t max_blocks = block_count(n) + 1;
  blocks_.resize(max_blocks);
  block_class_stress_.resize(std::size_t{max_blocks} * classes_);
  block_class_acting_.resize(std::size_t{max_blocks} * classes_);

  log_end_.assign(static_cast<std::size_t>(scenario_.stress.peer_lag_ticks) + 2, 0);
  peers_seen_.assign((std::size_t{n} + 63) / 64, 0);
  for (const Money c : population_.initial_claim) total_weight_ += static_cast<double>(c);
  peer_mode_ = (scenario_.network.kind == NetworkSpec::Kind::kComplete ||
                scenario_.stress.peer_balance_weighted)
                   ? PeerMode::kOther
                   : PeerMode::kCounted;

  news_value_.assign(scenario_.news.capacity(), 0.0);
  live_events_.resize(scenario_.news.capacity());

  const std::size_t window = static_cast<std::size_t>(scenario_.stress.flow_window_ticks) + 1;
  flow_out_.assign(window, 0);
  flow_deposits_.assign(window, institution_.deposits());

  class_ticks_.resize(classes_);
  asset_ticks_.resize(scenario_.institution.assets.size());
  const std::size_t nq = scenario_.output.stress_quantiles.size();
  class_quantiles_.assign(classes_ * nq, 0.0);
  if (nq > 0) {
    quantile_work_.resize(n);
    quantile_offset_.resize(classes_ * (std::size_t{max_blocks} + 1));
  }
  if (!scenario_.output.snapshot_ticks.empty())
    snapshot_rows_.resize(std::min<std::uint32_t>(scenario_.output.snapshot_agents, n));
}

// Policy bookkeeping, and what the policies will need when they fire: the agents' last
// request ticks (gates) and room in the news list (proofs of reserves), so the tick loop
// never allocates.
void Simulation::prepare_policies(std::uint32_t n) {
  const auto& policies = scenario_.institution.policies;
  policy_fired_.assign(policies.size(), kForever);
  policy_armed_.assign(policies.size(), 0);
  ticks_per_day_ = scenario_.time.ticks_per_day();
  std::size_t proofs = 0;
  for (const PolicySpec& p : policies) {
    proofs += p.kind == PolicySpec::Kind::kProofOfReserves;
    if (p.kind == PolicySpec::Kind::kGate && last_request_.empty())
      last_request_.assign(n, std::numeric_limits<std::int32_t>::min() / 2);
  }
  scenario_.news.reserve(scenario_.news.size() + proofs);
}

// Stochastic news: at each tick t of [start, end) a Poisson(rate) number of events, each
// with a magnitude drawn from its distribution; all drawn from (seed, kNewsProcess, t, k).
// They join the scenario's list, which is then sorted by tick (stable).
void Simulation::draw_news_process() {
  const NewsProcessSpec& p = scenario_.news_process;
  if (p.rate_per_tick <= 0.0) return;
  const std::int32_t end = std::min(p.end_tick, scenario_.time.ticks);
  for (std::int32_t t = p.start_tick; t < end; ++t) {
    CounterRng count_rng(scenario_.seed, Stream::kNewsProcess, static_cast<std::uint32_t>(t), 0);
    const int count = boost::random::poisson_distribution<int>(p.rate_per_tick)(count_rng);
    for (int k = 0; k < count; ++k) {
      CounterRng rng(scenario_.seed, Stream::kNewsProcess, static_cast<std::uint32_t>(t),
                     static_cast<std::uint32_t>(k + 1));
      scenario_.news.push_back(
          {"news process", t, p.magnitude.sample(rng), p.decay_ticks, p.duration_ticks, p.reach});
    }
  }
  std::stable_sort(scenario_.news.begin(), scenario_.news.end(),
                   [](const NewsEvent& a, const NewsEvent& b) { return a.tick < b.tick; });
}

// G(t-1): net outflow (paid out - re-deposited) over the window, as a share of the
// deposits at its start.
//   window 0 ("since the start"): G = net_out(<= t-1) / deposits(0)
//   window W: G = (net_out(<= t-1) - net_out(<= t-1-W)) / deposits(end of t-1-W)
// Ticks before 0 count as "nothing paid, deposits = issued".
double Simulation::flow_signal() const {
  if (scenario_.stress.flow_weight == 0.0) return 0.0;
  const Money out_now = institution_.paid_total() - institution_.inflow_total();
  if (scenario_.stress.flow_window_ticks == 0) {
    return institution_.issued() > 0
               ? static_cast<double>(out_now) / static_cast<double>(institution_.issued())
               : 0.0;
  }
  // The end of tick k is kept in slot (k + 1) mod (W + 1), so the end of tick t-1-W sits in
  // slot (t - W) mod (W + 1) = (t + 1) mod (W + 1); it survives the writes of t-W .. t-1.
  const std::size_t oldest = static_cast<std::size_t>(tick_ + 1) % flow_out_.size();
  const Money base = flow_deposits_[oldest];
  return base > 0 ? static_cast<double>(out_now - flow_out_[oldest]) / base : 0.0;
}

void Simulation::remember_flow() {
  if (scenario_.stress.flow_window_ticks == 0) return;
  const std::size_t slot = static_cast<std::size_t>(tick_ + 1) % flow_out_.size();
  flow_out_[slot] = institution_.paid_total() - institution_.inflow_total();
  flow_deposits_[slot] = institution_.deposits();
}

// Q(t-1): the waiting time of the oldest unpaid request at the end of t-1, in days.
double Simulation::queue_signal() const {
  if (tick_ == 0) return 0.0;
  return institution_.oldest_wait(tick_ - 1) * scenario_.time.tick_hours / 24.0;
}

// News value of event j at tick t: A_j exp(-(t - t_j) / tau_j) for t_j <= t < t_j + d_j.
void Simulation::prepare_news(std::int32_t t) {
  live_event_count_ = 0;
  double total = 0.0;
  for (std::size_t j = 0; j < scenario_.news.size(); ++j) {
    const NewsEvent& e = scenario_.news[j];
    const std::int64_t age = std::int64_t{t} - e.tick;
    double v = 0.0;
    if (age >= 0 && age < e.duration_ticks) v = e.magnitude * std::exp(-age / e.decay_ticks);
    news_value_[j] = v;
    if (v != 0.0) live_events_[live_event_count_++] = static_cast<std::uint32_t>(j);
    total += v;
  }
  record_.news_signal = total;
}

// N_i(t): sum of the live events' values over those that reached agent i. Whether event
// j reached i is drawn once per (event, agent) (a pure function, so nothing is stored):
// reached iff U_ij < reach_j * attention_i, where U_ij is the (j mod 4)-th 32-bit word
// of the Philox block for (seed, kNewsReach, slot floor(j / 4), id i) divided by 2^32 —
// one block serves four consecutive events.
double Simulation::agent_news(std::uint32_t i) const {
  const Philox4x32::Key key{static_cast<std::uint32_t>(scenario_.seed),
                            static_cast<std::uint32_t>(scenario_.seed >> 32)};
  const double attention = population_.attention[i];
  std::uint32_t group = ~0u;
  Philox4x32::Counter words{};
  double n = 0.0;
  for (std::uint32_t k = 0; k < live_event_count_; ++k) {
    const std::uint32_t j = live_events_[k];
    const double p = scenario_.news[j].reach * attention;
    if (p < 1.0) {
      if (j / 4 != group) {
        group = j / 4;
        words =
            Philox4x32::block({i, group, static_cast<std::uint32_t>(Stream::kNewsReach), 0}, key);
      }
      if (words[j % 4] * 0x1.0p-32 >= p) continue;
    }
    n += news_value_[j];
  }
  return n;
}

// P_i(t - L): share of i's neighbour slots whose agent had decided to withdraw by the end
// of tick t-1-L (a neighbour listed twice counts twice, as in the reference model), or,
// with peer_balance_weighted, the same share weighted by the neighbours' initial claims.
// On the complete graph the neighbours are all other agents (global counts). The
// neighbours' state is read from the `peers_seen_` bitset (N bits: it stays in cache).
double Simulation::peer_fraction(std::uint32_t i) const {
  if (peer_mode_ == PeerMode::kCounted) [[likely]] {
    const auto nbrs = network_.neighbours_of(i);
    std::uint32_t count = 0;
    for (const std::uint32_t j : nbrs) count += peer_seen(j);
    return nbrs.empty() ? 0.0 : static_cast<double>(count) / static_cast<double>(nbrs.size());
  }
  return peer_fraction_other(i);
}

// The less common peer signals: balance-weighted, and the complete graph.
double Simulation::peer_fraction_other(std::uint32_t i) const {
  const bool weighted = scenario_.stress.peer_balance_weighted;
  if (scenario_.network.kind == NetworkSpec::Kind::kComplete) {
    const double self = peer_seen(i) ? 1.0 : 0.0;
    if (!weighted) {
      const double others = static_cast<double>(population_.size()) - 1.0;
      return others > 0 ? (static_cast<double>(seen_count_) - self) / others : 0.0;
    }
    const double w = static_cast<double>(population_.initial_claim[i]);
    const double others = total_weight_ - w;
    return others > 0 ? (seen_weight_ - self * w) / others : 0.0;
  }
  double seen = 0.0, all = 0.0;
  for (const std::uint32_t j : network_.neighbours_of(i)) {
    const double w = static_cast<double>(population_.initial_claim[j]);
    all += w;
    seen += peer_seen(j) ? w : 0.0;
  }
  return all > 0 ? seen / all : 0.0;
}

// Before tick t: mark as seen the agents that decided at tick t-1-L. The deciders of tick k
// are decision_log_[log_end(k-1) .. log_end(k)); the ring keeps the last L+2 ends.
void Simulation::reveal_peers(std::int32_t t) {
  const std::int32_t k = t - 1 - scenario_.stress.peer_lag_ticks;
  if (k < 0 || scenario_.stress.peer_weight == 0.0) return;
  const std::size_t ring = log_end_.size();
  const std::uint64_t begin = k == 0 ? 0 : log_end_[static_cast<std::size_t>(k - 1) % ring];
  const std::uint64_t end = log_end_[static_cast<std::size_t>(k) % ring];
  for (std::uint64_t n = begin; n < end; ++n) {
    const std::uint32_t j = decision_log_[n];
    peers_seen_[j >> 6] |= std::uint64_t{1} << (j & 63);
    ++seen_count_;
    seen_weight_ += static_cast<double>(population_.initial_claim[j]);
  }
}

// S_i(t) = b_news N_i(t) + b_peer P_i(t-L) + b_flow G(t-1) + b_queue Q(t-1)
//          + carry S_i(t-1) + eps_i(t),    eps_i(t) ~ Normal(0, sigma_i) keyed by (t, i).
// (public_stress = b_flow G + b_queue Q, the same for everyone.)
// Threshold rule: withdraw iff S_i > theta_i. Hazard rule: withdraw with probability
// h0 * Phi((S_i - theta_i) / T), U ~ (seed, kHazard, t, i). Only an agent with a claim
// can withdraw. An agent with funds outside re-deposits, if its class allows it, with
// probability redeposit_rate when S_i < calm_threshold, U ~ (seed, kRedeposit, t, i).
Simulation::Outcome Simulation::decide_agent(std::uint32_t i, std::int32_t t, double public_stress,
                                             double& stress) {
  const StressSpec& w = scenario_.stress;
  const auto tick = static_cast<std::uint32_t>(t);
  double s = public_stress + w.carry * population_.stress[i];
  if (live_event_count_ > 0) s += w.news_weight * agent_news(i);
  if (w.peer_weight != 0.0) s += w.peer_weight * peer_fraction(i);
  if (population_.noise_sd[i] > 0.0f) {
    CounterRng rng(scenario_.seed, Stream::kDecisionNoise, tick, i);
    s += boost::random::normal_distribution<double>(0.0, population_.noise_sd[i])(rng);
  }
  if (insurance_active_) s *= insured_stress_scale(i);
  population_.stress[i] = s;
  stress = s;

  const double theta = population_.threshold[i];
  const bool gated = gate_active_ && t - last_request_[i] < ticks_per_day_;
  if (population_.claim[i] > 0 && !gated) {
    const DecisionSpec& d = scenario_.decision;
    if (d.rule == DecisionSpec::Rule::kThreshold) {
      if (s > theta) return Outcome::kWithdraw;
    } else {
      const double p = d.hazard_rate * normal_cdf((s - theta) / d.temperature);
      if (CounterRng(scenario_.seed, Stream::kHazard, tick, i).uniform01() < p)
        return Outcome::kWithdraw;
    }
  }
  if (any_redeposit_ && population_.outside[i] > 0 && can_redeposit(i)) {
    const InvestorClass& cls = scenario_.population.classes[population_.class_id[i]];
    if (s < cls.calm_threshold &&
        CounterRng(scenario_.seed, Stream::kRedeposit, tick, i).uniform01() < cls.redeposit_rate)
      return Outcome::kRedeposit;
  }
  return Outcome::kStay;
}

void Simulation::decide(std::int32_t t, double public_stress) {
  const std::uint32_t nblocks = block_count(active_count_);
  parallel_blocks(nblocks, [&](std::uint32_t b) {
    const std::uint32_t lo = b * kBlock;
    const std::uint32_t hi = std::min(lo + kBlock, active_count_);
    // Per-class sums in local arrays: they cannot alias the agents' state, so the compiler
    // keeps them out of the store-to-load chains of the per-agent writes.
    double class_stress[256] = {};
    std::uint32_t class_acting[256] = {};
    BlockCounts counts;
    for (std::uint32_t k = lo; k < hi; ++k) {
      const std::uint32_t i = active_[k];
      double stress;
      const Outcome outcome = decide_agent(i, t, public_stress, stress);
      const std::uint8_t c = population_.class_id[i];
      class_stress[c] += stress;
      ++class_acting[c];
      if (outcome == Outcome::kWithdraw) {
        withdrawer_staging_[lo + counts.withdraw++] = i;
        continue;
      }
      if (outcome == Outcome::kRedeposit) redepositor_staging_[lo + counts.redeposit++] = i;
      staging_[lo + counts.stay++] = i;
    }
    std::copy_n(class_stress, classes_, &block_class_stress_[std::size_t{b} * classes_]);
    std::copy_n(class_acting, classes_, &block_class_acting_[std::size_t{b} * classes_]);
    blocks_[b] = counts;
  });

  // Per-class stress, summed in block order.
  record_.acting_agents = active_count_;
  double stress_sum = 0.0;
  for (std::size_t c = 0; c < classes_; ++c) {
    double sum = 0.0;
    std::int64_t acting = 0;
    for (std::uint32_t b = 0; b < nblocks; ++b) {
      sum += block_class_stress_[std::size_t{b} * classes_ + c];
      acting += block_class_acting_[std::size_t{b} * classes_ + c];
    }
    class_ticks_[c].acting_agents = acting;
    class_ticks_[c].stress_mean = acting > 0 ? sum / static_cast<double>(acting) : 0.0;
    stress_sum += sum;
  }
  record_.stress_mean = active_count_ > 0 ? stress_sum / active_count_ : 0.0;
  gather_stress_quantiles(nblocks);
  compact(nblocks);
}

// Copies the acting agents' stress into quantile_work_, grouped by class (block order
// within a class), then takes each class's quantiles. The values, hence the quantiles,
// do not depend on the thread count.
void Simulation::gather_stress_quantiles(std::uint32_t nblocks) {
  const auto& qs = scenario_.output.stress_quantiles;
  if (qs.empty()) return;
  const std::size_t stride = std::size_t{nblocks} + 1;
  std::uint64_t offset = 0;
  for (std::size_t c = 0; c < classes_; ++c)
    for (std::uint32_t b = 0; b <= nblocks; ++b) {
      quantile_offset_[c * stride + b] = offset;
      if (b < nblocks) offset += block_class_acting_[std::size_t{b} * classes_ + c];
    }
  parallel_blocks(nblocks, [&](std::uint32_t b) {
    const std::uint32_t lo = b * kBlock;
    const std::uint32_t hi = std::min(lo + kBlock, active_count_);
    for (std::uint32_t k = lo; k < hi; ++k) {
      const std::uint32_t i = active_[k];
      const std::uint8_t c = population_.class_id[i];
      quantile_work_[quantile_offset_[c * stride + b]++] = population_.stress[i];
    }
  });
  std::uint64_t begin = 0;
  for (std::size_t c = 0; c < classes_; ++c) {
    const std::uint64_t end = begin + static_cast<std::uint64_t>(class_ticks_[c].acting_agents);
    for (std::size_t q = 0; q < qs.size(); ++q)
      class_quantiles_[c * qs.size() + q] =
          end > begin ? quantile(&quantile_work_[begin], end - begin, qs[q])
                      : std::numeric_limits<double>::quiet_NaN();
    begin = end;
  }
}

// Gathers the blocks' staging slots in block order: stayers become the next active list,
// withdrawers and re-depositors keep id order.
void Simulation::compact(std::uint32_t nblocks) {
  BlockCounts total;
  for (std::uint32_t b = 0; b < nblocks; ++b) {
    const BlockCounts c = blocks_[b];
    blocks_[b] = total;  // from here on: output offsets
    total.stay += c.stay;
    total.withdraw += c.withdraw;
    total.redeposit += c.redeposit;
  }
  blocks_[nblocks] = total;
  parallel_blocks(nblocks, [&](std::uint32_t b) {
    const BlockCounts& from = blocks_[b];
    const BlockCounts& to = blocks_[b + 1];
    const std::size_t lo = std::size_t{b} * kBlock;
    std::copy_n(staging_.begin() + lo, to.stay - from.stay, active_.begin() + from.stay);
    std::copy_n(withdrawer_staging_.begin() + lo, to.withdraw - from.withdraw,
                withdrawers_.begin() + from.withdraw);
    std::copy_n(redepositor_staging_.begin() + lo, to.redeposit - from.redeposit,
                redepositors_.begin() + from.redeposit);
  });
  active_count_ = total.stay;
  withdrawer_count_ = total.withdraw;
  redepositor_count_ = total.redeposit;
}

// Re-deposits: each calm agent moves redeposit_fraction of its outside funds (at least
// one cent) back into its claim; the institution's hot reserves grow by the same amount.
void Simulation::credit_redeposits() {
  Money inflows = 0;
  for (std::uint32_t k = 0; k < redepositor_count_; ++k) {
    const std::uint32_t i = redepositors_[k];
    const double fraction =
        scenario_.population.classes[population_.class_id[i]].redeposit_fraction;
    Money& outside = population_.outside[i];
    const Money amount =
        std::clamp<Money>(std::llround(fraction * static_cast<double>(outside)), 1, outside);
    if (population_.claim[i] == 0) --paid_agents_;
    outside -= amount;
    population_.claim[i] += amount;
    institution_.deposit(amount);
    inflows += amount;
  }
  record_.inflows = inflows;
}

// A request asks for omega_i of the remaining claim (at least one cent; all of it when
// omega_i = 1).
void Simulation::request(std::uint32_t i, std::int32_t t) {
  const Money claim = population_.claim[i];
  const float omega = population_.withdraw_fraction[i];
  Money amount =
      omega >= 1.0f ? claim
                    : std::clamp<Money>(std::llround(omega * static_cast<double>(claim)), 1, claim);
  if (gate_active_)
    amount = std::min(
        amount, std::max<Money>(1, std::llround(gate_fraction_ * static_cast<double>(claim))));
  if (!last_request_.empty()) last_request_[i] = t;
  state_[i] = AgentState::kPending;
  institution_.submit(i, t, amount);
  record_.requested += amount;
}

// First decisions are logged (peers see them after L ticks). Agents whose reaction lag is
// 0 request now, the others wait. Requests of the tick join the queue in agent-id order.
void Simulation::submit(std::int32_t t) {
  credit_redeposits();
  std::uint32_t n_requests = 0, first = 0;
  for (std::uint32_t k = 0; k < withdrawer_count_; ++k) {
    const std::uint32_t i = withdrawers_[k];
    if (population_.decided_at[i] == kNever) {
      population_.decided_at[i] = t;
      decision_log_[decision_log_size_++] = i;
      ++class_ticks_[population_.class_id[i]].withdrawn_agents;
      ++first;
    }
    const std::int32_t lag = population_.reaction_lag[i];
    if (lag == 0) {
      requests_[n_requests++] = i;
    } else {
      state_[i] = AgentState::kWaiting;
      waiting_[waiting_count_++] = {t + lag, i};
    }
  }
  // Agents whose lag ends now leave the waiting list (kept in arrival order otherwise).
  std::uint32_t still_waiting = 0;
  for (std::uint32_t k = 0; k < waiting_count_; ++k) {
    if (waiting_[k].first <= t) {
      requests_[n_requests++] = waiting_[k].second;
    } else {
      waiting_[still_waiting++] = waiting_[k];
    }
  }
  waiting_count_ = still_waiting;
  // Already in id order unless lagged requests came due (the common case costs O(n)).
  if (!std::is_sorted(requests_.begin(), requests_.begin() + n_requests))
    std::sort(requests_.begin(), requests_.begin() + n_requests);
  for (std::uint32_t k = 0; k < n_requests; ++k) request(requests_[k], t);

  withdrawn_agents_ += first;
  log_end_[static_cast<std::size_t>(t) % log_end_.size()] = decision_log_size_;
  record_.new_withdrawals = first;
}

// Payments move money from the claim to the agent's outside holdings. An agent paid in
// full acts again from the next tick if it still has a claim, or funds it may re-deposit.
void Simulation::settle(std::int32_t t) {
  returning_count_ = 0;
  record_.paid = institution_.settle(t, [&](std::uint32_t i, Money amount, bool done) {
    population_.claim[i] -= amount;
    population_.outside[i] += amount;
    class_ticks_[population_.class_id[i]].withdrawn_value += amount;
    if (!done) return;
    if (population_.claim[i] == 0) ++paid_agents_;
    if (population_.claim[i] > 0 || can_redeposit(i)) {
      state_[i] = AgentState::kHolding;
      returning_[returning_count_++] = i;
    } else {
      state_[i] = AgentState::kLeft;
    }
  });
  merge_returning();
}

// The active list stays sorted by id: returning agents are merged into it.
void Simulation::merge_returning() {
  if (returning_count_ == 0) return;
  std::sort(returning_.begin(), returning_.begin() + returning_count_);
  const auto end = std::merge(active_.begin(), active_.begin() + active_count_, returning_.begin(),
                              returning_.begin() + returning_count_, staging_.begin());
  active_count_ = static_cast<std::uint32_t>(end - staging_.begin());
  std::swap(active_, staging_);
}

// Snapshot sample: agents floor(k * N / size), k = 0 .. size-1.
void Simulation::take_snapshot(std::int32_t t) {
  snapshot_view_ = {};
  const auto& ticks = scenario_.output.snapshot_ticks;
  if (next_snapshot_ >= ticks.size() || ticks[next_snapshot_] != t) return;
  ++next_snapshot_;
  const std::uint64_t n = population_.size(), size = snapshot_rows_.size();
  for (std::uint64_t k = 0; k < size; ++k) {
    const auto i = static_cast<std::uint32_t>(k * n / size);
    snapshot_rows_[k] = {i,
                         population_.class_id[i],
                         state_[i],
                         population_.claim[i],
                         population_.outside[i],
                         population_.threshold[i],
                         population_.stress[i]};
  }
  snapshot_view_ = snapshot_rows_;
}

// Deposit insurance: S_i is scaled by (1 - s_i) + f s_i, where s_i = min(c_i, coverage) / c_i
// is the insured share of the agent's claim and f the insured stress factor.
double Simulation::insured_stress_scale(std::uint32_t i) const {
  const Money claim = population_.claim[i];
  if (claim <= 0) return 1.0;
  const double insured =
      static_cast<double>(std::min(claim, insurance_coverage_)) / static_cast<double>(claim);
  return (1.0 - insured) + insured_stress_factor_ * insured;
}

// Policies fire once: at the start of their scheduled tick, or at the start of the tick
// after the one at whose end their conditions held.
void Simulation::apply_policies(std::int32_t t) {
  const auto& policies = scenario_.institution.policies;
  Money injected = 0;
  for (std::size_t k = 0; k < policies.size(); ++k) {
    if (policy_fired_[k] != kForever) continue;
    if (policies[k].trigger.at_tick > t && !policy_armed_[k]) continue;
    policy_fired_[k] = t;
    if (policies[k].kind == PolicySpec::Kind::kLenderOfLastResort)
      injected += policies[k].injection;
    fire_policy(policies[k], t);
  }
  record_.injections = injected;
}

void Simulation::fire_policy(const PolicySpec& p, std::int32_t t) {
  switch (p.kind) {
    case PolicySpec::Kind::kLenderOfLastResort:
      institution_.inject(p.injection);
      break;
    case PolicySpec::Kind::kProofOfReserves:
      // Within the capacity reserved at construction: no reallocation.
      scenario_.news.push_back({"proof of reserves: " + p.label, t, p.news_magnitude,
                                p.news_decay_ticks, p.news_duration_ticks, p.news_reach});
      break;
    case PolicySpec::Kind::kDepositInsurance:
      insurance_active_ = true;
      insurance_coverage_ = p.coverage;
      insured_stress_factor_ = p.insured_stress_factor;
      break;
    case PolicySpec::Kind::kGate:
      gate_active_ = true;
      gate_fraction_ = p.gate_fraction;
      break;
  }
}

// At the end of a tick: which unfired policies' conditions hold (they fire next tick).
void Simulation::arm_policies() {
  const auto& policies = scenario_.institution.policies;
  for (std::size_t k = 0; k < policies.size(); ++k)
    if (policy_fired_[k] == kForever && institution_.conditions_met(policies[k].trigger))
      policy_armed_[k] = 1;
}

const TickRecord& Simulation::step() {
  const std::int32_t t = tick_;
  record_ = TickRecord{};
  record_.tick = t;

  // 1. observe (policies armed at the end of t-1 take effect first)
  apply_policies(t);
  record_.flow_signal = flow_signal();
  record_.queue_signal = queue_signal();
  record_.price_signal = institution_.own_token_drawdown();
  prepare_news(t);
  reveal_peers(t);
  const StressSpec& w = scenario_.stress;
  const double public_stress = w.flow_weight * record_.flow_signal +
                               w.queue_weight * record_.queue_signal +
                               w.price_weight * record_.price_signal;
  // 2. decide, 3. submit, 4. settle
  decide(t, public_stress);
  submit(t);
  settle(t);
  institution_.update_prices(scenario_.seed, t, record_.paid - record_.inflows);
  // 5. record
  institution_.check_ledger();
  record_.deposits = institution_.deposits();
  record_.queue_value = institution_.queue_value();
  record_.queue_count = institution_.queue_count();
  record_.oldest_wait_ticks = institution_.oldest_wait(t);
  record_.hot = institution_.hot();
  record_.cold = institution_.cold();
  record_.in_transit = institution_.in_transit();
  record_.illiquid = institution_.illiquid();
  record_.equity = institution_.equity();
  record_.insolvent = institution_.insolvent();
  record_.halted = institution_.halted();
  arm_policies();
  record_.withdrawn_agents = withdrawn_agents_;
  record_.paid_agents = paid_agents_;
  record_.classes = class_ticks_;
  const auto& assets = institution_.assets();
  for (std::size_t a = 0; a < assets.size(); ++a)
    asset_ticks_[a] = {assets[a].price, assets[a].value(), assets[a].proceeds, assets[a].loss};
  record_.assets = asset_ticks_;
  record_.class_stress_quantiles = class_quantiles_;
  take_snapshot(t);
  remember_flow();
  ++tick_;
  return record_;
}

void Simulation::audit() const {
  const Money claims =
      std::accumulate(population_.claim.begin(), population_.claim.end(), Money{0});
  const Money outside =
      std::accumulate(population_.outside.begin(), population_.outside.end(), Money{0});
  if (claims != institution_.deposits())
    throw LedgerError("audit: sum of agents' claims != institution deposits");
  if (claims + outside != population_.issued)
    throw LedgerError("audit: claims + funds outside != claims issued (money not conserved)");
  if (institution_.queue_sum() != institution_.queue_value())
    throw LedgerError("audit: sum of queued requests != queue value");
  std::int64_t decided = 0;
  for (const std::int32_t d : population_.decided_at) decided += d != kNever;
  if (decided != withdrawn_agents_) throw LedgerError("audit: decided agents miscounted");
}

}  // namespace bankrun
