"""MRMRSelector against hand-checked cases and mrmr_selection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.feature_selection import f_classif

from radsarc.datasets import load_worc_table
from radsarc.feature_selection import MRMRSelector

mrmr = pytest.importorskip("mrmr")


def _reference(X, y, k):
    return mrmr.mrmr_classif(
        X=pd.DataFrame(X), y=pd.Series(y), K=k, show_progress=False, n_jobs=1
    )


def test_hand_checked_fcq():
    # x0 is the most relevant; x1 a noisy copy of x0 (F 16.2, |r| 0.82); x2 is
    # less related to x0 (|r| 0.75) but also less relevant (F 8.6). The FCQ
    # quotient favours relevance: x1 (16.2 / 0.82 = 19.7) beats x2 (11.5).
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    x0 = np.array([0.0, 0.1, 0.2, 0.3, 1.0, 1.1, 1.2, 1.3])
    x1 = x0 + np.array([0.4, -0.3, 0.3, -0.2, 0.3, -0.4, 0.2, -0.3])
    x2 = np.array([1.0, 0.0, 0.0, 1.0, 2.2, 1.2, 1.2, 2.2])
    X = np.column_stack([x0, x1, x2])
    selector = MRMRSelector(n_features_to_select=3).fit(X, y)
    relevance = f_classif(X, y)[0]
    assert_allclose(relevance, [120.0, 16.2, 8.64], rtol=1e-10)
    assert_allclose(selector.relevance_, relevance, rtol=1e-12)
    r01 = abs(np.corrcoef(x0, x1)[0, 1])
    r02 = abs(np.corrcoef(x0, x2)[0, 1])
    r12 = abs(np.corrcoef(x1, x2)[0, 1])
    assert_array_equal(selector.selection_order_, [0, 1, 2])
    expected = [120.0, 16.2 / r01, 8.64 / ((r02 + r12) / 2)]
    assert_allclose(selector.scores_, expected, rtol=1e-10)
    assert relevance[1] / r01 > relevance[2] / r02
    assert list(selector.selection_order_) == _reference(X, y, 3)


def test_matches_mrmr_selection_small():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 60)
    base = rng.normal(size=(60, 5))
    X = np.column_stack(
        [base, base[:, :3] + 0.3 * rng.normal(size=(60, 3)), y + rng.normal(size=60)]
    )
    for k in (1, 3, 6, 9):
        ours = MRMRSelector(n_features_to_select=k).fit(X, y).selection_order_
        assert list(ours) == _reference(X, y, k)


def test_matches_mrmr_selection_with_nan_and_constant():
    rng = np.random.default_rng(2)
    y = np.repeat([0, 1], 25)
    X = rng.normal(size=(50, 8)) + 0.5 * y[:, None] * rng.normal(size=8)
    X[:, 3] = 7.0  # constant: relevance 0, never selected
    X[rng.random((50, 8)) < 0.1] = np.nan
    X[:, 3] = 7.0
    selector = MRMRSelector(n_features_to_select=5).fit(X, y)
    assert selector.relevance_[3] == 0
    assert 3 not in selector.selection_order_
    assert list(selector.selection_order_) == _reference(X, y, 5)


@pytest.mark.parametrize("k", [5, 15])
def test_matches_mrmr_selection_worc_desmoid(k):
    X, y = load_worc_table("Desmoid")
    selector = MRMRSelector(n_features_to_select=k).fit(X, y)
    ours = list(
        selector.get_feature_names_out()[
            np.argsort(np.argsort(selector.selection_order_))
        ]
    )
    ordered = list(X.columns[selector.selection_order_])
    assert sorted(ours) == sorted(ordered)
    assert ordered == _reference(X, y, k)


def test_mutual_information_scheme():
    rng = np.random.default_rng(3)
    y = np.repeat([0, 1], 50)
    informative = y + rng.normal(scale=0.5, size=100)
    X = np.column_stack(
        [rng.normal(size=100), informative, informative.copy(), y * 2.0 - 1.0]
    )
    selector = MRMRSelector(
        n_features_to_select=2, relevance="mi", redundancy="mi", n_bins=4
    ).fit(X, y)
    # the binary copy of y carries log(2) nats about y
    assert_allclose(selector.relevance_[3], np.log(2), rtol=1e-12)
    # the exact duplicate of feature 1 is never picked with it
    assert set(selector.selection_order_) != {1, 2}
    difference = MRMRSelector(
        n_features_to_select=2, relevance="mi", redundancy="mi", scheme="difference"
    ).fit(X, y)
    assert difference.selection_order_[0] == 3


def test_fewer_relevant_features_warns():
    y = np.array([0, 0, 1, 1])
    X = np.array([[1.0, 0.0], [1.0, 0.1], [1.0, 0.9], [1.0, 1.0]])
    with pytest.warns(UserWarning, match=r"only 1 of 2 features have a relevance"):
        selector = MRMRSelector(n_features_to_select=2).fit(X, y)
    assert_array_equal(selector.get_support(), [False, True])


def test_bad_parameters():
    X, y = np.ones((4, 2)), np.array([0, 0, 1, 1])
    with pytest.raises(ValueError, match=r"'n_features_to_select' parameter"):
        MRMRSelector(n_features_to_select=0).fit(X, y)
    with pytest.raises(ValueError, match=r"'relevance' parameter .* Got 'ks'"):
        MRMRSelector(relevance="ks").fit(X, y)
    with pytest.raises(ValueError, match=r"Unknown label type"):
        MRMRSelector().fit(X, np.array([0.1, 0.2, 0.3, 0.4]))
