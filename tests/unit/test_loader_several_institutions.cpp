// The loader with several institutions: exposures, accounts, destinations, news targets.
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

// ---- several institutions: exposures, accounts, destinations, news targets ---------------------

namespace {

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
