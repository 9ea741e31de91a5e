// Claims held in several assets (MODEL.md, "Claim currencies"): portfolio splits, per-asset
// queues paid in kind with their own payout limits, per-asset hot/cold/illiquid tiers,
// cold-to-hot moves of units, and liabilities per asset.
#include <doctest/doctest.h>

#include <vector>

#include "fixtures.hpp"
#include "sim/run.hpp"
#include "sim/simulation.hpp"

using namespace bankrun;
using namespace bankrun::testing;

namespace {

constexpr std::int64_t kUnit = 100000000;  // base units per unit of an asset

// n agents with $100 each, all withdrawing everything at tick 0 (news above threshold at
// tick 0 only), half of each claim in BTC ($10 a unit, no volatility) held by the bank.
Scenario half_in_btc(std::uint32_t n, std::int32_t ticks) {
  Scenario s = news_only_scenario(n, 0.5, 1.0, ticks, 0, 1);
  s.currencies = {"BTC"};
  s.population.classes[0].portfolio = {0.5, 0.5};
  AssetSpec btc;
  btc.name = "BTC";
  btc.holding_fraction = 0.5;
  btc.price_usd = 10.0;
  s.institutions[0].hot_reserve_fraction = 0.5;
  s.institutions[0].assets = {btc};
  return s;
}

// Runs the simulation; returns every tick's assets of the first institution.
std::vector<std::vector<AssetTick>> asset_series(Simulation& sim, Collect& c) {
  run(sim, c);
  return c.assets;
}

}  // namespace

TEST_CASE("portfolio: requests are split and each part is paid from its own currency") {
  Scenario s = half_in_btc(10, 2);
  Simulation sim(s);
  CHECK(sim.institutions()[0].assets()[0].liabilities() == 10 * 5000);
  Collect c;
  const auto assets = asset_series(sim, c);
  // $50 each in USD from cash, $50 each in kind: 5 BTC at $10.
  CHECK(c.ticks[0].paid == 10 * 10000);
  CHECK(assets[0][0].paid == 10 * 5000);
  CHECK(assets[0][0].paid_units == 50 * kUnit);
  CHECK(assets[0][0].hot_units == 0);
  CHECK(assets[0][0].liabilities == 0);
  CHECK(c.ticks[0].hot == 0);
  CHECK(c.ticks[0].deposits == 0);
  CHECK(c.ticks[0].paid_agents == 10);
  for (const Money claim : sim.population().claim) CHECK(claim == 0);
}

TEST_CASE("portfolio: an agent is paid in full only when every part is paid") {
  // BTC withdrawals limited to $100 a tick: two agents' BTC parts a tick.
  Scenario s = half_in_btc(10, 6);
  s.institutions[0].assets[0].max_payout_per_tick = 10000;
  Simulation sim(s);
  Collect c;
  const auto assets = asset_series(sim, c);
  for (int t = 0; t < 5; ++t) {
    CHECK(assets[t][0].paid == 10000);
    CHECK(c.ticks[t].paid_agents == 2 * (t + 1));
    CHECK(assets[t][0].queue_count == 8 - 2 * t);
    CHECK(assets[t][0].oldest_wait_ticks == (t < 4 ? t : 0));
  }
  CHECK(c.ticks[0].paid == 10 * 5000 + 10000);  // all USD parts, two BTC parts
  CHECK(c.ticks[0].queue_value == 8 * 5000);
  CHECK(c.ticks[1].oldest_wait_ticks == 1);  // the institution's longest wait
}

TEST_CASE("asset tiers: cold units move to hot with a per-tick limit and a delay") {
  // 50 BTC needed; all cold, 20 units a tick, 2 ticks in transit: 20 paid at tick 2, 20 at
  // tick 3, 10 at tick 4.
  Scenario s = half_in_btc(10, 6);
  AssetSpec& btc = s.institutions[0].assets[0];
  btc.holding_fraction = 0.6;  // 60 BTC: 6 hot-less units stay behind as illiquid
  btc.hot_share = 0.0;
  btc.cold_share = 0.9;
  btc.cold_to_hot_units_per_tick = 20.0;
  btc.cold_delay_ticks = 2;
  Simulation sim(s);
  const AssetState& st = sim.institutions()[0].assets()[0];
  CHECK(st.units.cold == 54 * kUnit);
  CHECK(st.units.illiquid == 6 * kUnit);
  Collect c;
  const auto assets = asset_series(sim, c);
  CHECK(assets[0][0].in_transit_units == 20 * kUnit);
  CHECK(assets[1][0].in_transit_units == 40 * kUnit);
  const std::int64_t paid[] = {0, 0, 20, 20, 10, 0};
  for (int t = 0; t < 6; ++t) CHECK(assets[t][0].paid_units == paid[t] * kUnit);
  CHECK(assets.back()[0].cold_units == 4 * kUnit);
  CHECK(assets.back()[0].illiquid_units == 6 * kUnit);
  CHECK(assets.back()[0].value == 10 * 1000);  // 10 units left at $10
}

TEST_CASE("asset tiers: fire sales sell hot units only; a queue in a sold-out asset waits") {
  // Cash covers nothing: the USD parts force a sale of the hot BTC; the BTC parts then wait.
  Scenario s = half_in_btc(10, 3);
  s.institutions[0].hot_reserve_fraction = 0.0;
  AssetSpec& btc = s.institutions[0].assets[0];
  btc.holding_fraction = 1.0;  // 100 BTC, half hot
  btc.hot_share = 0.5;
  btc.cold_share = 0.0;
  Simulation sim(s);
  Collect c;
  const auto assets = asset_series(sim, c);
  CHECK(assets[0][0].proceeds == 10 * 5000);  // no impact: volatility 0
  CHECK(assets[0][0].hot_units == 0);
  CHECK(assets[0][0].illiquid_units == 50 * kUnit);
  CHECK(assets[0][0].paid == 0);
  CHECK(assets.back()[0].queue_value == 10 * 5000);
  CHECK(c.ticks.back().paid_agents == 0);
  CHECK(c.ticks.back().deposits == 10 * 5000);
}

TEST_CASE("portfolio: funds moved to another institution are owed there in the same mix") {
  Scenario s = half_in_btc(10, 2);
  InstitutionSpec b;
  b.name = "B";
  b.assets = s.institutions[0].assets;
  b.assets[0].holding_fraction = 0.0;
  s.institutions.push_back(b);
  s.population.classes[0].account_shares = {1.0, 0.0};
  s.population.classes[0].destination_shares = {0.0, 0.0, 1.0};
  Simulation sim(s);
  Collect c;
  run(sim, c);
  const Institution& to = sim.institutions()[1];
  CHECK(to.deposits() == 10 * 10000);
  CHECK(to.assets()[0].liabilities() == 10 * 5000);  // owed in BTC, held as cash
  CHECK(to.hot() == 10 * 10000);
  for (std::uint32_t i = 0; i < 10; ++i) CHECK(sim.population().account[i] == 1);
}

TEST_CASE("price signal: the drawdown of the assets a class's claims are held in") {
  // BTC halves from tick 1 on. X for a class holding half its claims in BTC is
  // 0.5 * 0.5 = 0.25 > threshold 0.2: it withdraws at tick 1; the all-USD class does not.
  Scenario s = half_in_btc(100, 3);
  s.news.clear();
  s.stress.price_weight = 1.0;
  s.population.classes[0].threshold = constant(0.2);
  InvestorClass usd = s.population.classes[0];
  usd.name = "usd";
  usd.portfolio.clear();
  s.population.classes.push_back(usd);
  s.institutions[0].assets[0].price_series = {{1, 5.0}};
  Simulation sim(s);
  Collect c;
  run(sim, c);
  CHECK(c.classes[0][0].withdrawn_agents == 0);
  CHECK(c.classes[1][0].withdrawn_agents == 50);
  CHECK(c.classes[1][1].withdrawn_agents == 0);
  CHECK(c.ticks[1].price_signal == 0.0);  // no own token
}
