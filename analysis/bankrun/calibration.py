"""Calibrations: :func:`open_calibration` reads the folder that ``bankrun calibrate`` writes
(scenarios/CALIBRATION.md): ``calibration.h5`` (every evaluation, the observed rows with the
best fit's band, the profile intervals, provenance), ``best-fit.yaml`` and the runs of each
batch, ``batches/<b>/runs/<point * replicates + r>.h5``.
"""
from __future__ import annotations

import functools
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import _h5, _yaml
from .errors import FormatVersionError, NotBankrunFileError, RunStatusWarning
from .run import Run

__all__ = ["open_calibration", "Calibration", "CALIBRATION_FORMAT",
           "CALIBRATION_FORMAT_VERSION", "PHASES"]

CALIBRATION_FORMAT = "bankrun-calibration"
#: The newest ``format_version`` of calibration files this package reads.
CALIBRATION_FORMAT_VERSION = 1
#: The phases of a calibration, in the order they run.
PHASES = ("initial", "search", "uncertainty", "edges")
#: Series whose simulated curve, from a run's per-tick output, is what the calibration
#: compares at each observed time (stocks, and flows without a window: cumulative).
CURVE_SERIES = ("withdrawn_fraction", "deposits", "deposits_fraction", "price", "asset_units",
                "net_outflow", "net_outflow_fraction", "gross_outflow", "gross_inflow")


def open_calibration(path: str | Path) -> Calibration:
    """Reads a calibration written by ``bankrun calibrate``: its output folder or the
    folder's ``calibration.h5``. Raises :class:`~bankrun.errors.NotBankrunFileError` for a
    file that is not a calibration (a run or a sweep index is named as such) and
    :class:`~bankrun.errors.FormatVersionError` for a format version this package does not
    read; warns (:class:`~bankrun.errors.RunStatusWarning`) when the calibration did not
    complete (its evaluations so far are all there)."""
    return Calibration(path)


class Calibration:
    """The results of one ``bankrun calibrate``.

    :attr:`evaluations` has one row per evaluated parameter point (index: evaluation): its
    batch, phase and point in the batch, the parameters by key path, ``loss``,
    ``loss.<term>`` per target or moment and ``sim.<moment>`` (the moments' means over the
    replicates). :attr:`targets` has one row per compared quantity (each observed row of a
    series target, then each moment) with the best evaluation's mean, minimum and maximum
    over the replicates; :attr:`best_replicates` the same per replicate.
    """

    def __init__(self, path: str | Path):
        path = Path(path)
        if path.is_dir():
            path = path / "calibration.h5"
        self.path = path
        #: The calibration's output folder (batches/, best-fit.yaml, calibration.h5).
        self.folder = path.parent
        with _h5.open_file(path) as f:
            self.attrs: dict[str, Any] = _h5.attributes(f)
            self._check()
            missing = [d for d in ("evaluations", "targets", "best_replicates", "intervals")
                       if d not in f]
            if missing:
                raise NotBankrunFileError(f"{path}: calibration file without the dataset(s) "
                                          f"{', '.join('/' + m for m in missing)}")
            evaluations = _h5.table(f["evaluations"])
            targets = _h5.table(f["targets"])
            self.best_replicates: np.ndarray = np.asarray(f["best_replicates"][()], dtype=float)
            intervals = _h5.table(f["intervals"])
        #: The free parameters' key paths, in the calibration file's order.
        self.parameters: list[str] = _h5.names(self.attrs.get("parameters", ""))
        self.evaluations: pd.DataFrame = evaluations.set_index("evaluation")
        self.targets: pd.DataFrame = self._targets(targets)
        self.intervals: pd.DataFrame = self._intervals(intervals)

    # -- opening -------------------------------------------------------------------------

    def _check(self) -> None:
        fmt = self.attrs.get("format")
        if fmt == "bankrun":
            raise NotBankrunFileError(
                f"{self.path}: this is a run, not a calibration: use bankrun.open()")
        if fmt == "bankrun-sweep-index":
            raise NotBankrunFileError(
                f"{self.path}: this is a sweep index, not a calibration: use bankrun.open_sweep()")
        if fmt != CALIBRATION_FORMAT:
            what = "no 'format' attribute" if fmt is None else f"format = {fmt!r}"
            raise NotBankrunFileError(
                f"{self.path}: not a bankrun calibration file ({what}; expected format = "
                f"{CALIBRATION_FORMAT!r})")
        version = int(self.attrs.get("format_version", -1))
        if version > CALIBRATION_FORMAT_VERSION:
            raise FormatVersionError(
                f"{self.path}: calibration format version {version} (written by bankrun "
                f"{self.attrs.get('bankrun_version', '?')}) is newer than this package reads "
                f"(up to {CALIBRATION_FORMAT_VERSION}); update the analysis package from the "
                f"same checkout")
        if version < 1:
            raise FormatVersionError(
                f"{self.path}: calibration format version {version} is not one this package "
                f"reads (1 to {CALIBRATION_FORMAT_VERSION})")
        status = self.attrs.get("status")
        if status == "running":
            warnings.warn(RunStatusWarning(
                f"{self.path}: status 'running': the calibration is still going or was killed; "
                f"the file holds the {self.attrs.get('evaluations')} evaluations of its "
                f"finished batches"), stacklevel=4)
        elif status == "stopped":
            reason = "its wall-time budget ran out" if self.attrs.get("stop_reason") == \
                "wall_time" else "a batch failed or was interrupted"
            warnings.warn(RunStatusWarning(
                f"{self.path}: the calibration stopped ({reason}) after "
                f"{self.attrs.get('evaluations')} evaluations, before its last phase: the "
                f"intervals are from those; run `bankrun calibrate` again to go on"),
                stacklevel=4)

    def _targets(self, frame: pd.DataFrame) -> pd.DataFrame:
        for column in ("time_utc", "end_utc"):
            if column in frame:
                frame[column] = pd.to_datetime(
                    pd.Series([v or None for v in frame[column]], dtype=object), utc=True)
        frame.index.name = "row"
        return frame

    @staticmethod
    def _intervals(frame: pd.DataFrame) -> pd.DataFrame:
        for column in ("low_at_bound", "high_at_bound"):
            if column in frame:
                frame[column] = frame[column].astype(bool)
        return frame.set_index("parameter")

    # -- metadata ------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The calibration's name."""
        return str(self.attrs.get("calibration_name", ""))

    @property
    def status(self) -> str:
        """``complete``, ``stopped`` (see :attr:`stop_reason`) or ``running``."""
        return str(self.attrs.get("status", ""))

    @property
    def complete(self) -> bool:
        return self.status == "complete"

    @property
    def stop_reason(self) -> str:
        """Why the search ended: ``budget``, ``converged``, ``wall_time`` or ``design``
        (no search method); ``""`` when a batch failed or was interrupted before the search
        ended."""
        return str(self.attrs.get("stop_reason", ""))

    @property
    def replicates(self) -> int:
        return int(self.attrs["replicates"])

    @property
    def replicate_seeds(self) -> list[int]:
        """The scenario seed of replicate r, the same at every point (common random
        numbers)."""
        return [int(s) for s in _h5.names(self.attrs.get("replicate_seeds", ""))]

    @property
    def best_evaluation(self) -> int:
        return int(self.attrs["best_evaluation"])

    @property
    def best_loss(self) -> float:
        return float(self.attrs["best_loss"])

    @property
    def loss_threshold(self) -> float:
        """The best loss plus the chi-square(1) quantile at :attr:`level`: the evaluations
        at or below it make the profile intervals."""
        return float(self.attrs["loss_threshold"])

    @property
    def level(self) -> float:
        return float(self.attrs["level"])

    @property
    def start(self) -> pd.Timestamp:
        """The runs' start (UTC)."""
        return pd.Timestamp(str(self.attrs["start_utc"])).tz_convert("UTC")

    @property
    def tick_hours(self) -> float:
        return float(self.attrs["tick_hours"])

    @property
    def fixed(self) -> list[str]:
        """The ``PATH=VALUE`` overrides applied to every evaluation."""
        return [line for line in str(self.attrs.get("fixed", "")).split("\n") if line]

    @property
    def terms(self) -> list[str]:
        """The loss terms (targets, then moments), as in the ``loss.<term>`` columns."""
        return [c[len("loss."):] for c in self.evaluations.columns if c.startswith("loss.")]

    @property
    def moments(self) -> list[str]:
        """The moments' names, as in the ``sim.<moment>`` columns."""
        return [c[len("sim."):] for c in self.evaluations.columns if c.startswith("sim.")]

    @property
    def calibration_yaml(self) -> str:
        """The calibration file's text, as stored in the results."""
        return str(self.attrs.get("calibration_yaml", ""))

    @functools.cached_property
    def spec(self) -> dict[str, Any] | None:
        """The calibration file as nested dicts and lists (None if its YAML is beyond what
        the package's reader handles)."""
        try:
            spec = _yaml.loads(self.calibration_yaml)
        except ValueError:
            return None
        return spec if isinstance(spec, dict) else None

    @property
    def provenance(self) -> dict[str, Any]:
        """Who wrote the file and how: version, commit, seed, jobs, times, status."""
        keys = ("calibration_name", "calibration_file", "base_file", "observed_file",
                "bankrun_version", "git_commit", "seed", "replicates", "jobs", "threads",
                "started_utc", "wall_seconds", "status", "stop_reason", "evaluations",
                "format_version")
        return {k: self.attrs.get(k) for k in keys}

    def __repr__(self) -> str:
        return (f"<bankrun.Calibration {self.name!r} ({self.status}"
                f"{', ' + self.stop_reason if self.stop_reason else ''}): "
                f"{len(self.evaluations)} evaluations of {', '.join(self.parameters)}; "
                f"best loss {self.best_loss:.6g} at evaluation {self.best_evaluation}>")

    # -- the evaluations -----------------------------------------------------------------

    @property
    def best(self) -> pd.Series:
        """The best evaluation's row of :attr:`evaluations` (named by its evaluation)."""
        return self.evaluations.loc[self.best_evaluation]

    @property
    def best_values(self) -> dict[str, float]:
        """The best point: parameter key path -> value as run."""
        return {p: float(self.best[p]) for p in self.parameters}

    def within_threshold(self) -> pd.DataFrame:
        """The evaluations whose loss is at most :attr:`loss_threshold` (the profile
        intervals span them, and may reach farther: scenarios/CALIBRATION.md)."""
        return self.evaluations[self.evaluations["loss"] <= self.loss_threshold]

    def loss_trace(self) -> pd.DataFrame:
        """Loss per evaluation in the order they ran, with the best loss so far: columns
        evaluation, batch, phase, loss, best_so_far (NaN losses are skipped by the latter)."""
        ev = self.evaluations.sort_index()
        loss = ev["loss"].to_numpy(dtype=float)
        best = np.fmin.accumulate(loss) if loss.size else loss
        return pd.DataFrame({"evaluation": ev.index.to_numpy(), "batch": ev["batch"].to_numpy(),
                             "phase": ev["phase"].to_numpy(), "loss": loss, "best_so_far": best})

    # -- files ---------------------------------------------------------------------------

    @property
    def best_fit_path(self) -> Path:
        """``best-fit.yaml``: the best point's scenario with replicate 0's seed, which
        ``bankrun run`` accepts."""
        return self.folder / "best-fit.yaml"

    def best_run_paths(self) -> list[Path]:
        """The best evaluation's run files, one per replicate."""
        return [self.folder / p for p in _h5.names(self.attrs.get("best_runs", ""))]

    def best_runs(self) -> list[Run]:
        """The best evaluation's runs (one per replicate), opened with
        :func:`bankrun.open`."""
        return [Run(p) for p in self.best_run_paths()]

    def run_paths(self, evaluation: int) -> list[Path]:
        """Evaluation ``evaluation``'s run files: ``batches/<batch>/runs/<point * replicates
        + r>.h5`` for each replicate r."""
        row = self.evaluations.loc[evaluation]
        batch, point = int(row["batch"]), int(row["point"])
        return [self.folder / "batches" / str(batch) / "runs" / f"{point * self.replicates + r}.h5"
                for r in range(self.replicates)]

    def runs(self, evaluation: int) -> list[Run]:
        """Evaluation ``evaluation``'s runs (one per replicate), opened."""
        return [Run(p) for p in self.run_paths(evaluation)]

    # -- simulated curves ----------------------------------------------------------------

    def simulated_curve(self, run: Run, term: str) -> pd.Series | None:
        """The per-tick curve (indexed by the end of each tick) whose value at an observed
        row's time is what the calibration compares, for a series target ``term`` of a kind
        that has one: a stock (withdrawn_fraction, deposits, deposits_fraction, price,
        asset_units) or a flow whose rows have no window (cumulative from the start).
        None for the others (windowed flows, halts, moments)."""
        rows = self.targets[self.targets["term"] == term]
        if rows.empty or (rows["kind"] != "series").any():
            return None
        what, institution = str(rows["what"].iloc[0]), str(rows["institution"].iloc[0])
        asset = str(rows["asset"].iloc[0]) if "asset" in rows else ""
        if what not in CURVE_SERIES:
            return None
        if what in ("net_outflow", "net_outflow_fraction", "gross_outflow", "gross_inflow") \
                and rows["end_utc"].notna().any():
            return None
        if what == "withdrawn_fraction":
            return (run.population["withdrawn_agents"] / float(run.attrs["agents"])).rename(what)
        inst = run.institutions[institution]
        issued = run.issued(institution)
        if what == "deposits":
            return inst["deposits"].rename(what)
        if what == "deposits_fraction":
            return (inst["deposits"] / issued).rename(what)
        if what in ("price", "asset_units"):
            if not asset or asset not in run.asset_names(institution):
                return None
            a = run.assets[institution]
            if what == "price":
                return a[("price", asset)].rename(what)
            return sum(a[(q, asset)] for q in ("hot_units", "cold_units", "in_transit_units",
                                               "illiquid_units")).rename(what)
        if what == "gross_outflow":
            flow = inst["payments"]
        elif what == "gross_inflow":
            flow = inst["inflows"] + inst["transfers_in"]
        else:
            flow = inst["payments"] - inst["inflows"] - inst["transfers_in"]
        curve = flow.cumsum()
        return (curve / issued if what == "net_outflow_fraction" else curve).rename(what)
