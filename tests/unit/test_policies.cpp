// Interventions with triggers (MODEL.md section 2): lender of last resort, proof of
// reserves, deposit insurance, per-account gates.
#include <doctest/doctest.h>

#include <vector>

#include "fixtures.hpp"
#include "sim/run.hpp"
#include "sim/simulation.hpp"

using namespace bankrun;
using namespace bankrun::testing;

namespace {

PolicySpec policy(PolicySpec::Kind kind, std::int32_t at_tick) {
  PolicySpec p;
  p.kind = kind;
  p.label = "test";
  p.trigger.at_tick = at_tick;
  return p;
}
}  // namespace

TEST_CASE("lender of last resort: the injection lets a stalled queue be paid") {
  Scenario s = news_only_scenario(10, 0.5, 1.0, 5);  // everyone asks for $100 at tick 0: $1000
  s.institutions[0].hot_reserve_fraction = 0.2;
  PolicySpec lolr = policy(PolicySpec::Kind::kLenderOfLastResort, kForever);
  lolr.trigger.hot_ratio_below = 0.01;  // hot runs out at tick 0: fires at tick 1
  lolr.injection = 50000;               // $500
  s.institutions[0].policies = {lolr};
  Simulation sim(s);
  Collect c;
  run(sim, c);
  CHECK(c.ticks[0].paid == 20000);
  CHECK(c.ticks[0].injections == 0);
  CHECK(c.ticks[1].injections == 50000);
  CHECK(c.ticks[1].paid == 50000);
  CHECK(sim.policy_fired_tick(0, 0) == 1);
  CHECK(c.ticks[4].queue_value == 30000);  // the rest stays unpaid
}

TEST_CASE("proof of reserves: a reassuring news event from the tick it fires") {
  Scenario s = news_only_scenario(1000, 0.5, 0.4, 6);  // stress 0.4 < 0.5: nobody runs
  PolicySpec por = policy(PolicySpec::Kind::kProofOfReserves, 3);
  por.news_magnitude = -0.3;
  s.institutions[0].policies = {por};
  Simulation sim(s);
  Collect c;
  run(sim, c);
  REQUIRE(sim.news_events().size() == 2);
  CHECK(sim.news_events()[1].tick == 3);
  CHECK(sim.scenario().news.size() == 1);  // the scenario stays as given
  CHECK(c.ticks[2].news_signal == doctest::Approx(0.4));
  CHECK(c.ticks[3].news_signal == doctest::Approx(0.1));
  CHECK(c.ticks[3].stress_mean == doctest::Approx(0.1));
}

TEST_CASE("deposit insurance: fully insured depositors with factor 0 feel no stress") {
  for (const double factor : {0.0, 1.0}) {
    Scenario s = news_only_scenario(100, 0.5, 1.0, 3);
    PolicySpec ins = policy(PolicySpec::Kind::kDepositInsurance, 0);
    ins.coverage = 5000;  // $50 of each $100 claim
    ins.insured_stress_factor = factor;
    s.institutions[0].policies = {ins};
    Simulation sim(s);
    Collect c;
    run(sim, c);
    // S = 1.0 * ((1 - 0.5) + factor * 0.5): 0.5 (not > 0.5: stay) or 1.0 (withdraw).
    CHECK(c.ticks[0].stress_mean == doctest::Approx(factor == 0.0 ? 0.5 : 1.0));
    CHECK(c.ticks[0].withdrawn_agents == (factor == 0.0 ? 0 : 100));
  }
}

TEST_CASE("deposit insurance covers each account an agent stands for") {
  // 100 agents of 4 accounts of $100 each: claims of $400; coverage $50 per account insures
  // half of each claim, as it does for agents of one $100 account.
  for (const double accounts : {1.0, 4.0}) {
    Scenario s = news_only_scenario(100, 0.5, 1.0, 3);
    s.population.classes[0].accounts_per_agent = accounts;
    PolicySpec ins = policy(PolicySpec::Kind::kDepositInsurance, 0);
    ins.coverage = 5000;
    s.institutions[0].policies = {ins};
    Simulation sim(s);
    CHECK(sim.population().claim[0] == static_cast<Money>(10000 * accounts));
    Collect c;
    run(sim, c);
    CHECK(c.ticks[0].stress_mean == doctest::Approx(0.5));  // 1.0 * (1 - 0.5)
    CHECK(c.ticks[0].withdrawn_agents == 0);
  }
}

TEST_CASE("gate: at most a share of the claim per request, one request a day") {
  Scenario s = news_only_scenario(10, 0.5, 1.0, 50);
  s.time.tick_hours = 1;  // a day is 24 ticks
  PolicySpec gate = policy(PolicySpec::Kind::kGate, 0);
  gate.gate_fraction = 0.1;
  s.institutions[0].policies = {gate};
  Simulation sim(s);
  Collect c;
  run(sim, c);
  CHECK(c.ticks[0].paid == 10 * 1000);  // 10% of $100 each
  for (int t = 1; t < 24; ++t) CHECK(c.ticks[t].paid == 0);
  CHECK(c.ticks[24].paid == 10 * 900);  // 10% of the remaining $90
  CHECK(c.ticks[48].paid == 10 * 810);
}
