"""Nadeau-Bengio corrected resampled t-test against a hand computation."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from radsarc.evaluation import corrected_resampled_ci, corrected_resampled_ttest


def test_ci_hand_computed():
    # values 0.8, 0.7, 0.9, 0.8: mean 0.8, s^2 = 0.02/3; J = 4, n2/n1 = 20/80.
    # se = sqrt((1/4 + 1/4) * 0.02/3) = 0.0577350; t(0.975, 3) = 3.1824463
    mean, low, high = corrected_resampled_ci([0.8, 0.7, 0.9, 0.8], 80, 20)
    half = 3.182446305284263 * np.sqrt(0.5 * 0.02 / 3)
    assert_allclose(mean, 0.8)
    assert_allclose([low, high], [0.8 - half, 0.8 + half], rtol=1e-9)
    assert_allclose(half, 0.18374, atol=1e-5)


def test_correction_widens_the_naive_interval():
    v = np.linspace(0.6, 0.9, 50)
    _, low, high = corrected_resampled_ci(v, 80, 20)
    naive_half = 2.0095752 * v.std(ddof=1) / np.sqrt(50)  # t(0.975, 49)
    assert (high - low) / 2 > 2 * naive_half


def test_paired_ttest_hand_computed():
    a = [0.80, 0.75, 0.85, 0.82]
    b = [0.70, 0.72, 0.80, 0.70]
    d = np.subtract(a, b)  # 0.10, 0.03, 0.05, 0.12
    se = np.sqrt((1 / 4 + 20 / 80) * d.var(ddof=1))
    res = corrected_resampled_ttest(a, b, 80, 20)
    assert_allclose(res.mean_difference, d.mean())
    assert_allclose(res.t, d.mean() / se, rtol=1e-10)


def test_errors():
    with pytest.raises(ValueError, match="at least two splits"):
        corrected_resampled_ci([0.8], 80, 20)
    with pytest.raises(ValueError, match="n_train and n_test must be positive"):
        corrected_resampled_ci([0.8, 0.7], 0, 20)
