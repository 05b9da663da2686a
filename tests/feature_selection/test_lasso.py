"""LassoSelector against scikit-learn's L1 logistic regression."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from radsarc.feature_selection import LassoSelector


@pytest.fixture
def data():
    X, y = make_classification(
        n_samples=80, n_features=30, n_informative=4, random_state=0
    )
    return X, y


@pytest.mark.parametrize("C", [0.05, 0.2, 1.0])
def test_matches_l1_logistic_regression(data, C):
    X, y = data
    reference = LogisticRegression(
        C=C, l1_ratio=1.0, solver="liblinear", max_iter=1000, random_state=0
    ).fit(X, y)
    selector = LassoSelector(C=C, random_state=0).fit(X, y)
    assert_allclose(selector.coef_, reference.coef_[0], rtol=1e-10, atol=1e-12)
    assert_array_equal(selector.get_support(), reference.coef_[0] != 0)
    assert selector.C_ == C


def test_max_features_keeps_largest(data):
    X, y = data
    full = LassoSelector(C=1.0, random_state=0).fit(X, y)
    assert full.get_support().sum() > 3
    capped = LassoSelector(C=1.0, max_features=3, random_state=0).fit(X, y)
    expected = np.argsort(-np.abs(full.coef_), kind="stable")[:3]
    assert_array_equal(capped.get_support(indices=True), np.sort(expected))


def test_cv_chooses_C(data):
    X, y = data
    selector = LassoSelector(cv=3, Cs=[0.01, 0.1, 1.0], random_state=0).fit(X, y)
    assert selector.C_ in (0.01, 0.1, 1.0)
    assert selector.get_support().any()


def test_no_feature_warns():
    X = np.array([[0.0], [1.0], [0.0], [1.0]])
    y = np.array([0, 0, 1, 1])
    with pytest.warns(UserWarning, match=r"no coefficient is non-zero with C=0.001"):
        selector = LassoSelector(C=0.001).fit(X, y)
    assert not selector.get_support().any()


def test_one_class_raises():
    with pytest.raises(ValueError, match=r"needs at least 2 classes in y; got 1"):
        LassoSelector().fit(np.ones((3, 2)), np.zeros(3))


def test_min_features_follows_the_l1_path_until_enough_are_kept():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(20, 6))
    y = (X[:, 2] + 0.5 * rng.normal(size=20) > 0).astype(int)
    with pytest.warns(UserWarning, match=r"no coefficient is non-zero with C=0\.001"):
        empty = LassoSelector(C=1e-3).fit(X, y)
    assert empty.get_support().sum() == 0
    kept = LassoSelector(C=1e-3, min_features=1).fit(X, y)
    assert kept.get_support().sum() >= 1
    # C doubled from 1e-3 until a feature entered: a power-of-two multiple.
    ratio = np.log2(kept.C_ / 1e-3)
    assert ratio == pytest.approx(round(ratio), abs=1e-12)
    assert kept.C_ > 1e-3
    # The first feature to enter the path is the informative one.
    first = LassoSelector(C=1e-3, min_features=1, max_features=1).fit(X, y)
    assert first.get_support(indices=True).tolist() == [2]
    # The same selection as a plain L1 fit at the C it ended on.
    ref = LassoSelector(C=kept.C_).fit(X, y)
    np.testing.assert_array_equal(ref.get_support(), kept.get_support())


def test_min_features_larger_than_max_features_is_refused():
    X = np.random.default_rng(0).normal(size=(10, 3))
    y = np.array([0, 1] * 5)
    with pytest.raises(
        ValueError, match=r"min_features=3 is larger than max_features=2"
    ):
        LassoSelector(min_features=3, max_features=2).fit(X, y)
