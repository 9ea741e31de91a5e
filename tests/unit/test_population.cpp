// Population set-up: class counts, distributions, rescaling, determinism.
#include <doctest/doctest.h>
#include <tbb/global_control.h>

#include <cmath>
#include <numeric>

#include "agents/population.hpp"
#include "fixtures.hpp"

using namespace bankrun;
using namespace bankrun::testing;


TEST_CASE("class counts are exact by largest remainder") {
  PopulationSpec spec;
  spec.agents = 10;
  spec.classes = {{"a", 1.0, {}, {}, 0, 1}, {"b", 1.0, {}, {}, 0, 1}, {"c", 1.0, {}, {}, 0, 1}};
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
  InvestorClass cls{"retail", 1.0, lognormal(8.0, 1.5), normal(0.5, 0.15), 0.05, 1.0};
  spec.classes = {cls};
  const Population pop = create_population(spec, 3);
  const double n = spec.agents;
  double sum = 0, sq = 0, log_sum = 0, log_sq = 0;
  for (std::uint32_t i = 0; i < spec.agents; ++i) {
    sum += pop.threshold[i];
    sq += pop.threshold[i] * pop.threshold[i];
    const double l = std::log(static_cast<double>(pop.claim[i]) / 100.0);
    log_sum += l;
    log_sq += l * l;
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
  spec.classes = {{"x", 1.0, normal(0.0, 100.0), theta, 0.0, 1.0}};
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
  spec.classes = {{"a", 2.0, lognormal(5, 1), normal(0.4, 0.1), 0, 1},
                  {"b", 1.0, lognormal(9, 2), normal(0.6, 0.1), 0, 1}};
  spec.total_balance_usd = 5e7;
  Population one, two;
  {
    tbb::global_control c(tbb::global_control::max_allowed_parallelism, 1);
    one = create_population(spec, 5);
  }
  {
    tbb::global_control c(tbb::global_control::max_allowed_parallelism, 2);
    two = create_population(spec, 5);
  }
  CHECK(one.claim == two.claim);
  CHECK(one.threshold == two.threshold);
  CHECK(one.class_id == two.class_id);
}
