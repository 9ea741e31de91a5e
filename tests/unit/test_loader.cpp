// The YAML scenario loader: a full scenario's values, defaults, every class of error (with
// its position and key path), --set overrides and the resolved YAML round trip. The
// sections have their own files (test_loader_*.cpp); the reader's helpers are tested in
// test_yaml_reader.cpp.
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

// ---- valid scenarios ----------------------------------------------------------------------

TEST_CASE("loader: a full scenario parses to the expected values") {
  const LoadedScenario loaded = load(kFull);
  const Scenario& s = loaded.scenario;
  CHECK(loaded.source == "test.yaml");
  CHECK(s.name == "full");
  CHECK(s.description == "A full scenario");
  CHECK(s.seed == 42);
  CHECK(s.time.ticks == 1000);
  CHECK(s.time.tick_hours == 0.5);
  CHECK(s.time.start_unix_seconds == 1667737800);  // 2022-11-06T12:30:00Z
  CHECK(s.time.start_utc == "2022-11-06T12:30:00Z");

  CHECK(s.population.agents == 1000);
  REQUIRE(s.population.total_balance_usd.has_value());
  CHECK(*s.population.total_balance_usd == 1.6e10);
  REQUIRE(s.population.classes.size() == 2);
  const InvestorClass& retail = s.population.classes[0];
  CHECK(retail.name == "retail");
  CHECK(retail.share == 3.0);
  CHECK(retail.balance_usd.kind == Distribution::Kind::kLognormal);
  CHECK(retail.balance_usd.mu == 8.0);
  CHECK(retail.balance_usd.sigma == 1.5);
  CHECK(retail.threshold.kind == Distribution::Kind::kNormal);
  CHECK(retail.threshold.mean == 0.6);
  CHECK(retail.threshold.sd == 0.1);
  CHECK(retail.threshold.clip_min == 0.0);
  CHECK(retail.threshold.clip_max == 1.0);
  CHECK(retail.noise_sd.kind == Distribution::Kind::kConstant);
  CHECK(retail.noise_sd.value == 0.05);
  CHECK(retail.attention.value == 0.7);
  const InvestorClass& whale = s.population.classes[1];
  CHECK(whale.name == "whale.1");
  CHECK(whale.share == 1.0);
  CHECK(whale.balance_usd.kind == Distribution::Kind::kUniform);
  CHECK(whale.balance_usd.low == 1e5);
  CHECK(whale.balance_usd.high == 1e6);
  CHECK(whale.threshold.kind == Distribution::Kind::kConstant);
  CHECK(whale.threshold.value == 0.4);

  CHECK(s.network.kind == NetworkSpec::Kind::kKOut);
  CHECK(s.network.k == 7);
  CHECK(s.stress.news_weight == 1.0);
  CHECK(s.stress.peer_weight == -0.5);
  CHECK(s.stress.flow_weight == 2.0);
  CHECK(s.stress.carry == 0.25);
  CHECK(s.stress.peer_lag_ticks == 2);
  CHECK(s.stress.flow_window_ticks == 24);

  CHECK(s.institutions[0].name == "ftx");
  CHECK(s.institutions[0].hot_reserve_fraction == 0.42);
  CHECK(s.institutions[0].max_payout_per_tick == 20'000'000'000);  // cents
  CHECK(s.institutions[0].halt.at_tick == 71);  // 35.5 h after the start, in 0.5 h ticks
  CHECK(s.institutions[0].halt.withdrawn_fraction_at_least == 0.5);
  CHECK(s.institutions[0].halt.hot_ratio_below == 0.08);
  CHECK(s.institutions[0].halt.any());
}

TEST_CASE("loader: news are sorted by tick (stable) and 'at' is converted to a tick") {
  const Scenario s = load(kFull).scenario;
  REQUIRE(s.news.size() == 3);
  CHECK(s.news[0].label == "news 1");  // default label: its index in the file
  CHECK(s.news[0].tick == 23);         // 11.5 h after the start, in 0.5 h ticks
  CHECK(s.news[0].magnitude == -0.1);
  CHECK(s.news[0].decay_ticks == std::numeric_limits<double>::infinity());
  CHECK(s.news[0].duration_ticks == kForever);
  CHECK(s.news[0].reach == 1.0);
  CHECK(s.news[1].label == "late");
  CHECK(s.news[1].tick == 50);
  CHECK(s.news[1].decay_ticks == 12.0);
  CHECK(s.news[1].duration_ticks == 100);
  CHECK(s.news[1].reach == 0.5);
  CHECK(s.news[2].label == "same tick as late, listed later");
  CHECK(s.news[2].tick == 50);
}

TEST_CASE("loader: 'at' inside a tick rounds down; at the start gives tick 0") {
  const std::string yaml = kMinimal +
                           "news:\n  - {at: 2022-01-01, magnitude: 1}\n"
                           "  - {at: 2022-01-01T02:59:59Z, magnitude: 1}\n"
                           "  - {at: 2022-01-01T03:00Z, magnitude: 1}\n";
  const Scenario s = load(yaml).scenario;
  REQUIRE(s.news.size() == 3);
  CHECK(s.news[0].tick == 0);
  CHECK(s.news[1].tick == 2);
  CHECK(s.news[2].tick == 3);
}

TEST_CASE("loader: defaults") {
  const Scenario s = load(kMinimal).scenario;
  CHECK(s.name == "minimal");
  CHECK(s.description.empty());
  CHECK(s.seed == 1);
  CHECK(s.time.ticks == 10);
  CHECK(s.time.tick_hours == 1.0);
  CHECK(s.time.start_utc == "2022-01-01T00:00:00Z");
  CHECK(s.time.start_unix_seconds == 1640995200);
  CHECK(s.population.agents == 100);
  CHECK_FALSE(s.population.total_balance_usd.has_value());
  REQUIRE(s.population.classes.size() == 1);
  const InvestorClass& c = s.population.classes[0];
  CHECK(c.share == 1.0);
  CHECK(c.balance_usd.kind == Distribution::Kind::kConstant);
  CHECK(c.balance_usd.value == 1000.0);
  CHECK(c.threshold.value == 0.5);
  CHECK(c.threshold.clip_min == -std::numeric_limits<double>::infinity());
  CHECK(c.noise_sd.kind == Distribution::Kind::kConstant);
  CHECK(c.noise_sd.value == 0.0);
  CHECK(c.attention.kind == Distribution::Kind::kConstant);
  CHECK(c.attention.value == 1.0);
  CHECK(c.withdraw_fraction.kind == Distribution::Kind::kConstant);
  CHECK(c.withdraw_fraction.value == 1.0);
  CHECK(c.reaction_lag_ticks.kind == Distribution::Kind::kConstant);
  CHECK(c.reaction_lag_ticks.value == 0.0);
  CHECK(c.threshold_balance_rank_correlation == 0.0);
  CHECK(c.calm_threshold == 0.0);
  CHECK(c.redeposit_rate == 0.0);
  CHECK(c.redeposit_fraction == 1.0);
  CHECK(s.network.kind == NetworkSpec::Kind::kNone);
  CHECK(s.stress.news_weight == 0.0);
  CHECK(s.stress.peer_weight == 0.0);
  CHECK(s.stress.flow_weight == 0.0);
  CHECK(s.stress.carry == 0.0);
  CHECK(s.stress.peer_lag_ticks == 0);
  CHECK(s.stress.flow_window_ticks == 0);
  CHECK_FALSE(s.stress.peer_balance_weighted);
  CHECK(s.stress.queue_weight == 0.0);
  CHECK(s.stress.price_weight == 0.0);
  CHECK(s.news.empty());
  CHECK(s.news_process.rate_per_tick == 0.0);
  CHECK(s.news_process.end_tick == kForever);
  CHECK(s.decision.rule == DecisionSpec::Rule::kThreshold);
  CHECK(s.output.stress_quantiles == std::vector<double>{0.1, 0.5, 0.9});
  CHECK(s.output.snapshot_ticks.empty());
  CHECK(s.output.snapshot_agents == 100);  // min(1000, agents)
  CHECK(s.institutions[0].name == "bank");
  CHECK(s.institutions[0].hot_reserve_fraction == 1.0);
  CHECK(s.institutions[0].max_payout_per_tick == std::numeric_limits<Money>::max());
  CHECK_FALSE(s.institutions[0].halt.any());
  CHECK_FALSE(s.institutions[0].halt.when_insolvent);
  CHECK(s.institutions[0].cold_reserve_fraction == 0.0);
  CHECK(s.institutions[0].illiquid_fraction == 0.0);
  CHECK(s.institutions[0].cold_to_hot_per_tick == std::numeric_limits<Money>::max());
  CHECK(s.institutions[0].cold_delay_ticks == 0);
  CHECK(s.institutions[0].policies.empty());
}

TEST_CASE("loader: network defaults per type") {
  const Scenario k = load(kMinimal + "network: {type: k_out}\n").scenario;
  CHECK(k.network.kind == NetworkSpec::Kind::kKOut);
  CHECK(k.network.k == 10);
  const Scenario er = load(kMinimal + "network: {type: erdos_renyi, mean_degree: 4.5}\n").scenario;
  CHECK(er.network.kind == NetworkSpec::Kind::kErdosRenyi);
  CHECK(er.network.mean_degree == 4.5);
  CHECK(load(kMinimal + "network: {}\n").scenario.network.kind == NetworkSpec::Kind::kNone);
}

TEST_CASE("loader: integers may be written as exact float literals") {
  CHECK(load(replace(kMinimal, "agents: 100", "agents: 1e6")).scenario.population.agents ==
        1'000'000);
  CHECK(load(replace(kMinimal, "agents: 100", "agents: 4e9")).scenario.population.agents ==
        4'000'000'000U);
  CHECK(load(replace(kMinimal, "ticks: 10", "ticks: 2.0e1")).scenario.time.ticks == 20);
  CHECK(load(kMinimal + "seed: 18446744073709551615\n").scenario.seed ==
        std::numeric_limits<std::uint64_t>::max());
  CHECK(load(kMinimal + "seed: 0\n").scenario.seed == 0);
  CHECK(contains(error_of(replace(kMinimal, "ticks: 10", "ticks: 1.5")),
                 "test.yaml:3:10: time.ticks: expected an integer, got 1.5"));
  CHECK(contains(error_of(kMinimal + "seed: 18446744073709551616\n"),
                 "seed: expected an integer in 0 .. 18446744073709551615, got "
                 "18446744073709551616"));
  CHECK(contains(error_of(kMinimal + "seed: -1\n"), "got -1"));
}

// ---- errors -------------------------------------------------------------------------------

TEST_CASE("loader: error fields and what() format") {
  const ScenarioError e =
      caught(replace(kMinimal, "balance_usd: 1000", "balance_usd: 1000\n      share: -1"));
  CHECK(e.file() == "test.yaml");
  CHECK(e.line() == 9);
  CHECK(e.column() == 14);
  CHECK(e.key_path() == "population.classes[0].share");
  CHECK(e.message() == "expected a number > 0, got -1");
  CHECK(std::string(e.what()) ==
        "test.yaml:9:14: population.classes[0].share: expected a number > 0, got -1");
}

TEST_CASE("loader: malformed YAML reports the parser's line and column") {
  const ScenarioError e = caught("name: x\ntime: [1, 2\npopulation: 3\n");
  CHECK(e.file() == "test.yaml");
  CHECK(e.line() == 3);
  CHECK(e.column() > 0);
  CHECK(contains(e.what(), "test.yaml:3:"));
  CHECK(contains(e.what(), "invalid YAML"));
  CHECK(contains(error_of("name: x\n  bad indent: [\n"), "test.yaml:2:"));
  CHECK(contains(error_of("name: a\n---\nname: b\n"), "expected a single YAML document"));
  CHECK(contains(error_of(""), "the scenario is empty"));
  CHECK(contains(error_of("- 1\n- 2\n"), "expected a mapping, got a list"));
}

TEST_CASE("loader: unknown keys are rejected with the nearest valid key") {
  CHECK(error_of(replace(kMinimal, "      balance_usd", "      shares: 2\n      balance_usd")) ==
        "test.yaml:8:7: population.classes[0].shares: unknown key 'shares' in "
        "population.classes[0]; did you mean 'share'?");
  CHECK(error_of(replace(kMinimal, "name: minimal", "nmae: minimal")) ==
        "test.yaml:1:1: nmae: unknown key 'nmae' at the top level; did you mean 'name'?");
  CHECK(contains(error_of(replace(kMinimal, "  ticks: 10", "  ticks: 10\n  tick_hour: 2")),
                 "time.tick_hour: unknown key 'tick_hour' in time; did you mean 'tick_hours'?"));
  // Nothing close: list the valid keys.
  CHECK(contains(error_of(kMinimal + "frobnicate: 1\n"),
                 "unknown key 'frobnicate' at the top level; valid keys: name, description, seed, "
                 "time, population, network, stress, news, news_process, decision, "
                 "calendar, institutions, output"));
  CHECK(contains(error_of(kMinimal + "stress: {xyzzy: 1}\n"), "test.yaml:12:10: stress.xyzzy:"));
}

TEST_CASE("loader: duplicate keys are rejected") {
  CHECK(error_of(replace(kMinimal, "  ticks: 10", "  ticks: 10\n  ticks: 20")) ==
        "test.yaml:4:3: time.ticks: duplicate key 'ticks' in time (first at line 3)");
  CHECK(contains(error_of(kMinimal + "name: again\n"), "duplicate key 'name' at the top level"));
}

TEST_CASE("loader: wrong types say what was expected and what was found") {
  CHECK(contains(error_of(replace(kMinimal, "agents: 100", "agents: {a: 1}")),
                 "test.yaml:5:11: population.agents: expected an integer in 1 .. 4000000000, got "
                 "a mapping"));
  CHECK(contains(error_of(replace(kMinimal, "agents: 100", "agents: abc")),
                 "population.agents: expected an integer in 1 .. 4000000000, got 'abc'"));
  CHECK(
      contains(error_of(replace(kMinimal, "      threshold", "      share: abc\n      threshold")),
               "population.classes[0].share: expected a number, got 'abc'"));
  CHECK(contains(
      error_of(replace(kMinimal, "      threshold", "      share: \"2\"\n      threshold")),
      "expected a number, got the string \"2\""));
  CHECK(contains(error_of(replace(kMinimal, "time:\n  ticks: 10", "time: [10]")),
                 "time: expected a mapping, got a list"));
  CHECK(contains(error_of(replace(kMinimal,
                                  "  classes:\n    - name: all\n      balance_usd: 1000\n"
                                  "      threshold: 0.5\n",
                                  "  classes: 3\n")),
                 "population.classes: expected a list, got 3"));
  CHECK(contains(error_of(replace(kMinimal, "name: minimal", "name: [a]")),
                 "test.yaml:1:7: name: expected a string, got a list"));
  CHECK(contains(error_of(replace(kMinimal, "threshold: 0.5", "threshold: [0.5]")),
                 "population.classes[0].threshold: expected a number or a mapping with 'dist'"));
  CHECK(contains(error_of(replace(kMinimal, "name: minimal", "name:")),
                 "test.yaml:1:1: name: expected a string, got null"));
}

TEST_CASE("loader: non-finite numbers are rejected") {
  CHECK(contains(error_of(kMinimal + "stress: {news_weight: .inf}\n"),
                 "stress.news_weight: expected a finite number, got .inf"));
  CHECK(contains(error_of(kMinimal + "stress: {news_weight: .nan}\n"), "expected a finite number"));
  CHECK(
      contains(error_of(kMinimal + "stress: {news_weight: -1e400}\n"), "expected a finite number"));
  CHECK(contains(error_of(replace(kMinimal, "balance_usd: 1000", "balance_usd: .inf")),
                 "population.classes[0].balance_usd: expected a finite number"));
}

TEST_CASE("loader: out-of-range values give the valid range and the value") {
  CHECK(contains(error_of(replace(kMinimal, "ticks: 10", "ticks: 0")),
                 "test.yaml:3:10: time.ticks: expected an integer in 1 .. 10000000, got 0"));
  CHECK(contains(error_of(replace(kMinimal, "agents: 100", "agents: 5e9")),
                 "expected an integer in 1 .. 4000000000, got 5e9"));
  CHECK(contains(error_of(replace(kMinimal, "  ticks: 10", "  ticks: 10\n  tick_hours: 0")),
                 "time.tick_hours: expected a number in (0, 8760], got 0"));
  CHECK(contains(
      error_of(replace(kMinimal, "threshold: 0.5", "threshold: 0.5\n      attention: 1.5")),
      "population.classes[0].attention: expected a number in [0, 1], got 1.5"));
  CHECK(contains(
      error_of(replace(kMinimal, "threshold: 0.5", "threshold: 0.5\n      noise_sd: -0.1")),
      "expected a number >= 0, got -0.1"));
  CHECK(contains(error_of(kMinimal + "stress: {carry: 2}\n"),
                 "stress.carry: expected a number in [0, 1], got 2"));
  CHECK(contains(error_of(kMinimal + "stress: {peer_lag_ticks: 100001}\n"),
                 "stress.peer_lag_ticks: expected an integer in 0 .. 100000, got 100001"));
  CHECK(contains(error_of(replace(kMinimal, "  - {}", "  - {hot_reserve_fraction: 101}")),
                 "institutions[0].hot_reserve_fraction: expected a number in [0, 100], got 101"));
  CHECK(contains(error_of(replace(kMinimal, "  - {}", "  - {max_payout_per_tick_usd: 0.001}")),
                 "institutions[0].max_payout_per_tick_usd: expected at least 0.01 USD"));
  CHECK(contains(error_of(replace(kMinimal, "  - {}", "  - {halt: {hot_ratio_below: 0}}")),
                 "institutions[0].halt.hot_ratio_below: expected a number in (0, 1], got 0"));
  CHECK(contains(error_of(kMinimal + "news: [{tick: 1, magnitude: 1, duration_ticks: 0}]\n"),
                 "news[0].duration_ticks: expected an integer in 1 .. 2147483647, got 0"));
  CHECK(contains(error_of(kMinimal + "news: [{tick: -1, magnitude: 1}]\n"), "news[0].tick:"));
  CHECK(contains(error_of(kMinimal + "news: [{tick: 1, magnitude: 1, decay_ticks: 0}]\n"),
                 "news[0].decay_ticks: expected a number > 0, got 0"));
  CHECK(contains(error_of(kMinimal + "network: {type: erdos_renyi, mean_degree: 100}\n"),
                 "network.mean_degree: expected a mean degree <= population.agents - 1 (99)"));
  CHECK(contains(error_of(kMinimal + "network: {type: k_out, k: 1001}\n"),
                 "network.k: expected an integer in 0 .. 1000, got 1001"));
}

TEST_CASE("loader: missing required keys name the key path, at the parent's position") {
  CHECK(error_of(replace(kMinimal, "time:\n  ticks: 10\n", "")) ==
        "test.yaml:1:1: time: missing required key 'time' at the top level");
  CHECK(error_of(replace(kMinimal, "      threshold: 0.5\n", "")) ==
        "test.yaml:7:7: population.classes[0].threshold: missing required key 'threshold' in "
        "population.classes[0]");
  CHECK(contains(error_of(replace(kMinimal, "  ticks: 10", "  tick_hours: 1")),
                 "time.ticks: missing required key 'ticks' in time"));
  CHECK(contains(error_of(kMinimal + "news: [{magnitude: 1}]\n"),
                 "news[0].tick: missing required key: each news event needs 'tick' or 'at'"));
  CHECK(contains(error_of(kMinimal + "news: [{tick: 1}]\n"),
                 "news[0].magnitude: missing required key 'magnitude'"));
  CHECK(contains(error_of(replace(kMinimal, "name: minimal", "name: ''")),
                 "name: expected a non-empty name"));
}

TEST_CASE("loader: distributions: kinds, parameters, keys of other kinds") {
  CHECK(contains(error_of(replace(kMinimal, "threshold: 0.5", "threshold: {dist: gaussian}")),
                 "population.classes[0].threshold.dist: expected one of constant, uniform, "
                 "normal, lognormal, pareto, beta, empirical, exact, got 'gaussian'"));
  CHECK(contains(
      error_of(replace(kMinimal, "threshold: 0.5", "threshold: {dist: normall, mean: 0, sd: 1}")),
      "did you mean 'normal'?"));
  const std::string wrong_kind = error_of(
      replace(kMinimal, "threshold: 0.5", "threshold: {dist: uniform, low: 0, high: 1, sd: 2}"));
  CHECK(contains(wrong_kind,
                 "population.classes[0].threshold.sd: unknown key 'sd' in "
                 "population.classes[0].threshold (dist: uniform)"));
  CHECK(contains(wrong_kind, "'sd' belongs to dist: normal"));
  CHECK(contains(
      error_of(replace(kMinimal, "threshold: 0.5", "threshold: {dist: normal, mean: 0, sdd: 1}")),
      "unknown key 'sdd' in population.classes[0].threshold (dist: normal); did you "
      "mean 'sd'?"));
  CHECK(contains(error_of(replace(kMinimal, "threshold: 0.5", "threshold: {mean: 0, sd: 1}")),
                 "threshold.dist: missing required key 'dist'"));
  CHECK(contains(error_of(replace(kMinimal, "threshold: 0.5", "threshold: {dsit: normal}")),
                 "unknown key 'dsit' in population.classes[0].threshold; did you mean 'dist'?"));
  CHECK(
      contains(error_of(replace(kMinimal, "threshold: 0.5", "threshold: {dist: normal, mean: 0}")),
               "threshold.sd: missing required key 'sd'"));
  CHECK(contains(
      error_of(replace(kMinimal, "threshold: 0.5", "threshold: {dist: uniform, low: 1, high: 1}")),
      "threshold.high: expected high > low (1), got 1"));
  CHECK(contains(error_of(replace(kMinimal, "threshold: 0.5",
                                  "threshold: {dist: lognormal, mu: 0, sigma: -1}")),
                 "threshold.sigma: expected a number >= 0, got -1"));
  CHECK(
      contains(error_of(replace(kMinimal, "threshold: 0.5",
                                "threshold: {dist: constant, value: 1, clip_min: 2, clip_max: 1}")),
               "threshold.clip_max: expected clip_max >= clip_min (2), got 1"));
  const Distribution d = load(replace(kMinimal, "threshold: 0.5",
                                      "threshold: {dist: constant, value: 2, clip_max: 1}"))
                             .scenario.population.classes[0]
                             .threshold;
  CHECK(d.value == 2.0);
  CHECK(d.clip_max == 1.0);
}

TEST_CASE("loader: network keys of the other type are rejected") {
  CHECK(contains(error_of(kMinimal + "network: {type: erdos_renyi, k: 3}\n"),
                 "network.k: unknown key 'k' in network (type: erdos_renyi) ('k' is only valid "
                 "with type: k_out or watts_strogatz)"));
  CHECK(contains(error_of(kMinimal + "network: {k: 3}\n"), "network.k: unknown key 'k'"));
  CHECK(contains(error_of(kMinimal + "network: {type: kout}\n"),
                 "network.type: expected one of none, complete, k_out, erdos_renyi, "
                 "watts_strogatz, barabasi_albert, configuration, stochastic_block, edge_list, "
                 "got 'kout'; did you mean 'k_out'?"));
}

TEST_CASE("loader: timestamps") {
  CHECK(load(replace(kMinimal, "  ticks: 10", "  ticks: 10\n  start: 2024-02-29"))
            .scenario.time.start_utc == "2024-02-29T00:00:00Z");
  CHECK(contains(error_of(replace(kMinimal, "  ticks: 10", "  ticks: 10\n  start: 2022-13-01")),
                 "test.yaml:4:10: time.start: invalid timestamp: month 13 is not in 1 .. 12"));
  CHECK(contains(error_of(replace(kMinimal, "  ticks: 10", "  ticks: 10\n  start: 2022-02-30")),
                 "day 30 is not in 1 .. 28 for 2022-02"));
  CHECK(
      contains(error_of(replace(kMinimal, "  ticks: 10", "  ticks: 10\n  start: 2022-01-01 10:00")),
               "time.start: expected a UTC timestamp"));
  CHECK(contains(
      error_of(replace(kMinimal, "  ticks: 10", "  ticks: 10\n  start: 2022-01-01T24:00Z")),
      "hour 24 is not in 0 .. 23"));
  CHECK(contains(error_of(kMinimal + "news: [{at: 2021-12-31T23:59:59Z, magnitude: 1}]\n"),
                 "news[0].at: expected a time not before time.start (2022-01-01T00:00:00Z)"));
  CHECK(contains(error_of(kMinimal + "news: [{at: 2022-01-02, tick: 3, magnitude: 1}]\n"),
                 "news[0].at: give either 'tick' or 'at', not both"));
  CHECK(contains(error_of(replace(kMinimal, "  - {}", "  - {halt: {at: 2022-01-02, at_tick: 3}}")),
                 "institutions[0].halt.at: give either 'at_tick' or 'at', not both"));
}

TEST_CASE("loader: 1 .. 254 institutions with unique names") {
  CHECK(error_of(replace(kMinimal, "institutions:\n  - {}", "institutions: []")) ==
        "test.yaml:10:15: institutions: expected a list of 1 .. 254 institutions, got 0");
  CHECK(contains(error_of(replace(kMinimal, "  - {}", "  - {name: 'a b'}")),
                 "institutions[0].name: expected a name of letters, digits"));
  CHECK(error_of(replace(kMinimal, "  - {}", "  - 3")) ==
        "test.yaml:11:5: institutions[0]: expected a mapping, got 3");
  // Duplicate names, given or defaulted ("bank").
  CHECK(error_of(replace(kMinimal, "  - {}", "  - {name: a}\n  - {name: b}\n  - {name: a}")) ==
        "test.yaml:13:12: institutions[2].name: duplicate institution name 'a' (also "
        "institutions[0])");
  CHECK(error_of(replace(kMinimal, "  - {}", "  - {}\n  - {hot_reserve_fraction: 0.5}")) ==
        "test.yaml:12:5: institutions[1].name: duplicate institution name 'bank' (the default "
        "name; also institutions[0]): give each institution a distinct name");
  CHECK(error_of(replace(kMinimal, "  - {}", "  - {name: bank}\n  - {}")) ==
        "test.yaml:12:5: institutions[1].name: duplicate institution name 'bank' (the default "
        "name; also institutions[0]): give each institution a distinct name");
  // Names that cannot name an institution.
  CHECK(contains(error_of(replace(kMinimal, "  - {}", "  - {name: self_custody}")),
                 "institutions[0].name: the name 'self_custody' is reserved (it means "
                 "self-custody in population.classes[i].destinations)"));
  CHECK(contains(error_of(replace(kMinimal, "  - {}", "  - {name: ..}")),
                 "institutions[0].name: expected a name other than '..' (it names a group in "
                 "the output file)"));
  CHECK(load(replace(kMinimal, "  - {}", "  - {name: a..b}")).scenario.institutions[0].name ==
        "a..b");
  // Up to 254 institutions.
  std::string many;
  for (int k = 0; k < 254; ++k) many += "  - {name: i" + std::to_string(k) + "}\n";
  const Scenario s = load(replace(kMinimal, "  - {}\n", many)).scenario;
  REQUIRE(s.institutions.size() == 254);
  CHECK(s.institutions[0].name == "i0");
  CHECK(s.institutions[253].name == "i253");
  CHECK(error_of(replace(kMinimal, "  - {}\n", many + "  - {name: i254}\n")) ==
        "test.yaml:11:3: institutions: expected a list of 1 .. 254 institutions, got 255");
}

TEST_CASE("loader: class names are unique identifiers; 1 .. 255 classes") {
  const std::string two = replace(kMinimal, "  classes:\n",
                                  "  classes:\n    - {name: all, balance_usd: 1, threshold: 1}\n");
  CHECK(contains(error_of(two), "population.classes[1].name: duplicate class name 'all'"));
  CHECK(contains(error_of(replace(kMinimal, "name: all", "name: a/b")),
                 "population.classes[0].name: expected a name of letters"));
  CHECK(contains(error_of(replace(kMinimal,
                                  "  classes:\n    - name: all\n      balance_usd: 1000\n"
                                  "      threshold: 0.5\n",
                                  "  classes: []\n")),
                 "population.classes: expected a list of 1 .. 255 classes, got 0"));
}

// ---- --set overrides ----------------------------------------------------------------------

TEST_CASE("loader: --set overrides values before validation") {
  const Scenario s = load(kFull, {"population.agents=1e6", "news[0].magnitude=0.5", "name=foo",
                                  "seed=7", "time.start=2022-11-06"})
                         .scenario;
  CHECK(s.population.agents == 1'000'000);
  CHECK(s.name == "foo");
  CHECK(s.seed == 7);
  CHECK(s.time.start_utc == "2022-11-06T00:00:00Z");
  REQUIRE(s.news.size() == 3);
  CHECK(s.news[1].label == "late");  // news[0] of the file, after sorting
  CHECK(s.news[1].magnitude == 0.5);
  CHECK(s.news[0].tick == 48);  // at: 2022-11-07T00:00Z is now 24 h after the start
  // Later overrides win.
  CHECK(load(kMinimal, {"seed=3", "seed=4"}).scenario.seed == 4);
}

TEST_CASE("loader: --set index forms and new keys") {
  CHECK(load(kFull, {"population.classes.1.share=2"}).scenario.population.classes[1].share == 2.0);
  CHECK(load(kFull, {"population.classes[1].share=2"}).scenario.population.classes[1].share == 2.0);
  CHECK(load(kFull, {"institutions[0].halt.at=2022-11-07"}).scenario.institutions[0].halt.at_tick ==
        23);
  CHECK(contains(error_of(kFull, {"institutions[0].halt.at_tick=5"}), "not both"));
  CHECK(contains(error_of(kMinimal, {"description=with: colon"}),
                 "--set description=with: colon: description: expected a string, got a mapping"));
  // A key valid in the schema but absent from the file, and a whole missing section.
  const Scenario s = load(kMinimal, {"population.total_balance_usd=1e9", "network.type=k_out",
                                     "network.k=3", "stress={carry: 0.5}"})
                         .scenario;
  REQUIRE(s.population.total_balance_usd.has_value());
  CHECK(*s.population.total_balance_usd == 1e9);
  CHECK(s.network.kind == NetworkSpec::Kind::kKOut);
  CHECK(s.network.k == 3);
  CHECK(s.stress.carry == 0.5);
  // Overrides on an empty file build the whole scenario.
  const Scenario built = load("", {"name=x", "time.ticks=5",
                                   "population={agents: 2, classes: [{name: a, "
                                   "balance_usd: 1, threshold: 1}]}",
                                   "institutions=[{}]"})
                             .scenario;
  CHECK(built.population.agents == 2);
}

TEST_CASE("loader: errors in overridden values name the override") {
  const ScenarioError e = caught(kMinimal, {"population.classes[0].shares=2"});
  CHECK(std::string(e.what()) ==
        "--set population.classes[0].shares=2: population.classes[0].shares: unknown key "
        "'shares' in population.classes[0]; did you mean 'share'?");
  CHECK(e.line() == 0);
  CHECK(e.column() == 0);
  CHECK(e.file() == "--set population.classes[0].shares=2");
  CHECK(error_of(kMinimal, {"population.agents=abc"}) ==
        "--set population.agents=abc: population.agents: expected an integer in 1 .. 4000000000, "
        "got 'abc'");
  // Index form classes.0 is reported under its canonical path.
  CHECK(contains(error_of(kMinimal, {"population.classes.0.share=-1"}),
                 "--set population.classes.0.share=-1: population.classes[0].share: expected a "
                 "number > 0, got -1"));
  // Inside an overridden subtree.
  CHECK(contains(error_of(kMinimal, {"stress={carry: 5}"}),
                 "--set stress={carry: 5}: stress.carry:"));
  CHECK(contains(error_of(kMinimal, {"time={}"}),
                 "--set time={}: time.ticks: missing required key 'ticks'"));
  // An error elsewhere still points into the file.
  CHECK(contains(error_of(replace(kMinimal, "ticks: 10", "ticks: 0"), {"population.agents=5"}),
                 "test.yaml:3:10: time.ticks:"));
}

TEST_CASE("loader: malformed overrides") {
  CHECK(error_of(kMinimal, {"seed"}) == "--set seed: expected KEY.PATH=VALUE, found no '='");
  CHECK(error_of(kMinimal, {"=3"}) == "--set =3: empty key path before '='");
  CHECK(contains(error_of(kMinimal, {"population..agents=3"}), "malformed key path"));
  CHECK(contains(error_of(kMinimal, {"population.classes[x].share=3"}), "malformed key path"));
  CHECK(contains(error_of(kMinimal, {"population.classes[0.share=3"}), "malformed key path"));
  CHECK(error_of(kMinimal, {"population.classes[1].share=3"}) ==
        "--set population.classes[1].share=3: population.classes: index 1 is out of range: "
        "population.classes has 1 element");
  CHECK(contains(error_of(kMinimal, {"name.first=x"}),
                 "--set name.first=x: name: cannot index into name: it is a scalar value"));
  CHECK(contains(error_of(kMinimal, {"population[0]=x"}), "not a list"));
  CHECK(contains(error_of(kMinimal, {"population.classes.share=2"}),
                 "population.classes is a list; index it as population.classes[0]"));
  CHECK(contains(error_of(kMinimal, {"news[0].tick=1"}), "--set news[0].tick=1:"));
  CHECK(contains(error_of(kMinimal, {"name=[1, 2"}),
                 "--set name=[1, 2: name: the value is not valid YAML"));
  const ScenarioError e = caught(kMinimal, {"seed"});
  CHECK(e.line() == 0);
  CHECK(e.column() == 0);
}

// ---- resolved YAML --------------------------------------------------------------------------

TEST_CASE("loader: resolved_yaml loads back to the same scenario") {
  const std::vector<std::string> overrides = {"population.agents=1e6", "news[2].magnitude=0.5",
                                              "network.k=3", "description='with: colon'",
                                              "population.classes[0].name=\"0123\""};
  const LoadedScenario first = load(kFull, overrides);
  CHECK(first.scenario.description == "with: colon");
  CHECK(first.scenario.population.classes[0].name == "0123");
  const LoadedScenario again = load_scenario_text(first.resolved_yaml, "resolved.yaml");
  check_same(first.scenario, again.scenario);
  CHECK(again.resolved_yaml == first.resolved_yaml);
  CHECK(contains(first.resolved_yaml, "agents: 1e6"));

  const LoadedScenario minimal = load(kMinimal);
  check_same(minimal.scenario, load_scenario_text(minimal.resolved_yaml, "r").scenario);
}

TEST_CASE("loader: load_scenario_file") {
  CHECK(contains(
      [] {
        try {
          load_scenario_file("/nonexistent/dir/x.yaml");
        } catch (const ScenarioError& e) {
          return std::string(e.what());
        }
        return std::string();
      }(),
      "/nonexistent/dir/x.yaml: cannot open"));
#ifdef BANKRUN_SOURCE_DIR
  // Every shipped scenario validates.
  namespace fs = std::filesystem;
  int count = 0;
  for (const std::string& path :
       shipped_scenario_files(fs::path(BANKRUN_SOURCE_DIR) / "scenarios")) {
    ++count;
    INFO(path);
    CHECK_NOTHROW(load_scenario_file(path));
  }
  CHECK(count > 0);
#endif
}
