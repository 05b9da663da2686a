"""evaluate(): schemes end to end, cut-offs on training data only, null test."""

import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import Pipeline
from numpy.testing import assert_allclose
from sklearn.datasets import make_classification
from sklearn.feature_selection import SelectKBest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from radsarc.evaluation import (
    ExternalValidation,
    FixedSplits,
    NestedCV,
    RepeatedCV,
    binary_metrics,
    evaluate,
)


def _data(n=100, p=20, seed=0, sep=1.0):
    X, y = make_classification(
        n_samples=n,
        n_features=p,
        n_informative=3,
        n_redundant=0,
        class_sep=sep,
        random_state=seed,
    )
    X = pd.DataFrame(
        X, columns=[f"f{i}" for i in range(p)], index=[f"case{i:03d}" for i in range(n)]
    )
    return X, pd.Series(y, index=X.index, name="label")


def _pipe():
    return Pipeline(
        [
            ("scale", StandardScaler()),
            ("select", SelectKBest(k=3)),
            ("sampler", RandomOverSampler(random_state=0)),
            ("classifier", LogisticRegression()),
        ]
    )


def test_repeated_cv_summary_and_per_split_consistency():
    X, y = _data()
    res = evaluate(_pipe(), X, y, cv=RepeatedCV(n_splits=5, n_repeats=2))
    assert len(res.split_metrics) == 10
    assert res.summary.loc["auc", "ci_method"] == "Nadeau-Bengio"
    assert 0.65 < res.mean_auc <= 1.0
    s = res.summary.loc["auc"]
    assert s["ci_low"] < s["mean"] < s["ci_high"]
    # every case tested once per repeat
    assert len(res.predictions) == 200
    assert res.predictions.groupby("case_id").size().eq(2).all()
    # per-split metrics are recomputable from the stored predictions and cut-offs
    g = res.predictions[res.predictions.split == 3]
    again = binary_metrics(g.y_true, g.y_score, g.threshold.iloc[0])
    assert_allclose(res.split_metrics.loc[3, "specificity"], again["specificity"])
    assert res.selection_frequency is not None
    assert res.selection_frequency.max() == 1.0
    assert len(res.data["sha256"]) == 64
    assert set(res.to_frame().columns) >= {"model", "metric", "mean", "ci_low"}


def test_cutoff_is_chosen_on_training_data_only():
    """The test part never changes the cut-off: altering test features leaves it."""
    X, y = _data()
    splits = [(X.index[:70], X.index[70:])]
    a = evaluate(_pipe(), X, y, cv=FixedSplits(splits))
    X2 = X.copy()
    X2.iloc[70:] = X2.iloc[70:] * -3.0
    b = evaluate(_pipe(), X2, y, cv=FixedSplits(splits))
    assert a.split_metrics.threshold.iloc[0] == b.split_metrics.threshold.iloc[0]
    assert a.summary.loc["auc", "ci_method"] == "bootstrap"


def test_specificity_cutoff_keeps_training_sensitivity():
    X, y = _data(sep=0.6)
    res = evaluate(
        _pipe(),
        X,
        y,
        cv=RepeatedCV(n_repeats=1),
        cutoff="specificity",
        min_sensitivity=0.95,
    )
    you = evaluate(_pipe(), X, y, cv=RepeatedCV(n_repeats=1))
    # a lower cut-off for the sensitivity target
    assert (res.split_metrics.threshold <= you.split_metrics.threshold + 1e-12).all()
    assert (
        res.summary.loc["sensitivity", "mean"] >= you.summary.loc["sensitivity", "mean"]
    )


def test_nested_cv_tunes_inside():
    X, y = _data()
    res = evaluate(
        _pipe(),
        X,
        y,
        cv=NestedCV(n_splits=3, inner_splits=2, param_grid={"select__k": [2, 5]}),
    )
    assert (
        res.split_metrics.best_params.map(lambda d: d["select__k"]).isin([2, 5]).all()
    )
    with pytest.raises(ValueError, match="Nested cross-validation needs a param_grid"):
        evaluate(_pipe(), X, y, cv="nested")


def test_external_validation_and_groups():
    X, y = _data()
    centres = np.where(np.arange(100) < 60, "A", "B")
    res = evaluate(
        _pipe(), X, y, cv=ExternalValidation(centres, test_centre="B"), n_bootstraps=100
    )
    assert list(res.predictions.case_id) == list(X.index[60:])
    groups = np.repeat(np.arange(50), 2)
    res = evaluate(_pipe(), X, y, cv=RepeatedCV(n_repeats=1), groups=groups)
    for _, g in res.predictions.groupby("split"):
        tested = set(groups[X.index.get_indexer(g.case_id)])
        assert len(tested) * 2 == len(g)  # both lesions of each tested patient


def test_null_labels_give_auc_near_half():
    """Shuffled labels: mean AUC over 5 shuffles x 5 folds within 0.5 +- 0.07."""
    X, y = _data(n=120, p=30)
    rng = np.random.default_rng(0)
    aucs = []
    for _ in range(5):
        y_null = pd.Series(rng.permutation(y.to_numpy()), index=y.index)
        aucs.append(
            evaluate(
                _pipe(), X, y_null, cv=RepeatedCV(n_repeats=1), cutoff=None
            ).mean_auc
        )
    assert abs(np.mean(aucs) - 0.5) < 0.07


def test_importance_finds_informative_features():
    X, y = _data()
    res = evaluate(_pipe(), X, y, cv=RepeatedCV(n_repeats=1), importance=True)
    top = set(res.permutation_importance.index[:3])
    assert top <= set(res.selection_frequency.index[:5])
    assert (
        res.permutation_importance.loc[
            ~res.permutation_importance.index.isin(res.selection_frequency.index),
            "mean",
        ]
        == 0
    ).all()


def test_input_errors():
    X, y = _data()
    with pytest.raises(ValueError, match=r"non-numeric columns \['site'\]"):
        evaluate(_pipe(), X.assign(site="A"), y)
    with pytest.raises(
        ValueError, match=r"labels 0 and 1 and no other; got \[0, 1, 2\]"
    ):
        evaluate(_pipe(), X, y.replace({1: 2}).where(y.index != "case000", 1))
    with pytest.raises(ValueError, match="cutoff must be one of"):
        evaluate(_pipe(), X, y, cutoff="best")
    with pytest.raises(ValueError, match="cv must be 'repeated', 'nested'"):
        evaluate(_pipe(), X, y, cv="loo")
    with pytest.raises(TypeError, match="preset name or an estimator"):
        evaluate(StandardScaler(), X, y)
