// The loader on institutions[k]: balance sheet, halt, policies and assets.
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

// ---- institution balance sheet, halt on insolvency, policies ------------------------------------

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
        "liquid_ratio_below, when_insolvent or when_insolvent_at_market");
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
  CHECK(contains(
      error_of(with_policy("{kind: gaet, when: {at_tick: 1}}")),
      "institutions[0].policies[0].kind: expected one of lender_of_last_resort, "
      "proof_of_reserves, deposit_insurance, gate, capital_raise, got 'gaet'; did you mean "
      "'gate'?"));
  CHECK(contains(error_of(with_policy("{kind: proof_of_reserve, when: {at_tick: 1}}")),
                 "did you mean 'proof_of_reserves'?"));
  CHECK(contains(error_of(with_policy("{when: {at_tick: 1}}")),
                 "institutions[0].policies[0].kind: missing required key 'kind' in "
                 "institutions[0].policies[0]"));
  CHECK(contains(error_of(with_policy("{when: {at_tick: 1}, amount_usd: 5}")),
                 "institutions[0].policies[0].amount_usd: unknown key 'amount_usd' in "
                 "institutions[0].policies[0] ('amount_usd' needs kind: lender_of_last_resort or "
                 "capital_raise)"));
  CHECK(contains(error_of(with_policy("{kind: gate, when: {at_tick: 1}, fraction_per_day: 0.5, "
                                      "amount_usd: 5}")),
                 "institutions[0].policies[0].amount_usd: unknown key 'amount_usd' in "
                 "institutions[0].policies[0] (kind: gate) ('amount_usd' is only valid with kind: "
                 "lender_of_last_resort or capital_raise); valid keys: kind, label, when, "
                 "fraction_per_day"));
  CHECK(contains(error_of(with_policy("{kind: lender_of_last_resort, when: {at_tick: 1}, "
                                      "amount_usd: 5, magnitude: -1}")),
                 "('magnitude' is only valid with kind: proof_of_reserves or capital_raise)"));
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

TEST_CASE("loader: early liquidation, the final payout and its restrictions") {
  const InstitutionSpec s =
      load(with_institution("{illiquid_fraction: 0.75, illiquid_liquidation_value: 0.5, "
                            "final_payout: true, illiquid_final_return: 1.5}"))
          .scenario.institutions[0];
  CHECK(s.illiquid_liquidation_value == 0.5);
  CHECK(s.final_payout);
  CHECK(s.illiquid_final_return == 1.5);
  const InstitutionSpec d = load(kMinimal).scenario.institutions[0];
  CHECK(d.illiquid_liquidation_value == 0.0);
  CHECK_FALSE(d.final_payout);
  CHECK(d.illiquid_final_return == 1.0);
  CHECK(
      contains(error_of(with_institution("{illiquid_liquidation_value: 1.5}")),
               "institutions[0].illiquid_liquidation_value: expected a number in [0, 1], got 1.5"));
  CHECK(contains(error_of(with_institution("{illiquid_final_return: 2}")),
                 "institutions[0].illiquid_final_return: 'illiquid_final_return' is only valid "
                 "with final_payout: true"));
  CHECK(contains(
      error_of(with_institution("{final_payout: true, assets: [{name: FTT, holding_fraction: "
                                "0.1}]}")),
      "institutions[0].final_payout: final_payout is not available for an institution with "
      "market assets"));
  // kThree: BlockFi has exposures, FTX is owed by BlockFi, the retail class has destinations.
  CHECK(contains(error_of(replace(kThree, "  - name: BlockFi\n",
                                  "  - name: BlockFi\n    final_payout: true\n")),
                 "final_payout is not available for an institution with exposures"));
  CHECK(contains(error_of(replace(kThree, "    hot_reserve_fraction: 0.2\n",
                                  "    hot_reserve_fraction: 0.2\n    final_payout: true\n")),
                 "an exposure to ('BlockFi')"));
  const std::string binance =
      replace(kThree, "  - name: Binance\n", "  - name: Binance\n    final_payout: true\n");
  CHECK(contains(error_of(binance),
                 "institutions[2].final_payout: final_payout is not available "
                 "for an institution that others have an exposure to"));
  const std::string no_exposures = replace(binance, "      - {to: Binance, amount_usd: 1e6}\n", "");
  CHECK(contains(error_of(no_exposures),
                 "final_payout needs every withdrawal to go to self-custody, but class 'retail' "
                 "has destinations"));
}

TEST_CASE("loader: opening hours of institutions and assets, and the calendar") {
  const Scenario s =
      load(with_institution("{opening_hours: {utc_offset_hours: -5, days: [mon, tue, wed, thu, "
                            "fri], from_hour: 9, to_hour: 17, closed_dates: [\"2022-12-26\"]}, "
                            "assets: [{name: USDC, holding_fraction: 0.1, opening_hours: "
                            "{days: [sat]}}]}") +
           "calendar:\n  utc_offset_hours: 8\n  activity_by_weekday: [1, 1, 1, 1, 1, 0.5, 0.5]\n"
           "  holidays: [\"2023-01-23\"]\n")
          .scenario;
  const OpeningHours& h = s.institutions[0].opening_hours;
  CHECK(h.utc_offset_hours == -5);
  CHECK(h.days == std::array<bool, 7>{true, true, true, true, true, false, false});
  CHECK(h.from_hour == 9);
  CHECK(h.to_hour == 17);
  CHECK(h.closed_dates == std::vector<std::int64_t>{19352});  // days since 1970-01-01
  CHECK(s.institutions[0].assets[0].opening_hours.days ==
        std::array<bool, 7>{false, false, false, false, false, true, false});
  CHECK(s.calendar.utc_offset_hours == 8);
  CHECK(s.calendar.activity_by_weekday.size() == 7);
  CHECK(s.calendar.activity_by_hour.empty());
  CHECK(s.calendar.holidays == std::vector<std::int64_t>{19380});
  CHECK(load(kMinimal).scenario.institutions[0].opening_hours.always_open());
  CHECK(load(kMinimal).scenario.calendar.always_active());

  CHECK(
      contains(error_of(with_institution("{opening_hours: {from_hour: 17, to_hour: 9}}")),
               "institutions[0].opening_hours.to_hour: expected to_hour > from_hour (17), got 9"));
  CHECK(contains(error_of(with_institution("{opening_hours: {days: [mon, mon]}}")),
                 "institutions[0].opening_hours.days[1]: 'mon' is listed twice"));
  CHECK(contains(error_of(with_institution("{opening_hours: {days: [monday]}}")),
                 "expected one of mon, tue, wed, thu, fri, sat, sun, got 'monday'"));
  CHECK(contains(
      error_of(with_institution("{opening_hours: {closed_dates: [\"2022-12-26T10:00Z\"]}}")),
      "opening_hours.closed_dates[0]: expected a date YYYY-MM-DD"));
  CHECK(contains(error_of(with_institution("{opening_hours: {form_hour: 9}}")),
                 "did you mean 'from_hour'?"));
  CHECK(contains(error_of(kMinimal + "calendar: {activity_by_weekday: [1, 1]}\n"),
                 "calendar.activity_by_weekday: expected 7 numbers (one per weekday, Monday "
                 "first), got 2"));
  CHECK(contains(error_of(kMinimal + "calendar: {activity_by_weekday: [1, 1, 1, 1, 1, 1, 2]}\n"),
                 "calendar.activity_by_weekday[6]: expected a number in [0, 1], got 2"));
  CHECK(contains(error_of(kMinimal + "calendar: {utc_offset_hours: 20}\n"),
                 "calendar.utc_offset_hours: expected a number in [-12, 14], got 20"));
}

TEST_CASE("loader: a bond's rate path becomes its price series; capital raise") {
  const std::string bond =
      "{name: bonds, holding_fraction: 0.9, price_usd: 2, held_to_maturity: true, "
      "duration_years: 5, news_per_realised_loss: 1.5, rate_path: [{tick: 2, change_pct: 1}, "
      "{at: \"2022-01-01T05:00:00Z\", change_pct: 3}]}";
  const InstitutionSpec s =
      load(with_assets("[" + bond + "]")).scenario.institutions[0];  // 1-hour ticks from 2022-01-01
  const AssetSpec& a = s.assets[0];
  CHECK(a.held_to_maturity);
  CHECK(a.news_per_realised_loss == 1.5);
  REQUIRE(a.price_series.size() == 2);
  CHECK(a.price_series[0].first == 2);
  CHECK(a.price_series[0].second == doctest::Approx(2 * (1 - 5 * 0.01)));
  CHECK(a.price_series[1].first == 5);
  CHECK(a.price_series[1].second == doctest::Approx(2 * (1 - 5 * 0.03)));
  const auto error = [](const std::string& asset) {
    return error_of(with_assets("[" + asset + "]"));
  };
  CHECK(contains(error("{name: b, holding_fraction: 0.1, duration_years: 5}"),
                 "'duration_years' needs 'rate_path'"));
  CHECK(contains(error("{name: b, holding_fraction: 0.1, rate_path: [{tick: 1, change_pct: 1}]}"),
                 "'rate_path' needs 'duration_years'"));
  CHECK(contains(error("{name: b, holding_fraction: 0.1, duration_years: 5, rate_path: [{tick: 3, "
                       "change_pct: 1}, {tick: 3, change_pct: 2}]}"),
                 "rate_path[1].tick: expected increasing ticks: tick 3 is not after the previous "
                 "point's (3)"));
  CHECK(contains(error("{name: b, holding_fraction: 0.1, duration_years: 5, rate_path: [{tick: 0, "
                       "change_pct: 1}]}"),
                 "rate_path[0].tick: expected an integer in 1 .. "));
  CHECK(contains(error("{name: b, holding_fraction: 0.1, duration_years: 5, rate_path: [{tick: 1, "
                       "chnage_pct: 1}]}"),
                 "did you mean 'change_pct'?"));
  const PolicySpec raise =
      load(
          with_policy("{kind: capital_raise, when: {at_tick: 3}, amount_usd: 1e6, magnitude: 0.3}"))
          .scenario.institutions[0]
          .policies[0];
  CHECK(raise.kind == PolicySpec::Kind::kCapitalRaise);
  CHECK(raise.injection == 100'000'000);
  CHECK(raise.news_magnitude == 0.3);
  CHECK(load(with_policy("{kind: capital_raise, when: {at_tick: 3}, amount_usd: 1e6}"))
            .scenario.institutions[0]
            .policies[0]
            .news_magnitude == 0.0);
  CHECK(load(kMinimal).scenario.institutions[0].halt == Trigger{});
  CHECK(load(with_institution("{halt: {when_insolvent_at_market: true}}"))
            .scenario.institutions[0]
            .halt.when_insolvent_at_market);
}
