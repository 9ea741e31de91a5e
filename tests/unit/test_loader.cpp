// The YAML scenario loader: values, defaults, every class of error (with its position and
// key path), --set overrides, the resolved YAML round trip, and the reader's helpers.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "scenarios/loader.hpp"
#include "scenarios/yaml_reader.hpp"

using namespace bankrun;
namespace yr = bankrun::yaml_reader;

namespace {

// Line numbers below refer to this text (line 1 is "name: minimal").
const std::string kMinimal = R"(name: minimal
time:
  ticks: 10
population:
  agents: 100
  classes:
    - name: all
      balance_usd: 1000
      threshold: 0.5
institutions:
  - {}
)";

const std::string kFull = R"(name: full
description: A full scenario
seed: 42
time:
  ticks: 1e3
  tick_hours: 0.5
  start: 2022-11-06T12:30Z
population:
  agents: 1000
  total_balance_usd: 1.6e10
  classes:
    - name: retail
      share: 3
      balance_usd: {dist: lognormal, mu: 8, sigma: 1.5}
      threshold: {dist: normal, mean: 0.6, sd: 0.1, clip_min: 0, clip_max: 1}
      noise_sd: 0.05
      attention: 0.7
    - name: whale.1
      balance_usd: {dist: uniform, low: 1e5, high: 1e6}
      threshold: 0.4
network:
  type: k_out
  k: 7
stress:
  news_weight: 1
  peer_weight: -0.5
  flow_weight: 2
  carry: 0.25
  peer_lag_ticks: 2
  flow_window_ticks: 24
news:
  - label: late
    tick: 50
    magnitude: 0.3
    decay_ticks: 12
    duration_ticks: 100
    reach: 0.5
  - at: 2022-11-07T00:00:00Z
    magnitude: -0.1
  - label: same tick as late, listed later
    tick: 50
    magnitude: 0.2
institutions:
  - name: ftx
    hot_reserve_fraction: 0.42
    max_payout_per_tick_usd: 2e8
    halt:
      at: 2022-11-08
      withdrawn_fraction_at_least: 0.5
      hot_ratio_below: 0.08
)";

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const auto pos = text.find(from);
  REQUIRE_MESSAGE(pos != std::string::npos, "fixture text not found: " << from);
  return text.replace(pos, from.size(), to);
}

LoadedScenario load(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  return load_scenario_text(yaml, "test.yaml", overrides);
}

// The error a text raises ("(no error)" if it loads).
std::string error_of(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  try {
    load(yaml, overrides);
  } catch (const ScenarioError& e) {
    return e.what();
  }
  return "(no error)";
}

ScenarioError caught(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  try {
    load(yaml, overrides);
  } catch (const ScenarioError& e) {
    return e;
  }
  FAIL("expected a ScenarioError");
  return ScenarioError("", 0, 0, "", "");
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Every field, at every level (the spec structs' defaulted operator==).
void check_same(const Scenario& a, const Scenario& b) {
  CHECK(a == b);
}

}  // namespace

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
                 "institutions, output"));
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
                 "normal, lognormal, pareto, beta, empirical, got 'gaussian'"));
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
  for (const auto& entry :
       fs::recursive_directory_iterator(fs::path(BANKRUN_SOURCE_DIR) / "scenarios")) {
    if (entry.path().extension() != ".yaml") continue;
    if (entry.path().parent_path().filename() == "sweeps") continue;  // sweep files, not scenarios
    ++count;
    INFO(entry.path().string());
    CHECK_NOTHROW(load_scenario_file(entry.path().string()));
  }
  CHECK(count > 0);
#endif
}

// ---- reader helpers -----------------------------------------------------------------------

TEST_CASE("yaml_reader: levenshtein and suggestions") {
  CHECK(yr::levenshtein("kitten", "sitting") == 3);
  CHECK(yr::levenshtein("", "abc") == 3);
  CHECK(yr::levenshtein("abc", "") == 3);
  CHECK(yr::levenshtein("share", "share") == 0);
  CHECK(yr::levenshtein("shares", "share") == 1);
  CHECK(yr::levenshtein("tick_hour", "tick_hours") == 1);
  CHECK(yr::nearest("shares", {"name", "share"}) == std::optional<std::string>("share"));
  CHECK(yr::nearest("xyz", {"name", "share"}) == std::nullopt);
  // Threshold max(2, len / 3): 3 edits are allowed for a 9-letter word, not for a 6-letter one.
  CHECK(yr::nearest("attentxxx", {"attention"}) == std::optional<std::string>("attention"));
  CHECK(yr::nearest("abcxyz", {"abcdef"}) == std::nullopt);
  CHECK(yr::suggestion("shares", {"share"}) == "did you mean 'share'?");
  CHECK(yr::suggestion("zzz", {"a", "b"}) == "valid keys: a, b");
}

TEST_CASE("yaml_reader: numbers") {
  using yr::NumberStatus;
  CHECK(yr::parse_number("1e6").value == 1e6);
  CHECK(yr::parse_number("+1.5").value == 1.5);
  CHECK(yr::parse_number("-.5").value == -0.5);
  CHECK(yr::parse_number("1.").status == NumberStatus::kOk);
  CHECK(yr::parse_number("1e-400").value == 0.0);
  CHECK(yr::parse_number("abc").status == NumberStatus::kNotANumber);
  CHECK(yr::parse_number("0x10").status == NumberStatus::kNotANumber);
  CHECK(yr::parse_number("1e").status == NumberStatus::kNotANumber);
  CHECK(yr::parse_number("").status == NumberStatus::kNotANumber);
  CHECK(yr::parse_number(".").status == NumberStatus::kNotANumber);
  CHECK(yr::parse_number(".inf").status == NumberStatus::kNonFinite);
  CHECK(yr::parse_number("-.Inf").status == NumberStatus::kNonFinite);
  CHECK(yr::parse_number(".NaN").status == NumberStatus::kNonFinite);
  CHECK(yr::parse_number("1e400").status == NumberStatus::kNonFinite);
  CHECK(yr::Range::above(0).describe() == "> 0");
  CHECK(yr::Range::open_closed(0, 8760).describe() == "in (0, 8760]");
  CHECK(yr::format_number(0.1) == "0.1");
}

TEST_CASE("yaml_reader: UTC timestamps") {
  CHECK(yr::days_from_civil(1970, 1, 1) == 0);
  CHECK(yr::days_from_civil(2000, 3, 1) == 11017);
  CHECK(yr::days_from_civil(1969, 12, 31) == -1);
  CHECK(yr::parse_utc_timestamp("2022-11-06T15:47:00Z").unix_seconds == 1667749620);
  CHECK(yr::parse_utc_timestamp("2022-11-06T15:47Z").unix_seconds == 1667749620);
  CHECK(yr::parse_utc_timestamp("2022-11-06").unix_seconds == 1667692800);
  CHECK(yr::parse_utc_timestamp("1900-03-01").error.empty());
  CHECK(!yr::parse_utc_timestamp("1900-02-29").error.empty());  // not a leap year
  CHECK(yr::parse_utc_timestamp("2000-02-29").error.empty());   // leap year
  CHECK(!yr::parse_utc_timestamp("2022-11-06T15:47:00").error.empty());
  CHECK(!yr::parse_utc_timestamp("2022-11-06T15:47:60Z").error.empty());
  CHECK(!yr::parse_utc_timestamp("22-11-06").error.empty());
  CHECK(!yr::parse_utc_timestamp("0000-01-01").error.empty());
  CHECK(yr::format_utc_timestamp(0) == "1970-01-01T00:00:00Z");
  CHECK(yr::format_utc_timestamp(1667749620) == "2022-11-06T15:47:00Z");
  CHECK(yr::format_utc_timestamp(-1) == "1969-12-31T23:59:59Z");
  CHECK(yr::format_utc_timestamp(yr::parse_utc_timestamp("9999-12-31T23:59:59Z").unix_seconds) ==
        "9999-12-31T23:59:59Z");
  CHECK(yr::format_utc_timestamp(yr::parse_utc_timestamp("0001-01-01").unix_seconds) ==
        "0001-01-01T00:00:00Z");
}

// ---- distributions: pareto, beta, empirical ---------------------------------------------------

namespace {

// A fresh directory under the system temp directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    namespace fs = std::filesystem;
    std::random_device random;
    for (int attempt = 0;; ++attempt) {
      path_ = fs::temp_directory_path() / ("bankrun-loader-test-" + std::to_string(random()));
      if (fs::create_directory(path_)) break;
      REQUIRE(attempt < 100);
    }
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Writes `text` to the relative path `name` (creating directories); returns its path.
  std::string write(const std::string& name, const std::string& text) const {
    const std::filesystem::path file = path_ / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary);
    out << text;
    return file.string();
  }

 private:
  std::filesystem::path path_;
};

// Changes the current directory for the lifetime of the object.
class WorkingDirectory {
 public:
  explicit WorkingDirectory(const std::filesystem::path& dir)
      : previous_(std::filesystem::current_path()) {
    std::filesystem::current_path(dir);
  }
  ~WorkingDirectory() { std::filesystem::current_path(previous_); }
  WorkingDirectory(const WorkingDirectory&) = delete;
  WorkingDirectory& operator=(const WorkingDirectory&) = delete;

 private:
  std::filesystem::path previous_;
};

std::string file_error(const std::string& path, const std::vector<std::string>& overrides = {}) {
  try {
    load_scenario_file(path, overrides);
  } catch (const ScenarioError& e) {
    return e.what();
  }
  return "(no error)";
}

// kMinimal with `threshold: 0.5` replaced by `threshold: TEXT`.
std::string with_threshold(const std::string& text) {
  return replace(kMinimal, "threshold: 0.5", "threshold: " + text);
}

Distribution threshold_of(const std::string& text) {
  return load(with_threshold(text)).scenario.population.classes[0].threshold;
}

}  // namespace

TEST_CASE("loader: pareto, beta and inline empirical distributions") {
  const Distribution p = threshold_of("{dist: pareto, scale: 1000, shape: 1.5, clip_max: 1e9}");
  CHECK(p.kind == Distribution::Kind::kPareto);
  CHECK(p.scale == 1000.0);
  CHECK(p.shape == 1.5);
  CHECK(p.clip_max == 1e9);
  const Distribution b = threshold_of("{dist: beta, alpha: 2, beta: 5}");
  CHECK(b.kind == Distribution::Kind::kBeta);
  CHECK(b.alpha == 2.0);
  CHECK(b.beta == 5.0);
  CHECK(b.low == 0.0);
  CHECK(b.high == 1.0);
  const Distribution b2 = threshold_of("{dist: beta, alpha: 0.5, beta: 0.5, low: -1, high: 3}");
  CHECK(b2.low == -1.0);
  CHECK(b2.high == 3.0);
  CHECK(threshold_of("{dist: beta, alpha: 1, beta: 1, high: 0.5}").high == 0.5);
  const Distribution e = threshold_of("{dist: empirical, values: [3, 1.5, -2, 1e3], clip_min: 0}");
  CHECK(e.kind == Distribution::Kind::kEmpirical);
  CHECK(e.values == std::vector<double>{3.0, 1.5, -2.0, 1000.0});
  CHECK(e.clip_min == 0.0);
}

TEST_CASE("loader: pareto and beta parameter errors") {
  CHECK(contains(error_of(with_threshold("{dist: pareto, scale: 0, shape: 1}")),
                 "population.classes[0].threshold.scale: expected a number > 0, got 0"));
  CHECK(contains(error_of(with_threshold("{dist: pareto, scale: 1, shape: -2}")),
                 "threshold.shape: expected a number > 0, got -2"));
  CHECK(contains(error_of(with_threshold("{dist: pareto, scale: 1}")),
                 "threshold.shape: missing required key 'shape'"));
  CHECK(contains(error_of(with_threshold("{dist: beta, alpha: 0, beta: 1}")),
                 "threshold.alpha: expected a number > 0, got 0"));
  CHECK(contains(error_of(with_threshold("{dist: beta, alpha: 1}")),
                 "threshold.beta: missing required key 'beta'"));
  CHECK(contains(error_of(with_threshold("{dist: beta, alpha: 1, beta: 1, low: 2, high: 2}")),
                 "threshold.high: expected high > low (2), got 2"));
  CHECK(contains(error_of(with_threshold("{dist: beta, alpha: 1, beta: 1, high: -1}")),
                 "threshold.high: expected high > low (0, the default), got -1"));
  CHECK(contains(error_of(with_threshold("{dist: beta, alpha: 1, beta: 1, low: 1}")),
                 "threshold.low: expected low < high (1, the default), got 1"));
  // Keys of another kind say where they belong; low/high belong to two kinds.
  const std::string wrong = error_of(with_threshold("{dist: pareto, scale: 1, shape: 1, low: 0}"));
  CHECK(contains(wrong,
                 "unknown key 'low' in population.classes[0].threshold (dist: pareto) "
                 "('low' belongs to dist: uniform, beta)"));
  CHECK(contains(error_of(with_threshold("{dist: beta, alpha: 1, beta: 1, sahpe: 1}")),
                 "unknown key 'sahpe'"));
  CHECK(contains(error_of(with_threshold("{dist: paretto, scale: 1, shape: 1}")),
                 "did you mean 'pareto'?"));
}

TEST_CASE("loader: empirical distribution keys") {
  CHECK(contains(error_of(with_threshold("{dist: empirical}")),
                 "test.yaml:9:18: population.classes[0].threshold.values: missing required key: "
                 "dist: empirical needs 'values' (a list of numbers) or 'file' (a CSV file)"));
  CHECK(contains(error_of(with_threshold("{dist: empirical, values: []}")),
                 "threshold.values: expected a non-empty list of numbers, got an empty list"));
  CHECK(contains(error_of(with_threshold("{dist: empirical, values: [1, abc]}")),
                 "threshold.values[1]: expected a number, got 'abc'"));
  CHECK(contains(error_of(with_threshold("{dist: empirical, values: [1, .nan]}")),
                 "threshold.values[1]: expected a finite number"));
  CHECK(contains(error_of(with_threshold("{dist: empirical, values: 3}")),
                 "threshold.values: expected a list, got 3"));
  CHECK(contains(error_of(with_threshold("{dist: empirical, values: [1], file: x.csv}")),
                 "threshold.file: give either 'values' or 'file', not both"));
  CHECK(contains(error_of(with_threshold("{dist: empirical, values: [1], column: 0}")),
                 "threshold.column: 'column' is only valid with 'file'"));
  CHECK(contains(error_of(with_threshold("{dist: empirical, values: [1], mean: 0}")),
                 "('mean' belongs to dist: normal)"));
  CHECK(contains(error_of(with_threshold("{dist: normal, mean: 0, sd: 1, values: [1]}")),
                 "('values' belongs to dist: empirical)"));
}

TEST_CASE("loader: empirical distribution read from a CSV file") {
  const TempDir dir;
  dir.write("data/balances.csv",
            "id,balance_usd,note\n"
            "0,100.5,a\n"
            "\n"
            "1, 2e3 ,\"b, quoted\"\r\n"
            "2,\"7\",c\n");
  dir.write("data/plain.csv", "5\n6\n7.5\n");
  const std::string scenario =
      replace(kMinimal, "balance_usd: 1000",
              "balance_usd: {dist: empirical, file: data/balances.csv, column: balance_usd}");
  const std::string path = dir.write("scenario.yaml", scenario);
  const Scenario s = load_scenario_file(path).scenario;
  CHECK(s.population.classes[0].balance_usd.kind == Distribution::Kind::kEmpirical);
  CHECK(s.population.classes[0].balance_usd.values == std::vector<double>{100.5, 2000.0, 7.0});

  // By index; the header is detected because the cell in that column is not a number.
  CHECK(load_scenario_file(path, {"population.classes[0].balance_usd.column=1"})
            .scenario.population.classes[0]
            .balance_usd.values == std::vector<double>{100.5, 2000.0, 7.0});
  CHECK(load_scenario_file(path, {"population.classes[0].balance_usd.column=0"})
            .scenario.population.classes[0]
            .balance_usd.values == std::vector<double>{0.0, 1.0, 2.0});
  // Without a header row, and the default column (the first).
  const Scenario plain =
      load_scenario_file(path, {"population.classes[0].balance_usd={dist: empirical, file: "
                                "data/plain.csv}"})
          .scenario;
  CHECK(plain.population.classes[0].balance_usd.values == std::vector<double>{5.0, 6.0, 7.5});
  // load_scenario_text resolves relative to the current directory.
  {
    const WorkingDirectory cwd(dir.path() / "data");
    CHECK(load(with_threshold("{dist: empirical, file: plain.csv}"))
              .scenario.population.classes[0]
              .threshold.values.size() == 3);
  }
  // An absolute path is used as is.
  CHECK(load(with_threshold("{dist: empirical, file: '" + (dir.path() / "data/plain.csv").string() +
                            "'}"))
            .scenario.population.classes[0]
            .threshold.values.size() == 3);
}

TEST_CASE("loader: CSV errors name the CSV file, its line and what is wrong") {
  const TempDir dir;
  const std::string yaml =
      dir.write("s.yaml", with_threshold("{dist: empirical, file: t.csv, column: theta}"));
  auto csv_error = [&](const std::string& csv, const std::vector<std::string>& overrides = {}) {
    dir.write("t.csv", csv);
    return file_error(yaml, overrides);
  };
  const std::string csv = (dir.path() / "t.csv").string();
  const std::string key = "population.classes[0].threshold.file";
  CHECK(csv_error("theta\n0.5\nabc\n") ==
        csv + ":3:1: " + key + ": expected a number in column 'theta' (index 0), got 'abc'");
  CHECK(csv_error("x,theta\n1,0.5\n2,\n") ==
        csv + ":3:3: " + key +
            ": expected a number in column 'theta' (index 1), got an empty cell");
  CHECK(csv_error("x,theta\n1,0.5\n2\n") ==
        csv + ":3:1: " + key + ": the row has 1 cell; column 'theta' (index 1) is missing");
  CHECK(csv_error("x,y\n1,2\n") == csv + ":1:1: " + key +
                                       ": no column named 'theta' in the header row (found 'x', "
                                       "'y')");
  CHECK(csv_error("") == csv + ": " + key + ": empty file: expected numbers in column 'theta'");
  CHECK(csv_error("\n  \n") ==
        csv + ": " + key + ": empty file: expected numbers in column 'theta'");
  CHECK(csv_error("theta\n") ==
        csv + ":1:1: " + key +
            ": no data rows after the header: expected numbers in column 'theta' (index 0)");
  CHECK(csv_error("theta\n1\ninf\n") ==
        csv + ":3:1: " + key + ": expected a finite number in column 'theta' (index 0), got 'inf'");
  CHECK(contains(csv_error("theta\n\"1\n"), ":2:1: " + key + ": malformed CSV row: unterminated"));
  // By index: a first row with a number in the column is data, not a header.
  const std::vector<std::string> by_index = {"population.classes[0].threshold.column=2"};
  CHECK(csv_error("1,2,3\n4,5\n", by_index) ==
        csv + ":2:1: " + key + ": the row has 2 cells; column 2 is missing");
  CHECK(csv_error("a,b,c\n4,5,x\n", by_index) ==
        csv + ":2:5: " + key + ": expected a number in column 2 ('c'), got 'x'");
  CHECK(contains(csv_error("1\n", {"population.classes[0].threshold.column=-1"}),
                 "threshold.column: expected an integer in 0 .. 1000000, got -1"));
  CHECK(contains(csv_error("1\n", {"population.classes[0].threshold.column=''"}),
                 "threshold.column: expected a column name or a 0-based column index"));
  // A file that cannot be opened is reported at the scenario key.
  CHECK(file_error(yaml, {"population.classes[0].threshold.file=missing.csv"}) ==
        "--set population.classes[0].threshold.file=missing.csv: " + key + ": cannot open '" +
            (dir.path() / "missing.csv").string() + "': No such file or directory");
  std::filesystem::create_directory(dir.path() / "sub");
  CHECK(contains(file_error(yaml, {"population.classes[0].threshold.file=sub"}),
                 "it is a directory"));
  CHECK(contains(error_of(with_threshold("{dist: empirical, file: /nonexistent/x.csv}")),
                 "test.yaml:9:42: " + key + ": cannot open '/nonexistent/x.csv'"));
}

// ---- population.classes[i]: new keys ----------------------------------------------------------

TEST_CASE("loader: class attributes as distributions and the new class keys") {
  const std::string yaml = replace(kMinimal, "threshold: 0.5",
                                   "threshold: 0.5\n"
                                   "      noise_sd: {dist: uniform, low: 0, high: 0.1}\n"
                                   "      attention: {dist: beta, alpha: 2, beta: 2}\n"
                                   "      withdraw_fraction: 0.25\n"
                                   "      reaction_lag_ticks: {dist: lognormal, mu: 1, sigma: 1}\n"
                                   "      threshold_balance_rank_correlation: -0.5\n"
                                   "      calm_threshold: -0.2\n"
                                   "      redeposit_rate: 0.1\n"
                                   "      redeposit_fraction: 0.5");
  const InvestorClass c = load(yaml).scenario.population.classes[0];
  CHECK(c.noise_sd.kind == Distribution::Kind::kUniform);
  CHECK(c.noise_sd.high == 0.1);
  CHECK(c.attention.kind == Distribution::Kind::kBeta);
  CHECK(c.withdraw_fraction.kind == Distribution::Kind::kConstant);
  CHECK(c.withdraw_fraction.value == 0.25);
  CHECK(c.reaction_lag_ticks.kind == Distribution::Kind::kLognormal);
  CHECK(c.threshold_balance_rank_correlation == -0.5);
  CHECK(c.calm_threshold == -0.2);
  CHECK(c.redeposit_rate == 0.1);
  CHECK(c.redeposit_fraction == 0.5);
  // Non-constant distributions need no range (the engine clamps draws).
  CHECK(load(replace(kMinimal, "threshold: 0.5",
                     "threshold: 0.5\n      attention: {dist: normal, mean: 0.5, sd: 2}"))
            .scenario.population.classes[0]
            .attention.kind == Distribution::Kind::kNormal);
}

TEST_CASE("loader: range checks on constant class attributes") {
  auto class_error = [](const std::string& line) {
    return error_of(replace(kMinimal, "threshold: 0.5", "threshold: 0.5\n      " + line));
  };
  const std::string at = "population.classes[0].";
  CHECK(contains(class_error("withdraw_fraction: 0"),
                 at + "withdraw_fraction: expected a number in (0, 1], got 0"));
  CHECK(contains(class_error("withdraw_fraction: 1.5"), "expected a number in (0, 1], got 1.5"));
  CHECK(contains(class_error("withdraw_fraction: {dist: constant, value: 0}"),
                 at + "withdraw_fraction.value: expected a number in (0, 1], got 0"));
  CHECK(contains(class_error("reaction_lag_ticks: -1"),
                 at + "reaction_lag_ticks: expected a number >= 0, got -1"));
  CHECK(contains(class_error("noise_sd: {dist: constant, value: -1}"),
                 at + "noise_sd.value: expected a number >= 0, got -1"));
  CHECK(contains(class_error("attention: {dist: constant, value: 2}"),
                 at + "attention.value: expected a number in [0, 1], got 2"));
  CHECK(
      contains(class_error("threshold_balance_rank_correlation: -1.5"),
               at + "threshold_balance_rank_correlation: expected a number in [-1, 1], got -1.5"));
  CHECK(contains(class_error("calm_threshold: .inf"), "expected a finite number"));
  CHECK(contains(class_error("redeposit_rate: 1.1"),
                 at + "redeposit_rate: expected a number in [0, 1], got 1.1"));
  CHECK(contains(class_error("redeposit_fraction: 0"),
                 at + "redeposit_fraction: expected a number in (0, 1], got 0"));
  CHECK(contains(class_error("reaction_lag_tick: 1"),
                 "unknown key 'reaction_lag_tick' in population.classes[0]; did you mean "
                 "'reaction_lag_ticks'?"));
  CHECK(contains(class_error("withdraw_fraction: {dist: uniform, low: 0.5, high: 0.4}"),
                 at + "withdraw_fraction.high: expected high > low (0.5), got 0.4"));
  CHECK(contains(class_error("noise_sd: '0.1'"),
                 at + "noise_sd: expected a number or a mapping with 'dist'"));
}

// ---- network ------------------------------------------------------------------------------

TEST_CASE("loader: network types and their parameters") {
  CHECK(load(kMinimal + "network: {type: complete}\n").scenario.network.kind ==
        NetworkSpec::Kind::kComplete);
  const NetworkSpec ws =
      load(kMinimal + "network: {type: watts_strogatz, k: 4, rewire_probability: 0.25}\n")
          .scenario.network;
  CHECK(ws.kind == NetworkSpec::Kind::kWattsStrogatz);
  CHECK(ws.k == 4);
  CHECK(ws.rewire_probability == 0.25);
  const NetworkSpec ws_default =
      load(kMinimal + "network: {type: watts_strogatz}\n").scenario.network;
  CHECK(ws_default.k == 10);
  CHECK(ws_default.rewire_probability == 0.1);
  const NetworkSpec ba =
      load(kMinimal + "network: {type: barabasi_albert, m: 5}\n").scenario.network;
  CHECK(ba.kind == NetworkSpec::Kind::kBarabasiAlbert);
  CHECK(ba.m == 5);
  CHECK(load(kMinimal + "network: {type: barabasi_albert}\n").scenario.network.m == 3);
  const NetworkSpec conf =
      load(kMinimal +
           "network: {type: configuration, degree: {dist: pareto, scale: 2, shape: 2.5}}\n")
          .scenario.network;
  CHECK(conf.kind == NetworkSpec::Kind::kConfiguration);
  CHECK(conf.degree.kind == Distribution::Kind::kPareto);
  CHECK(conf.degree.shape == 2.5);
  CHECK(load(kMinimal + "network: {type: configuration, degree: -3}\n")
            .scenario.network.degree.value == -3.0);  // negative draws become 0 in the engine

  const std::string two_classes =
      replace(kMinimal, "  classes:\n",
              "  classes:\n    - {name: whale, share: 0.1, balance_usd: 1e6, threshold: 0.2}\n");
  const NetworkSpec sbm =
      load(two_classes +
           "network:\n  type: stochastic_block\n  block_probability: [[0.5, 0.01], [0.01, 0.1]]\n")
          .scenario.network;
  CHECK(sbm.kind == NetworkSpec::Kind::kStochasticBlock);
  CHECK(sbm.block_probability == std::vector<std::vector<double>>{{0.5, 0.01}, {0.01, 0.1}});
}

TEST_CASE("loader: network parameter errors") {
  CHECK(contains(error_of(kMinimal + "network: {type: watts_strogatz, k: 5}\n"),
                 "network.k: expected an even k (the ring lattice links k / 2 neighbours on each "
                 "side), got 5"));
  CHECK(contains(error_of(kMinimal + "network: {type: watts_strogatz, k: 100}\n"),
                 "network.k: expected an integer in 2 .. 99, got 100"));
  CHECK(contains(error_of(kMinimal + "network: {type: watts_strogatz, k: 0}\n"),
                 "network.k: expected an integer in 2 .. 99, got 0"));
  CHECK(contains(
      error_of(replace(kMinimal, "agents: 100", "agents: 8") + "network: {type: watts_strogatz}\n"),
      "test.yaml:12:10: network.k: expected k in 2 .. 7 (min(1000, population.agents - "
      "1)), got 10 (the default; set network.k)"));
  CHECK(contains(error_of(replace(kMinimal, "agents: 100", "agents: 2") +
                          "network: {type: watts_strogatz, k: 2}\n"),
                 "network.type: type: watts_strogatz needs population.agents >= 3"));
  CHECK(contains(error_of(kMinimal + "network: {type: watts_strogatz, rewire_probability: 2}\n"),
                 "network.rewire_probability: expected a number in [0, 1], got 2"));
  CHECK(contains(error_of(kMinimal + "network: {type: barabasi_albert, m: 0}\n"),
                 "network.m: expected an integer in 1 .. 99, got 0"));
  CHECK(contains(error_of(replace(kMinimal, "agents: 100", "agents: 1") +
                          "network: {type: barabasi_albert}\n"),
                 "needs population.agents >= 2"));
  CHECK(contains(error_of(replace(kMinimal, "agents: 100", "agents: 3") +
                          "network: {type: barabasi_albert}\n"),
                 "network.m: expected m in 1 .. 2"));
  CHECK(contains(error_of(kMinimal + "network: {type: configuration}\n"),
                 "network.degree: missing required key 'degree' in network"));
  CHECK(contains(error_of(kMinimal + "network: {type: configuration, degree: {dist: normal}}\n"),
                 "network.degree.mean: missing required key 'mean'"));
  // Keys of another type.
  CHECK(contains(error_of(kMinimal + "network: {type: watts_strogatz, m: 3}\n"),
                 "network.m: unknown key 'm' in network (type: watts_strogatz) ('m' is only valid "
                 "with type: barabasi_albert)"));
  CHECK(contains(error_of(kMinimal + "network: {type: barabasi_albert, k: 3}\n"),
                 "('k' is only valid with type: k_out or watts_strogatz)"));
  CHECK(contains(error_of(kMinimal + "network: {type: k_out, rewire_probability: 0.1}\n"),
                 "('rewire_probability' is only valid with type: watts_strogatz)"));
  CHECK(contains(error_of(kMinimal + "network: {type: complete, k: 3}\n"),
                 "unknown key 'k' in network (type: complete)"));
  CHECK(contains(error_of(kMinimal + "network: {type: k_out, directed: true}\n"),
                 "('directed' is only valid with type: edge_list)"));
  CHECK(contains(error_of(kMinimal + "network: {type: watts_strogatz, rewire_probabilty: 0.1}\n"),
                 "did you mean 'rewire_probability'?"));
  CHECK(contains(error_of(kMinimal + "network: {file: e.txt}\n"),
                 "network.file: unknown key 'file' in network ('file' needs type: edge_list)"));
  CHECK(contains(error_of(kMinimal + "network: {type: watts-strogatz}\n"),
                 "did you mean 'watts_strogatz'?"));
}

TEST_CASE("loader: stochastic block matrix errors") {
  const std::string two_classes =
      replace(kMinimal, "  classes:\n",
              "  classes:\n    - {name: whale, share: 0.1, balance_usd: 1e6, threshold: 0.2}\n");
  auto sbm_error = [&](const std::string& matrix) {
    return error_of(two_classes +
                    "network:\n  type: stochastic_block\n  block_probability: " + matrix + "\n");
  };
  CHECK(contains(sbm_error("[[0.5, 0.1], [0.2, 0.3]]"),
                 "test.yaml:15:36: network.block_probability[1][0]: expected a symmetric matrix: "
                 "block_probability[1][0] = 0.2 but block_probability[0][1] = 0.1"));
  CHECK(contains(sbm_error("[[0.5, 0.1]]"),
                 "network.block_probability: expected 2 rows (one per investor class, in class "
                 "order: whale, all), got 1"));
  CHECK(contains(sbm_error("[[0.5, 0.1], [0.1]]"),
                 "network.block_probability[1]: expected 2 entries (one per investor class: the "
                 "matrix is classes x classes), got 1"));
  CHECK(contains(sbm_error("[[0.5, 0.1], [0.1, 1.5]]"),
                 "network.block_probability[1][1]: expected a number in [0, 1], got 1.5"));
  CHECK(
      contains(sbm_error("[0.5, 0.1]"), "network.block_probability[0]: expected a list, got 0.5"));
  CHECK(contains(sbm_error("0.5"), "network.block_probability: expected a list, got 0.5"));
  CHECK(contains(error_of(kMinimal + "network: {type: stochastic_block}\n"),
                 "network.block_probability: missing required key 'block_probability'"));
}

TEST_CASE("loader: edge list read from a file") {
  const TempDir dir;
  dir.write("net/edges.txt",
            "# id pairs\n"
            "0 1\n"
            "\n"
            "1,2   # a comment\n"
            "  3 ,\t4\r\n"
            "99 0\n"
            "5 5\n");
  const std::string path =
      dir.write("scenario.yaml", kMinimal +
                                     "network: {type: edge_list, file: net/edges.txt, "
                                     "self_loops: drop, directed: true}\n");
  const NetworkSpec n = load_scenario_file(path).scenario.network;
  CHECK(n.kind == NetworkSpec::Kind::kEdgeList);
  CHECK(n.directed);
  CHECK(n.self_loops == NetworkSpec::SelfLoops::kDrop);
  using Edges = std::vector<std::pair<std::uint32_t, std::uint32_t>>;
  CHECK(n.edges == Edges{{0, 1}, {1, 2}, {3, 4}, {99, 0}});
  // Defaults: undirected, self-loops rejected.
  dir.write("net/ok.txt", "0 1\n2 3\n");
  const NetworkSpec d =
      load_scenario_file(path, {"network={type: edge_list, file: net/ok.txt}"}).scenario.network;
  CHECK_FALSE(d.directed);
  CHECK(d.self_loops == NetworkSpec::SelfLoops::kReject);
  CHECK(d.edges == Edges{{0, 1}, {2, 3}});
  // An empty edge list is allowed (no peers).
  dir.write("net/empty.txt", "# nothing\n\n");
  CHECK(load_scenario_file(path, {"network.file=net/empty.txt"}).scenario.network.edges.empty());
}

TEST_CASE("loader: edge list errors name the edge file and its line") {
  const TempDir dir;
  const std::string path = dir.write("s.yaml", replace(kMinimal, "agents: 100", "agents: 1000") +
                                                   "network:\n  type: edge_list\n  file: e.txt\n");
  const std::string edges = (dir.path() / "e.txt").string();
  auto edge_error = [&](const std::string& text, const std::vector<std::string>& overrides = {}) {
    dir.write("e.txt", text);
    return file_error(path, overrides);
  };
  CHECK(edge_error("0 1\n# c\n5 1200\n") ==
        edges +
            ":3:3: network.file: agent id 1200 out of range 0 .. 999 (population.agents = "
            "1000)");
  CHECK(edge_error("0 1\n7 7\n") ==
        edges +
            ":2:1: network.file: self-loop: agent 7 is linked to itself (set "
            "network.self_loops: drop to skip self-loops)");
  CHECK(edge_error("0 1 2\n") ==
        edges +
            ":1:1: network.file: expected two agent ids (integers) separated by whitespace "
            "or a comma, got '0 1 2'");
  CHECK(contains(edge_error("0\n"), edges + ":1:1: network.file: expected two agent ids"));
  CHECK(contains(edge_error("1 2\n0 x\n"), edges + ":2:3: network.file: expected two agent ids"));
  CHECK(contains(edge_error("-1 2\n"), edges + ":1:1: network.file: expected two agent ids"));
  CHECK(contains(edge_error("1.5 2\n"), "expected two agent ids"));
  CHECK(contains(edge_error("1,,2\n"), "expected two agent ids"));
  CHECK(contains(edge_error("1 2,\n"), "expected two agent ids"));
  CHECK(contains(edge_error("3 99999999999999999999999\n"),
                 ":1:3: network.file: agent id 99999999999999999999999 out of range 0 .. 999"));
  CHECK(contains(file_error(path, {"network.file=nope.txt"}),
                 "--set network.file=nope.txt: network.file: cannot open '"));
  CHECK(contains(edge_error("1 2\n", {"network.self_loops=keep"}),
                 "network.self_loops: expected one of reject, drop, got 'keep'"));
  CHECK(contains(edge_error("1 2\n", {"network.directed=yes please"}),
                 "network.directed: expected true or false, got 'yes please'"));
  CHECK(contains(edge_error("1 2\n", {"network.directed='true'"}),
                 "expected true or false, got the string \"true\""));
  CHECK(contains(error_of(kMinimal + "network: {type: edge_list}\n"),
                 "network.file: missing required key 'file' in network"));
}

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

// ---- institution balance sheet, halt on insolvency, policies ------------------------------------

namespace {

// kMinimal with institutions[0] replaced by `institution` (a flow mapping).
std::string with_institution(const std::string& institution) {
  return replace(kMinimal, "  - {}", "  - " + institution);
}

// kMinimal with one policy (a flow mapping).
std::string with_policy(const std::string& policy) {
  return with_institution("{policies: [" + policy + "]}");
}

}  // namespace

TEST_CASE("loader: cold reserves, illiquid assets and transfer limits") {
  const InstitutionSpec s = load(replace(kMinimal, "  - {}\n",
                                         "  - hot_reserve_fraction: 0.1\n"
                                         "    cold_reserve_fraction: 0.6\n"
                                         "    illiquid_fraction: 0.45\n"
                                         "    cold_to_hot_per_tick_usd: 2.5e6\n"
                                         "    cold_delay_ticks: 12\n"))
                                .scenario.institutions[0];
  CHECK(s.hot_reserve_fraction == 0.1);
  CHECK(s.cold_reserve_fraction == 0.6);
  CHECK(s.illiquid_fraction == 0.45);
  CHECK(s.cold_to_hot_per_tick == 250'000'000);  // cents
  CHECK(s.cold_delay_ticks == 12);
  CHECK(load(with_institution("{cold_to_hot_per_tick_usd: 0.014}"))
            .scenario.institutions[0]
            .cold_to_hot_per_tick == 1);
  CHECK(load(with_institution("{cold_reserve_fraction: 100, illiquid_fraction: 100}"))
            .scenario.institutions[0]
            .illiquid_fraction == 100.0);

  CHECK(error_of(with_institution("{cold_reserve_fraction: -0.1}")) ==
        "test.yaml:11:29: institutions[0].cold_reserve_fraction: expected a number in [0, 100], "
        "got -0.1");
  CHECK(contains(error_of(with_institution("{illiquid_fraction: 101}")),
                 "institutions[0].illiquid_fraction: expected a number in [0, 100], got 101"));
  CHECK(
      contains(error_of(with_institution("{cold_to_hot_per_tick_usd: 0}")),
               "institutions[0].cold_to_hot_per_tick_usd: expected a number in (0, 1e+14], got 0"));
  CHECK(contains(error_of(with_institution("{cold_to_hot_per_tick_usd: 2e14}")),
                 "institutions[0].cold_to_hot_per_tick_usd: expected a number in (0, 1e+14]"));
  CHECK(contains(error_of(with_institution("{cold_to_hot_per_tick_usd: 0.001}")),
                 "institutions[0].cold_to_hot_per_tick_usd: expected at least 0.01 USD (one cent), "
                 "got 0.001"));
  CHECK(
      contains(error_of(with_institution("{cold_delay_ticks: 100001}")),
               "institutions[0].cold_delay_ticks: expected an integer in 0 .. 100000, got 100001"));
  CHECK(contains(error_of(with_institution("{cold_delay_ticks: -1}")),
                 "institutions[0].cold_delay_ticks: expected an integer in 0 .. 100000, got -1"));
  CHECK(contains(error_of(with_institution("{cold_delay_ticks: 1.5}")),
                 "institutions[0].cold_delay_ticks: expected an integer"));
  CHECK(contains(error_of(with_institution("{cold_reserve_fracton: 0.5}")),
                 "unknown key 'cold_reserve_fracton' in institutions[0]; did you mean "
                 "'cold_reserve_fraction'?"));
  CHECK(contains(error_of(with_institution("{illiquid_fraction: abc}")),
                 "institutions[0].illiquid_fraction: expected a number"));
}

TEST_CASE("loader: halt when_insolvent") {
  const HaltSpec h =
      load(with_institution("{halt: {when_insolvent: true}}")).scenario.institutions[0].halt;
  CHECK(h.when_insolvent);
  CHECK(h.any());
  CHECK(h.at_tick == kForever);
  CHECK_FALSE(load(with_institution("{halt: {when_insolvent: false}}"))
                  .scenario.institutions[0]
                  .halt.any());
  CHECK_FALSE(load(with_institution("{halt: {}}")).scenario.institutions[0].halt.any());
  CHECK(contains(error_of(with_institution("{halt: {when_insolvent: yes}}")),
                 "institutions[0].halt.when_insolvent: expected true or false, got 'yes'"));
  CHECK(contains(error_of(with_institution("{halt: {when_insolvnt: true}}")),
                 "unknown key 'when_insolvnt' in institutions[0].halt; did you mean "
                 "'when_insolvent'?"));
}

TEST_CASE("loader: policies of each kind") {
  const std::string yaml = replace(kMinimal, "  - {}\n",
                                   "  - policies:\n"
                                   "      - kind: lender_of_last_resort\n"
                                   "        label: central bank\n"
                                   "        when: {hot_ratio_below: 0.05}\n"
                                   "        amount_usd: 1.5e9\n"
                                   "      - kind: proof_of_reserves\n"
                                   "        when: {at_tick: 3}\n"
                                   "        magnitude: -0.5\n"
                                   "        decay_ticks: 6\n"
                                   "        duration_ticks: 24\n"
                                   "        reach: 0.4\n"
                                   "      - kind: deposit_insurance\n"
                                   "        when: {at: 2022-01-01T02:30Z}\n"
                                   "        coverage_usd: 250000\n"
                                   "        insured_stress_factor: 0.2\n"
                                   "      - kind: gate\n"
                                   "        when: {withdrawn_fraction_at_least: 0.3, "
                                   "when_insolvent: true}\n"
                                   "        fraction_per_day: 0.1\n");
  const std::vector<PolicySpec> p = load(yaml).scenario.institutions[0].policies;
  REQUIRE(p.size() == 4);
  CHECK(p[0].kind == PolicySpec::Kind::kLenderOfLastResort);
  CHECK(p[0].label == "central bank");
  CHECK(p[0].trigger.hot_ratio_below == 0.05);
  CHECK(p[0].trigger.at_tick == kForever);
  CHECK(p[0].injection == 150'000'000'000);  // cents
  CHECK(p[1].kind == PolicySpec::Kind::kProofOfReserves);
  CHECK(p[1].label == "proof_of_reserves 1");
  CHECK(p[1].trigger.at_tick == 3);
  CHECK(p[1].news_magnitude == -0.5);
  CHECK(p[1].news_decay_ticks == 6.0);
  CHECK(p[1].news_duration_ticks == 24);
  CHECK(p[1].news_reach == 0.4);
  CHECK(p[2].kind == PolicySpec::Kind::kDepositInsurance);
  CHECK(p[2].trigger.at_tick == 2);  // 2.5 h after the start, in 1 h ticks
  CHECK(p[2].coverage == 25'000'000);
  CHECK(p[2].insured_stress_factor == 0.2);
  CHECK(p[3].kind == PolicySpec::Kind::kGate);
  CHECK(p[3].label == "gate 3");
  CHECK(p[3].trigger.withdrawn_fraction_at_least == 0.3);
  CHECK(p[3].trigger.when_insolvent);
  CHECK(p[3].gate_fraction == 0.1);
  CHECK(p[3].trigger.any());
}

TEST_CASE("loader: policy defaults") {
  const PolicySpec r = load(with_policy("{kind: proof_of_reserves, when: {when_insolvent: true}}"))
                           .scenario.institutions[0]
                           .policies.at(0);
  CHECK(r.label == "proof_of_reserves 0");
  CHECK(r.news_magnitude == -0.2);
  CHECK(r.news_decay_ticks == std::numeric_limits<double>::infinity());
  CHECK(r.news_duration_ticks == kForever);
  CHECK(r.news_reach == 1.0);
  const PolicySpec d = load(with_policy("{kind: deposit_insurance, when: {at_tick: 0}, "
                                        "coverage_usd: 0}"))
                           .scenario.institutions[0]
                           .policies.at(0);
  CHECK(d.coverage == 0);
  CHECK(d.insured_stress_factor == 0.0);
  CHECK(d.trigger.at_tick == 0);
  CHECK(load(with_institution("{policies: []}")).scenario.institutions[0].policies.empty());
  CHECK(load(with_policy("{kind: proof_of_reserves, when: {at_tick: 1}, magnitude: 0}"))
            .scenario.institutions[0]
            .policies.at(0)
            .news_magnitude == 0.0);
  CHECK(load(with_policy("{kind: gate, when: {at_tick: 1}, fraction_per_day: 1}"))
            .scenario.institutions[0]
            .policies.at(0)
            .gate_fraction == 1.0);
}

TEST_CASE("loader: a policy needs a trigger") {
  CHECK(error_of(replace(kMinimal, "  - {}\n",
                         "  - policies:\n"
                         "      - kind: gate\n"
                         "        when: {}\n"
                         "        fraction_per_day: 0.5\n")) ==
        "test.yaml:13:15: institutions[0].policies[0].when: a policy needs a trigger: set at "
        "least one of at_tick, at, withdrawn_fraction_at_least, hot_ratio_below, "
        "liquid_ratio_below or when_insolvent");
  CHECK(contains(error_of(with_policy("{kind: gate, when: {when_insolvent: false}, "
                                      "fraction_per_day: 0.5}")),
                 "institutions[0].policies[0].when: a policy needs a trigger"));
  CHECK(contains(error_of(with_policy("{kind: gate, fraction_per_day: 0.5}")),
                 "institutions[0].policies[0].when: missing required key 'when': a policy needs "
                 "a trigger"));
  CHECK(contains(error_of(with_policy("{kind: gate, when: 3, fraction_per_day: 0.5}")),
                 "institutions[0].policies[0].when: expected a mapping"));
  CHECK(contains(error_of(with_policy("{kind: gate, when: {at_tik: 3}, fraction_per_day: 0.5}")),
                 "institutions[0].policies[0].when.at_tik: unknown key 'at_tik' in "
                 "institutions[0].policies[0].when; did you mean 'at_tick'?"));
  CHECK(contains(error_of(with_policy("{kind: gate, when: {at_tick: 1, at: 2022-01-02}, "
                                      "fraction_per_day: 0.5}")),
                 "institutions[0].policies[0].when.at: give either 'at_tick' or 'at', not both"));
  CHECK(contains(error_of(with_policy("{kind: gate, when: {hot_ratio_below: 0}, "
                                      "fraction_per_day: 0.5}")),
                 "institutions[0].policies[0].when.hot_ratio_below: expected a number in (0, 1], "
                 "got 0"));
  CHECK(contains(error_of(with_policy("{kind: gate, when: {withdrawn_fraction_at_least: 1.5}, "
                                      "fraction_per_day: 0.5}")),
                 "institutions[0].policies[0].when.withdrawn_fraction_at_least: expected a number "
                 "in (0, 1], got 1.5"));
  CHECK(contains(error_of(with_policy("{kind: gate, when: {at: 2021-12-31}, "
                                      "fraction_per_day: 0.5}")),
                 "institutions[0].policies[0].when.at: expected a time not before time.start"));
}

TEST_CASE("loader: policy kinds and keys of other kinds") {
  CHECK(contains(error_of(with_policy("{kind: gaet, when: {at_tick: 1}}")),
                 "institutions[0].policies[0].kind: expected one of lender_of_last_resort, "
                 "proof_of_reserves, deposit_insurance, gate, got 'gaet'; did you mean 'gate'?"));
  CHECK(contains(error_of(with_policy("{kind: proof_of_reserve, when: {at_tick: 1}}")),
                 "did you mean 'proof_of_reserves'?"));
  CHECK(contains(error_of(with_policy("{when: {at_tick: 1}}")),
                 "institutions[0].policies[0].kind: missing required key 'kind' in "
                 "institutions[0].policies[0]"));
  CHECK(contains(error_of(with_policy("{when: {at_tick: 1}, amount_usd: 5}")),
                 "institutions[0].policies[0].amount_usd: unknown key 'amount_usd' in "
                 "institutions[0].policies[0] ('amount_usd' needs kind: lender_of_last_resort)"));
  CHECK(contains(error_of(with_policy("{kind: gate, when: {at_tick: 1}, fraction_per_day: 0.5, "
                                      "amount_usd: 5}")),
                 "institutions[0].policies[0].amount_usd: unknown key 'amount_usd' in "
                 "institutions[0].policies[0] (kind: gate) ('amount_usd' is only valid with kind: "
                 "lender_of_last_resort); valid keys: kind, label, when, fraction_per_day"));
  CHECK(contains(error_of(with_policy("{kind: lender_of_last_resort, when: {at_tick: 1}, "
                                      "amount_usd: 5, magnitude: -1}")),
                 "('magnitude' is only valid with kind: proof_of_reserves)"));
  CHECK(contains(error_of(with_policy("{kind: deposit_insurance, when: {at_tick: 1}, "
                                      "coverage_us: 5}")),
                 "unknown key 'coverage_us' in institutions[0].policies[0] (kind: "
                 "deposit_insurance); did you mean 'coverage_usd'?"));
  CHECK(contains(error_of(with_institution("{policies: {kind: gate}}")),
                 "institutions[0].policies: expected a list"));
  std::string many;
  for (int i = 0; i < 65; ++i)
    many +=
        std::string(i > 0 ? ", " : "") + "{kind: gate, when: {at_tick: 1}, fraction_per_day: 1}";
  CHECK(contains(error_of(with_policy(many)),
                 "institutions[0].policies: expected at most 64 policies, got 65"));
  CHECK(load(with_policy(many.substr(0, many.rfind(", {"))))
            .scenario.institutions[0]
            .policies.size() == 64);
}

TEST_CASE("loader: policy parameters are required and range-checked") {
  const std::string when = "when: {at_tick: 1}";
  CHECK(contains(error_of(with_policy("{kind: lender_of_last_resort, " + when + "}")),
                 "institutions[0].policies[0].amount_usd: missing required key 'amount_usd'"));
  CHECK(
      contains(error_of(with_policy("{kind: lender_of_last_resort, " + when + ", amount_usd: 0}")),
               "institutions[0].policies[0].amount_usd: expected a number in (0, 1e+14], got 0"));
  CHECK(contains(
      error_of(with_policy("{kind: lender_of_last_resort, " + when + ", amount_usd: 1.1e14}")),
      "institutions[0].policies[0].amount_usd: expected a number in (0, 1e+14]"));
  CHECK(contains(
      error_of(with_policy("{kind: lender_of_last_resort, " + when + ", amount_usd: 0.004}")),
      "institutions[0].policies[0].amount_usd: expected at least 0.01 USD (one cent)"));
  CHECK(contains(error_of(with_policy("{kind: proof_of_reserves, " + when + ", magnitude: 0.1}")),
                 "institutions[0].policies[0].magnitude: expected a number <= 0, got 0.1"));
  CHECK(contains(error_of(with_policy("{kind: proof_of_reserves, " + when + ", decay_ticks: 0}")),
                 "institutions[0].policies[0].decay_ticks: expected a number > 0, got 0"));
  CHECK(
      contains(error_of(with_policy("{kind: proof_of_reserves, " + when + ", duration_ticks: 0}")),
               "institutions[0].policies[0].duration_ticks: expected an integer in 1 .. "
               "2147483647, got 0"));
  CHECK(contains(error_of(with_policy("{kind: proof_of_reserves, " + when + ", reach: 1.5}")),
                 "institutions[0].policies[0].reach: expected a number in [0, 1], got 1.5"));
  CHECK(contains(error_of(with_policy("{kind: deposit_insurance, " + when + "}")),
                 "institutions[0].policies[0].coverage_usd: missing required key 'coverage_usd'"));
  CHECK(contains(error_of(with_policy("{kind: deposit_insurance, " + when + ", coverage_usd: -1}")),
                 "institutions[0].policies[0].coverage_usd: expected a number in [0, 1e+14], got "
                 "-1"));
  CHECK(contains(error_of(with_policy("{kind: deposit_insurance, " + when +
                                      ", coverage_usd: 1, insured_stress_factor: 2}")),
                 "institutions[0].policies[0].insured_stress_factor: expected a number in [0, 1], "
                 "got 2"));
  CHECK(contains(error_of(with_policy("{kind: gate, " + when + "}")),
                 "institutions[0].policies[0].fraction_per_day: missing required key "
                 "'fraction_per_day'"));
  CHECK(contains(error_of(with_policy("{kind: gate, " + when + ", fraction_per_day: 0}")),
                 "institutions[0].policies[0].fraction_per_day: expected a number in (0, 1], got "
                 "0"));
  CHECK(contains(error_of(with_policy("{kind: gate, " + when + ", fraction_per_day: 1.01}")),
                 "institutions[0].policies[0].fraction_per_day: expected a number in (0, 1], got "
                 "1.01"));
  // The second policy's errors name its index.
  CHECK(contains(
      error_of(with_policy("{kind: gate, " + when + ", fraction_per_day: 1}, {kind: gate, " + when +
                           ", fraction_per_day: 2}")),
      "institutions[0].policies[1].fraction_per_day: expected a number in (0, 1]"));
}

TEST_CASE("loader: --set overrides of the institution keys and policy fields") {
  const std::string yaml = with_policy("{kind: gate, when: {at_tick: 1}, fraction_per_day: 0.5}");
  const InstitutionSpec s =
      load(yaml, {"institutions[0].policies[0].fraction_per_day=0.25",
                  "institutions[0].policies[0].when.hot_ratio_below=0.1",
                  "institutions[0].policies.0.label=weekly gate",
                  "institutions[0].cold_reserve_fraction=0.7", "institutions[0].cold_delay_ticks=3",
                  "institutions[0].cold_to_hot_per_tick_usd=1000",
                  "institutions[0].halt.when_insolvent=true"})
          .scenario.institutions[0];
  REQUIRE(s.policies.size() == 1);
  CHECK(s.policies[0].gate_fraction == 0.25);
  CHECK(s.policies[0].trigger.at_tick == 1);
  CHECK(s.policies[0].trigger.hot_ratio_below == 0.1);
  CHECK(s.policies[0].label == "weekly gate");
  CHECK(s.cold_reserve_fraction == 0.7);
  CHECK(s.cold_delay_ticks == 3);
  CHECK(s.cold_to_hot_per_tick == 100'000);
  CHECK(s.halt.when_insolvent);
  // A whole policy list from --set.
  const InstitutionSpec t =
      load(kMinimal, {"institutions[0].policies=[{kind: lender_of_last_resort, when: "
                      "{when_insolvent: true}, amount_usd: 1e6}]"})
          .scenario.institutions[0];
  REQUIRE(t.policies.size() == 1);
  CHECK(t.policies[0].injection == 100'000'000);
  // Changing the kind makes the other kind's keys unknown; errors name the override.
  // (The offending key is the file's, so the error gives its position in the file.)
  CHECK(error_of(yaml, {"institutions[0].policies[0].kind=lender_of_last_resort"}) ==
        "test.yaml:11:50: "
        "institutions[0].policies[0].fraction_per_day: unknown key 'fraction_per_day' in "
        "institutions[0].policies[0] (kind: lender_of_last_resort) ('fraction_per_day' is only "
        "valid with kind: gate); valid keys: kind, label, when, amount_usd");
  CHECK(error_of(yaml, {"institutions[0].policies[0].fraction_per_day=0"}) ==
        "--set institutions[0].policies[0].fraction_per_day=0: "
        "institutions[0].policies[0].fraction_per_day: expected a number in (0, 1], got 0");
  CHECK(contains(error_of(yaml, {"institutions[0].policies[0].when={}"}),
                 "--set institutions[0].policies[0].when={}: institutions[0].policies[0].when: a "
                 "policy needs a trigger"));
  CHECK(contains(error_of(yaml, {"institutions[0].policies[1].kind=gate"}),
                 "index 1 is out of range"));
}

TEST_CASE("loader: resolved_yaml round trip with the institution keys and policies") {
  const std::string yaml =
      replace(kFull, "    max_payout_per_tick_usd: 2e8\n",
              "    max_payout_per_tick_usd: 2e8\n"
              "    cold_reserve_fraction: 0.33\n"
              "    illiquid_fraction: 0.61\n"
              "    cold_to_hot_per_tick_usd: 123456.789\n"
              "    cold_delay_ticks: 4\n"
              "    policies:\n"
              "      - {kind: lender_of_last_resort, when: {hot_ratio_below: 0.02}, "
              "amount_usd: 1e9}\n"
              "      - {kind: proof_of_reserves, label: audit, when: {at: 2022-11-07T06:00Z}, "
              "magnitude: -0.35, decay_ticks: 10}\n"
              "      - {kind: deposit_insurance, when: {when_insolvent: true}, coverage_usd: "
              "250000, insured_stress_factor: 0.1}\n"
              "      - {kind: gate, when: {withdrawn_fraction_at_least: 0.2}, "
              "fraction_per_day: 0.05}\n");
  const LoadedScenario first = load(yaml, {"institutions[0].halt.when_insolvent=true",
                                           "institutions[0].policies[1].duration_ticks=48",
                                           "institutions[0].policies[3].fraction_per_day=0.1"});
  const LoadedScenario again = load_scenario_text(first.resolved_yaml, "resolved.yaml");
  check_same(first.scenario, again.scenario);
  CHECK(again.resolved_yaml == first.resolved_yaml);
  const InstitutionSpec& s = first.scenario.institutions[0];
  CHECK(s.halt.when_insolvent);
  CHECK(s.cold_to_hot_per_tick == 12'345'679);  // cents, rounded
  REQUIRE(s.policies.size() == 4);
  CHECK(s.policies[1].trigger.at_tick == 35);  // 17.5 h after the start, in 0.5 h ticks
  CHECK(s.policies[1].news_duration_ticks == 48);
  CHECK(s.policies[3].gate_fraction == 0.1);
}

// ---- institutions[0].assets
// ----------------------------------------------------------------------

namespace {

// kMinimal with institutions[0].assets set to `assets` (a flow list).
std::string with_assets(const std::string& assets) {
  return with_institution("{assets: " + assets + "}");
}

}  // namespace

TEST_CASE("loader: a full asset list is parsed in liquidation order") {
  const std::string yaml =
      replace(kMinimal, "  - {}\n",
              "  - assets:\n"
              "      - name: FTT\n"
              "        holding_fraction: 0.4\n"
              "        price_usd: 22.5\n"
              "        drift_per_day: -0.01\n"
              "        volatility_per_day: 0.08\n"
              "        daily_volume_usd: 3e8\n"
              "        impact: 0.7\n"
              "        permanent_share: 0.6\n"
              "        outflow_drift: 2.5\n"
              "        own_token: true\n"
              "      - name: btc.spot-1\n"
              "        holding_fraction: 0\n"
              "        price_usd: 1e9\n"
              "        drift_per_day: 1e-3\n"
              "        volatility_per_day: 10\n"
              "        daily_volume_usd: 1e15\n"
              "        impact: 0\n"
              "        permanent_share: 1\n"
              "        outflow_drift: 1000\n"
              "        own_token: false\n"
              "      - {name: sol, holding_fraction: 100, permanent_share: 0}\n");
  const std::vector<AssetSpec> a = load(yaml).scenario.institutions[0].assets;
  REQUIRE(a.size() == 3);
  CHECK(a[0].name == "FTT");
  CHECK(a[0].holding_fraction == 0.4);
  CHECK(a[0].price_usd == 22.5);
  CHECK(a[0].drift_per_day == -0.01);
  CHECK(a[0].volatility_per_day == 0.08);
  CHECK(a[0].daily_volume_usd == 3e8);
  CHECK(a[0].impact == 0.7);
  CHECK(a[0].permanent_share == 0.6);
  CHECK(a[0].outflow_drift == 2.5);
  CHECK(a[0].own_token);
  CHECK(a[1].name == "btc.spot-1");
  CHECK(a[1].holding_fraction == 0.0);
  CHECK(a[1].price_usd == 1e9);
  CHECK(a[1].drift_per_day == 1e-3);
  CHECK(a[1].volatility_per_day == 10.0);
  CHECK(a[1].daily_volume_usd == 1e15);
  CHECK(a[1].impact == 0.0);
  CHECK(a[1].permanent_share == 1.0);
  CHECK(a[1].outflow_drift == 1000.0);
  CHECK_FALSE(a[1].own_token);
  CHECK(a[2].name == "sol");
  CHECK(a[2].holding_fraction == 100.0);
  CHECK(a[2].permanent_share == 0.0);
}

TEST_CASE("loader: asset defaults") {
  CHECK(load(kMinimal).scenario.institutions[0].assets.empty());
  CHECK(load(with_assets("[]")).scenario.institutions[0].assets.empty());
  const AssetSpec a = load(with_assets("[{name: x, holding_fraction: 0.25}]"))
                          .scenario.institutions[0]
                          .assets.at(0);
  CHECK(a.name == "x");
  CHECK(a.holding_fraction == 0.25);
  CHECK(a.price_usd == 1.0);
  CHECK(a.drift_per_day == 0.0);
  CHECK(a.volatility_per_day == 0.0);
  CHECK(a.daily_volume_usd == 1e9);
  CHECK(a.impact == 0.5);
  CHECK(a.permanent_share == 0.5);
  CHECK(a.outflow_drift == 0.0);
  CHECK_FALSE(a.own_token);
}

TEST_CASE("loader: asset names are required, valid and unique") {
  CHECK(error_of(with_assets("[{name: a, holding_fraction: 1}, {name: a, holding_fraction: 2}]")) ==
        "test.yaml:11:54: institutions[0].assets[1].name: duplicate asset name 'a' (also "
        "institutions[0].assets[0])");
  CHECK(
      contains(error_of(with_assets("[{name: a, holding_fraction: 1}, {name: b, holding_fraction: "
                                    "1}, {name: a, holding_fraction: 1}]")),
               "institutions[0].assets[2].name: duplicate asset name 'a' (also "
               "institutions[0].assets[0])"));
  CHECK(contains(error_of(with_assets("[{holding_fraction: 1}]")),
                 "institutions[0].assets[0].name: missing required key 'name'"));
  CHECK(contains(error_of(with_assets("[{name: a}]")),
                 "institutions[0].assets[0].holding_fraction: missing required key "
                 "'holding_fraction'"));
  CHECK(contains(error_of(with_assets("[{name: 'a b', holding_fraction: 1}]")),
                 "institutions[0].assets[0].name: expected a name of letters, digits"));
  CHECK(contains(error_of(with_assets("[{name: '', holding_fraction: 1}]")),
                 "institutions[0].assets[0].name: expected a name of letters, digits"));
  // Names are unique among the assets only: an asset may share its name with a class.
  CHECK(load(with_assets("[{name: all, holding_fraction: 1}]"))
            .scenario.institutions[0]
            .assets.size() == 1);
}

TEST_CASE("loader: at most one asset is the own token") {
  CHECK(error_of(with_assets("[{name: a, holding_fraction: 1, own_token: true}, {name: b, "
                             "holding_fraction: 1}, {name: c, holding_fraction: 1, own_token: "
                             "true}]")) ==
        "test.yaml:11:138: institutions[0].assets[2].own_token: at most one asset may be the own "
        "token: 'c' and 'a' (institutions[0].assets[0]) both set own_token: true");
  CHECK(load(with_assets("[{name: a, holding_fraction: 1, own_token: false}, {name: b, "
                         "holding_fraction: 1, own_token: true}]"))
            .scenario.institutions[0]
            .assets.at(1)
            .own_token);
  CHECK(contains(error_of(with_assets("[{name: a, holding_fraction: 1, own_token: 1}]")),
                 "institutions[0].assets[0].own_token: expected true or false, got 1"));
}

TEST_CASE("loader: asset values are range-checked") {
  const auto err = [](const std::string& key_value) {
    return error_of(with_assets("[{name: a, holding_fraction: 1, " + key_value + "}]"));
  };
  CHECK(error_of(with_assets("[{name: a, holding_fraction: -0.5}]")) ==
        "test.yaml:11:43: institutions[0].assets[0].holding_fraction: expected a number in [0, "
        "100], got -0.5");
  CHECK(contains(error_of(with_assets("[{name: a, holding_fraction: 100.5}]")),
                 "institutions[0].assets[0].holding_fraction: expected a number in [0, 100], got "
                 "100.5"));
  CHECK(contains(err("price_usd: 0"),
                 "institutions[0].assets[0].price_usd: expected a number in (0, 1e+09], got 0"));
  CHECK(contains(err("price_usd: 2e9"),
                 "institutions[0].assets[0].price_usd: expected a number in (0, 1e+09], got 2e9"));
  CHECK(contains(err("drift_per_day: .inf"),
                 "institutions[0].assets[0].drift_per_day: expected a finite number"));
  CHECK(contains(err("drift_per_day: abc"),
                 "institutions[0].assets[0].drift_per_day: expected a number"));
  CHECK(load(with_assets("[{name: a, holding_fraction: 1, drift_per_day: -5}]"))
            .scenario.institutions[0]
            .assets.at(0)
            .drift_per_day == -5.0);
  CHECK(contains(err("volatility_per_day: -0.1"),
                 "institutions[0].assets[0].volatility_per_day: expected a number in [0, 10], got "
                 "-0.1"));
  CHECK(contains(err("volatility_per_day: 11"),
                 "institutions[0].assets[0].volatility_per_day: expected a number in [0, 10], got "
                 "11"));
  CHECK(contains(err("daily_volume_usd: 0"),
                 "institutions[0].assets[0].daily_volume_usd: expected a number in (0, 1e+15], got "
                 "0"));
  CHECK(contains(err("daily_volume_usd: 1.5e15"),
                 "institutions[0].assets[0].daily_volume_usd: expected a number in (0, 1e+15]"));
  CHECK(contains(err("impact: -1"),
                 "institutions[0].assets[0].impact: expected a number in [0, 10], got -1"));
  CHECK(contains(err("impact: 10.5"),
                 "institutions[0].assets[0].impact: expected a number in [0, 10], got 10.5"));
  CHECK(contains(err("permanent_share: 1.01"),
                 "institutions[0].assets[0].permanent_share: expected a number in [0, 1], got "
                 "1.01"));
  CHECK(contains(err("permanent_share: -0.01"),
                 "institutions[0].assets[0].permanent_share: expected a number in [0, 1], got "
                 "-0.01"));
  CHECK(
      contains(err("outflow_drift: -1"),
               "institutions[0].assets[0].outflow_drift: expected a number in [0, 1000], got -1"));
  CHECK(contains(err("outflow_drift: 1001"),
                 "institutions[0].assets[0].outflow_drift: expected a number in [0, 1000], got "
                 "1001"));
}

TEST_CASE("loader: asset list shape and unknown asset keys") {
  CHECK(contains(error_of(with_assets("{name: a, holding_fraction: 1}")),
                 "institutions[0].assets: expected a list"));
  CHECK(contains(error_of(with_assets("[x]")), "institutions[0].assets[0]: expected a mapping"));
  std::string many = "[";
  for (int i = 0; i < 33; ++i)
    many +=
        (i ? ", " : "") + std::string("{name: a") + std::to_string(i) + ", holding_fraction: 0.01}";
  many += "]";
  CHECK(contains(error_of(with_assets(many)),
                 "institutions[0].assets: expected at most 32 assets, got 33"));
  CHECK(load(with_assets(many.substr(0, many.rfind(", {")) + "]"))
            .scenario.institutions[0]
            .assets.size() == 32);
  CHECK(error_of(with_assets("[{name: a, holding_fraction: 1, volatilty_per_day: 0.1}]")) ==
        "test.yaml:11:46: institutions[0].assets[0].volatilty_per_day: unknown key "
        "'volatilty_per_day' in institutions[0].assets[0]; did you mean 'volatility_per_day'?");
  CHECK(contains(error_of(with_assets("[{name: a, holding_fraction: 1, own_tokn: true}]")),
                 "unknown key 'own_tokn' in institutions[0].assets[0]; did you mean 'own_token'?"));
  CHECK(contains(error_of(with_institution("{asets: []}")),
                 "unknown key 'asets' in institutions[0]; did you mean 'assets'?"));
}

TEST_CASE("loader: --set overrides of asset fields") {
  const std::string yaml =
      with_assets("[{name: a, holding_fraction: 1}, {name: b, holding_fraction: 2}]");
  const std::vector<AssetSpec> a = load(yaml, {"institutions[0].assets[1].volatility_per_day=0.2",
                                               "institutions[0].assets.0.own_token=true",
                                               "institutions[0].assets[0].price_usd=3"})
                                       .scenario.institutions[0]
                                       .assets;
  REQUIRE(a.size() == 2);
  CHECK(a[0].own_token);
  CHECK(a[0].price_usd == 3.0);
  CHECK(a[1].volatility_per_day == 0.2);
  CHECK(a[1].holding_fraction == 2.0);
  // A whole list from --set.
  const std::vector<AssetSpec> b =
      load(kMinimal,
           {"institutions[0].assets=[{name: tok, holding_fraction: 0.3, own_token: true}]"})
          .scenario.institutions[0]
          .assets;
  REQUIRE(b.size() == 1);
  CHECK(b[0].name == "tok");
  CHECK(b[0].own_token);
  // Errors in overridden values name the override.
  CHECK(error_of(yaml, {"institutions[0].assets[1].impact=11"}) ==
        "--set institutions[0].assets[1].impact=11: institutions[0].assets[1].impact: expected a "
        "number in [0, 10], got 11");
  CHECK(error_of(yaml, {"institutions[0].assets[1].name=a"}) ==
        "--set institutions[0].assets[1].name=a: institutions[0].assets[1].name: duplicate asset "
        "name 'a' (also institutions[0].assets[0])");
  CHECK(contains(error_of(yaml, {"institutions[0].assets[0].own_token=true",
                                 "institutions[0].assets[1].own_token=true"}),
                 "--set institutions[0].assets[1].own_token=true: "
                 "institutions[0].assets[1].own_token: at most one asset may be the own token"));
  CHECK(
      contains(error_of(yaml, {"institutions[0].assets[2].impact=1"}), "index 2 is out of range"));
}

TEST_CASE("loader: resolved_yaml round trip with assets") {
  const std::string yaml =
      replace(kFull, "    max_payout_per_tick_usd: 2e8\n",
              "    max_payout_per_tick_usd: 2e8\n"
              "    assets:\n"
              "      - {name: FTT, holding_fraction: 0.7, price_usd: 22.13, drift_per_day: "
              "-0.0125, volatility_per_day: 0.09, daily_volume_usd: 4.5e8, impact: 0.8, "
              "permanent_share: 0.65, outflow_drift: 3.5, own_token: true}\n"
              "      - {name: BTC, holding_fraction: 0.1, price_usd: 20600.5}\n"
              "      - name: SOL\n"
              "        holding_fraction: 0.2\n"
              "        volatility_per_day: 0.1\n");
  const LoadedScenario first =
      load(yaml, {"institutions[0].assets[1].daily_volume_usd=1.23e10",
                  "institutions[0].assets[2].permanent_share=0.3", "stress.price_weight=0.75"});
  const LoadedScenario again = load_scenario_text(first.resolved_yaml, "resolved.yaml");
  check_same(first.scenario, again.scenario);
  CHECK(again.resolved_yaml == first.resolved_yaml);
  const std::vector<AssetSpec>& a = first.scenario.institutions[0].assets;
  REQUIRE(a.size() == 3);
  CHECK(a[0].own_token);
  CHECK(a[0].drift_per_day == -0.0125);
  CHECK(a[1].daily_volume_usd == 1.23e10);
  CHECK(a[2].permanent_share == 0.3);
  CHECK(first.scenario.stress.price_weight == 0.75);
}

// ---- several institutions: exposures, accounts, destinations, news targets ---------------------

namespace {

// Line numbers below refer to this text (line 1 is "name: three").
const std::string kThree = R"(name: three
time:
  ticks: 10
population:
  agents: 100
  classes:
    - name: retail
      balance_usd: 1000
      threshold: 0.5
      accounts: {FTX: 3, BlockFi: 1}
      destinations: {self_custody: 1, Binance: 2}
    - name: whale
      balance_usd: 1e6
      threshold: 0.3
news:
  - {tick: 2, magnitude: 0.4, institution: FTX}
  - {tick: 1, magnitude: 0.1}
news_process:
  rate_per_tick: 0.1
  magnitude: 0.05
  institution: BlockFi
institutions:
  - name: FTX
    hot_reserve_fraction: 0.2
  - name: BlockFi
    exposures:
      - to: FTX
        amount_usd: 3.5e8
        loss_given_default: 0.8
        news_per_loss: 2
        news_decay_ticks: 12
        news_duration_ticks: 48
        news_reach: 0.9
      - {to: Binance, amount_usd: 1e6}
  - name: Binance
)";

// kThree with BlockFi's exposures replaced by the flow list `exposures`.
std::string with_exposures(const std::string& exposures) {
  const std::string from = "    exposures:\n";
  const auto begin = kThree.find(from);
  const auto end = kThree.find("  - name: Binance");
  return kThree.substr(0, begin) + "    exposures: " + exposures + "\n" + kThree.substr(end);
}

// kThree with the retail class's accounts line replaced.
std::string with_accounts(const std::string& accounts) {
  return replace(kThree, "      accounts: {FTX: 3, BlockFi: 1}", "      accounts: " + accounts);
}

std::string with_destinations(const std::string& destinations) {
  return replace(kThree, "      destinations: {self_custody: 1, Binance: 2}",
                 "      destinations: " + destinations);
}

}  // namespace

TEST_CASE("loader: several institutions with exposures, accounts, destinations and targets") {
  const Scenario s = load(kThree).scenario;
  REQUIRE(s.institutions.size() == 3);
  CHECK(s.institutions[0].name == "FTX");
  CHECK(s.institutions[0].hot_reserve_fraction == 0.2);
  CHECK(s.institutions[0].exposures.empty());
  CHECK(s.institutions[1].name == "BlockFi");
  CHECK(s.institutions[1].hot_reserve_fraction == 1.0);
  CHECK(s.institutions[2].name == "Binance");
  CHECK(s.institutions[2].exposures.empty());

  const std::vector<ExposureSpec>& e = s.institutions[1].exposures;
  REQUIRE(e.size() == 2);
  CHECK(e[0].debtor == 0);
  CHECK(e[0].amount == 35'000'000'000);  // cents
  CHECK(e[0].loss_given_default == 0.8);
  CHECK(e[0].news_per_loss == 2.0);
  CHECK(e[0].news_decay_ticks == 12.0);
  CHECK(e[0].news_duration_ticks == 48);
  CHECK(e[0].news_reach == 0.9);
  // A forward reference (Binance is listed after BlockFi), with every default.
  CHECK(e[1].debtor == 2);
  CHECK(e[1].amount == 100'000'000);
  CHECK(e[1].loss_given_default == 1.0);
  CHECK(e[1].news_per_loss == 0.0);
  CHECK(e[1].news_decay_ticks == std::numeric_limits<double>::infinity());
  CHECK(e[1].news_duration_ticks == kForever);
  CHECK(e[1].news_reach == 1.0);

  const InvestorClass& retail = s.population.classes[0];
  CHECK(retail.account_shares == std::vector<double>{3.0, 1.0, 0.0});
  CHECK(retail.destination_shares == std::vector<double>{1.0, 0.0, 0.0, 2.0});
  const InvestorClass& whale = s.population.classes[1];
  CHECK(whale.account_shares.empty());      // everyone at institutions[0]
  CHECK(whale.destination_shares.empty());  // all self-custody

  REQUIRE(s.news.size() == 2);
  CHECK(s.news[0].tick == 1);
  CHECK(s.news[0].institution == -1);  // every agent
  CHECK(s.news[1].tick == 2);
  CHECK(s.news[1].institution == 0);  // FTX's depositors
  CHECK(s.news_process.institution == 1);
}

TEST_CASE("loader: defaults of the multi-institution keys") {
  const Scenario s = load(kMinimal).scenario;
  REQUIRE(s.institutions.size() == 1);
  CHECK(s.institutions[0].name == "bank");
  CHECK(s.institutions[0].exposures.empty());
  CHECK(s.population.classes[0].account_shares.empty());
  CHECK(s.population.classes[0].destination_shares.empty());
  CHECK(s.news_process.institution == -1);
  CHECK(load(kMinimal + "news: [{tick: 1, magnitude: 1}]\n").scenario.news[0].institution == -1);
  // One institution may be named like any other.
  const Scenario one = load(kMinimal + "news: [{tick: 1, magnitude: 1, institution: bank}]\n",
                            {"population.classes[0].accounts={bank: 1}",
                             "population.classes[0].destinations={bank: 1, self_custody: 0}"})
                           .scenario;
  CHECK(one.news[0].institution == 0);
  CHECK(one.population.classes[0].account_shares == std::vector<double>{1.0});
  CHECK(one.population.classes[0].destination_shares == std::vector<double>{0.0, 1.0});
  // Shares need not be normalised; zeros are allowed next to a positive share.
  const Scenario shares = load(with_accounts("{Binance: 0.25, FTX: 0, BlockFi: 1e-9}")).scenario;
  CHECK(shares.population.classes[0].account_shares == std::vector<double>{0.0, 1e-9, 0.25});
  CHECK(load(with_destinations("{self_custody: 7}"))
            .scenario.population.classes[0]
            .destination_shares == std::vector<double>{7.0, 0.0, 0.0, 0.0});
}

TEST_CASE("loader: exposure errors") {
  // To the institution itself, to an unknown institution (with a suggestion).
  CHECK(error_of(with_exposures("[{to: BlockFi, amount_usd: 1}]")) ==
        "test.yaml:26:22: institutions[1].exposures[0].to: an institution cannot be exposed to "
        "itself: 'BlockFi' is institutions[1], the creditor (name another institution)");
  CHECK(error_of(with_exposures("[{amount_usd: 1, to: FTx}]")) ==
        "test.yaml:26:37: institutions[1].exposures[0].to: unknown institution 'FTx'; did you "
        "mean 'FTX'?");
  CHECK(contains(error_of(with_exposures("[{to: Celsius, amount_usd: 1}]")),
                 "institutions[1].exposures[0].to: unknown institution 'Celsius'; institutions: "
                 "FTX, Binance"));
  // The creditor itself is never suggested.
  CHECK(contains(error_of(with_exposures("[{to: BlockFy, amount_usd: 1}]")),
                 "unknown institution 'BlockFy'; institutions: FTX, Binance"));
  CHECK(contains(error_of(with_exposures("[{to: [FTX], amount_usd: 1}]")),
                 "institutions[1].exposures[0].to: expected the name of an institution, got a "
                 "list"));
  // Required keys.
  CHECK(error_of(with_exposures("[{amount_usd: 1}]")) ==
        "test.yaml:26:17: institutions[1].exposures[0].to: missing required key 'to' in "
        "institutions[1].exposures[0]");
  CHECK(contains(error_of(with_exposures("[{to: FTX}]")),
                 "institutions[1].exposures[0].amount_usd: missing required key 'amount_usd'"));
  // Ranges.
  CHECK(
      contains(error_of(with_exposures("[{to: FTX, amount_usd: 0}]")),
               "institutions[1].exposures[0].amount_usd: expected a number in (0, 1e+14], got 0"));
  CHECK(contains(error_of(with_exposures("[{to: FTX, amount_usd: 2e14}]")),
                 "amount_usd: expected a number in (0, 1e+14], got 2e14"));
  CHECK(contains(error_of(with_exposures("[{to: FTX, amount_usd: 0.004}]")),
                 "amount_usd: expected at least 0.01 USD (one cent), got 0.004"));
  CHECK(load(with_exposures("[{to: FTX, amount_usd: 0.014}]"))
            .scenario.institutions[1]
            .exposures[0]
            .amount == 1);
  CHECK(error_of(with_exposures("[{to: FTX, amount_usd: 1, loss_given_default: 1.5}]")) ==
        "test.yaml:26:62: institutions[1].exposures[0].loss_given_default: expected a number in "
        "[0, 1], got 1.5");
  CHECK(contains(error_of(with_exposures("[{to: FTX, amount_usd: 1, loss_given_default: -0.1}]")),
                 "loss_given_default: expected a number in [0, 1], got -0.1"));
  CHECK(load(with_exposures("[{to: FTX, amount_usd: 1, loss_given_default: 0}]"))
            .scenario.institutions[1]
            .exposures[0]
            .loss_given_default == 0.0);
  CHECK(contains(error_of(with_exposures("[{to: FTX, amount_usd: 1, news_per_loss: -1}]")),
                 "institutions[1].exposures[0].news_per_loss: expected a number >= 0, got -1"));
  CHECK(contains(error_of(with_exposures("[{to: FTX, amount_usd: 1, news_decay_ticks: 0}]")),
                 "news_decay_ticks: expected a number > 0, got 0"));
  CHECK(contains(error_of(with_exposures("[{to: FTX, amount_usd: 1, news_duration_ticks: 0}]")),
                 "news_duration_ticks: expected an integer in 1 .. 2147483647, got 0"));
  CHECK(contains(error_of(with_exposures("[{to: FTX, amount_usd: 1, news_reach: 2}]")),
                 "news_reach: expected a number in [0, 1], got 2"));
  // Unknown keys, list shape.
  CHECK(contains(error_of(with_exposures("[{to: FTX, amount_us: 1}]")),
                 "institutions[1].exposures[0].amount_us: unknown key 'amount_us' in "
                 "institutions[1].exposures[0]; did you mean 'amount_usd'?"));
  CHECK(contains(error_of(with_exposures("{to: FTX, amount_usd: 1}")),
                 "institutions[1].exposures: expected a list, got a mapping"));
  CHECK(contains(error_of(replace(kThree, "    hot_reserve_fraction: 0.2\n",
                                  "    hot_reserve_fraction: 0.2\n    exposure: []\n")),
                 "unknown key 'exposure' in institutions[0]; did you mean 'exposures'?"));
  std::string many = "[";
  for (int j = 0; j < 65; ++j) many += std::string(j > 0 ? ", " : "") + "{to: FTX, amount_usd: 1}";
  CHECK(contains(error_of(with_exposures(many + "]")),
                 "institutions[1].exposures: expected at most 64 exposures, got 65"));
  // 64 exposures (several to the same debtor) are fine.
  many = "[";
  for (int j = 0; j < 64; ++j) many += std::string(j > 0 ? ", " : "") + "{to: FTX, amount_usd: 1}";
  CHECK(load(with_exposures(many + "]")).scenario.institutions[1].exposures.size() == 64);
  // With a single institution, there is no one to be exposed to.
  CHECK(contains(error_of(replace(kMinimal, "  - {}", "  - {exposures: [{to: x, amount_usd: 1}]}")),
                 "institutions[0].exposures[0].to: unknown institution 'x'; there is no other "
                 "institution"));
}

TEST_CASE("loader: class accounts errors") {
  CHECK(error_of(with_accounts("{FTX: 1, Binanse: 1}")) ==
        "test.yaml:10:26: population.classes[0].accounts.Binanse: unknown institution 'Binanse' "
        "in population.classes[0].accounts; did you mean 'Binance'?");
  CHECK(contains(error_of(with_accounts("{Kraken: 1}")),
                 "population.classes[0].accounts.Kraken: unknown institution 'Kraken' in "
                 "population.classes[0].accounts; institutions: FTX, BlockFi, Binance"));
  CHECK(contains(error_of(with_accounts("{self_custody: 1}")),
                 "unknown institution 'self_custody' in population.classes[0].accounts"));
  CHECK(error_of(with_accounts("{FTX: 0, Binance: 0}")) ==
        "test.yaml:10:17: population.classes[0].accounts: expected at least one share > 0, got "
        "only zeros");
  CHECK(contains(error_of(with_accounts("{}")),
                 "population.classes[0].accounts: expected at least one share > 0, got an empty "
                 "mapping"));
  CHECK(error_of(with_accounts("{FTX: 1, Binance: -0.5}")) ==
        "test.yaml:10:35: population.classes[0].accounts.Binance: expected a number >= 0, got "
        "-0.5");
  CHECK(contains(error_of(with_accounts("{FTX: abc}")),
                 "population.classes[0].accounts.FTX: expected a number, got 'abc'"));
  CHECK(contains(error_of(with_accounts("{FTX: 1e308, Binance: 1e308}")),
                 "population.classes[0].accounts: the shares sum to infinity"));
  CHECK(contains(error_of(with_accounts("[FTX]")),
                 "population.classes[0].accounts: expected a mapping, got a list"));
  CHECK(contains(error_of(with_accounts("{FTX: 1, FTX: 2}")),
                 "population.classes[0].accounts.FTX: duplicate key 'FTX'"));
  CHECK(contains(error_of(replace(kThree, "      accounts:", "      account:")),
                 "unknown key 'account' in population.classes[0]; did you mean 'accounts'?"));
  // The names come from the institutions list, which is checked first.
  CHECK(contains(error_of(replace(kThree, "  - name: Binance\n", "  - name: FTX\n")),
                 "institutions[2].name: duplicate institution name 'FTX' (also institutions[0])"));
  const std::string no_institutions = kThree.substr(0, kThree.find("institutions:"));
  CHECK(contains(error_of(no_institutions),
                 "institutions: missing required key 'institutions' at the top level"));
}

TEST_CASE("loader: class destinations errors") {
  CHECK(error_of(with_destinations("{self_custody: 1, Binanse: 1}")) ==
        "test.yaml:11:39: population.classes[0].destinations.Binanse: unknown destination "
        "'Binanse' in population.classes[0].destinations; did you mean 'Binance'?");
  CHECK(contains(error_of(with_destinations("{self-custody: 1}")),
                 "unknown destination 'self-custody' in population.classes[0].destinations; did "
                 "you mean 'self_custody'?"));
  CHECK(contains(error_of(with_destinations("{Kraken: 1}")),
                 "unknown destination 'Kraken' in population.classes[0].destinations; valid "
                 "destinations: self_custody, FTX, BlockFi, Binance"));
  CHECK(contains(error_of(with_destinations("{self_custody: 0, FTX: 0}")),
                 "population.classes[0].destinations: expected at least one share > 0, got only "
                 "zeros"));
  CHECK(contains(error_of(with_destinations("{self_custody: -1, FTX: 2}")),
                 "population.classes[0].destinations.self_custody: expected a number >= 0, got "
                 "-1"));
  CHECK(contains(error_of(with_destinations("self_custody")),
                 "population.classes[0].destinations: expected a mapping, got 'self_custody'"));
}

TEST_CASE("loader: news and news_process institution targets") {
  CHECK(error_of(replace(kThree, "institution: FTX}", "institution: FTXX}")) ==
        "test.yaml:16:44: news[0].institution: unknown institution 'FTXX'; did you mean 'FTX'?");
  CHECK(contains(error_of(replace(kThree, "institution: FTX}", "institution: Kraken}")),
                 "news[0].institution: unknown institution 'Kraken'; institutions: FTX, BlockFi, "
                 "Binance"));
  CHECK(contains(error_of(replace(kThree, "institution: FTX}", "institution: [FTX]}")),
                 "news[0].institution: expected the name of an institution, got a list"));
  CHECK(contains(error_of(replace(kThree, "institution: FTX}", "institutions: FTX}")),
                 "unknown key 'institutions' in news[0]; did you mean 'institution'?"));
  CHECK(error_of(replace(kThree, "  institution: BlockFi", "  institution: blockfi")) ==
        "test.yaml:21:16: news_process.institution: unknown institution 'blockfi'; did you mean "
        "'BlockFi'?");
  CHECK(load(replace(kThree, "  institution: BlockFi", "  institution: Binance"))
            .scenario.news_process.institution == 2);
}

TEST_CASE("loader: --set overrides and round trip of the multi-institution keys") {
  const LoadedScenario first =
      load(kThree, {"institutions[1].exposures[0].to=Binance",
                    "institutions[1].exposures[1].loss_given_default=0.25",
                    "institutions[2].exposures=[{to: FTX, amount_usd: 5e5, news_per_loss: 3}]",
                    "population.classes[1].accounts={Binance: 1}",
                    "population.classes[1].destinations={FTX: 1, self_custody: 1}",
                    "news[1].institution=Binance", "news_process.institution=FTX"});
  const Scenario& s = first.scenario;
  CHECK(s.institutions[1].exposures[0].debtor == 2);
  CHECK(s.institutions[1].exposures[1].loss_given_default == 0.25);
  REQUIRE(s.institutions[2].exposures.size() == 1);
  CHECK(s.institutions[2].exposures[0].debtor == 0);
  CHECK(s.institutions[2].exposures[0].amount == 50'000'000);
  CHECK(s.institutions[2].exposures[0].news_per_loss == 3.0);
  CHECK(s.population.classes[1].account_shares == std::vector<double>{0.0, 0.0, 1.0});
  CHECK(s.population.classes[1].destination_shares == std::vector<double>{1.0, 1.0, 0.0, 0.0});
  CHECK(s.news[0].institution == 2);  // news[1] of the file (tick 1), sorted first
  CHECK(s.news_process.institution == 0);
  // The resolved YAML names institutions by name and loads back to the same scenario.
  const LoadedScenario again = load_scenario_text(first.resolved_yaml, "resolved.yaml");
  check_same(s, again.scenario);
  CHECK(again.resolved_yaml == first.resolved_yaml);
  check_same(load(kThree).scenario, load_scenario_text(load(kThree).resolved_yaml, "r").scenario);
  // Renaming an institution by --set leaves references to the old name dangling (the
  // population is read first).
  CHECK(error_of(kThree, {"institutions[2].name=Bnb"}) ==
        "test.yaml:11:39: population.classes[0].destinations.Binance: unknown destination "
        "'Binance' in population.classes[0].destinations; valid destinations: self_custody, FTX, "
        "BlockFi, Bnb");
  CHECK(error_of(kThree, {"institutions[2].name=Bnb",
                          "population.classes[0].destinations={self_custody: 1}"}) ==
        "test.yaml:34:14: institutions[1].exposures[1].to: unknown institution 'Binance'; "
        "institutions: FTX, Bnb");
  // Errors in overridden values name the override.
  CHECK(error_of(kThree, {"institutions[1].exposures[0].to=BlockFi"}) ==
        "--set institutions[1].exposures[0].to=BlockFi: institutions[1].exposures[0].to: an "
        "institution cannot be exposed to itself: 'BlockFi' is institutions[1], the creditor "
        "(name another institution)");
  CHECK(error_of(kThree, {"population.classes[0].accounts.FTX=-1"}) ==
        "--set population.classes[0].accounts.FTX=-1: population.classes[0].accounts.FTX: "
        "expected a number >= 0, got -1");
  CHECK(error_of(kThree, {"population.classes[0].accounts.Kraken=1"}) ==
        "--set population.classes[0].accounts.Kraken=1: population.classes[0].accounts.Kraken: "
        "unknown institution 'Kraken' in population.classes[0].accounts; institutions: FTX, "
        "BlockFi, Binance");
  CHECK(error_of(kThree, {"institutions[1].name=FTX"}) ==
        "--set institutions[1].name=FTX: institutions[1].name: duplicate institution name 'FTX' "
        "(also institutions[0])");
}

// ---- claim currencies: asset tiers and class portfolios ----------------------------------------

namespace {

// Line numbers below refer to this text (line 1 is "name: coins").
const std::string kCoins = R"(name: coins
time:
  ticks: 10
population:
  agents: 100
  classes:
    - name: retail
      balance_usd: 1000
      threshold: 0.5
      accounts: {exchange: 1}
      portfolio: {USD: 0.7, BTC: 0.3}
    - name: trader
      balance_usd: 1e5
      threshold: 0.3
      accounts: {exchange: 2, lender: 1}
      destinations: {self_custody: 1}
      portfolio: {FTT: 0.5, BTC: 0.25, ETH: 0}
    - name: plain
      balance_usd: 10
      threshold: 0.1
institutions:
  - name: exchange
    assets:
      - {name: BTC, holding_fraction: 0.2, price_usd: 20000, hot_share: 0.2, cold_share: 0.7,
         cold_to_hot_units_per_tick: 500, cold_delay_ticks: 6, max_payout_per_tick_usd: 5.0e7}
      - {name: FTT, holding_fraction: 0.1}
      - {name: ETH, holding_fraction: 0.1}
  - name: lender
    assets:
      - {name: FTT, holding_fraction: 0.5}
      - {name: BTC, holding_fraction: 0.1}
)";

// kCoins with the retail (class 0) or trader (class 1) portfolio line replaced.
std::string with_retail_portfolio(const std::string& portfolio) {
  return replace(kCoins, "      portfolio: {USD: 0.7, BTC: 0.3}", "      portfolio: " + portfolio);
}
std::string with_trader_portfolio(const std::string& portfolio) {
  return replace(kCoins, "      portfolio: {FTT: 0.5, BTC: 0.25, ETH: 0}",
                 "      portfolio: " + portfolio);
}

}  // namespace

TEST_CASE("loader: asset tiers and payout limits land in the frozen types") {
  const Scenario s = load(kCoins).scenario;
  REQUIRE(s.institutions.size() == 2);
  REQUIRE(s.institutions[0].assets.size() == 3);
  const AssetSpec& btc = s.institutions[0].assets[0];
  CHECK(btc.name == "BTC");
  CHECK(btc.hot_share == 0.2);
  CHECK(btc.cold_share == 0.7);
  CHECK(btc.cold_to_hot_units_per_tick == 500.0);
  CHECK(btc.cold_delay_ticks == 6);
  CHECK(btc.max_payout_per_tick == 5'000'000'000);  // cents
  // Defaults: all hot, no cold, no limits.
  const AssetSpec& ftt = s.institutions[0].assets[1];
  CHECK(ftt.hot_share == 1.0);
  CHECK(ftt.cold_share == 0.0);
  CHECK(ftt.cold_to_hot_units_per_tick == std::numeric_limits<double>::infinity());
  CHECK(ftt.cold_delay_ticks == 0);
  CHECK(ftt.max_payout_per_tick == std::numeric_limits<Money>::max());
  // hot + cold may be 1 (nothing illiquid) or 0 (everything lent out).
  const auto one = load(with_assets("[{name: a, holding_fraction: 1, hot_share: 0.3, cold_share: "
                                    "0.7}, {name: b, holding_fraction: 1, hot_share: 0, "
                                    "cold_share: 0}, {name: c, holding_fraction: 1, hot_share: "
                                    "0.25, max_payout_per_tick_usd: 0.014}]"))
                       .scenario.institutions[0]
                       .assets;
  CHECK(one[0].hot_share == 0.3);
  CHECK(one[0].cold_share == 0.7);
  CHECK(one[1].hot_share == 0.0);
  CHECK(one[1].cold_share == 0.0);
  CHECK(one[2].hot_share == 0.25);
  CHECK(one[2].cold_share == 0.0);
  CHECK(one[2].max_payout_per_tick == 1);  // 0.014 USD, rounded to a cent
}

TEST_CASE("loader: asset tier errors") {
  // hot_share + cold_share > 1: at the later key in the file.
  CHECK(
      error_of(with_assets("[{name: a, holding_fraction: 1, hot_share: 0.6, cold_share: 0.5}]")) ==
      "test.yaml:11:74: institutions[0].assets[0].cold_share: expected hot_share + cold_share "
      "<= 1 (the rest of the holding is illiquid), got 0.6 + 0.5 = 1.1");
  CHECK(
      error_of(with_assets("[{name: a, holding_fraction: 1, cold_share: 0.5, hot_share: 0.6}]")) ==
      "test.yaml:11:74: institutions[0].assets[0].hot_share: expected hot_share + cold_share "
      "<= 1 (the rest of the holding is illiquid), got 0.6 + 0.5 = 1.1");
  CHECK(error_of(with_assets("[{name: a, holding_fraction: 1, cold_share: 0.5}]")) ==
        "test.yaml:11:58: institutions[0].assets[0].cold_share: expected hot_share + cold_share "
        "<= 1 (the rest of the holding is illiquid), got 1 (hot_share, the default) + 0.5 = 1.5; "
        "set hot_share");
  // Ranges.
  CHECK(contains(error_of(with_assets("[{name: a, holding_fraction: 1, hot_share: 1.5}]")),
                 "institutions[0].assets[0].hot_share: expected a number in [0, 1], got 1.5"));
  CHECK(contains(error_of(with_assets("[{name: a, holding_fraction: 1, hot_share: 0.5, "
                                      "cold_share: -0.1}]")),
                 "institutions[0].assets[0].cold_share: expected a number in [0, 1], got -0.1"));
  CHECK(contains(
      error_of(with_assets("[{name: a, holding_fraction: 1, cold_to_hot_units_per_tick: 0}]")),
      "institutions[0].assets[0].cold_to_hot_units_per_tick: expected a number > 0, got 0"));
  CHECK(contains(
      error_of(with_assets("[{name: a, holding_fraction: 1, cold_to_hot_units_per_tick: .inf}]")),
      "institutions[0].assets[0].cold_to_hot_units_per_tick: expected a finite number"));
  CHECK(
      contains(error_of(with_assets("[{name: a, holding_fraction: 1, cold_delay_ticks: 100001}]")),
               "institutions[0].assets[0].cold_delay_ticks: expected an integer in 0 .. 100000, "
               "got 100001"));
  CHECK(contains(error_of(with_assets("[{name: a, holding_fraction: 1, cold_delay_ticks: 1.5}]")),
                 "cold_delay_ticks: expected an integer, got 1.5 (not a whole number)"));
  CHECK(contains(
      error_of(with_assets("[{name: a, holding_fraction: 1, max_payout_per_tick_usd: 0}]")),
      "institutions[0].assets[0].max_payout_per_tick_usd: expected a number in (0, 1e+14], got 0"));
  CHECK(contains(
      error_of(with_assets("[{name: a, holding_fraction: 1, max_payout_per_tick_usd: 0.004}]")),
      "max_payout_per_tick_usd: expected at least 0.01 USD (one cent), got 0.004"));
  CHECK(
      contains(error_of(with_assets("[{name: a, holding_fraction: 1, hot_shares: 1}]")),
               "unknown key 'hot_shares' in institutions[0].assets[0]; did you mean 'hot_share'?"));
  // The name USD is reserved for US dollars.
  CHECK(error_of(with_assets("[{name: USD, holding_fraction: 1}]")) ==
        "test.yaml:11:22: institutions[0].assets[0].name: the name 'USD' is reserved (it means US "
        "dollars, the cash every institution holds, in population.classes[i].portfolio): give "
        "the asset another name");
  // Also when a portfolio makes the loader read the asset names first.
  CHECK(contains(error_of(replace(kCoins, "{name: ETH,", "{name: USD,")),
                 "test.yaml:27:16: institutions[0].assets[2].name: the name 'USD' is reserved"));
}

TEST_CASE("loader: class portfolios and the claim currencies") {
  const Scenario s = load(kCoins).scenario;
  // BTC first (retail), then FTT (trader); ETH has share 0 and is no claim currency.
  CHECK(s.currencies == std::vector<std::string>{"BTC", "FTT"});
  REQUIRE(s.population.classes.size() == 3);
  CHECK(s.population.classes[0].portfolio == std::vector<double>{0.7, 0.3, 0.0});
  CHECK(s.population.classes[1].portfolio == std::vector<double>{0.0, 0.25, 0.5});
  CHECK(s.population.classes[2].portfolio.empty());  // all USD

  // The order follows the first appearance: class order, then key order in the file.
  const Scenario swapped =
      load(with_trader_portfolio("{BTC: 1}"), {"population.classes[0].portfolio={FTT: 2, USD: 1}"})
          .scenario;
  CHECK(swapped.currencies == std::vector<std::string>{"FTT", "BTC"});
  CHECK(swapped.population.classes[0].portfolio == std::vector<double>{1.0, 2.0, 0.0});
  CHECK(swapped.population.classes[1].portfolio == std::vector<double>{0.0, 0.0, 1.0});

  // A portfolio read before a later class adds a currency is padded with zeros.
  const Scenario padded =
      load(with_retail_portfolio("{USD: 1}"), {"population.classes[2].portfolio={ETH: 3, USD: 1}"})
          .scenario;
  CHECK(padded.currencies == std::vector<std::string>{"FTT", "BTC", "ETH"});
  CHECK(padded.population.classes[0].portfolio == std::vector<double>{1.0, 0.0, 0.0, 0.0});
  CHECK(padded.population.classes[1].portfolio == std::vector<double>{0.0, 0.5, 0.25, 0.0});
  CHECK(padded.population.classes[2].portfolio == std::vector<double>{1.0, 0.0, 0.0, 3.0});

  // USD only: no claim currency besides USD; the given portfolio has one share.
  const Scenario usd =
      load(with_retail_portfolio("{USD: 2}"), {"population.classes[1].portfolio={USD: 1, BTC: 0}"})
          .scenario;
  CHECK(usd.currencies.empty());
  CHECK(usd.population.classes[0].portfolio == std::vector<double>{2.0});
  CHECK(usd.population.classes[1].portfolio == std::vector<double>{1.0});
  const Scenario minimal = load(kMinimal, {"population.classes[0].portfolio={USD: 1}"}).scenario;
  CHECK(minimal.currencies.empty());
  CHECK(minimal.population.classes[0].portfolio == std::vector<double>{1.0});

  // Defaults: no portfolio, no currencies.
  CHECK(load(kMinimal).scenario.currencies.empty());
  CHECK(load(kMinimal).scenario.population.classes[0].portfolio.empty());
  CHECK(load(kThree).scenario.currencies.empty());

  // A share of 0 needs no holding (the lender has no ETH); a destination share of 0 does
  // not count either.
  const Scenario zero =
      load(replace(kCoins, "      accounts: {exchange: 1}\n",
                   "      accounts: {exchange: 1}\n      destinations: {self_custody: 1, lender: "
                   "0}\n"),
           {"population.classes[0].portfolio={USD: 1, ETH: 1}"})
          .scenario;
  CHECK(zero.currencies == std::vector<std::string>{"ETH", "FTT", "BTC"});
  CHECK(zero.population.classes[0].portfolio == std::vector<double>{1.0, 1.0, 0.0, 0.0});
}

TEST_CASE("loader: portfolio errors") {
  // Shares.
  CHECK(error_of(with_retail_portfolio("{USD: 1, BTC: -0.5}")) ==
        "test.yaml:11:32: population.classes[0].portfolio.BTC: expected a number >= 0, got -0.5");
  CHECK(error_of(with_retail_portfolio("{USD: 0, BTC: 0}")) ==
        "test.yaml:11:18: population.classes[0].portfolio: expected at least one share > 0, got "
        "only zeros");
  CHECK(contains(error_of(with_retail_portfolio("{}")),
                 "population.classes[0].portfolio: expected at least one share > 0, got an empty "
                 "mapping"));
  CHECK(contains(error_of(with_retail_portfolio("{USD: 1e308, BTC: 1e308}")),
                 "population.classes[0].portfolio: the shares sum to infinity"));
  CHECK(contains(error_of(with_retail_portfolio("[USD]")),
                 "population.classes[0].portfolio: expected a mapping, got a list"));
  CHECK(contains(error_of(with_retail_portfolio("{USD: 1, USD: 2}")),
                 "population.classes[0].portfolio.USD: duplicate key 'USD'"));
  CHECK(contains(error_of(with_retail_portfolio("{USD: abc}")),
                 "population.classes[0].portfolio.USD: expected a number, got 'abc'"));
  CHECK(contains(error_of(replace(kCoins, "      portfolio: {USD", "      portfolios: {USD")),
                 "unknown key 'portfolios' in population.classes[0]; did you mean 'portfolio'?"));

  // Unknown currencies: did-you-mean over USD and every asset name, or the list of them.
  CHECK(error_of(with_retail_portfolio("{USD: 1, BTc: 1}")) ==
        "test.yaml:11:27: population.classes[0].portfolio.BTc: unknown currency 'BTc' in "
        "population.classes[0].portfolio; did you mean 'BTC'?");
  CHECK(
      contains(error_of(with_retail_portfolio("{usd: 1}")),
               "unknown currency 'usd' in population.classes[0].portfolio; valid currencies: USD, "
               "BTC, FTT, ETH"));
  CHECK(contains(error_of(with_trader_portfolio("{DOGE: 1}")),
                 "population.classes[1].portfolio.DOGE: unknown currency 'DOGE' in "
                 "population.classes[1].portfolio; valid currencies: USD, BTC, FTT, ETH"));
  CHECK(contains(error_of(kMinimal, {"population.classes[0].portfolio={BTC: 1}"}),
                 "population.classes[0].portfolio.BTC: unknown currency 'BTC' in "
                 "population.classes[0].portfolio; valid currencies: USD (other currencies are "
                 "assets listed in institutions[k].assets)"));

  // An asset missing at an account institution (the trader banks at both).
  CHECK(error_of(with_trader_portfolio("{FTT: 1, ETH: 0.1}")) ==
        "test.yaml:17:27: population.classes[1].portfolio.ETH: institution 'lender' "
        "(institutions[1]), where this class's agents can hold claims, has no asset 'ETH' (its "
        "assets: FTT, BTC); add it to institutions[1].assets or remove 'ETH'");
  // ... at institutions[0], where a class without accounts banks.
  CHECK(error_of(replace(replace(kCoins, "      threshold: 0.1\n",
                                 "      threshold: 0.1\n      portfolio: {LND: 1}\n"),
                         "      - {name: BTC, holding_fraction: 0.1}\n",
                         "      - {name: BTC, holding_fraction: 0.1}\n"
                         "      - {name: LND, holding_fraction: 0.1}\n")) ==
        "test.yaml:21:19: population.classes[2].portfolio.LND: institution 'exchange' "
        "(institutions[0]), where this class's agents can hold claims, has no asset 'LND' (its "
        "assets: BTC, FTT, ETH); add it to institutions[0].assets or remove 'LND'");
  // ... at a destination institution (withdrawn funds become claims there).
  CHECK(error_of(replace(kCoins, "      accounts: {exchange: 1}\n",
                         "      accounts: {exchange: 1}\n      destinations: {lender: 1}\n"),
                 {"population.classes[0].portfolio={USD: 1, ETH: 1}"}) ==
        "--set population.classes[0].portfolio={USD: 1, ETH: 1}: "
        "population.classes[0].portfolio.ETH: institution 'lender' (institutions[1]), where this "
        "class's agents can hold claims, has no asset 'ETH' (its assets: FTT, BTC); add it to "
        "institutions[1].assets or remove 'ETH'");
  // ... at an institution with no assets.
  CHECK(contains(error_of(replace(kCoins,
                                  "    assets:\n      - {name: FTT, holding_fraction: 0.5}\n"
                                  "      - {name: BTC, holding_fraction: 0.1}\n",
                                  "    assets: []\n")),
                 "population.classes[1].portfolio.FTT: institution 'lender' (institutions[1]), "
                 "where this class's agents can hold claims, has no asset 'FTT' (it has no "
                 "assets); add it to institutions[1].assets or remove 'FTT'"));
  // The asset names come from the institutions, whose list is checked first.
  CHECK(contains(error_of(replace(kCoins, "  - name: lender\n    assets:\n",
                                  "  - name: lender\n    assets: {}\n    x:\n")),
                 "institutions[1].assets: expected a list, got a mapping"));
}

TEST_CASE("loader: --set overrides and round trip of portfolios and asset tiers") {
  const LoadedScenario first = load(
      kCoins, {"population.classes[2].portfolio={USD: 1, ETH: 0.5}",
               "population.classes[0].portfolio.BTC=0.4", "institutions[0].assets[1].hot_share=0.5",
               "institutions[0].assets[1].cold_share=0.25",
               "institutions[0].assets[1].cold_to_hot_units_per_tick=1e3",
               "institutions[0].assets[1].cold_delay_ticks=2",
               "institutions[0].assets[1].max_payout_per_tick_usd=1e6"});
  const Scenario& s = first.scenario;
  CHECK(s.currencies == std::vector<std::string>{"BTC", "FTT", "ETH"});
  CHECK(s.population.classes[0].portfolio == std::vector<double>{0.7, 0.4, 0.0, 0.0});
  CHECK(s.population.classes[2].portfolio == std::vector<double>{1.0, 0.0, 0.0, 0.5});
  const AssetSpec& ftt = s.institutions[0].assets[1];
  CHECK(ftt.hot_share == 0.5);
  CHECK(ftt.cold_share == 0.25);
  CHECK(ftt.cold_to_hot_units_per_tick == 1000.0);
  CHECK(ftt.cold_delay_ticks == 2);
  CHECK(ftt.max_payout_per_tick == 100'000'000);
  const LoadedScenario again = load_scenario_text(first.resolved_yaml, "resolved.yaml");
  check_same(s, again.scenario);
  CHECK(again.resolved_yaml == first.resolved_yaml);
  check_same(load(kCoins).scenario, load_scenario_text(load(kCoins).resolved_yaml, "r").scenario);
  // Errors in overridden values name the override.
  CHECK(error_of(kCoins, {"population.classes[0].portfolio.XRP=1"}) ==
        "--set population.classes[0].portfolio.XRP=1: population.classes[0].portfolio.XRP: "
        "unknown currency 'XRP' in population.classes[0].portfolio; valid currencies: USD, BTC, "
        "FTT, ETH");
  CHECK(error_of(kCoins, {"institutions[0].assets[0].cold_share=0.9"}) ==
        "--set institutions[0].assets[0].cold_share=0.9: institutions[0].assets[0].cold_share: "
        "expected hot_share + cold_share <= 1 (the rest of the holding is illiquid), got 0.2 + "
        "0.9 = 1.1");
  // Renaming an asset by --set leaves the portfolios naming it dangling.
  CHECK(contains(error_of(kCoins, {"institutions[1].assets[0].name=FTX"}),
                 "population.classes[1].portfolio.FTT: institution 'lender' (institutions[1]), "
                 "where this class's agents can hold claims, has no asset 'FTT' (its assets: FTX, "
                 "BTC)"));
}

#ifdef BANKRUN_SOURCE_DIR
// The first ```yaml block after the given heading of scenarios/README.md ("" if none).
static std::string readme_example(const std::string& heading) {
  std::ifstream in(std::filesystem::path(BANKRUN_SOURCE_DIR) / "scenarios/README.md");
  std::string line, yaml;
  bool in_section = false, in_block = false;
  while (std::getline(in, line)) {
    if (line.starts_with("## ")) in_section = line == heading;
    if (!in_section) continue;
    if (!in_block && line == "```yaml") {
      in_block = true;
    } else if (in_block && line == "```") {
      break;
    } else if (in_block) {
      yaml += line + "\n";
    }
  }
  return yaml;
}

TEST_CASE("loader: the README example of several institutions loads") {
  // The first ```yaml block after the heading "## Example: several institutions".
  const std::string yaml = readme_example("## Example: several institutions");
  REQUIRE_FALSE(yaml.empty());
  const Scenario s = load(yaml).scenario;
  REQUIRE(s.institutions.size() == 3);
  CHECK(s.institutions[0].name == "FTX");
  CHECK(s.institutions[1].name == "Binance");
  CHECK(s.institutions[2].name == "BlockFi");
  REQUIRE(s.institutions[2].exposures.size() == 1);
  CHECK(s.institutions[2].exposures[0].debtor == 0);
}

TEST_CASE("loader: the README example of claims in crypto assets loads") {
  // The first ```yaml block after the heading "## Example: claims in crypto assets".
  const std::string yaml = readme_example("## Example: claims in crypto assets");
  REQUIRE_FALSE(yaml.empty());
  const Scenario s = load(yaml).scenario;
  CHECK(s.currencies == std::vector<std::string>{"BTC"});
  REQUIRE(s.population.classes.size() == 2);
  CHECK(s.population.classes[0].portfolio == std::vector<double>{0.7, 0.3});
  CHECK(s.population.classes[1].portfolio.empty());
  REQUIRE(s.institutions[0].assets.size() == 1);
  const AssetSpec& btc = s.institutions[0].assets[0];
  CHECK(btc.hot_share == 0.2);
  CHECK(btc.cold_share == 0.7);
  CHECK(btc.cold_to_hot_units_per_tick == 500.0);
  CHECK(btc.cold_delay_ticks == 6);
  CHECK(btc.max_payout_per_tick == 5'000'000'000);
}
#endif

TEST_CASE("names longer than 63 characters are rejected") {
  const std::string long_name(64, 'x');
  const auto error = [&](const std::string& text) {
    try {
      load_scenario_text(text, "test.yaml");
    } catch (const ScenarioError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const std::string ok_name(63, 'y');
  CHECK(error("name: s\ntime: {ticks: 1}\npopulation: {agents: 1, classes: [{name: " + ok_name +
              ", balance_usd: 1, threshold: 1}]}\ninstitutions: [{name: b}]\n")
            .empty());
  CHECK(error("name: s\ntime: {ticks: 1}\npopulation: {agents: 1, classes: [{name: a, "
              "balance_usd: 1, threshold: 1}]}\ninstitutions: [{name: " +
              long_name + "}]\n")
            .find("at most 63 characters") != std::string::npos);
}
