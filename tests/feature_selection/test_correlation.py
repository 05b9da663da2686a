"""CorrelationFilter on hand-checked cases."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from radsarc.feature_selection import CorrelationFilter


def test_keeps_more_relevant_of_pair():
    y = np.array([0, 0, 0, 1, 1, 1])
    strong = np.array([0.0, 0.1, 0.2, 1.0, 1.1, 1.2])
    weaker_copy = strong + np.array([0.3, 0, 0, 0, 0, -0.3])  # r > 0.9, lower F
    unrelated = np.array([1.0, -1.0, 0.0, 1.0, -1.0, 0.0])
    X = np.column_stack([weaker_copy, strong, unrelated])
    assert abs(np.corrcoef(strong, weaker_copy)[0, 1]) > 0.9
    selector = CorrelationFilter(threshold=0.9).fit(X, y)
    assert selector.relevance_[1] > selector.relevance_[0]
    assert_array_equal(selector.get_support(), [False, True, True])
    # with a threshold above the pair's correlation both stay
    assert CorrelationFilter(threshold=1.0).fit(X, y).get_support().all()


def test_spearman_sees_monotone_pairs():
    y = np.array([0, 0, 0, 1, 1, 1])
    a = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    X = np.column_stack([a, np.exp(3 * a)])
    assert abs(np.corrcoef(X.T)[0, 1]) < 0.9
    assert CorrelationFilter(threshold=0.9).fit(X, y).get_support().all()
    spearman = CorrelationFilter(threshold=0.9, method="spearman").fit(X, y)
    assert spearman.get_support().sum() == 1


def test_bad_threshold():
    with pytest.raises(ValueError, match=r"'threshold' parameter of CorrelationFilter"):
        CorrelationFilter(threshold=1.5).fit(np.ones((4, 2)), [0, 0, 1, 1])
