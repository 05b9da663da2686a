"""extract_features: parallel, cached, and never losing a case."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from radsarc.features import ExtractionSettings, extract_features
from radsarc.images import Cohort
from tests.conftest import PYRADIOMICS_DATA, write_image

FAST = {
    "featureClass": {"firstorder": None, "glcm": None, "shape": None},
    "setting": {"binWidth": 10},
}


def _breast_manifest(tmp_path, extra_rows=()):
    rows = [
        {
            "case_id": "breast1",
            "image": str(PYRADIOMICS_DATA / "breast1_image.nrrd"),
            "mask": str(PYRADIOMICS_DATA / "breast1_label.nrrd"),
        },
        *extra_rows,
    ]
    path = tmp_path / "manifest.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_multi_sequence_columns_are_prefixed_and_diagnostics_separate(small_cohort):
    result = extract_features(small_cohort, FAST, return_result=True)
    assert result.errors.empty
    assert result.n_computed == 6
    assert result.n_cached == 0
    assert result.n_failed == 0
    features = result.features
    assert list(features.index) == small_cohort.case_ids
    assert features.index.name == "case_id"
    assert "T1_original_glcm_Contrast" in features.columns
    assert "T2FS_original_firstorder_Mean" in features.columns
    assert all(c.startswith(("T1_", "T2FS_")) for c in features.columns)
    assert not any("diagnostics" in c for c in features.columns)
    assert "T1_diagnostics_Mask-original_VoxelNum" in result.diagnostics.columns
    assert features.dtypes.eq(float).all()
    # Shape is computed from the shared mask: equal for both sequences.
    np.testing.assert_array_equal(
        features["T1_original_shape_MeshVolume"],
        features["T2FS_original_shape_MeshVolume"],
    )
    # The synthetic ground truth is recovered: mask volume == true volume.
    truth = pd.read_csv(
        small_cohort.cases[0].images["T1"].parents[1] / "truth.csv", index_col="case_id"
    )
    voxel_ml = result.features["T1_original_shape_VoxelVolume"] / 1000.0
    np.testing.assert_allclose(
        voxel_ml, truth.loc[voxel_ml.index, "volume_ml"], atol=1e-3
    )


def test_n_jobs_1_and_2_give_identical_tables(small_cohort):
    one = extract_features(small_cohort, FAST, n_jobs=1)
    two = extract_features(small_cohort, FAST, n_jobs=2)
    assert_frame_equal(one, two, check_exact=True)


def test_relative_cache_dir_is_the_callers_even_in_reused_workers(
    small_cohort, tmp_path, monkeypatch
):
    # The second call reuses the worker processes of the first, which were
    # started in folder a: the cache must still land in folder b.
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        monkeypatch.chdir(tmp_path / name)
        extract_features(small_cohort, FAST, n_jobs=2, cache_dir="cache")
    for name in ("a", "b"):
        stored = list((tmp_path / name / "cache").rglob("*.json"))
        assert len(stored) == 2 * len(small_cohort.case_ids), name


def test_failed_cases_are_recorded_and_the_others_finish(tmp_path):
    import SimpleITK as sitk

    label = sitk.ReadImage(str(PYRADIOMICS_DATA / "breast1_label.nrrd"))
    sitk.WriteImage(label * 0, str(tmp_path / "empty.nii.gz"))
    write_image(tmp_path / "flat.nii.gz", np.ones((10, 10), np.float32))
    (tmp_path / "corrupt.nrrd").write_bytes(b"NRRD0004\ntype: garbage\n\n")
    breast_img = str(PYRADIOMICS_DATA / "breast1_image.nrrd")
    breast_mask = str(PYRADIOMICS_DATA / "breast1_label.nrrd")
    manifest = _breast_manifest(
        tmp_path,
        [
            {"case_id": "missing", "image": "nowhere.nrrd", "mask": breast_mask},
            {"case_id": "empty", "image": breast_img, "mask": "empty.nii.gz"},
            {"case_id": "twod", "image": "flat.nii.gz", "mask": breast_mask},
            {"case_id": "corrupt", "image": "corrupt.nrrd", "mask": breast_mask},
        ],
    )
    result = extract_features(manifest, FAST, return_result=True)
    assert list(result.features.index) == ["breast1"]
    assert result.n_failed == 4
    assert result.n_computed == 1
    assert list(result.errors.columns) == [
        "case_id",
        "sequence",
        "stage",
        "file",
        "message",
    ]
    errors = result.errors.set_index("case_id")
    assert errors.loc["missing", "stage"] == "read"
    assert errors.loc["missing", "file"].endswith("nowhere.nrrd")
    assert errors.loc["missing", "message"] == "image file does not exist"
    assert errors.loc["empty", "stage"] == "validate"
    assert "no voxels with label 1" in errors.loc["empty", "message"]
    assert errors.loc["twod", "message"].startswith("image is 2-D")
    assert errors.loc["corrupt", "message"].startswith("Cannot read image")
    assert not result.features.isna().any().any()
    with pytest.warns(UserWarning, match=r"4 case\(s\) failed .*missing, empty, twod"):
        extract_features(manifest, FAST)


def test_pyradiomics_errors_are_recorded_per_case(tmp_path):
    # A one-voxel ROI violates minimumROIDimensions 2: pyradiomics raises.
    mask = np.zeros((21, 120, 45), np.uint8)
    mask[10, 60, 20] = 1
    write_image(tmp_path / "dot.nrrd", mask, spacing=(0.664062, 0.664062, 2.1))
    import SimpleITK as sitk

    ref = sitk.ReadImage(str(PYRADIOMICS_DATA / "breast1_image.nrrd"))
    dot = sitk.ReadImage(str(tmp_path / "dot.nrrd"))
    dot.CopyInformation(ref)
    sitk.WriteImage(dot, str(tmp_path / "dot.nrrd"))
    manifest = _breast_manifest(
        tmp_path,
        [
            {
                "case_id": "dot",
                "image": str(PYRADIOMICS_DATA / "breast1_image.nrrd"),
                "mask": "dot.nrrd",
            },
        ],
    )
    params = {**FAST, "setting": {"binWidth": 10, "minimumROIDimensions": 2}}
    result = extract_features(manifest, params, return_result=True)
    assert list(result.features.index) == ["breast1"]
    row = result.errors.iloc[0]
    assert (row.case_id, row.stage) == ("dot", "extract")
    assert "pyradiomics failed on image" in row.message
    assert "dot.nrrd" in row.message


def test_cache_reuses_results_and_recomputes_what_changed(tmp_path, small_cohort):
    cache = tmp_path / "cache"
    first = extract_features(small_cohort, FAST, cache_dir=cache, return_result=True)
    assert (first.n_computed, first.n_cached) == (6, 0)
    again = extract_features(small_cohort, FAST, cache_dir=cache, return_result=True)
    assert (again.n_computed, again.n_cached) == (0, 6)
    assert_frame_equal(first.features, again.features, check_exact=True)
    assert_frame_equal(first.diagnostics, again.diagnostics)
    # Another setting: everything is recomputed.
    other = {**FAST, "setting": {"binWidth": 20}}
    changed = extract_features(small_cohort, other, cache_dir=cache, return_result=True)
    assert (changed.n_computed, changed.n_cached) == (6, 0)
    # A changed mask file: only that case is recomputed.
    copy_root = tmp_path / "copy"
    src_root = small_cohort.cases[0].images["T1"].parents[1]
    shutil.copytree(src_root, copy_root)
    cohort = Cohort.from_csv(copy_root / "manifest.csv")
    base = extract_features(cohort, FAST, cache_dir=cache, return_result=True)
    # Keys are content hashes, not paths: a moved copy is still a cache hit.
    assert (base.n_computed, base.n_cached) == (0, 6)
    import SimpleITK as sitk

    mask_path = copy_root / "STS-002" / "mask.nii.gz"
    mask = sitk.ReadImage(str(mask_path))
    arr = sitk.GetArrayFromImage(mask)
    zs, ys, xs = np.nonzero(arr)
    arr[zs[0], ys[0], xs[0]] = 0
    new = sitk.GetImageFromArray(arr)
    new.CopyInformation(mask)
    sitk.WriteImage(new, str(mask_path), useCompression=True)
    after = extract_features(cohort, FAST, cache_dir=cache, return_result=True)
    assert (after.n_computed, after.n_cached) == (1, 5)
    assert (
        after.features.loc["STS-002", "T1_original_shape_VoxelVolume"]
        < base.features.loc["STS-002", "T1_original_shape_VoxelVolume"]
    )


def test_corrupt_or_partial_cache_files_are_never_read(tmp_path):
    manifest = _breast_manifest(tmp_path)
    cache = tmp_path / "cache"
    first = extract_features(manifest, FAST, cache_dir=cache, return_result=True)
    stored = list(cache.rglob("*.json"))
    assert len(stored) == 1
    # A leftover temporary file of a killed run, and a truncated result.
    (stored[0].parent / ".tmp-abc.json").write_text('{"format": 1, "key": "x", "feat')
    stored[0].write_text(stored[0].read_text(encoding="utf-8")[:100])
    again = extract_features(manifest, FAST, cache_dir=cache, return_result=True)
    assert (again.n_computed, again.n_cached) == (1, 0)
    assert_frame_equal(first.features, again.features, check_exact=True)
    data = json.loads(stored[0].read_text(encoding="utf-8"))
    assert data["case_id"] == "breast1"
    assert len(data["features"]) == first.features.shape[1]


def test_bad_arguments(small_cohort):
    with pytest.raises(ValueError, match=r"n_jobs must be a non-zero integer; got 0"):
        extract_features(small_cohort, FAST, n_jobs=0)
    with pytest.raises(
        FileNotFoundError, match=r"Manifest .*absent\.csv does not exist"
    ):
        extract_features("absent.csv", FAST)
    assert isinstance(ExtractionSettings.coerce(FAST), ExtractionSettings)


def test_preprocessing_and_peritumoral_ring_features(small_cohort):
    """Preprocessing runs before pyradiomics; the ring is an extra region."""
    settings = {
        "featureClass": {"firstorder": None},
        "setting": {"binWidth": 0.25},
        "preprocessing": {
            "normalize": {"method": "zscore", "region": "roi"},
            "ring": {"thickness_mm": 3.0},
        },
    }
    result = extract_features(small_cohort, settings, return_result=True)
    assert result.errors.empty, result.errors.to_dict("records")
    f = result.features
    # z-scored inside the ROI: mean 0 and variance 1 on every case and sequence.
    np.testing.assert_allclose(f["T1_original_firstorder_Mean"], 0.0, atol=1e-5)
    np.testing.assert_allclose(f["T2FS_original_firstorder_Variance"], 1.0, rtol=1e-4)
    assert "T1_ring_original_firstorder_Mean" in f.columns
    assert "T1_diagnostics_ring_Mask-original_VoxelNum" in result.diagnostics.columns
    # The T2FS ring holds oedema and muscle: darker than the tumour on average.
    assert (f["T2FS_ring_original_firstorder_Mean"] < 0).mean() > 0.5
    plain = extract_features(small_cohort, {"featureClass": {"firstorder": None}})
    assert not any("ring" in c for c in plain.columns)


def test_preprocessing_failure_is_recorded(tmp_path):
    settings = {
        "featureClass": {"firstorder": None},
        "preprocessing": {"resegment": {"range": [1e6, None]}},
    }
    result = extract_features(_breast_manifest(tmp_path), settings, return_result=True)
    assert result.features.empty
    row = result.errors.iloc[0]
    assert (row.case_id, row.stage) == ("breast1", "preprocess")
    assert "no voxel of the ROI is inside the resegmentation range" in row.message


def test_a_multi_label_mask_extracts_the_requested_label_and_names_the_others(
    tmp_path,
):
    import SimpleITK as sitk

    label = sitk.ReadImage(str(PYRADIOMICS_DATA / "breast1_label.nrrd"))
    arr = sitk.GetArrayFromImage(label)
    arr[0, :2, :2] = 3  # a second structure far from the tumour
    two = sitk.GetImageFromArray(arr)
    two.CopyInformation(label)
    sitk.WriteImage(two, str(tmp_path / "two.nrrd"))
    manifest = _breast_manifest(
        tmp_path,
        [
            {
                "case_id": "two",
                "image": str(PYRADIOMICS_DATA / "breast1_image.nrrd"),
                "mask": "two.nrrd",
            },
        ],
    )
    result = extract_features(manifest, FAST, return_result=True)
    assert result.errors.empty
    np.testing.assert_array_equal(
        result.features.loc["two"].to_numpy(), result.features.loc["breast1"].to_numpy()
    )
    diag = result.diagnostics
    assert diag.loc["two", "diagnostics_radsarc_OtherMaskLabels"] == "3"
    assert pd.isna(diag.loc["breast1", "diagnostics_radsarc_OtherMaskLabels"])
