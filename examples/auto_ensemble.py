"""The ``auto`` preset on one WORC-Desmoid split: the library, the members, the AUC.

python examples/auto_ensemble.py

Inside ``fit``, a 5-fold split of the training part scores every candidate of the
library (every tabular preset at every point of its grid, tumour volume, shape,
k-best, L1 / elastic-net and an mRMR forest); the ensemble is the mean of the
best candidates, and its members are refitted on the whole training part. The
test part is only predicted. Takes about 5-10 s.
"""

from __future__ import annotations

from sklearn.metrics import roc_auc_score

from radsarc.datasets import load_worc_splits, load_worc_table
from radsarc.model import VolumeBaseline
from radsarc.presets import make_preset

X, y = load_worc_table("Desmoid")
train, test = load_worc_splits("Desmoid")[0]

model = make_preset("auto").fit(X.loc[train], y.loc[train])
auto = model[-1]  # the AutoEnsemble inside the one-step pipeline
print(f"{len(auto.cv_results_)} candidates scored by 5-fold CV of {len(train)} cases")
print("best inner out-of-fold AUCs:")
for name, auc in auto.candidate_scores_.head(6).items():
    print(f"  {name:<48} {auc:.3f}")
print("ensemble members (weight):")
for name, weight in zip(auto.members_, auto.weights_, strict=True):
    print(f"  {name:<48} {weight:.2f}")

test_auc = roc_auc_score(y.loc[test], model.predict_proba(X.loc[test])[:, 1])
volume = VolumeBaseline().fit(X.loc[train], y.loc[train])
volume_auc = roc_auc_score(y.loc[test], volume.predict_proba(X.loc[test])[:, 1])
print(
    f"WORC-Desmoid split 0, {len(test)} test patients: auto AUC {test_auc:.3f}, "
    f"tumour volume alone {volume_auc:.3f}"
)
