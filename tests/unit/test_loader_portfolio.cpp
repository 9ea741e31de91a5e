// The loader on claim currencies (asset tiers, class portfolios), the README's examples and
// name lengths.
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
