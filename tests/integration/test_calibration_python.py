"""The Python package's reader of `bankrun calibrate` results (analysis/bankrun/calibration.py)
on a real, tiny calibration made in this session: `open_calibration`'s frames against the
file read with h5py, the best evaluation's loss recomputed from /targets, the best runs, the
simulated curves against the compared values, the three plots, and the errors."""
import shutil
import sys
import textwrap
import warnings

import h5py
import numpy as np
import pandas as pd
import pytest

from conftest import SOURCE_DIR, run_bankrun

sys.path.insert(0, str(SOURCE_DIR / "analysis"))
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import bankrun  # noqa: E402
from bankrun.calibration import Calibration  # noqa: E402

BASE = """\
name: tiny-cal
seed: 1
time: {ticks: 36, tick_hours: 1, start: 2022-11-01T00:00:00Z}
population:
  agents: 2000
  classes:
    - name: all
      balance_usd: {dist: lognormal, mu: 8, sigma: 1.0}
      threshold: {dist: normal, mean: 0.5, sd: 0.15, clip_min: 0, clip_max: 1}
      noise_sd: 0.05
network: {type: k_out, k: 10}
stress: {news_weight: 0.6, peer_weight: 0.6, flow_weight: 0.5}
news:
  - {tick: 4, magnitude: 0.3, duration_ticks: 4}
institutions:
  - name: bank
    hot_reserve_fraction: 1
"""
TRUE = {"news[0].magnitude": 0.3, "stress.peer_weight": 0.6}
REPLICATES = 2
BUDGET = 18


def _truth_csv(truth_h5):
    """Observed rows from a run with the true parameters: the withdrawn share and the
    deposits share every 6 hours (at tick ends), the net outflow over two 12-hour windows."""
    with h5py.File(truth_h5, "r") as f:
        agents = float(f.attrs["agents"])
        withdrawn = f["population/withdrawn_agents"][()] / agents
        bank = f["institutions/bank"]
        issued = bank.attrs["issued_cents"] / 100.0
        deposits = bank["deposits"][()] / issued
        net = (bank["payments"][()] - bank["inflows"][()] - bank["transfers_in"][()]) / issued
    start = pd.Timestamp("2022-11-01T00:00:00Z")
    stamp = lambda h: (start + pd.Timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    lines = ["timestamp,quantity,value,end_timestamp"]
    for h in range(6, 37, 6):  # tick h - 1 ends at hour h
        lines.append(f"{stamp(h)},withdrawn,{withdrawn[h - 1]:.6f},")
        lines.append(f"{stamp(h)},deposits,{deposits[h - 1]:.6f},")
    for a, b in ((0, 12), (12, 24)):
        lines.append(f"{stamp(a)},outflow,{net[a:b].sum():.6f},{stamp(b)}")
    return "\n".join(lines) + "\n", float(net.sum())


@pytest.fixture(scope="module")
def calibration(tmp_path_factory, bankrun_bin):
    folder = tmp_path_factory.mktemp("calibration")
    base = folder / "base.yaml"
    base.write_text(BASE)
    truth = folder / "truth.h5"
    run_bankrun("run", base, "-o", truth, "--quiet", "--seed", "99",
                *[a for k, v in TRUE.items() for a in ("--set", f"{k}={v}")])
    csv, total = _truth_csv(truth)
    (folder / "obs.csv").write_text(csv)
    (folder / "fit.yaml").write_text(textwrap.dedent(f"""\
        name: fit
        base: base.yaml
        seed: 3
        replicates: {REPLICATES}
        parameters:
          news[0].magnitude: {{low: 0.1, high: 0.5}}
          stress.peer_weight: {{low: 0.2, high: 1.0}}
        observed: obs.csv
        targets:
          - {{quantity: withdrawn, series: withdrawn_fraction, scale: 0.02}}
          - {{quantity: deposits, series: deposits_fraction, scale: 0.05, weight: 0.5}}
          - {{name: outflow, quantity: outflow, series: net_outflow_fraction, scale: 0.05}}
        moments:
          - {{statistic: total_net_outflow_fraction, institution: bank, observed: {total:.6f},
             scale: 0.05}}
        budget: {{evaluations: {BUDGET}}}
        search: {{initial_points: 6, population: 4}}
        uncertainty: {{points: 4}}
        """))
    run_bankrun("calibrate", folder / "fit.yaml", "--jobs", "2", "--quiet", "-o",
                folder / "fit.calibration", timeout=300)
    return folder / "fit.calibration"


@pytest.fixture(scope="module")
def cal(calibration):
    return bankrun.open_calibration(calibration)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_opens_the_folder_or_its_file(calibration, cal):
    assert isinstance(cal, Calibration)
    again = bankrun.open_calibration(calibration / "calibration.h5")
    assert again.folder == cal.folder == calibration
    assert cal.status == "complete" and cal.complete and cal.stop_reason in (
        "budget", "converged")
    assert cal.name == "fit" and cal.replicates == REPLICATES
    assert cal.parameters == list(TRUE)
    assert cal.terms == ["withdrawn", "deposits", "outflow", "total_net_outflow_fraction"]
    assert cal.moments == ["total_net_outflow_fraction"]
    assert len(cal.replicate_seeds) == REPLICATES
    assert cal.start == pd.Timestamp("2022-11-01T00:00:00Z") and cal.tick_hours == 1.0
    assert cal.spec["replicates"] == REPLICATES
    assert "best loss" in repr(cal)
    assert cal.best_fit_path.is_file()
    text = cal.best_fit_path.read_text()
    for p in cal.parameters:
        assert f"# fitted: {p}=" in text


def test_frames_match_the_file(calibration, cal):
    with h5py.File(calibration / "calibration.h5", "r") as f:
        attrs = dict(f.attrs)
        ev = f["evaluations"][()]
        targets = f["targets"][()]
        reps = f["best_replicates"][()]
        intervals = f["intervals"][()]
    n = int(attrs["evaluations"])
    assert len(cal.evaluations) == len(ev) == n <= BUDGET
    assert cal.evaluations.index.name == "evaluation"
    assert cal.evaluations.index.tolist() == ev["evaluation"].tolist() == list(range(n))
    for name in ev.dtype.names:
        if name == "evaluation":
            continue
        if ev.dtype[name].kind == "S":
            assert cal.evaluations[name].tolist() == [v.decode() for v in ev[name]], name
        else:
            np.testing.assert_array_equal(cal.evaluations[name].to_numpy(), ev[name], name)
    assert set(cal.evaluations["phase"]) <= {"initial", "search", "uncertainty", "edges"}
    for key, value in attrs.items():
        expected = value.decode() if isinstance(value, bytes) else value
        assert cal.attrs[key] == expected, key
    assert len(cal.targets) == len(targets) and cal.best_replicates.shape == (len(targets),
                                                                              REPLICATES)
    np.testing.assert_array_equal(cal.best_replicates, reps)
    assert cal.targets["term"].tolist() == [v.decode() for v in targets["term"]]
    for name in ("observed", "scale", "weight", "best_mean", "best_min", "best_max"):
        np.testing.assert_array_equal(cal.targets[name].to_numpy(), targets[name], name)
    times = [pd.Timestamp(v.decode()) if v else pd.NaT for v in targets["time_utc"]]
    assert cal.targets["time_utc"].tolist() == times
    series = cal.targets["kind"] == "series"
    assert cal.targets.loc[series, "time_utc"].notna().all()
    assert cal.targets.loc[~series, "time_utc"].isna().all()
    windowed = cal.targets["term"] == "outflow"
    assert cal.targets.loc[windowed, "end_utc"].notna().all()
    assert cal.targets.loc[~windowed, "end_utc"].isna().all()
    assert str(cal.targets["time_utc"].dt.tz) == "UTC"
    assert cal.intervals.index.tolist() == [v.decode() for v in intervals["parameter"]]
    assert cal.intervals.index.tolist() == cal.parameters
    np.testing.assert_array_equal(cal.intervals["low"].to_numpy(), intervals["low"])
    assert cal.intervals["low_at_bound"].dtype == bool


def test_best_evaluation(cal):
    best = cal.best
    assert best.name == cal.best_evaluation
    assert best["loss"] == cal.best_loss == cal.evaluations["loss"].min()
    assert cal.loss_threshold > cal.best_loss
    assert cal.best_values == {p: best[p] for p in cal.parameters}
    for p in cal.parameters:
        iv = cal.intervals.loc[p]
        assert iv["best"] == best[p]
        # low and high are mapped from unit coordinates, best is the value as run (15
        # significant digits): they may differ in the last digits when the interval ends there.
        eps = 1e-12 * (iv["search_high"] - iv["search_low"])
        assert iv["search_low"] <= iv["low"] <= best[p] + eps
        assert best[p] - eps <= iv["high"] <= iv["search_high"]
    within = cal.within_threshold()
    assert cal.best_evaluation in within.index
    assert (within["loss"] <= cal.loss_threshold).all()
    assert (cal.intervals["within"] == len(within)).all()


def test_loss_recomputed_from_targets(cal):
    t = cal.targets
    # The best evaluation's mean over the replicates, row by row.
    np.testing.assert_allclose(t["best_mean"], cal.best_replicates.mean(axis=1), rtol=1e-12)
    np.testing.assert_array_equal(t["best_min"], cal.best_replicates.min(axis=1))
    np.testing.assert_array_equal(t["best_max"], cal.best_replicates.max(axis=1))
    parts = t["weight"] * ((t["best_mean"] - t["observed"]) / t["scale"]) ** 2
    assert parts.sum() == pytest.approx(cal.best_loss, rel=1e-9)
    best = cal.best
    for term, part in parts.groupby(t["term"]):
        assert part.sum() == pytest.approx(best[f"loss.{term}"], rel=1e-9, abs=1e-15), term
    moment = t[t["kind"] == "moment"]
    assert moment["term"].tolist() == ["total_net_outflow_fraction"]
    assert moment["best_mean"].iloc[0] == pytest.approx(best["sim.total_net_outflow_fraction"],
                                                        rel=1e-12)


def test_loss_trace(cal):
    trace = cal.loss_trace()
    assert list(trace.columns) == ["evaluation", "batch", "phase", "loss", "best_so_far"]
    assert len(trace) == len(cal.evaluations)
    np.testing.assert_array_equal(trace["best_so_far"],
                                  np.minimum.accumulate(cal.evaluations["loss"].to_numpy()))
    assert trace["best_so_far"].iloc[-1] == cal.best_loss
    assert trace["best_so_far"].is_monotonic_decreasing


def test_best_runs(cal):
    runs = cal.best_runs()
    assert len(runs) == REPLICATES
    assert [r.path for r in runs] == cal.run_paths(cal.best_evaluation)
    seeds = [int(r.attrs["seed"]) for r in runs]
    assert seeds == cal.replicate_seeds  # common random numbers: replicate r's seed
    for run in runs:
        assert isinstance(run, bankrun.Run) and run.complete
        for p, value in cal.best_values.items():
            assert f"{value:.15g}" in run.scenario_yaml or str(value) in run.scenario_yaml, p
    # Every evaluation's runs are there.
    for e in cal.evaluations.index:
        assert all(p.is_file() for p in cal.run_paths(e))


def test_simulated_curves_give_the_compared_values(cal):
    runs = cal.best_runs()
    t = cal.targets
    for term in ("withdrawn", "deposits"):
        rows = t[t["term"] == term]
        for r, run in enumerate(runs):
            curve = cal.simulated_curve(run, term)
            assert curve is not None
            np.testing.assert_allclose(curve.reindex(rows["time_utc"]).to_numpy(),
                                       cal.best_replicates[rows.index, r], rtol=1e-12,
                                       err_msg=term)
    assert cal.simulated_curve(runs[0], "outflow") is None  # windowed flow
    assert cal.simulated_curve(runs[0], "total_net_outflow_fraction") is None  # a moment


def test_plots_return_figures(cal):
    assert isinstance(bankrun.plot_loss_trace(cal), Figure)
    assert isinstance(bankrun.plot_fit(cal), Figure)
    assert isinstance(bankrun.plot_fit(cal, "withdrawn"), Figure)
    assert isinstance(bankrun.plot_fit(cal, "total_net_outflow_fraction"), Figure)
    assert isinstance(bankrun.plot_marginals(cal), Figure)
    with pytest.raises(KeyError, match="no such term"):
        bankrun.plot_fit(cal, "nope")


def test_plot_fit_without_the_run_files(calibration, tmp_path):
    copy = tmp_path / "moved.calibration"
    copy.mkdir()
    shutil.copy(calibration / "calibration.h5", copy / "calibration.h5")
    assert isinstance(bankrun.plot_fit(bankrun.open_calibration(copy)), Figure)


def test_errors(calibration, tmp_path):
    run_file = calibration / "batches/0/runs/0.h5"
    with pytest.raises(bankrun.NotBankrunFileError, match="use bankrun.open()"):
        bankrun.open_calibration(run_file)
    with pytest.raises(bankrun.NotBankrunFileError, match="open_sweep"):
        bankrun.open_calibration(calibration / "batches/0/index.h5")
    text = tmp_path / "not.h5"
    text.write_text("hello")
    with pytest.raises(bankrun.NotBankrunFileError, match="not an HDF5 file"):
        bankrun.open_calibration(text)
    with pytest.raises(FileNotFoundError):
        bankrun.open_calibration(tmp_path / "missing.calibration")
    newer = tmp_path / "newer.h5"
    shutil.copy(calibration / "calibration.h5", newer)
    with h5py.File(newer, "r+") as f:
        f.attrs.modify("format_version", np.int32(2))
    with pytest.raises(bankrun.FormatVersionError, match="version 2"):
        bankrun.open_calibration(newer)
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f.attrs["format"] = "something-else"
    with pytest.raises(bankrun.NotBankrunFileError, match="not a bankrun calibration"):
        bankrun.open_calibration(foreign)
    stopped = tmp_path / "stopped.h5"
    shutil.copy(calibration / "calibration.h5", stopped)
    with h5py.File(stopped, "r+") as f:
        f.attrs["status"] = np.bytes_("stopped")
        f.attrs["stop_reason"] = np.bytes_("wall_time")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        opened = bankrun.open_calibration(stopped)
    assert opened.status == "stopped"
    assert any(issubclass(w.category, bankrun.RunStatusWarning) and "wall-time" in str(w.message)
               for w in caught)


def test_open_and_open_sweep_point_to_open_calibration(calibration):
    for opener in (bankrun.open, bankrun.open_sweep):
        with pytest.raises(bankrun.NotBankrunFileError, match="open_calibration"):
            opener(calibration / "calibration.h5")
