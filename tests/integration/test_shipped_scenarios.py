"""Every shipped scenario: money is conserved exactly, every tick, between the
institution and the depositors' outside holdings; and the flagship's calibration shape."""
import re

import h5py
import numpy as np
import pytest

from conftest import SOURCE_DIR, run_bankrun

SHIPPED = sorted((SOURCE_DIR / "scenarios").rglob("*.yaml"))
MAX_AGENTS = 30000  # keeps the suite fast; the identities do not depend on the size


def run_small(tmp_path, scenario):
    agents = int(re.search(r"\((\d+) agents", run_bankrun("validate", scenario).stdout)[1])
    out = tmp_path / "run.h5"
    args = ["run", scenario, "-o", out, "--quiet"]
    if agents > MAX_AGENTS:
        args += ["--set", f"population.agents={MAX_AGENTS}"]
    run_bankrun(*args)
    return h5py.File(out)


@pytest.mark.parametrize("scenario", SHIPPED, ids=lambda p: str(p.relative_to(SOURCE_DIR)))
def test_money_is_conserved_every_tick(tmp_path, bankrun_bin, scenario):
    with run_small(tmp_path, scenario) as f:
        (name,) = f["institutions"].keys()
        bank = f["institutions"][name]
        paid = np.cumsum(bank["payments_cents"][:])
        inflows = np.cumsum(bank["inflows_cents"][:])
        initial = int(bank.attrs["initial_deposits_cents"])
        # Claims outstanding + paid out = issued + re-deposited, exactly, every tick.
        np.testing.assert_array_equal(bank["deposits_cents"][:] + paid, initial + inflows)
        # What left the institution is what the classes received, exactly.
        by_class = f["population/by_class/withdrawn_value_cents"][:]
        np.testing.assert_array_equal(by_class.sum(axis=1), paid)
        # Liquid reserves change only by payments, inflows, injections and fire sales
        # (USD, to the cent).
        liquid = bank["hot_reserves"][:] + bank["cold_reserves"][:] + bank["in_transit"][:]
        sales = np.cumsum(bank["assets/sale_proceeds"][:].sum(axis=1))
        change = (inflows - paid) / 100 + np.cumsum(bank["injections"][:]) + sales
        np.testing.assert_allclose(liquid - change, liquid[0] - change[0], atol=0.02)
        assert f.attrs["status"].decode() == "complete"


def test_ftx_shape(tmp_path, bankrun_bin):
    """CASES.md, FTX: roughly a third of deposits out within about three days of the main
    shock (Binance's FTT announcement, 6 Nov 2022), then a halt; little before it."""
    with run_small(tmp_path, SOURCE_DIR / "scenarios/ftx-2022.yaml") as f:
        bank = f["institutions/ftx"]
        share = np.cumsum(bank["payments_cents"][:]) / bank.attrs["initial_deposits_cents"]
        halt = int(f["summary"].attrs["halt_tick"])
        news = f["events/news"][:]
    main_shock = int(news[news["label"] == b"Binance to sell its FTT"]["tick"][0])
    assert share[main_shock - 1] < 0.05                 # calm before the main shock
    assert 0 <= halt - main_shock <= 72 + 24            # halt within about three days
    assert 0.25 <= share[halt] <= 0.45                  # about a third out by then
    assert share[-1] == share[halt]                     # nothing paid after the halt


def test_binance_shape(tmp_path, bankrun_bin):
    """CASES.md, Binance: ~6% net out in the week of 7-13 Dec 2022, ~24% over 60 days,
    2-3% a day at the peak, inflows continuing, no halt (full-size run)."""
    out = tmp_path / "binance.h5"
    run_bankrun("run", SOURCE_DIR / "scenarios/binance-2022.yaml", "-o", out, "--quiet")
    with h5py.File(out) as f:
        bank = f["institutions/binance"]
        initial = bank.attrs["initial_deposits_cents"]
        net = np.cumsum(bank["payments_cents"][:] - bank["inflows_cents"][:]) / initial
        inflows = bank["inflows_cents"][:].sum() / initial
        hours = float(f.attrs["tick_hours"])
        start = np.datetime64(f.attrs["start_utc"].decode().rstrip("Z"))
        halt = int(f["summary"].attrs["halt_tick"])

    def tick(when):  # the tick that contains `when`
        return int((np.datetime64(when) - start) / np.timedelta64(int(hours * 3600), "s"))

    week = net[tick("2022-12-14T00:00") - 1] - net[tick("2022-12-07T00:00") - 1]
    per_day = int(round(24 / hours))
    daily = np.add.reduceat(np.diff(net, prepend=0.0), np.arange(0, len(net), per_day))
    assert 0.04 <= week <= 0.08, week            # ~6% (net -$3.66B of ~$60B)
    assert 0.18 <= net[-1] <= 0.30, net[-1]      # ~24% in under 60 days
    assert daily.max() <= 0.04, daily.max()      # stayed open through 2-3% a day
    assert inflows > 0.02                        # gross outflows exceeded net ones
    assert halt == -1                            # no halt
