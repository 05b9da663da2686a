"""Every tabular preset fits and predicts on features extracted from images.

The synthetic cohort carries a known high-grade signature (docs/synthetic.md), so
each preset must rank held-out cases better than chance.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from radsarc.datasets import make_synthetic_cohort
from radsarc.features import extract_features
from radsarc.presets import list_presets, make_preset

TABULAR = [
    "gitto2023",
    "liang2022",
    "malinauskaite2020",
    "peeken2019",
    "vallieres2015",
    "xu2020",
]


@pytest.fixture(scope="module")
def synthetic_features(tmp_path_factory):
    cohort = make_synthetic_cohort(
        32,
        tmp_path_factory.mktemp("presets"),
        random_state=21,
        positive_fraction=0.5,
        shape=(10, 56, 56),
    )
    X = extract_features(
        cohort,
        {"featureClass": {"firstorder": None, "shape": None, "glcm": None}},
        n_jobs=2,
    )
    y = cohort.labels.loc[X.index].astype(int)
    return X, y


@pytest.mark.parametrize("name", TABULAR)
def test_preset_fits_and_predicts_on_image_features(name, synthetic_features):
    assert name in list_presets()
    X, y = synthetic_features
    # Alternate cases into train and test, stratified by label.
    order = np.argsort(y.to_numpy(), kind="stable")
    test_idx = order[::3]
    train_idx = np.setdiff1d(np.arange(len(y)), test_idx)
    model = make_preset(name).fit(X.iloc[train_idx], y.iloc[train_idx])
    proba = model.predict_proba(X.iloc[test_idx])[:, 1]
    assert proba.shape == (len(test_idx),)
    assert np.all((proba >= 0) & (proba <= 1))
    assert set(model.predict(X.iloc[test_idx])) <= {0, 1}
    auc = roc_auc_score(y.iloc[test_idx], proba)
    assert auc >= 0.7, f"{name}: held-out AUC {auc:.2f} on the synthetic signature"
