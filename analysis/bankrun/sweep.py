"""Sweeps: :func:`open_sweep` reads the index that ``bankrun sweep`` / ``bankrun merge``
write (scenarios/SWEEPS.md: ``index.h5`` with a ``runs`` table and ``/trajectories/<i>``
links), and :func:`run_grid` runs a grid sweep with ``bankrun sweep`` from Python.
"""
from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import _h5
from .errors import FormatVersionError, NotBankrunFileError
from .run import Run
from .simulate import find_binary

__all__ = ["open_sweep", "SweepFrame", "run_grid", "run_seed",
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
    """Reads a sweep index (written by ``bankrun sweep`` or ``bankrun merge``) as a
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
        if fmt == "bankrun-calibration":
            raise NotBankrunFileError(
                f"{path}: these are a calibration's results, not a sweep index: use "
                "bankrun.open_calibration()")
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


# -- seeds and values as `bankrun sweep` makes them ------------------------------------------

_MASK64 = (1 << 64) - 1


def _mix64(z: int) -> int:
    z = (z + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def run_seed(sweep_seed: int, point: int, replicate: int) -> int:
    """The scenario seed of a sweep's run (point, replicate), as ``bankrun sweep`` derives
    it (scenarios/SWEEPS.md): hash64(seed, 1, point, replicate). Handy to rerun one run of
    a sweep by hand with ``bankrun run --seed``."""
    return _mix64(_mix64(_mix64(_mix64(sweep_seed) ^ 1) ^ point) ^ replicate)


def yaml_value(value: Any) -> str:
    """A parameter value as YAML text (numbers with 15 significant digits, an integral
    value without a decimal point, as ``bankrun sweep`` writes them in its manifest)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return format(float(value), ".15g")
    return str(value)


# -- running a grid from Python ----------------------------------------------------------------

def _flow_list(values: Iterable[Any]) -> str:
    """A YAML flow list of scalar values; strings are single-quoted (YAML escaping)."""
    items = []
    for v in values:
        text = yaml_value(v)
        items.append(text if not isinstance(v, str) else "'" + text.replace("'", "''") + "'")
    return "[" + ", ".join(items) + "]"


def run_grid(scenario: str | Path, parameters: Mapping[str, Iterable[Any]], folder: str | Path,
             *, replicates: int = 1, seed: int = 1, overrides: Mapping[str, Any] | Sequence[str] = (),
             jobs: int | None = None, binary: str | Path | None = None,
             name: str | None = None, timeout: float = 3600) -> SweepFrame:
    """Runs a grid sweep of ``scenario`` with ``bankrun sweep`` and returns
    :func:`open_sweep` of its index.

    ``parameters``: key path -> values (scalars); the last key varies fastest.
    ``overrides``: values applied to every run, as ``{"population.agents": 20000}`` or
    ``["population.agents=20000"]``; they come first in the sweep file (single-valued
    parameters, so they appear as columns too). The sweep file is written as
    ``folder/sweep.yaml`` (``output: .``) and run with ``bankrun sweep``, ``jobs`` runs at
    a time (default: one per core); runs already complete in ``folder`` are kept (resume).
    Raises ``RuntimeError`` with bankrun's message if the sweep cannot run; runs that fail
    are marked in the index's ``status`` column.
    """
    exe = Path(binary) if binary is not None else find_binary()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fixed = dict(o.split("=", 1) for o in overrides) if not isinstance(overrides, Mapping) \
        else {k: yaml_value(v) for k, v in overrides.items()}
    sweep_name = name or Path(scenario).stem
    lines = [f"base: '{Path(scenario).resolve()}'", f"name: {sweep_name}", f"seed: {seed}",
             f"replicates: {replicates}", "mode: grid", "output: .", "parameters:"]
    lines += [f"  {key}: [{value}]" for key, value in fixed.items()]
    lines += [f"  {key}: {_flow_list(values)}" for key, values in parameters.items()]
    sweep_file = folder / "sweep.yaml"
    sweep_file.write_text("\n".join(lines) + "\n")
    proc = subprocess.run([str(exe), "sweep", str(sweep_file), "--quiet", "--jobs", str(jobs or 0)],
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode not in (0, 1):  # 1: a run failed; the index marks it
        raise RuntimeError(f"bankrun sweep {sweep_file} exited {proc.returncode}: "
                           f"{proc.stderr.strip()}")
    return open_sweep(folder / "index.h5")
