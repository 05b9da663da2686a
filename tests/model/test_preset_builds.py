"""What each preset builds: its steps, and LASSO presets that are really sparse."""

from __future__ import annotations

import numpy as np
import pytest
from imblearn.pipeline import Pipeline
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB

from radsarc.datasets import load_worc_table
from radsarc.feature_selection import (
    CorrelationFilter,
    LassoSelector,
    MRMRSelector,
    UnivariateSelector,
)
from radsarc.model import AdaptiveSMOTE, BootstrapLogisticRegression
from radsarc.presets import list_presets, make_preset

_PREP = ["imputer", "variance", "scaler"]
#: (step names, {step: type}) of every preset but auto (helper auto12's).
BUILDS = {
    "gitto2023": (
        [*_PREP, "correlation", "univariate", "classifier"],
        {
            "correlation": CorrelationFilter,
            "univariate": UnivariateSelector,
            "classifier": RandomForestClassifier,
        },
    ),
    "malinauskaite2020": (
        [*_PREP, "classifier"],
        {"classifier": CalibratedClassifierCV},
    ),
    "peeken2019": (
        ["harmonisation", "stability", *_PREP, "classifier"],
        {"classifier": LogisticRegression},
    ),
    "xu2020": (
        [*_PREP, "selector", "classifier"],
        {"selector": LassoSelector, "classifier": RandomForestClassifier},
    ),
    "liang2022": (
        [*_PREP, "mrmr", "lasso", "sampler", "classifier"],
        {
            "mrmr": MRMRSelector,
            "lasso": LassoSelector,
            "sampler": AdaptiveSMOTE,
            "classifier": CalibratedClassifierCV,
        },
    ),
    "vallieres2015": (
        [*_PREP, "selector", "classifier"],
        {"selector": MRMRSelector, "classifier": BootstrapLogisticRegression},
    ),
    "peeken2021": (
        [*_PREP, "selector", "classifier"],
        {"selector": CorrelationFilter, "classifier": RandomForestClassifier},
    ),
    "blackledge2019": ([*_PREP, "classifier"], {"classifier": GaussianNB}),
}


def test_every_preset_is_described():
    assert set(BUILDS) == set(list_presets()) - {"auto"}


@pytest.mark.parametrize("name", sorted(BUILDS))
def test_steps(name):
    names, types = BUILDS[name]
    pipe = make_preset(name)
    assert isinstance(pipe, Pipeline)
    assert [n for n, _ in pipe.steps] == names
    for step, kind in types.items():
        assert isinstance(pipe.named_steps[step], kind), (name, step)


def test_lasso_steps_are_l1():
    peeken = make_preset("peeken2019").named_steps["classifier"]
    assert peeken.l1_ratio == 1.0
    assert peeken.solver == "liblinear"
    svm = make_preset("liang2022").named_steps["classifier"].estimator
    assert svm.kernel == "rbf"


@pytest.fixture(scope="module")
def lipo():
    return load_worc_table("Lipo")


def test_lasso_presets_are_sparse_on_worc_lipo(lipo):
    """On WORC-Lipo (114 x 1015) the L1 steps keep few features. With a
    scikit-learn before 1.8, l1_ratio without penalty="l1" gave ridge: every
    coefficient non-zero."""
    X, y = lipo
    n = X.shape[1]
    peeken = make_preset("peeken2019").fit(X, y)
    coef = peeken.named_steps["classifier"].coef_.ravel()
    kept = int(np.count_nonzero(coef))
    assert 1 <= kept <= 60, kept
    assert kept < n // 10
    xu = make_preset("xu2020").fit(X, y)
    assert 1 <= int(xu.named_steps["selector"].get_support().sum()) <= 60
    liang = make_preset("liang2022").fit(X, y)
    lasso = int(liang.named_steps["lasso"].get_support().sum())
    assert 1 <= lasso < 20  # fewer than mRMR's 20
