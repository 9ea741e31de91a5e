// Population set-up: class counts, distributions, rescaling, per-agent attributes,
// threshold-balance rank correlation, determinism.
#include <doctest/doctest.h>
#include <tbb/global_control.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>

#include "agents/population.hpp"
#include "fixtures.hpp"

using namespace bankrun;
using namespace bankrun::testing;

namespace {

Distribution uniform(double lo, double hi) {
  Distribution d;
  d.kind = Distribution::Kind::kUniform;
  d.low = lo;
  d.high = hi;
  return d;
}

Population with_threads(const PopulationSpec& spec, std::uint64_t seed, int threads) {
  tbb::global_control c(tbb::global_control::max_allowed_parallelism, threads);
  return create_population(spec, seed);
}

// Ranks 0..n-1 of x (ties broken by index).
std::vector<double> ranks(const std::vector<double>& x) {
  std::vector<std::uint32_t> idx(x.size());
  std::iota(idx.begin(), idx.end(), 0u);
  std::sort(idx.begin(), idx.end(),
            [&](auto a, auto b) { return x[a] < x[b] || (x[a] == x[b] && a < b); });
  std::vector<double> r(x.size());
  for (std::size_t k = 0; k < idx.size(); ++k) r[idx[k]] = static_cast<double>(k);
  return r;
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  const auto rx = ranks(x), ry = ranks(y);
  const double n = static_cast<double>(x.size()), m = (n - 1) / 2;
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (rx[i] - m) * (ry[i] - m);
    sxx += (rx[i] - m) * (rx[i] - m);
    syy += (ry[i] - m) * (ry[i] - m);
  }
  return sxy / std::sqrt(sxx * syy);
}

}  // namespace

TEST_CASE("class counts are exact by largest remainder") {
  PopulationSpec spec;
  spec.agents = 10;
  spec.classes = {investor_class("a", 1.0, {}, {}), investor_class("b", 1.0, {}, {}),
                  investor_class("c", 1.0, {}, {})};
  const auto counts = class_counts(spec);
  CHECK(counts == std::vector<std::uint32_t>{4, 3, 3});
  spec.agents = 1000;
  spec.classes[0].share = 0.9;
  spec.classes[1].share = 0.09;
  spec.classes[2].share = 0.01;
  CHECK(class_counts(spec) == std::vector<std::uint32_t>{900, 90, 10});
}

TEST_CASE("thresholds and balances follow their distributions (moments within 5 SE)") {
  PopulationSpec spec;
  spec.agents = 100000;
  spec.classes = {investor_class("retail", 1.0, lognormal(8.0, 1.5), normal(0.5, 0.15), 0.05)};
  const Population pop = create_population(spec, 3);
  const double n = spec.agents;
  double sum = 0, sq = 0, log_sum = 0;
  for (std::uint32_t i = 0; i < spec.agents; ++i) {
    sum += pop.threshold[i];
    sq += pop.threshold[i] * pop.threshold[i];
    log_sum += std::log(static_cast<double>(pop.claim[i]) / 100.0);
  }
  const double mean = sum / n, var = sq / n - mean * mean;
  CHECK(std::abs(mean - 0.5) < 5 * 0.15 / std::sqrt(n));
  CHECK(std::abs(var - 0.0225) < 5 * 0.0225 * std::sqrt(2.0 / n));
  // log balance ~ Normal(8, 1.5) up to rounding to cents (negligible at e^8 dollars).
  CHECK(std::abs(log_sum / n - 8.0) < 5 * 1.5 / std::sqrt(n));
  CHECK(pop.issued == std::accumulate(pop.claim.begin(), pop.claim.end(), Money{0}));
}

TEST_CASE("clipping, zero floor on balances and total rescaling") {
  PopulationSpec spec;
  spec.agents = 5000;
  Distribution theta = normal(0.5, 1.0);
  theta.clip_min = 0.0;
  theta.clip_max = 1.0;
  spec.classes = {investor_class("x", 1.0, normal(0.0, 100.0), theta)};
  spec.total_balance_usd = 1e6;
  const Population pop = create_population(spec, 11);
  for (std::uint32_t i = 0; i < spec.agents; ++i) {
    REQUIRE(pop.threshold[i] >= 0.0);
    REQUIRE(pop.threshold[i] <= 1.0);
    REQUIRE(pop.claim[i] >= 0);
  }
  // Rescaled to $1M up to half a cent of rounding per agent.
  CHECK(std::llabs(pop.issued - usd_to_cents(1e6)) <= spec.agents / 2 + 1);
}

TEST_CASE("set-up is identical for 1 and 2 threads") {
  PopulationSpec spec;
  spec.agents = 30000;
  spec.classes = {investor_class("a", 2.0, lognormal(5, 1), normal(0.4, 0.1)),
                  investor_class("b", 1.0, lognormal(9, 2), normal(0.6, 0.1))};
  spec.classes[0].attention = uniform(0, 1);
  spec.classes[1].reaction_lag_ticks = uniform(0, 10);
  spec.classes[1].threshold_balance_rank_correlation = -0.7;
  spec.total_balance_usd = 5e7;
  const Population one = with_threads(spec, 5, 1), two = with_threads(spec, 5, 2);
  CHECK(one.claim == two.claim);
  CHECK(one.threshold == two.threshold);
  CHECK(one.class_id == two.class_id);
  CHECK(one.attention == two.attention);
  CHECK(one.withdraw_fraction == two.withdraw_fraction);
  CHECK(one.noise_sd == two.noise_sd);
  CHECK(one.reaction_lag == two.reaction_lag);
}

TEST_CASE("constant per-agent attributes, initial claims and outside funds") {
  PopulationSpec spec;
  spec.agents = 1000;
  InvestorClass a = investor_class("a", 1.0, lognormal(5, 1), normal(0.4, 0.1), 0.05, 0.7);
  a.withdraw_fraction = constant(0.5);
  a.reaction_lag_ticks = constant(3.0);
  InvestorClass b = investor_class("b", 1.0, lognormal(5, 1), normal(0.4, 0.1));
  spec.classes = {a, b};
  const Population pop = create_population(spec, 8);
  // Constant in every class: kept per class, not per agent.
  CHECK(pop.attention.empty());
  CHECK(pop.withdraw_fraction.empty());
  CHECK(pop.noise_sd.empty());
  CHECK(pop.reaction_lag.empty());
  for (std::uint32_t i = 0; i < 1000; ++i) {
    const bool in_a = i < pop.class_begin[1];
    CHECK(pop.attention_of(i) == (in_a ? 0.7f : 1.0f));
    CHECK(pop.withdraw_fraction_of(i) == (in_a ? 0.5f : 1.0f));
    CHECK(pop.noise_sd_of(i) == (in_a ? 0.05f : 0.0f));
    CHECK(pop.reaction_lag_of(i) == (in_a ? 3 : 0));
    CHECK(pop.outside[i] == 0);
  }
  CHECK(pop.initial_claim == pop.claim);
}

TEST_CASE("exact values: agent k of a class gets values[k mod n], in order, at any thread count") {
  Distribution thresholds;
  thresholds.kind = Distribution::Kind::kExact;
  thresholds.values = {0.0, 1.0, 2.0, 3.0, 4.0};
  Distribution balances = thresholds;
  balances.values = {10.0, 20.0};
  PopulationSpec spec;
  spec.agents = 30;  // 10 + 20: classes of 10 and 20 agents
  spec.classes = {investor_class("a", 1.0, balances, thresholds),
                  investor_class("b", 2.0, constant(1.0), thresholds)};
  spec.classes[1].attention = thresholds;  // clamped to [0, 1]: 0, 1, 1, 1, 1, ...
  for (const int threads : {1, 2}) {
    const Population pop = with_threads(spec, 5, threads);
    REQUIRE(pop.class_begin == std::vector<std::uint32_t>{0, 10, 30});
    for (std::uint32_t i = 0; i < 30; ++i) {
      const std::uint32_t k = i < 10 ? i : i - 10;
      CHECK(pop.threshold[i] == static_cast<double>(k % 5));
      CHECK(pop.claim[i] == (i < 10 ? (k % 2 == 0 ? 1000 : 2000) : 100));
      CHECK(pop.attention_of(i) == (i < 10 ? 1.0f : (k % 5 == 0 ? 0.0f : 1.0f)));
    }
  }
}

TEST_CASE("per-agent attributes are drawn in a fixed order from the class-attribute stream") {
  PopulationSpec spec;
  spec.agents = 200;
  InvestorClass c = investor_class("c", 1.0, lognormal(5, 1), normal(0.4, 0.1));
  c.attention = uniform(0.2, 0.9);
  c.withdraw_fraction = uniform(0.1, 1.0);
  c.noise_sd = uniform(0.0, 0.3);
  c.reaction_lag_ticks = uniform(0.0, 20.0);
  spec.classes = {c};
  const Population pop = create_population(spec, 17);
  for (std::uint32_t i = 0; i < spec.agents; ++i) {
    CounterRng rng(17, Stream::kClassAttributes, 0, i);
    CHECK(pop.attention[i] == static_cast<float>(c.attention.sample(i, rng)));
    CHECK(pop.withdraw_fraction[i] == static_cast<float>(c.withdraw_fraction.sample(i, rng)));
    CHECK(pop.noise_sd[i] == static_cast<float>(c.noise_sd.sample(i, rng)));
    CHECK(pop.reaction_lag[i] == std::llround(c.reaction_lag_ticks.sample(i, rng)));
  }
  // Attributes do not disturb balances and thresholds.
  PopulationSpec plain = spec;
  plain.classes[0] = investor_class("c", 1.0, lognormal(5, 1), normal(0.4, 0.1));
  const Population ref = create_population(plain, 17);
  CHECK(ref.claim == pop.claim);
  CHECK(ref.threshold == pop.threshold);
}

TEST_CASE("non-constant attributes are clamped to their ranges and follow their distributions") {
  PopulationSpec spec;
  spec.agents = 40000;
  InvestorClass c = investor_class("c", 1.0, lognormal(5, 1), normal(0.4, 0.1));
  c.attention = normal(0.5, 1.0);            // clamped to [0, 1]
  c.withdraw_fraction = uniform(-0.5, 1.5);  // clamped to [1e-6, 1]
  c.noise_sd = normal(0.0, 1.0);             // clamped at 0
  c.reaction_lag_ticks = normal(5.0, 2.0);   // rounded, >= 0
  spec.classes = {c};
  const Population pop = create_population(spec, 23);
  const double n = spec.agents;
  double lag_sum = 0, att_low = 0, omega_low = 0, noise_zero = 0;
  for (std::uint32_t i = 0; i < spec.agents; ++i) {
    REQUIRE(pop.attention[i] >= 0.0f);
    REQUIRE(pop.attention[i] <= 1.0f);
    REQUIRE(pop.withdraw_fraction[i] >= 1e-6f);
    REQUIRE(pop.withdraw_fraction[i] <= 1.0f);
    REQUIRE(pop.noise_sd[i] >= 0.0f);
    REQUIRE(pop.reaction_lag[i] >= 0);
    lag_sum += pop.reaction_lag[i];
    att_low += pop.attention[i] == 0.0f;
    omega_low += pop.withdraw_fraction[i] == 1e-6f;
    noise_zero += pop.noise_sd[i] == 0.0f;
  }
  const auto within = [n](double count, double p) {
    return std::abs(count / n - p) < 5 * std::sqrt(p * (1 - p) / n);
  };
  CHECK(within(att_low, 0.5 * std::erfc(0.5 / std::sqrt(2.0))));  // P(N(0.5,1) < 0)
  CHECK(within(omega_low, 0.25));
  CHECK(within(noise_zero, 0.5));
  // Rounding a N(5, 2) keeps the mean (P(< -0.5) is negligible), SD ~ 2.
  CHECK(std::abs(lag_sum / n - 5.0) < 5 * 2.03 / std::sqrt(n));
}

TEST_CASE("threshold-balance rank correlation: Spearman near (6/pi) asin(rho/2), marginals kept") {
  PopulationSpec spec;
  spec.agents = 20000;
  spec.classes = {investor_class("a", 1.0, lognormal(8, 1.5), normal(0.5, 0.15)),
                  investor_class("b", 1.0, lognormal(6, 1.0), normal(0.3, 0.1, 0.0, 1.0))};
  const Population base = create_population(spec, 31);
  for (const double rho : {0.6, -0.8, 1.0, -1.0, 0.2}) {
    CAPTURE(rho);
    PopulationSpec s = spec;
    s.classes[1].threshold_balance_rank_correlation = rho;
    const Population pop = create_population(s, 31);
    CHECK(pop.claim == base.claim);
    const std::uint32_t b = pop.class_begin[1];
    // Class a untouched, class b: the same thresholds as a multiset.
    CHECK(std::equal(pop.threshold.begin(), pop.threshold.begin() + b, base.threshold.begin()));
    std::vector<double> t(pop.threshold.begin() + b, pop.threshold.end());
    std::vector<double> t0(base.threshold.begin() + b, base.threshold.end());
    const std::vector<double> balance(pop.claim.begin() + b, pop.claim.end());
    const double rs = spearman(balance, t);
    std::sort(t.begin(), t.end());
    std::sort(t0.begin(), t0.end());
    CHECK(t == t0);
    const double expected = 6.0 / std::numbers::pi * std::asin(rho / 2.0);
    CHECK(std::abs(rs - expected) < 5.0 / std::sqrt(t.size() - 1.0));
  }
  // Uncorrelated draws (within a class) have Spearman ~ 0.
  const std::uint32_t b = base.class_begin[1];
  const std::vector<double> balance(base.claim.begin(), base.claim.begin() + b);
  const std::vector<double> theta(base.threshold.begin(), base.threshold.begin() + b);
  CHECK(std::abs(spearman(balance, theta)) < 5.0 / std::sqrt(b - 1.0));
}
