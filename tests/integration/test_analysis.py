"""The Python analysis package (analysis/bankrun) on real outputs of the binary, produced in
this test session: reading, xarray, errors, sweeps, plots, the report command line and the
public figures. Runs as the CTest test `python_analysis` (PYTHONPATH=analysis)."""
import math
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings

import h5py
import numpy as np
import pandas as pd
import pytest

from conftest import BANKRUN, SOURCE_DIR, run_bankrun

sys.path.insert(0, str(SOURCE_DIR / "analysis"))
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import xarray as xr  # noqa: E402

import bankrun  # noqa: E402
from bankrun import _yaml  # noqa: E402
from bankrun.sweep import run_seed, yaml_value  # noqa: E402

SMALL = "population.agents=20000"


@pytest.fixture(scope="session")
def outputs(tmp_path_factory):
    """Real runs, written once per session: the contagion scenario (three institutions,
    BTC and FTT, an exposure, a policy), the flagship and Binance (6-hour ticks, inflows),
    all at 20k agents; the flagship with snapshots."""
    folder = tmp_path_factory.mktemp("analysis-runs")
    made = {}
    for name, extra in [("ftx-contagion-2022", ()), ("binance-2022", ()),
                        ("ftx-2022", ("--set", "output.snapshot_ticks=[100, 160]",
                                      "--set", "output.snapshot_agents=500"))]:
        out = folder / f"{name}.h5"
        run_bankrun("run", SOURCE_DIR / "scenarios" / f"{name}.yaml", "-o", out, "--quiet",
                    "--set", SMALL, *extra)
        made[name] = out
    return made


@pytest.fixture(scope="session")
def contagion(outputs):
    return bankrun.open(outputs["ftx-contagion-2022"])


@pytest.fixture(scope="session")
def binance(outputs):
    return bankrun.open(outputs["binance-2022"])


@pytest.fixture(scope="session")
def ftx(outputs):
    return bankrun.open(outputs["ftx-2022"])


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# -- the run object -------------------------------------------------------------------------

def test_metadata_and_scenario(contagion, outputs):
    run = contagion
    assert run.name == "ftx-contagion-2022" and run.status == "complete" and run.complete
    assert run.institution_names == ["ftx", "lender", "binance"]
    assert run.currencies == ["USD", "BTC"]
    assert run.scenario["name"] == run.name
    assert run.scenario["population"]["agents"] == 20000  # the --set override, resolved
    assert [i["name"] for i in run.scenario["institutions"]] == run.institution_names
    assert [c["name"] for c in run.scenario["population"]["classes"]] == list(run.classes.index)
    assert run.scenario["institutions"][0]["assets"][1]["own_token"] is True
    prov = run.provenance
    assert prov["seed"] == 2022 and prov["format_version"] == 3
    assert prov["resumed_at_ticks"] == [] and prov["parent_tick"] is None
    assert prov["path"] == str(outputs["ftx-contagion-2022"])
    assert "ftx-contagion-2022" in repr(run) and "3 institutions" in repr(run)
    assert run.network["type"] == "erdos_renyi"


def test_time_index(contagion, binance):
    for run, hours in ((contagion, 1), (binance, 6)):
        assert isinstance(run.time, pd.DatetimeIndex) and str(run.time.tz) == "UTC"
        assert len(run.time) == int(run.attrs["ticks_recorded"]) == len(run.ticks)
        assert run.time[0] == run.start + pd.Timedelta(hours=hours)   # the end of tick 0
        assert run.tick_start[0] == run.start
        assert (np.diff(run.time.asi8) == hours * 3600 * 10**9).all()
        assert run.tick_at(run.time_of_tick(10, edge="start")) == 10
    assert binance.start == pd.Timestamp("2022-11-10", tz="UTC")
    assert pd.isna(contagion.time_of_tick(-1))


def test_institution_series_match_the_file(contagion, outputs):
    run = contagion
    with h5py.File(outputs["ftx-contagion-2022"]) as f:
        for name in run.institution_names:
            frame = run.institutions[name]
            g = f["institutions"][name]
            assert frame.index.equals(run.time)
            np.testing.assert_array_equal(frame["deposits_cents"], g["deposits_cents"][()])
            np.testing.assert_array_equal(frame["signal_flow"], g["signals/flow"][()])
            assert frame["halted"].dtype == bool
            assert frame.attrs["units"]["deposits"] == "USD"
            assert frame.attrs["units"]["signal_queue"] == "days"
            issued = int(g.attrs["issued_cents"])
            flows = frame.inflows_cents + frame.transfers_in_cents - frame.payments_cents
            assert (frame.deposits_cents == issued + flows.cumsum()).all()
    with pytest.raises(KeyError, match="no such institution"):
        run.institutions["nope"]
    assert list(run.institutions) == run.institution_names


def test_assets_population_and_classes(contagion):
    run = contagion
    a = run.assets["ftx"]
    assert a.columns.names == ["quantity", "asset"]
    assert list(a["price"].columns) == ["BTC", "FTT"] == run.asset_names("ftx")
    units = a["hot_units"] + a["cold_units"] + a["in_transit_units"] + a["illiquid_units"]
    np.testing.assert_allclose(a["value"], units * a["price"], rtol=1e-9, atol=1.0)
    assert a.attrs["units"]["price"] == "USD per unit"
    assert run.assets["lender"].shape[1] == 0 and run.asset_names("lender") == []
    assert run.asset_spec["binance"].index.tolist() == ["BTC"]
    # Per-class series add up to the population's.
    bc = run.by_class
    assert list(bc["withdrawn_agents"].columns) == list(run.classes.index)
    np.testing.assert_array_equal(bc["withdrawn_agents"].sum(axis=1),
                                  run.population["withdrawn_agents"])
    assert {"stress_q0.1", "stress_q0.5", "stress_q0.9"} <= set(bc.columns.get_level_values(0))
    assert run.classes["agents"].sum() == 20000
    assert "news" in run.population and run.population.attrs["units"]["news"] == "stress units"


def test_events_policies_exposures_summary(contagion, binance):
    run = contagion
    ev = run.events
    assert "Binance to sell its FTT" in set(ev["label"])
    row = ev[ev["label"] == "Binance to sell its FTT"].iloc[0]
    assert row["institution"] == "ftx" and row["time"] == pd.Timestamp("2022-11-06T16:00Z")
    x = run.exposures
    assert x[["creditor", "debtor"]].values.tolist() == [["lender", "ftx"]]
    tick = x.loc[0, "default_tick"]
    assert tick >= 0 and x.loc[0, "default_time"] == run.time[tick]
    s = run.summary
    assert list(s.index) == run.institution_names
    halt = s.loc["ftx", "halt_tick"]
    assert halt >= 0 and s.loc["ftx", "halt_time"] == run.time[halt]
    assert pd.isna(s.loc["binance", "halt_time"])
    assert run.population_summary["agents"] == 20000
    timeline = run.timeline()
    assert timeline["time"].is_monotonic_increasing
    assert {"news", "halt", "insolvent", "write-down", "policy"} <= set(timeline["kind"])
    # Binance's proof of reserves fires on 22 Nov (a policy with a fixed date).
    p = binance.policies
    assert p.loc[0, "kind"] == "proof_of_reserves"
    assert p.loc[0, "fired_time"] == pd.Timestamp("2022-11-22", tz="UTC")


def test_derived_quantities(binance):
    daily = binance.daily("binance")
    total = binance.summary.loc["binance", "total_outflow_usd"]
    assert daily["payments"].sum() == pytest.approx(total, rel=1e-9)
    assert daily.index[0] == pd.Timestamp("2022-11-10", tz="UTC")
    assert binance.outflow_share("binance").iloc[-1] == pytest.approx(
        total / binance.issued("binance"))
    assert 0 < binance.net_outflow_share("binance").iloc[-1] < 1


def test_snapshots(ftx):
    snap = ftx.snapshots
    assert set(snap["tick"]) == {100, 160} and len(snap) == 1000
    assert set(snap["class_name"]) <= set(ftx.classes.index)
    assert set(snap["institution"]) == {"ftx"}
    assert set(snap["state_name"].cat.categories) == {"holding", "lagging", "queued", "left"}
    assert (snap.loc[snap["tick"] == 100, "time"] == ftx.time[100]).all()


# -- xarray ----------------------------------------------------------------------------------

def test_to_xarray_dimensions_units_values(contagion, tmp_path):
    ds = contagion.to_xarray()
    assert dict(ds.sizes) == {"time": len(contagion.time), "institution": 3, "asset": 2,
                              "class": 6, "quantile": 3}
    assert ds["deposits"].dims == ("time", "institution")
    assert ds["asset_price"].dims == ("time", "institution", "asset")
    assert ds["class_withdrawn_value"].dims == ("time", "class")
    assert ds["class_stress_quantiles"].dims == ("time", "class", "quantile")
    for name, var in ds.data_vars.items():
        assert "units" in var.attrs, name
    assert ds["deposits"].attrs["units"] == "USD"
    assert ds["asset_price"].attrs["units"] == "USD per unit"
    np.testing.assert_array_equal(ds["deposits"].sel(institution="lender").values,
                                  contagion.institutions["lender"]["deposits"].to_numpy())
    # The lender holds no asset, Binance no FTT: NaN there.
    assert ds["asset_price"].sel(institution="lender").isnull().all()
    assert not bool(ds["asset_held"].sel(institution="binance", asset="FTT"))
    np.testing.assert_array_equal(ds["asset_price"].sel(institution="ftx", asset="FTT").values,
                                  contagion.assets["ftx"][("price", "FTT")].to_numpy())
    assert ds["tick"].values[0] == 0 and ds.attrs["scenario_name"] == "ftx-contagion-2022"
    # It goes to netCDF and back.
    path = tmp_path / "run.nc"
    ds.to_netcdf(path, engine="h5netcdf")
    with xr.open_dataset(path, engine="h5netcdf") as back:
        assert back["payments"].attrs["units"] == "USD"
        np.testing.assert_array_equal(back["payments"].values, ds["payments"].values)
    assert bankrun.open_dataset(contagion.path)["deposits"].shape == ds["deposits"].shape


def test_xarray_opens_a_run_file_directly(outputs):
    path = outputs["ftx-contagion-2022"]
    with xr.open_dataset(path, engine="h5netcdf", group="institutions/ftx",
                         phony_dims="sort") as ds:
        assert ds["deposits"].attrs["units"] == "USD"
        assert ds["deposits"].size == bankrun.open(path).time.size


# -- errors and warnings ------------------------------------------------------------------

def _copy_with(tmp_path, source, name, **attrs):
    out = tmp_path / name
    shutil.copy(source, out)
    with h5py.File(out, "r+") as f:
        for k, v in attrs.items():
            f.attrs[k] = v
    return out


def test_not_bankrun_files(tmp_path):
    text = tmp_path / "notes.h5"
    text.write_text("not HDF5 at all\n")
    with pytest.raises(bankrun.NotBankrunFileError, match="not an HDF5 file"):
        bankrun.open(text)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = [1, 2, 3]
    with pytest.raises(bankrun.NotBankrunFileError, match="not a bankrun output file"):
        bankrun.open(other)
    with pytest.raises(bankrun.NotBankrunFileError, match="not a bankrun sweep index"):
        bankrun.open_sweep(other)
    with pytest.raises(FileNotFoundError):
        bankrun.open(tmp_path / "missing.h5")


def test_format_versions(tmp_path, outputs):
    newer = _copy_with(tmp_path, outputs["ftx-2022"], "newer.h5", format_version=np.int32(4))
    with pytest.raises(bankrun.FormatVersionError, match=r"format version 4 .* newer .*up to 3"):
        bankrun.open(newer)
    # Version 2 (before resumes and branches) is still read: no such provenance then.
    v2 = _copy_with(tmp_path, outputs["ftx-2022"], "v2.h5", format_version=np.int32(2))
    with h5py.File(v2, "r+") as f:
        for key in ("resumed_at_ticks", "parent_file", "parent_tick"):
            del f.attrs[key]
    run = bankrun.open(v2)
    assert run.provenance["resumed_at_ticks"] == [] and run.provenance["parent_file"] is None
    assert len(run.institutions["ftx"]) == len(run.time)
    older = _copy_with(tmp_path, outputs["ftx-2022"], "older.h5", format_version=np.int32(1))
    with pytest.raises(bankrun.FormatVersionError, match="older"):
        bankrun.open(older)


def test_interrupted_and_failed_runs_warn(tmp_path, outputs):
    edited = _copy_with(tmp_path, outputs["ftx-2022"], "edited.h5",
                        status=np.bytes_(b"interrupted"))
    with pytest.warns(bankrun.InterruptedRunWarning, match="interrupted"):
        run = bankrun.open(edited)
    assert run.status == "interrupted" and not run.complete
    assert len(run.institutions["ftx"]) == len(run.time)  # still readable
    failed = _copy_with(tmp_path, outputs["ftx-2022"], "failed.h5", status=np.bytes_(b"failed"))
    with pytest.warns(bankrun.RunStatusWarning, match="failed"):
        bankrun.open(failed)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bankrun.open(outputs["ftx-2022"])  # a complete run: no warning


def test_a_real_ctrl_c_run_opens_with_a_warning(tmp_path):
    out = tmp_path / "int.h5"
    proc = subprocess.Popen(
        [str(BANKRUN), "run", str(SOURCE_DIR / "scenarios/ftx-2022.yaml"), "-o", str(out),
         "--threads", "1", "--set", SMALL, "--set", "time.ticks=2000000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    partial = out.with_name(out.name + ".partial")
    deadline = time.time() + 60
    while not partial.exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=120)
    assert proc.returncode == 130
    with pytest.raises(FileNotFoundError, match="int.h5.partial is there"):
        bankrun.open(out)  # only a complete run gets the final name
    with pytest.warns(bankrun.InterruptedRunWarning, match="interrupted after"):
        run = bankrun.open(partial)
    n = len(run.time)
    assert 0 < n < 2000000 and run.summary.loc["ftx", "issued_usd"] > 0
    assert len(run.institutions["ftx"]) == n


# -- sweeps ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hand_sweep(tmp_path_factory):
    """2 x 2 points x 2 replicates of the flagship at 5,000 agents, run with `bankrun sweep`;
    run 7's file is then deleted and the index rewritten by `bankrun merge` (which exits 3:
    not every run is complete)."""
    folder = tmp_path_factory.mktemp("sweep")
    base = (SOURCE_DIR / "scenarios/ftx-2022.yaml").read_text()
    assert "\n  agents: 1000000\n" in base
    (folder / "ftx-small.yaml").write_text(base.replace("\n  agents: 1000000\n", "\n  agents: 5000\n"))
    study = folder / "hand.yaml"
    study.write_text("base: ftx-small.yaml\nseed: 5\nreplicates: 2\noutput: .\nparameters:\n"
                     "  stress.flow_weight: [1, 2.5]\n  news[1].magnitude: [0.2, 0.4]\n")
    run_bankrun("sweep", study, "--quiet", "--jobs", "2")
    (folder / "runs/7.h5").unlink()
    merged = subprocess.run([str(BANKRUN), "merge", str(folder), "--quiet"], capture_output=True,
                            text=True)
    assert merged.returncode == 3, merged.stderr
    return folder, folder / "index.h5"


def test_open_sweep_reads_an_index(hand_sweep):
    folder, index = hand_sweep
    sweep = bankrun.open_sweep(index)
    assert isinstance(sweep, bankrun.SweepFrame) and len(sweep) == 8
    assert sweep.parameters == ["stress.flow_weight", "news[1].magnitude"]
    assert "ftx.total_outflow_usd" in sweep.metrics and "withdrawn_agents" in sweep.metrics
    assert sweep.index.name == "run" and list(sweep.index) == list(range(8))
    assert list(sweep["status"]) == ["complete"] * 7 + ["missing"]
    assert sweep.loc[7, "path"] == str((folder / "runs/7.h5").resolve())
    assert bankrun.open_sweep(folder).equals(sweep)          # the folder means its index.h5
    # Lazy access to a run's trajectories, and the external link resolves to the same file.
    run = sweep.run(3)
    assert run.attrs["seed"] == sweep.loc[3, "seed"]
    assert run.summary.loc["ftx", "total_outflow_usd"] == sweep.loc[3, "ftx.total_outflow_usd"]
    with h5py.File(index) as f:
        np.testing.assert_array_equal(f["trajectories/3/institutions/ftx/payments"][()],
                                      run.institutions["ftx"]["payments"].to_numpy())
    traj = sweep.trajectories("payments", "ftx")
    assert list(traj.columns) == list(range(7)) and len(traj) == 240
    totals = sweep["ftx.total_outflow_usd"].iloc[:7].to_numpy()
    assert traj.sum().to_numpy() == pytest.approx(totals)
    assert sweep.trajectories("withdrawn_agents").iloc[-1].to_numpy().tolist() == \
        sweep["withdrawn_agents"].iloc[:7].tolist()
    # Selections keep the type and the lazy access.
    high = sweep[sweep["stress.flow_weight"] > 2]
    assert isinstance(high, bankrun.SweepFrame) and high.parameters == sweep.parameters
    assert high.run(4).name == "ftx-2022"
    means = sweep.replicate_means("ftx.total_outflow_usd")
    assert len(means) == 4 and means["count"].tolist() == [2, 2, 2, 1]
    sizes = sweep.cascade_sizes()
    assert sizes.iloc[:7].between(0, 1).all() and math.isnan(sizes.loc[7])
    issued = sweep.map_runs(lambda r: r.issued("ftx"))
    assert issued.iloc[:7].to_numpy() == pytest.approx(16e9, rel=1e-6)
    assert math.isnan(issued.loc[7])


def test_open_sweep_errors(hand_sweep, tmp_path, outputs):
    _, index = hand_sweep
    with pytest.raises(bankrun.NotBankrunFileError, match="open_sweep"):
        bankrun.open(index)
    with pytest.raises(bankrun.NotBankrunFileError, match=r"bankrun.open\(\)"):
        bankrun.open_sweep(outputs["ftx-2022"])
    newer = tmp_path / "newer-index.h5"
    shutil.copy(index, newer)
    with h5py.File(newer, "r+") as f:
        f.attrs["format_version"] = np.int32(2)
    with pytest.raises(bankrun.FormatVersionError):
        bankrun.open_sweep(newer)


def test_run_grid_is_bankrun_sweep(tmp_path):
    grid = {"stress.flow_weight": [1, 2.5], "news[1].magnitude": [0.2, 0.4]}
    sweep = bankrun.run_grid(SOURCE_DIR / "scenarios/ftx-2022.yaml", grid, tmp_path / "grid",
                             replicates=2, seed=11, overrides={"population.agents": 3000}, jobs=2)
    assert len(sweep) == 8 and (sweep["status"] == "complete").all()
    assert sweep.parameters == ["population.agents", *grid]
    assert sweep["seed"].tolist() == [run_seed(11, i // 2, i % 2) for i in range(8)]
    assert sweep["stress.flow_weight"].tolist() == [1, 1, 1, 1, 2.5, 2.5, 2.5, 2.5]
    assert sweep["news[1].magnitude"].tolist() == [0.2, 0.2, 0.4, 0.4] * 2
    manifest = pd.read_csv(tmp_path / "grid/manifest.csv")
    assert manifest["scenario_sha256"].tolist() == sweep["scenario_sha256"].tolist()
    run5 = sweep.run(5)
    assert run5.scenario["stress"]["flow_weight"] == 2.5 and run5.attrs["agents"] == 3000
    assert yaml_value(1e5) == "100000" and yaml_value(0.1 + 0.2) == "0.3"
    # The same sweep written by hand and run with `bankrun sweep`: the same runs and results.
    study = tmp_path / "study.yaml"
    study.write_text(
        f"base: {SOURCE_DIR / 'scenarios/ftx-2022.yaml'}\nseed: 11\nreplicates: 2\n"
        "parameters:\n  population.agents: [3000]\n  stress.flow_weight: [1, 2.5]\n"
        "  news[1].magnitude: [0.2, 0.4]\n")
    run_bankrun("sweep", study, "--quiet")
    real = bankrun.open_sweep(tmp_path / "study.sweep")
    for col in ("seed", "scenario_sha256", "ftx.total_outflow_usd", "ftx.halt_tick"):
        assert real[col].tolist() == sweep[col].tolist(), col
    # A bad key path is bankrun's error, raised with its message.
    with pytest.raises(RuntimeError, match="stress.flow_wieght"):
        bankrun.run_grid(SOURCE_DIR / "scenarios/ftx-2022.yaml", {"stress.flow_wieght": [1]},
                         tmp_path / "bad")


# -- plots and the report ---------------------------------------------------------------------

def test_every_plot_returns_a_figure(contagion, ftx, binance, hand_sweep, tmp_path):
    figures = bankrun.load_public_figures()
    made = [bankrun.plot_flows(contagion), bankrun.plot_flows(contagion, "binance"),
            bankrun.plot_reserves(contagion), bankrun.plot_prices(contagion),
            bankrun.plot_prices(binance),  # no market asset: says so
            bankrun.plot_class_withdrawals(binance), bankrun.plot_overview(ftx),
            bankrun.plot_overview(binance),
            bankrun.plot_comparison(ftx, figures, "ftx"),
            bankrun.plot_comparison(binance, figures, "binance")]
    sweep = bankrun.open_sweep(hand_sweep[1])
    made.append(bankrun.plot_phase_diagram(sweep, "stress.flow_weight", "news[1].magnitude",
                                           "ftx.total_outflow_usd"))
    made.append(bankrun.plot_cascade_sizes(sweep))
    made.append(bankrun.plot_cascade_sizes(sweep, by="stress.flow_weight"))
    made.append(bankrun.plot_cascade_sizes([0.1, 0.5, 0.9, 0.95]))
    for k, fig in enumerate(made):
        assert isinstance(fig, matplotlib.figure.Figure) and fig.axes
        fig.savefig(tmp_path / f"{k}.png", dpi=40)
    # The flows figure marks the news events and the halt.
    axes = made[0].axes[0]
    assert len(axes.lines) >= len(contagion.events) + 1
    # The phase diagram's cells are the replicate means.
    image = made[10].axes[0].images[0].get_array()
    means = sweep[sweep.status == "complete"].groupby(["news[1].magnitude", "stress.flow_weight"])[
        "ftx.total_outflow_usd"].mean().unstack()
    np.testing.assert_allclose(np.asarray(image), means.to_numpy())


def test_compare_with_public_figures(ftx, binance):
    public = bankrun.load_public_figures()
    table = bankrun.compare(ftx, public, "ftx")
    assert table.attrs["institution"] == "ftx"
    first_day = pd.Timestamp("2022-11-01", tz="UTC")
    start = table[(table.quantity == "deposits") & (table.date == first_day)]
    assert start["simulated"].iloc[0] == pytest.approx(16e9, rel=1e-6)   # the scenario's total
    assert start["ratio"].iloc[0] == pytest.approx(1, rel=1e-6)
    halt = table[table.quantity == "halt"].iloc[0]
    assert halt["simulated"] == ftx.summary.loc["ftx", "halt_time"]
    flow = table[(table.quantity == "net_outflow") & (table.unit == "USD")].iloc[0]
    lo, hi = flow["date"], flow["end_date"]
    inst = ftx.institutions["ftx"]
    mask = (ftx.tick_start >= lo) & (ftx.tick_start < hi)
    expected = (inst.payments - inst.inflows - inst.transfers_in)[mask].sum()
    assert flow["simulated"] == pytest.approx(expected)
    b = bankrun.compare(binance, public, "binance")
    assert (b.loc[b.date == pd.Timestamp("2022-11-10", tz="UTC"), "coverage"] > 0.98).all()
    with pytest.raises(ValueError, match="no public figures"):
        bankrun.compare(ftx, public, "celsius")


def test_public_figures_come_from_cases_md():
    # Every figure of the shipped CSV is spelled out in the shipped calibration notes.
    cases = bankrun.CASES_MD.read_text()
    public = bankrun.load_public_figures()
    assert set(public["case"]) == {"ftx", "binance"}
    assert public["source"].str.startswith("CASES.md").all()

    def spelled(value, kind):
        if kind == "share":
            return [f"{value * 100:g}%"]
        if kind == "asset_units":
            return [f"{value:,.0f}", f"{value:.0f}"]
        if value >= 1e8:
            b = value / 1e9
            return [f"${b:g}B", f"${b:.2f}B", f"${b:.1f}B", f"{b:g}B", f"{b:.2f}B"]
        return [f"${value:g}", f"${value:.2f}"]

    for r in public.itertuples():
        for kind in ("value_usd", "share", "asset_units"):
            v = getattr(r, kind)
            if pd.notna(v):
                assert any(s in cases for s in spelled(v, kind)), (r.case, r.quantity, kind, v)


def _python(*args, **kwargs):
    env = dict(os.environ, PYTHONPATH=str(SOURCE_DIR / "analysis"), MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "bankrun", *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=300, **kwargs)


def test_report_command_line(outputs, tmp_path):
    out = tmp_path / "report"
    proc = _python("report", outputs["ftx-contagion-2022"], "-o", out, "--case", "ftx",
                   "--dpi", "50")
    assert proc.returncode == 0, proc.stderr
    for name in ("overview", "flows", "reserves", "prices", "classes", "comparison"):
        assert (out / f"{name}.png").stat().st_size > 1000, name
    page = (out / "index.html").read_text()
    assert "ftx-contagion-2022" in page and "overview.png" in page and "lender" in page
    assert "Simulated vs observed" in page
    # Default folder next to the file; no prices figure without assets.
    copy = tmp_path / "binance.h5"
    shutil.copy(outputs["binance-2022"], copy)
    proc = _python("report", copy, "--dpi", "40")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "binance-report/index.html").exists()
    assert not (tmp_path / "binance-report/prices.png").exists()
    bad = tmp_path / "bad.h5"
    bad.write_text("nope")
    proc = _python("report", bad)
    assert proc.returncode == 2 and "not an HDF5 file" in proc.stderr
    info = _python("info", outputs["binance-2022"])
    assert info.returncode == 0 and "binance" in info.stdout


# -- the YAML reader -------------------------------------------------------------------------

def test_yaml_reader_subset():
    text = """# comment
name: "quoted: name"   # a comment
plain: it's here
nums: [1, -2, 3.5, 1e5, .inf, 0x1f, ~, true, False, 2022-11-02T14:00:00Z]
flow: {a: 1, b: [x, 'y, z'], c: {d: "e\\tf\\u00e9"}}
multi: {a: 1,
  b: 2}
empty_map: {}
empty_list: []
seq:
- a
- - b
  - c
-
  k: v
- k2: v2
  k3: [1]
indented:
  - name: x
    sub:
      deep: 1
anchor: &A {p: 1}
alias: *A
literal: |
  line 1
   line 2
folded: >-
  one
  two

  three
folded_plain: this is
  folded
last: ''
"""
    got = _yaml.loads(text)
    assert got["name"] == "quoted: name" and got["plain"] == "it's here"
    assert got["nums"][:6] == [1, -2, 3.5, 1e5, math.inf, 31]
    assert got["nums"][6:] == [None, True, False, "2022-11-02T14:00:00Z"]
    assert isinstance(got["nums"][3], float)
    assert got["flow"] == {"a": 1, "b": ["x", "y, z"], "c": {"d": "e\tfé"}}
    assert got["multi"] == {"a": 1, "b": 2}
    assert got["empty_map"] == {} and got["empty_list"] == []
    assert got["seq"] == ["a", ["b", "c"], {"k": "v"}, {"k2": "v2", "k3": [1]}]
    assert got["indented"] == [{"name": "x", "sub": {"deep": 1}}]
    assert got["alias"] == {"p": 1}
    assert got["literal"] == "line 1\n line 2\n"
    assert got["folded"] == "one two\nthree"
    assert got["folded_plain"] == "this is folded"
    assert got["last"] == ""


def test_yaml_reader_agrees_with_pyyaml_on_shipped_scenarios(outputs):
    yaml = pytest.importorskip("yaml")  # PyYAML, when installed, as a cross-check

    def same(mine, base, where):
        if isinstance(base, dict):
            assert list(map(str, mine)) == list(base), where
            for (_, v), (k, b) in zip(mine.items(), base.items()):
                same(v, b, f"{where}.{k}")
        elif isinstance(base, list):
            assert len(mine) == len(base), where
            for k, (v, b) in enumerate(zip(mine, base)):
                same(v, b, f"{where}[{k}]")
        else:  # BaseLoader gives every scalar as text
            assert mine == base or mine == _yaml.resolve_plain(base), (where, mine, base)

    texts = {str(p): p.read_text() for p in (SOURCE_DIR / "scenarios").rglob("*.yaml")}
    for path in outputs.values():
        texts[str(path)] = bankrun.open(path).scenario_yaml
    for where, text in texts.items():
        same(_yaml.loads(text), yaml.load(text, Loader=yaml.BaseLoader), where)
