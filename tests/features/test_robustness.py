"""ICC (Shrout & Fleiss 1979 worked example) and robustness to mask perturbation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
from numpy.testing import assert_allclose

from radsarc.features import (
    ICC_KINDS,
    intraclass_correlation,
    perturbed_masks,
    robustness_icc,
)
from radsarc.images import Case, Cohort

# Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges.
TABLE2 = np.array(
    [
        [9, 2, 5, 8],
        [6, 1, 3, 2],
        [8, 4, 6, 8],
        [7, 1, 2, 6],
        [10, 5, 6, 9],
        [6, 2, 4, 7],
    ]
)
# Their Table 4, to the two decimals published.
PUBLISHED = {
    "ICC(1,1)": 0.17,
    "ICC(2,1)": 0.29,
    "ICC(3,1)": 0.71,
    "ICC(1,k)": 0.44,
    "ICC(2,k)": 0.62,
    "ICC(3,k)": 0.91,
}
# pingouin 0.7.0 intraclass_corr on the same data (ICC1, ICC2, ICC3, ICC1k, ...).
PINGOUIN = {
    "ICC(1,1)": 0.165742,
    "ICC(2,1)": 0.289764,
    "ICC(3,1)": 0.714841,
    "ICC(1,k)": 0.442797,
    "ICC(2,k)": 0.620051,
    "ICC(3,k)": 0.909316,
}
PARAMS = {
    "featureClass": {"firstorder": None, "shape": None},
    "setting": {"binWidth": 25},
}


@pytest.mark.parametrize("kind", ICC_KINDS)
def test_icc_reproduces_shrout_fleiss_table(kind):
    value = intraclass_correlation(TABLE2, kind)
    assert abs(value - PUBLISHED[kind]) <= 0.005
    assert_allclose(value, PINGOUIN[kind], atol=5e-7)


def test_icc_per_variable_and_missing_targets():
    rng = np.random.default_rng(0)
    cube = np.stack([TABLE2, TABLE2 * 2.0 + 1, rng.normal(size=(6, 4))], axis=2)
    out = intraclass_correlation(cube, "ICC(3,1)")
    assert_allclose(out[:2], PINGOUIN["ICC(3,1)"], atol=5e-7)  # affine invariant
    cube[0, 1, 0] = np.nan  # target 0 left out of variable 0 only
    out_nan = intraclass_correlation(cube, "ICC(3,1)")
    assert_allclose(out_nan[0], intraclass_correlation(TABLE2[1:], "ICC(3,1)"))
    assert_allclose(out_nan[1:], out[1:])


def test_icc_of_a_constant_variable_is_nan_and_bad_input_is_refused():
    assert np.isnan(intraclass_correlation(np.full((5, 3), 2.0)))
    assert intraclass_correlation(np.tile(np.arange(5.0)[:, None], 3)) == 1.0
    with pytest.raises(ValueError, match="kind must be one of"):
        intraclass_correlation(TABLE2, "ICC(4,1)")
    with pytest.raises(ValueError, match="at least 2 raters"):
        intraclass_correlation(TABLE2[:, :1])


def _ball(radius=4, shape=(12, 16, 16), label=1):
    z, y, x = np.indices(shape)
    c = np.array(shape) / 2
    roi = ((z - c[0]) ** 2 + (y - c[1]) ** 2 + (x - c[2]) ** 2) <= radius**2
    image = sitk.GetImageFromArray(roi.astype(np.uint8) * label)
    image.SetSpacing((0.8, 0.8, 2.0))
    return image, roi


def test_perturbed_masks_erode_dilate_and_randomise_the_outline():
    mask, roi = _ball(label=2)
    out = perturbed_masks(mask, label=2, random_state=1)
    assert list(out) == ["erode", "dilate", "contour1", "contour2"]
    arrays = {k: sitk.GetArrayFromImage(v) == 2 for k, v in out.items()}
    assert arrays["erode"].sum() < roi.sum() < arrays["dilate"].sum()
    assert (arrays["erode"] <= roi).all()
    assert (roi <= arrays["dilate"]).all()
    for name in ("contour1", "contour2"):
        changed = arrays[name] ^ roi
        assert changed.any()
        # only the one-voxel shell moves
        assert (changed <= (arrays["dilate"] & ~arrays["erode"])).all()
    assert (arrays["contour1"] != arrays["contour2"]).any()
    assert out["erode"].GetSpacing() == mask.GetSpacing()
    again = perturbed_masks(mask, ["contour"], label=2, random_state=1)["contour1"]
    assert (sitk.GetArrayFromImage(again) == 2).tolist() == arrays["contour1"].tolist()


def test_perturbation_errors_name_the_problem():
    thin = np.zeros((5, 8, 8), np.uint8)
    thin[2, 2:6, 2:6] = 1
    mask = sitk.GetImageFromArray(thin)
    with pytest.raises(ValueError, match="Perturbation 'erode' leaves no voxel"):
        perturbed_masks(mask, ["erode"])
    with pytest.raises(ValueError, match=r"Unknown perturbation\(s\) \['shrink'\]"):
        perturbed_masks(mask, ["shrink"])
    with pytest.raises(ValueError, match="no voxels with label 3"):
        perturbed_masks(mask, ["dilate"], label=3)


@pytest.fixture(scope="module")
def robustness(small_cohort, tmp_path_factory):
    broken = list(small_cohort)[:5] + [
        Case(
            "ghost",
            dict(small_cohort.cases[0].images),
            {
                s: small_cohort.cases[0].masks[s].parent / "nope.nii.gz"
                for s in small_cohort.sequences
            },
        )
    ]
    cohort = Cohort(broken, source="test")
    return robustness_icc(
        cohort,
        PARAMS,
        perturbations=("erode", "contour"),
        mask_dir=tmp_path_factory.mktemp("masks"),
        return_result=True,
    )


def test_robustness_icc_over_perturbed_masks(robustness):
    icc = robustness.icc
    assert list(robustness.features) == ["original", "erode", "contour1"]
    assert (icc["n_cases"] == 5).all()
    assert list(icc.columns) == ["ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "n_cases"]
    # Volume follows the outline closely across cases; it is robust.
    assert icc.loc["T1_original_shape_VoxelVolume", "ICC(3,1)"] > 0.9
    # The mean intensity of a region moved by a voxel stays close too.
    assert icc.loc["T2FS_original_firstorder_Mean", "ICC(2,1)"] > 0.5
    # Each rater really used its own mask: erosion shrinks every volume.
    volume = "T1_original_shape_VoxelVolume"
    eroded = robustness.features["erode"][volume]
    original = robustness.features["original"][volume]
    assert (eroded < original.loc[eroded.index]).all()
    # The case whose mask is missing is reported, not lost silently.
    errors = robustness.errors
    assert set(errors["case_id"]) == {"ghost"}
    assert "nope.nii.gz" in errors["file"].iloc[0]


def test_robustness_icc_between_readers(small_cohort, robustness):
    same = robustness_icc(small_cohort, PARAMS, readers={"reader2": small_cohort})
    finite = same["ICC(2,1)"].dropna()
    assert len(finite) > 20
    assert_allclose(finite, 1.0, atol=1e-12)
    assert isinstance(same, pd.DataFrame)
