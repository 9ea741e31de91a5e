#include "simulation.hpp"

#include <algorithm>
#include <boost/random/normal_distribution.hpp>
#include <cmath>
#include <limits>
#include <numeric>

#include "agents/parallel.hpp"
#include "agents/rng.hpp"

namespace bankrun {
namespace {

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
      classes_(population_.class_count()),
      active_(population_.size()),
      news_(scenario_) {
  const std::uint32_t n = population_.size();
  build_institutions();
  for (const auto& cls : scenario_.population.classes) {
    redeposit_rate_.push_back(cls.redeposit_rate);
    any_redeposit_ = any_redeposit_ || cls.redeposit_rate > 0.0;
  }

  prepare_policies(n);

  state_.assign(n, AgentState::kHolding);
  decision_log_.resize(n);
  const std::uint32_t max_blocks = ActiveList::blocks_of(n) + 1;
  block_class_stress_.resize(std::size_t{max_blocks} * classes_);
  block_class_acting_.resize(std::size_t{max_blocks} * classes_);

  log_end_.assign(static_cast<std::size_t>(scenario_.stress.peer_lag_ticks) + 2, 0);
  peers_seen_.assign((std::size_t{n} + 63) / 64, 0);
  for (const Money c : population_.initial_claim) total_weight_ += static_cast<double>(c);
  peer_mode_ = (scenario_.network.kind == NetworkSpec::Kind::kComplete ||
                scenario_.stress.peer_balance_weighted)
                   ? PeerMode::kOther
                   : PeerMode::kCounted;

  const std::size_t nin = institutions_.size();
  flow_ring_ = static_cast<std::size_t>(scenario_.stress.flow_window_ticks) + 1;
  flow_out_.assign(nin * flow_ring_, 0);
  flow_deposits_.resize(nin * flow_ring_);
  for (std::size_t k = 0; k < nin; ++k)
    std::fill_n(flow_deposits_.begin() + k * flow_ring_, flow_ring_, institutions_[k].deposits());
  public_stress_.assign(nin * classes_, 0.0);
  uniform_public_ = nin == 1 && std::none_of(in_kind_class_.begin(), in_kind_class_.end(),
                                             [](char c) { return c != 0; });
  transfers_pending_.assign(nin, 0);

  class_ticks_.resize(classes_);
  institution_ticks_.resize(nin);
  asset_begin_.assign(1, 0);
  for (const InstitutionSpec& spec : scenario_.institutions)
    asset_begin_.push_back(asset_begin_.back() + spec.assets.size());
  asset_ticks_.resize(asset_begin_.back());
  const std::size_t nq = scenario_.output.stress_quantiles.size();
  class_quantiles_.assign(classes_ * nq, 0.0);
  if (nq > 0) {
    quantile_work_.resize(n);
    quantile_offset_.resize(classes_ * (std::size_t{max_blocks} + 1));
  }
  if (!scenario_.output.snapshot_ticks.empty())
    snapshot_rows_.resize(std::min<std::uint32_t>(scenario_.output.snapshot_agents, n));
}

// Claim currencies: the classes' normalised portfolios and, per institution, which of its
// assets holds each currency (by name).
void Simulation::map_currencies() {
  const auto& names = scenario_.currencies;
  currencies_ = 1 + names.size();
  if (currencies_ > 33) throw std::invalid_argument("at most 32 claim currencies besides USD");
  portfolio_.assign(classes_ * currencies_, 0.0);
  in_kind_class_.assign(classes_, 0);
  for (std::size_t c = 0; c < classes_; ++c) {
    const auto& w = scenario_.population.classes[c].portfolio;
    double total = 0.0;
    for (const double x : w) total += x;
    if (w.empty() || total <= 0.0) {
      portfolio_[c * currencies_] = 1.0;
      continue;
    }
    if (w.size() != currencies_) throw std::invalid_argument("a portfolio has the wrong size");
    for (std::size_t k = 0; k < currencies_; ++k) {
      portfolio_[c * currencies_ + k] = w[k] / total;
      if (k > 0 && w[k] > 0.0) in_kind_class_[c] = 1;
    }
  }
  currency_asset_.assign(scenario_.institutions.size() * currencies_, -1);
  asset_currency_.clear();
  for (std::size_t in = 0; in < scenario_.institutions.size(); ++in) {
    const auto& assets = scenario_.institutions[in].assets;
    asset_currency_.emplace_back(assets.size(), 0);
    for (std::size_t a = 0; a < assets.size(); ++a)
      for (std::size_t k = 1; k < currencies_; ++k)
        if (assets[a].name == names[k - 1]) {
          currency_asset_[in * currencies_ + k] = static_cast<std::int32_t>(a);
          asset_currency_[in][a] = k;
        }
  }
}

// parts[k] = floor(amount * w_k) for k >= 1; parts[0] = amount - the others.
bool Simulation::split(Money amount, std::uint8_t c, Money* parts) const {
  parts[0] = amount;
  if (!in_kind_class_[c]) return false;
  const double* w = &portfolio_[std::size_t{c} * currencies_];
  for (std::size_t k = 1; k < currencies_; ++k) {
    parts[k] = static_cast<Money>(std::floor(w[k] * static_cast<double>(amount)));
    parts[0] -= parts[k];
  }
  return true;
}

// Institution k starts with the claims of the agents whose account it holds (of which the
// parts in its assets, split by the holders' portfolios); its queues have room for every
// agent that can ever have a request there (account or destination k). What each
// institution owes the others is the sum of their exposures to it.
void Simulation::build_institutions() {
  const std::size_t nin = scenario_.institutions.size();
  if (nin == 0 || nin > kMaxInstitutions)
    throw std::invalid_argument("a scenario needs 1 to 254 institutions");
  map_currencies();
  std::vector<Money> issued(nin, 0);
  std::vector<std::vector<Money>> asset_issued(nin);
  for (std::size_t k = 0; k < nin; ++k)
    asset_issued[k].assign(scenario_.institutions[k].assets.size(), 0);
  std::vector<std::uint32_t> capacity(nin, 0);
  std::vector<Money> parts(currencies_);
  for (std::uint32_t i = 0; i < population_.size(); ++i) {
    const std::uint8_t a = population_.account[i], d = population_.destination[i];
    if (a >= nin || (d != kSelfCustody && d >= nin))
      throw std::invalid_argument("an agent's account or destination names no institution");
    issued[a] += population_.claim[i];
    const std::uint8_t cls = population_.class_id[i];
    if (in_kind_class_[cls])
      for (std::size_t c = 1; c < currencies_; ++c)
        if (portfolio_[cls * currencies_ + c] > 0.0 &&
            (asset_of(a, c) < 0 || (d != kSelfCustody && asset_of(d, c) < 0)))
          throw std::invalid_argument("claim currency '" + scenario_.currencies[c - 1] +
                                      "' is not an asset of every institution its holders use");
    if (split(population_.claim[i], cls, parts.data()))
      for (std::size_t c = 1; c < currencies_; ++c) {
        if (parts[c] > 0) asset_issued[a][static_cast<std::size_t>(asset_of(a, c))] += parts[c];
      }
    ++capacity[a];
    if (d != kSelfCustody) ++capacity[d];
  }
  institutions_.reserve(nin);
  for (std::size_t k = 0; k < nin; ++k) {
    std::vector<char> claim_assets(asset_currency_[k].size());
    for (std::size_t a = 0; a < claim_assets.size(); ++a)
      claim_assets[a] = asset_currency_[k][a] > 0;
    institutions_.emplace_back(scenario_.institutions[k], issued[k], capacity[k],
                               scenario_.time.tick_hours, asset_issued[k], claim_assets);
  }
  pending_parts_.assign(population_.size(), 0);
  transfer_liabilities_.assign(nin * currencies_, 0);
  std::vector<Money> owed(nin, 0);
  for (const InstitutionSpec& spec : scenario_.institutions)
    for (const ExposureSpec& e : spec.exposures) {
      if (e.debtor >= nin) throw std::invalid_argument("an exposure names no institution");
      owed[e.debtor] += e.amount;
    }
  for (std::size_t k = 0; k < nin; ++k) institutions_[k].set_owed_to_institutions(owed[k]);
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

double Simulation::flow_signal(std::size_t k) const {
  if (scenario_.stress.flow_weight == 0.0) return 0.0;
  const Institution& in = institutions_[k];
  const Money out_now = net_outflow(in);
  if (scenario_.stress.flow_window_ticks == 0) {
    return in.issued() > 0 ? static_cast<double>(out_now) / static_cast<double>(in.issued()) : 0.0;
  }
  // The end of tick k is kept in slot (k + 1) mod (W + 1), so the end of tick t-1-W sits in
  // slot (t - W) mod (W + 1) = (t + 1) mod (W + 1); it survives the writes of t-W .. t-1.
  const std::size_t oldest = k * flow_ring_ + static_cast<std::size_t>(tick_ + 1) % flow_ring_;
  const Money base = flow_deposits_[oldest];
  return base > 0 ? static_cast<double>(out_now - flow_out_[oldest]) / base : 0.0;
}

void Simulation::remember_flow() {
  if (scenario_.stress.flow_window_ticks == 0) return;
  for (std::size_t k = 0; k < institutions_.size(); ++k) {
    const std::size_t slot = k * flow_ring_ + static_cast<std::size_t>(tick_ + 1) % flow_ring_;
    flow_out_[slot] = net_outflow(institutions_[k]);
    flow_deposits_[slot] = institutions_[k].deposits();
  }
}

// Q_k(t-1): the waiting time of institution k's oldest unpaid request at the end of t-1,
// in days.
double Simulation::queue_signal(std::size_t k) const {
  if (tick_ == 0) return 0.0;
  return institutions_[k].oldest_wait(tick_ - 1) * scenario_.time.tick_hours / 24.0;
}

// The public signals of each institution, seen by its depositors this tick, for the
// depositors of each class c:
//   public_stress_kc = b_flow G_k(t-1) + b_queue Q_k(t-1) + b_price X_kc(t-1),
//   X_kc = own token's drawdown + sum over claim currencies j >= 1 of w_cj * drawdown_kj
// (the drawdown 1 - P / max P of the assets the class's claims are held in).
void Simulation::observe(std::int32_t t) {
  const StressSpec& w = scenario_.stress;
  for (std::size_t k = 0; k < institutions_.size(); ++k) {
    InstitutionTick& r = institution_ticks_[k];
    const Institution& in = institutions_[k];
    r.flow_signal = flow_signal(k);
    r.queue_signal = queue_signal(k);
    r.price_signal = in.own_token_drawdown();
    const double base = w.flow_weight * r.flow_signal + w.queue_weight * r.queue_signal +
                        w.price_weight * r.price_signal;
    for (std::size_t c = 0; c < classes_; ++c) {
      double held = 0.0;
      if (in_kind_class_[c])
        for (std::size_t j = 1; j < currencies_; ++j) {
          const std::int32_t a = asset_of(k, j);
          const double weight = portfolio_[c * currencies_ + j];
          if (a >= 0 && weight > 0.0) {
            const AssetState& st = in.assets()[static_cast<std::size_t>(a)];
            held += weight * (1.0 - st.price / st.peak_price);
          }
        }
      public_stress_[k * classes_ + c] = base + w.price_weight * held;
    }
  }
  record_.news_signal = news_.prepare(t);
  reveal_peers(t);
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

// S_i(t) = b_news N_i(t) + b_peer P_i(t-L) + b_flow G_k(t-1) + b_queue Q_k(t-1)
//          + b_price X_k(t-1) + carry S_i(t-1) + eps_i(t),  eps_i(t) ~ Normal(0, sigma_i)
// keyed by (t, i), where k is i's account institution (public_stress_[k * classes + c]
// holds the G, Q, X terms, the same for all its depositors of class c).
// Threshold rule: withdraw iff S_i > theta_i. Hazard rule: withdraw with probability
// h0 * Phi((S_i - theta_i) / T), U ~ (seed, kHazard, t, i). Only an agent with a claim
// can withdraw. An agent with funds outside re-deposits, if its class allows it, with
// probability redeposit_rate when S_i < calm_threshold, U ~ (seed, kRedeposit, t, i).
Simulation::Outcome Simulation::decide_agent(std::uint32_t i, std::int32_t t, double public_term,
                                             double& stress) {
  const StressSpec& w = scenario_.stress;
  const auto tick = static_cast<std::uint32_t>(t);
  double s = public_term + w.carry * population_.stress[i];
  if (news_.any_live()) s += w.news_weight * news_.agent_news(i, population_);
  if (w.peer_weight != 0.0) s += w.peer_weight * peer_fraction(i);
  if (population_.noise_sd[i] > 0.0f) {
    CounterRng rng(scenario_.seed, Stream::kDecisionNoise, tick, i);
    s += boost::random::normal_distribution<double>(0.0, population_.noise_sd[i])(rng);
  }
  if (any_insurance_ && policy_state_[population_.account[i]].insurance)
    s *= insured_stress_scale(i);
  population_.stress[i] = s;
  stress = s;

  const double theta = population_.threshold[i];
  const bool gated = any_gate_ && policy_state_[population_.account[i]].gate &&
                     t - last_request_[i] < ticks_per_day_;
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

void Simulation::decide(std::int32_t t) {
  const std::uint32_t nblocks = active_.blocks();
  for_blocks(nblocks, [&](std::uint32_t b) {
    const std::uint32_t lo = active_.block_begin(b), hi = active_.block_end(b);
    const std::uint32_t* ids = active_.ids();
    std::uint32_t* stay = active_.stay_slots(b);
    std::uint32_t* withdraw = active_.withdraw_slots(b);
    std::uint32_t* redeposit = active_.redeposit_slots(b);
    // Per-class sums in local arrays: they cannot alias the agents' state, so the compiler
    // keeps them out of the store-to-load chains of the per-agent writes.
    double class_stress[256] = {};
    std::uint32_t class_acting[256] = {};
    ActiveList::BlockCounts counts;
    // One institution and USD-only claims (the common case): one public term for all.
    const bool uniform = uniform_public_;
    const double uniform_term = public_stress_[0];
    for (std::uint32_t k = lo; k < hi; ++k) {
      const std::uint32_t i = ids[k];
      const std::uint8_t c = population_.class_id[i];
      const double public_term =
          uniform ? uniform_term : public_stress_[population_.account[i] * classes_ + c];
      double stress;
      const Outcome outcome = decide_agent(i, t, public_term, stress);
      class_stress[c] += stress;
      ++class_acting[c];
      if (outcome == Outcome::kWithdraw) {
        withdraw[counts.withdraw++] = i;
        continue;
      }
      if (outcome == Outcome::kRedeposit) redeposit[counts.redeposit++] = i;
      stay[counts.stay++] = i;
    }
    std::copy_n(class_stress, classes_, &block_class_stress_[std::size_t{b} * classes_]);
    std::copy_n(class_acting, classes_, &block_class_acting_[std::size_t{b} * classes_]);
    active_.set_block(b, counts);
  });

  // Per-class stress, summed in block order.
  const std::uint32_t acting_agents = active_.count();
  record_.acting_agents = acting_agents;
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
  record_.stress_mean = acting_agents > 0 ? stress_sum / acting_agents : 0.0;
  gather_stress_quantiles(nblocks);
  active_.compact(nblocks);
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
  for_blocks(nblocks, [&](std::uint32_t b) {
    const std::uint32_t* ids = active_.ids();
    const std::uint32_t lo = active_.block_begin(b), hi = active_.block_end(b);
    for (std::uint32_t k = lo; k < hi; ++k) {
      const std::uint32_t i = ids[k];
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

// Re-deposits: each calm agent moves redeposit_fraction of its outside funds (at least
// one cent) back into its claim; its account institution's hot reserves grow by as much.
void Simulation::credit_redeposits() {
  for (const std::uint32_t i : active_.redepositors()) {
    const double fraction =
        scenario_.population.classes[population_.class_id[i]].redeposit_fraction;
    Money& outside = population_.outside[i];
    const Money amount =
        std::clamp<Money>(std::llround(fraction * static_cast<double>(outside)), 1, outside);
    if (population_.claim[i] == 0) --paid_agents_;
    outside -= amount;
    population_.claim[i] += amount;
    const std::uint8_t in = population_.account[i];
    institutions_[in].deposit(amount);
    Money parts[33];
    if (split(amount, population_.class_id[i], parts))
      for (std::size_t c = 1; c < currencies_; ++c)
        if (parts[c] > 0)
          institutions_[in].credit_asset_liability(static_cast<std::size_t>(asset_of(in, c)),
                                                   parts[c]);
    institution_ticks_[in].inflows += amount;
    self_custody_ -= amount;
  }
}

// A request asks for omega_i of the remaining claim (at least one cent; all of it when
// omega_i = 1).
void Simulation::request(std::uint32_t i, std::int32_t t) {
  const Money claim = population_.claim[i];
  const float omega = population_.withdraw_fraction[i];
  Money amount =
      omega >= 1.0f ? claim
                    : std::clamp<Money>(std::llround(omega * static_cast<double>(claim)), 1, claim);
  const std::uint8_t k = population_.account[i];
  if (policy_state_[k].gate)
    amount = std::min(amount, std::max<Money>(1, std::llround(policy_state_[k].gate_fraction *
                                                              static_cast<double>(claim))));
  if (!last_request_.empty()) last_request_[i] = t;
  state_[i] = AgentState::kPending;
  institution_ticks_[k].requested += amount;
  // The request is split by the portfolio; each part joins the queue of its currency.
  Money parts[33];
  std::uint8_t count = 0;
  if (split(amount, population_.class_id[i], parts)) {
    for (std::size_t c = 1; c < currencies_; ++c) {
      if (parts[c] == 0) continue;
      institutions_[k].submit_asset(static_cast<std::size_t>(asset_of(k, c)), i, t, parts[c]);
      ++count;
    }
  }
  if (parts[0] > 0 || count == 0) {
    institutions_[k].submit(i, t, parts[0]);
    ++count;
  }
  pending_parts_[i] = count;
}

// First decisions are logged (peers see them after L ticks). Agents whose reaction lag is
// 0 request now, the others wait. Requests of the tick join the queue in agent-id order.
void Simulation::submit(std::int32_t t) {
  credit_redeposits();
  std::uint32_t first = 0;
  for (const std::uint32_t i : active_.withdrawers()) {
    if (population_.decided_at[i] == kNever) {
      population_.decided_at[i] = t;
      decision_log_[decision_log_size_++] = i;
      ++class_ticks_[population_.class_id[i]].withdrawn_agents;
      ++first;
    }
    const std::int32_t lag = population_.reaction_lag[i];
    if (lag == 0) {
      active_.add_request(i);
    } else {
      state_[i] = AgentState::kWaiting;
      active_.wait(t + lag, i);
    }
  }
  for (const std::uint32_t i : active_.take_requests(t)) request(i, t);

  withdrawn_agents_ += first;
  log_end_[static_cast<std::size_t>(t) % log_end_.size()] = decision_log_size_;
  record_.new_withdrawals = first;
}

// Each institution settles in scenario order; the payments its customers sent on to other
// institutions arrive there once all have settled (usable from the next tick).
void Simulation::settle(std::int32_t t) {
  active_.clear_returning();
  for (std::size_t k = 0; k < institutions_.size(); ++k)
    institution_ticks_[k].paid =
        institutions_[k].settle(t, [&](std::uint32_t i, Money amount, bool done, int asset) {
          pay(k, i, amount, done, asset);
        });
  for (std::size_t k = 0; k < institutions_.size(); ++k) {
    if (transfers_pending_[k] == 0) continue;
    institutions_[k].receive_transfer(transfers_pending_[k]);
    institution_ticks_[k].transfers_in = transfers_pending_[k];
    transfers_pending_[k] = 0;
    for (std::size_t c = 1; c < currencies_; ++c) {
      Money& owed = transfer_liabilities_[k * currencies_ + c];
      if (owed == 0) continue;
      institutions_[k].credit_asset_liability(static_cast<std::size_t>(asset_of(k, c)), owed);
      owed = 0;
    }
  }
  active_.merge_returning();
  update_prices(t);
}

// A payment by institution k (from its cash queue, asset = -1, or in kind from an asset's
// queue) moves value from agent i's claim to its destination: its outside holdings
// (self-custody), or a claim at its destination institution (`moved`, owed there in the
// same currency). The agent's request is paid in full when its last part is.
// Once its claim at k is paid in full, an agent with moved funds banks at the destination:
// its account moves there (claim = moved), and later withdrawals go to self-custody. An
// agent paid in full acts again from the next tick if it still has a claim, or funds it
// may re-deposit.
void Simulation::pay(std::size_t k, std::uint32_t i, Money amount, bool done, int asset) {
  population_.claim[i] -= amount;
  const std::uint8_t d = population_.destination[i];
  if (d == kSelfCustody) {
    population_.outside[i] += amount;
    self_custody_ += amount;
  } else {
    population_.moved[i] += amount;
    transfers_pending_[d] += amount;
    if (asset >= 0) {
      const std::size_t c = asset_currency_[k][static_cast<std::size_t>(asset)];
      if (c > 0) transfer_liabilities_[std::size_t{d} * currencies_ + c] += amount;
    }
    institution_ticks_[k].transfers_out += amount;
  }
  class_ticks_[population_.class_id[i]].withdrawn_value += amount;
  if (!done || --pending_parts_[i] > 0) return;
  if (population_.claim[i] == 0 && population_.moved[i] > 0) {
    population_.account[i] = d;
    population_.claim[i] = population_.moved[i];
    population_.moved[i] = 0;
    population_.destination[i] = kSelfCustody;
  }
  if (population_.claim[i] == 0) ++paid_agents_;
  if (population_.claim[i] > 0 || can_redeposit(i)) {
    state_[i] = AgentState::kHolding;
    active_.add_returning(i);
  } else {
    state_[i] = AgentState::kLeft;
  }
}

// Deposit insurance: S_i is scaled by (1 - s_i) + f s_i, where s_i = min(c_i, coverage) / c_i
// is the insured share of the agent's claim and f the insured stress factor.
double Simulation::insured_stress_scale(std::uint32_t i) const {
  const Money claim = population_.claim[i];
  if (claim <= 0) return 1.0;
  const PolicyState& p = policy_state_[population_.account[i]];
  const double insured =
      static_cast<double>(std::min(claim, p.coverage)) / static_cast<double>(claim);
  return (1.0 - insured) + p.insured_stress_factor * insured;
}

// The tick, in the phase order of the header comment (MODEL.md section 7).
const TickRecord& Simulation::step() {
  const std::int32_t t = tick_;
  start_tick(t);
  apply_policies(t);    // 1. observe: the policies armed at the end of t-1 take effect,
  observe(t);           //    then the public signals
  decide(t);            // 2.
  submit(t);            // 3.
  settle(t);            // 4. (and the market prices for t+1)
  resolve_defaults(t);  // 5.
  record(t);            // 6. (ledger identities checked first)
  end_tick();
  return record_;
}

void Simulation::start_tick(std::int32_t t) {
  record_ = TickRecord{};
  record_.tick = t;
  std::fill(institution_ticks_.begin(), institution_ticks_.end(), InstitutionTick{});
}

// Bookkeeping for the next tick: the policies whose conditions hold now fire at t+1, and the
// flow rings keep this tick's net outflows.
void Simulation::end_tick() {
  arm_policies();
  remember_flow();
  ++tick_;
}

// Each asset's price moves one tick (for t+1), driven by the institution's net outflow of t.
void Simulation::update_prices(std::int32_t t) {
  for (std::size_t k = 0; k < institutions_.size(); ++k) {
    const InstitutionTick& r = institution_ticks_[k];
    institutions_[k].update_prices(scenario_.seed, t, r.paid - r.inflows - r.transfers_in);
  }
}

}  // namespace bankrun
