"""Presets against the tumour-volume baseline on the WORC tables and on small cohorts.

Two settings, both with :func:`radsarc.evaluation.evaluate` (tuning of every
preset's grid inside each training part, cut-off on 3-fold out-of-fold
predictions, the volume baseline fitted on the very same splits):

* the full WORC-Lipo (114) and WORC-Desmoid (203) tables on the first
  ``--splits`` of WORC's 100 train/test splits;
* ``--draws`` random subsamples of each table with 50 patients, 40 % positive
  (20 positive, 30 negative), each under 5-fold cross-validation (``--repeats``
  repeats): the small cohorts of issue 12, where a preset's many features and
  few cases meet.

For each data set and preset: the mean test AUC of the preset and of the volume
baseline, the mean ΔAUC (preset minus baseline), and how the verdicts fell
("beats" / "does not beat" / "is worse than"; one per split set). The tables are
printed and written to ``--out`` (``baselines.csv``, ``baselines.md``) with the
wall time and the load average.

Usage::

    python benchmarks/baselines.py --splits 10 --draws 5
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from radsarc.datasets import load_worc_splits, load_worc_table
from radsarc.evaluation import FixedSplits, RepeatedCV, evaluate
from radsarc.presets import list_presets


def subsample(X, y, rng, n=50, positive=0.4):
    n_pos = round(n * positive)
    pos = rng.choice(np.flatnonzero(y.to_numpy() == 1), n_pos, replace=False)
    neg = rng.choice(np.flatnonzero(y.to_numpy() == 0), n - n_pos, replace=False)
    rows = np.sort(np.r_[pos, neg])
    return X.iloc[rows], y.iloc[rows]


def row(setting, dataset, draw, res):
    c = res.comparisons.loc["tumour volume"]
    return {
        "setting": setting,
        "dataset": dataset,
        "draw": draw,
        "preset": res.name,
        "auc": res.mean_auc,
        "volume_auc": c["baseline_auc"],
        "delta_auc": c["delta_auc"],
        "ci_low": c["ci_low"],
        "ci_high": c["ci_high"],
        "verdict": c["verdict"],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=10)
    parser.add_argument("--draws", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--presets", default="")
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--skip-full", action="store_true")
    args = parser.parse_args(argv)
    presets = [p for p in args.presets.split(",") if p] or [
        p for p in list_presets("features") if p != "auto"
    ]
    start = time.perf_counter()
    rows = []
    for ds in ("Lipo", "Desmoid"):
        X, y = load_worc_table(ds)
        if not args.skip_full:
            scheme = FixedSplits(load_worc_splits(ds)[: args.splits], name="WORC")
            for name in presets:
                res = evaluate(
                    name, X, y, cv=scheme, threshold_cv=3, n_jobs=args.n_jobs
                )
                rows.append(row(f"WORC splits 0-{args.splits - 1}", ds, -1, res))
                print(rows[-1], flush=True)
        rng = np.random.default_rng(0)
        for draw in range(args.draws):
            Xs, ys = subsample(X, y, rng)
            cv = RepeatedCV(n_splits=5, n_repeats=args.repeats, random_state=draw)
            for name in presets:
                try:
                    res = evaluate(
                        name, Xs, ys, cv=cv, threshold_cv=3, n_jobs=args.n_jobs
                    )
                except ValueError as exc:  # a preset failing is a result too
                    print(f"{ds} draw {draw} {name} failed: {exc}", flush=True)
                    continue
                rows.append(row("50 patients, 40% positive", ds, draw, res))
                print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    elapsed = time.perf_counter() - start
    summary = (
        table.groupby(["setting", "dataset", "preset"], sort=False)
        .agg(
            auc=("auc", "mean"),
            volume_auc=("volume_auc", "mean"),
            delta_auc=("delta_auc", "mean"),
            beats=("verdict", lambda v: int((v == "beats").sum())),
            does_not_beat=("verdict", lambda v: int((v == "does not beat").sum())),
            worse=("verdict", lambda v: int((v == "is worse than").sum())),
            runs=("verdict", "size"),
        )
        .round(3)
    )
    load = os.getloadavg()
    text = (
        "# Presets vs the tumour-volume baseline\n\n"
        f"```\n{summary.to_string()}\n```\n\n"
        f"Wall time {elapsed:.0f} s; load average {load[0]:.1f}, {load[1]:.1f}, "
        f"{load[2]:.1f} on {os.cpu_count()} cores.\n"
    )
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "baselines.csv", index=False)
    (args.out / "baselines.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
