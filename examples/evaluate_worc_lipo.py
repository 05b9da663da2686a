"""Evaluate one preset on WORC-Lipo with WORC's own splits and write the report.

Runs in well under a minute: 10 of WORC's 100 splits, one fast preset, its grid
tuned inside every training part, and the tumour-volume baseline on the same
splits.
"""

import tempfile
import time
from pathlib import Path

from radsarc.datasets import WORC_PUBLISHED_RESULTS, load_worc_splits, load_worc_table
from radsarc.evaluation import FixedSplits, evaluate
from radsarc.report import write_report

X, y = load_worc_table("Lipo")
splits = FixedSplits(load_worc_splits("Lipo")[:10], name="WORC splits 0-9")

start = time.perf_counter()
result = evaluate("peeken2019", X, y, cv=splits, threshold_cv=3, n_jobs=2)
print(result.summary[["mean", "ci_low", "ci_high", "ci_method"]].round(3))
print(f"WORC published AUC on all 100 splits: {WORC_PUBLISHED_RESULTS['Lipo']['auc']}")
print("Cut-off per split:", result.split_metrics["threshold"].round(3).tolist())
volume = result.baselines["tumour volume"]
print(f"Tumour volume alone, same splits: mean AUC {volume.mean_auc:.3f}")
print(result.comparisons.loc["tumour volume", "sentence"])

out = Path(tempfile.mkdtemp(prefix="radsarc-lipo-"))
path = write_report(
    {"WORC-Lipo": [result]},
    out,
    reference={"WORC-Lipo": WORC_PUBLISHED_RESULTS["Lipo"]},
    command="python examples/evaluate_worc_lipo.py",
)
print(f"Report: {path} ({time.perf_counter() - start:.0f} s)")
