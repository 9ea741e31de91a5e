// Exogenous asset prices from a CSV series by timestamp (MODEL.md section 5).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "scenarios/loader.hpp"
#include "sim/institution.hpp"

using namespace bankrun;

namespace {
std::string scenario_with_prices(const std::string& csv_path) {
  return "name: p\n"
         "time: {ticks: 48, tick_hours: 1, start: 2022-11-08T00:00:00Z}\n"
         "population:\n  agents: 10\n  classes: [{name: a, balance_usd: 1, threshold: 1}]\n"
         "institutions:\n  - name: bank\n    assets:\n"
         "      - {name: BTC, holding_fraction: 0.5, price_usd: 20000, price_file: '" +
         csv_path + "'}\n";
}

std::string write_csv(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path) << text;
  return path.string();
}
}  // namespace

TEST_CASE("price file: timestamps become ticks, the last row of a tick wins") {
  const std::string csv = write_csv("bankrun_prices_ok.csv",
                                    "time,price\n"
                                    "2022-11-07T00:00:00Z,21000\n"  // before the start: tick 0
                                    "2022-11-08T05:30:00Z,18000\n"  // tick 5
                                    "2022-11-08T05:45:00Z,17500\n"  // tick 5 again: wins
                                    "2022-11-09,16000\n");          // tick 24
  const Scenario s = load_scenario_text(scenario_with_prices(csv), "test.yaml").scenario;
  const auto& series = s.institutions[0].assets[0].price_series;
  REQUIRE(series.size() == 3);
  CHECK(series[0] == std::pair<std::int32_t, double>{0, 21000});
  CHECK(series[1] == std::pair<std::int32_t, double>{5, 17500});
  CHECK(series[2] == std::pair<std::int32_t, double>{24, 16000});

  // The market price follows the series: set for tick t+1 at the end of tick t.
  Institution inst(s.institutions[0], 100000, 10, 1.0);
  std::vector<double> price;
  for (int t = 0; t < 30; ++t) {
    inst.update_prices(1, t, 0);
    price.push_back(inst.assets()[0].price);  // price during tick t+1
  }
  CHECK(price[0] == 21000);   // tick 1
  CHECK(price[3] == 21000);   // tick 4
  CHECK(price[4] == 17500);   // tick 5
  CHECK(price[22] == 17500);  // tick 23
  CHECK(price[23] == 16000);  // tick 24
}

TEST_CASE("price file errors name the CSV file and its line") {
  const auto error_of = [](const std::string& csv) {
    try {
      load_scenario_text(scenario_with_prices(csv), "test.yaml");
    } catch (const ScenarioError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const std::string bad_time = write_csv("bankrun_prices_bad1.csv", "2022-11-08,1\nlater,2\n");
  CHECK(error_of(bad_time).find("bankrun_prices_bad1.csv:2:1:") != std::string::npos);
  const std::string bad_price = write_csv("bankrun_prices_bad2.csv", "2022-11-08,-1\n");
  CHECK(error_of(bad_price).find("expected a price > 0") != std::string::npos);
  const std::string unordered =
      write_csv("bankrun_prices_bad3.csv", "2022-11-09,1\n2022-11-08,2\n");
  CHECK(error_of(unordered).find("strictly increasing") != std::string::npos);
  CHECK(error_of(unordered).find("institutions[0].assets[0].price_file") != std::string::npos);
}
