"""DeLong's test against an independent O(n^2) implementation of DeLong (1988)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.stats import norm

from radsarc.evaluation import delong_covariance, delong_test


def _psi(x, y):
    return (x > y) + 0.5 * (x == y)


def _delong_quadratic(y, a, b):
    """DeLong et al. 1988, eqs. for V10/V01 written out pair by pair."""
    y = np.asarray(y)
    out = []
    for s in (np.asarray(a), np.asarray(b)):
        pos, neg = s[y == 1], s[y == 0]
        psi = _psi(pos[:, None], neg[None, :])  # m x n
        out.append((psi.mean(), psi.mean(axis=1), psi.mean(axis=0)))
    m, n = (y == 1).sum(), (y == 0).sum()
    v10 = np.vstack([o[1] for o in out])
    v01 = np.vstack([o[2] for o in out])
    cov = np.cov(v10) / m + np.cov(v01) / n
    aucs = np.array([o[0] for o in out])
    return aucs, cov


def test_delong_matches_quadratic_implementation():
    rng = np.random.default_rng(42)
    y = rng.integers(0, 2, 60)
    a = np.round(y + rng.normal(size=60), 1)  # rounded: ties within and across
    b = np.round(0.5 * y + rng.normal(size=60), 1)
    aucs, cov = delong_covariance(y, np.vstack([a, b]))
    ref_aucs, ref_cov = _delong_quadratic(y, a, b)
    assert_allclose(aucs, ref_aucs, rtol=1e-12)
    assert_allclose(cov, ref_cov, rtol=1e-10)
    res = delong_test(y, a, b)
    z = (ref_aucs[0] - ref_aucs[1]) / np.sqrt(
        ref_cov[0, 0] + ref_cov[1, 1] - 2 * ref_cov[0, 1]
    )
    assert_allclose(res.z, z, rtol=1e-10)
    assert_allclose(res.p_value, 2 * norm.sf(abs(z)), rtol=1e-10)


def test_identical_models_have_p_one():
    y = [0, 0, 0, 1, 1, 1]
    s = [0.1, 0.5, 0.3, 0.4, 0.8, 0.9]
    res = delong_test(y, s, s)
    assert res.difference == 0.0
    assert res.p_value == 1.0


def test_delong_needs_two_per_class():
    with pytest.raises(ValueError, match="at least two positive and two negative"):
        delong_test([0, 1, 1], [0.1, 0.5, 0.9], [0.2, 0.4, 0.8])
