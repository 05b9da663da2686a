"""CoxnetCV: finds the true predictors, keeps unpenalised covariates, sklearn API."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)
from sksurv.util import Surv

from radsarc.model import CoxnetCV, make_cox_pipeline


def _data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 10)), columns=[f"f{i}" for i in range(10)])
    lp = 1.0 * X["f0"] - 0.7 * X["f1"]
    t = rng.exponential(10 * np.exp(-lp))
    c = rng.uniform(2, 40, n)
    return X, Surv.from_arrays(t <= c, np.minimum(t, c))


def test_lasso_cox_finds_the_true_predictors():
    X, y = _data()
    model = make_cox_pipeline(l1_ratio=1.0, random_state=0).fit(X, y)
    cox = model.named_steps["cox"]
    coef = pd.Series(cox.coef_, index=cox.feature_names_in_)
    assert coef["f0"] > 0.4
    assert coef["f1"] < -0.25
    assert coef.drop(["f0", "f1"]).abs().max() < coef[["f0", "f1"]].abs().min()
    assert cox.alpha_ in set(cox.cv_results_["alpha"])
    assert cox.cv_results_["mean_c_index"].max() > 0.65
    assert model.score(X, y) > 0.7


def test_unpenalized_column_stays_in_the_model():
    X, y = _data()
    X["noise"] = np.random.default_rng(5).normal(size=len(X))
    model = make_cox_pipeline(l1_ratio=1.0, unpenalized=["noise"]).fit(X, y)
    cox = model.named_steps["cox"]
    assert cox.coef_[list(cox.feature_names_in_).index("noise")] != 0
    # At the largest penalty only the unpenalised column is non-zero.
    first = cox.estimator_.coef_[:, 0]
    assert np.count_nonzero(first) == 1


def test_errors():
    X, y = _data()
    with pytest.raises(ValueError, match="unpenalized column 'age' is not a column"):
        CoxnetCV(unpenalized=["age"]).fit(X, y)
    with pytest.raises(ValueError, match="The 'l1_ratio' parameter of CoxnetCV"):
        CoxnetCV(l1_ratio=0.0).fit(X, y)
    few = Surv.from_arrays(np.r_[[True] * 3, [False] * 117], y["time"])
    with pytest.raises(ValueError, match="at least cv=5 events"):
        CoxnetCV().fit(X, few)


@pytest.mark.parametrize(
    "check",
    [
        check_get_params_invariance,
        check_set_params,
        check_no_attributes_set_in_init,
        check_parameters_default_constructible,
    ],
)
def test_sklearn_api_checks(check):
    # parametrize_with_checks cannot run on a structured (event, time) target,
    # as for scikit-survival's own estimators; the checks that do not fit run.
    check("CoxnetCV", CoxnetCV())
    assert clone(CoxnetCV(l1_ratio=0.3)).l1_ratio == 0.3
