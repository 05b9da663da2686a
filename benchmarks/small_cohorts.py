"""Small cohorts: auto, every tabular preset and the volume baseline on 50 patients.

A stress test of the situation the ``auto`` preset is built for: a cohort of 50
patients, 40 % of them positive, with about a thousand features. For each of
WORC-Lipo and WORC-Desmoid (the bundled radMLBench tables), ``--draws`` random
sub-cohorts of ``--n-patients`` patients with ``--positive`` positives are drawn
(without replacement, seeded). Each sub-cohort is evaluated by
``--repeats`` x 5-fold stratified cross-validation with
:func:`radsarc.evaluation.evaluate`: every tabular preset with its grid tuned by
3-fold grid search inside each training part, the ``auto`` preset (which
cross-validates its library inside each training part), and the tumour-volume
baseline (:class:`radsarc.model.VolumeBaseline`), all on the very same splits.
The table gives, per data set and model, the mean test AUC over the draws, its
standard deviation over the draws, the mean difference to the volume baseline
and how often (fraction of draws) the model is at least as good as the volume.

``--null`` instead measures the shuffled-label behaviour of ``auto``: the labels
of the full tables are permuted (``--draws`` permutations) and ``auto`` is
evaluated by 5-fold cross-validation; its mean AUC should be 0.5.

Usage::

    python benchmarks/small_cohorts.py --draws 3        # quick look
    python benchmarks/small_cohorts.py                  # 20 draws per data set
    python benchmarks/small_cohorts.py --null --draws 5 # shuffled labels

Writes ``small_cohorts.csv`` (or ``small_cohorts_null.csv``) and ``.md`` to
``--out`` (default ``benchmarks/results``).
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from radsarc import __version__
from radsarc.datasets import load_worc_table
from radsarc.evaluation import RepeatedCV, evaluate
from radsarc.model import VolumeBaseline
from radsarc.presets import get_preset, list_presets

DATASETS = ("Lipo", "Desmoid")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=20, help="sub-cohorts per table")
    parser.add_argument("--n-patients", type=int, default=50)
    parser.add_argument(
        "--positive", type=float, default=0.4, help="fraction of positive patients"
    )
    parser.add_argument(
        "--repeats", type=int, default=1, help="repeats of the 5-fold CV per draw"
    )
    parser.add_argument(
        "--presets",
        default="",
        help="comma-separated presets (default: every tabular preset, auto included)",
    )
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--n-jobs", type=int, default=2, help="splits in parallel")
    parser.add_argument(
        "--null", action="store_true", help="shuffled labels on the full tables"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent / "results"
    )
    return parser.parse_args(argv)


def draw_cohort(X, y, n_patients, positive, rng):
    """``n_patients`` rows of which ``round(positive * n_patients)`` positive."""
    n_pos = round(positive * n_patients)
    pos = rng.choice(np.flatnonzero(y.to_numpy() == 1), n_pos, replace=False)
    neg = rng.choice(
        np.flatnonzero(y.to_numpy() == 0), n_patients - n_pos, replace=False
    )
    rows = np.sort(np.r_[pos, neg])
    return X.iloc[rows], y.iloc[rows]


def _auc(model, X, y, scheme, args, grid=None) -> float:
    result = evaluate(
        model,
        X,
        y,
        cv=scheme,
        param_grid=grid or None,
        cutoff=None,
        random_state=args.seed,
        n_jobs=args.n_jobs,
    )
    return result.mean_auc


def run_small(args) -> pd.DataFrame:
    presets = [p.strip() for p in args.presets.split(",") if p.strip()]
    presets = presets or list_presets("features")
    rows = []
    for dataset in [d.strip() for d in args.datasets.split(",") if d.strip()]:
        X, y = load_worc_table(dataset)
        rng = np.random.default_rng(args.seed)
        for draw in range(args.draws):
            Xs, ys = draw_cohort(X, y, args.n_patients, args.positive, rng)
            scheme = RepeatedCV(
                n_splits=5, n_repeats=args.repeats, random_state=args.seed + draw
            )
            for name in ["volume", *presets]:
                start = time.perf_counter()
                if name == "volume":
                    auc = _auc(VolumeBaseline(), Xs, ys, scheme, args)
                else:
                    grid = get_preset(name).param_grid
                    auc = _auc(name, Xs, ys, scheme, args, grid)
                rows.append(
                    {
                        "dataset": f"WORC-{dataset}",
                        "draw": draw,
                        "model": name,
                        "auc": auc,
                        "seconds": time.perf_counter() - start,
                    }
                )
            last = pd.DataFrame(rows[-(len(presets) + 1) :]).set_index("model")["auc"]
            print(
                f"  WORC-{dataset} draw {draw}: "
                + ", ".join(f"{m} {a:.3f}" for m, a in last.items())
                + f" (load {os.getloadavg()[0]:.1f})",
                file=sys.stderr,
                flush=True,
            )
    return pd.DataFrame(rows)


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    wide = table.pivot_table(index=["dataset", "draw"], columns="model", values="auc")
    out = []
    for dataset, block in wide.groupby(level="dataset"):
        for model in block.columns:
            diff = block[model] - block["volume"]
            out.append(
                {
                    "dataset": dataset,
                    "model": model,
                    "mean_auc": block[model].mean(),
                    "sd_over_draws": block[model].std(ddof=1),
                    "minus_volume": diff.mean(),
                    "at_least_volume": float((diff >= 0).mean()),
                    "seconds": table[
                        (table.dataset == dataset) & (table.model == model)
                    ]["seconds"].sum(),
                }
            )
    return pd.DataFrame(out)


def run_null(args) -> pd.DataFrame:
    rows = []
    for dataset in [d.strip() for d in args.datasets.split(",") if d.strip()]:
        X, y = load_worc_table(dataset)
        rng = np.random.default_rng(args.seed)
        for draw in range(args.draws):
            shuffled = pd.Series(rng.permutation(y.to_numpy()), index=y.index)
            scheme = RepeatedCV(n_splits=5, n_repeats=1, random_state=args.seed + draw)
            start = time.perf_counter()
            auc = _auc("auto", X, shuffled, scheme, args)
            rows.append(
                {
                    "dataset": f"WORC-{dataset}",
                    "permutation": draw,
                    "auc": auc,
                    "seconds": time.perf_counter() - start,
                }
            )
            print(
                f"  WORC-{dataset} permutation {draw}: auto AUC {auc:.3f} "
                f"(load {os.getloadavg()[0]:.1f})",
                file=sys.stderr,
                flush=True,
            )
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    logging.basicConfig(level=logging.ERROR)
    warnings.filterwarnings("ignore", category=UserWarning)
    args = parse_args(argv)
    load = os.getloadavg()[0]
    start = time.perf_counter()
    header = (
        f"radsarc {__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, n_jobs={args.n_jobs}"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    if args.null:
        table = run_null(args)
        wall = time.perf_counter() - start
        summary = table.groupby("dataset")["auc"].agg(["mean", "std", "min", "max"])
        lines = [
            f"Shuffled labels, auto, {args.draws} permutations x 5-fold CV; {header}; "
            f"wall time {wall:.0f} s (1-min load average {load:.1f} at the start, "
            f"{os.getloadavg()[0]:.1f} at the end).",
            "",
            "| dataset | mean AUC | SD over permutations | min | max |",
            "|---|---|---|---|---|",
            *(
                f"| {ds} | {r['mean']:.3f} | {r['std']:.3f} | {r['min']:.3f} | "
                f"{r['max']:.3f} |"
                for ds, r in summary.iterrows()
            ),
        ]
        table.to_csv(args.out / "small_cohorts_null.csv", index=False)
        markdown = "\n".join(lines) + "\n"
        (args.out / "small_cohorts_null.md").write_text(markdown, encoding="utf-8")
        print(markdown)
        return 0
    table = run_small(args)
    wall = time.perf_counter() - start
    summary = summarise(table)
    lines = [
        f"Small cohorts: {args.draws} draws of {args.n_patients} patients "
        f"({args.positive:.0%} positive) per table, {args.repeats} x 5-fold CV, "
        f"presets tuned inside each training part; {header}; wall time {wall:.0f} s "
        f"(1-min load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at "
        "the end).",
        "",
        "| dataset | model | mean AUC | SD over draws | minus volume | "
        "draws >= volume | time (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in summary.sort_values(
        ["dataset", "mean_auc"], ascending=[True, False]
    ).itertuples():
        lines.append(
            f"| {r.dataset} | {r.model} | {r.mean_auc:.3f} | {r.sd_over_draws:.3f} | "
            f"{r.minus_volume:+.3f} | {r.at_least_volume:.0%} | {r.seconds:.0f} |"
        )
    markdown = "\n".join(lines) + "\n"
    table.to_csv(args.out / "small_cohorts.csv", index=False, float_format="%.4f")
    (args.out / "small_cohorts.md").write_text(markdown, encoding="utf-8")
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
