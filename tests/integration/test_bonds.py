"""Bond-portfolio accounting from a researcher's side (an SVB-like bank): securities held
to maturity at book in equity, their unrealised loss from a rate path (duration x rate
change) in the equity at market, realised by fire sales, announced as news; a capital raise
announced to depositors; a halt on insolvency at market. Reads the binary's HDF5."""
import h5py
import numpy as np

from conftest import run_scenario_text

DURATION = 6.0
SCENARIO = """\
name: bond-bank
seed: 5
time: {ticks: 20, tick_hours: 24}
population:
  agents: 20000
  total_balance_usd: 1.0e9
  classes:
    - name: depositors
      balance_usd: {dist: lognormal, mu: 10, sigma: 1}
      threshold: {dist: normal, mean: 0.4, sd: 0.15}
stress: {news_weight: 1, flow_weight: 1}
news: [{tick: 8, magnitude: 0.2, decay_ticks: 5}]
institutions:
  - name: bank
    hot_reserve_fraction: 0.1
    assets:
      - name: bonds
        holding_fraction: 0.92
        price_usd: 1
        volatility_per_day: 0           # no GBM and no sale impact: the rate path alone
        held_to_maturity: true
        duration_years: 6
        rate_path: [{tick: 2, change_pct: 2}, {tick: 5, change_pct: 4}]
        news_per_realised_loss: 2
    policies:
      - kind: capital_raise
        label: raise
        when: {at_tick: 9}
        amount_usd: 2.0e7
        magnitude: 0.1
"""


def run(tmp_path, *sets):
    return h5py.File(run_scenario_text(tmp_path, "bonds", SCENARIO, *sets))


def test_held_to_maturity_losses_sales_and_announcements(tmp_path, bankrun_bin):
    with run(tmp_path) as f:
        bank = f["institutions/bank"]
        assets = bank["assets"]
        price = assets["price"][:, 0]
        equity_usd = bank["equity"][:]
        at_market = bank["equity_at_market_cents"][:]
        unrealised = bank["unrealised_loss_cents"][:]
        realised = assets["realised_loss"][:, 0]
        deposits = bank["deposits_cents"][:]
        raised = bank["capital_raised_cents"][:]
        news = f["events/news"][:]
        insolvent_tick = int(f["summary/bank"].attrs["insolvent_tick"])
    # Each tick's record holds the price for the next tick: 1 - D * change from ticks 2 and 5.
    change = np.where(np.arange(1, 21) >= 5, 4.0, np.where(np.arange(1, 21) >= 2, 2.0, 0.0))
    np.testing.assert_allclose(price, 1 - DURATION * change / 100, rtol=1e-12)
    # Equity counts the bonds at book; equity at market at market; the gap is the unrealised loss.
    np.testing.assert_allclose(equity_usd * 100 - at_market, unrealised, atol=1)
    # Before the run: $920M of bonds, 24% below book at the end of tick 4.
    assert abs(unrealised[4] - 0.92e11 * 0.24) < 100
    assert abs(equity_usd[4] - 0.02e9) < 1  # 10% + 92% at book - 100%
    assert at_market[4] < 0
    # The run sells bonds at market: the loss against book is realised and hits equity.
    sold = np.nonzero(realised > 0)[0]
    assert len(sold) > 0
    t = int(sold[0])
    assert insolvent_tick == t
    assert unrealised[t] < unrealised[t - 1]
    # The first realised loss is announced from the next tick: 2 * loss / deposits.
    event = news[news["label"] == b"realised loss on bonds"]
    assert len(event) == 1 and int(event["tick"][0]) == t + 1
    assert abs(event["magnitude"][0] - 2 * realised[t] * 100 / deposits[t]) < 1e-6
    # The capital raise: $20M of equity at tick 9, announced to the bank's depositors.
    assert raised[9] == 2_000_000_000 and raised.sum() == raised[9]
    raise_event = news[news["label"] == b"capital raise: raise"]
    assert len(raise_event) == 1 and int(raise_event["tick"][0]) == 9
    assert raise_event["magnitude"][0] == 0.1


def test_halt_on_insolvency_at_market(tmp_path, bankrun_bin):
    with run(tmp_path, "institutions[0].halt.when_insolvent_at_market=true") as f:
        at_market = f["institutions/bank/equity_at_market_cents"][:]
        halt = int(f["summary/bank"].attrs["halt_tick"])
        book_insolvent = int(f["summary/bank"].attrs["insolvent_tick"])
    assert halt == int(np.argmax(at_market < 0)) == 1  # rates up at tick 2, seen at the end of 1
    assert book_insolvent == -1                          # at book it never was: no sale happened
