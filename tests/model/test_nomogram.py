"""RadiomicsScore: fitted on training rows only; the nomogram reproduces the model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy.special import expit
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from radsarc.evaluation import RepeatedCV, evaluate
from radsarc.model import RadiomicsScore, make_nomogram_models
from radsarc.report import nomogram_figure, nomogram_points


def _data(n=80, seed=0):
    rng = np.random.default_rng(seed)
    rad = rng.normal(size=(n, 6))
    age = rng.normal(55, 10, n)
    deep = (rng.random(n) < 0.5).astype(float)
    logit = 1.5 * rad[:, 0] - rad[:, 1] + 0.08 * (age - 55) + 1.0 * deep
    y = pd.Series((rng.random(n) < expit(logit)).astype(int), name="label")
    X = pd.DataFrame(rad, columns=[f"T1_f{i}" for i in range(6)])
    X["age"] = age
    X["deep"] = deep
    X.index = [f"case{i:03d}" for i in range(n)]
    y.index = X.index
    return X, y


class _SpyScore(RadiomicsScore):
    fitted_on: list = []

    def fit(self, X, y):
        _SpyScore.fitted_on.append(frozenset(X.index))
        return super().fit(X, y)


def test_score_is_fitted_on_training_rows_only():
    X, y = _data()
    rad = [c for c in X if c.startswith("T1_")]
    models = make_nomogram_models(rad, ["age", "deep"])
    pipe = models["combined"]
    pipe.steps[0] = ("score", _SpyScore(**pipe.named_steps["score"].get_params()))
    _SpyScore.fitted_on.clear()
    cv = RepeatedCV(n_splits=4, n_repeats=1, random_state=0)
    evaluate(pipe, X, y, cv=cv, cutoff=None)
    train_sets = {frozenset(X.index[train]) for train, _ in cv.split(X, y)}
    assert len(_SpyScore.fitted_on) == 4
    assert set(_SpyScore.fitted_on) == train_sets
    assert all(len(rows) == 60 for rows in _SpyScore.fitted_on)


def test_score_is_the_lasso_linear_predictor():
    X, y = _data()
    rad = [c for c in X if c.startswith("T1_")]
    score = RadiomicsScore(columns=rad, passthrough=["age"], C=0.2, random_state=0)
    # transform: the score of the model fitted on every training row.
    Xt = score.set_output(transform="pandas").fit(X, y).transform(X)
    assert list(Xt.columns) == ["age", "rad_score"]
    assert list(score.fit_transform(X, y).columns) == ["age", "rad_score"]
    Z = StandardScaler().fit_transform(X[rad])
    ref = LogisticRegression(
        l1_ratio=1.0, C=0.2, solver="liblinear", random_state=0
    ).fit(Z, y)
    assert_allclose(Xt["rad_score"], ref.decision_function(Z), rtol=1e-10)
    assert_allclose(Xt["age"], X["age"])
    assert np.count_nonzero(score.coef_) < len(rad)  # LASSO drops some
    assert abs(score.coef_[0]) > 0


def test_score_errors():
    X, y = _data()
    with pytest.raises(ValueError, match="both radiomics columns and passthrough"):
        RadiomicsScore(columns=["age"], passthrough=["age"]).fit(X, y)
    with pytest.raises(ValueError, match="'nope' is not a column of X"):
        RadiomicsScore(columns=["nope"]).fit(X, y)
    with pytest.raises(ValueError, match="needs a binary target"):
        RadiomicsScore().fit(X, np.arange(len(X)) % 3)
    with pytest.raises(ValueError, match="The 'C' parameter of RadiomicsScore"):
        RadiomicsScore(C=-1.0).fit(X, y)


def test_three_models_and_nomogram_points():
    X, y = _data(n=150, seed=1)
    rad = [c for c in X if c.startswith("T1_")]
    models = make_nomogram_models(rad, ["age", "deep"], C=0.5)
    aucs = {}
    for name, model in models.items():
        res = evaluate(model, X, y, cv=RepeatedCV(n_splits=5, n_repeats=1), cutoff=None)
        aucs[name] = res.mean_auc
    assert aucs["combined"] > aucs["clinical"] + 0.05
    assert aucs["radiomics"] > 0.7
    combined = models["combined"].fit(X, y)
    s = nomogram_points(combined, X)
    assert s["names"] == ["age", "deep", "rad_score"]
    assert_allclose(s["max_points"].max(), 100.0)
    # Total points of a case -> probability equals the model's prediction.
    Xt = combined[:-1].transform(X)
    points = s["scale"] * s["coef"] * (Xt - s["reference"])
    assert (points >= -1e-9).all()
    prob = expit(s["offset"] + points.sum(axis=1) / s["scale"])
    assert_allclose(prob, combined.predict_proba(X)[:, 1], rtol=1e-9)
    fig = nomogram_figure(combined, X, labels={"deep": "Deep-seated"})
    labels = {t.get_text() for t in fig.axes[0].texts}
    assert {"Points", "Deep-seated", "Rad-score", "Total points", "Risk"} <= labels


def test_cross_fitted_training_scores_are_out_of_fold():
    """fit_transform scores each training row with a model that did not see it."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import StandardScaler

    from radsarc.model import RadiomicsScore

    rng = np.random.default_rng(4)
    X = rng.normal(size=(60, 40))  # pure noise: an in-sample score still "works"
    y = np.array([0, 1] * 30)
    step = RadiomicsScore(C=1.0, random_state=0, cross_fit=5)
    oof = step.fit_transform(X, y)[:, -1]
    expected = np.empty(60)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    for train, held in folds.split(X, y):
        scaler = StandardScaler().fit(X[train])
        model = LogisticRegression(
            l1_ratio=1.0, C=1.0, solver="liblinear", max_iter=1000, random_state=0
        )
        model.fit(scaler.transform(X[train]), y[train])
        expected[held] = model.decision_function(scaler.transform(X[held]))
    np.testing.assert_allclose(oof, expected, rtol=1e-10, atol=1e-12)
    in_sample = step.transform(X)[:, -1]  # the model fitted on every row
    assert roc_auc_score(y, in_sample) > 0.9
    assert roc_auc_score(y, oof) < 0.7
    plain = RadiomicsScore(C=1.0, random_state=0, cross_fit=None)
    np.testing.assert_allclose(plain.fit_transform(X, y), plain.transform(X))
