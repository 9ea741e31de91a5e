"""``python3 -m bankrun report RUN.h5 [-o DIR]``: the standard figures as PNG and a
one-page HTML summary of a run."""
from __future__ import annotations

import html
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from . import plots
from .observed import compare, load_public_figures
from .run import Run

__all__ = ["write_report"]

_SUMMARY_COLUMNS = {
    "issued_usd": "issued (USD)", "total_outflow_usd": "paid out (USD)",
    "total_requested_usd": "requested (USD)", "total_inflows_usd": "inflows (USD)",
    "total_transfers_in_usd": "transfers in (USD)", "peak_daily_outflow_usd": "peak day (USD)",
    "ticks_to_10pct": "ticks to 10%", "ticks_to_25pct": "ticks to 25%",
    "ticks_to_50pct": "ticks to 50%", "halt_time": "halt", "insolvent_time": "insolvent",
    "write_downs_usd": "write-downs (USD)"}

_STYLE = """
body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1.5em; }
td, th { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; }
th { background: #f2f2f2; } td:first-child, th:first-child { text-align: left; }
img { max-width: 100%; margin: 0.5em 0; } h1 { font-size: 1.4em; } h2 { font-size: 1.1em; }
.status-warn { color: #b00; font-weight: bold; }
"""


def _money(x: object) -> str:
    if isinstance(x, (int, float)) and pd.notna(x):
        return f"{x / 1e9:,.3f} B" if abs(x) >= 1e8 else f"{x / 1e6:,.2f} M"
    return "" if x is None or (isinstance(x, float) and pd.isna(x)) else str(x)


def _summary_table(run: Run) -> pd.DataFrame:
    s = run.summary
    cols = [c for c in _SUMMARY_COLUMNS if c in s]
    table = s[cols].copy()
    for c in cols:
        if c.endswith("_usd"):
            table[c] = table[c].map(_money)
        elif c.endswith("_time"):
            table[c] = table[c].map(lambda t: "" if pd.isna(t) else f"{t:%Y-%m-%d %H:%M}")
        else:
            table[c] = table[c].map(lambda v: "never" if v == -1 else str(v))
    return table.rename(columns=_SUMMARY_COLUMNS)


def write_report(path: str | Path, out_dir: str | Path | None = None, *,
                 observed: str | Path | None = None, case: str | None = None,
                 dpi: int = 110) -> dict[str, Path]:
    """Writes overview.png, flows.png, reserves.png, prices.png (if the run has market
    assets), classes.png, comparison.png (with ``case``: its public figures, from
    ``observed`` or the shipped CSV) and index.html into ``out_dir`` (default:
    ``<RUN>-report`` next to the file). Returns {name: path} of what was written."""
    run = Run(path)
    out = Path(out_dir) if out_dir is not None else run.path.with_name(run.path.stem + "-report")
    out.mkdir(parents=True, exist_ok=True)
    figures = {"overview": lambda: plots.plot_overview(run),
               "flows": lambda: plots.plot_flows(run),
               "reserves": lambda: plots.plot_reserves(run)}
    if any(run.asset_names(n) for n in run.institution_names):
        figures["prices"] = lambda: plots.plot_prices(run)
    figures["classes"] = lambda: plots.plot_class_withdrawals(run)
    comparison = None
    if case is not None:
        public = load_public_figures(observed)
        comparison = compare(run, public, case)
        figures["comparison"] = lambda: plots.plot_comparison(run, public, case)
    written: dict[str, Path] = {}
    for name, make in figures.items():
        fig = make()
        written[name] = out / f"{name}.png"
        fig.savefig(written[name], dpi=dpi)
        plt.close(fig)
    written["html"] = out / "index.html"
    written["html"].write_text(_html(run, written, comparison), encoding="utf-8")
    return written


def _html(run: Run, images: dict[str, Path], comparison: pd.DataFrame | None) -> str:
    e = html.escape
    p = run.provenance
    status = e(str(p["status"]))
    if p["status"] != "complete":
        status = f'<span class="status-warn">{status}</span>'
    prov = "".join(f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in [
        ("scenario", f"{run.name} ({p['scenario_file']})"),
        ("description", run.scenario.get("description", "") if isinstance(run.scenario, dict)
         else ""),
        ("agents", f"{int(p['agents'] or 0):,}"),
        ("time", f"{len(run.ticks)} ticks of {run.tick_hours:g} h from "
                 f"{run.start:%Y-%m-%d %H:%M} UTC"),
        ("seed", p["seed"]), ("bankrun", f"{p['bankrun_version']} ({p['git_commit']})"),
        ("started", p["started_utc"]), ("wall time", f"{p['wall_seconds']:.2f} s"
                                        if isinstance(p["wall_seconds"], float) else ""),
        ("file", p["path"])])
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>bankrun report: "
             f"{e(run.name)}</title><style>{_STYLE}</style></head><body>",
             f"<h1>bankrun report: {e(run.name)}</h1>",
             f"<p>Status: {status}.</p>",
             f"<table>{prov}</table>",
             "<h2>Institutions</h2>"]
    if len(run.summary.columns):
        parts.append(_summary_table(run).to_html(border=0))
    else:
        parts.append("<p>No summary in the file.</p>")
    parts.append(f"<img src='{images['overview'].name}' alt='overview'>")
    timeline = run.timeline()
    if len(timeline):
        t = timeline.assign(time=timeline["time"].map(lambda x: f"{x:%Y-%m-%d %H:%M}"))
        parts += ["<h2>Events</h2>", t.to_html(index=False, border=0, na_rep="")]
    if comparison is not None:
        c = comparison.copy()
        for col in ("date", "end_date"):
            c[col] = c[col].map(lambda x: "" if pd.isna(x) else f"{x:%Y-%m-%d %H:%M}")
        parts += ["<h2>Simulated vs observed</h2>", c.to_html(index=False, border=0, na_rep="")]
    for name, image in images.items():
        if name not in ("overview", "html"):
            parts.append(f"<h2>{e(name)}</h2><img src='{image.name}' alt='{e(name)}'>")
    parts.append("</body></html>")
    return "\n".join(parts)
