"""Fit a published preset on one WORC-Lipo split and print its test AUC.

python examples/presets_worc_lipo.py [preset]   (default: liang2022)
"""

from __future__ import annotations

import sys

from sklearn.metrics import roc_auc_score

from radsarc.datasets import WORC_PUBLISHED_RESULTS, load_worc_splits, load_worc_table
from radsarc.presets import get_preset, make_preset

name = sys.argv[1] if len(sys.argv) > 1 else "liang2022"
X, y = load_worc_table("Lipo")
train, test = load_worc_splits("Lipo")[0]

model = make_preset(name).fit(X.loc[train], y.loc[train])
auc = roc_auc_score(y.loc[test], model.predict_proba(X.loc[test])[:, 1])

preset = get_preset(name)
print(f"{preset.name}: {preset.citation}")
print(f"  paper (its own cohort, {preset.task}): {preset.reported_metrics}")
print(
    f"  WORC-Lipo split 0: test AUC {auc:.3f} on {len(test)} patients "
    f"(WORC's mean over 100 splits: {WORC_PUBLISHED_RESULTS['Lipo']['auc']})"
)
