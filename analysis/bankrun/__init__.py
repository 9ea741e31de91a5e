"""bankrun: read, explore and plot the HDF5 output of the bankrun simulator.

    import bankrun
    run = bankrun.open("out/ftx-2022.h5")
    run.institutions["ftx"].deposits                # a pandas Series indexed by time
    run.summary                                      # one row per institution
    ds = run.to_xarray()                             # dims time, institution, asset, class
    bankrun.plot_flows(run)                          # a matplotlib Figure
    sweep = bankrun.open_sweep("study.sweep/index.h5")   # one row per run
    cal = bankrun.open_calibration("fit.calibration")    # `bankrun calibrate`'s results

Command line: ``python3 -m bankrun report RUN.h5 -o DIR``. See analysis/README.md.
The plotting functions import matplotlib on first use.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .calibration import Calibration, open_calibration
from .errors import (BankrunError, FormatVersionError, InterruptedRunWarning,
                     NotBankrunFileError, RunStatusWarning)
from .observed import CASES_MD, PUBLIC_FIGURES, compare, load_public_figures
from .run import FORMAT_VERSION, Run, open
from .simulate import SimulationError, branch, checkpoint_path, find_binary, repository_root, \
    simulate
from .sweep import SweepFrame, open_sweep, run_grid

if TYPE_CHECKING:
    import xarray

__version__ = "0.1.0"

_LAZY = {name: "plots" for name in (
    "plot_flows", "plot_reserves", "plot_prices", "plot_class_withdrawals", "plot_comparison",
    "plot_phase_diagram", "plot_cascade_sizes", "plot_overview", "plot_loss_trace", "plot_fit",
    "plot_marginals")}
_LAZY["write_report"] = "report"


def open_dataset(path: str | Path) -> "xarray.Dataset":
    """``bankrun.open(path).to_xarray()``: a run as an xarray Dataset."""
    return open(path).to_xarray()


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'bankrun' has no attribute {name!r}")


__all__ = ["open", "open_dataset", "Run", "FORMAT_VERSION", "open_sweep", "SweepFrame",
           "run_grid", "open_calibration", "Calibration", "simulate", "branch",
           "checkpoint_path", "find_binary", "repository_root",
           "SimulationError", "load_public_figures", "compare", "PUBLIC_FIGURES", "CASES_MD",
           "BankrunError", "NotBankrunFileError", "FormatVersionError", "RunStatusWarning",
           "InterruptedRunWarning", "__version__", *_LAZY]
