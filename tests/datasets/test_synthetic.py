"""The synthetic sarcoma cohort: deterministic, documented signature, null mode."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from radsarc.datasets import make_synthetic_cohort
from radsarc.images import file_digest

SMALL = {"shape": (8, 40, 40)}


def test_same_seed_gives_identical_files(tmp_path):
    a = make_synthetic_cohort(3, tmp_path / "a", random_state=3, **SMALL)
    b = make_synthetic_cohort(3, tmp_path / "b", random_state=3, **SMALL)
    c = make_synthetic_cohort(3, tmp_path / "c", random_state=4, **SMALL)
    for ca, cb, cc in zip(a, b, c, strict=True):
        assert file_digest(ca.images["T1"]) == file_digest(cb.images["T1"])
        assert file_digest(ca.masks["T1"]) == file_digest(cb.masks["T1"])
        assert file_digest(ca.images["T2FS"]) != file_digest(cc.images["T2FS"])
    assert a.clinical().equals(b.clinical())


def test_manifest_layout_and_validation(tmp_path):
    cohort = make_synthetic_cohort(
        5, tmp_path, random_state=0, positive_fraction=0.4, **SMALL
    )
    assert cohort.sequences == ("T1", "T2FS")
    assert cohort.case_ids == [f"STS-{i:03d}" for i in range(1, 6)]
    assert sorted(cohort.labels) == [0, 0, 0, 1, 1]
    assert set(cohort.clinical().columns) == {"label", "group", "age", "sex"}
    assert cohort.validate().ok
    img = sitk.ReadImage(str(cohort.cases[0].images["T1"]))
    assert img.GetSize() == (40, 40, 8)
    assert img.GetSpacing() == (1.0, 1.0, 3.0)
    assert img.GetPixelID() == sitk.sitkInt16
    truth = pd.read_csv(tmp_path / "truth.csv")
    assert list(truth.columns) == ["case_id", "volume_ml", "necrosis_fraction"]


def test_high_grade_signature_and_null_cohort(tmp_path):
    """Known effects: larger, necrotic, heterogeneous high-grade tumours; none at 0."""

    def summary(effect, folder):
        cohort = make_synthetic_cohort(
            16,
            folder,
            random_state=11,
            effect_size=effect,
            positive_fraction=0.5,
            shape=(16, 64, 64),
        )
        truth = pd.read_csv(folder / "truth.csv", index_col="case_id")
        y = cohort.labels.astype(int)
        sd = []
        for case in cohort:
            img = sitk.GetArrayFromImage(sitk.ReadImage(str(case.images["T1"])))
            m = sitk.GetArrayFromImage(sitk.ReadImage(str(case.masks["T1"]))) == 1
            sd.append(img[m].std())
        truth["t1_sd"] = sd
        return truth.groupby(y.to_numpy()).mean()

    strong = summary(1.0, tmp_path / "strong")
    assert strong.loc[1, "volume_ml"] > 1.5 * strong.loc[0, "volume_ml"]
    assert (
        strong.loc[1, "necrosis_fraction"] > 0.03 > strong.loc[0, "necrosis_fraction"]
    )
    assert strong.loc[1, "t1_sd"] > 1.5 * strong.loc[0, "t1_sd"]
    null = summary(0.0, tmp_path / "null")
    assert null["necrosis_fraction"].max() == 0.0
    assert null.loc[1, "volume_ml"] == pytest.approx(null.loc[0, "volume_ml"], rel=0.35)
    assert null.loc[1, "t1_sd"] == pytest.approx(null.loc[0, "t1_sd"], rel=0.2)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_cases": 1}, r"n_cases must be an integer >= 2; got 1"),
        ({"effect_size": 1.5}, r"effect_size must be in \[0, 1\]; got 1\.5"),
        (
            {"positive_fraction": 1.0},
            r"positive_fraction must be in \(0, 1\); got 1\.0",
        ),
        ({"n_groups": 4}, r"n_groups must be 1, 2 or 3; got 4"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, match):
    args = {"n_cases": 4, **kwargs}
    with pytest.raises(ValueError, match=match):
        make_synthetic_cohort(args.pop("n_cases"), tmp_path, **args)


def test_effect_is_found_by_a_plain_classifier(tmp_path):
    """End to end: images -> features -> a cross-validated AUC well above 0.5."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    from radsarc.features import extract_features

    cohort = make_synthetic_cohort(
        16, tmp_path, random_state=5, positive_fraction=0.5, shape=(12, 56, 56)
    )
    X = extract_features(
        cohort, {"featureClass": {"firstorder": None, "shape": None}}, n_jobs=2
    )
    y = cohort.labels.loc[X.index].astype(int)
    auc = cross_val_score(
        RandomForestClassifier(100, random_state=0),
        X,
        y,
        cv=StratifiedKFold(4, shuffle=True, random_state=0),
        scoring="roc_auc",
    ).mean()
    assert auc >= 0.8
    assert np.isfinite(X.to_numpy()).all()
