// The loader on stress, decision, news_process and output, and --set overrides and the round
// trip of their keys.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "loader_fixtures.hpp"
#include "scenarios/loader.hpp"
#include "scenarios/yaml_reader.hpp"

using namespace bankrun;
using namespace bankrun::loader_test;
namespace yr = bankrun::yaml_reader;

// ---- stress, decision, news_process, output -----------------------------------------------------

TEST_CASE("loader: new stress keys") {
  const StressSpec s =
      load(kMinimal +
           "stress: {peer_balance_weighted: true, queue_weight: 0.5, price_weight: -1}\n")
          .scenario.stress;
  CHECK(s.peer_balance_weighted);
  CHECK(s.queue_weight == 0.5);
  CHECK(s.price_weight == -1.0);
  CHECK(contains(error_of(kMinimal + "stress: {peer_balance_weighted: 1}\n"),
                 "stress.peer_balance_weighted: expected true or false, got 1"));
  CHECK(contains(error_of(kMinimal + "stress: {queue_weight: .inf}\n"),
                 "stress.queue_weight: expected a finite number"));
  CHECK(
      contains(error_of(kMinimal + "stress: {price_wieght: 1}\n"), "did you mean 'price_weight'?"));
}

TEST_CASE("loader: decision rule") {
  const DecisionSpec h =
      load(kMinimal + "decision: {rule: hazard, hazard_rate: 0.2, temperature: 0.05}\n")
          .scenario.decision;
  CHECK(h.rule == DecisionSpec::Rule::kHazard);
  CHECK(h.hazard_rate == 0.2);
  CHECK(h.temperature == 0.05);
  const DecisionSpec hd = load(kMinimal + "decision: {rule: hazard}\n").scenario.decision;
  CHECK(hd.hazard_rate == 1.0);
  CHECK(hd.temperature == 0.1);
  CHECK(load(kMinimal + "decision: {rule: threshold}\n").scenario.decision.rule ==
        DecisionSpec::Rule::kThreshold);
  CHECK(load(kMinimal + "decision: {}\n").scenario.decision.rule == DecisionSpec::Rule::kThreshold);
  CHECK(contains(error_of(kMinimal + "decision: {rule: threshold, temperature: 0.1}\n"),
                 "decision.temperature: unknown key 'temperature' in decision (rule: threshold) "
                 "('temperature' is only valid with rule: hazard)"));
  CHECK(contains(error_of(kMinimal + "decision: {hazard_rate: 0.5}\n"),
                 "('hazard_rate' is only valid with rule: hazard)"));
  CHECK(contains(error_of(kMinimal + "decision: {rule: hazard, hazard_rate: 0}\n"),
                 "decision.hazard_rate: expected a number in (0, 1], got 0"));
  CHECK(contains(error_of(kMinimal + "decision: {rule: hazard, temperature: 0}\n"),
                 "decision.temperature: expected a number > 0, got 0"));
  CHECK(contains(error_of(kMinimal + "decision: {rule: hazzard}\n"),
                 "decision.rule: expected one of threshold, hazard, got 'hazzard'; did you mean "
                 "'hazard'?"));
  CHECK(contains(error_of(kMinimal + "decision: {rule: hazard, temprature: 1}\n"),
                 "did you mean 'temperature'?"));
}

TEST_CASE("loader: peer measure and the threshold rule's comparison") {
  const Scenario s = load(kMinimal +
                          "stress: {peer_weight: 1, peer_measure: count}\n"
                          "decision: {comparison: at_least}\n")
                         .scenario;
  CHECK(s.stress.peer_measure == StressSpec::PeerMeasure::kCount);
  CHECK(s.decision.comparison == DecisionSpec::Comparison::kAtLeast);
  const Scenario d = load(kMinimal).scenario;  // the defaults
  CHECK(d.stress.peer_measure == StressSpec::PeerMeasure::kShare);
  CHECK(d.decision.comparison == DecisionSpec::Comparison::kGreater);
  CHECK(contains(error_of(kMinimal + "stress: {peer_measure: number}\n"),
                 "stress.peer_measure: expected one of share, count, got 'number'"));
  CHECK(
      contains(error_of(kMinimal + "stress: {peer_balance_weighted: true, peer_measure: count}\n"),
               "stress.peer_measure: peer_measure: count counts neighbours; it cannot be "
               "balance-weighted"));
  CHECK(contains(error_of(kMinimal + "decision: {comparison: at_most}\n"),
                 "decision.comparison: expected one of greater, at_least, got 'at_most'"));
  CHECK(contains(error_of(kMinimal + "decision: {rule: hazard, comparison: at_least}\n"),
                 "('comparison' is only valid with rule: threshold)"));
}

TEST_CASE("loader: news_process") {
  const NewsProcessSpec p = load(kMinimal +
                                 "news_process:\n"
                                 "  rate_per_tick: 0.05\n"
                                 "  magnitude: {dist: normal, mean: 0.1, sd: 0.05}\n"
                                 "  decay_ticks: 12\n"
                                 "  duration_ticks: 48\n"
                                 "  reach: 0.3\n"
                                 "  start_tick: 2\n"
                                 "  end_tick: 8\n")
                                .scenario.news_process;
  CHECK(p.rate_per_tick == 0.05);
  CHECK(p.magnitude.kind == Distribution::Kind::kNormal);
  CHECK(p.magnitude.mean == 0.1);
  CHECK(p.decay_ticks == 12.0);
  CHECK(p.duration_ticks == 48);
  CHECK(p.reach == 0.3);
  CHECK(p.start_tick == 2);
  CHECK(p.end_tick == 8);
  const NewsProcessSpec d =
      load(kMinimal + "news_process: {rate_per_tick: 1, magnitude: 0.2}\n").scenario.news_process;
  CHECK(d.magnitude.value == 0.2);
  CHECK(d.decay_ticks == std::numeric_limits<double>::infinity());
  CHECK(d.duration_ticks == kForever);
  CHECK(d.reach == 1.0);
  CHECK(d.start_tick == 0);
  CHECK(d.end_tick == kForever);
  // Timestamps (ticks of one hour from 2022-01-01).
  const NewsProcessSpec t = load(kMinimal +
                                 "news_process: {rate_per_tick: 1, magnitude: 1, "
                                 "start: 2022-01-01T02:30Z, end: 2022-01-01T05:00Z}\n")
                                .scenario.news_process;
  CHECK(t.start_tick == 2);
  CHECK(t.end_tick == 5);

  const std::string base = kMinimal + "news_process: {rate_per_tick: 1, magnitude: 1, ";
  CHECK(contains(error_of(kMinimal + "news_process: {magnitude: 1}\n"),
                 "news_process.rate_per_tick: missing required key 'rate_per_tick'"));
  CHECK(contains(error_of(kMinimal + "news_process: {rate_per_tick: 1}\n"),
                 "news_process.magnitude: missing required key 'magnitude'"));
  CHECK(contains(error_of(kMinimal + "news_process: {rate_per_tick: -1, magnitude: 1}\n"),
                 "news_process.rate_per_tick: expected a number >= 0, got -1"));
  CHECK(contains(error_of(base + "decay_ticks: 0}\n"),
                 "news_process.decay_ticks: expected a number > 0, got 0"));
  CHECK(contains(error_of(base + "duration_ticks: 0}\n"),
                 "news_process.duration_ticks: expected an integer in 1 .. 2147483647, got 0"));
  CHECK(
      contains(error_of(base + "reach: 2}\n"), "news_process.reach: expected a number in [0, 1]"));
  CHECK(contains(error_of(base + "start_tick: 1, start: 2022-01-02}\n"),
                 "news_process.start: give either 'start_tick' or 'start', not both"));
  CHECK(contains(error_of(base + "end_tick: 9, end: 2022-01-02}\n"),
                 "news_process.end: give either 'end_tick' or 'end', not both"));
  CHECK(contains(error_of(base + "start_tick: 5, end_tick: 5}\n"),
                 "news_process.end_tick: expected end_tick > start_tick (5), got 5"));
  CHECK(contains(error_of(base + "start_tick: 3, end: 2022-01-01T03:59Z}\n"),
                 "news_process.end: expected a time after the start of the process (tick 3), got "
                 "'2022-01-01T03:59Z', which falls in tick 3"));
  CHECK(contains(error_of(base + "start: 2021-01-01}\n"),
                 "news_process.start: expected a time not before time.start"));
  CHECK(contains(error_of(base + "rate: 1}\n"), "unknown key 'rate' in news_process"));
  CHECK(contains(error_of(base + "magnitude: {dist: normal, mean: 0}}\n"),
                 "duplicate key 'magnitude'"));
  CHECK(contains(error_of(kMinimal + "news_process: {rate_per_tick: 1, magnitude: {dist: beta}}\n"),
                 "news_process.magnitude.alpha: missing required key 'alpha'"));
}

TEST_CASE("loader: output options") {
  const OutputSpec o = load(kMinimal +
                            "output: {stress_quantiles: [0, 0.25, 1], snapshot_ticks: [0, 4, 9], "
                            "snapshot_agents: 50}\n")
                           .scenario.output;
  CHECK(o.stress_quantiles == std::vector<double>{0.0, 0.25, 1.0});
  CHECK(o.snapshot_ticks == std::vector<std::int32_t>{0, 4, 9});
  CHECK(o.snapshot_agents == 50);
  CHECK(
      load(kMinimal + "output: {stress_quantiles: []}\n").scenario.output.stress_quantiles.empty());
  const OutputSpec at =
      load(kMinimal + "output: {snapshot_at: [2022-01-01, 2022-01-01T03:30Z]}\n").scenario.output;
  CHECK(at.snapshot_ticks == std::vector<std::int32_t>{0, 3});
  CHECK(load(replace(kMinimal, "agents: 100", "agents: 5000")).scenario.output.snapshot_agents ==
        1000);

  CHECK(contains(error_of(kMinimal + "output: {stress_quantiles: [0.1, 0.5, 0.5]}\n"),
                 "test.yaml:12:39: output.stress_quantiles[2]: expected strictly increasing "
                 "quantiles: 0.5 is not greater than the previous one (0.5)"));
  CHECK(contains(error_of(kMinimal + "output: {stress_quantiles: [0.9, 0.1]}\n"),
                 "output.stress_quantiles[1]: expected strictly increasing quantiles"));
  CHECK(contains(error_of(kMinimal + "output: {stress_quantiles: [1.5]}\n"),
                 "output.stress_quantiles[0]: expected a number in [0, 1], got 1.5"));
  std::string many = "[";
  for (int i = 1; i <= 17; ++i) many += (i > 1 ? ", " : "") + std::to_string(i * 0.05);
  CHECK(contains(error_of(kMinimal + "output: {stress_quantiles: " + many + "]}\n"),
                 "output.stress_quantiles: expected at most 16 quantiles, got 17"));
  CHECK(contains(error_of(kMinimal + "output: {snapshot_ticks: [0, 10]}\n"),
                 "output.snapshot_ticks[1]: expected an integer in 0 .. 9, got 10"));
  CHECK(contains(error_of(kMinimal + "output: {snapshot_ticks: [-1]}\n"),
                 "output.snapshot_ticks[0]: expected an integer in 0 .. 9, got -1"));
  CHECK(contains(error_of(kMinimal + "output: {snapshot_ticks: [3, 3]}\n"),
                 "output.snapshot_ticks[1]: expected strictly increasing ticks: 3 is not greater "
                 "than the previous one (3)"));
  CHECK(contains(error_of(kMinimal + "output: {snapshot_at: [2022-01-01T10:00Z]}\n"),
                 "output.snapshot_at[0]: the time '2022-01-01T10:00Z' falls in tick 10, after the "
                 "last tick (time.ticks = 10)"));
  CHECK(contains(
      error_of(kMinimal + "output: {snapshot_at: [2022-01-01T01:10Z, 2022-01-01T01:50Z]}\n"),
      "output.snapshot_at[1]: expected strictly increasing times in distinct ticks"));
  CHECK(contains(error_of(kMinimal + "output: {snapshot_at: [2022-01-01], snapshot_ticks: [1]}\n"),
                 "output.snapshot_at: give either 'snapshot_ticks' or 'snapshot_at', not both"));
  CHECK(contains(error_of(kMinimal + "output: {snapshot_agents: 101}\n"),
                 "output.snapshot_agents: expected an integer in 1 .. 100, got 101"));
  CHECK(contains(error_of(kMinimal + "output: {snapshot_agents: 0}\n"),
                 "output.snapshot_agents: expected an integer in 1 .. 100, got 0"));
  CHECK(contains(error_of(kMinimal + "output: {snapshot_tick: [1]}\n"),
                 "did you mean 'snapshot_ticks'?"));
  CHECK(contains(error_of(kMinimal + "output: {snapshot_ticks: 3}\n"),
                 "output.snapshot_ticks: expected a list, got 3"));
}

// ---- overrides and round trip of the new keys ---------------------------------------------------

TEST_CASE("loader: --set overrides of the new keys") {
  const Scenario s =
      load(kMinimal,
           {"population.classes[0].withdraw_fraction=0.5",
            "population.classes[0].noise_sd={dist: uniform, low: 0, high: 1}",
            "population.classes[0].redeposit_rate=0.2",
            "population.classes[0].threshold={dist: pareto, scale: 1, shape: 3}",
            "network={type: watts_strogatz}", "network.k=6", "stress.peer_balance_weighted=true",
            "stress.queue_weight=2", "decision.rule=hazard", "decision.temperature=0.5",
            "news_process={rate_per_tick: 0.1, magnitude: 1}", "news_process.end_tick=7",
            "output.snapshot_ticks=[1, 2]", "output.stress_quantiles=[0.5]",
            "output.snapshot_agents=10"})
          .scenario;
  const InvestorClass& c = s.population.classes[0];
  CHECK(c.withdraw_fraction.value == 0.5);
  CHECK(c.noise_sd.kind == Distribution::Kind::kUniform);
  CHECK(c.redeposit_rate == 0.2);
  CHECK(c.threshold.kind == Distribution::Kind::kPareto);
  CHECK(s.network.kind == NetworkSpec::Kind::kWattsStrogatz);
  CHECK(s.network.k == 6);
  CHECK(s.stress.peer_balance_weighted);
  CHECK(s.stress.queue_weight == 2.0);
  CHECK(s.decision.rule == DecisionSpec::Rule::kHazard);
  CHECK(s.decision.temperature == 0.5);
  CHECK(s.news_process.rate_per_tick == 0.1);
  CHECK(s.news_process.end_tick == 7);
  CHECK(s.output.snapshot_ticks == std::vector<std::int32_t>{1, 2});
  CHECK(s.output.stress_quantiles == std::vector<double>{0.5});
  CHECK(s.output.snapshot_agents == 10);
  // Errors in overridden values name the override.
  CHECK(contains(error_of(kMinimal, {"decision.temperature=1"}),
                 "--set decision.temperature=1: decision.temperature: unknown key 'temperature' "
                 "in decision (rule: threshold)"));
  CHECK(error_of(kMinimal, {"output.snapshot_ticks=[5, 20]"}) ==
        "--set output.snapshot_ticks=[5, 20]: output.snapshot_ticks[1]: expected an integer in 0 "
        ".. 9, got 20");
  CHECK(contains(error_of(kMinimal, {"population.classes.0.withdraw_fraction=0"}),
                 "--set population.classes.0.withdraw_fraction=0: "
                 "population.classes[0].withdraw_fraction: expected a number in (0, 1], got 0"));
}

TEST_CASE("loader: resolved_yaml round trip with the new keys") {
  const std::string yaml = replace(kFull, "network:\n  type: k_out\n  k: 7\n",
                                   "network:\n  type: stochastic_block\n"
                                   "  block_probability: [[0.1, 0.2], [0.2, 0.05]]\n") +
                           "decision: {rule: hazard, hazard_rate: 0.3}\n"
                           "news_process:\n  rate_per_tick: 0.02\n"
                           "  magnitude: {dist: empirical, values: [0.1, 0.2, -0.3]}\n"
                           "  start: 2022-11-07\n  end_tick: 500\n"
                           "output: {stress_quantiles: [0.05, 0.95], snapshot_at: [2022-11-07]}\n";
  const LoadedScenario first =
      load(yaml, {"population.classes[0].attention={dist: beta, alpha: 2, beta: 3, low: 0.1}",
                  "population.classes[1].reaction_lag_ticks=4",
                  "population.classes[1].threshold_balance_rank_correlation=-0.7",
                  "stress.price_weight=0.5"});
  const LoadedScenario again = load_scenario_text(first.resolved_yaml, "resolved.yaml");
  check_same(first.scenario, again.scenario);
  CHECK(again.resolved_yaml == first.resolved_yaml);
  CHECK(first.scenario.population.classes[0].attention.low == 0.1);
  CHECK(first.scenario.output.snapshot_ticks == std::vector<std::int32_t>{23});
  CHECK(first.scenario.news_process.start_tick == 23);
}

TEST_CASE("loader: resolved_yaml of file-based data records absolute paths") {
  const TempDir dir;
  dir.write("data/theta.csv", "theta\n0.2\n0.4\n0.9\n");
  dir.write("data/edges.csv", "0,1\n1,2\n2,2\n");
  const std::string path =
      dir.write("scenarios/s.yaml",
                replace(kMinimal, "threshold: 0.5",
                        "threshold: {dist: empirical, file: ../data/theta.csv, column: theta}") +
                    "network: {type: edge_list, file: ../data/edges.csv, self_loops: drop}\n");
  const LoadedScenario first = load_scenario_file(path);
  CHECK(first.scenario.population.classes[0].threshold.values ==
        std::vector<double>{0.2, 0.4, 0.9});
  CHECK(first.scenario.network.edges.size() == 2);
  const std::string theta = (dir.path() / "data/theta.csv").lexically_normal().string();
  const std::string edges = (dir.path() / "data/edges.csv").lexically_normal().string();
  CHECK(contains(first.resolved_yaml, theta));
  CHECK(contains(first.resolved_yaml, edges));
  CHECK_FALSE(contains(first.resolved_yaml, "../data"));
  // Loaded as text (relative to the current directory, which is elsewhere) ...
  const LoadedScenario text = load_scenario_text(first.resolved_yaml, "resolved.yaml");
  check_same(first.scenario, text.scenario);
  CHECK(text.resolved_yaml == first.resolved_yaml);
  // ... or as a file stored in another directory: the same scenario.
  const std::string stored = dir.write("out/run/resolved.yaml", first.resolved_yaml);
  check_same(first.scenario, load_scenario_file(stored).scenario);
  // Overrides of file keys resolve against the scenario's directory too.
  dir.write("scenarios/edges2.txt", "3 4\n");
  const LoadedScenario overridden = load_scenario_file(path, {"network.file=edges2.txt"});
  CHECK(overridden.scenario.network.edges ==
        std::vector<std::pair<std::uint32_t, std::uint32_t>>{{3, 4}});
  CHECK(contains(overridden.resolved_yaml,
                 (dir.path() / "scenarios/edges2.txt").lexically_normal().string()));
}
