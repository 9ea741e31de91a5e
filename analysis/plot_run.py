#!/usr/bin/env python3
"""Plot one bankrun run: the deposits, hourly outflow and queue of every institution, the
funds in self-custody, with the news events (and their target) and the halts marked.

usage: /usr/bin/python3 analysis/plot_run.py RUN.h5 OUT.png
"""
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def main(path, out):
    with h5py.File(path, "r") as f:
        start = np.datetime64(text(f.attrs["start_utc"]).rstrip("Z"))
        hours = float(f.attrs["tick_hours"])
        ticks = f["time/tick"][:]
        # The value of tick t is observed at its end: start + (t + 1) h.
        when = start + ((ticks + 1) * hours * 3600).astype("timedelta64[s]")
        names = text(f.attrs["institution_names"]).split(",")  # scenario order
        series = {}
        for name in names:
            inst = f["institutions"][name]
            series[name] = {k: inst[k][:] / 1e9 for k in ("deposits", "payments", "queue_value")}
            series[name]["halted"] = inst["halted"][:]
        self_custody = f["population/self_custody"][:] / 1e9
        news = f["events/news"][:]
        title = text(f.attrs["scenario_file"])

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 2]})
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    several = len(names) > 1
    for k, name in enumerate(names):
        s, c = series[name], colours[k % len(colours)]
        label = f"{name}: " if several else ""
        top.plot(when, s["deposits"], color=c, label=f"{label}deposits (customer claims)")
        top.plot(when, s["queue_value"], color=c, ls="--", label=f"{label}unpaid queue")
        if several:
            bottom.step(when, s["payments"] * 1e3 / hours, where="pre", color=c, label=name)
        else:
            bottom.bar(when, s["payments"] * 1e3 / hours, width=hours / 24, color="tab:red")
        if s["halted"].any():
            t = when[np.argmax(s["halted"] > 0)]
            for ax in (top, bottom):
                ax.axvline(t, color=c if several else "black", lw=1.5)
            top.annotate(f"{name} halted" if several else "withdrawals halted",
                         (t, s["deposits"].max() * 0.6), ha="left", fontsize=9)
    if self_custody.any():
        top.plot(when, self_custody, color="grey", lw=1, label="self-custody")
    top.set_ylabel("USD billions")
    top.legend(loc="center left", fontsize=8)
    bottom.set_ylabel("outflow, USD millions / hour")
    if several:
        bottom.legend(loc="upper right", fontsize=8)
    for row in news:
        t = start + np.timedelta64(int(row["tick"] * hours * 3600), "s")
        for ax in (top, bottom):
            ax.axvline(t, color="grey", lw=0.8, ls="--")
        label = text(row["label"])
        target = text(row["institution"]) if "institution" in row.dtype.names else ""
        if target and several:
            label += f" [{target}]"
        top.annotate(label, (t, top.get_ylim()[1]), rotation=90, va="top", ha="right",
                     fontsize=7, color="grey")
    bottom.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    fig.suptitle(f"bankrun: {title}")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
