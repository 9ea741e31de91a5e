"""A run as an :class:`xarray.Dataset`.

Dimensions:

* ``time``: the end of each tick (UTC, timezone-naive ``datetime64[ns]`` as xarray and
  netCDF want it); coordinate ``tick`` along it.
* ``institution``: scenario order.
* ``asset``: every market asset held by any institution (union, first seen first);
  ``asset_held`` (institution, asset) says who holds what; asset variables are NaN where
  an institution does not hold the asset.
* ``class``: investor classes in scenario order; ``quantile``: stress quantile levels.

Variables keep the HDF5 dataset names: institution series (``deposits``, ``payments``,
``signal_flow``, ...) on (time, institution); population series (``withdrawn_agents``,
``self_custody``, ``news``) on (time,); asset series prefixed ``asset_`` on (time,
institution, asset); class series prefixed ``class_`` on (time, class). Each variable has
the file's ``units`` and ``description`` attributes; the dataset's attributes are the run's
provenance. ``ds.to_netcdf(path, engine="h5netcdf")`` writes it out.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

if TYPE_CHECKING:
    from .run import Run

__all__ = ["run_to_xarray"]


def _attrs(units: str, description: str) -> dict[str, str]:
    out = {"units": units}
    if description:
        out["description"] = description
    return out


def _netcdf_value(value: Any) -> Any:
    """An attribute value netCDF accepts (no None, no bool)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    return value


def run_to_xarray(run: Run) -> xr.Dataset:
    """Builds the Dataset described in the module docstring."""
    time = run.time.tz_convert("UTC").tz_localize(None)
    names = run.institution_names
    data_vars: dict[str, xr.DataArray] = {}

    # Institution series: (time, institution).
    frames = {n: run.institutions[n] for n in names}
    first = frames[names[0]]
    for col in first.columns:
        stacked = np.stack([frames[n][col].to_numpy() for n in names], axis=1)
        data_vars[col] = xr.DataArray(
            stacked, dims=("time", "institution"),
            attrs=_attrs(first.attrs["units"][col], first.attrs["descriptions"][col]))

    # Population series: (time,).
    pop = run.population
    for col in pop.columns:
        data_vars[col] = xr.DataArray(pop[col].to_numpy(), dims=("time",),
                                      attrs=_attrs(pop.attrs["units"][col],
                                                   pop.attrs["descriptions"][col]))

    # Asset series: (time, institution, asset), NaN where not held.
    assets: list[str] = []
    for n in names:
        assets += [a for a in run.asset_names(n) if a not in assets]
    held = np.array([[a in run.asset_names(n) for a in assets] for n in names], dtype=bool)
    data_vars["asset_held"] = xr.DataArray(
        held, dims=("institution", "asset"),
        attrs={"units": "flag", "description": "1 if the institution holds the asset"})
    quantities: list[str] = []
    units: dict[str, str] = {}
    descriptions: dict[str, str] = {}
    for n in names:
        a = run.assets[n]
        for q in a.attrs["units"]:
            if q not in quantities:
                quantities.append(q)
            units[q] = a.attrs["units"][q]
            descriptions[q] = a.attrs["descriptions"][q]
    for q in quantities:
        cube = np.full((len(time), len(names), len(assets)), np.nan)
        for i, n in enumerate(names):
            a = run.assets[n]
            for asset in run.asset_names(n):
                cube[:, i, assets.index(asset)] = a[(q, asset)].to_numpy(dtype=float)
        data_vars[f"asset_{q}"] = xr.DataArray(cube, dims=("time", "institution", "asset"),
                                               attrs=_attrs(units[q], descriptions[q]))

    # Class series: (time, class) and (time, class, quantile).
    bc = run.by_class
    levels = sorted({float(q[len("stress_q"):]) for q in bc.columns.get_level_values(0)
                     if q.startswith("stress_q")})
    for q in dict.fromkeys(bc.columns.get_level_values(0)):
        if q.startswith("stress_q"):
            continue
        data_vars[f"class_{q}"] = xr.DataArray(bc[q].to_numpy(), dims=("time", "class"),
                                               attrs=_attrs(bc.attrs["units"][q], ""))
    if levels:
        cube = np.stack([bc[f"stress_q{level:g}"].to_numpy() for level in levels], axis=2)
        data_vars["class_stress_quantiles"] = xr.DataArray(
            cube, dims=("time", "class", "quantile"),
            attrs={"units": "stress", "description": "quantiles of S_i(t) over the class's "
                                                     "acting agents (NaN when none acted)"})

    # Static per-institution and per-class values.
    data_vars["issued"] = xr.DataArray(
        [run.issued(n) for n in names], dims=("institution",),
        attrs={"units": "USD", "description": "customers' claims at tick 0"})
    classes = run.classes
    data_vars["class_agents"] = xr.DataArray(classes["agents"].to_numpy(), dims=("class",),
                                             attrs={"units": "agents"})

    coords: dict[str, Any] = {
        "time": ("time", time.to_numpy(),
                 {"description": "end of the tick (UTC)", "timezone": "UTC"}),
        "tick": ("time", run.ticks[:len(time)], {"units": "tick"}),
        "institution": ("institution", np.array(names, dtype=object)),
        "asset": ("asset", np.array(assets, dtype=object)),
        "class": ("class", np.array(list(classes.index), dtype=object)),
    }
    if levels:
        coords["quantile"] = ("quantile", np.array(levels), {"units": "1"})
    attrs = {k: _netcdf_value(v) for k, v in run.provenance.items()}
    attrs.update({"tick_hours": run.tick_hours, "start_utc": str(run.attrs.get("start_utc", "")),
                  "currencies": ",".join(run.currencies), "title": f"bankrun: {run.name}"})
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def to_dataframe_long(ds: xr.Dataset, variable: str) -> pd.DataFrame:
    """One variable of the Dataset as a long DataFrame (one row per coordinate tuple)."""
    return ds[variable].to_dataframe().reset_index()
