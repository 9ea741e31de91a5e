"""Command line: ``python3 -m bankrun report RUN.h5 [-o DIR]`` and ``python3 -m bankrun info
RUN.h5`` (with ``PYTHONPATH=analysis`` from a checkout)."""
from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python3 -m bankrun",
                                     description="Read and plot bankrun output files.")
    sub = parser.add_subparsers(dest="command", required=True)
    report = sub.add_parser("report", help="write the standard figures (PNG) and a one-page "
                                           "HTML summary of a run")
    report.add_argument("run", help="a bankrun output file (.h5)")
    report.add_argument("-o", "--output", help="output folder (default: RUN-report next to "
                                               "the file)")
    report.add_argument("--case", help="also compare with the public figures of this case "
                                       "(e.g. ftx, binance)")
    report.add_argument("--observed", help="CSV of public figures (default: the shipped "
                                           "bankrun/data/public-figures.csv)")
    report.add_argument("--dpi", type=int, default=110, help="resolution of the PNGs")
    info = sub.add_parser("info", help="print a run's metadata, summary and events")
    info.add_argument("run", help="a bankrun output file (.h5)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    import matplotlib
    matplotlib.use("Agg")
    from . import open as open_run
    from .errors import BankrunError
    from .report import write_report

    warnings.simplefilter("default")
    try:
        if args.command == "report":
            written = write_report(args.run, args.output, observed=args.observed,
                                   case=args.case, dpi=args.dpi)
            for path in written.values():
                print(path)
        else:
            import pandas as pd
            run = open_run(args.run)
            print(run)
            with pd.option_context("display.width", 160, "display.max_columns", 30):
                print(run.summary.T.to_string())
                print(run.timeline().to_string(index=False))
    except (BankrunError, FileNotFoundError, ValueError, KeyError) as err:
        print(f"bankrun: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
