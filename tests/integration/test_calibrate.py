"""`bankrun calibrate` end to end (scenarios/CALIBRATION.md).

- Recovery: data made by bankrun from known parameters (one run per data set, its own
  seed: noise on) are fitted back, for 4 data sets each with its own calibration seed: the
  median error of the best fits is small, the median best loss is a plausible chi-square value,
  and at least 6 of the 8 nominal 95% profile intervals hold the truth (measured over 22
  data sets, 39 of 44 did, 89%; with that coverage fewer than 6 of 8 happens with
  probability 5%). The scales are the observations' standard deviations, measured over 8
  other seeds at the truth (times sqrt(1 + 1/R) for the mean of R replicates against one
  observation), and the observed quantities are increments (net outflow over 4-hour
  windows), nearly independent, as the loss's chi-square reading assumes.
- Resume: a calibration killed with SIGKILL mid-batch, run again, repeats no finished run
  (their files are untouched) and ends with the same evaluations as one never killed.
- best-fit.yaml runs with `bankrun run` and reproduces replicate 0 of the best point.
- The same calibration with 1 and 2 jobs gives the same evaluations.
- A bad calibration file gets file:line:column errors (exit 2).
"""
import math
import os
import re
import signal
import subprocess
import textwrap
import time

import h5py
import numpy as np
import pandas as pd
import pytest

from conftest import BANKRUN, SOURCE_DIR, run_bankrun

BASE = """\
name: recovery
seed: 1
time: {ticks: 36, tick_hours: 1, start: 2022-11-01T00:00:00Z}
population:
  agents: 4000
  classes:
    - name: all
      balance_usd: {dist: lognormal, mu: 8, sigma: 1.0}
      threshold: {dist: normal, mean: 0.55, sd: 0.15, clip_min: 0, clip_max: 1}
      noise_sd: 0.05
network: {type: k_out, k: 10}
stress: {news_weight: 1.0, peer_weight: 0.5, peer_lag_ticks: 2, flow_weight: 0}
news:
  - {tick: 4, magnitude: 0.3, decay_ticks: 8}
institutions:
  - name: bank
    hot_reserve_fraction: 1
"""
TRUTH = {"news[0].magnitude": 0.3, "stress.peer_weight": 1.0}
BOUNDS = {"news[0].magnitude": (0.1, 0.5), "stress.peer_weight": (0.2, 2.0)}
WINDOWS = [(h, h + 4) for h in range(4, 36, 4)]  # hours after the start
REPLICATES = 4
START = pd.Timestamp("2022-11-01T00:00:00Z")


def window_outflows(path):
    """Net outflow / initial claims over each window (ticks starting in [a, b))."""
    with h5py.File(path, "r") as f:
        g = f["institutions/bank"]
        net = g["payments"][:] - g["inflows"][:] - g["transfers_in"][:]
        issued = g.attrs["issued_cents"] / 100.0
    return np.array([net[a:b].sum() / issued for a, b in WINDOWS])


def truth_run(tmp_path, seed):
    out = tmp_path / f"truth-{seed}.h5"
    if not out.exists():
        args = ["run", tmp_path / "base.yaml", "-o", out, "--quiet", "--seed", seed]
        for key, value in TRUTH.items():
            args += ["--set", f"{key}={value}"]
        run_bankrun(*args)
    return window_outflows(out)


def stamp(hours):
    return (START + pd.Timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_calibration(tmp_path, budget=48, extra="", data_seed=2024, seed=7, name="cal"):
    """The recovery calibration: observed data from `data_seed`, scales from seeds 1-8."""
    (tmp_path / "base.yaml").write_text(BASE)
    observed = truth_run(tmp_path, data_seed)
    spread = np.array([truth_run(tmp_path, s) for s in range(1, 9)]).std(axis=0, ddof=1)
    scales = np.maximum(spread, 1e-4) * math.sqrt(1 + 1 / REPLICATES)
    rows = ["timestamp,quantity,value,end_timestamp"]
    for (a, b), value in zip(WINDOWS, observed):
        rows.append(f"{stamp(a)},out_{a},{value:.10g},{stamp(b)}")
    (tmp_path / f"{name}.csv").write_text("\n".join(rows) + "\n")
    targets = "\n".join(
        f"  - {{name: out_{a}, quantity: out_{a}, series: net_outflow_fraction, "
        f"scale: {scale:.6g}}}" for (a, _), scale in zip(WINDOWS, scales))
    params = "\n".join(f"  {k}: {{low: {lo}, high: {hi}}}" for k, (lo, hi) in BOUNDS.items())
    (tmp_path / f"{name}.yaml").write_text(
        f"base: base.yaml\nseed: {seed}\nreplicates: {REPLICATES}\nparameters:\n{params}\n"
        f"observed: {name}.csv\ntargets:\n{targets}\nbudget: {{evaluations: {budget}}}\n"
        + extra)
    return tmp_path / f"{name}.yaml"


def evaluations(folder):
    with h5py.File(folder / "calibration.h5", "r") as f:
        return pd.DataFrame(f["evaluations"][:]), dict(f.attrs)


def test_recovery_of_known_parameters(tmp_path):
    covered, errors, losses = 0, {key: [] for key in TRUTH}, []
    for data_seed in (2024, 2025, 2026, 2027):
        name = f"cal{data_seed}"
        cal = write_calibration(tmp_path, budget=120, data_seed=data_seed, seed=data_seed,
                                name=name)
        proc = run_bankrun("calibrate", cal, "--jobs", "2")
        assert f"calibration '{name}':" in proc.stdout, proc.stdout
        with h5py.File(tmp_path / f"{name}.calibration/calibration.h5", "r") as f:
            assert f.attrs["status"] in (b"complete", "complete")
            intervals = pd.DataFrame(f["intervals"][:])
            intervals["parameter"] = intervals["parameter"].str.decode("utf-8")
            intervals = intervals.set_index("parameter")
            best_loss = float(f.attrs["best_loss"])
            evals = pd.DataFrame(f["evaluations"][:])
        assert len(evals) <= 120 and evals["loss"].min() == best_loss
        for key, truth in TRUTH.items():
            row = intervals.loc[key]
            lo, hi = BOUNDS[key]
            errors[key].append(abs(row["best"] - truth) / (hi - lo))
            assert row["low"] <= row["best"] <= row["high"], (data_seed, key, row.to_dict())
            assert row["high"] - row["low"] < 0.6 * (hi - lo), (data_seed, key, row.to_dict())
            covered += row["low"] <= truth <= row["high"]
        losses.append(best_loss)
    # Over 22 data sets the median error was under 3% of the search range (a few best fits,
    # on data whose cascade came out small or large, were 10-22% away).
    for key, errs in errors.items():
        assert np.median(errs) < 0.1, (key, errs)
    assert covered >= 6, covered
    # With the scales the observations' standard deviations, a best loss is about chi-square
    # with len(WINDOWS) = 8 degrees of freedom (minus the fitted two): the median of the
    # four below its 95% quantile, 15.5. (Not each: the cascade's spread across seeds is
    # skewed, and data seed 2026, a small cascade, fits at 26.1.)
    assert np.median(losses) < 15.5, losses


def test_resume_after_kill_repeats_no_finished_run(tmp_path):
    cal = write_calibration(tmp_path, budget=36)
    reference = tmp_path / "reference"
    run_bankrun("calibrate", cal, "--jobs", "2", "-o", reference)
    expected, _ = evaluations(reference)

    out = tmp_path / "killed"
    proc = subprocess.Popen([str(BANKRUN), "calibrate", str(cal), "--jobs", "1", "-o", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    # Kill the coordinator and its workers once batch 1 has some complete runs.
    deadline = time.time() + 120
    while time.time() < deadline and len(list((out / "batches/1/runs").glob("*.h5"))) < 3:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    finished = {p: (p.stat().st_mtime_ns, p.stat().st_ino)
                for p in (out / "batches").glob("*/runs/*.h5")}
    assert len(list((out / "batches/1/runs").glob("*.h5"))) >= 3
    assert not (out / "calibration.h5").exists() or evaluations(out)[0].shape[0] < 36

    proc = run_bankrun("calibrate", cal, "--jobs", "2", "-o", out)
    done_before = sum(int(n) for n in re.findall(r"\((\d+) done before\)", proc.stdout))
    assert done_before == len(finished), proc.stdout
    for p, (mtime, inode) in finished.items():
        assert (p.stat().st_mtime_ns, p.stat().st_ino) == (mtime, inode), f"{p} was rerun"
    resumed, attrs = evaluations(out)
    assert attrs["status"] in (b"complete", "complete")
    assert resumed.equals(expected)


def test_best_fit_yaml_reruns_replicate_zero_of_the_best_point(tmp_path):
    cal = write_calibration(tmp_path, budget=16, extra="search: {initial_points: 8}\n")
    run_bankrun("calibrate", cal, "--jobs", "2")
    out = tmp_path / "cal.calibration"
    with h5py.File(out / "calibration.h5", "r") as f:
        best_run = out / f.attrs["best_runs"].decode().split(",")[0] \
            if isinstance(f.attrs["best_runs"], bytes) else out / f.attrs["best_runs"].split(",")[0]
    rerun = tmp_path / "rerun.h5"
    run_bankrun("run", out / "best-fit.yaml", "-o", rerun, "--quiet")
    with h5py.File(best_run, "r") as a, h5py.File(rerun, "r") as b:
        assert a.attrs["seed"] == b.attrs["seed"]
        for name in ("population/withdrawn_agents", "institutions/bank/payments_cents",
                     "institutions/bank/deposits_cents"):
            assert np.array_equal(a[name][:], b[name][:]), name


def test_jobs_do_not_change_the_evaluations(tmp_path):
    cal = write_calibration(tmp_path, budget=20)
    run_bankrun("calibrate", cal, "--jobs", "1", "-o", tmp_path / "one", "--quiet")
    run_bankrun("calibrate", cal, "--jobs", "2", "-o", tmp_path / "two", "--quiet")
    assert evaluations(tmp_path / "one")[0].equals(evaluations(tmp_path / "two")[0])


def test_bad_calibration_file_gets_a_positioned_error(tmp_path):
    (tmp_path / "base.yaml").write_text(BASE)
    cal = tmp_path / "bad.yaml"
    cal.write_text(textwrap.dedent("""\
        base: base.yaml
        parameters:
          stress.peer_weight: {low: 0.2, high: 2}
        moments:
          - {statistic: hours_to_net_outflow_fraction, fraction: 0.1, observed: 12, scael: 2}
        """))
    proc = run_bankrun("calibrate", cal, check=False)
    assert proc.returncode == 2
    assert f"{cal}:5:77: moments[0].scael: unknown key 'scael'" in proc.stderr, proc.stderr
    assert "did you mean 'scale'?" in proc.stderr
    assert not (tmp_path / "bad.calibration").exists()


def test_asset_targets_read_the_asset_column(tmp_path):
    """price and asset_units rows read the asset's column of the (ticks, assets) datasets."""
    (tmp_path / "obs.csv").write_text(
        "timestamp,quantity,value\n2022-11-09T00:00:00Z,ftt,4.87\n2022-11-09T00:00:00Z,btc,36\n")
    cal = tmp_path / "assets.yaml"
    cal.write_text(textwrap.dedent(f"""\
        base: {SOURCE_DIR / 'scenarios/ftx-2022.yaml'}
        fixed: {{population.agents: 2000}}
        replicates: 1
        parameters:
          news[1].magnitude: {{low: 0.2, high: 0.4}}
        observed: obs.csv
        targets:
          - {{quantity: ftt, series: price, asset: FTT, institution: ftx, scale: 1}}
          - {{quantity: btc, series: asset_units, asset: BTC, institution: ftx, scale: 100}}
        budget: {{evaluations: 2}}
        search: {{initial_points: 2, method: none}}
        """))
    run_bankrun("calibrate", cal, "--quiet")
    out = tmp_path / "assets.calibration"
    with h5py.File(out / "calibration.h5", "r") as f:
        targets = pd.DataFrame(f["targets"][:])
        run = out / f.attrs["best_runs"].decode()
    assert list(targets["asset"]) == [b"FTT", b"BTC"]
    with h5py.File(run, "r") as f:
        g = f["institutions/ftx/assets"]
        names = g.attrs["asset_names"]
        names = (names.decode() if isinstance(names, bytes) else names).split(",")
        tick = 8 * 24 - 1  # the last tick ending at 9 Nov 00:00 (the run starts 1 Nov)
        ftt, btc = names.index("FTT"), names.index("BTC")
        price = g["price"][tick, ftt]
        units = sum(g[q][tick, btc] for q in ("hot_units", "cold_units", "in_transit_units",
                                              "illiquid_units"))
    assert targets["best_mean"][0] == price and targets["best_mean"][1] == units
