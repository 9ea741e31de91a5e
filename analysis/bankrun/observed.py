"""Public figures of real runs (bankrun/data/public-figures.csv, from bankrun/data/CASES.md) and their
comparison with a simulated run."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .run import Run

__all__ = ["PUBLIC_FIGURES", "CASES_MD", "load_public_figures", "compare", "QUANTITY_UNITS"]

#: The CSV shipped with the package (package data; figures copied from CASES.md).
PUBLIC_FIGURES = Path(__file__).resolve().parent / "data" / "public-figures.csv"
#: The calibration notes the figures come from, with their sources (package data).
CASES_MD = Path(__file__).resolve().parent / "data" / "CASES.md"

#: What each quantity of the CSV is compared with, and its unit.
QUANTITY_UNITS = {"deposits": "USD", "net_outflow": "USD", "gross_outflow": "USD",
                  "gross_inflow": "USD", "price": "USD per unit", "asset_units": "units",
                  "halt": "time"}


def _utc(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True)


def load_public_figures(path: str | Path | None = None) -> pd.DataFrame:
    """Reads a CSV of public figures (default: the shipped one): columns case, date,
    end_date, quantity, asset, value_usd, share, asset_units, source, note; dates as UTC
    Timestamps (end_date NaT for a stock)."""
    frame = pd.read_csv(path or PUBLIC_FIGURES, dtype={"asset": str, "note": str})
    unknown = set(frame["quantity"]) - set(QUANTITY_UNITS)
    if unknown:
        raise ValueError(f"{path or PUBLIC_FIGURES}: unknown quantities {sorted(unknown)}; "
                         f"known: {sorted(QUANTITY_UNITS)}")
    frame["date"] = _utc(frame["date"])
    frame["end_date"] = _utc(frame["end_date"])
    for col in ("asset", "source", "note"):
        frame[col] = frame[col].fillna("")
    return frame


def _stock_at(run: Run, series: pd.Series, when: pd.Timestamp, at_start: float) -> float:
    """A stock's value at instant ``when``: ``at_start`` at the start of tick 0, else the
    value at the end of the last tick ending at or before ``when``; NaN outside the run."""
    if when < run.start or when > run.time[-1]:
        return np.nan
    if when < run.time[0]:
        return at_start
    return float(series.asof(when))


def _window(run: Run, start: pd.Timestamp, end: pd.Timestamp) -> tuple[pd.Timestamp,
                                                                       pd.Timestamp, float]:
    """The part of [start, end) inside the run and the share of the window it covers."""
    lo, hi = max(start, run.start), min(end, run.time[-1])
    covered = max((hi - lo) / (end - start), 0.0) if end > start else 0.0
    return lo, hi, float(covered)


def _flow(run: Run, institution: str, columns: list[str], lo: pd.Timestamp,
          hi: pd.Timestamp) -> float:
    """Sum of flow columns over the ticks that start in [lo, hi)."""
    inst = run.institutions[institution]
    mask = (run.tick_start[:len(inst)] >= lo) & (run.tick_start[:len(inst)] < hi)
    return float(inst.loc[mask, columns].to_numpy().sum())


def compare(run: Run, figures: pd.DataFrame, case: str,
            institution: str | None = None) -> pd.DataFrame:
    """Simulated counterparts of a case's public figures, one row per figure (two when a
    row gives both value_usd and share): quantity, asset, date, end_date, unit, observed,
    simulated, ratio (simulated / observed), coverage (the share of the figure's window
    inside the run; 1 for a stock inside it), source, note. ``institution`` defaults to
    ``case`` if the run has an institution of that name, else the first one. A halt row
    compares times: observed/simulated are Timestamps and ``ratio`` is the difference in
    days (simulated - observed)."""
    if institution is None:
        institution = case if case in run.institution_names else run.institution_names[0]
    rows = figures[figures["case"] == case]
    if rows.empty:
        raise ValueError(f"no public figures for case {case!r}; cases: "
                         f"{sorted(figures['case'].unique())}")
    inst = run.institutions[institution]
    issued = run.issued(institution)
    out = []
    for r in rows.itertuples():
        base = {"quantity": r.quantity, "asset": r.asset, "date": r.date,
                "end_date": r.end_date, "source": r.source, "note": r.note}
        if r.quantity == "halt":
            halt = run.summary.loc[institution, "halt_time"] if "halt_time" in run.summary \
                else pd.NaT
            diff = (halt - r.date) / pd.Timedelta(days=1) if pd.notna(halt) else np.nan
            out.append({**base, "unit": "time", "observed": r.date, "simulated": halt,
                        "ratio": diff, "coverage": 1.0})
            continue
        if pd.isna(r.end_date):  # a stock at one instant
            coverage = float(run.start <= r.date <= run.time[-1])
            if r.quantity == "deposits":
                sim = _stock_at(run, inst["deposits"], r.date, issued)
                obs, unit = r.value_usd, "USD"
            elif r.quantity in ("price", "asset_units"):
                a = run.assets[institution]
                if r.asset not in run.asset_names(institution):
                    sim = np.nan
                elif r.quantity == "price":
                    spec_price = float(a[("price", r.asset)].iloc[0])
                    sim = _stock_at(run, a[("price", r.asset)], r.date, spec_price)
                else:
                    units = sum(a[(q, r.asset)] for q in ("hot_units", "cold_units",
                                                          "in_transit_units", "illiquid_units"))
                    sim = _stock_at(run, units, r.date, float(units.iloc[0]))
                obs = r.value_usd if r.quantity == "price" else r.asset_units
                unit = QUANTITY_UNITS[r.quantity]
            else:
                raise ValueError(f"{r.quantity} needs an end_date (it is a flow)")
            out.append({**base, "unit": unit, "observed": obs, "simulated": sim,
                        "coverage": coverage})
            continue
        lo, hi, coverage = _window(run, r.date, r.end_date)
        if coverage <= 0:
            sim_usd, start_deposits = np.nan, np.nan
        else:
            start_deposits = _stock_at(run, inst["deposits"], lo, issued)
            if r.quantity == "net_outflow":
                sim_usd = _flow(run, institution, ["payments"], lo, hi) - _flow(
                    run, institution, ["inflows", "transfers_in"], lo, hi)
            elif r.quantity == "gross_outflow":
                sim_usd = _flow(run, institution, ["payments"], lo, hi)
            elif r.quantity == "gross_inflow":
                sim_usd = _flow(run, institution, ["inflows", "transfers_in"], lo, hi)
            else:
                raise ValueError(f"{r.quantity} is a stock: leave end_date empty")
        if pd.notna(r.value_usd):
            out.append({**base, "unit": "USD", "observed": r.value_usd, "simulated": sim_usd,
                        "coverage": coverage})
        if pd.notna(r.share):
            out.append({**base, "unit": "share", "observed": r.share,
                        "simulated": sim_usd / start_deposits, "coverage": coverage})
    frame = pd.DataFrame(out)
    numeric = frame["unit"] != "time"
    frame.loc[numeric, "ratio"] = (frame.loc[numeric, "simulated"].astype(float)
                                   / frame.loc[numeric, "observed"].astype(float))
    frame.attrs["institution"] = institution
    frame.attrs["case"] = case
    cols = ["quantity", "asset", "date", "end_date", "unit", "observed", "simulated", "ratio",
            "coverage", "source", "note"]
    return frame[cols]
