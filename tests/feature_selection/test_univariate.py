"""UnivariateSelector against scipy and a hand Benjamini-Hochberg."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats

from radsarc.feature_selection import UnivariateSelector, benjamini_hochberg


def test_benjamini_hochberg_by_hand():
    p = np.array([0.01, 0.04, 0.03, 0.5, 0.02])
    # sorted 0.01 0.02 0.03 0.04 0.5, m=5: p*m/rank = .05 .05 .05 .05 .5
    assert_allclose(benjamini_hochberg(p), [0.05, 0.05, 0.05, 0.5, 0.05], rtol=1e-12)
    assert_allclose(benjamini_hochberg(p), stats.false_discovery_control(p), rtol=1e-12)
    assert_allclose(benjamini_hochberg([np.nan, 0.01]), [1.0, 0.02])


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 30)
    X = rng.normal(size=(60, 12))
    X[:, [2, 7]] += 1.5 * y[:, None]
    return X, y


def test_matches_scipy_mannwhitneyu(data):
    X, y = data
    selector = UnivariateSelector(alpha=0.05).fit(X, y)
    expected = np.array(
        [
            stats.mannwhitneyu(X[y == 0, j], X[y == 1, j], method="asymptotic").pvalue
            for j in range(X.shape[1])
        ]
    )
    assert_allclose(selector.pvalues_, expected, rtol=1e-12)
    assert_allclose(selector.qvalues_, stats.false_discovery_control(expected))
    assert_array_equal(selector.get_support(indices=True), [2, 7])


def test_ttest_and_caps(data):
    X, y = data
    selector = UnivariateSelector(test="ttest", max_features=1).fit(X, y)
    expected = stats.ttest_ind(X[y == 0], X[y == 1], equal_var=False).pvalue
    assert_allclose(selector.pvalues_, expected, rtol=1e-12)
    assert selector.get_support().sum() == 1
    assert selector.get_support(indices=True)[0] == np.argmin(expected)
    floor = UnivariateSelector(alpha=1e-12, min_features=3).fit(X, y)
    assert_array_equal(
        floor.get_support(indices=True), np.sort(np.argsort(floor.pvalues_)[:3])
    )


def test_none_significant_warns(data):
    X, y = data
    with pytest.warns(UserWarning, match=r"no feature has an adjusted p-value <= "):
        UnivariateSelector(alpha=1e-12).fit(X, y)
    with pytest.raises(
        ValueError, match=r"min_features=3 is larger than max_features=2"
    ):
        UnivariateSelector(min_features=3, max_features=2).fit(X, y)
