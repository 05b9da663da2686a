"""Baselines on the same splits: tumour volume and clinical-only models, ΔAUC and
its verdict, fold limits for small cohorts."""

import numpy as np
import pandas as pd
import pytest
from imblearn.pipeline import Pipeline
from numpy.testing import assert_allclose
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from radsarc.evaluation import (
    ExternalValidation,
    RepeatedCV,
    corrected_resampled_ttest,
    delong_test,
    evaluate,
)
from radsarc.evaluation._evaluate import compare_to_baseline


def _cohort(n=80, seed=0, volume_signal=1.5, feature_signal=0.0):
    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(n // 2, int), np.ones(n - n // 2, int)]
    log_volume = 10 + volume_signal * y + rng.normal(0, 1, n)
    X = pd.DataFrame(
        rng.normal(size=(n, 4)) + feature_signal * y[:, None],
        columns=[f"T1_original_firstorder_f{i}" for i in range(4)],
        index=pd.Index([f"p{i:03d}" for i in range(n)], name="case_id"),
    )
    X["T1_original_shape_MeshVolume"] = np.exp(log_volume)
    return X, pd.Series(y, index=X.index)


def _scaled_lr():
    return Pipeline([("scale", StandardScaler()), ("classifier", LogisticRegression())])


def _texture_model():
    # A model that ignores the volume: only the first-order columns reach it.
    from sklearn.compose import ColumnTransformer

    cols = [f"T1_original_firstorder_f{i}" for i in range(4)]
    return Pipeline(
        [
            ("pick", ColumnTransformer([("keep", "passthrough", cols)])),
            ("scale", StandardScaler()),
            ("classifier", LogisticRegression()),
        ]
    )


def test_volume_baseline_on_the_same_splits_and_its_verdict():
    X, y = _cohort()
    res = evaluate(_texture_model(), X, y, cv=RepeatedCV(n_splits=4, n_repeats=2))
    base = res.baselines["tumour volume"]
    # Same splits, same test cases.
    assert_allclose(base.split_metrics["n_test"], res.split_metrics["n_test"])
    assert base.predictions["case_id"].tolist() == res.predictions["case_id"].tolist()
    assert base.settings["baseline_column"] == "T1_original_shape_MeshVolume"
    assert res.settings["baseline"] == (
        "tumour volume: column 'T1_original_shape_MeshVolume'"
    )
    # The volume separates the classes; the texture features are noise.
    assert base.mean_auc > 0.75
    row = res.comparisons.loc["tumour volume"]
    expected = corrected_resampled_ttest(
        res.split_metrics["auc"],
        base.split_metrics["auc"],
        res.split_metrics["n_train"].mean(),
        res.split_metrics["n_test"].mean(),
    )
    assert_allclose(row["delta_auc"], res.mean_auc - base.mean_auc, atol=1e-12)
    assert_allclose(
        [row["ci_low"], row["ci_high"], row["p_value"]],
        [expected.ci_low, expected.ci_high, expected.p_value],
        rtol=1e-12,
    )
    assert row["ci_method"] == "Nadeau-Bengio"
    assert row["ci_high"] < 0
    assert row["verdict"] == "is worse than"
    assert row["sentence"].startswith("Pipeline is worse than tumour volume: ΔAUC −0.")
    # results.csv columns: on the auc row only.
    frame = res.to_frame().set_index("metric")
    assert frame.loc["auc", "verdict_vs_volume"] == row["sentence"]
    assert_allclose(frame.loc["auc", "delta_auc_vs_volume"], row["delta_auc"])
    assert pd.isna(frame.loc["brier", "verdict_vs_volume"])


def test_a_model_with_more_than_the_volume_beats_it():
    X, y = _cohort(n=120, volume_signal=0.5, feature_signal=1.2)
    res = evaluate(
        _scaled_lr(),
        X,
        y,
        cv=RepeatedCV(n_splits=4, n_repeats=2),
        name="all features",
    )
    row = res.comparisons.loc["tumour volume"]
    assert row["ci_low"] > 0
    assert row["verdict"] == "beats"
    assert row["sentence"].startswith("all features beats tumour volume: ΔAUC +0.")


def test_baseline_options():
    X, y = _cohort(n=60)
    cv = RepeatedCV(n_splits=3, n_repeats=1)
    off = evaluate(_scaled_lr(), X, y, cv=cv, baseline=False)
    assert off.baselines == {}
    assert off.comparisons.empty
    assert off.settings["baseline"] == "off"
    named = evaluate(_scaled_lr(), X, y, cv=cv, baseline="T1_original_firstorder_f0")
    assert (
        named.baselines["tumour volume"].settings["baseline_column"]
        == "T1_original_firstorder_f0"
    )
    with pytest.raises(ValueError, match="'volume_ml' is not in the feature table"):
        evaluate(_scaled_lr(), X, y, cv=cv, baseline="volume_ml")
    # No volume column: no baseline, and the result says why.
    none = evaluate(_scaled_lr(), X.iloc[:, :4], y, cv=cv)
    assert none.baselines == {}
    assert none.settings["baseline"].startswith("no volume baseline: No tumour-volume")


def test_clinical_only_model_on_the_same_splits():
    X, y = _cohort(n=80)
    rng = np.random.default_rng(1)
    clinical = pd.DataFrame(
        {
            "age": 50 + 15 * y.to_numpy() + rng.normal(0, 5, 80),
            "sex": rng.choice(["F", "M"], 80),
        },
        index=X.index,
    ).iloc[::-1]  # any row order: aligned on the case ids
    res = evaluate(
        _texture_model(),
        X,
        y,
        cv=RepeatedCV(n_splits=4, n_repeats=1),
        clinical=clinical,
    )
    assert list(res.comparisons.index) == ["tumour volume", "clinical"]
    clin = res.baselines["clinical"]
    assert clin.settings["covariates"] == ["age", "sex"]
    assert clin.mean_auc > 0.9
    row = res.comparisons.loc["clinical"]
    assert row["delta_auc"] < -0.3
    assert row["verdict"] == (
        "is worse than" if row["ci_high"] < 0 else "does not beat"
    )
    assert "the clinical-only model" in res.comparisons.loc["clinical", "sentence"]
    with pytest.raises(ValueError, match=r"clinical has no row for cases \['p000'"):
        evaluate(_scaled_lr(), X, y, clinical=clinical.iloc[:-1])


def test_single_test_set_uses_delong():
    X, y = _cohort(n=80)
    centres = np.where(np.arange(80) % 2 == 0, "A", "B")
    res = evaluate(
        _texture_model(),
        X,
        y,
        cv=ExternalValidation(centres, test_centre="B"),
        n_bootstraps=50,
    )
    row = res.comparisons.loc["tumour volume"]
    base = res.baselines["tumour volume"]
    d = delong_test(
        res.predictions["y_true"],
        res.predictions["y_score"],
        base.predictions["y_score"],
    )
    half = 1.959963984540054 * d.standard_error
    assert row["ci_method"] == "DeLong (pooled test predictions)"
    assert_allclose(
        [row["delta_auc"], row["ci_low"], row["ci_high"]],
        [d.difference, d.difference - half, d.difference + half],
        rtol=1e-9,
    )


def _fake(name, aucs, n_train=80, n_test=20):
    from radsarc.evaluation import EvaluationResult

    k = len(aucs)
    preds = pd.DataFrame(
        {
            "split": np.repeat(np.arange(k), 2),
            "case_id": ["a", "b"] * k,
            "y_true": [0, 1] * k,
            "y_score": [0.2, 0.8] * k,
            "threshold": np.nan,
        }
    )
    sm = pd.DataFrame({"n_train": n_train, "n_test": n_test, "auc": aucs})
    return EvaluationResult(
        name=name,
        preset=None,
        scheme={"scheme": "repeated"},
        settings={"baseline_column": "v"},
        data={},
        split_metrics=sm,
        predictions=preds,
        summary=pd.DataFrame(),
    )


@pytest.mark.parametrize(
    ("model", "verdict", "sentence"),
    [
        ([0.9, 0.8, 0.85, 0.95], "beats", "m beats tumour volume: ΔAUC +0.20"),
        (
            [0.6, 0.75, 0.7, 0.55],
            "does not beat",
            "m does not beat tumour volume: ΔAUC −0.02 (−0.24 to 0.19)",
        ),
        ([0.4, 0.45, 0.5, 0.42], "is worse than", "m is worse than tumour volume"),
    ],
)
def test_verdict_wording(model, verdict, sentence):
    base = _fake("tumour volume", [0.7, 0.65, 0.7, 0.65])
    row = compare_to_baseline(_fake("m", model), base)
    assert row["verdict"] == verdict
    assert row["sentence"].startswith(sentence)


def test_more_folds_than_minority_cases_is_refused_before_any_work():
    X, y = _cohort(n=40)
    y.iloc[:] = 0
    y.iloc[:4] = 1
    calls = []

    class Spy(LogisticRegression):
        def fit(self, X, y):
            calls.append(1)
            return super().fit(X, y)

    with pytest.raises(
        ValueError,
        match=r"n_splits=5 \(--n-splits\) folds but the smallest class, label 1, "
        r"has only 4 cases \(36 of label 0\).*largest valid n_splits "
        r"\(--n-splits\) is 4\.",
    ):
        evaluate(Spy(), X, y, cv=RepeatedCV(n_splits=5, n_repeats=1))
    assert calls == []
    # With groups, the count is in patients.
    groups = np.repeat(np.arange(20), 2)
    with pytest.raises(ValueError, match="has only 2 patients"):
        evaluate(Spy(), X, y, cv=RepeatedCV(n_splits=3), groups=groups)


def test_inner_folds_shrink_to_the_smallest_class():
    # 4 positives, 4 outer folds: each training part has 3 positives, so the
    # 5 cut-off folds asked for become 3 (recorded per split).
    X, y = _cohort(n=40)
    y.iloc[:] = 0
    y.iloc[:4] = 1
    res = evaluate(
        _scaled_lr(),
        X,
        y,
        cv=RepeatedCV(n_splits=4, n_repeats=1),
        threshold_cv=5,
        param_grid={"classifier__C": [0.1, 1.0]},
    )
    assert res.split_metrics["cutoff_folds"].tolist() == [3, 3, 3, 3]
    assert res.split_metrics["tuning_folds"].tolist() == [3, 3, 3, 3]


def test_preset_input_is_enforced():
    X, y = _cohort(n=40)
    with pytest.raises(
        ValueError,
        match=r"Preset 'peeken2021' takes a table of delta-radiomic features .* "
        r"For a delta-radiomic table pass input='delta'\.",
    ):
        evaluate("peeken2021", X, y)
    with pytest.raises(ValueError, match=r"Preset 'blackledge2019' takes a voxel"):
        evaluate("blackledge2019", X, y)
    with pytest.raises(ValueError, match="Preset 'gitto2023' takes a case-level"):
        evaluate("gitto2023", X, y, input="delta")
    with pytest.raises(ValueError, match="input must be 'features' or 'delta'"):
        evaluate("gitto2023", X, y, input="voxels")


def test_baseline_from_a_series_outside_x():
    X, y = _cohort(n=60)
    cv = RepeatedCV(n_splits=3, n_repeats=1)
    size = X.pop("T1_original_shape_MeshVolume").rename("size_ml") / 1000
    res = evaluate(_scaled_lr(), X, y, cv=cv, baseline=size.iloc[::-1])
    named = evaluate(
        _scaled_lr(),
        X.assign(size_ml=size),
        y,
        cv=cv,
        baseline="size_ml",
    )
    base = res.baselines["tumour volume"]
    assert base.settings["baseline_column"] == "size_ml"
    assert res.data["n_features"] == 4  # the size is not added to X
    assert_allclose(
        base.split_metrics["auc"],
        named.baselines["tumour volume"].split_metrics["auc"],
        rtol=1e-12,
    )
    with pytest.raises(ValueError, match=r"has no value for cases \['p000'"):
        evaluate(_scaled_lr(), X, y, cv=cv, baseline=size.iloc[1:])


def test_a_failing_baseline_does_not_cost_the_model_its_result():
    X, y = _cohort(n=40)
    clinical = pd.DataFrame({"age": np.nan}, index=X.index)  # all missing
    res = evaluate(
        _scaled_lr(), X, y, cv=RepeatedCV(n_splits=3, n_repeats=1), clinical=clinical
    )
    assert np.isfinite(res.mean_auc)
    assert list(res.baselines) == ["tumour volume"]
    assert "clinical baseline failed: " in res.settings["baseline"]
    assert "Covariate 'age' is missing for every case" in res.settings["baseline"]
    # Log or not is decided on the whole column: raw volumes get the log.
    assert res.baselines["tumour volume"].settings["estimator"].endswith("log=True)")
