"""selected_features: selector steps, and embedded L1 models' non-zero coefficients."""

import numpy as np
import pandas as pd
from imblearn.pipeline import Pipeline
from sklearn.feature_selection import SelectKBest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from radsarc.evaluation import selected_features


def _data():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(80, 6)), columns=[f"f{i}" for i in range(6)])
    y = (X["f0"] + 0.5 * X["f3"] + rng.normal(0, 0.3, 80) > 0).astype(int)
    return X, y


def test_l1_model_lists_its_non_zero_coefficients():
    X, y = _data()
    lasso = Pipeline(
        [
            ("scale", StandardScaler()),
            (
                "classifier",
                LogisticRegression(l1_ratio=1.0, solver="liblinear", C=0.05),
            ),
        ]
    ).fit(X, y)
    coef = lasso.named_steps["classifier"].coef_.ravel()
    expected = [f"f{i}" for i in np.flatnonzero(coef)]
    assert 1 <= len(expected) < 6
    assert selected_features(lasso, list(X.columns)) == expected
    # After a selector step, the coefficients index the kept features.
    both = Pipeline(
        [
            ("select", SelectKBest(k=4)),
            (
                "classifier",
                LogisticRegression(l1_ratio=1.0, solver="liblinear", C=0.05),
            ),
        ]
    ).fit(X, y)
    kept = np.asarray(X.columns)[both.named_steps["select"].get_support()]
    nonzero = both.named_steps["classifier"].coef_.ravel() != 0
    assert selected_features(both, list(X.columns)) == list(kept[nonzero])


def test_l2_model_selects_nothing():
    X, y = _data()
    ridge = Pipeline(
        [("scale", StandardScaler()), ("classifier", LogisticRegression())]
    ).fit(X, y)
    assert selected_features(ridge, list(X.columns)) is None
