#include "simulation.hpp"

#include <tbb/parallel_for.h>

#include <boost/random/normal_distribution.hpp>
#include <cmath>
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

}  // namespace

Simulation::Simulation(Scenario scenario)
    : scenario_(std::move(scenario)),
      population_(create_population(scenario_.population, scenario_.seed)),
      network_(build_network(scenario_.network, population_.size(), scenario_.seed)),
      institution_(scenario_.institution, population_.issued, population_.size()) {
  const std::uint32_t n = population_.size();
  active_.resize(n);
  std::iota(active_.begin(), active_.end(), 0u);
  active_count_ = n;
  staging_.resize(n);
  deciders_.resize(n);
  decider_staging_.resize(n);
  blocks_.resize(block_count(n) + 1);
  decision_log_.resize(n);
  log_end_.assign(static_cast<std::size_t>(scenario_.stress.peer_lag_ticks) + 2, 0);
  peers_seen_.assign((std::size_t{n} + 63) / 64, 0);

  const std::size_t classes = population_.class_count();
  const std::size_t events = scenario_.news.size();
  news_value_.assign(events, 0.0);
  live_events_.resize(events);
  reach_.resize(events * classes);
  for (std::size_t j = 0; j < events; ++j)
    for (std::size_t c = 0; c < classes; ++c)
      reach_[j * classes + c] = scenario_.news[j].reach * scenario_.population.classes[c].attention;
  for (const auto& cls : scenario_.population.classes) noise_sd_.push_back(cls.noise_sd);

  const std::size_t window = static_cast<std::size_t>(scenario_.stress.flow_window_ticks) + 1;
  flow_paid_.assign(window, 0);
  flow_deposits_.assign(window, institution_.deposits());
}

// G(t-1): net outflow over the window as a share of the deposits at its start.
//   window 0 ("since the start"): G = paid_total / issued
//   window W:                     G = (paid_total(t-1) - paid_total(t-1-W)) / deposits(t-1-W)
// Ticks before 0 count as "nothing paid, deposits = issued".
double Simulation::flow_signal() const {
  if (scenario_.stress.flow_weight == 0.0) return 0.0;
  const Money paid_now = institution_.paid_total();
  if (scenario_.stress.flow_window_ticks == 0) {
    return institution_.issued() > 0
               ? static_cast<double>(paid_now) / static_cast<double>(institution_.issued())
               : 0.0;
  }
  // The end of tick k is kept in slot (k + 1) mod (W + 1), so the end of tick t-1-W sits in
  // slot (t - W) mod (W + 1) = (t + 1) mod (W + 1); it survives the writes of t-W .. t-1.
  const std::size_t oldest = static_cast<std::size_t>(tick_ + 1) % flow_paid_.size();
  const Money base = flow_deposits_[oldest];
  return base > 0 ? static_cast<double>(paid_now - flow_paid_[oldest]) / base : 0.0;
}

void Simulation::remember_flow() {
  if (scenario_.stress.flow_window_ticks == 0) return;
  const std::size_t slot = static_cast<std::size_t>(tick_ + 1) % flow_paid_.size();
  flow_paid_[slot] = institution_.paid_total();
  flow_deposits_[slot] = institution_.deposits();
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
// reached iff U_ij < reach_j * attention_class, where U_ij is the (j mod 4)-th 32-bit word
// of the Philox block for (seed, kNewsReach, slot floor(j / 4), id i) divided by 2^32 —
// one block serves four consecutive events.
double Simulation::agent_news(std::uint32_t i, std::uint8_t cls) const {
  const std::size_t classes = population_.class_count();
  const Philox4x32::Key key{static_cast<std::uint32_t>(scenario_.seed),
                            static_cast<std::uint32_t>(scenario_.seed >> 32)};
  std::uint32_t group = ~0u;
  Philox4x32::Counter words{};
  double n = 0.0;
  for (std::uint32_t k = 0; k < live_event_count_; ++k) {
    const std::uint32_t j = live_events_[k];
    const double p = reach_[j * classes + cls];
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
// of tick t-1-L (a neighbour listed twice counts twice, as in the reference model). The
// neighbours' state is read from the `peers_seen_` bitset (N bits: it stays in cache,
// where the per-agent decision ticks would not).
double Simulation::peer_fraction(std::uint32_t i) const {
  const auto nbrs = network_.neighbours_of(i);
  if (nbrs.empty()) return 0.0;
  std::uint32_t count = 0;
  for (const std::uint32_t j : nbrs) count += (peers_seen_[j >> 6] >> (j & 63)) & 1u;
  return static_cast<double>(count) / static_cast<double>(nbrs.size());
}

// Before tick t: mark as seen the agents that decided at tick t-1-L. The deciders of tick k
// are decision_log_[log_end(k-1) .. log_end(k)); the ring keeps the last L+2 ends.
void Simulation::reveal_peers(std::int32_t t) {
  const std::int32_t k = t - 1 - scenario_.stress.peer_lag_ticks;
  if (k < 0 || network_.empty()) return;
  const std::size_t ring = log_end_.size();
  const std::uint64_t begin = k == 0 ? 0 : log_end_[static_cast<std::size_t>(k - 1) % ring];
  const std::uint64_t end = log_end_[static_cast<std::size_t>(k) % ring];
  for (std::uint64_t n = begin; n < end; ++n) {
    const std::uint32_t j = decision_log_[n];
    peers_seen_[j >> 6] |= std::uint64_t{1} << (j & 63);
  }
}

// S_i(t) = b_news N_i(t) + b_peer P_i(t-L) + b_flow G(t-1) + carry S_i(t-1) + eps_i(t),
// eps_i(t) ~ Normal(0, sigma_class) from stream kDecisionNoise keyed by (t, i).
// Agent i decides to withdraw when S_i(t) > theta_i (strict).
void Simulation::decide(std::int32_t t, double flow) {
  const StressSpec& w = scenario_.stress;
  const double flow_term = w.flow_weight * flow;
  const std::uint32_t nblocks = block_count(active_count_);
  tbb::parallel_for(tbb::blocked_range<std::uint32_t>(0, nblocks, 1),
                    [&](const tbb::blocked_range<std::uint32_t>& range) {
                      for (std::uint32_t b = range.begin(); b != range.end(); ++b) {
                        const std::uint32_t lo = b * kBlock;
                        const std::uint32_t hi = std::min(lo + kBlock, active_count_);
                        BlockResult result;
                        for (std::uint32_t k = lo; k < hi; ++k) {
                          const std::uint32_t i = active_[k];
                          const std::uint8_t cls = population_.class_id[i];
                          double s = flow_term + w.carry * population_.stress[i];
                          if (live_event_count_ > 0) s += w.news_weight * agent_news(i, cls);
                          if (w.peer_weight != 0.0) s += w.peer_weight * peer_fraction(i);
                          if (noise_sd_[cls] > 0.0) {
                            CounterRng rng(scenario_.seed, Stream::kDecisionNoise,
                                           static_cast<std::uint32_t>(t), i);
                            s += boost::random::normal_distribution<double>(0.0,
                                                                            noise_sd_[cls])(rng);
                          }
                          population_.stress[i] = s;
                          result.stress_sum += s;
                          if (s > population_.threshold[i]) {
                            decider_staging_[lo + result.deciders++] = i;
                          } else {
                            staging_[lo + result.survivors++] = i;
                          }
                        }
                        blocks_[b] = result;
                      }
                    });

  // Compact, in block order: survivors become the next active list, deciders are
  // gathered in id order (the order in which they join the queue).
  std::uint32_t survivors = 0, deciders = 0;
  double stress_sum = 0.0;
  for (std::uint32_t b = 0; b < nblocks; ++b) {
    const BlockResult r = blocks_[b];
    blocks_[b].survivors = survivors;  // from here on: output offsets
    blocks_[b].deciders = deciders;
    survivors += r.survivors;
    deciders += r.deciders;
    stress_sum += r.stress_sum;
  }
  blocks_[nblocks] = {survivors, deciders, 0.0};
  record_.acting_agents = active_count_;
  record_.stress_mean = active_count_ > 0 ? stress_sum / active_count_ : 0.0;
  tbb::parallel_for(tbb::blocked_range<std::uint32_t>(0, nblocks, 1),
                    [&](const tbb::blocked_range<std::uint32_t>& range) {
                      for (std::uint32_t b = range.begin(); b != range.end(); ++b) {
                        const BlockResult& from = blocks_[b];
                        const BlockResult& to = blocks_[b + 1];
                        std::copy_n(staging_.begin() + b * kBlock, to.survivors - from.survivors,
                                    active_.begin() + from.survivors);
                        std::copy_n(decider_staging_.begin() + b * kBlock,
                                    to.deciders - from.deciders, deciders_.begin() + from.deciders);
                      }
                    });
  active_count_ = survivors;
  decider_count_ = deciders;
}

// New requests join the queue in agent-id order; each asks for its whole claim.
void Simulation::submit(std::int32_t t) {
  Money requested = 0;
  for (std::uint32_t k = 0; k < decider_count_; ++k) {
    const std::uint32_t i = deciders_[k];
    population_.decided_at[i] = t;
    decision_log_[decision_log_size_++] = i;
    const Money amount = population_.claim[i];
    requested += amount;
    institution_.submit(i, t, amount);
  }
  withdrawn_agents_ += decider_count_;
  log_end_[static_cast<std::size_t>(t) % log_end_.size()] = decision_log_size_;
  record_.requested = requested;
  record_.new_withdrawals = decider_count_;
}

void Simulation::settle(std::int32_t t) {
  record_.paid = institution_.settle(t, [&](std::uint32_t agent, Money amount, bool done) {
    population_.claim[agent] -= amount;
    paid_agents_ += done;
  });
}

const TickRecord& Simulation::step() {
  const std::int32_t t = tick_;
  record_ = TickRecord{};
  record_.tick = t;

  // 1. observe
  const double flow = flow_signal();
  record_.flow_signal = flow;
  prepare_news(t);
  reveal_peers(t);
  // 2. decide, 3. submit, 4. settle
  decide(t, flow);
  submit(t);
  settle(t);
  // 5. record
  institution_.check_ledger();
  record_.deposits = institution_.deposits();
  record_.queue_value = institution_.queue_value();
  record_.queue_count = institution_.queue_count();
  record_.oldest_wait_ticks = institution_.oldest_wait(t);
  record_.hot = institution_.hot();
  record_.halted = institution_.halted();
  record_.withdrawn_agents = withdrawn_agents_;
  record_.paid_agents = paid_agents_;
  remember_flow();
  ++tick_;
  return record_;
}

void Simulation::audit() const {
  const Money claims =
      std::accumulate(population_.claim.begin(), population_.claim.end(), Money{0});
  if (claims != institution_.deposits())
    throw LedgerError("audit: sum of agents' claims != institution deposits");
  if (institution_.queue_sum() != institution_.queue_value())
    throw LedgerError("audit: sum of queued requests != queue value");
  std::int64_t decided = 0;
  for (const std::int32_t d : population_.decided_at) decided += d != kNever;
  if (decided != withdrawn_agents_) throw LedgerError("audit: decided agents miscounted");
}

}  // namespace bankrun
