"""Calibration slope/intercept, reliability curve, decision curve and bootstrap."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from radsarc.evaluation import (
    bootstrap_ci,
    calibration,
    decision_curve,
    reliability_curve,
)


def _sample(n=20000, seed=0):
    rng = np.random.default_rng(seed)
    lp = rng.normal(0, 1.5, n)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-lp))).astype(int)
    return lp, y


def test_calibration_recovers_known_slope_and_intercept():
    lp, y = _sample()
    # Predictions twice as extreme and shifted: true slope 0.5; intercept
    # (with the predictions as offset) is negative of the shift on average.
    p_over = 1 / (1 + np.exp(-2 * lp))
    assert_allclose(calibration(y, p_over).slope, 0.5, atol=0.03)
    p_ok = 1 / (1 + np.exp(-lp))
    res = calibration(y, p_ok)
    assert_allclose([res.slope, res.intercept], [1.0, 0.0], atol=0.05)
    p_low = 1 / (1 + np.exp(-(lp - 1)))  # risks underestimated -> intercept ~ +1
    assert_allclose(calibration(y, p_low).intercept, 1.0, atol=0.06)


def test_reliability_curve_bins():
    y = [0, 0, 1, 1, 0, 1]
    p = [0.1, 0.1, 0.1, 0.9, 0.9, 0.9]
    curve = reliability_curve(y, p, n_bins=2, strategy="uniform")
    assert_allclose(curve["observed"], [1 / 3, 2 / 3])
    assert list(curve["count"]) == [3, 3]


def test_calibration_rejects_scores():
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        calibration([0, 1], [-1.0, 2.0])


def test_decision_curve_hand_computed():
    y = [1, 1, 0, 0, 0]
    p = [0.9, 0.4, 0.6, 0.2, 0.1]
    dc = decision_curve(y, p, thresholds=[0.25, 0.5])
    # pt 0.25: treat 0.9, 0.4, 0.6 -> TP 2, FP 1: 2/5 - 1/5 * 1/3
    # pt 0.5: treat 0.9, 0.6 -> TP 1, FP 1: 1/5 - 1/5 * 1
    assert_allclose(dc["model"], [2 / 5 - 1 / 15, 0.0])
    assert_allclose(dc["treat_all"], [0.4 - 0.6 / 3, 0.4 - 0.6])


def test_bootstrap_ci_covers_the_estimate_and_is_reproducible():
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1], 40)
    s = np.clip(0.5 + 0.2 * (y - 0.5) + rng.normal(0, 0.2, 80), 0, 1)
    a = bootstrap_ci(y, s, 0.5, n_bootstraps=200, random_state=0)
    b = bootstrap_ci(y, s, 0.5, n_bootstraps=200, random_state=0)
    assert a == b
    from radsarc.evaluation import auc_score

    low, high = a["auc"]
    assert low < auc_score(y, s) < high
    assert 0.05 < high - low < 0.4
    with pytest.raises(ValueError, match="n_bootstraps must be at least 10"):
        bootstrap_ci(y, s, 0.5, n_bootstraps=5)
