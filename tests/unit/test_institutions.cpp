// Several institutions (MODEL.md sections 2 and 5): accounts, destinations between
// institutions, targeted news, exposures with write-downs and their news, cascades, and
// conservation of money across all institutions and self-custody.
#include <doctest/doctest.h>
#include <tbb/global_control.h>

#include <cmath>
#include <numeric>
#include <vector>

#include "fixtures.hpp"
#include "sim/run.hpp"
#include "sim/simulation.hpp"

using namespace bankrun;
using namespace bankrun::testing;

namespace {

InstitutionSpec bank(std::string name, double hot = 1.0) {
  InstitutionSpec s;
  s.name = std::move(name);
  s.hot_reserve_fraction = hot;
  return s;
}

Collect run_collect(Simulation& sim) {
  Collect c;
  run(sim, c);
  return c;
}

// Two classes of n/2 agents each, the first banking at A, the second at B.
void split_between_two(Scenario& s) {
  InvestorClass at_b = s.population.classes[0];
  at_b.name = "at B";
  s.population.classes[0].account_shares = {1.0, 0.0};
  at_b.account_shares = {0.0, 1.0};
  s.population.classes.push_back(at_b);
}

double binomial_se(double n, double p) {
  return std::sqrt(n * p * (1 - p));
}

// Money is conserved at the end of every tick: deposits of all institutions plus funds in
// self-custody equal the claims issued.
void check_conservation(const Collect& c, Money issued) {
  for (std::size_t t = 0; t < c.ticks.size(); ++t) {
    Money deposits = 0;
    for (const InstitutionTick& in : c.institutions[t]) deposits += in.deposits;
    CHECK(deposits + c.ticks[t].self_custody == issued);
  }
}

}  // namespace

TEST_CASE("accounts: each class's agents bank where its account shares say") {
  Scenario s = news_only_scenario(20000, 0.5, 0.0, 1);
  s.institutions = {bank("A"), bank("B")};
  s.population.classes[0].account_shares = {0.3, 0.7};
  Simulation sim(s);
  const auto& account = sim.population().account;
  const double at_b = static_cast<double>(std::count(account.begin(), account.end(), 1));
  CHECK(std::abs(at_b - 20000 * 0.7) < 5 * binomial_se(20000, 0.7));
  CHECK(std::count(account.begin(), account.end(), 0) + at_b == 20000);
  // Each institution starts with its depositors' claims ($100 each).
  CHECK(sim.institutions()[0].issued() == Money(20000 - at_b) * 10000);
  CHECK(sim.institutions()[1].issued() == Money(at_b) * 10000);
}

TEST_CASE("destinations: a customer's own account institution is never its destination") {
  Scenario s = news_only_scenario(5000, 0.5, 0.0, 1);
  s.institutions = {bank("A"), bank("B")};
  s.population.classes[0].account_shares = {0.5, 0.5};
  s.population.classes[0].destination_shares = {0.0, 1.0, 1.0};  // never self-custody
  Simulation sim(s);
  const Population& p = sim.population();
  for (std::uint32_t i = 0; i < p.size(); ++i) CHECK(p.destination[i] == 1 - p.account[i]);
}

TEST_CASE("destinations: paid funds move to the destination and the account follows them") {
  // 1000 agents at A withdraw everything at tick 0; half send it to B, half keep it.
  Scenario s = news_only_scenario(1000, 0.5, 1.0, 4, 0, 1);
  s.institutions = {bank("A"), bank("B")};
  s.population.classes[0].account_shares = {1.0, 0.0};
  s.population.classes[0].destination_shares = {0.5, 0.0, 0.5};
  Simulation sim(s);
  const std::vector<std::uint8_t> destination = sim.population().destination;
  const auto to_b = std::count(destination.begin(), destination.end(), 1);
  CHECK(std::abs(to_b - 500.0) < 5 * binomial_se(1000, 0.5));
  const Collect c = run_collect(sim);

  const InstitutionTick &a0 = c.institutions[0][0], &b0 = c.institutions[0][1];
  CHECK(a0.paid == 1000 * 10000);
  CHECK(a0.transfers_out == to_b * 10000);
  CHECK(b0.transfers_in == to_b * 10000);
  CHECK(b0.deposits == to_b * 10000);
  CHECK(b0.hot == to_b * 10000);
  CHECK(a0.deposits == 0);
  CHECK(c.ticks[0].self_custody == (1000 - to_b) * 10000);
  check_conservation(c, sim.population().issued);
  // The movers now bank at B with their whole balance; their next destination is
  // self-custody. The news stopped after tick 0, so they stay.
  const Population& p = sim.population();
  for (std::uint32_t i = 0; i < p.size(); ++i) {
    if (destination[i] == 1) {
      CHECK(p.account[i] == 1);
      CHECK(p.claim[i] == 10000);
      CHECK(p.destination[i] == kSelfCustody);
    } else {
      CHECK(p.account[i] == 0);
      CHECK(p.outside[i] == 10000);
    }
    CHECK(p.moved[i] == 0);
  }
  CHECK(c.ticks.back().paid_agents == 1000 - to_b);
}

TEST_CASE(
    "destinations: partial withdrawals park funds at the destination until the claim is paid") {
  // omega = 0.5: $50 then $25 ... each tick; the agent's account moves only once its claim
  // at A reaches zero (never, with halving), so the funds stay parked at B.
  Scenario s = news_only_scenario(10, 0.5, 1.0, 3);
  s.institutions = {bank("A"), bank("B")};
  s.population.classes[0].withdraw_fraction = constant(0.5);
  s.population.classes[0].destination_shares = {0.0, 0.0, 1.0};
  Simulation sim(s);
  const Collect c = run_collect(sim);
  const Population& p = sim.population();
  for (std::uint32_t i = 0; i < p.size(); ++i) {
    CHECK(p.account[i] == 0);
    CHECK(p.claim[i] == 1250);  // $100 -> 50 -> 25 -> 12.50
    CHECK(p.moved[i] == 8750);
  }
  CHECK(c.institutions.back()[1].deposits == 10 * 8750);
  check_conservation(c, p.issued);
}

TEST_CASE("news with a target institution reaches only its depositors") {
  Scenario s = news_only_scenario(2000, 0.5, 1.0, 2);
  s.institutions = {bank("A"), bank("B")};
  s.population.classes[0].account_shares = {0.5, 0.5};
  s.news[0].institution = 1;
  Simulation sim(s);
  const Collect c = run_collect(sim);
  const Population& p = sim.population();
  for (std::uint32_t i = 0; i < p.size(); ++i) CHECK((p.decided_at[i] == 0) == (p.account[i] == 1));
  CHECK(c.institutions[0][0].paid == 0);
  CHECK(c.institutions[0][1].paid == c.institutions[0][1].requested);
}

TEST_CASE("the flow signal is each institution's own") {
  // Everyone at A runs at tick 0 (news targeted at A); B's depositors see B's flow only.
  Scenario s = news_only_scenario(1000, 0.5, 1.0, 3, 0, 1);
  s.institutions = {bank("A"), bank("B")};
  s.population.classes[0].account_shares = {0.5, 0.5};
  s.news[0].institution = 0;
  s.stress.flow_weight = 1.0;
  Simulation sim(s);
  const Collect c = run_collect(sim);
  CHECK(c.institutions[1][0].flow_signal == doctest::Approx(1.0));
  CHECK(c.institutions[1][1].flow_signal == 0.0);
  CHECK(c.institutions.back()[1].paid == 0);
  CHECK(c.institutions.back()[1].deposits == sim.institutions()[1].issued());
}

TEST_CASE("exposure: the creditor writes down LGD x exposure when the debtor halts") {
  // 100 agents with $100 at each of A and B. B lent $5,000 to A (which holds it as an
  // illiquid loan book: A stays solvent) at LGD 0.6; A halts at tick 2. B's depositors then
  // feel news of magnitude news_per_loss * loss / deposits = 1.0 * 3000 / 10000 = 0.3 from
  // tick 3, above their threshold 0.25.
  Scenario s = news_only_scenario(200, 0.25, 0.0, 6);
  s.institutions = {bank("A"), bank("B")};
  split_between_two(s);
  s.institutions[0].halt.at_tick = 2;
  s.institutions[0].illiquid_fraction = 0.6;
  ExposureSpec e;
  e.debtor = 0;
  e.amount = usd_to_cents(5000);
  e.loss_given_default = 0.6;
  e.news_per_loss = 1.0;
  s.institutions[1].exposures = {e};
  Simulation sim(s);
  const Money b_deposits = sim.institutions()[1].issued();
  const Collect c = run_collect(sim);

  const Institution& b = sim.institutions()[1];
  CHECK(b.exposure_default_tick(0) == 2);
  CHECK(b.exposure_loss(0) == usd_to_cents(3000));
  CHECK(c.institutions[1][1].write_downs == 0);
  CHECK(c.institutions[2][1].write_downs == usd_to_cents(3000));
  CHECK(c.institutions[1][1].claims_on_institutions == usd_to_cents(5000));
  CHECK(c.institutions[2][1].claims_on_institutions == usd_to_cents(2000));
  CHECK(c.institutions[2][1].equity - c.institutions[1][1].equity == -usd_to_cents(3000));
  // A owes the exposure: equity = reserves + loans - deposits - $5,000 = $1,000.
  CHECK(c.institutions[0][0].equity == usd_to_cents(1000));
  CHECK(b_deposits == usd_to_cents(10000));
  // The news event: B's depositors only, from tick 3.
  const NewsEvent& news = sim.news_events().back();
  CHECK(news.tick == 3);
  CHECK(news.institution == 1);
  const Population& p = sim.population();
  CHECK(news.magnitude == doctest::Approx(0.3));
  for (std::uint32_t i = 0; i < p.size(); ++i)
    CHECK(p.decided_at[i] == (p.account[i] == 1 ? 3 : kNever));
}

TEST_CASE("exposure: a write-down that makes the creditor insolvent halts it in the same tick") {
  // A halts at tick 1; B (when_insolvent halt) loses more than its equity on A; C lent to
  // B and is written down in the same tick: the cascade resolves within tick 1. Each has
  // $1,000 of deposits; A holds the $50,000 it borrowed as loans, B has $100 of equity
  // besides its claim on A.
  Scenario s = news_only_scenario(10, 10.0, 0.0, 3);
  s.institutions = {bank("A"), bank("B", 1.1), bank("C")};
  s.population.classes[0].account_shares = {1, 0, 0};
  for (const std::size_t k : {1, 2}) {
    InvestorClass c = s.population.classes[0];
    c.name = "class " + std::to_string(k);
    c.account_shares = {0, 0, 0};
    c.account_shares[k] = 1;
    s.population.classes.push_back(c);
  }
  s.population.agents = 30;
  s.institutions[0].halt.at_tick = 1;
  s.institutions[0].illiquid_fraction = 60;
  ExposureSpec on_a;
  on_a.debtor = 0;
  on_a.amount = usd_to_cents(50000);
  s.institutions[1].exposures = {on_a};
  s.institutions[1].halt.when_insolvent = true;
  ExposureSpec on_b = on_a;
  on_b.debtor = 1;
  on_b.amount = usd_to_cents(1000);
  on_b.loss_given_default = 0.5;
  s.institutions[2].exposures = {on_b};
  Simulation sim(s);
  const Collect c = run_collect(sim);
  CHECK(c.institutions[0][1].equity == usd_to_cents(100 + 50000 - 1000));  // owes C $1,000
  CHECK_FALSE(c.institutions[0][1].halted);
  CHECK(c.institutions[1][0].halted);
  CHECK(c.institutions[1][1].insolvent);
  CHECK(c.institutions[1][1].halted);
  CHECK(c.institutions[1][2].write_downs == usd_to_cents(500));
  CHECK_FALSE(c.institutions[1][2].halted);
  CHECK(sim.institutions()[2].exposure_default_tick(0) == 1);
}

TEST_CASE("several institutions: bit-identical for 1 and 2 threads, money conserved") {
  Scenario s = reference_scenario(20000, 5);
  s.institutions = {bank("A", 0.3), bank("B", 0.5), bank("C")};
  s.institutions[0].illiquid_fraction = 0.8;
  s.institutions[0].max_payout_per_tick = usd_to_cents(2e5);
  s.institutions[0].halt.withdrawn_fraction_at_least = 0.05;
  s.population.classes[0].account_shares = {0.5, 0.3, 0.2};
  s.population.classes[0].destination_shares = {0.4, 0.2, 0.3, 0.1};
  s.stress.flow_weight = 0.5;
  s.stress.flow_window_ticks = 5;
  ExposureSpec e;
  e.debtor = 0;
  e.amount = usd_to_cents(1e6);
  e.news_per_loss = 1.0;
  s.institutions[1].exposures = {e};
  // 30% of every claim in BTC, held by all three in tiers.
  s.currencies = {"BTC"};
  s.population.classes[0].portfolio = {0.7, 0.3};
  AssetSpec btc;
  btc.name = "BTC";
  btc.holding_fraction = 0.3;
  btc.price_usd = 20000;
  btc.volatility_per_day = 0.05;
  btc.hot_share = 0.4;
  btc.cold_share = 0.4;
  btc.cold_to_hot_units_per_tick = 5.0;
  btc.cold_delay_ticks = 3;
  btc.max_payout_per_tick = usd_to_cents(5e5);
  for (InstitutionSpec& in : s.institutions) in.assets = {btc};
  const auto collect = [&](int threads) {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
    Simulation sim(s);
    Collect c = run_collect(sim);
    check_conservation(c, sim.population().issued);
    return std::make_pair(std::move(c), sim.population().account);
  };
  const auto [one, accounts_one] = collect(1);
  const auto [two, accounts_two] = collect(2);
  CHECK(accounts_one == accounts_two);
  REQUIRE(one.ticks.size() == two.ticks.size());
  bool same = true;
  for (std::size_t t = 0; t < one.ticks.size(); ++t) {
    same = same && one.ticks[t].stress_mean == two.ticks[t].stress_mean &&
           one.ticks[t].self_custody == two.ticks[t].self_custody;
    for (std::size_t a = 0; a < one.assets[t].size(); ++a) {
      const AssetTick &x = one.assets[t][a], &y = two.assets[t][a];
      same = same && x.price == y.price && x.paid == y.paid && x.hot_units == y.hot_units &&
             x.liabilities == y.liabilities && x.queue_value == y.queue_value;
    }
    for (std::size_t k = 0; k < 3; ++k) {
      const InstitutionTick &a = one.institutions[t][k], &b = two.institutions[t][k];
      same = same && a.paid == b.paid && a.deposits == b.deposits &&
             a.transfers_in == b.transfers_in && a.write_downs == b.write_downs &&
             a.flow_signal == b.flow_signal && a.halted == b.halted;
    }
  }
  CHECK(same);
  // The scenario exercises what it should: a halt, transfers and a write-down.
  CHECK(one.institutions.back()[0].halted);
  Money moved = 0, written = 0;
  for (const auto& tick : one.institutions) {
    moved += tick[2].transfers_in;
    written += tick[1].write_downs;
  }
  CHECK(moved > 0);
  CHECK(written == usd_to_cents(1e6));
  Money in_kind = 0;
  for (const auto& tick : one.assets)
    for (const AssetTick& a : tick) in_kind += a.paid;
  CHECK(in_kind > 0);
}
