// The institution: FIFO sequential service, payout limit, partial payment, halts, ledger.
#include <doctest/doctest.h>

#include <vector>

#include "sim/institution.hpp"

using namespace bankrun;

namespace {
struct Payment {
  std::uint32_t agent;
  Money amount;
  bool done;
};
std::vector<Payment> settle(Institution& inst, std::int32_t tick) {
  std::vector<Payment> out;
  inst.settle(tick, [&](std::uint32_t a, Money m, bool d) { out.push_back({a, m, d}); });
  return out;
}
}  // namespace

TEST_CASE("the queue is served first in, first out, up to the payout limit") {
  InstitutionSpec spec;
  spec.hot_reserve_fraction = 1.0;
  spec.max_payout_per_tick = 150;
  Institution inst(spec, 1000, 10);
  inst.submit(3, 0, 100);
  inst.submit(1, 0, 100);
  inst.submit(2, 0, 100);
  auto paid = settle(inst, 0);
  REQUIRE(paid.size() == 2);
  CHECK(paid[0].agent == 3);
  CHECK(paid[0].amount == 100);
  CHECK(paid[0].done);
  CHECK(paid[1].agent == 1);  // head partially paid
  CHECK(paid[1].amount == 50);
  CHECK_FALSE(paid[1].done);
  CHECK(inst.queue_count() == 2);
  CHECK(inst.queue_value() == 150);
  CHECK(inst.oldest_wait(0) == 0);
  CHECK(inst.oldest_wait(3) == 3);
  inst.check_ledger();

  paid = settle(inst, 1);
  REQUIRE(paid.size() == 2);
  CHECK(paid[0].agent == 1);
  CHECK(paid[0].amount == 50);
  CHECK(paid[0].done);
  CHECK(paid[1].agent == 2);
  CHECK(paid[1].amount == 100);
  CHECK(inst.queue_count() == 0);
  CHECK(inst.paid_total() == 300);
  CHECK(inst.deposits() == 700);
  CHECK(inst.hot() == 700);
  inst.check_ledger();
}

TEST_CASE("payments stop when hot reserves run out") {
  InstitutionSpec spec;
  spec.hot_reserve_fraction = 0.25;  // 250 of 1000
  Institution inst(spec, 1000, 10);
  inst.submit(0, 0, 200);
  inst.submit(1, 0, 200);
  settle(inst, 0);
  CHECK(inst.paid_total() == 250);
  CHECK(inst.hot() == 0);
  CHECK(inst.queue_value() == 150);
  CHECK(settle(inst, 1).empty());
  inst.check_ledger();
}

TEST_CASE("halt conditions: hot ratio, withdrawn fraction, scheduled tick") {
  SUBCASE("hot ratio below threshold halts at the end of the tick") {
    InstitutionSpec spec;
    spec.hot_reserve_fraction = 0.5;
    spec.halt.hot_ratio_below = 0.2;
    Institution inst(spec, 1000, 10);
    inst.submit(0, 0, 400);  // hot 500 -> 100, deposits 600: ratio 1/6 < 0.2
    settle(inst, 0);
    CHECK(inst.halted());
    CHECK(inst.halt_tick() == 0);
    inst.submit(1, 1, 50);
    CHECK(settle(inst, 1).empty());  // no payment after a halt
    CHECK(inst.queue_value() == 50);
  }
  SUBCASE("withdrawn fraction") {
    InstitutionSpec spec;
    spec.halt.withdrawn_fraction_at_least = 0.3;
    Institution inst(spec, 1000, 10);
    inst.submit(0, 0, 299);
    settle(inst, 0);
    CHECK_FALSE(inst.halted());
    inst.submit(1, 1, 1);
    settle(inst, 1);
    CHECK(inst.halted());
    CHECK(inst.halt_tick() == 1);
  }
  SUBCASE("withdrawn fraction: the tick's payments stop exactly at the fraction") {
    InstitutionSpec spec;
    spec.halt.withdrawn_fraction_at_least = 0.25;
    Institution inst(spec, 1000, 10);
    inst.submit(0, 0, 200);
    inst.submit(1, 0, 200);  // 400 asked: only 50 more may go once 200 are paid
    inst.submit(2, 0, 100);
    const auto paid = settle(inst, 0);
    REQUIRE(paid.size() == 2);
    CHECK(paid[1].amount == 50);
    CHECK_FALSE(paid[1].done);
    CHECK(inst.paid_total() == 250);  // ceil(0.25 * 1000), never more
    CHECK(inst.halted());
    CHECK(inst.halt_tick() == 0);
    CHECK(settle(inst, 1).empty());
    inst.check_ledger();
  }
  SUBCASE("a scheduled halt stops the payments of its own tick") {
    InstitutionSpec spec;
    spec.halt.at_tick = 2;
    Institution inst(spec, 1000, 10);
    inst.submit(0, 0, 10);
    CHECK(settle(inst, 1).size() == 1);
    inst.submit(1, 2, 10);
    CHECK(settle(inst, 2).empty());
    CHECK(inst.halt_tick() == 2);
  }
}

TEST_CASE("the ring buffer wraps around without losing order") {
  InstitutionSpec spec;
  spec.max_payout_per_tick = 10;
  Institution inst(spec, 1000, 3);
  std::vector<std::uint32_t> order;
  std::uint32_t next = 0;
  for (int t = 0; t < 6; ++t) {
    while (inst.queue_count() < 3) inst.submit(next++, t, 10);
    inst.settle(t, [&](std::uint32_t a, Money, bool) { order.push_back(a); });
    inst.check_ledger();
  }
  for (std::uint32_t k = 0; k < order.size(); ++k) CHECK(order[k] == k);
  while (inst.queue_count() < 3) inst.submit(next++, 6, 10);
  CHECK_THROWS_AS(inst.submit(99, 6, 1), LedgerError);  // full: 3 pending
}

TEST_CASE("cold reserves move to hot at the transfer limit and arrive after the delay") {
  InstitutionSpec spec;
  spec.hot_reserve_fraction = 0.1;   // 100 of 1000
  spec.cold_reserve_fraction = 0.5;  // 500
  spec.cold_to_hot_per_tick = 100;
  spec.cold_delay_ticks = 2;
  Institution inst(spec, 1000, 10);
  inst.submit(0, 0, 400);
  // Tick 0: pays the 100 hot; shortfall 300 - 0 in transit: moves 100 (arrives tick 2).
  settle(inst, 0);
  CHECK(inst.paid_total() == 100);
  CHECK(inst.cold() == 400);
  CHECK(inst.in_transit() == 100);
  inst.check_ledger();
  settle(inst, 1);  // nothing arrives; moves another 100 (shortfall 300 - 100 in transit)
  CHECK(inst.paid_total() == 100);
  CHECK(inst.in_transit() == 200);
  settle(inst, 2);  // the first 100 arrives and is paid; one more 100 leaves cold
  CHECK(inst.paid_total() == 200);
  CHECK(inst.cold() == 200);
  settle(inst, 3);
  settle(inst, 4);
  CHECK(inst.paid_total() == 400);  // the whole request, from cold funds
  CHECK(inst.queue_value() == 0);
  CHECK(inst.hot() + inst.cold() + inst.in_transit() == 600 - 400);
  inst.check_ledger();
}

TEST_CASE("with no delay, cold funds pay the queue in the same tick") {
  InstitutionSpec spec;
  spec.hot_reserve_fraction = 0.0;
  spec.cold_reserve_fraction = 1.0;
  Institution inst(spec, 1000, 10);
  inst.submit(0, 0, 250);
  settle(inst, 0);
  CHECK(inst.paid_total() == 250);
  CHECK(inst.cold() == 750);
  CHECK(inst.hot() == 0);
  inst.check_ledger();
}

TEST_CASE("equity at par, insolvency and a halt when insolvent") {
  InstitutionSpec spec;
  spec.hot_reserve_fraction = 0.3;
  spec.illiquid_fraction = 0.6;
  Institution inst(spec, 1000, 10);
  CHECK(inst.equity() == -100);
  CHECK(inst.insolvent());
  spec.halt.when_insolvent = true;
  Institution halting(spec, 1000, 10);
  halting.submit(0, 0, 10);
  settle(halting, 0);
  CHECK(halting.halted());
  CHECK(halting.halt_tick() == 0);
  InstitutionSpec solvent;
  solvent.hot_reserve_fraction = 0.5;
  solvent.illiquid_fraction = 0.6;
  CHECK(Institution(solvent, 1000, 10).equity() == 100);
}

TEST_CASE("a lender-of-last-resort injection raises hot reserves, not claims") {
  InstitutionSpec spec;
  spec.hot_reserve_fraction = 0.1;
  Institution inst(spec, 1000, 10);
  inst.inject(500);
  CHECK(inst.hot() == 600);
  CHECK(inst.deposits() == 1000);
  CHECK(inst.equity() == 600 - 1000 - 500);  // a loan: liquidity up, equity unchanged
  inst.check_ledger();
}

namespace {
AssetSpec asset(double fraction, double price, double sigma = 0.0, double volume = 1e9) {
  AssetSpec a;
  a.name = "token";
  a.holding_fraction = fraction;
  a.price_usd = price;
  a.volatility_per_day = sigma;
  a.daily_volume_usd = volume;
  a.impact = 1.0;
  a.permanent_share = 0.5;
  return a;
}
}  // namespace

TEST_CASE("fire sale without price impact raises exactly what the queue needs") {
  InstitutionSpec spec;
  spec.hot_reserve_fraction = 0.0;
  spec.assets = {asset(1.0, 10.0)};
  Institution inst(spec, 100000, 10, 24.0);  // $1000 of deposits, $1000 of tokens at $10
  CHECK(inst.assets()[0].units.total() == 100 * 100000000LL);
  inst.submit(0, 0, 25000);  // $250
  settle(inst, 0);
  CHECK(inst.paid_total() == 25000);
  CHECK(inst.assets()[0].proceeds == 25000);
  CHECK(inst.assets()[0].loss == 0);
  CHECK(inst.assets()[0].units.total() == 75 * 100000000LL);
  CHECK(inst.equity() == 0);  // $750 of tokens against $750 of claims
  inst.check_ledger();
}

TEST_CASE("fire sale with square-root price impact: proceeds, realised loss, permanent impact") {
  InstitutionSpec spec;
  spec.hot_reserve_fraction = 0.0;
  // $1M of deposits, all in a token at $1; depth 1e6 units a day (one tick = one day);
  // Y sigma = 0.1.
  spec.assets = {asset(1.0, 1.0, 0.1, 1e6)};
  Institution inst(spec, usd_to_cents(1e6), 10, 24.0);
  inst.submit(0, 0, usd_to_cents(10000));
  settle(inst, 0);
  const AssetState& a = inst.assets()[0];
  // q solves q (1 - 0.1 sqrt(q / 1e6)) = 10000: q ~ 10101.5, I ~ 0.01005.
  const double q = 1e6 - static_cast<double>(a.units.total()) * kAssetUnit;
  CHECK(q == doctest::Approx(10101.5).epsilon(1e-4));
  const double impact = 0.1 * std::sqrt(q / 1e6);
  CHECK(inst.paid_total() == usd_to_cents(10000));
  CHECK(cents_to_usd(a.loss) == doctest::Approx(q * impact).epsilon(1e-3));
  CHECK(a.price == doctest::Approx(1.0 - 0.5 * impact));
  inst.check_ledger();
}

TEST_CASE("asset prices: geometric Brownian motion moments and the own token's outflow drift") {
  InstitutionSpec spec;
  AssetSpec a = asset(0.5, 100.0, 0.04);
  a.drift_per_day = 0.01;
  spec.assets = {a};
  Institution inst(spec, usd_to_cents(1e6), 10, 24.0);
  const int n = 20000;
  double sum = 0, sum_sq = 0, last = 100.0;
  for (int t = 0; t < n; ++t) {
    inst.update_prices(7, t, 0);
    const double r = std::log(inst.assets()[0].price / last);
    last = inst.assets()[0].price;
    sum += r;
    sum_sq += r * r;
  }
  const double mean = sum / n, sd = std::sqrt(sum_sq / n - mean * mean);
  CHECK(std::abs(mean - (0.01 - 0.5 * 0.04 * 0.04)) < 5 * 0.04 / std::sqrt(n));
  CHECK(std::abs(sd - 0.04) < 5 * 0.04 / std::sqrt(2.0 * n));

  InstitutionSpec own;
  AssetSpec token = asset(1.0, 20.0);
  token.own_token = true;
  token.outflow_drift = 2.0;
  own.hot_reserve_fraction = 1.0;
  own.assets = {token};
  Institution ftx(own, usd_to_cents(1000), 10, 1.0);  // total assets $2000
  ftx.update_prices(1, 0, usd_to_cents(100));         // net outflow 5% of assets
  CHECK(ftx.assets()[0].price == doctest::Approx(20.0 * std::exp(-2.0 * 0.05)));
  CHECK(ftx.own_token_drawdown() == doctest::Approx(1.0 - std::exp(-0.1)));
}

TEST_CASE("liquid ratio trigger counts every reserve that could still pay, assets included") {
  InstitutionSpec spec;
  spec.hot_reserve_fraction = 0.1;
  spec.cold_reserve_fraction = 0.1;
  spec.illiquid_fraction = 0.9;
  AssetSpec token;
  token.name = "token";
  token.holding_fraction = 0.2;
  spec.assets = {token};
  Institution inst(spec, 1000, 10, 24.0);
  Trigger t;
  t.liquid_ratio_below = 0.41;  // (100 + 100 + 200) / 1000 = 0.4
  CHECK(inst.conditions_met(t));
  t.liquid_ratio_below = 0.39;
  CHECK_FALSE(inst.conditions_met(t));
  t.hot_ratio_below = 0.11;  // illiquid assets never count
  CHECK(inst.conditions_met(t));
}

TEST_CASE("early liquidation of illiquid book at ell pays the queue after hot reserves") {
  InstitutionSpec spec;
  spec.hot_reserve_fraction = 0.2;
  spec.illiquid_fraction = 0.8;
  spec.illiquid_liquidation_value = 0.5;
  Institution inst(spec, 1000, 10);
  inst.submit(0, 0, 300);  // hot 200: 100 more needed, book sold = ceil(100 / 0.5) = 200
  const auto paid = settle(inst, 0);
  REQUIRE(paid.size() == 1);
  CHECK(paid[0].amount == 300);
  CHECK(inst.hot() == 0);
  CHECK(inst.illiquid() == 600);
  CHECK(inst.liquidated_book() == 200);
  CHECK(inst.liquidation_proceeds() == 100);
  CHECK(inst.equity() == 600 - 700);  // the loss of (1 - ell) per unit sold
  inst.check_ledger();
  // What is left raises at most 300: the rest of a request waits.
  inst.submit(1, 1, 500);
  CHECK(settle(inst, 1)[0].amount == 300);
  CHECK(inst.illiquid() == 0);
  CHECK(inst.queue_value() == 200);
  inst.check_ledger();
  // Without a liquidation value (the default) illiquid book pays no one.
  InstitutionSpec never = spec;
  never.illiquid_liquidation_value = 0.0;
  Institution kept(never, 1000, 10);
  kept.submit(0, 0, 300);
  CHECK(settle(kept, 0)[0].amount == 200);
  CHECK(kept.illiquid() == 800);
}

TEST_CASE("final date: queues cancelled, cold and illiquid turned to cash at R, claims settled") {
  InstitutionSpec spec;
  spec.hot_reserve_fraction = 0.1;
  spec.cold_reserve_fraction = 0.1;
  spec.cold_delay_ticks = 3;
  spec.illiquid_fraction = 0.8;
  spec.final_payout = true;
  spec.illiquid_final_return = 1.5;
  Institution inst(spec, 1000, 10);
  inst.submit(7, 0, 300);  // 100 paid from hot, 100 of cold in transit, 200 waits
  settle(inst, 0);
  CHECK(inst.queue_value() == 200);
  std::vector<std::uint32_t> cancelled;
  const Money assets = inst.mature([&](std::uint32_t agent) { cancelled.push_back(agent); });
  CHECK(cancelled == std::vector<std::uint32_t>{7});
  CHECK(inst.queue_value() == 0);
  CHECK(inst.queue_count() == 0);
  CHECK(assets == 100 + 1200);  // cold and in transit, and 800 * 1.5
  CHECK(inst.hot() == assets);
  CHECK(inst.illiquid() == 0);
  CHECK(inst.cold() + inst.in_transit() == 0);
  inst.check_ledger();
  // Deposits 900 share 1300: one claim of 900 is paid 900 and a surplus of 400.
  inst.pay_final(900, 400, 0);
  CHECK(inst.deposits() == 0);
  CHECK(inst.hot() == 0);
  CHECK(inst.final_surplus_paid() == 400);
  inst.check_ledger();
}

TEST_CASE("final date with a shortfall: the rest of the claims is written off") {
  InstitutionSpec spec;
  spec.hot_reserve_fraction = 0.5;
  spec.illiquid_fraction = 0.2;
  spec.final_payout = true;
  spec.illiquid_final_return = 0.5;
  Institution inst(spec, 1000, 10);
  const Money assets = inst.mature([](std::uint32_t) {});
  CHECK(assets == 600);
  inst.pay_final(300, 0, 200);  // two claims of 500 get 300 each
  inst.pay_final(300, 0, 200);
  CHECK(inst.deposits() == 0);
  CHECK(inst.written_off() == 400);
  CHECK(inst.paid_total() == 600);
  inst.check_ledger();
}

TEST_CASE(
    "securities held to maturity: book in equity, market in equity at market, a sale realises") {
  InstitutionSpec spec;
  spec.hot_reserve_fraction = 0.1;
  AssetSpec bond = asset(0.9, 1.0);  // $900 of bonds at $1, no impact (sigma 0)
  bond.held_to_maturity = true;
  bond.price_series = {{1, 0.8}};  // rates up: 0.8 from tick 1
  spec.assets = {bond};
  Institution inst(spec, 100000, 10, 24.0);  // $1000 of deposits
  inst.update_prices(1, 0, 0);               // the price of tick 1
  CHECK(inst.assets()[0].price == 0.8);
  CHECK(inst.equity() == 0);                 // 100 + 900 at book - 1000
  CHECK(inst.equity_at_market() == -18000);  // 100 + 720 - 1000
  CHECK(inst.unrealised_loss() == 18000);
  CHECK_FALSE(inst.insolvent());
  // A withdrawal of $180: $100 from hot, $80 from selling 100 bonds at 0.8 (book 100).
  inst.submit(0, 1, 18000);
  settle(inst, 1);
  CHECK(inst.paid_total() == 18000);
  CHECK(inst.assets()[0].proceeds == 8000);
  CHECK(inst.assets()[0].loss == 2000);  // against book: 100 - 80
  CHECK(inst.assets()[0].realised_loss_total == 2000);
  CHECK(inst.equity() == -2000);           // the realised loss
  CHECK(inst.unrealised_loss() == 16000);  // 800 bonds left: 800 - 640
  CHECK(inst.equity_at_market() == -18000);
  CHECK(inst.insolvent());
  inst.check_ledger();
  // The same bonds at market: no unrealised loss, and a sale realises none against market.
  spec.assets[0].held_to_maturity = false;
  Institution market(spec, 100000, 10, 24.0);
  market.update_prices(1, 0, 0);
  CHECK(market.equity() == -18000);
  CHECK(market.unrealised_loss() == 0);
  market.submit(0, 1, 18000);
  settle(market, 1);
  CHECK(market.assets()[0].loss == 0);
}

TEST_CASE("capital raise adds equity and hot reserves; market insolvency trigger") {
  InstitutionSpec spec;
  spec.hot_reserve_fraction = 0.1;
  AssetSpec bond = asset(0.95, 1.0);
  bond.held_to_maturity = true;
  bond.price_series = {{1, 0.9}};
  spec.assets = {bond};
  spec.halt.when_insolvent_at_market = true;
  Institution inst(spec, 100000, 10, 24.0);
  settle(inst, 0);
  CHECK_FALSE(inst.halted());  // equity at market 50 at tick 0
  inst.update_prices(1, 0, 0);
  CHECK(inst.equity_at_market() == -4500);  // 100 + 855 - 1000
  settle(inst, 1);
  CHECK(inst.halted());
  CHECK(inst.halt_tick() == 1);
  inst.raise_capital(10000);
  CHECK(inst.hot() == 20000);
  CHECK(inst.equity() == 15000);
  CHECK(inst.equity_at_market() == 5500);
  inst.check_ledger();
}
