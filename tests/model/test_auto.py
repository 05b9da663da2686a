"""The ``auto`` preset: library, ensemble selection, honesty, determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from imblearn.pipeline import Pipeline
from numpy.testing import assert_allclose
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from radsarc.datasets import load_worc_splits, load_worc_table
from radsarc.evaluation import (
    FitLog,
    FixedSplits,
    NestedCV,
    RepeatedCV,
    RowSpy,
    evaluate,
)
from radsarc.evaluation._audit import row_hashes
from radsarc.model import AutoEnsemble, VolumeBaseline, ensemble_selection
from radsarc.presets import get_preset, make_preset

SMALL = ["peeken2019", "volume", "shape", "kbest_lr", "l1_lr"]


@pytest.fixture(scope="module")
def lipo():
    X, y = load_worc_table("Lipo")
    train, test = load_worc_splits("Lipo")[0]
    return X, y, train, test


def _volume_cohort(n=80, n_noise=40, seed=0):
    """Noise features and one informative tumour volume (larger if positive)."""
    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(n // 2, int), np.ones(n - n // 2, int)]
    rng.shuffle(y)
    volume = np.exp(rng.normal(10 + 1.2 * y, 1.0))
    X = pd.DataFrame(
        rng.normal(size=(n, n_noise)),
        columns=[f"T1_original_glcm_f{i}" for i in range(n_noise)],
    )
    X["T1_original_shape_MeshVolume"] = volume
    X["T1_original_shape_Sphericity"] = rng.uniform(0.4, 0.8, n)
    X.index = [f"case{i:03d}" for i in range(n)]
    return X, pd.Series(y, index=X.index)


def test_weights_sum_to_one_and_members_come_from_the_library(lipo):
    X, y, train, test = lipo
    model = AutoEnsemble(candidates=SMALL, cv=3, random_state=0).fit(
        X.loc[train], y.loc[train]
    )
    library = set(model.cv_results_.index)
    # peeken2019's 3 grid points, volume, shape, 4 k-best models, L1
    assert len(library) == 10
    assert {"peeken2019[C=0.1]", "volume", "shape", "kbest_lr[k=10]"} <= library
    assert set(model.members_) <= library
    assert len(model.members_) == len(model.weights_) == len(model.estimators_)
    assert (model.weights_ > 0).all()
    assert_allclose(model.weights_.sum(), 1.0, atol=1e-12)
    assert_allclose(model.cv_results_["weight"].sum(), 1.0, atol=1e-12)
    assert list(model.weights_) == sorted(model.weights_, reverse=True)
    assert model.volume_column_ == "MR_original_shape_MeshVolume"
    # the candidates' inner scores are out-of-fold AUCs, best first
    scores = model.candidate_scores_
    assert scores.is_monotonic_decreasing
    assert scores.between(0, 1).all()
    assert model.oof_scores_.shape == (len(train),)
    proba = model.predict_proba(X.loc[test])
    assert proba.shape == (len(test), 2)
    assert_allclose(proba.sum(axis=1), 1.0)
    # the ensemble is the weighted mean of the refitted members
    from radsarc.model._auto import _predict_candidate

    Z = model.preprocessor_.transform(X.loc[test].to_numpy(float))
    by_hand = sum(
        w * _predict_candidate(c, m, (), Z, X.loc[test].to_numpy(float))
        for c, m, w in zip(
            model._member_candidates, model.estimators_, model.weights_, strict=True
        )
    )
    assert_allclose(proba[:, 1], by_hand, atol=1e-12)


def test_same_random_state_same_ensemble(lipo):
    X, y, train, test = lipo
    X = X.iloc[:, :100]
    kwargs = {"candidates": ["kbest_lr", "mrmr_rf"], "cv": 3}
    first = AutoEnsemble(random_state=3, **kwargs).fit(X.loc[train], y.loc[train])
    again = AutoEnsemble(random_state=3, **kwargs).fit(X.loc[train], y.loc[train])
    assert first.members_ == again.members_
    assert_allclose(first.weights_, again.weights_)
    assert_allclose(first.predict_proba(X.loc[test]), again.predict_proba(X.loc[test]))


def test_ensemble_selection_rules():
    y = np.array([0, 0, 0, 1, 1, 1, 0, 1])
    perfect = np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9, 0.35, 0.6])
    noise = np.array([0.9, 0.1, 0.5, 0.2, 0.6, 0.4, 0.3, 0.7])
    P = np.vstack([noise, perfect, 1 - perfect])
    # one unbagged selection starting from the best: the perfect candidate only
    assert_allclose(ensemble_selection(P, y, n_init=1, n_bags=1), [0, 1, 0])
    # the default start: the best candidates within one standard error of the
    # best AUC, equal weights (at most n_init=5)
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(40, int), np.ones(40, int)]
    signal = y + rng.normal(0, 0.5, 80)
    close = signal + rng.normal(0, 0.05, 80)
    weak = [y + rng.normal(0, 3.0, 80) for _ in range(4)]
    P = np.vstack([weak[0], signal, close, *weak[1:]])
    assert_allclose(ensemble_selection(P, y), [0, 0.5, 0.5, 0, 0, 0])
    # without the rule, the 5 best whatever their AUC
    assert (ensemble_selection(P, y, n_se=None) > 0).sum() == 5
    # bagged: weights still sum to 1, and the perfect candidate has the most
    y = np.array([0, 0, 0, 1, 1, 1, 0, 1])
    P = np.vstack([noise, perfect, 1 - perfect])
    w = ensemble_selection(P, y, n_init=1, n_bags=10, random_state=0)
    assert_allclose(w.sum(), 1.0)
    assert w.argmax() == 1
    assert w[1] > 0.5


def test_auto_default_is_seven_picks_within_one_standard_error():
    auto = AutoEnsemble()
    assert (auto.ensemble_size, auto.n_init, auto.n_se) == (7, 7, 1.0)
    rng = np.random.default_rng(1)
    y = np.r_[np.zeros(40, int), np.ones(40, int)]
    signal = y + rng.normal(0, 0.5, 80)
    # 9 near-copies of one good score (all within one SE) and 3 noise scores
    good = [signal + rng.normal(0, 0.05, 80) for _ in range(9)]
    noise = [rng.normal(0, 1, 80) for _ in range(3)]
    P = np.vstack([*noise, *good])
    aucs = np.array([roc_auc_score(y, p) for p in P])
    w = ensemble_selection(
        P, y, ensemble_size=auto.ensemble_size, n_init=auto.n_init, n_se=auto.n_se
    )
    # the 7 best by AUC, equal weights; no noise candidate
    best7 = np.argsort(-aucs, kind="stable")[:7]
    expected = np.zeros(12)
    expected[best7] = 1 / 7
    assert_allclose(w, expected)


def test_a_failing_candidate_is_recorded_and_the_others_go_on(lipo, caplog):
    class Broken(ClassifierMixin, BaseEstimator):
        def fit(self, X, y):
            raise ValueError("broken on purpose")

    X, y, train, _ = lipo
    model = AutoEnsemble(
        candidates=["volume", ("broken", Broken())], cv=3, random_state=0
    ).fit(X.loc[train], y.loc[train])
    assert model.members_ == ["volume"]
    assert "broken on purpose" in model.cv_results_.loc["broken", "error"]
    assert "candidate broken failed" in caplog.text


def test_bad_input_messages(lipo):
    X, y, train, _ = lipo
    with pytest.raises(ValueError, match=r"Unknown candidate 'volum' in candidates"):
        AutoEnsemble(candidates=["volum"]).fit(X.loc[train], y.loc[train])
    with pytest.raises(ValueError, match=r"volume_column 'size' is not a column of X"):
        AutoEnsemble(candidates=["volume"], volume_column="size").fit(X, y)
    labels = np.arange(len(y)) % 3
    with pytest.raises(ValueError, match=r"Only binary classification is supported"):
        AutoEnsemble(candidates=["l1_lr"]).fit(X, labels)
    few = y.copy()
    few[:] = 0
    few.iloc[:3] = 1
    with pytest.raises(ValueError, match=r"needs at least 5 cases of each class"):
        AutoEnsemble(candidates=["l1_lr"]).fit(X, few)


def test_the_test_part_is_never_seen_in_fit(lipo):
    """A spy candidate records the rows of every fit inside auto's fit."""
    X, y, _, _ = lipo
    X = X.iloc[:, :40]
    log = FitLog()
    spy = Pipeline(
        [
            ("spy", RowSpy(log=log)),
            ("scaler", StandardScaler()),
            ("classifier", LogisticRegression(C=0.1)),
        ]
    )
    # 4 inner fits of the spy, and one on the whole training part if it is a
    # member of the ensemble
    auto = make_preset(
        "auto", classifier__candidates=["volume", ("spy", spy)], classifier__cv=4
    )
    train, test = load_worc_splits("Lipo")[1]
    result = evaluate(auto, X, y, cv=FixedSplits([(train, test)]), keep_models=True)
    test_rows = row_hashes(X.loc[test])
    train_rows = row_hashes(X.loc[train])
    fits = [hashes for _, hashes in log.records]
    member = "spy" in result.models[0][-1].members_
    assert len(fits) == 4 + member
    for hashes in fits:
        assert not hashes & test_rows
        assert hashes <= train_rows
    inner = sorted(len(h) for h in fits[:4])
    assert sum(len(train_rows) - n for n in inner) == len(train_rows)
    # the split's members and weights are in the result
    assert result.split_metrics["ensemble"].iloc[0] == dict(
        zip(result.models[0][-1].members_, result.models[0][-1].weights_, strict=True)
    )


def test_shuffled_labels_give_chance_auc():
    """Labels unrelated to the features: auto's test AUC is 0.5 on average.

    Five independent label draws (one AUC per draw has a standard deviation of
    about 0.05 here; their mean about 0.02), each 5-fold cross-validated once.
    """
    X, _ = _volume_cohort(n=100, n_noise=30, seed=1)
    auto = AutoEnsemble(
        candidates=["volume", "shape", "kbest_lr", "l1_lr"], cv=3, random_state=0
    )
    aucs = []
    for draw in range(5):
        y = pd.Series(
            np.random.default_rng(draw).permutation(np.arange(100) % 2), index=X.index
        )
        result = evaluate(
            auto, X, y, cv=RepeatedCV(n_repeats=1, random_state=draw), cutoff=None
        )
        aucs.append(result.mean_auc)
    assert abs(np.mean(aucs) - 0.5) < 0.05


def test_auto_matches_volume_when_volume_is_what_matters():
    X, y = _volume_cohort()
    auto = AutoEnsemble(
        candidates=["volume", "shape", "kbest_lr", "l1_lr", "peeken2019"],
        cv=3,
        random_state=0,
    )
    volume = VolumeBaseline()
    scheme = RepeatedCV(n_repeats=2)
    auc_auto = evaluate(auto, X, y, cv=scheme, cutoff=None).mean_auc
    auc_volume = evaluate(volume, X, y, cv=scheme, cutoff=None).mean_auc
    assert auc_volume > 0.75
    assert auc_auto >= auc_volume - 0.02


def test_auto_preset_in_evaluate_and_report(lipo, tmp_path):
    from radsarc.report import write_report

    X, y, _, _ = lipo
    assert get_preset("auto").param_grid == {}
    splits = load_worc_splits("Lipo")[:2]
    result = evaluate(
        make_preset("auto", classifier__candidates=SMALL, classifier__cv=3),
        X,
        y,
        cv=FixedSplits(splits),
        name="auto",
    )
    ensembles = result.split_metrics["ensemble"]
    assert len(ensembles) == 2
    for weights in ensembles:
        assert_allclose(sum(weights.values()), 1.0)
    path = write_report({"Lipo": [result]}, tmp_path)
    html = path.read_text()
    assert "Ensemble members" in html
    first = max(ensembles.iloc[0], key=ensembles.iloc[0].get)
    assert first in html


def test_clone_keeps_parameters():
    auto = AutoEnsemble(candidates=["volume"], cv=4, n_bags=3, random_state=1)
    assert clone(auto).get_params() == auto.get_params()


def test_nested_cv_needs_no_grid_for_auto(lipo):
    X, y, _, _ = lipo
    auto = AutoEnsemble(candidates=["volume", "l1_lr"], cv=3, random_state=0)
    result = evaluate(auto, X, y, cv=NestedCV(n_splits=3), cutoff=None)
    assert len(result.split_metrics) == 3
    assert result.mean_auc > 0.6
    # The description says what happens inside: no grid search for auto.
    description = result.scheme["description"]
    assert "auto's own stratified 3-fold cross-validation" in description
    assert "grid search inside" not in description
    assert result.scheme["inner_splits"] == 3


def _twin_lesions(n_patients=40, seed=0):
    """Two identical lesions per patient, labels random per patient: a 1-nearest
    neighbour finds each lesion's twin, which only folds that split a patient
    reward."""
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline

    rng = np.random.default_rng(seed)
    patient_X = rng.normal(size=(n_patients, 5))
    patient_y = np.r_[np.zeros(n_patients // 2, int), np.ones(n_patients // 2, int)]
    rng.shuffle(patient_y)
    X = pd.DataFrame(
        np.repeat(patient_X, 2, axis=0), columns=[f"f{i}" for i in range(5)]
    )
    y = pd.Series(np.repeat(patient_y, 2), index=X.index)
    groups = np.repeat(np.arange(n_patients), 2)
    knn = ("knn", make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=1)))
    return X, y, groups, knn


def test_groups_keep_a_patients_lesions_in_one_inner_fold():
    X, y, groups, knn = _twin_lesions()
    leaky = AutoEnsemble(candidates=[knn], random_state=0).fit(X, y)
    grouped = AutoEnsemble(candidates=[knn], random_state=0).fit(X, y, groups=groups)
    # Without groups a lesion's twin is mostly in the training folds: 0.875.
    assert leaky.candidate_scores_["knn"] > 0.8
    # With groups it never is: chance or below (labels are random per
    # patient; 1-NN on noise scores 0.40 here).
    assert grouped.candidate_scores_["knn"] < 0.6
    with pytest.raises(ValueError, match=r"needs at least 5 patients of each class"):
        AutoEnsemble(candidates=[knn]).fit(X.iloc[:16], y.iloc[:16], groups=groups[:16])
    with pytest.raises(ValueError, match=r"groups must hold one patient id per row"):
        AutoEnsemble(candidates=[knn]).fit(X, y, groups=groups[:-1])


def test_evaluate_passes_groups_to_auto():
    X, y, groups, knn = _twin_lesions()
    auto = make_preset("auto").set_params(classifier__candidates=[knn])
    result = evaluate(
        auto,
        X,
        y,
        cv=RepeatedCV(n_splits=3, n_repeats=1),
        groups=groups,
        cutoff=None,
        baseline=False,
        keep_models=True,
    )
    # The inner folds kept the twins together (0.40-0.48 in the 3 splits) ...
    inner = [m.steps[-1][1].candidate_scores_["knn"] for m in result.models]
    assert max(inner) < 0.6
    ungrouped = evaluate(
        auto,
        X,
        y,
        cv=RepeatedCV(n_splits=3, n_repeats=1),
        cutoff=None,
        baseline=False,
        keep_models=True,
    )
    # ... and without groups they did not (0.72-0.89).
    leaky = [m.steps[-1][1].candidate_scores_["knn"] for m in ungrouped.models]
    assert np.mean(leaky) > 0.7
