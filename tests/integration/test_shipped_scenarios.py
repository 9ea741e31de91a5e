"""Every shipped scenario: money is conserved exactly, every tick, across the institutions
and the depositors' self-custody; and the calibration shapes of the FTX, Binance and
contagion scenarios (CASES.md: analysis/bankrun/data/CASES.md)."""
import re

import h5py
import numpy as np
import pytest

from conftest import SOURCE_DIR, run_bankrun

SHIPPED = sorted(p for p in (SOURCE_DIR / "scenarios").rglob("*.yaml")
                 if p.parent.name not in ("sweeps", "calibration")
                 and ".calibration" not in str(p.relative_to(SOURCE_DIR)))
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
        deposits = np.zeros(int(f.attrs["ticks_recorded"]), dtype=np.int64)
        issued = 0
        paid_all = 0
        for name, bank in f["institutions"].items():
            paid = np.cumsum(bank["payments_cents"][:])
            inflows = np.cumsum(bank["inflows_cents"][:])
            arrived = np.cumsum(bank["transfers_in_cents"][:])
            initial = int(bank.attrs["issued_cents"])
            written_off = np.cumsum(bank["written_off_cents"][:])
            surplus = np.cumsum(bank["final_surplus_cents"][:])
            # Claims outstanding + paid out + written off (final date) = issued + re-deposited
            # + arrived from other institutions, exactly, every tick.
            np.testing.assert_array_equal(
                bank["deposits_cents"][:] + paid + written_off, initial + inflows + arrived,
                err_msg=name)
            # Liquid cash changes only by payments in USD (the rest are paid in kind from
            # the assets), inflows, transfers, injections, fire sales, early liquidation of
            # illiquid book, and at the final date its maturity and the surplus paid (USD, to
            # the cent).
            liquid = bank["hot_reserves"][:] + bank["cold_reserves"][:] + bank["in_transit"][:]
            sales = np.cumsum(bank["assets/sale_proceeds"][:].sum(axis=1))
            in_kind = np.cumsum(bank["assets/payments_cents"][:].sum(axis=1))
            final = np.cumsum(bank["liquidation_proceeds_cents"][:] + bank["matured_cents"][:])
            change = ((inflows + arrived - paid + in_kind + final - surplus) / 100
                      + np.cumsum(bank["injections"][:]) + sales)
            # Customers' claims held in assets are part of the deposits.
            owed = bank["assets/liabilities_cents"][:].sum(axis=1)
            assert (owed <= bank["deposits_cents"][:] + 100).all(), name
            np.testing.assert_allclose(liquid - change, liquid[0] - change[0], atol=0.02,
                                       err_msg=name)
            deposits += bank["deposits_cents"][:]
            issued = issued + initial - written_off + surplus
            paid_all = paid_all + paid
        # Money is conserved across every institution and self-custody, exactly.
        np.testing.assert_array_equal(deposits + f["population/self_custody_cents"][:], issued)
        # What left the institutions is what the classes received, exactly.
        by_class = f["population/by_class/withdrawn_value_cents"][:]
        np.testing.assert_array_equal(by_class.sum(axis=1), paid_all)
        assert f.attrs["status"].decode() == "complete"


SEEDS = range(1, 6)  # the calibration shapes must hold for every one of these seeds


def tick_of(f, when):
    """The tick of run `f` that contains the UTC time `when` (ISO text)."""
    start = np.datetime64(f.attrs["start_utc"].decode().rstrip("Z"))
    tick = np.timedelta64(int(float(f.attrs["tick_hours"]) * 3600), "s")
    return int((np.datetime64(when) - start) / tick)


def ftx_figures(f):
    bank = f["institutions/ftx"]
    paid = np.cumsum(bank["payments_cents"][:]) / 100
    halt = int(f["summary/ftx"].attrs["halt_tick"])
    news = f["events/news"][:]
    main_shock = int(news[news["label"] == b"Binance to sell its FTT"]["tick"][0])
    a = bank["assets"]
    names = a.attrs["asset_names"].decode().split(",")
    btc, ftt = names.index("BTC"), names.index("FTT")
    btc_units = a["hot_units"][:, btc] + a["cold_units"][:, btc] + a["in_transit_units"][:, btc]
    start = btc_units[main_shock - 1]
    nov8, nov9 = tick_of(f, "2022-11-08T00:00"), tick_of(f, "2022-11-09T00:00")
    return dict(
        paid=paid, share=paid / (bank.attrs["issued_cents"] / 100), halt=halt,
        main_shock=main_shock, nov8=nov8, nov9=nov9, btc_start=start,
        falling=int(np.argmax(btc_units < 0.9 * start)),
        gone=int(np.argmax(btc_units < 0.01 * start)),
        btc_unpaid=a["queue_value"][-1, btc],
        ftt_nov8_start=a["price"][nov8 - 1, ftt],   # the price at the end of 7 Nov
        ftt_nov8_end=a["price"][nov9 - 1, ftt])


def test_ftx_shape(tmp_path, bankrun_bin):
    """CASES.md, FTX: calm before the main shock (Binance's FTT announcement, 6 Nov 2022);
    ~$6B (~37% of the $16B) out in the ~72 hours to the halt of 8 Nov; BTC on the exchange
    19,942 -> 36 within a day, ending on 8 Nov; FTT $22 -> $4.87 during 8 Nov. Seeds 1-5 at
    30,000 agents (~0.3 s each).

    Measured over seeds 1-5 (2026-12-07; ftx-2022.yaml's header): paid by the halt
    $6.08-6.17B (share 0.380-0.386), of it $5.59-6.03B in the 72 hours before the halt; halt
    8 Nov 07:00-10:00 UTC; BTC 18,480-20,890 at the main shock, below 90% from 8 Nov 02:00-
    04:00, gone 2-4 hours later; FTT $18.95-24.66 at the start of 8 Nov, $4.59-5.24 at its
    end. Each band below is the real figure with a margin that every seed meets."""
    runs = []
    for seed in SEEDS:
        out = tmp_path / f"ftx-{seed}.h5"
        run_bankrun("run", SOURCE_DIR / "scenarios/ftx-2022.yaml", "-o", out, "--quiet",
                    "--set", f"population.agents={MAX_AGENTS}", "--set", f"seed={seed}")
        with h5py.File(out) as f:
            runs.append(ftx_figures(f))
    for seed, r in zip(SEEDS, runs):
        paid, share, halt, shock = r["paid"], r["share"], r["halt"], r["main_shock"]
        ctx = (seed, {k: v for k, v in r.items() if np.ndim(v) == 0})
        assert share[shock - 1] < 0.05, ctx                  # calm before the main shock
        assert r["nov8"] <= halt < r["nov9"], ctx            # halted on 8 Nov
        assert 0 <= halt - shock <= 72, ctx                  # within three days of the shock
        assert paid[-1] == paid[halt], ctx                   # nothing paid after the halt
        assert 5.5e9 <= paid[halt] <= 6.5e9, ctx             # ~$6B out ...
        assert 5.3e9 <= paid[halt] - paid[halt - 72] <= 6.5e9, ctx  # ... in ~72 hours
        assert 0.33 <= share[halt] <= 0.42, ctx              # ~37% of deposits
        # BTC: ~19,942 before the drain, then (nearly) all gone within a day, on 8 Nov,
        # before the halt, with BTC withdrawals still waiting.
        assert 15000 <= r["btc_start"] <= 25000, ctx
        assert r["nov8"] <= r["falling"] < r["gone"] <= halt, ctx
        assert r["gone"] - r["falling"] <= 24, ctx
        assert r["btc_unpaid"] > 0, ctx
        # FTT: ~$22 when 8 Nov starts (+-20%), ~$4.87 when it ends (+-25%).
        assert 17.6 <= r["ftt_nov8_start"] <= 26.4, ctx
        assert 3.65 <= r["ftt_nov8_end"] <= 6.1, ctx
    # The seeds' means: closer to the real figures (measured $6.13B, $4.85).
    assert abs(np.mean([r["paid"][r["halt"]] for r in runs]) - 6.0e9) <= 0.3e9
    assert abs(np.mean([r["ftt_nov8_end"] for r in runs]) - 4.87) <= 0.5


def binance_figures(f):
    bank = f["institutions/binance"]
    initial = bank.attrs["issued_cents"] / 100
    out = bank["payments_cents"][:] / 100
    inflows = bank["inflows_cents"][:] / 100
    week = slice(tick_of(f, "2022-12-07T00:00"), tick_of(f, "2022-12-14T00:00"))
    per_day = int(round(24 / float(f.attrs["tick_hours"])))
    net = out - inflows
    daily = np.add.reduceat(net, np.arange(0, len(net), per_day)) / initial
    deposits_before_week = bank["deposits_cents"][week.start - 1] / 100
    return dict(initial=initial, week_out=out[week].sum(), week_in=inflows[week].sum(),
                week_net=net[week].sum(), week_share=net[week].sum() / deposits_before_week,
                total_net=net.sum(), peak_day=daily.max(),
                halt=int(f["summary/binance"].attrs["halt_tick"]))


def test_binance_shape(tmp_path, bankrun_bin):
    """CASES.md, Binance, against the $69.5B of deposits the scenario starts with: in 7-13 Dec
    2022 gross outflows $8.78B and gross inflows $5.12B, net $3.66B (~6% of what it held
    then); ~$12B net out in 60 days (~17% of $69.5B: Forbes' 24% is of a ~$50B base); 2-3%
    a day at the peak; no halt. Full-size runs (200,000 agents; ~3 s each), seeds 1-5.

    Measured over seeds 1-5 (2026-12-07; binance-2022.yaml's header): 7-13 Dec out
    $8.59-9.09B, in $4.81-5.35B, net $3.47-3.93B (5.5-6.2% of the deposits on 7 Dec);
    60 days net $11.57-12.28B; peak day 2.19-2.47% of the initial deposits; no halt. Each
    band below is the real figure with a margin that every seed meets."""
    runs = []
    for seed in SEEDS:
        out = tmp_path / f"binance-{seed}.h5"
        run_bankrun("run", SOURCE_DIR / "scenarios/binance-2022.yaml", "-o", out, "--quiet",
                    "--set", f"seed={seed}")
        with h5py.File(out) as f:
            runs.append(binance_figures(f))
    for seed, r in zip(SEEDS, runs):
        ctx = (seed, r)
        assert r["initial"] == pytest.approx(69.5e9)         # the base of every share
        assert 8.28e9 <= r["week_out"] <= 9.28e9, ctx        # $8.78B +- 0.5B out ...
        assert 4.67e9 <= r["week_in"] <= 5.57e9, ctx         # ... $5.12B +- 0.45B in ...
        assert 3.26e9 <= r["week_net"] <= 4.06e9, ctx        # ... net $3.66B +- 0.4B,
        assert 0.05 <= r["week_share"] <= 0.07, ctx          # ~6% of the deposits then
        assert 11.1e9 <= r["total_net"] <= 12.9e9, ctx       # ~$12B in 60 days (+-0.9B)
        assert 0.02 <= r["peak_day"] <= 0.03, ctx            # 2-3% a day at the peak
        assert r["halt"] == -1, ctx                          # no halt
    # The seeds' means: closer to the real figures (measured 8.81, 5.09, 3.72, 12.09 $B).
    for key, real, tolerance in (("week_out", 8.78e9, 0.25e9), ("week_in", 5.12e9, 0.25e9),
                                 ("week_net", 3.66e9, 0.2e9), ("total_net", 12e9, 0.5e9)):
        assert abs(np.mean([r[key] for r in runs]) - real) <= tolerance, key


def test_contagion_shape(tmp_path, bankrun_bin):
    """CASES.md + the lenders' reports, November 2022: FTX runs and halts as in the flagship;
    the lender exposed to it writes down loss_given_default x exposure when FTX defaults,
    then its own depositors run and it halts; Binance sees an outflow spike in the days of
    FTX's collapse, receives part of the funds leaving FTX, and survives. (100k agents.)"""
    out = tmp_path / "contagion.h5"
    run_bankrun("run", SOURCE_DIR / "scenarios/ftx-contagion-2022.yaml", "-o", out, "--quiet",
                "--set", "population.agents=100000")
    with h5py.File(out) as f:
        inst = {name: f["institutions"][name] for name in ("ftx", "lender", "binance")}
        issued = {k: int(v.attrs["issued_cents"]) for k, v in inst.items()}
        paid = {k: v["payments_cents"][:] for k, v in inst.items()}
        halt = {k: int(f["summary"][k].attrs["halt_tick"]) for k in inst}
        ftx_insolvent = int(f["summary/ftx"].attrs["insolvent_tick"])
        exposure = inst["lender"]["exposures"][:]
        write_downs = inst["lender"]["write_downs"][:]
        transfers_in = inst["binance"]["transfers_in_cents"][:].sum()
        inflows = inst["binance"]["inflows_cents"][:].sum()
        news = f["events/news"][:]
        hours = float(f.attrs["tick_hours"])
    main_shock = int(news[news["label"] == b"Binance to sell its FTT"]["tick"][0])
    day = int(round(24 / hours))

    # FTX: about a third out within about three days of the main shock, then a halt.
    ftx_share = np.cumsum(paid["ftx"]) / issued["ftx"]
    assert 0 <= halt["ftx"] - main_shock <= 96, halt["ftx"]
    assert 0.25 <= ftx_share[halt["ftx"]] <= 0.45, ftx_share[halt["ftx"]]

    # The lender: written down LGD x exposure, exactly, at FTX's default (its insolvency
    # or its halt, whichever came first) ...
    (row,) = exposure
    ftx_default = min(t for t in (ftx_insolvent, halt["ftx"]) if t >= 0)
    assert row["debtor"] == b"ftx"
    assert row["default_tick"] == ftx_default
    assert row["loss_cents"] == round(row["loss_given_default"] * row["amount_cents"])
    assert write_downs.sum() * 100 == pytest.approx(row["loss_cents"], abs=1)
    assert np.nonzero(write_downs)[0].tolist() == [ftx_default]
    # ... then its depositors run and it halts within three days.
    lender_share = np.cumsum(paid["lender"]) / issued["lender"]
    assert 0 <= halt["lender"] - ftx_default <= 72, (halt["lender"], ftx_default)
    assert lender_share[halt["lender"]] - lender_share[ftx_default - 1] >= 0.05

    # Binance: an outflow spike in the days of FTX's collapse (6-12 Nov), several times
    # its level before it; part of FTX's outflow arrives; no halt; a few percent gross out,
    # and it ends a net receiver, as the scenario's header says (the real Binance had net
    # outflows; the scenario does not reproduce that sign).
    daily = np.add.reduceat(paid["binance"], np.arange(0, len(paid["binance"]), day))
    daily = daily / issued["binance"]
    before = daily[:5].mean()               # 1-5 Nov
    peak_day = int(np.argmax(daily))
    assert 5 <= peak_day <= 11, peak_day    # 6-12 Nov
    assert daily[peak_day] >= 0.01, daily[peak_day]
    assert daily[peak_day] >= 10 * before, (daily[peak_day], before)
    assert transfers_in > 0
    assert halt["binance"] == -1
    assert paid["binance"].sum() / issued["binance"] < 0.10
    # Net outflow share -0.92% at 100k agents, seed 2022 (measured 2026-12-07).
    net_out = (paid["binance"].sum() - inflows - transfers_in) / issued["binance"]
    assert net_out < -0.003, net_out


def test_contagion_binance_is_no_net_loser_over_seeds(tmp_path, bankrun_bin):
    """ftx-contagion-2022.yaml's header: Binance ends a net receiver (FTX's fleeing funds
    outweigh its own outflow), not "a few percent net out". Seeds 1-5 at 100k agents
    (measured 2026-12-07: net outflow -1.37, -0.72, -0.01, -0.78, -1.12% of deposits): no
    seed loses more than half a percent net, and on average it receives."""
    shares = []
    for seed in SEEDS:
        out = tmp_path / f"contagion-{seed}.h5"
        run_bankrun("run", SOURCE_DIR / "scenarios/ftx-contagion-2022.yaml", "-o", out,
                    "--quiet", "--set", "population.agents=100000", "--set", f"seed={seed}")
        with h5py.File(out) as f:
            b = f["institutions/binance"]
            net = (b["payments_cents"][:].sum() - b["inflows_cents"][:].sum()
                   - b["transfers_in_cents"][:].sum())
            shares.append(net / int(b.attrs["issued_cents"]))
            assert int(f["summary/binance"].attrs["halt_tick"]) == -1
    assert max(shares) < 0.005, shares
    assert np.mean(shares) < -0.003, shares
