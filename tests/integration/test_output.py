"""The HDF5 output of a real run: provenance, layout, ledger identities, conservation of
money across institutions, determinism."""
import os
import subprocess

import numpy as np
import pytest

from conftest import REFERENCE_YAML, SOURCE_DIR, attr_str

SMALL = ["--set", "population.agents=20000"]


def test_provenance_attributes(run_to_h5):
    f = run_to_h5(REFERENCE_YAML, *SMALL, "--seed", "5", "--threads", "2")
    a = f.attrs
    assert attr_str(a["format"]) == "bankrun"
    assert int(a["format_version"]) == 3
    assert attr_str(a["institution_names"]) == "bank"
    assert attr_str(a["status"]) == "complete"
    assert int(a["seed"]) == 5
    assert int(a["threads"]) == 2
    assert float(a["wall_seconds"]) > 0
    assert attr_str(a["bankrun_version"])
    commit = attr_str(a["git_commit"])
    assert commit == "unknown" or len(commit.split("-")[0]) == 40
    assert attr_str(a["started_utc"]).endswith("Z")
    scenario = attr_str(a["scenario_yaml"])
    assert "name: reference" in scenario and "agents: 20000" in scenario


def test_datasets_have_one_value_per_tick_with_units(run_to_h5):
    f = run_to_h5(REFERENCE_YAML, *SMALL)
    ticks = 100
    for path in ["time/tick", "institutions/bank/deposits", "institutions/bank/payments",
                 "institutions/bank/requests", "institutions/bank/queue_value",
                 "institutions/bank/hot_reserves", "institutions/bank/halted",
                 "institutions/bank/transfers_in_cents", "institutions/bank/transfers_out_cents",
                 "institutions/bank/claims_on_institutions", "institutions/bank/write_downs",
                 "institutions/bank/signals/flow", "institutions/bank/signals/queue",
                 "institutions/bank/signals/price", "signals/news",
                 "population/withdrawn_agents", "population/stress_mean",
                 "population/self_custody", "population/self_custody_cents"]:
        ds = f[path]
        assert ds.shape == (ticks,), path
        assert attr_str(ds.attrs["units"]), path
        assert attr_str(ds.attrs["description"]), path
    assert f["institutions/bank/deposits"].dtype == np.float64
    assert f["population/withdrawn_agents"].dtype == np.int64
    assert attr_str(f["institutions/bank/deposits"].attrs["units"]) == "USD"
    assert f["population/self_custody_cents"].dtype == np.int64
    assert "flow" not in f["signals"]  # per institution since format version 2
    np.testing.assert_array_equal(f["time/tick"][:], np.arange(ticks))


def test_deposits_plus_payouts_equal_initial_deposits(run_to_h5):
    f = run_to_h5(SOURCE_DIR / "scenarios/ftx-2022.yaml", "--set", "population.agents=50000")
    bank = f["institutions/ftx"]
    initial = int(bank.attrs["initial_deposits_cents"])
    deposits = bank["deposits_cents"][:]
    paid = np.cumsum(bank["payments_cents"][:])
    np.testing.assert_array_equal(deposits + paid, initial)  # exact, in cents
    # The USD series agree with the exact ones.
    np.testing.assert_allclose(bank["deposits"][:] + np.cumsum(bank["payments"][:]),
                               initial / 100.0, rtol=1e-12)
    assert int(f["summary/ftx"].attrs["total_outflow_cents"]) == paid[-1]
    assert int(f["summary"].attrs["issued_cents"]) == initial
    # With one institution and no re-deposits, what left is in self-custody.
    np.testing.assert_array_equal(f["population/self_custody_cents"][:], paid)


@pytest.mark.parametrize("scenario", ["ftx-2022.yaml", "ftx-contagion-2022.yaml"])
def test_same_seed_any_thread_count_is_bit_identical(run_to_h5, scenario):
    args = [SOURCE_DIR / "scenarios" / scenario, "--set", "population.agents=60000"]
    one = run_to_h5(*args, "--threads", "1", name="t1.h5")
    two = run_to_h5(*args, "--threads", "2", name="t2.h5")
    paths = []
    one.visititems(lambda name, obj: paths.append(name) if hasattr(obj, "shape") else None)
    assert len(paths) >= 15
    for p in paths:
        a, b = one[p][()], two[p][()]
        assert a.dtype == b.dtype, p
        assert a.tobytes() == b.tobytes(), f"dataset {p} differs between 1 and 2 threads"
    # ... and the run is not trivial: agents do withdraw.
    assert one["population/withdrawn_agents"][-1] > 0


def test_different_seeds_differ(run_to_h5):
    a = run_to_h5(REFERENCE_YAML, *SMALL, "--seed", "1", name="a.h5")
    b = run_to_h5(REFERENCE_YAML, *SMALL, "--seed", "2", name="b.h5")
    assert not np.array_equal(a["population/withdrawn_agents"][:],
                              b["population/withdrawn_agents"][:])


def test_inflows_per_class_series_and_snapshots(run_to_h5):
    f = run_to_h5(REFERENCE_YAML, *SMALL, "--set", "population.classes[0].redeposit_rate=0.2",
                  "--set", "population.classes[0].calm_threshold=0.3",
                  "--set", "population.classes[0].withdraw_fraction=0.5",
                  "--set", "output.snapshot_ticks=[5, 50]", "--set", "output.snapshot_agents=100",
                  "--set", "output.stress_quantiles=[0.1, 0.5, 0.9]")
    bank = f["institutions/bank"]
    inflows = np.cumsum(bank["inflows_cents"][:])
    paid = np.cumsum(bank["payments_cents"][:])
    assert inflows[-1] > 0  # calm agents did re-deposit
    np.testing.assert_array_equal(bank["deposits_cents"][:] + paid,
                                  int(bank.attrs["initial_deposits_cents"]) + inflows)
    by_class = f["population/by_class"]
    assert attr_str(by_class.attrs["class_names"]) == "all"
    assert by_class["withdrawn_value_cents"].shape == (100, 1)
    np.testing.assert_array_equal(by_class["withdrawn_value_cents"][:, 0], paid)
    np.testing.assert_array_equal(by_class["withdrawn_agents"][:, 0],
                                  f["population/withdrawn_agents"][:])
    q = by_class["stress_quantiles"]
    assert q.shape == (100, 1, 3)
    assert attr_str(q.attrs["quantiles"]).startswith("0.1")
    acting = by_class["acting_agents"][:, 0]
    ok = acting > 0
    assert np.all(q[:, 0, 0][ok] <= q[:, 0, 1][ok]) and np.all(q[:, 0, 1][ok] <= q[:, 0, 2][ok])
    snap = f["snapshots"][:]
    assert len(snap) == 200
    assert set(snap["tick"]) == {5, 50}
    assert set(snap["state"]) <= {0, 1, 2, 3}
    np.testing.assert_array_equal(snap["agent"][:100], np.arange(100) * 200)


POLICY_SCENARIO = """\
name: policies
time: {ticks: 48}
population:
  agents: 5000
  total_balance_usd: 1.0e7
  classes:
    - name: a
      balance_usd: {dist: lognormal, mu: 7, sigma: 1}
      threshold: {dist: normal, mean: 0.5, sd: 0.2}
      noise_sd: 0.05
stress: {news_weight: 1, flow_weight: 2, flow_window_ticks: 6}
news:
  - {tick: 2, magnitude: 0.5, decay_ticks: 12}
institutions:
  - name: bank
    hot_reserve_fraction: 0.1
    cold_reserve_fraction: 0.3
    illiquid_fraction: 0.5
    cold_to_hot_per_tick_usd: 2.0e5
    cold_delay_ticks: 3
    policies:
      - {kind: lender_of_last_resort, label: central bank, amount_usd: 1.0e6,
         when: {hot_ratio_below: 0.02}}
      - {kind: proof_of_reserves, label: audit, magnitude: -0.3, when: {at_tick: 10}}
      - {kind: gate, label: never, fraction_per_day: 0.5, when: {at_tick: 1000}}
"""


def test_liquidity_tiers_and_policies(tmp_path, run_to_h5):
    path = tmp_path / "policies.yaml"
    path.write_text(POLICY_SCENARIO)
    f = run_to_h5(path)
    bank = f["institutions/bank"]
    policies = {p["label"].decode(): p for p in bank["policies"][:]}
    assert policies["audit"]["fired_tick"] == 10
    assert policies["never"]["fired_tick"] == -1
    fired = policies["central bank"]["fired_tick"]
    assert fired > 0
    injections = bank["injections"][:]
    assert injections[fired] == 1.0e6 and injections.sum() == 1.0e6
    news = f["events/news"][:]
    assert [n["tick"] for n in news if n["label"].startswith(b"proof of reserves")] == [10]
    assert set(news["institution"]) == {b"", b"bank"}  # the scheduled news targets everyone
    # Liquid reserves change only by payments and injections; equity by nothing here
    # (payments reduce assets and claims alike; the loan adds assets and a debt).
    liquid = bank["hot_reserves"][:] + bank["cold_reserves"][:] + bank["in_transit"][:]
    initial = bank.attrs["initial_deposits_cents"] / 100
    paid = np.cumsum(bank["payments"][:])
    # (each tier is rounded to the cent at tick 0)
    np.testing.assert_allclose(liquid, 0.4 * initial - paid + np.cumsum(injections), atol=0.02)
    np.testing.assert_allclose(bank["equity"][:], -0.1 * initial, atol=0.03)
    assert bank["insolvent"][:].all()
    assert bank["cold_reserves"][-1] < 0.3 * initial  # cold funds were moved to hot


THREE_INSTITUTIONS = """\
name: three
seed: 7
time: {ticks: 120}
population:
  agents: 20000
  total_balance_usd: 1.0e8
  classes:
    - name: retail
      share: 0.8
      balance_usd: {dist: lognormal, mu: 7, sigma: 1}
      threshold: {dist: normal, mean: 0.5, sd: 0.2}
      noise_sd: 0.05
      calm_threshold: 0.2
      redeposit_rate: 0.05
      accounts: {alpha: 0.5, beta: 0.3, gamma: 0.2}
      destinations: {self_custody: 0.5, alpha: 0.1, beta: 0.2, gamma: 0.2}
    - name: funds
      share: 0.2
      balance_usd: {dist: lognormal, mu: 10, sigma: 1}
      threshold: {dist: normal, mean: 0.4, sd: 0.1}
      accounts: {beta: 1}
      destinations: {gamma: 1}
stress: {news_weight: 1, peer_weight: 0.3, flow_weight: 2, flow_window_ticks: 6}
network: {type: k_out, k: 5}
news:
  - {label: rumour about alpha, tick: 5, magnitude: 0.45, decay_ticks: 24, institution: alpha}
  - {label: market jitters, tick: 30, magnitude: 0.1, decay_ticks: 12}
output: {snapshot_ticks: [0, 119], snapshot_agents: 500}
institutions:
  - name: alpha
    hot_reserve_fraction: 0.3
    illiquid_fraction: 1.5
    max_payout_per_tick_usd: 5.0e5
    halt: {withdrawn_fraction_at_least: 0.2}
  - name: beta
    hot_reserve_fraction: 0.6
    illiquid_fraction: 0.5
    exposures:
      - {to: alpha, amount_usd: 4.0e6, loss_given_default: 0.5, news_per_loss: 2}
  - name: gamma
    policies:
      - {kind: proof_of_reserves, label: gamma audit, magnitude: -0.2, when: {at_tick: 40}}
"""


def test_several_institutions_conserve_money_every_tick(tmp_path, run_to_h5):
    path = tmp_path / "three.yaml"
    path.write_text(THREE_INSTITUTIONS)
    f = run_to_h5(path)
    names = attr_str(f.attrs["institution_names"]).split(",")
    assert names == ["alpha", "beta", "gamma"]
    assert sorted(f["institutions"].keys()) == names
    ticks = f["time/tick"].shape[0]
    outside = f["population/self_custody_cents"][:]
    issued = {n: int(f["institutions"][n].attrs["issued_cents"]) for n in names}
    deposits = np.zeros(ticks, dtype=np.int64)
    moved_in = moved_out = 0
    for k, name in enumerate(names):
        bank = f["institutions"][name]
        assert int(bank.attrs["index"]) == k
        assert int(bank.attrs["initial_deposits_cents"]) == issued[name]
        d = bank["deposits_cents"][:]
        flows = (bank["inflows_cents"][:] + bank["transfers_in_cents"][:]
                 - bank["payments_cents"][:])
        # The per-institution ledger identity, exact at every tick.
        np.testing.assert_array_equal(d, issued[name] + np.cumsum(flows), err_msg=name)
        out = bank["transfers_out_cents"][:]
        assert (out >= 0).all() and (out <= bank["payments_cents"][:]).all(), name
        for signal in ("flow", "queue", "price"):
            assert bank["signals"][signal].shape == (ticks,)
        deposits += d
        moved_in += int(bank["transfers_in_cents"][:].sum())
        moved_out += int(out.sum())
        s = f["summary"][name].attrs
        assert int(s["issued_cents"]) == issued[name]
        assert int(s["total_outflow_cents"]) == int(bank["payments_cents"][:].sum())
        assert int(s["total_inflows_cents"]) == int(bank["inflows_cents"][:].sum())
        assert int(s["total_transfers_in_cents"]) == int(bank["transfers_in_cents"][:].sum())
    # Money conservation, exact at every tick: all deposits + self-custody == all issued.
    total = sum(issued.values())
    np.testing.assert_array_equal(deposits + outside, total)
    assert int(f["summary"].attrs["issued_cents"]) == total
    np.testing.assert_allclose(f["population/self_custody"][:], outside / 100, rtol=1e-15)
    # The run exercises what the identities are about.
    assert moved_in == moved_out > 0
    assert (outside > 0).any()
    assert sum(int(f["institutions"][n]["inflows_cents"][:].sum()) for n in names) > 0

    # alpha halts; beta's loan to it is written down (LGD 0.5) in the same tick.
    halt = int(f["summary/alpha"].attrs["halt_tick"])
    assert halt >= 0
    assert int(f["institutions/alpha"].attrs["owed_to_institutions_cents"]) == 400_000_000
    (loan,) = f["institutions/beta/exposures"][:]
    assert loan["debtor"] == b"alpha"
    assert loan["amount_cents"] == 400_000_000 and loan["amount_usd"] == 4.0e6
    assert loan["loss_given_default"] == 0.5
    assert loan["default_tick"] == halt
    assert loan["loss_cents"] == 200_000_000 and loan["loss_usd"] == 2.0e6
    beta = f["institutions/beta"]
    assert beta["write_downs"][halt] == 2.0e6 and beta["write_downs"][:].sum() == 2.0e6
    assert beta["claims_on_institutions"][halt - 1] == 4.0e6
    assert beta["claims_on_institutions"][halt] == 2.0e6
    assert int(f["summary/beta"].attrs["write_downs_cents"]) == 200_000_000
    assert f["institutions/alpha/exposures"].shape == (0,)

    # News: the target's name, "" for everyone; the write-down's news goes to beta.
    news = {(n["label"].decode(), n["institution"].decode()) for n in f["events/news"][:]}
    assert ("rumour about alpha", "alpha") in news
    assert ("market jitters", "") in news
    assert ("proof of reserves: gamma audit", "gamma") in news
    assert ("loss on exposure to alpha", "beta") in news
    policies = f["institutions/gamma/policies"][:]
    assert policies["fired_tick"].tolist() == [40]

    # Snapshots: each sampled agent's account; the funds class banks at beta.
    snap = f["snapshots"][:]
    first = snap[snap["tick"] == 0]
    assert set(first["account"]) == {0, 1, 2}
    funds = f["classes"][:]["name"].tolist().index(b"funds")
    assert set(first["account"][first["class"] == funds]) == {1}


def test_plot_run_draws_every_institution(tmp_path, run_to_h5):
    path = tmp_path / "three.yaml"
    path.write_text(THREE_INSTITUTIONS)
    f = run_to_h5(path)
    png = tmp_path / "three.png"
    subprocess.run(["/usr/bin/python3", str(SOURCE_DIR / "analysis/plot_run.py"), f.filename,
                    str(png)], check=True, env={**os.environ, "MPLBACKEND": "Agg"})
    assert png.stat().st_size > 10_000
