"""grid_search(): GridSearchCV's choice, shared pipeline prefix, reused OOF scores."""

import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import Pipeline
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_selection import SelectKBest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_predict
from sklearn.preprocessing import StandardScaler

from radsarc.evaluation import FitLog, FixedSplits, RowSpy, evaluate
from radsarc.evaluation._cv import inner_cv
from radsarc.evaluation._evaluate import _fit_split
from radsarc.evaluation._thresholds import choose_threshold
from radsarc.evaluation._tuning import grid_search, shared_prefix_length


def _data(n=90, p=12, seed=0):
    X, y = make_classification(
        n_samples=n,
        n_features=p,
        n_informative=3,
        n_redundant=0,
        class_sep=0.8,
        random_state=seed,
    )
    X = pd.DataFrame(X, columns=[f"f{i}" for i in range(p)])
    return X, pd.Series(y)


def _pipe(log=None):
    return Pipeline(
        [
            ("spy", RowSpy(position="scale", log=log)),
            ("scale", StandardScaler()),
            ("select", SelectKBest(k=3)),
            ("sampler", RandomOverSampler(random_state=0)),
            ("classifier", LogisticRegression()),
        ]
    )


def test_prefix_stops_at_tuned_steps_samplers_and_pipeline_parameters():
    pipe = _pipe()
    assert shared_prefix_length(pipe, [{"classifier__C": 1.0}]) == 3
    assert shared_prefix_length(pipe, [{"select__k": 2}, {"select__k": 3}]) == 2
    assert shared_prefix_length(pipe, [{"spy": RowSpy()}]) == 0
    assert shared_prefix_length(pipe, [{"verbose": True}]) == 0
    resampling_first = Pipeline(
        [("sampler", RandomOverSampler()), ("classifier", LogisticRegression())]
    )
    assert shared_prefix_length(resampling_first, [{"classifier__C": 1.0}]) == 0
    assert shared_prefix_length(LogisticRegression(), [{"C": 1.0}]) == 0


@pytest.mark.parametrize(
    ("estimator", "grid"),
    [
        (_pipe(), {"classifier__C": [0.01, 0.1, 1.0], "select__k": [2, 5]}),
        (_pipe(), {"classifier__C": [0.001, 0.01, 1.0]}),
        (
            RandomForestClassifier(n_estimators=20, random_state=0),
            {"min_samples_leaf": [1, 5]},
        ),
    ],
)
def test_grid_search_matches_gridsearchcv(estimator, grid):
    X, y = _data()
    cv = StratifiedKFold(3, shuffle=True, random_state=1)
    folds = list(cv.split(X, y))
    ours = grid_search(estimator, grid, X, y, folds)
    ref = GridSearchCV(estimator, grid, scoring="roc_auc", cv=folds).fit(X, y)
    assert ours.best_params == ref.best_params_
    assert ours.best_index == ref.best_index_
    assert_allclose(ours.mean_scores, ref.cv_results_["mean_test_score"], rtol=1e-12)
    for j in range(len(folds)):
        assert_allclose(
            ours.fold_scores[:, j], ref.cv_results_[f"split{j}_test_score"], rtol=1e-12
        )
    # The kept out-of-fold scores of the chosen candidate are a refit's.
    best = estimator.set_params(**ref.best_params_)
    oof = cross_val_predict(best, X, y, cv=folds, method="predict_proba")[:, 1]
    assert_allclose(ours.oof_scores[ours.best_index], oof, rtol=1e-12)


def test_ties_go_to_the_first_candidate_as_in_gridsearchcv():
    X, y = _data()
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    # C=1e6 and C=1e7 give the same ranking of every fold's test cases.
    res = grid_search(LogisticRegression(), {"C": [1e7, 1e6]}, X, y, folds)
    assert res.mean_scores[0] == res.mean_scores[1]
    assert res.best_index == 0


def test_shared_steps_are_fitted_once_per_fold():
    X, y = _data()
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    log = FitLog()
    grid = {"classifier__C": [0.01, 0.1, 1.0, 10.0]}
    res = grid_search(_pipe(log), grid, X, y, folds)
    assert res.n_shared_steps == 3
    assert [len(rows) for _, rows in log.records] == [len(tr) for tr, _ in folds]
    log.clear()
    GridSearchCV(_pipe(log), grid, scoring="roc_auc", cv=folds, refit=False).fit(X, y)
    assert len(log.records) == 4 * 3


def test_reused_oof_cutoff_equals_explicit_refit():
    X, y = _data(n=120, seed=3)
    train, test = np.arange(90), np.arange(90, 120)
    grid = {"classifier__C": [0.01, 0.1, 1.0], "select__k": [2, 4]}
    kwargs = {
        "groups": None,
        "param_grid": grid,
        "inner_splits": 3,
        "cutoff": "youden",
        "min_sensitivity": 0.9,
        "importance": False,
        "random_state": 7,
        "keep_model": True,
    }
    reused = _fit_split(_pipe(), X, y, train, test, threshold_cv=3, **kwargs)
    # The same cut-off by hand: GridSearchCV, then a refit on the cut-off's folds.
    X_train, y_train = X.iloc[train], y.iloc[train]
    folds = inner_cv(3, None, 7)
    search = GridSearchCV(_pipe(), grid, scoring="roc_auc", cv=folds).fit(
        X_train, y_train
    )
    best = _pipe().set_params(**search.best_params_)
    oof = cross_val_predict(best, X_train, y_train, cv=folds, method="predict_proba")
    expected = choose_threshold(y_train.to_numpy(), oof[:, 1], "youden", 0.9)
    assert reused["best_params"] == search.best_params_
    assert reused["threshold"] == expected
    assert_allclose(
        reused["scores"],
        search.best_estimator_.predict_proba(X.iloc[test])[:, 1],
        rtol=1e-12,
    )
    # With other cut-off folds the cut-off is refitted on them, not reused.
    other = _fit_split(_pipe(), X, y, train, test, threshold_cv=5, **kwargs)
    oof5 = cross_val_predict(
        best, X_train, y_train, cv=inner_cv(5, None, 7), method="predict_proba"
    )
    assert other["threshold"] == choose_threshold(
        y_train.to_numpy(), oof5[:, 1], "youden", 0.9
    )


def test_evaluate_with_tuning_is_reproducible_and_runs_in_parallel():
    X, y = _data(n=100, seed=5)
    rng = np.random.default_rng(0)
    splits = []
    for _ in range(4):
        order = rng.permutation(100)
        splits.append((X.index[order[:80]], X.index[order[80:]]))
    grid = {"classifier__C": [0.01, 1.0]}
    one = evaluate(
        _pipe(), X, y, cv=FixedSplits(splits), param_grid=grid, threshold_cv=3
    )
    two = evaluate(
        _pipe(),
        X,
        y,
        cv=FixedSplits(splits),
        param_grid=grid,
        threshold_cv=3,
        n_jobs=2,
    )
    pd.testing.assert_frame_equal(one.split_metrics, two.split_metrics)
    assert_array_equal(one.predictions["y_score"], two.predictions["y_score"])
