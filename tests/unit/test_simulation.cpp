// The tick loop: ledger, determinism across thread counts, mechanisms of the stress rule.
#include <doctest/doctest.h>
#include <tbb/global_control.h>

#include <cmath>
#include <vector>

#include "fixtures.hpp"
#include "sim/run.hpp"
#include "sim/simulation.hpp"

using namespace bankrun;
using namespace bankrun::testing;

namespace {
std::vector<TestTick> run_with_threads(const Scenario& s, int threads,
                                       std::vector<double>* stress = nullptr) {
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
  Simulation sim(s);
  Collect c;
  run(sim, c);
  if (stress) *stress = sim.population().stress;
  return c.ticks;
}

bool same_records(const std::vector<TestTick>& a, const std::vector<TestTick>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t k = 0; k < a.size(); ++k) {
    const TestTick &x = a[k], &y = b[k];
    if (x.deposits != y.deposits || x.paid != y.paid || x.requested != y.requested ||
        x.withdrawn_agents != y.withdrawn_agents || x.queue_value != y.queue_value ||
        x.stress_mean != y.stress_mean || x.flow_signal != y.flow_signal || x.halted != y.halted)
      return false;
  }
  return true;
}
}  // namespace

TEST_CASE("reference model: money is conserved every tick and the run cascades") {
  const auto ticks = run_with_threads(reference_scenario(20000), 2);
  REQUIRE(ticks.size() == 100);
  Money paid = 0;
  for (const auto& r : ticks) {
    paid += r.paid;
    CHECK(r.deposits + paid == ticks.front().deposits + ticks.front().paid);
    CHECK(r.queue_value == 0);  // unlimited hot reserves and payout
  }
  // Before the shock few agents withdraw; after it the cascade takes nearly everyone.
  CHECK(ticks[9].withdrawn_agents < 20000 / 10);
  CHECK(ticks.back().withdrawn_agents > 20000 * 95 / 100);
}

TEST_CASE("results are bit-identical for 1, 2 and 3 threads") {
  Scenario s = reference_scenario(30000, 7);
  s.network = {NetworkSpec::Kind::kErdosRenyi, 0, 6.0};
  s.stress.peer_lag_ticks = 2;
  s.stress.flow_window_ticks = 5;
  s.stress.carry = 0.3;
  s.news[0].reach = 0.7;
  s.institutions[0].hot_reserve_fraction = 0.4;
  s.institutions[0].max_payout_per_tick = usd_to_cents(5e6);
  s.institutions[0].halt.hot_ratio_below = 0.05;
  std::vector<double> st1, st2, st3;
  const auto one = run_with_threads(s, 1, &st1);
  CHECK(same_records(one, run_with_threads(s, 2, &st2)));
  CHECK(same_records(one, run_with_threads(s, 3, &st3)));
  CHECK(st1 == st2);
  CHECK(st1 == st3);
}

TEST_CASE("news reach: the share of agents reached matches reach x attention") {
  // One event, no other signal, thresholds just below the news value: exactly the
  // reached agents withdraw at the event tick. Binomial(n, p) count: 5 SE tolerance.
  Scenario s;
  s.name = "reach";
  s.time.ticks = 3;
  s.population.agents = 40000;
  s.population.classes = {investor_class("a", 1.0, constant(10), constant(0.5), 0.0, 0.8)};
  s.stress.news_weight = 1.0;
  NewsEvent e;
  e.tick = 1;
  e.magnitude = 0.6;
  e.reach = 0.5;
  s.news = {e};
  const auto ticks = run_with_threads(s, 2);
  CHECK(ticks[0].withdrawn_agents == 0);
  const double p = 0.4, n = 40000;
  CHECK(std::abs(ticks[1].withdrawn_agents - n * p) < 5 * std::sqrt(n * p * (1 - p)));
  CHECK(ticks[2].withdrawn_agents == ticks[1].withdrawn_agents);  // reach is drawn once
}

TEST_CASE("news decays exponentially and stops after its duration") {
  Scenario s;
  s.name = "decay";
  s.time.ticks = 8;
  s.population.agents = 10;
  s.population.classes = {investor_class("a", 1.0, constant(10), constant(100.0), 0.0, 1.0)};
  s.stress.news_weight = 1.0;
  NewsEvent e;
  e.tick = 2;
  e.magnitude = 1.0;
  e.decay_ticks = 2.0;
  e.duration_ticks = 3;
  s.news = {e};
  const auto ticks = run_with_threads(s, 1);
  CHECK(ticks[1].news_signal == 0.0);
  CHECK(ticks[2].news_signal == doctest::Approx(1.0));
  CHECK(ticks[3].news_signal == doctest::Approx(std::exp(-0.5)));
  CHECK(ticks[4].news_signal == doctest::Approx(std::exp(-1.0)));
  CHECK(ticks[5].news_signal == 0.0);
  CHECK(ticks[3].stress_mean == doctest::Approx(std::exp(-0.5)));
}

TEST_CASE("peers are seen with lag L, and the flow signal uses its window") {
  // Agent 0 withdraws at tick 0 (threshold below 0); agent 1 follows its only neighbour
  // once it sees it: at tick 1 + L.
  for (const int lag : {0, 3}) {
    Scenario s;
    s.name = "lag";
    s.time.ticks = 8;
    s.population.agents = 2;
    s.population.classes = {investor_class("leader", 1.0, constant(10), constant(-1.0), 0.0, 1.0),
                            investor_class("follower", 1.0, constant(10), constant(0.5), 0.0, 1.0)};
    s.network = {NetworkSpec::Kind::kKOut, 1, 0.0};  // with n = 2: each agent's one neighbour
    s.stress.peer_weight = 1.0;
    s.stress.peer_lag_ticks = lag;
    const auto ticks = run_with_threads(s, 1);
    CHECK(ticks[0].withdrawn_agents == 1);
    CHECK(ticks[lag].withdrawn_agents == 1);
    CHECK(ticks[lag + 1].withdrawn_agents == 2);
  }
}

TEST_CASE("flow signal: share of deposits paid out over the window") {
  Scenario s;
  s.name = "flow";
  s.time.ticks = 6;
  s.population.agents = 100;
  s.stress.flow_weight = 1.0;
  s.stress.flow_window_ticks = 2;
  // 10 "runners" (threshold below any stress) withdraw at tick 0 and are paid at once.
  s.population.classes = {investor_class("runner", 1.0, constant(1), constant(-1.0), 0.0, 1.0),
                          investor_class("stayer", 9.0, constant(1), constant(1000.0), 0.0, 1.0)};
  const auto ticks = run_with_threads(s, 1);
  CHECK(ticks[0].flow_signal == 0.0);
  CHECK(ticks[1].flow_signal == doctest::Approx(0.1));  // 10 of 100 paid at tick 0
  CHECK(ticks[2].flow_signal == doctest::Approx(0.1));
  CHECK(ticks[3].flow_signal == 0.0);  // the 2-tick window has moved past tick 0
  s.stress.flow_window_ticks = 0;      // since the start: G stays at 10%
  CHECK(run_with_threads(s, 1)[5].flow_signal == doctest::Approx(0.1));
}
