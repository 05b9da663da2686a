"""The tumour-volume and clinical-only baseline models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from radsarc.datasets import load_worc_table
from radsarc.model import ClinicalBaseline, VolumeBaseline, volume_column


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        # MeshVolume before VoxelVolume, first sequence in column order.
        (
            [
                "T1_original_shape_VoxelVolume",
                "T2_original_shape_MeshVolume",
                "T1_original_shape_MeshVolume",
            ],
            "T2_original_shape_MeshVolume",
        ),
        (["age", "original_shape_VoxelVolume"], "original_shape_VoxelVolume"),
        # The tumour region, not the peritumoral ring, whatever the order.
        (
            ["ring_original_shape_MeshVolume", "original_shape_MeshVolume"],
            "original_shape_MeshVolume",
        ),
        (
            ["T1_ring_original_shape_MeshVolume", "T1_original_shape_MeshVolume"],
            "T1_original_shape_MeshVolume",
        ),
        # Only a ring: used rather than nothing.
        (["T1_ring_original_shape_MeshVolume"], "T1_ring_original_shape_MeshVolume"),
        # Other tools' names.
        (["morph_vol_approx", "morph_volume"], "morph_volume"),
        (["sf_compactness_avg_2D", "sf_volume_2D", "tf_GLCM_x"], "sf_volume_2D"),
        (
            ["sf_area_avg_2D_MR_0", "sf_volume_2D_MR_0", "tf_GLCM_contrast_MR_0"],
            "sf_volume_2D_MR_0",
        ),
        (
            ["SHAPE_Sphericity", "SHAPE_Volume(mL)", "SHAPE_Volume(vx)"],
            "SHAPE_Volume(mL)",
        ),
        (["Volume_RNU0", "x"], "Volume_RNU0"),
    ],
)
def test_volume_column_choice(columns, expected):
    assert volume_column(columns) == expected


def test_volume_column_on_the_worc_tables():
    for name in ("Lipo", "Desmoid"):
        X, _ = load_worc_table(name)
        assert volume_column(X.columns) == "MR_original_shape_MeshVolume"


def test_volume_column_errors_list_candidates():
    with pytest.raises(
        ValueError, match=r"Columns that may hold a size: \['tumour_size_cm'"
    ):
        volume_column(["age", "tumour_size_cm", "x1"])
    with pytest.raises(ValueError, match="No column name mentions a volume"):
        volume_column(["age", "x1"])
    with pytest.raises(ValueError, match="'volume_ml' is not in the feature table"):
        volume_column(["age", "x1"], column="volume_ml")
    assert volume_column(["age", "x1"], column="age") == "age"


def test_volume_baseline_is_a_logistic_regression_on_standardised_log_volume():
    rng = np.random.default_rng(0)
    volume = np.exp(rng.normal(10, 1.5, size=60))
    y = (np.log(volume) + rng.normal(0, 1.5, size=60) > 10).astype(int)
    X = pd.DataFrame(
        {
            "T1_original_firstorder_Mean": rng.normal(size=60),
            "T1_original_shape_MeshVolume": volume,
        }
    )
    model = VolumeBaseline().fit(X, y)
    assert model.column_ == "T1_original_shape_MeshVolume"
    z = np.log1p(volume)
    z = (z - z.mean()) / z.std()
    reference = LogisticRegression(max_iter=1000).fit(z[:, None], y)
    assert_allclose(
        model.predict_proba(X), reference.predict_proba(z[:, None]), rtol=1e-6
    )
    # One feature: the AUC is that of the volume itself.
    assert_allclose(
        roc_auc_score(y, model.predict_proba(X)[:, 1]),
        roc_auc_score(y, volume),
        rtol=1e-12,
    )
    # A missing volume gets the training median of the log volume.
    X_missing = X.copy()
    X_missing.iloc[0, 1] = np.nan
    p = model.predict_proba(X_missing)[0, 1]
    median = reference.predict_proba(
        [
            [
                (np.median(np.log1p(volume)) - np.log1p(volume).mean())
                / np.log1p(volume).std()
            ]
        ]
    )[0, 1]
    assert_allclose(p, median, rtol=1e-6)


def test_volume_baseline_errors():
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [1.0, -2.0, 3.0, 4.0]})
    y = [0, 0, 1, 1]
    with pytest.raises(ValueError, match="No tumour-volume column found"):
        VolumeBaseline().fit(X, y)
    with pytest.raises(ValueError, match="column 'b' has 1 negative value"):
        VolumeBaseline(column="b", log=True).fit(X, y)
    # "auto": a column with negative values is already transformed; used as is.
    model = VolumeBaseline(column="b").fit(X, y)
    assert model.column_ == "b"
    assert not model.log_
    assert VolumeBaseline(column="a").fit(X, y).log_
    with pytest.raises(ValueError, match="column 'a' has 1 negative value"):
        VolumeBaseline(column="a").fit(X, y).predict_proba(X.assign(a=-1.0).iloc[:1])
    with pytest.raises(ValueError, match="needs column= when X has no column names"):
        VolumeBaseline().fit(X.to_numpy(), y)
    with pytest.raises(ValueError, match="column=5 is out of range for X with 2"):
        VolumeBaseline(column=5).fit(X, y)


def test_volume_baseline_on_worc_lipo_scores_like_the_volume():
    # radMLBench's copies of the WORC tables are z-scored: no log there.
    X, y = load_worc_table("Lipo")
    model = clone(VolumeBaseline()).fit(X, y)
    assert not model.log_
    auc = roc_auc_score(y, model.predict_proba(X)[:, 1])
    assert_allclose(
        auc, roc_auc_score(y, X["MR_original_shape_MeshVolume"]), rtol=1e-12
    )


def test_clinical_baseline_one_hot_and_imputation():
    X = pd.DataFrame(
        {
            "age": [35.0, 70.0, 62.0, 41.0, np.nan, 80.0, 52.0, 45.0],
            "sex": ["F", "M", "M", "F", "F", None, "M", "F"],
            "grade": [1, 3, 3, 1, 2, 3, 2, 1],
            "site": [True, False, True, False, True, False, True, False],
        }
    )
    y = np.array([0, 1, 1, 0, 0, 1, 1, 0])
    model = ClinicalBaseline(
        columns=["age", "sex", "grade", "site"], categorical=["grade"]
    ).fit(X, y)
    assert model.categorical_ == ["sex", "grade", "site"]
    prepare = model.model_.named_steps["prepare"]
    names = list(prepare.get_feature_names_out())
    assert names == [
        "numeric__age",
        "categorical__sex_F",
        "categorical__sex_M",
        "categorical__grade_1",
        "categorical__grade_2",
        "categorical__grade_3",
        "categorical__site_False",
        "categorical__site_True",
    ]
    Z = prepare.transform(model._prepare(X))
    # Missing age -> training median 52; missing sex -> most frequent "F".
    age = X["age"].fillna(52.0)
    assert_allclose(Z[:, 0], (age - age.mean()) / age.std(ddof=0))
    assert_allclose(Z[5, 1:3], [1.0, 0.0])
    # An unseen category encodes as zeros and still gets a probability.
    new = X.iloc[:1].assign(sex="X")
    assert model.predict_proba(new).shape == (1, 2)
    # Only the named covariates are used.
    sub = ClinicalBaseline(columns=["age"]).fit(X, y)
    assert sub.columns_ == ["age"]
    assert sub.categorical_ == []


def test_clinical_baseline_errors():
    X = pd.DataFrame({"age": [35.0, 70.0, 62.0, 41.0], "empty": [np.nan] * 4})
    y = [0, 1, 1, 0]
    with pytest.raises(ValueError, match="Covariate 'sex' is not a column of X"):
        ClinicalBaseline(columns=["age", "sex"]).fit(X, y)
    with pytest.raises(ValueError, match="Covariate 'empty' is missing for every case"):
        ClinicalBaseline().fit(X, y)
