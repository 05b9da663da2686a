"""WORC's protocol on the WORC sarcoma tables: every tabular preset, nested tuning.

For WORC-Lipo and WORC-Desmoid (the radMLBench feature tables bundled with
radsarc) and every preset of :func:`radsarc.presets.list_presets`, the preset is
evaluated on WORC's own random 80/20 train/test splits (the first ``--splits``
of 100) with :func:`radsarc.evaluation.evaluate`. Inside each training part the
preset's hyper-parameter grid is tuned by 3-fold grid search and the cut-off is
chosen on the out-of-fold predictions of the selected candidate in those same
3 folds (as ``radsarc benchmark``: ``--threshold-cv 3``); the test part is
scored once. Splits run in parallel (``--n-jobs``, default 2). The mean test
AUC (95% CI, Nadeau-Bengio corrected) is shown beside WORC's published AUC on the
same patients and splits (Lipo 0.83, Desmoid 0.82), with the wall time, the
seconds per split of every preset and the load average of the machine.

The presets are the tabular ones (case-level radiomics tables); peeken2021
(delta-radiomic features of two timepoints) and blackledge2019 (one row per
voxel) need other inputs and are left out unless named with ``--presets``.

Usage::

    python benchmarks/worc_protocol.py --splits 5
    python benchmarks/worc_protocol.py            # full protocol, 100 splits

Writes ``worc_protocol.csv``, ``worc_protocol.md`` and every split's test AUC
(``worc_protocol_splits.csv``) to ``--out``
(default ``benchmarks/results``).
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import time
from pathlib import Path

import pandas as pd

from radsarc import __version__
from radsarc.datasets import (
    WORC_PUBLISHED_RESULTS,
    load_worc_splits,
    load_worc_table,
)
from radsarc.evaluation import FixedSplits, evaluate
from radsarc.presets import get_preset, list_presets

DATASETS = ("Lipo", "Desmoid")


#: Presets that take a case-level radiomics table such as WORC's.
def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--splits",
        type=int,
        default=100,
        help="how many of WORC's 100 train/test splits (default: 100, the protocol)",
    )
    parser.add_argument(
        "--n-jobs", type=int, default=2, help="splits run in parallel (default: 2)"
    )
    parser.add_argument(
        "--threshold-cv",
        type=int,
        default=3,
        help="folds of each training part whose out-of-fold predictions choose the "
        "cut-off (default: 3, the tuning folds, whose predictions are reused)",
    )
    parser.add_argument(
        "--presets",
        default="",
        help="comma-separated presets (default: the tabular presets)",
    )
    parser.add_argument(
        "--datasets",
        default=",".join(DATASETS),
        help="comma-separated among Lipo, Desmoid (default: both)",
    )
    parser.add_argument(
        "--no-tuning",
        action="store_true",
        help="use each preset's defaults instead of tuning its grid per split",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent / "results",
        help="folder for worc_protocol.csv and worc_protocol.md",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.splits <= 100:
        parser.error(f"--splits must be between 1 and 100; got {args.splits}")
    return args


def run(args: argparse.Namespace) -> pd.DataFrame:
    presets = [p.strip() for p in args.presets.split(",") if p.strip()]
    presets = presets or list_presets("features")
    for name in presets:
        get_preset(name)  # fail on a misspelled name before any work
    datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    rows = []
    per_split: list[dict] = []
    for dataset in datasets:
        X, y = load_worc_table(dataset)
        splits = load_worc_splits(dataset)[: args.splits]
        scheme = FixedSplits(splits, name=f"WORC splits 0-{args.splits - 1}")
        published = WORC_PUBLISHED_RESULTS[dataset]["auc"]
        for name in presets:
            grid = None if args.no_tuning else get_preset(name).param_grid
            start = time.perf_counter()
            result = evaluate(
                name,
                X,
                y,
                cv=scheme,
                param_grid=grid or None,
                threshold_cv=args.threshold_cv,
                random_state=args.seed,
                n_jobs=args.n_jobs,
            )
            seconds = time.perf_counter() - start
            per_split.extend(
                {"dataset": f"WORC-{dataset}", "preset": name, "split": i, "auc": a}
                for i, a in result.split_metrics["auc"].items()
            )
            auc = result.summary.loc["auc"]
            rows.append(
                {
                    "dataset": f"WORC-{dataset}",
                    "preset": name,
                    "n_splits": int(auc["n_splits"]),
                    "auc": float(auc["mean"]),
                    "ci_low": float(auc["ci_low"]),
                    "ci_high": float(auc["ci_high"]),
                    "worc_published_auc": published,
                    "difference": float(auc["mean"]) - published,
                    "tuned": bool(grid),
                    "seconds": seconds,
                    "seconds_per_split": seconds / len(splits),
                    "load_average": os.getloadavg()[0],
                }
            )
            print(
                f"  WORC-{dataset:<8} {name:<18} AUC {auc['mean']:.3f} "
                f"({auc['ci_low']:.2f}-{auc['ci_high']:.2f})  {seconds:6.1f} s "
                f"({seconds / len(splits):.2f} s/split, load {os.getloadavg()[0]:.1f})",
                file=sys.stderr,
                flush=True,
            )
    table = pd.DataFrame(rows)
    table.attrs["per_split"] = pd.DataFrame(per_split)
    return table


def to_markdown(table: pd.DataFrame, args, wall: float, load: tuple) -> str:
    lines = [
        f"WORC protocol, {args.splits} of WORC's 100 splits, "
        + ("preset defaults" if args.no_tuning else "hyper-parameters tuned per split")
        + f", cut-off on {args.threshold_cv}-fold out-of-fold predictions"
        + f"; radsarc {__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, n_jobs={args.n_jobs}, wall time {wall:.0f} s "
        f"(1-min load average {load[0]:.1f} at the start, {load[1]:.1f} at the end).",
        "",
        "| dataset | preset | mean test AUC (95% CI) | WORC published | "
        "difference | time (s) | s/split |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in table.itertuples():
        ci = (
            f"({row.ci_low:.2f}-{row.ci_high:.2f})"
            if row.n_splits > 1 and pd.notna(row.ci_low)
            else ""
        )
        lines.append(
            f"| {row.dataset} | {row.preset} | {row.auc:.3f} {ci} | "
            f"{row.worc_published_auc:.2f} | {row.difference:+.3f} | "
            f"{row.seconds:.0f} | {row.seconds_per_split:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    logging.basicConfig(level=logging.WARNING)
    args = parse_args(argv)
    print(
        f"Running every preset on WORC-Lipo and WORC-Desmoid, {args.splits} split(s)"
        "...",
        file=sys.stderr,
    )
    load_start = os.getloadavg()[0]
    start = time.perf_counter()
    table = run(args)
    wall = time.perf_counter() - start
    markdown = to_markdown(table, args, wall, (load_start, os.getloadavg()[0]))
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "worc_protocol.csv", index=False, float_format="%.4f")
    # Every split's test AUC, e.g. to compare two runs on the same splits.
    table.attrs["per_split"].to_csv(
        args.out / "worc_protocol_splits.csv", index=False, float_format="%.4f"
    )
    (args.out / "worc_protocol.md").write_text(markdown, encoding="utf-8")
    print(markdown)
    print(f"Wrote {args.out / 'worc_protocol.csv'} and {args.out / 'worc_protocol.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
