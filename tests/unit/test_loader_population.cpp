// The loader on population.classes[i]: distributions (kinds, parameters, CSV files) and the
// class attributes.
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

// ---- distributions: pareto, beta, empirical ---------------------------------------------------

namespace {

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
                 "('values' belongs to dist: empirical, exact)"));
}

TEST_CASE("loader: exact values, and a class size that is not a multiple of their number") {
  const Distribution e = threshold_of("{dist: exact, values: [0, 1, 2, 3]}");
  CHECK(e.kind == Distribution::Kind::kExact);
  CHECK(e.values == std::vector<double>{0, 1, 2, 3});
  // kMinimal has 100 agents: 4 values are dealt 25 times each; 3 values do not divide 100.
  CHECK(contains(error_of(with_threshold("{dist: exact, values: [0, 1, 2]}")),
                 "test.yaml:9:18: population.classes[0].threshold: dist: exact lists 3 values, but "
                 "class 'all' has 100 agents: expected a multiple of 3"));
  CHECK(contains(error_of(with_threshold("{dist: exact}")),
                 "missing required key: dist: exact needs 'values' (a list of numbers) or 'file'"));
  CHECK(contains(error_of(with_threshold("{dist: exact, values: [1], mean: 0}")),
                 "('mean' belongs to dist: normal)"));
  const std::string balance = replace(kMinimal, "balance_usd: 1000",
                                      "balance_usd: {dist: exact, "
                                      "values: [1, 2, 3, 4, 5, 6, 7]}");
  CHECK(
      contains(error_of(balance), "population.classes[0].balance_usd: dist: exact lists 7 values"));
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

TEST_CASE("loader: accounts per agent, given or derived from the class's account count") {
  const auto weight = [](const std::string& keys) {
    return load(replace(kMinimal, "      threshold: 0.5\n", "      threshold: 0.5\n" + keys))
        .scenario.population.classes[0]
        .accounts_per_agent;
  };
  CHECK(weight("") == 1.0);
  CHECK(weight("      accounts_per_agent: 2.5\n") == 2.5);
  CHECK(weight("      account_count: 1e6\n") == 1e4);  // kMinimal: 100 agents
  // Derived after --set: the same accounts over more agents.
  const Scenario more = load(replace(kMinimal, "      threshold: 0.5\n",
                                     "      threshold: 0.5\n      account_count: 1e6\n"),
                             {"population.agents=1000"})
                            .scenario;
  CHECK(more.population.classes[0].accounts_per_agent == 1e3);
  const auto error = [](const std::string& keys) {
    return error_of(replace(kMinimal, "      threshold: 0.5\n", "      threshold: 0.5\n" + keys));
  };
  CHECK(contains(error("      accounts_per_agent: 0\n"),
                 "population.classes[0].accounts_per_agent: expected a number > 0, got 0"));
  CHECK(contains(error("      accounts_per_agent: 2\n      account_count: 10\n"),
                 "population.classes[0].account_count: give either 'accounts_per_agent' or "
                 "'account_count', not both"));
  CHECK(contains(error("      acount_count: 10\n"), "did you mean 'account_count'?"));
}
