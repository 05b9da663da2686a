"""Metrics against confusion matrices computed by hand."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.metrics import roc_auc_score

from radsarc.evaluation import METRICS, auc_score, binary_metrics, confusion_counts


def test_metrics_match_hand_computed_confusion_matrix():
    # 10 cases; at threshold 0.5: TP=3 (0.9, 0.8, 0.6), FN=1 (0.3),
    # FP=2 (0.7, 0.55), TN=4 (0.1, 0.2, 0.4, 0.45).
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    s = np.array([0.9, 0.8, 0.6, 0.3, 0.7, 0.55, 0.1, 0.2, 0.4, 0.45])
    assert confusion_counts(y, s >= 0.5) == (4, 2, 1, 3)
    m = binary_metrics(y, s, 0.5)
    assert list(m) == list(METRICS)
    assert_allclose(m["sensitivity"], 3 / 4)
    assert_allclose(m["specificity"], 4 / 6)
    assert_allclose(m["accuracy"], 7 / 10)
    assert_allclose(m["balanced_accuracy"], (3 / 4 + 4 / 6) / 2)
    assert_allclose(m["ppv"], 3 / 5)
    assert_allclose(m["npv"], 4 / 5)
    assert_allclose(m["f1"], 2 * 3 / (2 * 3 + 2 + 1))
    assert_allclose(m["brier"], np.mean((s - y) ** 2))
    # AUC by counting the 24 positive/negative pairs: 0.9 and 0.8 beat all 6
    # negatives, 0.6 beats 5 (not 0.7), 0.3 beats 2 (0.1, 0.2) -> 19/24.
    assert_allclose(m["auc"], 19 / 24)


def test_auc_agrees_with_sklearn_with_ties():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    s = np.round(rng.normal(size=200) + y, 1)  # many ties
    assert_allclose(auc_score(y, s), roc_auc_score(y, s), rtol=1e-12)


def test_undefined_ratio_is_nan_not_zero():
    m = binary_metrics([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4], threshold=0.9)
    assert np.isnan(m["ppv"])  # nothing predicted positive
    assert m["sensitivity"] == 0.0
    assert m["specificity"] == 1.0


def test_per_case_thresholds_and_threshold_free():
    m = binary_metrics([0, 1], [0.4, 0.6], threshold=np.array([0.3, 0.7]))
    assert m["specificity"] == 0.0
    assert m["sensitivity"] == 0.0
    assert set(binary_metrics([0, 1], [0.4, 0.6], None)) == {"auc", "brier"}


def test_brier_is_nan_for_non_probabilities():
    assert np.isnan(binary_metrics([0, 1], [-2.0, 3.0], 0.0)["brier"])


def test_bad_labels_are_rejected():
    with pytest.raises(ValueError, match=r"labels 0 and 1 only; got \[0, 2\]"):
        binary_metrics([0, 2], [0.1, 0.9], 0.5)
    with pytest.raises(ValueError, match="same length"):
        binary_metrics([0, 1, 1], [0.1, 0.9], 0.5)
