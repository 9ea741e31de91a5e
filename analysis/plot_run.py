#!/usr/bin/env python3
"""Plot one bankrun run: deposits, hourly outflow and the queue of its institution, with
the news events and the halt marked.

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
        name = list(f["institutions"].keys())[0]
        inst = f["institutions"][name]
        deposits = inst["deposits"][:] / 1e9
        payments = inst["payments"][:] / 1e9
        queue = inst["queue_value"][:] / 1e9
        halted = inst["halted"][:]
        news = f["events/news"][:]
        title = text(f.attrs["scenario_file"])

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 2]})
    top.plot(when, deposits, color="tab:blue", label="deposits (customer claims)")
    top.plot(when, queue, color="tab:orange", label="unpaid withdrawal queue")
    top.set_ylabel("USD billions")
    top.legend(loc="center left")
    bottom.bar(when, payments * 1e3 / hours, width=hours / 24, color="tab:red")
    bottom.set_ylabel("outflow, USD millions / hour")
    for row in news:
        t = start + np.timedelta64(int(row["tick"] * hours * 3600), "s")
        for ax in (top, bottom):
            ax.axvline(t, color="grey", lw=0.8, ls="--")
        top.annotate(text(row["label"]), (t, top.get_ylim()[1]), rotation=90, va="top",
                     ha="right", fontsize=7, color="grey")
    if halted.any():
        t = when[np.argmax(halted > 0)]
        for ax in (top, bottom):
            ax.axvline(t, color="black", lw=1.5)
        top.annotate("withdrawals halted", (t, deposits.max() * 0.6), ha="left", fontsize=9)
    bottom.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    fig.suptitle(f"bankrun: {title}")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
