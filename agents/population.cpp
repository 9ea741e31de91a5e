#include "population.hpp"

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <boost/random/normal_distribution.hpp>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <utility>

#include "parallel.hpp"

namespace bankrun {
namespace {

// A strict total order on doubles that also separates -0.0 from +0.0, so that any sorting
// algorithm (sequential or parallel) gives the same array. NaN never occurs here.
bool total_less(double a, double b) {
  if (a < b) return true;
  if (b < a) return false;
  return std::signbit(a) && !std::signbit(b);
}

// Threshold-balance rank correlation (a Gaussian copula on ranks) for the agents
// [begin, end) of one class whose thresholds have already been drawn:
//   1. r_i = rank of agent i's drawn balance within the class (ties broken by id);
//   2. z_i = Phi^-1((r_i + 0.5) / n), e_i ~ Normal(0, 1) from
//      CounterRng(seed, kThresholdRank, 0, i), score_i = rho z_i + sqrt(1 - rho^2) e_i;
//   3. the class's drawn thresholds, sorted ascending, are dealt out in score order: the
//      k-th smallest threshold goes to the agent with the k-th smallest score (ties by id).
// The multiset of thresholds is unchanged, so the marginal distribution is exactly the one
// drawn; the Spearman correlation of balance and threshold is about (6/pi) asin(rho/2).
// Every key is unique ((value, id) pairs), so the parallel sorts are deterministic.
// Memory: one (double, id) pair per agent of the class (16 bytes), reused for all steps.
void correlate_thresholds(std::uint32_t begin, std::uint32_t end, double rho,
                          const std::vector<double>& balance, std::vector<double>& threshold,
                          std::uint64_t seed) {
  const std::uint32_t n = end - begin;
  if (n < 2) return;
  using Key = std::pair<double, std::uint32_t>;
  const auto key_less = [](const Key& a, const Key& b) {
    if (total_less(a.first, b.first)) return true;
    if (total_less(b.first, a.first)) return false;
    return a.second < b.second;
  };
  std::vector<Key> keys(n);
  for_range(0u, n, [&](std::uint32_t r) { keys[r] = {balance[begin + r], begin + r}; });
  sort_in_parallel(keys.begin(), keys.end(), key_less);
  const double noise_weight = std::sqrt(std::max(0.0, 1.0 - rho * rho));
  const boost::math::normal standard;
  for_range(0u, n, [&](std::uint32_t r) {
    const std::uint32_t id = keys[r].second;
    const double z = boost::math::quantile(standard, (r + 0.5) / n);
    CounterRng rng(seed, Stream::kThresholdRank, 0, id);
    const double e = boost::random::normal_distribution<double>(0.0, 1.0)(rng);
    keys[r].first = rho * z + noise_weight * e;
  });
  sort_in_parallel(keys.begin(), keys.end(), key_less);
  const auto first = threshold.begin() + begin, last = threshold.begin() + end;
  sort_in_parallel(first, last, total_less);
  // keys[k] = (k-th smallest threshold, agent with the k-th smallest score), then scatter.
  for_range(0u, n, [&](std::uint32_t k) { keys[k].first = threshold[begin + k]; });
  for_range(0u, n, [&](std::uint32_t k) { threshold[keys[k].second] = keys[k].first; });
}

// Index k with U in [sum of shares[0..k), sum of shares[0..k]) after normalising `shares`
// (skipping index `excluded`); -1 if every share is 0.
int pick_share(const std::vector<double>& shares, double u, std::size_t excluded) {
  double total = 0.0;
  for (std::size_t k = 0; k < shares.size(); ++k) total += k == excluded ? 0.0 : shares[k];
  if (total <= 0.0) return -1;
  double cumulative = 0.0;
  int last = -1;
  for (std::size_t k = 0; k < shares.size(); ++k) {
    if (k == excluded || shares[k] <= 0.0) continue;
    cumulative += shares[k] / total;
    last = static_cast<int>(k);
    if (u < cumulative) return last;
  }
  return last;  // rounding: U just below 1
}

// Account: index k of the class's account shares (stream kAccount); 0 without shares.
// Destination: from the destination shares ([0] self-custody, [k+1] institution k) with
// the agent's own account excluded (stream kDestination); self-custody if none is left.
void draw_account_and_destination(const InvestorClass& cls, std::uint64_t seed, std::uint32_t i,
                                  std::uint8_t& account, std::uint8_t& destination) {
  account = 0;
  if (!cls.account_shares.empty()) {
    const int k =
        pick_share(cls.account_shares, CounterRng(seed, Stream::kAccount, 0, i).uniform01(),
                   cls.account_shares.size());
    account = static_cast<std::uint8_t>(std::max(k, 0));
  }
  destination = kSelfCustody;
  if (!cls.destination_shares.empty()) {
    const int d =
        pick_share(cls.destination_shares, CounterRng(seed, Stream::kDestination, 0, i).uniform01(),
                   std::size_t{account} + 1);
    if (d > 0) destination = static_cast<std::uint8_t>(d - 1);
  }
}

float draw_withdraw_fraction(const InvestorClass& cls, std::uint64_t k, CounterRng& rng) {
  return static_cast<float>(std::clamp(cls.withdraw_fraction.sample(k, rng), 1e-6, 1.0));
}

float draw_attention(const InvestorClass& cls, std::uint64_t k, CounterRng& rng) {
  return static_cast<float>(std::clamp(cls.attention.sample(k, rng), 0.0, 1.0));
}

float draw_noise_sd(const InvestorClass& cls, std::uint64_t k, CounterRng& rng) {
  return static_cast<float>(std::max(0.0, cls.noise_sd.sample(k, rng)));
}

std::int32_t draw_reaction_lag(const InvestorClass& cls, std::uint64_t k, CounterRng& rng) {
  double lag = std::clamp(cls.reaction_lag_ticks.sample(k, rng), 0.0, 1e6);
  if (!(lag >= 0.0)) lag = 0.0;  // NaN
  return static_cast<std::int32_t>(std::llround(lag));
}

// Each class's attention, withdraw fraction, noise sd and reaction lag, as a constant
// distribution draws them (without touching the generator); the per-agent arrays only
// where some class's distribution is not a constant (n entries: every agent then draws its
// own).
void set_class_constants(const PopulationSpec& spec, std::uint64_t seed, Population& pop) {
  bool attention_varies = false, omega_varies = false, noise_varies = false, lag_varies = false;
  const auto varies = [](const Distribution& d) { return d.kind != Distribution::Kind::kConstant; };
  for (const InvestorClass& cls : spec.classes) {
    CounterRng unused(seed, Stream::kClassAttributes, 0, 0);
    pop.class_attention.push_back(draw_attention(cls, 0, unused));
    pop.class_withdraw_fraction.push_back(draw_withdraw_fraction(cls, 0, unused));
    pop.class_noise_sd.push_back(draw_noise_sd(cls, 0, unused));
    pop.class_reaction_lag.push_back(draw_reaction_lag(cls, 0, unused));
    attention_varies = attention_varies || varies(cls.attention);
    omega_varies = omega_varies || varies(cls.withdraw_fraction);
    noise_varies = noise_varies || varies(cls.noise_sd);
    lag_varies = lag_varies || varies(cls.reaction_lag_ticks);
  }
  if (attention_varies) pop.attention.resize(spec.agents);
  if (omega_varies) pop.withdraw_fraction.resize(spec.agents);
  if (noise_varies) pop.noise_sd.resize(spec.agents);
  if (lag_varies) pop.reaction_lag.resize(spec.agents);
}

}  // namespace

std::vector<std::uint32_t> class_counts(const PopulationSpec& spec) {
  const std::size_t c = spec.classes.size();
  double total_share = 0.0;
  for (const auto& cls : spec.classes) total_share += cls.share;
  std::vector<std::uint32_t> counts(c, 0);
  std::vector<std::pair<double, std::size_t>> remainders;
  std::uint64_t assigned = 0;
  for (std::size_t k = 0; k < c; ++k) {
    const double exact = spec.agents * spec.classes[k].share / total_share;
    counts[k] = static_cast<std::uint32_t>(std::floor(exact));
    assigned += counts[k];
    remainders.emplace_back(exact - counts[k], k);
  }
  // Largest remainders first; ties go to the earlier class.
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::size_t r = 0; assigned < spec.agents; ++r, ++assigned) ++counts[remainders[r].second];
  return counts;
}

Population create_population(const PopulationSpec& spec, std::uint64_t seed) {
  if (spec.classes.empty()) throw std::invalid_argument("population needs at least one class");
  if (spec.classes.size() > 255) throw std::invalid_argument("at most 255 investor classes");
  const std::uint32_t n = spec.agents;
  Population pop;
  pop.threshold.resize(n);
  set_class_constants(spec, seed, pop);
  pop.class_id.resize(n);
  pop.account.resize(n);
  pop.destination.resize(n);
  pop.claim.resize(n);
  pop.outside.assign(n, 0);
  pop.stress.assign(n, 0.0);
  pop.decided_at.assign(n, kNever);

  for (const InvestorClass& cls : spec.classes)
    pop.class_accounts_per_agent.push_back(cls.accounts_per_agent);
  const auto counts = class_counts(spec);
  pop.class_begin.assign(1, 0);
  for (const auto count : counts) pop.class_begin.push_back(pop.class_begin.back() + count);

  std::vector<double> balance_usd(n);
  for (std::size_t c = 0; c < counts.size(); ++c) {
    const InvestorClass& cls = spec.classes[c];
    const std::uint32_t begin = pop.class_begin[c], end = pop.class_begin[c + 1];
    for_range(begin, end, [&](std::uint32_t i) {
      CounterRng brng(seed, Stream::kClassBalance, 0, i);
      CounterRng trng(seed, Stream::kClassThreshold, 0, i);
      const std::uint64_t k = i - begin;  // position in the class: `exact` lists' index
      pop.class_id[i] = static_cast<std::uint8_t>(c);
      // One account's balance, times the accounts the agent stands for.
      balance_usd[i] = cls.accounts_per_agent * std::max(0.0, cls.balance_usd.sample(k, brng));
      pop.threshold[i] = cls.threshold.sample(k, trng);
      // Per-agent attributes, one generator per agent, in this fixed order.
      CounterRng arng(seed, Stream::kClassAttributes, 0, i);
      const float attention = draw_attention(cls, k, arng);
      if (!pop.attention.empty()) pop.attention[i] = attention;
      const float omega = draw_withdraw_fraction(cls, k, arng);
      if (!pop.withdraw_fraction.empty()) pop.withdraw_fraction[i] = omega;
      const float noise_sd = draw_noise_sd(cls, k, arng);
      if (!pop.noise_sd.empty()) pop.noise_sd[i] = noise_sd;
      const std::int32_t lag = draw_reaction_lag(cls, k, arng);
      if (!pop.reaction_lag.empty()) pop.reaction_lag[i] = lag;
      draw_account_and_destination(cls, seed, i, pop.account[i], pop.destination[i]);
    });
    const double rho = cls.threshold_balance_rank_correlation;
    if (rho != 0.0) correlate_thresholds(begin, end, rho, balance_usd, pop.threshold, seed);
  }

  double scale = 1.0;
  if (spec.total_balance_usd) {
    // Sequential sum: a parallel floating-point sum would depend on the thread count.
    const double drawn = std::accumulate(balance_usd.begin(), balance_usd.end(), 0.0);
    if (drawn <= 0.0) throw std::invalid_argument("population: drawn balances sum to zero");
    scale = *spec.total_balance_usd / drawn;
  }
  for_range(0u, n, [&](std::uint32_t i) { pop.claim[i] = usd_to_cents(balance_usd[i] * scale); });
  pop.initial_claim = pop.claim;
  if (std::any_of(pop.destination.begin(), pop.destination.end(),
                  [](std::uint8_t d) { return d != kSelfCustody; }))
    pop.moved.assign(n, 0);
  pop.issued = std::accumulate(pop.claim.begin(), pop.claim.end(), Money{0});
  return pop;
}

}  // namespace bankrun
