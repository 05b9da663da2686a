"""Leakage: spies prove selectors and samplers only ever see training rows."""

import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import Pipeline
from sklearn.datasets import make_classification
from sklearn.feature_selection import SelectKBest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from radsarc.evaluation import (
    FitLog,
    FixedSplits,
    NestedCV,
    RepeatedCV,
    RowSpy,
    audit_leakage,
    evaluate,
    permutation_test,
    row_hashes,
)


class SpySMOTE(SMOTE):
    """SMOTE that records the rows it is asked to resample."""

    seen: list = []

    def fit_resample(self, X, y, **params):
        SpySMOTE.seen.append(row_hashes(X))
        return super().fit_resample(X, y, **params)


def _data(n=90):
    X, y = make_classification(
        n_samples=n, n_features=12, n_informative=3, weights=[0.7], random_state=1
    )
    X = pd.DataFrame(
        X, columns=[f"f{i}" for i in range(12)], index=[f"c{i}" for i in range(n)]
    )
    return X, pd.Series(y, index=X.index)


def _pipe(sampler=None):
    return Pipeline(
        [
            ("scale", StandardScaler()),
            ("select", SelectKBest(k=4)),
            ("sampler", sampler or SMOTE(k_neighbors=3, random_state=0)),
            ("classifier", LogisticRegression()),
        ]
    )


def test_spies_see_no_test_row_in_any_step_or_clone():
    X, y = _data()
    audit = audit_leakage(
        _pipe(),
        X,
        y,
        cv=NestedCV(n_splits=3, inner_splits=2, param_grid={"select__k": [2, 4]}),
    )
    assert set(audit.step) == {"scale", "select", "sampler", "classifier"}
    assert (audit.test_rows_seen == 0).all()
    assert (audit.foreign_rows_fitted == 0).all()
    # the scaler is fitted on exactly the training rows; SMOTE adds rows only in fit
    scale = audit[audit.step == "scale"]
    assert (scale.n_fit_rows == 60).all()
    clf = audit[audit.step == "classifier"]
    assert (clf.n_fit_rows.to_numpy() > scale.n_fit_rows.to_numpy()).all()


def test_spy_detects_a_leaky_split():
    """The audit can fail: a split whose test rows are also training rows."""
    X, y = _data()
    leaky = FixedSplits([(X.index[:80], X.index[80:])])
    leaky.split = lambda X, y, groups=None: [(np.arange(90), np.arange(80, 90))]
    audit = audit_leakage(_pipe(), X, y, cv=leaky)
    assert (audit.test_rows_seen == 10).all()


def test_sampler_only_resamples_training_rows():
    """A spy sampler first in the pipeline sees raw rows: all from the training part."""
    X, y = _data()
    SpySMOTE.seen = []
    scheme = RepeatedCV(n_splits=3, n_repeats=1)
    pipe = Pipeline(
        [
            ("sampler", SpySMOTE(k_neighbors=3, random_state=0)),
            ("scale", StandardScaler()),
            ("classifier", LogisticRegression()),
        ]
    )
    evaluate(pipe, X, y, cv=scheme, threshold_cv=4)
    # per split: 1 outer fit, then 4 inner fits choosing the cut-off (sequential)
    assert len(SpySMOTE.seen) == 3 * (1 + 4)
    for i, (train, test) in enumerate(scheme.split(X, y)):
        train_h, test_h = row_hashes(X.iloc[train]), row_hashes(X.iloc[test])
        seen = SpySMOTE.seen[5 * i : 5 * i + 5]
        assert seen[0] == train_h  # the outer fit: exactly the training part
        for inner in seen:
            assert inner <= train_h
            assert not inner & test_h
        assert all(len(inner) < len(train_h) for inner in seen[1:])


def test_permutation_test_real_signal_vs_null():
    X, y = _data(120)
    res = permutation_test(
        _pipe(), X, y, cv=RepeatedCV(n_splits=3, n_repeats=1), n_permutations=6
    )
    assert res.auc > 0.75
    assert abs(res.null_mean - 0.5) < 0.12
    assert res.p_value == pytest.approx(1 / 7)
    with pytest.raises(ValueError, match="n_permutations must be an int >= 1"):
        permutation_test(_pipe(), X, y, n_permutations=0)


@parametrize_with_checks([RowSpy(), RowSpy(position="scale", log=FitLog())])
def test_row_spy_is_a_compatible_estimator(estimator, check):
    check(estimator)


def test_row_spy_clones_share_the_log():
    from sklearn.base import clone

    log = FitLog()
    spy = clone(RowSpy(log=log)).fit(np.ones((3, 2)))
    assert spy.log is log
    assert len(log.records) == 1
