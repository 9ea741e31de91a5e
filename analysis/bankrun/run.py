"""One run's output file: :func:`open` and the :class:`Run` object."""
from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import h5py
import numpy as np
import pandas as pd

from . import _h5, _yaml
from .errors import FormatVersionError, InterruptedRunWarning, NotBankrunFileError, \
    RunStatusWarning

if TYPE_CHECKING:
    import xarray

__all__ = ["open", "Run", "FORMAT_VERSION", "LazyMapping"]

#: The newest ``format_version`` of run files this package reads (output/README.md).
FORMAT_VERSION = 3
#: The oldest it reads: version 3 only added the resume and branch provenance
#: (``resumed_at_ticks``, ``parent_file``, ``parent_tick``), absent from version-2 files.
OLDEST_FORMAT_VERSION = 2

#: Column order of an institution's DataFrame (datasets not listed follow, sorted).
INSTITUTION_COLUMNS = (
    "deposits", "requests", "payments", "inflows", "transfers_in", "transfers_out",
    "queue_value", "queue_count", "oldest_wait", "hot_reserves", "cold_reserves", "in_transit",
    "illiquid", "claims_on_institutions", "write_downs", "equity", "insolvent", "injections",
    "halted", "deposits_cents", "payments_cents", "inflows_cents", "transfers_in_cents",
    "transfers_out_cents")
POPULATION_COLUMNS = ("withdrawn_agents", "new_withdrawals", "paid_agents", "acting_agents",
                      "stress_mean", "self_custody", "self_custody_cents")
ASSET_QUANTITIES = ("price", "value", "hot_units", "cold_units", "in_transit_units",
                    "illiquid_units", "sale_proceeds", "realised_loss", "liabilities",
                    "payments", "paid_units", "queue_value", "queue_count", "oldest_wait",
                    "liabilities_cents", "payments_cents")
#: Names of the /snapshots ``state`` codes.
SNAPSHOT_STATES = ("holding", "lagging", "queued", "left")

V = TypeVar("V")


class LazyMapping(Mapping[str, V]):
    """A read-only mapping whose values are loaded on first access, then kept."""

    def __init__(self, keys: list[str], load: Callable[[str], V], what: str):
        self._keys = list(keys)
        self._load = load
        self._what = what
        self._cache: dict[str, V] = {}

    def __getitem__(self, key: str) -> V:
        if key not in self._keys:
            raise KeyError(f"{key!r}: no such {self._what}; this run has {self._keys}")
        if key not in self._cache:
            self._cache[key] = self._load(key)
        return self._cache[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"<{self._what}s: {', '.join(self._keys)}>"


def _ordered(names: list[str], preferred: tuple[str, ...]) -> list[str]:
    first = [n for n in preferred if n in names]
    return first + sorted(n for n in names if n not in preferred)


def open(path: str | Path) -> Run:  # noqa: A001 - the package's entry point: bankrun.open
    """Opens a bankrun output file (format version 2) and returns a :class:`Run`.

    Only the root attributes are read now; every table is read on first use. Raises
    :class:`~bankrun.errors.NotBankrunFileError` for a file that is not bankrun output and
    :class:`~bankrun.errors.FormatVersionError` for a format version this package does not
    read; warns (:class:`~bankrun.errors.InterruptedRunWarning`,
    :class:`~bankrun.errors.RunStatusWarning`) when the run did not complete.
    """
    return Run(path)


class Run:
    """The output of one ``bankrun run``: metadata, per-tick series and tables.

    Per-tick DataFrames are indexed by :attr:`time`, the **end** of each tick (the instant
    the recorded stocks refer to; flows are over the tick that ends there). Events (news,
    policy firings) carry the **start** of the tick they happen in. Columns are in the
    file's units (USD, agents, ticks, ...): ``frame.attrs["units"]`` maps column to unit.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        with _h5.open_file(self.path) as f:
            self.attrs: dict[str, Any] = _h5.attributes(f)
            self._check(f)
            # ticks_recorded rows are what the writer's last complete flush holds: a run
            # killed during a flush may have longer datasets, whose tail is not to be used.
            recorded = int(self.attrs.get("ticks_recorded", 0))
            self.ticks: np.ndarray = f["time/tick"][:recorded] if "time/tick" in f else \
                np.arange(recorded)
        self.institution_names: list[str] = _h5.names(self.attrs["institution_names"])
        self.currencies: list[str] = _h5.names(self.attrs.get("currencies", "USD"))
        self.tick_hours = float(self.attrs["tick_hours"])
        self.start = pd.Timestamp(int(self.attrs["start_unix_seconds"]), unit="s", tz="UTC")
        #: Start of each recorded tick (UTC).
        self.tick_start = self.time_of_tick(self.ticks, edge="start")
        #: End of each recorded tick (UTC): the index of every per-tick DataFrame.
        self.time = self.time_of_tick(self.ticks, edge="end")
        self.institutions: Mapping[str, pd.DataFrame] = LazyMapping(
            self.institution_names, self._institution, "institution")
        self.assets: Mapping[str, pd.DataFrame] = LazyMapping(
            self.institution_names, self._assets, "institution")
        self.asset_spec: Mapping[str, pd.DataFrame] = LazyMapping(
            self.institution_names, self._asset_spec, "institution")

    # -- opening -------------------------------------------------------------------------

    def _check(self, f: h5py.File) -> None:
        fmt = self.attrs.get("format")
        if fmt == "bankrun-sweep-index":
            raise NotBankrunFileError(
                f"{self.path}: this is a sweep index, not a run: use bankrun.open_sweep()")
        if fmt == "bankrun-calibration":
            raise NotBankrunFileError(
                f"{self.path}: these are a calibration's results, not a run: use "
                "bankrun.open_calibration()")
        if fmt != "bankrun":
            what = "no 'format' attribute" if fmt is None else f"format = {fmt!r}"
            raise NotBankrunFileError(
                f"{self.path}: not a bankrun output file ({what}; expected format = 'bankrun')")
        version = int(self.attrs.get("format_version", -1))
        if version > FORMAT_VERSION:
            raise FormatVersionError(
                f"{self.path}: format version {version} (written by bankrun "
                f"{self.attrs.get('bankrun_version', '?')}) is newer than this package reads "
                f"(up to {FORMAT_VERSION}); update the analysis package from the same checkout")
        if version < OLDEST_FORMAT_VERSION:
            raise FormatVersionError(
                f"{self.path}: format version {version} is older than this package reads "
                f"({OLDEST_FORMAT_VERSION} to {FORMAT_VERSION}); rerun the scenario with a "
                f"current bankrun")
        self._warn_status()

    def _warn_status(self) -> None:
        """Warns what a run that did not complete holds (its file is ``OUT.partial``)."""
        status = self.attrs.get("status", "?")
        held = (f"{self.attrs.get('ticks_recorded')} of {self.attrs.get('ticks_planned')} "
                f"ticks")
        if status == "interrupted":
            warnings.warn(InterruptedRunWarning(
                f"{self.path}: the run was interrupted after {held}; its series and summary "
                f"cover only those"), stacklevel=5)
        elif status != "complete":
            detail = {"failed": f"the run failed after {held} (no /summary; see its stderr)",
                      "running": f"the run is still going or was killed: it holds the {held} "
                                 f"flushed so far, no /summary and no /events/news"}.get(
                status, "unknown status")
            warnings.warn(RunStatusWarning(f"{self.path}: status {status!r}: {detail}"),
                          stacklevel=5)

    def _file(self) -> h5py.File:
        return h5py.File(self.path, "r")

    # -- metadata ------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The scenario's name."""
        return str(self.attrs["scenario_name"])

    @property
    def status(self) -> str:
        """``complete``, ``interrupted``, ``failed`` or ``running``."""
        return str(self.attrs["status"])

    @property
    def complete(self) -> bool:
        return self.status == "complete"

    @property
    def scenario_yaml(self) -> str:
        """The resolved scenario, as the YAML text stored in the file."""
        return str(self.attrs["scenario_yaml"])

    @functools.cached_property
    def scenario(self) -> dict[str, Any]:
        """The resolved scenario as nested dicts and lists (YAML 1.2 core types)."""
        return _yaml.loads(self.scenario_yaml)

    @property
    def provenance(self) -> dict[str, Any]:
        """Who wrote the file and how: version, commit, seed, threads, times, status."""
        keys = ("scenario_name", "scenario_file", "bankrun_version", "git_commit", "seed",
                "threads", "started_utc", "wall_seconds", "loop_seconds", "status",
                "ticks_recorded", "ticks_planned", "agents", "format_version")
        out = {k: self.attrs.get(k) for k in keys}
        out["path"] = str(self.path)
        # Resumes and branches (format version 3; a version-2 file has neither).
        resumed = str(self.attrs.get("resumed_at_ticks", ""))
        out["resumed_at_ticks"] = [int(t) for t in resumed.split(",") if t]
        out["parent_file"] = str(self.attrs.get("parent_file", "")) or None
        tick = int(self.attrs.get("parent_tick", -1))
        out["parent_tick"] = tick if tick >= 0 else None
        return out

    @functools.cached_property
    def network(self) -> dict[str, Any]:
        """The /network attributes (type, realised degree statistics)."""
        with self._file() as f:
            return _h5.attributes(f["network"]) if "network" in f else {}

    @functools.cached_property
    def institution_attrs(self) -> dict[str, dict[str, Any]]:
        """Each institution's group attributes (issued, initial hot reserves, ...)."""
        with self._file() as f:
            return {n: _h5.attributes(f["institutions"][n]) for n in self.institution_names}

    def asset_names(self, institution: str) -> list[str]:
        """The market assets an institution holds, in liquidation order."""
        return list(self.asset_spec[institution].index)

    def time_of_tick(self, tick: Any, edge: str = "end") -> pd.DatetimeIndex | pd.Timestamp:
        """The UTC time of the start or end of tick(s) ``tick``; a negative tick (the
        files' "never") gives NaT."""
        if edge not in ("start", "end"):
            raise ValueError("edge must be 'start' or 'end'")
        t = np.atleast_1d(np.asarray(tick, dtype=float))
        valid = np.isfinite(t) & (t >= 0)
        ns = np.full(t.shape, np.datetime64("NaT"), dtype="datetime64[ns]")
        offset = 1 if edge == "end" else 0
        hours_ns = self.tick_hours * 3600e9
        ns[valid] = (np.datetime64(self.start.value, "ns")
                     + np.round((t[valid] + offset) * hours_ns).astype("timedelta64[ns]"))
        when = pd.DatetimeIndex(ns, name="time").tz_localize("UTC")
        return when[0] if np.ndim(tick) == 0 else when

    def tick_at(self, when: Any) -> int:
        """The tick whose interval contains the time ``when`` (str or Timestamp; UTC)."""
        ts = pd.Timestamp(when)
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        return int(np.floor((ts - self.start) / pd.Timedelta(hours=self.tick_hours)))

    def __repr__(self) -> str:
        n = len(self.institution_names)
        return (f"<bankrun.Run {self.name!r} {self.status}: {len(self.ticks)} ticks of "
                f"{self.tick_hours:g} h from {self.start:%Y-%m-%d %H:%M} UTC, "
                f"{n} institution{'s' if n != 1 else ''} ({', '.join(self.institution_names)}), "
                f"{int(self.attrs.get('agents', 0)):,} agents; {self.path}>")

    # -- per-tick series -----------------------------------------------------------------

    def _per_tick(self, ds: h5py.Dataset) -> np.ndarray:
        """The recorded rows of a per-tick dataset (its first ``ticks_recorded``)."""
        return ds[:len(self.ticks)]

    def _frame(self, datasets: dict[str, h5py.Dataset]) -> pd.DataFrame:
        """A DataFrame of 1-D per-tick datasets, indexed by time; units in .attrs."""
        data, units, descriptions = {}, {}, {}
        for column, ds in datasets.items():
            unit = _h5.text(ds.attrs.get("units", ""))
            values = self._per_tick(ds)
            data[column] = values.astype(bool) if unit == "flag" else values
            units[column] = unit
            descriptions[column] = _h5.text(ds.attrs.get("description", ""))
        frame = pd.DataFrame(data, index=self.time[:len(next(iter(data.values())))]
                             if data else self.time)
        frame.attrs["units"] = units
        frame.attrs["descriptions"] = descriptions
        return frame

    @staticmethod
    def _series_datasets(group: h5py.Group, preferred: tuple[str, ...]) -> dict[str, h5py.Dataset]:
        found = {k: v for k, v in group.items()
                 if isinstance(v, h5py.Dataset) and v.ndim == 1 and v.dtype.names is None}
        return {k: found[k] for k in _ordered(list(found), preferred)}

    def _institution(self, name: str) -> pd.DataFrame:
        with self._file() as f:
            g = f["institutions"][name]
            datasets = self._series_datasets(g, INSTITUTION_COLUMNS)
            if "signals" in g:
                signals = self._series_datasets(g["signals"], ("flow", "queue", "price"))
                for k, v in signals.items():
                    datasets[f"signal_{k}"] = v
            return self._frame(datasets)

    def _assets(self, name: str) -> pd.DataFrame:
        with self._file() as f:
            g = f["institutions"][name]["assets"]
            assets = _h5.names(g.attrs.get("asset_names", ""))
            found = [k for k, v in g.items() if isinstance(v, h5py.Dataset) and v.ndim == 2]
            parts, units, descriptions = {}, {}, {}
            for q in _ordered(found, ASSET_QUANTITIES):
                ds = g[q]
                parts[q] = pd.DataFrame(self._per_tick(ds), index=self.time, columns=assets)
                units[q] = _h5.text(ds.attrs.get("units", ""))
                descriptions[q] = _h5.text(ds.attrs.get("description", ""))
        frame = pd.concat(parts, axis=1, names=["quantity", "asset"]) if parts else \
            pd.DataFrame(index=self.time)
        frame.attrs["units"] = units
        frame.attrs["descriptions"] = descriptions
        return frame

    def _asset_spec(self, name: str) -> pd.DataFrame:
        with self._file() as f:
            spec = _h5.table(f["institutions"][name]["assets"]["spec"])
        return spec.set_index("name")

    @functools.cached_property
    def population(self) -> pd.DataFrame:
        """Population series (withdrawn, paid and acting agents, mean stress, self-custody)
        and ``news``, the global news signal."""
        with self._file() as f:
            datasets = self._series_datasets(f["population"], POPULATION_COLUMNS)
            if "signals/news" in f:
                datasets["news"] = f["signals/news"]
            return self._frame(datasets)

    @functools.cached_property
    def by_class(self) -> pd.DataFrame:
        """Per-class series, columns (quantity, class): ``run.by_class["withdrawn_value"]``.

        ``stress_quantiles`` becomes one quantity per level: ``stress_q0.1``, ``stress_q0.5``...
        """
        with self._file() as f:
            g = f["population/by_class"]
            classes = _h5.names(g.attrs["class_names"])
            parts, units = {}, {}
            for q in _ordered(list(g), ("withdrawn_agents", "withdrawn_value", "acting_agents",
                                        "stress_mean", "withdrawn_value_cents")):
                ds = g[q]
                unit = _h5.text(ds.attrs.get("units", ""))
                if ds.ndim == 2:
                    parts[q] = pd.DataFrame(self._per_tick(ds), index=self.time, columns=classes)
                    units[q] = unit
                elif ds.ndim == 3:
                    levels = [float(x) for x in _h5.names(ds.attrs.get("quantiles", ""))]
                    values = self._per_tick(ds)
                    for k, level in enumerate(levels):
                        key = f"stress_q{level:g}"
                        parts[key] = pd.DataFrame(values[:, :, k], index=self.time,
                                                  columns=classes)
                        units[key] = unit
        frame = pd.concat(parts, axis=1, names=["quantity", "class"])
        frame.attrs["units"] = units
        return frame

    # -- tables ---------------------------------------------------------------------------

    @functools.cached_property
    def classes(self) -> pd.DataFrame:
        """The investor classes (agents, share, first agent id, portfolio), indexed by name."""
        with self._file() as f:
            return _h5.table(f["classes"]).set_index("name")

    @functools.cached_property
    def events(self) -> pd.DataFrame:
        """The news events (/events/news), with ``time``: the start of their tick."""
        with self._file() as f:
            news = _h5.table(f["events/news"]) if "events/news" in f else pd.DataFrame(
                columns=["label", "institution", "tick", "magnitude", "decay_ticks",
                         "duration_ticks", "reach"])
        news.insert(0, "time", self.time_of_tick(news["tick"].to_numpy(), edge="start"))
        return news

    @functools.cached_property
    def policies(self) -> pd.DataFrame:
        """Every institution's policies: institution, label, kind, fired_tick, fired_time
        (start of the tick it took effect; NaT if it never fired)."""
        frames = []
        with self._file() as f:
            for name in self.institution_names:
                g = f["institutions"][name]
                if "policies" in g:
                    t = _h5.table(g["policies"])
                    t.insert(0, "institution", name)
                    frames.append(t)
        out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
            columns=["institution", "label", "kind", "fired_tick"])
        out["fired_time"] = self.time_of_tick(out["fired_tick"].to_numpy(dtype=float),
                                              edge="start")
        return out

    @functools.cached_property
    def exposures(self) -> pd.DataFrame:
        """Every claim of an institution (creditor) on another (debtor), with default_time
        (end of the tick it was written down; NaT if never)."""
        frames = []
        with self._file() as f:
            for name in self.institution_names:
                g = f["institutions"][name]
                if "exposures" in g:
                    t = _h5.table(g["exposures"])
                    t.insert(0, "creditor", name)
                    frames.append(t)
        out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
            columns=["creditor", "debtor", "amount_usd", "loss_given_default", "default_tick",
                     "loss_usd"])
        out["default_time"] = self.time_of_tick(out["default_tick"].to_numpy(dtype=float))
        return out

    @functools.cached_property
    def snapshots(self) -> pd.DataFrame:
        """Per-agent samples (/snapshots) with ``time`` (end of tick), ``class_name``,
        ``institution`` (the account's name) and ``state_name``."""
        with self._file() as f:
            snap = _h5.table(f["snapshots"]) if "snapshots" in f else pd.DataFrame()
        if snap.empty:
            return snap
        snap.insert(1, "time", self.time_of_tick(snap["tick"].to_numpy()))
        snap["class_name"] = np.asarray(self.classes.index)[snap["class"].to_numpy()]
        snap["institution"] = np.asarray(self.institution_names)[snap["account"].to_numpy()]
        snap["state_name"] = pd.Categorical.from_codes(snap["state"].to_numpy(),
                                                       categories=list(SNAPSHOT_STATES))
        return snap

    @functools.cached_property
    def summary(self) -> pd.DataFrame:
        """/summary/<institution> attributes, one row per institution (scenario order),
        plus ``halt_time`` and ``insolvent_time`` (end of that tick; NaT if never).
        Empty (no columns) for a failed run, which has no summary."""
        rows = {}
        with self._file() as f:
            if "summary" in f:
                rows = {n: _h5.attributes(f["summary"][n]) for n in self.institution_names
                        if n in f["summary"]}
        frame = pd.DataFrame.from_dict(rows, orient="index").reindex(self.institution_names)
        frame.index.name = "institution"
        for col in ("halt_tick", "insolvent_tick"):
            if col in frame:
                frame[col.replace("_tick", "_time")] = self.time_of_tick(
                    frame[col].to_numpy(dtype=float))
        return frame

    @functools.cached_property
    def payoffs(self) -> pd.DataFrame:
        """/summary/payoffs after a final payout (``final_payout: true``): per class and
        group (``ran``: decided to withdraw at least once), the agents, their wealth at par
        before the final date and after it (cents) and ``payoff`` = final / before; indexed
        by (class, ran). Empty without a final payout."""
        with self._file() as f:
            if "summary" not in f or "payoffs" not in f["summary"]:
                return pd.DataFrame(columns=["agents", "before_cents", "final_cents", "payoff"])
            table = _h5.table(f["summary/payoffs"])
        table.insert(0, "class", np.asarray(self.classes.index)[table.pop("class_id").to_numpy()])
        table["ran"] = table["ran"].astype(bool)
        return table.set_index(["class", "ran"])

    @functools.cached_property
    def population_summary(self) -> dict[str, Any]:
        """/summary attributes: ticks_run, agents, withdrawn_agents, issued_usd, ..."""
        with self._file() as f:
            return _h5.attributes(f["summary"]) if "summary" in f else {}

    # -- derived quantities --------------------------------------------------------------

    def issued(self, institution: str) -> float:
        """Customers' claims on ``institution`` at tick 0, USD."""
        return float(self.institution_attrs[institution]["issued"])

    def outflow_share(self, institution: str) -> pd.Series:
        """Cumulative payouts as a share of the claims issued at tick 0."""
        s = self.institutions[institution]["payments"].cumsum() / self.issued(institution)
        return s.rename("outflow_share")

    def net_outflow_share(self, institution: str) -> pd.Series:
        """1 - deposits / claims issued at tick 0 (net of inflows and transfers in)."""
        s = 1 - self.institutions[institution]["deposits"] / self.issued(institution)
        return s.rename("net_outflow_share")

    def daily(self, institution: str) -> pd.DataFrame:
        """Flows summed per UTC calendar day (by tick start) and deposits at each day's end:
        requests, payments, inflows, transfers_in, transfers_out, net_outflow, deposits."""
        inst = self.institutions[institution]
        flows = inst[["requests", "payments", "inflows", "transfers_in", "transfers_out"]]
        flows = flows.set_axis(self.tick_start[:len(flows)], axis=0)
        out = flows.resample("D").sum()
        out["net_outflow"] = out["payments"] - out["inflows"] - out["transfers_in"]
        out["deposits"] = inst["deposits"].set_axis(flows.index, axis=0).resample("D").last()
        out.index.name = "day"
        return out

    def timeline(self) -> pd.DataFrame:
        """Every event of the run in time order: news, policy firings, halts, insolvencies
        and write-downs (columns time, tick, kind, institution, label, magnitude)."""
        rows = []
        for e in self.events.itertuples():
            rows.append((e.time, e.tick, "news", e.institution, e.label, e.magnitude))
        for p in self.policies.itertuples():
            if p.fired_tick >= 0:
                rows.append((p.fired_time, p.fired_tick, "policy", p.institution,
                             f"{p.kind}: {p.label}", np.nan))
        summary = self.summary
        for name in self.institution_names:
            for kind, what in (("halt", "halts withdrawals"), ("insolvent", "insolvent")):
                col = f"{kind}_tick"
                if col in summary and summary.loc[name, col] >= 0:
                    tick = int(summary.loc[name, col])
                    rows.append((self.time_of_tick(tick), tick, kind, name, f"{name} {what}",
                                 np.nan))
        for x in self.exposures.itertuples():
            if x.default_tick >= 0:
                label = f"{x.creditor} writes down {x.loss_usd / 1e9:.3g} B USD on {x.debtor}"
                rows.append((x.default_time, x.default_tick, "write-down", x.creditor, label,
                             np.nan))
        out = pd.DataFrame(rows, columns=["time", "tick", "kind", "institution", "label",
                                          "magnitude"])
        return out.sort_values(["time", "tick"], kind="stable").reset_index(drop=True)

    def to_xarray(self) -> "xarray.Dataset":
        """The whole run as an :class:`xarray.Dataset` with dimensions time, institution,
        asset, class and quantile, and ``units`` on every variable (see bankrun.xr)."""
        from .xr import run_to_xarray
        return run_to_xarray(self)
