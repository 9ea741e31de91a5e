"""The standard figures. Each ``plot_*`` function returns a :class:`matplotlib.figure.Figure`
(it does not show it); the ``draw_*`` functions draw into axes you give them.

Times are UTC; amounts in USD billions (stocks) or USD millions per hour (flows) unless
the axis says otherwise.
"""
from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .calibration import PHASES, Calibration
from .observed import compare
from .run import Run

__all__ = ["marked_events", "plot_flows", "plot_reserves", "plot_prices", "plot_class_withdrawals",
           "plot_comparison", "plot_phase_diagram", "plot_cascade_sizes", "plot_overview",
           "plot_loss_trace", "plot_fit", "plot_marginals",
           "draw_deposits", "draw_outflows", "draw_events", "draw_reserves", "draw_prices",
           "draw_class_withdrawals", "draw_relative_prices", "draw_key_figures",
           "key_figures"]

_TIER_MAPS = ["Blues", "Oranges", "Greens", "Purples", "Reds", "Greys", "YlOrBr", "BuGn"]
_TIERS = (("hot", "hot_reserves", "hot_units"), ("cold", "cold_reserves", "cold_units"),
          ("in transit", "in_transit", "in_transit_units"),
          ("illiquid", "illiquid", "illiquid_units"))
_BILLION = 1e9


def _colours() -> list[str]:
    return plt.rcParams["axes.prop_cycle"].by_key()["color"]


def _colour_of(run: Run, institution: str) -> str:
    c = _colours()
    return c[run.institution_names.index(institution) % len(c)]


def _names(run: Run, institutions: str | Sequence[str] | None) -> list[str]:
    if institutions is None:
        return list(run.institution_names)
    if isinstance(institutions, str):
        institutions = [institutions]
    for n in institutions:
        run.institutions[n]  # noqa: B018 - raises a KeyError naming the valid ones
    return list(institutions)


def _time_axis(ax: Axes) -> None:
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _short(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters (at least 12), with an ellipsis."""
    width = max(width, 12)
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"


def _tex_safe(text: str) -> str:
    """Escapes '$' so that matplotlib does not read it as mathtext."""
    return text.replace("$", r"\$")


def _title(run: Run) -> str:
    return f"bankrun: {run.name}"


# -- drawing into axes ------------------------------------------------------------------------

def marked_events(run: Run, institutions: Sequence[str] | None = None, *,
                  news: bool = True, policies: bool = True) -> pd.DataFrame:
    """The news events and policy firings that the plots mark, in time order and numbered
    from 1 (columns number, time, kind, institution, label)."""
    names = _names(run, institutions)
    rows = []
    if news:
        for e in run.events.itertuples():
            if not e.institution or e.institution in names:
                rows.append((e.time, "news", e.institution, e.label))
    if policies:
        news_labels = set(run.events["label"])
        for p in run.policies.itertuples():
            # A proof of reserves that fired is also a news event: mark it once.
            duplicate = news and f"proof of reserves: {p.label}" in news_labels
            if p.fired_tick >= 0 and p.institution in names and not duplicate:
                rows.append((p.fired_time, "policy", p.institution, f"{p.kind}: {p.label}"))
    out = pd.DataFrame(rows, columns=["time", "kind", "institution", "label"])
    out = out.sort_values("time", kind="stable").reset_index(drop=True)
    out.insert(0, "number", np.arange(1, len(out) + 1))
    return out


def draw_events(ax: Axes, run: Run, institutions: Sequence[str] | None = None, *,
                labels: str | None = "text", news: bool = True, policies: bool = True,
                halts: bool = True) -> None:
    """Marks news (grey dashed), policy firings (dotted, the institution's colour) and
    halts (solid) with vertical lines. ``labels``: ``"text"`` writes the events' labels
    at the top (those at the same time joined), ``"numbers"`` their numbers in
    :func:`marked_events`, None nothing."""
    names = _names(run, institutions)
    several = len(run.institution_names) > 1
    bottom, top = ax.get_ylim()
    events = marked_events(run, names, news=news, policies=policies)
    for e in events.itertuples():
        colour = "grey" if e.kind == "news" else _colour_of(run, e.institution)
        ax.axvline(e.time, color=colour, lw=0.8 if e.kind == "news" else 1.2,
                   ls="--" if e.kind == "news" else ":", zorder=0)
    if labels is not None:
        for when, group in events.groupby("time", sort=True):
            if labels == "numbers":
                text = ",".join(str(n) for n in group["number"])
            else:
                text = " / ".join(
                    _short(r.label, 44 // len(group))
                    + (f" [{r.institution}]" if r.institution and several else "")
                    for r in group.itertuples())
            ax.annotate(_tex_safe(text), (when, top), xytext=(-2, -2), textcoords="offset points",
                        rotation=90 if labels == "text" else 0, va="top", ha="right",
                        fontsize=7 if labels == "text" else 6.5, color="dimgrey",
                        annotation_clip=False)
    if halts and "halt_time" in run.summary:
        for k, name in enumerate(names):
            t = run.summary.loc[name, "halt_time"]
            if pd.notna(t):
                ax.axvline(t, color=_colour_of(run, name) if several else "black", lw=1.5)
                if labels == "text":
                    ax.annotate(f"{name} halts" if several else "withdrawals halted",
                                (t, bottom + (0.45 - 0.07 * k) * (top - bottom)), xytext=(3, 0),
                                textcoords="offset points", ha="left", fontsize=8,
                                annotation_clip=False)
    ax.set_ylim(bottom, top)


def draw_deposits(ax: Axes, run: Run, institutions: Sequence[str] | None = None) -> None:
    """Customers' claims (solid) and the unpaid queue (dashed) of each institution, and the
    funds in self-custody (grey), USD billions."""
    names = _names(run, institutions)
    several = len(names) > 1
    for name in names:
        inst, c = run.institutions[name], _colour_of(run, name)
        prefix = f"{name}: " if several else ""
        ax.plot(inst.index, inst["deposits"] / _BILLION, color=c,
                label=f"{prefix}deposits (customer claims)")
        if inst["queue_value"].any():
            ax.plot(inst.index, inst["queue_value"] / _BILLION, color=c, ls="--",
                    label=f"{prefix}unpaid queue")
    custody = run.population["self_custody"]
    if custody.any() and institutions is None:
        ax.plot(custody.index, custody / _BILLION, color="grey", lw=1, label="self-custody")
    ax.set_ylabel("USD billions")
    ax.set_ylim(bottom=0)
    ax.legend(loc="best", fontsize=7)
    _time_axis(ax)


def draw_outflows(ax: Axes, run: Run, institutions: Sequence[str] | None = None) -> None:
    """Payouts per hour of each institution (and inflows + transfers in, below zero when
    there are any), USD millions per hour."""
    names = _names(run, institutions)
    several = len(names) > 1
    scale = 1e6 * run.tick_hours
    for name in names:
        inst, c = run.institutions[name], _colour_of(run, name)
        label = name if several else "outflow (payouts)"
        ax.fill_between(inst.index, inst["payments"] / scale, step="pre", color=c,
                        alpha=0.35 if several else 0.8, lw=0)
        ax.step(inst.index, inst["payments"] / scale, where="pre", color=c, lw=0.8, label=label)
        incoming = inst["inflows"] + inst["transfers_in"]
        if incoming.any():
            ax.step(inst.index, -incoming / scale, where="pre", color=c, lw=0.8, ls="--",
                    label=f"{name}: inflows + transfers in (negative)" if several
                    else "inflows (negative)")
    ax.axhline(0, color="black", lw=0.5)
    ax.set_ylabel("USD millions / hour")
    ax.legend(loc="best", fontsize=7)
    _time_axis(ax)


def _asset_cmaps(run: Run) -> dict[str, str]:
    assets: list[str] = ["USD"]
    for n in run.institution_names:
        assets += [a for a in run.asset_names(n) if a not in assets]
    return {a: _TIER_MAPS[k % len(_TIER_MAPS)] for k, a in enumerate(assets)}


def draw_reserves(ax: Axes, run: Run, institution: str, *, legend: bool = True) -> None:
    """The institution's balance sheet, stacked: USD cash by tier (hot, cold, in transit,
    illiquid), each market asset's value by tier, claims on other institutions; customers'
    claims as a black line. USD billions."""
    inst = run.institutions[institution]
    assets = run.assets[institution]
    cmaps = _asset_cmaps(run)
    layers: list[tuple[str, np.ndarray, Any]] = []
    for k, (tier, cash_col, _) in enumerate(_TIERS):
        layers.append((f"USD {tier}", inst[cash_col].to_numpy(),
                       plt.get_cmap(cmaps["USD"])(0.85 - 0.18 * k)))
    for asset in run.asset_names(institution):
        price = assets[("price", asset)].to_numpy()
        for k, (tier, _, units_col) in enumerate(_TIERS):
            layers.append((f"{asset} {tier}", assets[(units_col, asset)].to_numpy() * price,
                           plt.get_cmap(cmaps[asset])(0.85 - 0.18 * k)))
    claims = inst["claims_on_institutions"].to_numpy()
    layers.append(("claims on institutions", claims, "lightgrey"))
    layers = [layer for layer in layers if np.any(layer[1] != 0)]
    if layers:
        ax.stackplot(inst.index, *[v / _BILLION for _, v, _ in layers],
                     labels=[n for n, _, _ in layers], colors=[c for _, _, c in layers], lw=0)
    ax.plot(inst.index, inst["deposits"] / _BILLION, color="black", lw=1.2,
            label="customer claims")
    ax.set_ylabel("USD billions")
    ax.set_title(f"{institution}: reserves by tier and asset", fontsize=10)
    if legend:
        ax.legend(loc="best", fontsize=7, ncol=2)
    _time_axis(ax)


def draw_prices(ax: Axes, run: Run, asset: str) -> bool:
    """The price of ``asset`` at every institution that holds it (USD per unit). Returns
    False (and draws nothing) if no institution holds it."""
    drawn = False
    for name in run.institution_names:
        if asset in run.asset_names(name):
            price = run.assets[name][("price", asset)]
            ax.plot(price.index, price, color=_colour_of(run, name),
                    label=name if len(run.institution_names) > 1 else None)
            drawn = True
    ax.set_ylabel(f"{asset}, USD per unit")
    ax.set_title(f"{asset} price", fontsize=10)
    if drawn and len(run.institution_names) > 1:
        ax.legend(fontsize=7)
    _time_axis(ax)
    return drawn


def draw_relative_prices(ax: Axes, run: Run, institution: str) -> None:
    """The prices of the institution's market assets relative to their first recorded
    value (1 = unchanged)."""
    a = run.assets[institution]
    for asset in run.asset_names(institution):
        price = a[("price", asset)]
        first = float(price.iloc[0])
        shown = f"{first:,.0f}" if abs(first) >= 1000 else f"{first:,.4g}"
        ax.plot(price.index, price / first, label=f"{asset} ({shown} USD at the first tick)")
    ax.axhline(1, color="black", lw=0.5)
    ax.set_ylabel("price / first price")
    ax.set_title(f"prices of {institution}'s assets", fontsize=10)
    ax.legend(fontsize=7, loc="best")
    _time_axis(ax)


def draw_class_withdrawals(ax: Axes, run: Run, *, value: bool = False) -> None:
    """Per investor class: the share of its agents that have decided to withdraw (or, with
    ``value=True``, the cumulative value paid out to it, USD billions)."""
    bc = run.by_class
    classes = run.classes
    for k, name in enumerate(classes.index):
        if value:
            ax.plot(bc.index, bc[("withdrawn_value", name)] / _BILLION, label=name)
        else:
            agents = max(int(classes.loc[name, "agents"]), 1)
            ax.plot(bc.index, bc[("withdrawn_agents", name)] / agents, label=name)
    if value:
        ax.set_ylabel("paid out, USD billions (cumulative)")
    else:
        ax.set_ylabel("share of the class's agents\nthat have withdrawn")
        ax.set_ylim(0, 1.02)
    ax.legend(fontsize=7, loc="upper left")
    _time_axis(ax)


def _fmt_usd(x: float) -> str:
    return f"${x / 1e9:,.2f}B" if abs(x) >= 1e8 else f"${x / 1e6:,.1f}M"


def key_figures(run: Run) -> list[str]:
    """One line per institution: outflow, peak day, halt, insolvency, write-downs."""
    lines = []
    summary = run.summary
    for name in run.institution_names:
        if name not in summary.index or "total_outflow_usd" not in summary:
            lines.append(f"{name}: no summary (run {run.status})")
            continue
        s = summary.loc[name]
        parts = [f"{name}: paid out {_fmt_usd(s.total_outflow_usd)} "
                 f"({s.total_outflow_usd / s.issued_usd:.0%} of {_fmt_usd(s.issued_usd)})",
                 f"peak day {_fmt_usd(s.peak_daily_outflow_usd)}"]
        if pd.notna(s.get("halt_time")):
            parts.append(f"halt {s.halt_time:%d %b %H:%M}")
        if pd.notna(s.get("insolvent_time")):
            parts.append(f"insolvent {s.insolvent_time:%d %b %H:%M}")
        if s.get("write_downs_usd", 0) > 0:
            parts.append(f"write-downs {_fmt_usd(s.write_downs_usd)}")
        lines.append(", ".join(parts))
    return lines


def draw_key_figures(ax: Axes, run: Run, *, events: bool = False) -> None:
    """The run's key figures as text: provenance, one line per institution and (with
    ``events``) the numbered list of :func:`marked_events`."""
    ax.axis("off")
    p = run.provenance
    lines = [f"scenario {run.name} ({p['scenario_file']})",
             f"{int(p['agents'] or 0):,} agents, {len(run.ticks)} ticks of {run.tick_hours:g} h "
             f"from {run.start:%Y-%m-%d %H:%M} UTC, seed {p['seed']}",
             f"bankrun {p['bankrun_version']} ({str(p['git_commit'])[:12]}), status {p['status']}",
             ""]
    wrap = textwrap.TextWrapper(width=88, subsequent_indent="    ")
    for line in key_figures(run):
        lines += wrap.wrap(line)
    if events:
        marked = marked_events(run)
        if len(marked):
            lines += ["", "events (numbered in the panels):"]
        for e in marked.itertuples():
            target = f" [{e.institution}]" if e.institution else ""
            lines += wrap.wrap(f"{e.number:>2}. {e.time:%d %b %H:%M} {e.label}{target}")
    ax.text(0, 1, _tex_safe("\n".join(lines)), va="top", ha="left", fontsize=7.5,
            family="monospace", transform=ax.transAxes)


# -- figures ----------------------------------------------------------------------------------

def plot_flows(run: Run, institutions: str | Sequence[str] | None = None) -> Figure:
    """Deposits (and unpaid queues, self-custody) over time, and the outflow per hour, with
    news events, policy firings and halts marked."""
    names = _names(run, institutions)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6.5), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 2]})
    draw_deposits(top, run, names if institutions is not None else None)
    draw_outflows(bottom, run, names)
    draw_events(top, run, names, labels="text")
    draw_events(bottom, run, names, labels=None)
    fig.suptitle(f"{_title(run)}: deposits and outflows")
    fig.tight_layout()
    return fig


def plot_reserves(run: Run, institutions: str | Sequence[str] | None = None) -> Figure:
    """One panel per institution: its reserves stacked by tier and asset, with customers'
    claims."""
    names = _names(run, institutions)
    fig, axes = plt.subplots(len(names), 1, figsize=(10, 3.6 * len(names)), sharex=True,
                             squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        draw_reserves(ax, run, name)
        draw_events(ax, run, [name], labels=None, news=False)
    fig.suptitle(f"{_title(run)}: reserves")
    fig.tight_layout()
    return fig


def plot_prices(run: Run) -> Figure:
    """One panel per market asset (any institution's): its price over time."""
    assets: list[str] = []
    for n in run.institution_names:
        assets += [a for a in run.asset_names(n) if a not in assets]
    fig, axes = plt.subplots(max(len(assets), 1), 1, figsize=(10, 2.8 * max(len(assets), 1)),
                             sharex=True, squeeze=False)
    for ax, asset in zip(axes[:, 0], assets):
        draw_prices(ax, run, asset)
        draw_events(ax, run, labels=None, policies=False)
    if not assets:
        axes[0, 0].text(0.5, 0.5, "no market assets in this run", ha="center", va="center",
                        transform=axes[0, 0].transAxes)
        axes[0, 0].axis("off")
    fig.suptitle(f"{_title(run)}: prices")
    fig.tight_layout()
    return fig


def plot_class_withdrawals(run: Run) -> Figure:
    """Per-class withdrawal curves: the share of each class's agents that have decided to
    withdraw, and the cumulative value paid out to each class."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2), sharex=True)
    draw_class_withdrawals(left, run)
    draw_class_withdrawals(right, run, value=True)
    for ax in (left, right):
        draw_events(ax, run, labels=None, policies=False)
    left.set_title("agents that have withdrawn", fontsize=10)
    right.set_title("value paid out", fontsize=10)
    fig.suptitle(f"{_title(run)}: withdrawals by investor class")
    fig.tight_layout()
    return fig


def plot_overview(run: Run, institution: str | None = None) -> Figure:
    """One page: deposits, outflows, the reserves of ``institution`` (default: the first),
    its assets' prices, per-class withdrawals, the key figures and the numbered events."""
    institution = institution or run.institution_names[0]
    fig = plt.figure(figsize=(13, 11))
    grid = fig.add_gridspec(3, 2, height_ratios=[1.2, 1, 1])
    ax_dep = fig.add_subplot(grid[0, 0])
    ax_out = fig.add_subplot(grid[0, 1], sharex=ax_dep)
    ax_res = fig.add_subplot(grid[1, 0], sharex=ax_dep)
    ax_price = fig.add_subplot(grid[1, 1], sharex=ax_dep)
    ax_class = fig.add_subplot(grid[2, 0], sharex=ax_dep)
    ax_text = fig.add_subplot(grid[2, 1])
    draw_deposits(ax_dep, run)
    ax_dep.set_title("deposits and unpaid queues", fontsize=10)
    draw_outflows(ax_out, run)
    ax_out.set_title("outflow", fontsize=10)
    draw_reserves(ax_res, run, institution)
    if run.asset_names(institution):
        draw_relative_prices(ax_price, run, institution)
    else:
        draw_class_withdrawals(ax_price, run, value=True)
        ax_price.set_title("value paid out, by class", fontsize=10)
    draw_class_withdrawals(ax_class, run)
    ax_class.set_title("agents that have withdrawn, by class", fontsize=10)
    draw_key_figures(ax_text, run, events=True)
    for ax in (ax_dep, ax_out, ax_res, ax_price, ax_class):
        draw_events(ax, run, labels="numbers")
    fig.suptitle(_title(run), fontsize=12)
    fig.tight_layout()
    return fig


def _fmt_value(value: Any, unit: str) -> str:
    """A compared value in its unit, short."""
    if value is None or pd.isna(value):
        return "n/a"
    value = float(value)
    if unit == "USD":
        return _fmt_usd(value)
    if unit == "share":
        return f"{value:.1%}"
    if unit == "USD per unit":
        return f"${value:,.4g}"
    return f"{value:,.0f}"


def _label(row: pd.Series) -> str:
    what = row["quantity"].replace("_", " ")
    if row["asset"]:
        what = f"{row['asset']} {what}"
    if pd.notna(row["end_date"]):
        when = f"{row['date']:%d %b} – {row['end_date'] - pd.Timedelta(seconds=1):%d %b}"
    else:
        when = f"{row['date']:%d %b %Y}"
    return f"{what} ({row['unit']}), {when}"


def plot_comparison(run: Run, figures: pd.DataFrame, case: str,
                    institution: str | None = None) -> Figure:
    """Simulated vs observed: the institution's deposits with the public figures marked
    (and the observed and simulated halts), each asset's price or holdings with the public
    figures, and every figure's simulated / observed ratio (hollow: the figure's window
    lies partly outside the run). ``figures``: :func:`bankrun.load_public_figures`."""
    table = compare(run, figures, case, institution)
    institution = table.attrs["institution"]
    inst = run.institutions[institution]
    asset_rows = table[table["quantity"].isin(["price", "asset_units"])]
    asset_panels = list(dict.fromkeys(zip(asset_rows["quantity"], asset_rows["asset"])))
    asset_panels = [p for p in asset_panels if p[1] in run.asset_names(institution)]
    n = 2 + len(asset_panels)
    fig = plt.figure(figsize=(11, 3.2 * n))
    grid = fig.add_gridspec(n, 1)
    ax = fig.add_subplot(grid[0])
    c = _colour_of(run, institution)
    ax.plot(inst.index, inst["deposits"] / _BILLION, color=c, label="simulated deposits")
    obs = table[(table["quantity"] == "deposits") & table["simulated"].notna()]
    ax.scatter(obs["date"], obs["observed"].astype(float) / _BILLION, color="black", marker="D",
               zorder=3, label="public figure")
    for r in table[(table["quantity"] == "net_outflow") & (table["unit"] == "USD")
                   & (table["coverage"] > 0)].itertuples():
        ax.axvspan(max(r.date, run.start), min(r.end_date, run.time[-1]), color="grey",
                   alpha=0.08)
    for r in table[table["quantity"] == "halt"].itertuples():
        ax.axvline(r.observed, color="black", ls="--", lw=1.2, label="observed halt")
        if pd.notna(r.simulated):
            ax.axvline(r.simulated, color=c, lw=1.5, label="simulated halt")
    ax.set_ylabel("USD billions")
    ax.set_title(f"{institution}: customer claims (simulated) vs public figures ({case}); "
                 f"shaded: windows of the flow figures", fontsize=10)
    ax.legend(fontsize=7)
    _time_axis(ax)
    for k, (quantity, asset) in enumerate(asset_panels):
        axk = fig.add_subplot(grid[1 + k], sharex=ax)
        a = run.assets[institution]
        if quantity == "price":
            series = a[("price", asset)]
            axk.set_ylabel(f"{asset}, USD per unit")
        else:
            series = sum(a[(q, asset)] for q in ("hot_units", "cold_units", "in_transit_units",
                                                 "illiquid_units"))
            axk.set_ylabel(f"{asset} held, units")
        axk.plot(series.index, series, color=c, label=f"simulated {asset} "
                 f"{'price' if quantity == 'price' else 'holdings'}")
        rows = asset_rows[(asset_rows["quantity"] == quantity) & (asset_rows["asset"] == asset)]
        axk.scatter(rows["date"], rows["observed"].astype(float), color="black", marker="D",
                    zorder=3, label="public figure")
        axk.legend(fontsize=7)
        _time_axis(axk)
    axr = fig.add_subplot(grid[n - 1])
    ratios = table[(table["unit"] != "time") & table["ratio"].notna()].reset_index(drop=True)
    y = np.arange(len(ratios))[::-1]
    full = ratios["coverage"] >= 0.999
    values = ratios["ratio"].astype(float).clip(lower=1e-3)
    axr.scatter(values[full], y[full.to_numpy()], color=c, zorder=3, label="simulated / observed")
    axr.scatter(values[~full], y[~full.to_numpy()], facecolor="white", edgecolor=c, zorder=3,
                label="window partly outside the run")
    axr.axvline(1, color="black", lw=0.8)
    axr.axvspan(0.5, 2, color="green", alpha=0.07)
    axr.set_xscale("log")
    axr.set_yticks(y)
    axr.set_yticklabels([_label(r) for _, r in ratios.iterrows()], fontsize=7)
    axr.set_xlabel("simulated / observed (log scale; shaded: within a factor of 2; "
                   "a zero is drawn at the left edge)")
    if len(ratios):
        lo, hi = float(values.min()), float(values.max())
        axr.set_xlim(min(lo, 0.4) / 1.3, max(hi, 2.5) * 1.3)
        axr.set_ylim(-0.7, len(ratios) - 0.3)
    for yk, (_, r) in zip(y, ratios.iterrows()):
        axr.annotate(_tex_safe(f"sim {_fmt_value(r['simulated'], r['unit'])} vs "
                               f"obs {_fmt_value(r['observed'], r['unit'])}"),
                     (1.01, yk), xycoords=("axes fraction", "data"), va="center", fontsize=7,
                     annotation_clip=False)
    axr.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0, -0.25), ncol=2)
    fig.suptitle(f"{_title(run)}: simulated vs observed ({case})")
    fig.tight_layout()
    return fig


def _tick_label(value: Any) -> str:
    return f"{value:g}" if isinstance(value, (int, float, np.number)) else str(value)


def plot_phase_diagram(sweep: pd.DataFrame, x: str, y: str, metric: str, *,
                       annotate: bool = True, cmap: str = "viridis",
                       ax: Axes | None = None) -> Figure:
    """Heatmap of the replicate mean of ``metric`` over two swept parameters ``x`` and
    ``y`` (complete runs only; other parameters are averaged over too). Each cell shows
    the mean and, in brackets, the number of replicates."""
    runs = pd.DataFrame(sweep)
    if "status" in runs:
        runs = runs[runs["status"] == "complete"]
    grouped = runs.groupby([y, x])[metric].agg(["mean", "count"])
    means = grouped["mean"].unstack(x)
    counts = grouped["count"].unstack(x)
    fig = ax.figure if ax is not None else plt.figure(figsize=(1.2 * means.shape[1] + 3,
                                                            0.8 * means.shape[0] + 2))
    ax = ax or fig.add_subplot()
    image = ax.imshow(means.to_numpy(dtype=float), origin="lower", aspect="auto", cmap=cmap)
    ax.set_xticks(range(means.shape[1]))
    ax.set_xticklabels([_tick_label(v) for v in means.columns])
    ax.set_yticks(range(means.shape[0]))
    ax.set_yticklabels([_tick_label(v) for v in means.index])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    fig.colorbar(image, ax=ax, label=f"{metric} (replicate mean)")
    if annotate:
        values = means.to_numpy(dtype=float)
        finite = values[np.isfinite(values)]
        mid = (finite.min() + finite.max()) / 2 if finite.size else 0
        for i in range(means.shape[0]):
            for j in range(means.shape[1]):
                v = values[i, j]
                if np.isfinite(v):
                    ax.text(j, i, f"{v:.3g}\n({int(counts.iloc[i, j])})", ha="center",
                            va="center", fontsize=7, color="white" if v < mid else "black")
    ax.set_title(f"{metric} over {x} × {y}", fontsize=10)
    fig.tight_layout()
    return fig


def plot_cascade_sizes(data: Any, *, by: str | None = None, bins: int = 20) -> Figure:
    """Distribution of cascade sizes (the share of agents that withdrew in each run):
    histogram and complementary CDF P(size >= s). ``data``: a SweepFrame (its
    :meth:`~bankrun.sweep.SweepFrame.cascade_sizes`), a DataFrame with a ``cascade_size``
    column, or an array of sizes. ``by``: a column to split the runs by (one curve each)."""
    if hasattr(data, "cascade_sizes"):
        frame = pd.DataFrame(data).assign(cascade_size=data.cascade_sizes())
    elif isinstance(data, pd.DataFrame):
        frame = data
    else:
        frame = pd.DataFrame({"cascade_size": np.asarray(data, dtype=float)})
    frame = frame[frame["cascade_size"].notna()]
    groups = [(None, frame)] if by is None else list(frame.groupby(by))
    fig, (hist, ccdf) = plt.subplots(1, 2, figsize=(11, 4))
    edges = np.linspace(0, 1, bins + 1)
    for key, g in groups:
        sizes = np.sort(g["cascade_size"].to_numpy(dtype=float))
        label = None if key is None else f"{by} = {key:g}" if isinstance(key, float) \
            else f"{by} = {key}"
        hist.hist(sizes, bins=edges, histtype="step" if by else "bar", lw=1.5, label=label,
                  alpha=1 if by else 0.8)
        p = 1 - np.arange(len(sizes)) / len(sizes)
        ccdf.step(sizes, p, where="post", label=label)
    hist.set_xlabel("cascade size (share of agents that withdrew)")
    hist.set_ylabel("runs")
    ccdf.set_xlabel("cascade size s")
    ccdf.set_ylabel("P(size ≥ s)")
    ccdf.set_yscale("log")
    if by:
        hist.legend(fontsize=7)
        ccdf.legend(fontsize=7)
    fig.suptitle(f"cascade sizes over {len(frame)} runs")
    fig.tight_layout()
    return fig


# -- calibrations -----------------------------------------------------------------------------

_PHASE_COLOURS = {"initial": "tab:blue", "search": "tab:orange", "uncertainty": "tab:green",
                  "edges": "tab:purple"}


def _phase_colour(phase: str) -> str:
    return _PHASE_COLOURS.get(phase, "tab:grey")


def _loss_scale(ax: Axes, losses: np.ndarray) -> None:
    """Log y when every finite loss is positive, else symmetric log (a loss can be 0)."""
    finite = losses[np.isfinite(losses)]
    if finite.size and (finite > 0).all():
        ax.set_yscale("log")
    elif finite.size:
        positive = finite[finite > 0]
        ax.set_yscale("symlog", linthresh=float(positive.min()) if positive.size else 1e-6)


def _cal_title(cal: Calibration) -> str:
    return f"bankrun calibrate: {cal.name}"


def plot_loss_trace(cal: Calibration) -> Figure:
    """The loss of every evaluation in the order they ran, coloured by phase (initial
    design, search, uncertainty), the best loss so far, the best evaluation and the loss
    threshold of the profile intervals (log scale)."""
    trace = cal.loss_trace()
    fig, ax = plt.subplots(figsize=(10, 4.2))
    for phase in [*PHASES, *sorted(set(trace["phase"]) - set(PHASES))]:
        part = trace[trace["phase"] == phase]
        if len(part):
            ax.scatter(part["evaluation"], part["loss"], s=14, color=_phase_colour(phase),
                       label=f"{phase} ({len(part)})", zorder=2)
    ax.step(trace["evaluation"], trace["best_so_far"], where="post", color="black", lw=1.2,
            label="best so far", zorder=3)
    ax.scatter([cal.best_evaluation], [cal.best_loss], marker="*", s=160, color="gold",
               edgecolor="black", zorder=4, label=f"best: {cal.best_loss:.4g}")
    ax.axhline(cal.loss_threshold, color="grey", ls="--", lw=0.9,
               label=f"interval threshold ({cal.level:.0%})")
    _loss_scale(ax, trace["loss"].to_numpy(dtype=float))
    for b, group in trace.groupby("batch"):
        if int(b) > 0:
            ax.axvline(group["evaluation"].min() - 0.5, color="grey", lw=0.4, alpha=0.5, zorder=0)
    ax.set_xlabel("evaluation (thin lines: batches)")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8, loc="upper right")
    ax.set_title(f"{_cal_title(cal)}: {len(trace)} evaluations ({cal.status}"
                 f"{', ' + cal.stop_reason if cal.stop_reason else ''})", fontsize=10)
    fig.tight_layout()
    return fig


def _scalar_term(rows: pd.DataFrame) -> bool:
    """A moment or a halt: one number, not a series over time."""
    return bool((rows["kind"] == "moment").any() or (rows["what"] == "halt").any())


def _draw_series_fit(ax: Axes, cal: Calibration, term: str, rows: pd.DataFrame,
                     runs: list[Run]) -> None:
    when = rows["time_utc"]
    windowed = rows["end_utc"].notna()
    x = when.where(~windowed, when + (rows["end_utc"] - when) / 2)
    order = np.argsort(x.to_numpy())
    xs = pd.DatetimeIndex(x.to_numpy()[order])
    for k, run in enumerate(runs):
        curve = cal.simulated_curve(run, term)
        if curve is not None:
            ax.plot(curve.index, curve, color="tab:blue", lw=0.8, alpha=0.45,
                    label="best fit's runs" if k == 0 else None)
    ax.fill_between(xs, rows["best_min"].to_numpy()[order], rows["best_max"].to_numpy()[order],
                    color="tab:blue", alpha=0.2, label="best fit: min–max of the replicates")
    ax.plot(xs, rows["best_mean"].to_numpy()[order], color="tab:blue", marker="o", ms=3, lw=1.4,
            label="best fit: mean")
    ax.errorbar(x, rows["observed"], yerr=rows["scale"], fmt="D", ms=4, color="black", lw=0.8,
                capsize=2, label="observed (± scale)", zorder=4)
    if windowed.any():
        ax.hlines(rows["observed"][windowed], when[windowed], rows["end_utc"][windowed],
                  color="black", lw=0.8, alpha=0.6)
    _time_axis(ax)


def _draw_scalar_fit(ax: Axes, rows: pd.DataFrame) -> None:
    labels = [f"{r.what}" + (f"\n{r.time_utc:%d %b %H:%M}" if r.what == "halt"
                            and pd.notna(r.time_utc) else "") for r in rows.itertuples()]
    y = np.arange(len(rows))
    mean = rows["best_mean"].to_numpy(dtype=float)
    ax.barh(y, mean, height=0.5, color="tab:blue", alpha=0.35, label="best fit: mean")
    ax.errorbar(mean, y, xerr=[mean - rows["best_min"].to_numpy(dtype=float),
                               rows["best_max"].to_numpy(dtype=float) - mean],
                fmt="none", ecolor="tab:blue", capsize=4, label="min–max of the replicates")
    ax.errorbar(rows["observed"], y, xerr=rows["scale"], fmt="D", color="black", ms=5,
                capsize=3, label="observed (± scale)", zorder=4)
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlabel("hours from the start" if (rows["what"] == "halt").all() else "value")


def plot_fit(cal: Calibration, term: str | None = None) -> Figure:
    """The best fit against the observed data, one panel per loss term (or only ``term``).
    A series: the observed rows (± their scale; a flow's window as a line), the best
    evaluation's mean and min–max band over the replicates at each row's time, and, where
    the compared series is a per-tick curve (withdrawn_fraction, deposits,
    deposits_fraction, price, asset_units, or a flow without windows, cumulative), that
    curve in each of the best evaluation's runs. A moment or a halt: observed vs the
    simulated mean with its min–max."""
    targets = cal.targets
    terms = list(dict.fromkeys(targets["term"])) if term is None else [term]
    unknown = [t for t in terms if t not in set(targets["term"])]
    if unknown:
        raise KeyError(f"{unknown[0]!r}: no such term; this calibration has "
                       f"{list(dict.fromkeys(targets['term']))}")
    needs_runs = any(not _scalar_term(targets[targets["term"] == t]) for t in terms)
    runs: list[Run] = []
    if needs_runs:
        try:
            runs = cal.best_runs()
        except (OSError, ValueError):  # the run files were moved or deleted: draw the rest
            runs = []
    n = len(terms)
    ncols = 1 if n == 1 else 2
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(6.5 * ncols, 3.8 * nrows), squeeze=False)
    best = cal.best
    for ax, t in zip(axes.flat, terms):
        rows = targets[targets["term"] == t]
        if _scalar_term(rows):
            _draw_scalar_fit(ax, rows)
        else:
            _draw_series_fit(ax, cal, t, rows, runs)
            ax.set_ylabel(str(rows["what"].iloc[0]).replace("_", " "))
        what = str(rows["what"].iloc[0])
        about = [v for v in (what if what != t else "", rows["institution"].iloc[0],
                             rows["asset"].iloc[0] if "asset" in rows else "") if v]
        loss = best.get(f"loss.{t}", np.nan)
        ax.set_title(_tex_safe(f"{t}{' (' + ', '.join(about) + ')' if about else ''}: "
                               f"loss {float(loss):.4g}"), fontsize=9)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.suptitle(f"{_cal_title(cal)}: best fit (evaluation {cal.best_evaluation}, "
                 f"{cal.replicates} replicates) vs observed", fontsize=11)
    fig.tight_layout()
    return fig


def plot_marginals(cal: Calibration, truth: Mapping[str, float] | None = None) -> Figure:
    """One panel per free parameter: the loss of every evaluation against the parameter's
    value (coloured by phase), the best point, its profile interval (shaded; the range of
    the evaluations within the loss threshold), the threshold and the search bounds.
    ``truth``: parameter -> value to mark (the values that made synthetic data)."""
    ev = cal.evaluations
    params = cal.parameters
    n = max(len(params), 1)
    ncols = min(n, 3)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 3.6 * nrows), squeeze=False)
    spec_params = (cal.spec or {}).get("parameters") or {}
    losses = ev["loss"].to_numpy(dtype=float)
    for k, (ax, p) in enumerate(zip(axes.flat, params)):
        for phase in [*PHASES, *sorted(set(ev["phase"]) - set(PHASES))]:
            part = ev[ev["phase"] == phase]
            if len(part):
                ax.scatter(part[p], part["loss"], s=10, alpha=0.8, color=_phase_colour(phase),
                           label=phase)
        if p in cal.intervals.index:
            iv = cal.intervals.loc[p]
            ax.axvspan(iv["low"], iv["high"], color="tab:green", alpha=0.12,
                       label=f"{cal.level:.0%} profile interval")
            for edge, at_bound in ((iv["low"], iv["low_at_bound"]),
                                   (iv["high"], iv["high_at_bound"])):
                ax.axvline(edge, color="tab:green", lw=0.8, ls=":" if at_bound else "-")
            span = iv["search_high"] - iv["search_low"]
            log_x = isinstance(spec_params.get(p), dict) and spec_params[p].get("scale") == "log"
            if log_x and iv["search_low"] > 0:
                ax.set_xscale("log")
                ax.set_xlim(iv["search_low"] / 1.1, iv["search_high"] * 1.1)
            elif np.isfinite(span) and span > 0:
                ax.set_xlim(iv["search_low"] - 0.03 * span, iv["search_high"] + 0.03 * span)
        ax.scatter([cal.best[p]], [cal.best_loss], marker="*", s=150, color="gold",
                   edgecolor="black", zorder=4, label=f"best: {cal.best[p]:.4g}")
        ax.axhline(cal.loss_threshold, color="grey", ls="--", lw=0.9, label="loss threshold")
        if truth and p in truth:
            ax.axvline(float(truth[p]), color="crimson", lw=1.2, label=f"true: {truth[p]:.4g}")
        _loss_scale(ax, losses)
        ax.set_xlabel(p)
        if k % ncols == 0:
            ax.set_ylabel("loss")
        if k == 0:
            ax.legend(fontsize=7)
        elif truth and p in truth:
            ax.legend(handles=ax.lines[-1:], fontsize=7)
    for ax in list(axes.flat)[len(params):]:
        ax.set_visible(False)
    fig.suptitle(f"{_cal_title(cal)}: loss against each parameter "
                 f"(dotted edge: the interval reaches the search bound)", fontsize=11)
    fig.tight_layout()
    return fig
