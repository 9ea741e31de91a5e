"""Sweeps: :func:`open_sweep` reads the index that ``bankrun merge`` writes
(scenarios/SWEEPS.md: ``index.h5`` with a ``runs`` table and ``/trajectories/<i>`` links);
:func:`write_index` writes one in the same layout, and :func:`run_grid` runs a grid of
``bankrun run`` commands and indexes them (for when ``bankrun sweep`` is not at hand).
"""
from __future__ import annotations

import concurrent.futures
import csv
import hashlib
import itertools
import os
import subprocess
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd

from . import _h5
from .errors import FormatVersionError, NotBankrunFileError
from .run import Run
from .simulate import find_binary

__all__ = ["open_sweep", "SweepFrame", "write_index", "run_grid", "run_seed",
           "SWEEP_FORMAT", "SWEEP_FORMAT_VERSION", "INSTITUTION_METRICS"]

SWEEP_FORMAT = "bankrun-sweep-index"
#: The newest index ``format_version`` this package reads.
SWEEP_FORMAT_VERSION = 1
#: Per-institution columns of the index (``<institution>.<metric>``) and their types.
INSTITUTION_METRICS: dict[str, str] = {
    "total_outflow_usd": "<f8", "peak_daily_outflow_usd": "<f8", "halt_tick": "<i4",
    "insolvent_tick": "<i4", "ticks_to_50pct": "<i4"}
_RUN_COLUMNS = ("point", "replicate", "seed", "status", "ticks_run", "withdrawn_agents",
                "wall_seconds", "scenario_sha256", "file", "path")


class SweepFrame(pd.DataFrame):
    """One row per run of a sweep (indexed by run index): its parameters, seed, status and
    summary metrics, plus ``path`` (the run file). Each run's trajectories are read only
    when asked for: :meth:`run`, :meth:`runs`, :meth:`map_runs`, :meth:`trajectories`.
    """

    _metadata = ["sweep_attrs", "index_path"]

    @property
    def _constructor(self) -> type[SweepFrame]:
        return SweepFrame

    @property
    def parameters(self) -> list[str]:
        """The swept scenario key paths, in the sweep's order."""
        return [p for p in _h5.names((getattr(self, "sweep_attrs", None) or {})
                                     .get("parameters", "")) if p in self.columns]

    @property
    def metrics(self) -> list[str]:
        """The summary metric columns (ticks_run, withdrawn_agents, <institution>.<metric>)."""
        return [c for c in self.columns if c in ("ticks_run", "withdrawn_agents")
                or ("." in c and c.rsplit(".", 1)[1] in INSTITUTION_METRICS
                    and c not in self.parameters)]

    @property
    def institution_names(self) -> list[str]:
        return _h5.names((getattr(self, "sweep_attrs", None) or {}).get("institution_names", ""))

    def run(self, index: int) -> Run:
        """Opens run ``index`` (its row label) as a :class:`~bankrun.Run`."""
        return Run(self.loc[index, "path"])

    def runs(self, complete_only: bool = True) -> Iterator[tuple[int, Run]]:
        """(index, Run) for every run (only the complete ones by default), lazily."""
        for i, row in self.iterrows():
            if not complete_only or row["status"] == "complete":
                yield int(i), Run(row["path"])

    def map_runs(self, func: Callable[[Run], Any], complete_only: bool = True) -> pd.Series:
        """``func(run)`` for every (complete) run, as a Series indexed like this frame
        (NaN for the others): ``sweep["share"] = sweep.map_runs(lambda r: ...)``."""
        values = {i: func(run) for i, run in self.runs(complete_only)}
        return pd.Series(values, dtype=float if all(
            isinstance(v, (int, float, np.number)) for v in values.values()) else object
                         ).reindex(self.index)

    def trajectories(self, column: str, institution: str | None = None,
                     complete_only: bool = True) -> pd.DataFrame:
        """One per-tick series from every (complete) run: columns are run indices, rows
        the time. ``institution=None`` reads a population column (e.g. ``withdrawn_agents``)."""
        series = {}
        for i, run in self.runs(complete_only):
            frame = run.population if institution is None else run.institutions[institution]
            series[i] = frame[column]
        out = pd.DataFrame(series)
        out.columns.name = "run"
        return out

    def replicate_means(self, metric: str, by: Sequence[str] | None = None) -> pd.DataFrame:
        """Mean, standard deviation and count of ``metric`` over the replicates of each
        parameter point (complete runs only), one row per point."""
        by = list(by) if by is not None else self.parameters
        done = self[self["status"] == "complete"]
        return pd.DataFrame(done).groupby(by)[metric].agg(["mean", "std", "count"]).reset_index()

    def cascade_sizes(self) -> pd.Series:
        """Share of the agents that decided to withdraw in each (complete) run: the index's
        ``withdrawn_agents`` over each run's ``agents`` (read from the run files)."""
        agents = self.map_runs(lambda run: float(run.attrs["agents"]))
        return (self["withdrawn_agents"].where(self["status"] == "complete") / agents).rename(
            "cascade_size")


def open_sweep(index_path: str | Path) -> SweepFrame:
    """Reads a sweep index (``bankrun merge`` or :func:`write_index`) as a
    :class:`SweepFrame`. Parameters are columns named by their key path, metrics are
    ``withdrawn_agents``, ``ticks_run`` and ``<institution>.<metric>``; ``path`` is each
    run's file (absolute). A folder is taken to mean its ``index.h5``."""
    path = Path(index_path)
    if path.is_dir():
        path = path / "index.h5"
    with _h5.open_file(path) as f:
        attrs = _h5.attributes(f)
        fmt = attrs.get("format")
        if fmt == "bankrun":
            raise NotBankrunFileError(
                f"{path}: this is a run, not a sweep index: use bankrun.open()")
        if fmt != SWEEP_FORMAT:
            raise NotBankrunFileError(
                f"{path}: not a bankrun sweep index (format = {fmt!r}; expected {SWEEP_FORMAT!r})")
        version = int(attrs.get("format_version", -1))
        if version > SWEEP_FORMAT_VERSION:
            raise FormatVersionError(
                f"{path}: sweep index format version {version} is newer than this package reads "
                f"(up to {SWEEP_FORMAT_VERSION}); update the analysis package")
        runs = _h5.table(f["runs"])
    runs = runs.set_index("index")
    runs.index.name = "run"
    runs["path"] = [str((path.parent / p).resolve()) for p in runs["file"]]
    frame = SweepFrame(runs)
    frame.sweep_attrs = attrs
    frame.index_path = path
    return frame


# -- writing an index ----------------------------------------------------------------------

_MASK64 = (1 << 64) - 1


def _mix64(z: int) -> int:
    z = (z + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def run_seed(sweep_seed: int, point: int, replicate: int) -> int:
    """The scenario seed of a sweep's run (point, replicate), as ``bankrun sweep`` derives
    it (scenarios/SWEEPS.md): hash64(seed, 1, point, replicate)."""
    return _mix64(_mix64(_mix64(_mix64(sweep_seed) ^ 1) ^ point) ^ replicate)


def yaml_value(value: Any) -> str:
    """A parameter value as the YAML text given to ``--set`` (numbers with 15 significant
    digits, an integral value without a decimal point, as ``bankrun sweep`` writes them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return format(float(value), ".15g")
    return str(value)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _run_record(path: Path, institutions: Sequence[str]) -> dict[str, Any]:
    """Status, summary metrics, wall time and scenario hash of one run file."""
    rec: dict[str, Any] = {"status": "missing", "ticks_run": -1, "withdrawn_agents": -1,
                           "wall_seconds": np.nan, "scenario_sha256": ""}
    for inst in institutions:
        for m, t in INSTITUTION_METRICS.items():
            rec[f"{inst}.{m}"] = np.nan if t == "<f8" else -1
    if not path.exists():
        return rec if not Path(f"{path}.partial").exists() else {**rec, "status": "partial"}
    try:
        with h5py.File(path, "r") as f:
            rec["status"] = _h5.text(f.attrs["status"])
            rec["wall_seconds"] = float(f.attrs.get("wall_seconds", np.nan))
            rec["scenario_sha256"] = hashlib.sha256(
                _h5.text(f.attrs["scenario_yaml"]).encode("utf-8")).hexdigest()
            if "summary" in f:
                s = f["summary"].attrs
                rec["ticks_run"] = int(s["ticks_run"])
                rec["withdrawn_agents"] = int(s["withdrawn_agents"])
                for inst in institutions:
                    if inst in f["summary"]:
                        a = f["summary"][inst].attrs
                        for m in INSTITUTION_METRICS:
                            rec[f"{inst}.{m}"] = a[m]
    except (OSError, KeyError):
        rec["status"] = "unreadable"
    return rec


def write_index(folder: str | Path, rows: Sequence[Mapping[str, Any]], parameters: Sequence[str],
                *, name: str = "sweep", seed: int = 0, mode: str = "grid", replicates: int = 1,
                sweep_file: str = "", institutions: Sequence[str] | None = None,
                index_name: str = "index.h5") -> Path:
    """Writes ``folder/index.h5`` in the layout of ``bankrun merge`` (format version 1).

    ``rows``: one mapping per run with ``index``, ``point``, ``replicate``, ``seed``,
    ``file`` (relative to ``folder``) and a value for every name in ``parameters``. The
    status and metrics are read from each run file; ``institutions`` defaults to those of
    the first readable run. Returns the index's path.
    """
    folder = Path(folder)
    rows = sorted(rows, key=lambda r: int(r["index"]))
    if institutions is None:
        institutions = []
        for r in rows:
            try:
                with h5py.File(folder / r["file"], "r") as f:
                    institutions = _h5.names(f.attrs["institution_names"])
                    break
            except OSError:
                continue
    records = [_run_record(folder / r["file"], institutions) for r in rows]
    texts = {p: [yaml_value(r[p]) for r in rows] for p in parameters}
    numeric = {p: all(_is_number(t) for t in texts[p]) for p in parameters}

    def string(width: int) -> Any:
        return h5py.string_dtype("utf-8", max(width, 1))

    fields: list[tuple[str, Any]] = [("index", "<i8"), ("point", "<i8"), ("replicate", "<i4"),
                                     ("seed", "<u8")]
    for p in parameters:
        width = max(len(t.encode()) for t in texts[p]) + 1
        fields.append((p, "<f8" if numeric[p] else string(width)))
    fields += [("status", string(16)), ("ticks_run", "<i4"), ("withdrawn_agents", "<i8")]
    fields += [(f"{inst}.{m}", t) for inst in institutions for m, t in INSTITUTION_METRICS.items()]
    fields += [("wall_seconds", "<f8"), ("scenario_sha256", string(65)),
               ("file", string(max([len(str(r["file"]).encode()) for r in rows] + [1]) + 1))]
    table = np.zeros(len(rows), dtype=np.dtype(fields))
    for k, (row, rec) in enumerate(zip(rows, records)):
        table[k]["index"], table[k]["point"] = int(row["index"]), int(row["point"])
        table[k]["replicate"], table[k]["seed"] = int(row["replicate"]), int(row["seed"])
        for p in parameters:
            table[k][p] = float(texts[p][k]) if numeric[p] else texts[p][k].encode()
        for key, value in rec.items():
            if key in table.dtype.names:
                table[k][key] = value.encode() if isinstance(value, str) else value
        table[k]["file"] = str(row["file"]).encode()

    target = folder / index_name
    partial = folder / f"{index_name}.partial"
    with h5py.File(partial, "w") as f:
        f.attrs["format"] = SWEEP_FORMAT
        f.attrs["format_version"] = np.int32(SWEEP_FORMAT_VERSION)
        f.attrs["sweep_name"] = name
        f.attrs["sweep_file"] = sweep_file
        f.attrs["mode"] = mode
        f.attrs["seed"] = np.uint64(seed)
        f.attrs["points"] = np.int64(len({int(r["point"]) for r in rows}))
        f.attrs["replicates"] = np.int32(replicates)
        f.attrs["runs"] = np.int64(len(rows))
        f.attrs["complete_runs"] = np.int64(sum(r["status"] == "complete" for r in records))
        f.attrs["parameters"] = ",".join(parameters)
        f.attrs["institution_names"] = ",".join(institutions)
        ds = f.create_dataset("runs", data=table, maxshape=(None,), chunks=(1024,),
                              compression="gzip", compression_opts=4)
        ds.attrs["description"] = ("one row per run of the sweep: parameters, seed, status and "
                                   "summary metrics (scenarios/SWEEPS.md)")
        links = f.create_group("trajectories")
        for row in rows:
            if (folder / row["file"]).exists():
                links[str(int(row["index"]))] = h5py.ExternalLink(str(row["file"]), "/")
    os.replace(partial, target)
    return target


# -- running a grid with `bankrun run` --------------------------------------------------------

def run_grid(scenario: str | Path, parameters: Mapping[str, Iterable[Any]], folder: str | Path,
             *, replicates: int = 1, seed: int = 1, overrides: Sequence[str] = (),
             jobs: int | None = None, binary: str | Path | None = None,
             name: str | None = None, timeout: float = 3600) -> SweepFrame:
    """Runs every point of the grid of ``parameters`` (key path -> values; the last varies
    fastest) ``replicates`` times with ``bankrun run SCENARIO --set KEY=VALUE ... --seed S
    --threads 1`` (``jobs`` at a time; default: one per core), writes ``folder/runs/<i>.h5``,
    ``folder/manifest.csv`` and ``folder/index.h5``, and returns :func:`open_sweep` of it.

    Runs, points and seeds are numbered as ``bankrun sweep`` numbers a grid sweep of the
    same base, parameters, replicates and seed (scenarios/SWEEPS.md), so the results are
    the same. ``overrides`` are extra ``--set`` values applied to every run (e.g.
    ``"population.agents=20000"``). Every run is (re)run.
    """
    exe = Path(binary) if binary is not None else find_binary()
    folder = Path(folder)
    (folder / "runs").mkdir(parents=True, exist_ok=True)
    keys = list(parameters)
    values = [list(parameters[k]) for k in keys]
    rows: list[dict[str, Any]] = []
    for point, combo in enumerate(itertools.product(*values)):
        for replicate in range(replicates):
            index = point * replicates + replicate
            row = {"index": index, "point": point, "replicate": replicate,
                   "seed": run_seed(seed, point, replicate), "file": f"runs/{index}.h5"}
            row.update(dict(zip(keys, combo)))
            rows.append(row)

    def one(row: dict[str, Any]) -> subprocess.CompletedProcess[str]:
        cmd = [str(exe), "run", str(scenario), "-o", str(folder / row["file"]), "--quiet",
               "--threads", "1", "--seed", str(row["seed"])]
        for o in overrides:
            cmd += ["--set", o]
        for k in keys:
            cmd += ["--set", f"{k}={yaml_value(row[k])}"]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)

    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        results = list(pool.map(one, rows))
    failed = [(row["index"], r) for row, r in zip(rows, results) if r.returncode != 0]
    if failed and all(r.returncode == 2 for _, r in failed):  # a scenario error: say which
        index, r = failed[0]
        raise ValueError(f"run {index}: bankrun exited 2: {r.stderr.strip()}")

    with open(folder / "manifest.csv", "w", newline="") as out:
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["index", "point", "replicate", "seed", "scenario_sha256", *keys])
        for row in rows:
            rec = _run_record(folder / row["file"], [])
            w.writerow([row["index"], row["point"], row["replicate"], row["seed"],
                        rec["scenario_sha256"], *(yaml_value(row[k]) for k in keys)])
    index = write_index(folder, rows, keys, name=name or Path(scenario).stem, seed=seed,
                        replicates=replicates, sweep_file=str(scenario))
    return open_sweep(index)
