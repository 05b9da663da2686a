"""AdaptiveSMOTE: k_neighbors shrinks to fit the smallest class of a training part."""

import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import SMOTE
from numpy.testing import assert_array_equal

from radsarc.evaluation import RepeatedCV, evaluate
from radsarc.model import AdaptiveSMOTE


def _data(n_neg=20, n_pos=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_neg + n_pos, 3))
    y = np.r_[np.zeros(n_neg, int), np.ones(n_pos, int)]
    return X, y


def test_shrinks_and_records_k():
    X, y = _data(n_pos=4)
    with pytest.raises(ValueError, match="Expected n_neighbors <= n_samples"):
        SMOTE(k_neighbors=5, random_state=0).fit_resample(X, y)
    sampler = AdaptiveSMOTE(k_neighbors=5, random_state=0)
    Xr, yr = sampler.fit_resample(X, y)
    assert sampler.k_neighbors_ == 3
    assert int(yr.sum()) == 20
    # Exactly what SMOTE does with k_neighbors=3.
    Xs, ys = SMOTE(k_neighbors=3, random_state=0).fit_resample(X, y)
    assert_array_equal(Xr, Xs)
    assert_array_equal(yr, ys)
    # Enough cases: unchanged.
    X, y = _data(n_pos=10)
    big = AdaptiveSMOTE(k_neighbors=5, random_state=0)
    assert_array_equal(
        big.fit_resample(X, y)[0], SMOTE(random_state=0).fit_resample(X, y)[0]
    )
    assert big.k_neighbors_ == 5


def test_one_minority_case_is_refused():
    X, y = _data(n_pos=1)
    with pytest.raises(ValueError, match="needs at least 2 cases of a class"):
        AdaptiveSMOTE().fit_resample(X, y)


def test_smote_preset_runs_on_a_tiny_cohort_and_k_is_recorded():
    # liang2022 (mRMR -> LASSO -> SMOTE(k=3) -> SVM) on 30 cases, 4 positive:
    # a 4-fold training part has 3 positives (k=2), its inner 3-fold parts 2
    # (k=1); imbalanced-learn's SMOTE(k_neighbors=3) failed on both.
    rng = np.random.default_rng(0)
    y = pd.Series(np.r_[np.zeros(26, int), np.ones(4, int)])
    X = pd.DataFrame(rng.normal(size=(30, 25)) + y.to_numpy()[:, None] * 0.8)
    X.columns = [f"f{i}" for i in range(25)]
    res = evaluate(
        "liang2022",
        X,
        y,
        cv=RepeatedCV(n_splits=4, n_repeats=1),
        tuning=False,
        baseline=False,
    )
    assert res.split_metrics["smote_k_neighbors"].tolist() == [2, 2, 2, 2]
    assert res.split_metrics["cutoff_folds"].tolist() == [3, 3, 3, 3]
    assert np.isfinite(res.mean_auc)
