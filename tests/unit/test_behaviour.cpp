// The investor behaviour of MODEL.md sections 3, 4 and 6 in the tick loop: hazard rule,
// partial withdrawals, reaction lags, re-deposits, queue and balance-weighted peer
// signals, the complete graph (Granovetter), stochastic news, per-class output, snapshots.
#include <doctest/doctest.h>
#include <tbb/global_control.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "fixtures.hpp"
#include "sim/run.hpp"
#include "sim/simulation.hpp"

using namespace bankrun;
using namespace bankrun::testing;

namespace {

Collect run_scenario(const Scenario& s, int threads = 2) {
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
  Simulation sim(s);
  Collect c;
  run(sim, c);
  return c;
}

double binomial_se(double n, double p) {
  return std::sqrt(n * p * (1 - p));
}

}  // namespace

TEST_CASE("hazard rule: withdrawal probability h0 Phi((S - theta) / T) per tick") {
  Scenario s = news_only_scenario(50000, 0.5, 0.6, 1);
  s.decision.rule = DecisionSpec::Rule::kHazard;
  s.decision.hazard_rate = 0.3;
  s.decision.temperature = 0.2;
  const auto c = run_scenario(s);
  const double p = 0.3 * 0.5 * std::erfc(-(0.1 / 0.2) / std::sqrt(2.0));
  CHECK(std::abs(c.ticks[0].withdrawn_agents - 50000 * p) < 5 * binomial_se(50000, p));
}

TEST_CASE("hazard rule with T near 0 and h0 = 1 is the threshold rule") {
  for (const double news : {0.49, 0.51}) {
    Scenario s = news_only_scenario(1000, 0.5, news, 2);
    s.decision.rule = DecisionSpec::Rule::kHazard;
    s.decision.hazard_rate = 1.0;
    s.decision.temperature = 1e-12;
    CHECK(run_scenario(s).ticks[0].withdrawn_agents == (news > 0.5 ? 1000 : 0));
  }
}

TEST_CASE("partial withdrawals ask for omega of the remaining claim each time") {
  Scenario s = news_only_scenario(10, 0.5, 1.0, 4);
  s.population.classes[0].withdraw_fraction = constant(0.5);
  const auto c = run_scenario(s, 1);
  // $100 = 10000 cents per agent: paid 5000, 2500, 1250, 625 (unlimited payout: the agent
  // is paid at once and asks again the next tick).
  const Money expected[] = {5000, 2500, 1250, 625};
  for (int t = 0; t < 4; ++t) CHECK(c.ticks[t].paid == 10 * expected[t]);
  CHECK(c.ticks[3].withdrawn_agents == 10);  // counted once, at the first decision
  CHECK(c.ticks[3].paid_agents == 0);        // nobody has emptied the account
}

TEST_CASE("reaction lag delays the request, not the decision") {
  Scenario s = news_only_scenario(100, 0.5, 1.0, 6);
  s.population.classes[0].reaction_lag_ticks = constant(3);
  const auto c = run_scenario(s);
  CHECK(c.ticks[0].withdrawn_agents == 100);
  for (int t = 0; t < 3; ++t) CHECK(c.ticks[t].requested == 0);
  CHECK(c.ticks[3].requested == 100 * 10000);
  CHECK(c.ticks[3].paid == 100 * 10000);
}

TEST_CASE("calm agents re-deposit, and money is conserved with inflows") {
  // A one-tick shock makes everyone withdraw at tick 0; from tick 1 stress is 0, below the
  // calm threshold, and every agent re-deposits all it holds outside.
  Scenario s = news_only_scenario(200, 0.5, 1.0, 4, 0, 1);
  auto& cls = s.population.classes[0];
  cls.calm_threshold = 0.1;
  cls.redeposit_rate = 1.0;
  cls.redeposit_fraction = 1.0;
  const auto c = run_scenario(s);
  CHECK(c.ticks[0].paid == 200 * 10000);
  CHECK(c.ticks[0].deposits == 0);
  CHECK(c.ticks[0].paid_agents == 200);
  CHECK(c.ticks[1].inflows == 200 * 10000);
  CHECK(c.ticks[1].deposits == 200 * 10000);
  CHECK(c.ticks[1].paid_agents == 0);
  CHECK(c.ticks[3].inflows == 0);  // nothing left outside
}

TEST_CASE("re-deposits of many agents, credited in parallel pieces, give the exact totals") {
  // As above with 20,000 agents: more re-depositors in a tick than one piece of the parallel
  // credit (sim/submit.cpp) takes, at 1 and 2 threads; the ledger is checked every tick.
  for (const int threads : {1, 2}) {
    CAPTURE(threads);
    Scenario s = news_only_scenario(20000, 0.5, 1.0, 4, 0, 1);
    auto& cls = s.population.classes[0];
    cls.calm_threshold = 0.1;
    cls.redeposit_rate = 1.0;
    cls.redeposit_fraction = 1.0;
    const auto c = run_scenario(s, threads);
    CHECK(c.ticks[0].paid == 20000 * 10000);
    CHECK(c.ticks[0].paid_agents == 20000);
    CHECK(c.ticks[1].inflows == 20000 * 10000);
    CHECK(c.ticks[1].deposits == 20000 * 10000);
    CHECK(c.ticks[1].paid_agents == 0);
    CHECK(c.ticks[3].inflows == 0);
  }
}

TEST_CASE("re-deposits happen at the configured rate") {
  Scenario s = news_only_scenario(40000, 0.5, 1.0, 2, 0, 1);
  auto& cls = s.population.classes[0];
  cls.calm_threshold = 0.1;
  cls.redeposit_rate = 0.25;
  cls.redeposit_fraction = 0.5;
  const auto c = run_scenario(s);
  const double agents = static_cast<double>(c.ticks[1].inflows) / 5000.0;  // half of 10000
  CHECK(std::abs(agents - 40000 * 0.25) < 5 * binomial_se(40000, 0.25));
}

TEST_CASE("queue signal: the oldest request's wait in days feeds stress") {
  // Payout of one agent's claim per tick: the queue waits; Q(t-1) = wait * hours / 24.
  Scenario s = news_only_scenario(10, 0.5, 1.0, 5, 0, 1);
  s.time.tick_hours = 6;
  s.institutions[0].max_payout_per_tick = 10000;
  s.stress.queue_weight = 1.0;
  const auto c = run_scenario(s, 1);
  CHECK(c.ticks[0].queue_signal == 0.0);
  for (int t = 1; t < 5; ++t) {
    CHECK(c.ticks[t].queue_signal == doctest::Approx(c.ticks[t - 1].oldest_wait_ticks * 0.25));
  }
  CHECK(c.ticks[3].oldest_wait_ticks == 3);
}

TEST_CASE("balance-weighted peers weight neighbours by their initial claims") {
  // Agent 0 (balance 1) withdraws at tick 0; agent 2 (balance 3) never; agent 1 watches
  // both (edge list, directed) and has threshold 0.3: counted share 1/2 > 0.3 withdraws,
  // weighted share 1/4 < 0.3 does not.
  for (const bool weighted : {false, true}) {
    Scenario s;
    s.name = "weighted";
    s.time.ticks = 3;
    s.population.agents = 3;
    s.population.classes = {investor_class("a", 1, constant(1), constant(-1)),
                            investor_class("b", 1, constant(1), constant(0.3)),
                            investor_class("c", 1, constant(3), constant(10))};
    s.network.kind = NetworkSpec::Kind::kEdgeList;
    s.network.directed = true;
    s.network.edges = {{1, 0}, {1, 2}};
    s.stress.peer_weight = 1.0;
    s.stress.peer_balance_weighted = weighted;
    CHECK(run_scenario(s, 1).ticks[2].withdrawn_agents == (weighted ? 1 : 2));
  }
}

TEST_CASE("Granovetter on the complete graph: thresholds 0,1,2,... riot; one change stops it") {
  // Agent k withdraws once at least k others have: theta_k = (k - 0.5) / (N - 1) with the
  // strict rule P > theta. Granovetter (1978): thresholds 0..N-1 give a full cascade;
  // raising the threshold-1 agent to 2 stops it after the first agent.
  const std::uint32_t n = 100;
  for (const bool perturbed : {false, true}) {
    Scenario s;
    s.name = "granovetter";
    s.time.ticks = n + 2;
    s.population.agents = n;
    for (std::uint32_t k = 0; k < n; ++k) {
      const double count = (perturbed && k == 1) ? 2.0 : static_cast<double>(k);
      s.population.classes.push_back(investor_class("k" + std::to_string(k), 1.0, constant(1),
                                                    constant((count - 0.5) / (n - 1.0))));
    }
    s.network.kind = NetworkSpec::Kind::kComplete;
    s.stress.peer_weight = 1.0;
    const auto c = run_scenario(s);
    CHECK(c.ticks.back().withdrawn_agents == (perturbed ? 1 : n));
    if (!perturbed) CHECK(c.ticks[n - 1].withdrawn_agents == n);  // one more each tick
  }
}

TEST_CASE("stochastic news: Poisson arrivals at the configured rate, deterministic in the seed") {
  Scenario s = news_only_scenario(10, 100.0, 0.0, 2000);
  s.news.clear();
  s.news_process.rate_per_tick = 0.05;
  s.news_process.magnitude = normal(0.2, 0.05);
  s.news_process.decay_ticks = 10;
  Simulation a(s), b(s);
  const auto& events = a.news_events();
  const double expected = 0.05 * 2000;
  CHECK(std::abs(static_cast<double>(events.size()) - expected) < 5 * std::sqrt(expected));
  REQUIRE(events.size() == b.news_events().size());
  CHECK(a.scenario().news.empty());  // drawn events are the run's, not the scenario's
  for (std::size_t j = 0; j < events.size(); ++j) {
    CHECK(events[j].tick == b.news_events()[j].tick);
    CHECK(events[j].magnitude == b.news_events()[j].magnitude);
    if (j > 0) CHECK(events[j - 1].tick <= events[j].tick);
  }
}

TEST_CASE("per-class series and stress quantiles") {
  // Stress = news 0.3 + Normal(0, 0.1) noise; thresholds high so nobody leaves.
  Scenario s = news_only_scenario(40000, 10.0, 0.3, 2);
  s.population.classes = {investor_class("calm", 3, constant(100), constant(10), 0.1),
                          investor_class("other", 1, constant(100), constant(10), 0.1)};
  s.output.stress_quantiles = {0.1, 0.5, 0.9};
  const auto c = run_scenario(s);
  REQUIRE(c.classes[0].size() == 2);
  CHECK(c.classes[0][0].acting_agents == 30000);
  CHECK(c.classes[0][1].acting_agents == 10000);
  CHECK(c.classes[0][0].stress_mean == doctest::Approx(0.3).epsilon(0.01));
  // Normal quantiles 0.3 -/+ 1.2816 * 0.1; SE of a sample quantile ~ sqrt(q(1-q)/n)/f(x).
  const double z = 1.2815516, f = std::exp(-z * z / 2) / std::sqrt(2 * M_PI) / 0.1;
  const double se = std::sqrt(0.1 * 0.9 / 30000) / f;
  CHECK(std::abs(c.quantiles[0][0] - (0.3 - z * 0.1)) < 5 * se);
  CHECK(std::abs(c.quantiles[0][1] - 0.3) < 5 * se);
  CHECK(std::abs(c.quantiles[0][2] - (0.3 + z * 0.1)) < 5 * se);
}

TEST_CASE("snapshots sample agents at the chosen ticks") {
  Scenario s = news_only_scenario(1000, 0.5, 1.0, 4, 2);
  s.output.snapshot_ticks = {1, 3};
  s.output.snapshot_agents = 10;
  const auto c = run_scenario(s);
  REQUIRE(c.snapshots.size() == 2);
  CHECK(c.snapshots[0].first == 1);
  CHECK(c.snapshots[1].first == 3);
  REQUIRE(c.snapshots[0].second.size() == 10);
  for (std::size_t k = 0; k < 10; ++k) {
    CHECK(c.snapshots[0].second[k].agent == k * 100);
    CHECK(c.snapshots[0].second[k].state == AgentState::kHolding);
    CHECK(c.snapshots[0].second[k].claim == 10000);
    CHECK(c.snapshots[1].second[k].state == AgentState::kLeft);  // paid in full at tick 2
    CHECK(c.snapshots[1].second[k].outside == 10000);
  }
}

TEST_CASE("every behaviour mechanism together is bit-identical for 1, 2 and 3 threads") {
  Scenario s = reference_scenario(30000, 9);
  auto& cls = s.population.classes[0];
  cls.withdraw_fraction = normal(0.6, 0.2, 0.1, 1.0);
  cls.reaction_lag_ticks = normal(1.0, 1.0, 0.0, 4.0);
  cls.attention = normal(0.7, 0.2, 0.0, 1.0);
  cls.noise_sd = normal(0.05, 0.02, 0.0, 1.0);
  cls.calm_threshold = 0.2;
  cls.redeposit_rate = 0.05;
  cls.redeposit_fraction = 0.5;
  s.population.classes.push_back(
      investor_class("whale", 0.1, lognormal(12, 1), normal(0.4, 0.1), 0.05, 1.0));
  s.population.classes[1].threshold_balance_rank_correlation = -0.5;
  s.network = {};
  s.network.kind = NetworkSpec::Kind::kErdosRenyi;
  s.network.mean_degree = 6;
  s.stress.peer_balance_weighted = true;
  s.stress.peer_lag_ticks = 1;
  s.stress.queue_weight = 0.2;
  s.stress.carry = 0.2;
  s.decision.rule = DecisionSpec::Rule::kHazard;
  s.decision.hazard_rate = 0.5;
  s.decision.temperature = 0.05;
  s.news_process.rate_per_tick = 0.1;
  s.news_process.magnitude = normal(0.1, 0.1);
  s.news_process.decay_ticks = 5;
  s.news[0].reach = 0.8;
  s.institutions[0].hot_reserve_fraction = 0.5;
  s.institutions[0].max_payout_per_tick = usd_to_cents(2e6);
  s.output.snapshot_ticks = {20, 60};
  const auto one = run_scenario(s, 1);
  for (const int threads : {2, 3}) {
    const auto other = run_scenario(s, threads);
    REQUIRE(other.ticks.size() == one.ticks.size());
    for (std::size_t t = 0; t < one.ticks.size(); ++t) {
      const TestTick &a = one.ticks[t], &b = other.ticks[t];
      CHECK(a.paid == b.paid);
      CHECK(a.inflows == b.inflows);
      CHECK(a.requested == b.requested);
      CHECK(a.withdrawn_agents == b.withdrawn_agents);
      CHECK(a.stress_mean == b.stress_mean);
      // Bitwise: a class with no acting agent has NaN quantiles.
      REQUIRE(one.quantiles[t].size() == other.quantiles[t].size());
      CHECK(std::memcmp(one.quantiles[t].data(), other.quantiles[t].data(),
                        one.quantiles[t].size() * sizeof(double)) == 0);
      for (std::size_t c = 0; c < 2; ++c) {
        CHECK(one.classes[t][c].withdrawn_value == other.classes[t][c].withdrawn_value);
        CHECK(one.classes[t][c].stress_mean == other.classes[t][c].stress_mean);
      }
    }
    for (std::size_t k = 0; k < one.snapshots.size(); ++k)
      for (std::size_t r = 0; r < one.snapshots[k].second.size(); ++r)
        CHECK(one.snapshots[k].second[r].stress == other.snapshots[k].second[r].stress);
  }
  // The run is not trivial: requests, payments and re-deposits all happen.
  Money inflows = 0;
  for (const auto& r : one.ticks) inflows += r.inflows;
  CHECK(inflows > 0);
  CHECK(one.ticks.back().withdrawn_agents > 1000);
}

TEST_CASE("Watts cascades: synchronous and asynchronous updates reach the same final set") {
  // Deterministic rule, beta_peer alone: activation only spreads and is never undone, so
  // the synchronous tick loop and a one-at-a-time (asynchronous) sweep in any order end in
  // the same set. The asynchronous sweep below uses the simulation's network (built again
  // from the same spec and seed: the simulation keeps only its transpose).
  for (const double z : {3.0, 5.0, 8.0}) {
    Scenario s;
    s.name = "watts";
    s.seed = 17;
    s.time.ticks = 300;
    s.population.agents = 5000;
    s.population.classes = {investor_class("seed", 0.004, constant(1), constant(-1.0)),
                            investor_class("rest", 0.996, constant(1), constant(0.18))};
    s.network.kind = NetworkSpec::Kind::kErdosRenyi;
    s.network.mean_degree = z;
    s.stress.peer_weight = 1.0;
    Simulation sim(s);
    Collect c;
    run(sim, c);
    const Population& pop = sim.population();
    const std::uint32_t n = pop.size();
    const Network network = build_network(s.network, n, s.seed, pop.class_begin);
    CHECK(network.degree_stats().edges == sim.network_stats().edges);

    std::vector<char> active(n, 0);
    bool changed = true;
    for (std::uint32_t sweep = 0; changed; ++sweep) {
      changed = false;
      // A different order each sweep: descending ids, then ascending.
      for (std::uint32_t k = 0; k < n; ++k) {
        const std::uint32_t i = sweep % 2 == 0 ? n - 1 - k : k;
        if (active[i]) continue;
        const auto nbrs = network.neighbours_of(i);
        std::uint32_t on = 0;
        for (const auto j : nbrs) on += active[j];
        const double p = nbrs.empty() ? 0.0 : static_cast<double>(on) / nbrs.size();
        if (p > pop.threshold[i]) {
          active[i] = 1;
          changed = true;
        }
      }
    }
    std::int64_t differing = 0, total = 0;
    for (std::uint32_t i = 0; i < n; ++i) {
      const bool sync = pop.decided_at[i] != kNever;
      differing += sync != static_cast<bool>(active[i]);
      total += sync;
    }
    CHECK(differing == 0);
    CHECK(total == c.ticks.back().withdrawn_agents);
    if (z == 3.0) CHECK(total > n / 2);  // inside the cascade window: a global cascade
  }
}
