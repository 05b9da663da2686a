"""Concordance, Kaplan-Meier and log-rank against hand computations; CV of Cox."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sksurv.compare import compare_survival
from sksurv.metrics import concordance_index_censored
from sksurv.util import Surv

from radsarc.evaluation import (
    concordance_index,
    evaluate_survival,
    kaplan_meier,
    logrank_test,
)
from radsarc.model import make_cox_pipeline


def test_concordance_by_hand():
    time = [2.0, 4.0, 6.0, 8.0]
    event = [True, False, True, False]
    risk = [0.9, 0.5, 0.7, 0.1]
    # Comparable pairs (shorter time had the event): (0,1) (0,2) (0,3) (2,3).
    # Concordant: 0>1 yes, 0>2 yes, 0>3 yes, 2>3 yes -> 4/4.
    assert concordance_index(time, event, risk) == 1.0
    # Swap risks of cases 0 and 2: (0,2) discordant -> 3/4.
    assert concordance_index(time, event, [0.7, 0.5, 0.9, 0.1]) == 0.75
    # Tied risk in (2,3) counts one half -> 3.5/4.
    assert concordance_index(time, event, [0.9, 0.5, 0.1, 0.1]) == 0.875
    # An event and a censoring at the same time: comparable (censored outlived).
    assert concordance_index([2.0, 2.0], [True, False], [1.0, 0.0]) == 1.0
    with pytest.raises(ValueError, match="No comparable pair"):
        concordance_index([1.0, 2.0], [False, False], [1.0, 0.0])


def test_concordance_matches_sksurv_with_ties():
    rng = np.random.default_rng(0)
    time = rng.integers(1, 15, 80).astype(float)
    event = rng.random(80) < 0.6
    risk = np.round(rng.normal(size=80), 1)
    ours = concordance_index(time, event, risk)
    theirs = concordance_index_censored(event, time, risk)[0]
    assert_allclose(ours, theirs, atol=1e-12)


def test_kaplan_meier_by_hand():
    km = kaplan_meier([1, 2, 2, 3, 4], [True, True, False, True, False])
    # S(1) = 4/5; S(2) = 4/5 * 3/4 = 0.6; S(3) = 0.6 * 1/2 = 0.3; S(4) = 0.3.
    assert_allclose(km["survival"], [0.8, 0.6, 0.3, 0.3], atol=1e-12)
    assert km["n_at_risk"].tolist() == [5, 4, 2, 1]
    assert km["n_censored"].tolist() == [0, 1, 0, 1]
    # Greenwood variance at t=2: S^2 * (1/(5*4) + 1/(4*3)) -> log-log CI.
    s, v = 0.6, 1 / 20 + 1 / 12
    se = np.sqrt(v) / abs(np.log(s))
    assert_allclose(km.loc[1, "ci_low"], s ** np.exp(1.959963984540054 * se))
    assert (km["ci_low"] <= km["survival"]).all()
    assert (km["survival"] <= km["ci_high"]).all()


def test_logrank_matches_sksurv():
    rng = np.random.default_rng(1)
    time = np.round(rng.exponential(10, 60), 1) + 0.1
    event = rng.random(60) < 0.7
    groups = np.where(rng.random(60) < 0.5, "a", "b")
    ours = logrank_test(time, event, groups)
    chisq, pvalue = compare_survival(Surv.from_arrays(event, time), groups)
    assert_allclose(ours.statistic, chisq, rtol=1e-8)
    assert_allclose(ours.p_value, pvalue, rtol=1e-6)
    assert ours.df == 1


def test_evaluate_survival_finds_the_signal_and_the_null():
    rng = np.random.default_rng(0)
    n = 90
    X = pd.DataFrame(rng.normal(size=(n, 8)), columns=[f"f{i}" for i in range(8)])
    lp = 1.2 * X["f0"] - 0.8 * X["f1"]
    t = rng.exponential(20 * np.exp(-lp))
    c = rng.uniform(5, 60, n)
    y = Surv.from_arrays(t <= c, np.minimum(t, c))
    model = make_cox_pipeline(l1_ratio=1.0, n_alphas=15, cv=3)
    res = evaluate_survival(model, X, y, n_splits=3, n_repeats=2, times=[10, 20])
    assert len(res.split_metrics) == 6
    assert res.summary.loc["c_index", "mean"] > 0.7
    assert res.summary.loc["c_index", "ci_low"] > 0.6
    assert res.summary.loc["auc_10", "mean"] > 0.7
    assert res.logrank["p_value"].max() < 0.01
    # Every case is tested once per repeat, with the cut-off of its split.
    assert (res.predictions.groupby("repeat")["case_id"].nunique() == n).all()
    high = res.predictions["risk"] > res.predictions["cutoff"]
    assert (res.predictions["risk_group"].eq("high") == high).all()
    groups = res.kaplan_meier(repeat=0)
    assert set(groups) == {"high", "low"}
    # Shuffled outcomes: no signal left.
    perm = rng.permutation(n)
    null = evaluate_survival(model, X, y[perm], n_splits=3, n_repeats=2, times=[10, 20])
    assert abs(null.summary.loc["c_index", "mean"] - 0.5) < 0.12
