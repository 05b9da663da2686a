"""FixedSplits (and RepeatedCV) are scikit-learn splitters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score

from radsarc.datasets import load_worc_splits, load_worc_table
from radsarc.evaluation import FixedSplits, RepeatedCV


@pytest.fixture(scope="module")
def lipo():
    X, y = load_worc_table("Lipo")
    return X, y, load_worc_splits("Lipo")[:3]


def test_fixed_splits_in_cross_val_score_by_case_id(lipo):
    X, y, splits = lipo
    cv = FixedSplits(splits, name="WORC Lipo 0-2")
    assert cv.get_n_splits() == 3
    assert cv.get_n_splits(X, y) == 3
    assert repr(cv) == "FixedSplits(n_splits=3, name='WORC Lipo 0-2')"
    model = LogisticRegression(C=0.01, max_iter=2000)
    scores = cross_val_score(model, X, y, cv=cv, scoring="roc_auc")
    # The same fits by hand, from the ids.
    expected = []
    for train_ids, test_ids in splits:
        train_ids = [i for i in train_ids if i in X.index]
        test_ids = [i for i in test_ids if i in X.index]
        fitted = LogisticRegression(C=0.01, max_iter=2000).fit(
            X.loc[train_ids], y.loc[train_ids]
        )
        from sklearn.metrics import roc_auc_score

        expected.append(
            roc_auc_score(y.loc[test_ids], fitted.predict_proba(X.loc[test_ids])[:, 1])
        )
    assert_allclose(scores, expected, rtol=1e-12)
    # The splits yield positions of X's rows, whatever the row order.
    shuffled = X.sample(frac=1.0, random_state=0)
    train, test = cv.split(shuffled)[0]
    assert set(shuffled.index[test]) == set(splits[0][1]) & set(X.index)
    assert not set(shuffled.index[train]) & set(shuffled.index[test])


def test_fixed_splits_in_grid_search_and_on_arrays():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 3))
    y = np.array([0, 1] * 6)
    cv = FixedSplits([(range(0, 8), range(8, 12)), (range(4, 12), range(0, 4))])
    # An array X: the ids are row positions.
    (train, test), _ = cv.split(X)
    assert_array_equal(train, np.arange(8))
    assert_array_equal(test, np.arange(8, 12))
    search = GridSearchCV(
        LogisticRegression(), {"C": [0.1, 1.0]}, cv=cv, scoring="roc_auc"
    ).fit(X, y)
    assert search.n_splits_ == 2
    frame = pd.DataFrame(X, index=[f"c{i}" for i in range(12)])
    with pytest.raises(ValueError, match="Split 0 has no training cases in X"):
        cv.split(frame)


def test_repeated_cv_counts_its_splits():
    cv = RepeatedCV(n_splits=4, n_repeats=3, random_state=1)
    y = np.array([0, 1] * 10)
    assert cv.get_n_splits() == 12 == len(cv.split(np.zeros((20, 1)), y))
