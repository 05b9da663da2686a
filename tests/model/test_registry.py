"""Registry, pipeline builder and BootstrapLogisticRegression."""

from __future__ import annotations

import numpy as np
import pytest
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import Pipeline
from numpy.testing import assert_allclose
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from radsarc.feature_selection import MRMRSelector
from radsarc.model import (
    CLASSIFIERS,
    SAMPLERS,
    SELECTORS,
    BootstrapLogisticRegression,
    make_classifier,
    make_pipeline,
    make_sampler,
    make_selector,
)


@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
def test_every_classifier_fits(name):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    clf = make_classifier(name)
    proba = clf.fit(X, y).predict_proba(X)
    assert proba.shape == (40, 2)


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_every_sampler(name):
    sampler = make_sampler(name)
    assert (sampler is None) == (name == "none")


@pytest.mark.parametrize("name", sorted(SELECTORS))
def test_every_selector_builds(name):
    assert hasattr(make_selector(name), "fit")


def test_registry_errors():
    with pytest.raises(
        ValueError, match=r"Unknown classifier 'rff'.*Did you mean 'rf'"
    ):
        make_classifier("rff")
    with pytest.raises(ValueError, match=r"Unknown parameter\(s\) \['trees'\] for "):
        make_classifier("rf", trees=3)
    with pytest.raises(ValueError, match=r"Unknown parameter\(s\) \['gamma2'\].*SVC"):
        make_classifier("svm", gamma2=3)
    with pytest.raises(ValueError, match=r"Unknown sampler 'smot'.*'smote'"):
        make_sampler("smot")
    with pytest.raises(TypeError, match=r"The selector name must be a str"):
        make_selector(3)
    with pytest.raises(ValueError, match=r"The 'scaler' parameter must be"):
        make_pipeline(scaler="minmax")
    with pytest.raises(ValueError, match=r"step names must be unique; repeated"):
        make_pipeline(selector=[("a", MRMRSelector()), ("a", MRMRSelector())])


def test_pipeline_steps_and_random_state():
    pipe = make_pipeline(
        selector=["mrmr", ("lasso", make_selector("lasso"))],
        sampler="smote",
        classifier="rf",
        extra_steps=[("stability", "passthrough")],
        random_state=7,
    )
    assert isinstance(pipe, Pipeline)
    names = [name for name, _ in pipe.steps]
    assert names == [
        "imputer",
        "variance",
        "scaler",
        "stability",
        "mrmr",
        "lasso",
        "sampler",
        "classifier",
    ]
    assert pipe.get_params()["classifier__random_state"] == 7
    assert pipe.get_params()["sampler__random_state"] == 7


class _RowSpy(TransformerMixin, BaseEstimator):
    """Records the number of rows it was fitted and applied on."""

    def fit(self, X, y=None):
        self.fit_rows_ = X.shape[0]
        return self

    def transform(self, X):
        self.transform_rows_ = X.shape[0]
        return X


def test_sampler_only_resamples_while_fitting():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    y = np.r_[np.zeros(24, int), np.ones(6, int)]
    spy = _RowSpy()
    pipe = make_pipeline(
        sampler=SMOTE(k_neighbors=3, random_state=0),
        classifier=LogisticRegression(),
    )
    pipe.steps.insert(-1, ("spy", spy))
    pipe.fit(X, y)
    assert spy.fit_rows_ == 48  # SMOTE balanced 24 + 24 before the spy
    pipe.predict_proba(X[:5])
    assert spy.transform_rows_ == 5


def test_pipeline_handles_nan_constant_and_string_labels():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 6))
    X[:, 1] = 3.0
    X[::7, 2] = np.nan
    X[:, 4] = np.nan
    y = np.where(X[:, 0] > 0, "malignant", "benign")
    pipe = make_pipeline(
        selector=MRMRSelector(n_features_to_select=2),
        classifier=RandomForestClassifier(n_estimators=10, random_state=0),
    )
    pipe.fit(X, y)
    assert set(pipe.predict(X)) <= {"benign", "malignant"}
    assert list(pipe.classes_) == ["benign", "malignant"]


def test_bootstrap_logistic_regression_matches_mean_of_fits():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    y = (X[:, 0] + 0.5 * rng.normal(size=50) > 0.7).astype(int)
    clf = BootstrapLogisticRegression(n_bootstrap=10, random_state=3).fit(X, y)
    # replay the draws by hand
    draw = np.random.RandomState(3)
    members = [np.flatnonzero(y == k) for k in (0, 1)]
    coefs, intercepts = [], []
    for _ in range(10):
        index = np.concatenate([draw.choice(m, size=m.size) for m in members])
        # The binary case is solved by Newton to ~1e-10; lbfgs needs a tight tol.
        fit = LogisticRegression(class_weight="balanced", max_iter=10000, tol=1e-12)
        fit.fit(X[index], y[index])
        coefs.append(fit.coef_)
        intercepts.append(fit.intercept_)
    assert_allclose(clf.coef_, np.mean(coefs, axis=0), rtol=1e-7)
    assert_allclose(clf.intercept_, np.mean(intercepts, axis=0), rtol=1e-7)
    assert_allclose(clf.coef_std_, np.std(coefs, axis=0), rtol=1e-6)
    proba = clf.predict_proba(X)[:, 1]
    expected = 1 / (1 + np.exp(-(X @ clf.coef_[0] + clf.intercept_[0])))
    assert_allclose(proba, expected, rtol=1e-12)
    with pytest.raises(ValueError, match=r"needs at least 2 classes in y; got 1"):
        BootstrapLogisticRegression().fit(X, np.zeros(50))


def test_bootstrap_logistic_regression_separable_multiclass_and_convergence():
    rng = np.random.default_rng(1)
    X = np.r_[rng.normal(size=(20, 3)) - 3, rng.normal(size=(20, 3)) + 3]
    y = np.r_[np.zeros(20), np.ones(20)].astype(int)
    # Separable samples: the L2 penalty keeps every coefficient finite.
    for C in (1.0, 1e6):
        clf = BootstrapLogisticRegression(n_bootstrap=8, C=C, random_state=0)
        clf.fit(X, y)
        assert np.isfinite(clf.coef_).all()
        assert (clf.predict(X) == y).all()
    # Three classes take the per-sample multinomial fits.
    y3 = np.r_[np.zeros(14), np.ones(13), np.full(13, 2)].astype(int)
    clf = BootstrapLogisticRegression(n_bootstrap=4, random_state=0).fit(X, y3)
    assert clf.coef_.shape == (3, 3)
    with pytest.warns(ConvergenceWarning, match=r"did not converge on \d+ of 5"):
        BootstrapLogisticRegression(n_bootstrap=5, max_iter=1, random_state=0).fit(X, y)
