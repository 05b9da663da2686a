"""Voxel-based texture maps: pyradiomics' values, file layout, cache, errors."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from radsarc.features import feature_maps
from radsarc.features._maps_engine import compute_maps
from tests.conftest import write_image

ALL_CLASSES = dict.fromkeys(("firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm"))


def _phantom(seed=0, shape=(7, 14, 14), spacing=(0.8, 0.8, 3.0)):
    """A lobulated ellipsoid (~200 voxels) with texture and noise."""
    rng = np.random.default_rng(seed)
    z, y, x = np.mgrid[: shape[0], : shape[1], : shape[2]]
    r = np.sqrt(
        ((z - shape[0] / 2) / (shape[0] / 3)) ** 2
        + ((y - shape[1] / 2) / (shape[1] / 3)) ** 2
        + ((x - shape[2] / 2) / (shape[2] / 3)) ** 2
    )
    mask = (r < 1 + 0.2 * np.sin(3 * x) * np.cos(2 * y)).astype(np.uint8)
    image = (200 + 80 * np.sin(x / 2.0) + 40 * rng.standard_normal(shape)).astype(
        np.float32
    )
    return image, mask, spacing


def _sitk(array, spacing):
    img = sitk.GetImageFromArray(array)
    img.SetSpacing(spacing)
    return img


def _pyradiomics_maps(image, mask, params):
    import radiomics
    from radiomics import featureextractor

    radiomics.setVerbosity(logging.CRITICAL)
    out = featureextractor.RadiomicsFeatureExtractor(params).execute(
        image, mask, voxelBased=True
    )
    full = {}
    shape = sitk.GetArrayViewFromImage(mask).shape
    for name, value in out.items():
        if name.startswith("diagnostics"):
            continue
        arr = sitk.GetArrayFromImage(value)
        z, y, x = mask.TransformPhysicalPointToIndex(value.GetOrigin())[::-1]
        grid = np.zeros(shape)
        grid[z : z + arr.shape[0], y : y + arr.shape[1], x : x + arr.shape[2]] = arr
        full[name] = grid
    return full


@pytest.mark.parametrize(
    "setting",
    [
        {"binCount": 16},
        {"binWidth": 25},
        {"binCount": 8, "symmetricalGLCM": False, "gldm_a": 1},
        {"binWidth": 40, "weightingNorm": "euclidean", "distances": [1, 2]},
        {"binWidth": 40, "weightingNorm": "manhattan"},
        {"binWidth": 40, "weightingNorm": "infinity"},
    ],
)
def test_maps_equal_pyradiomics_voxel_based(setting):
    image, mask, spacing = _phantom()
    img, msk = _sitk(image, spacing), _sitk(mask, spacing)
    params = {
        "setting": setting,
        "featureClass": ALL_CLASSES,
        "voxelSetting": {"kernelRadius": 1},
    }
    expected = _pyradiomics_maps(img, msk, params)
    maps, reference = compute_maps(img, msk, params, None)
    assert reference.GetSize() == img.GetSize()
    assert sorted(maps) == sorted(expected)
    assert len(maps) == 93
    inside = mask == 1
    for name, want in expected.items():
        got = maps[name]
        # Same NaN pattern; relative difference <= 1e-6 (absolute 1e-9 for
        # values that are zero up to rounding).
        np.testing.assert_allclose(
            got[inside], want[inside], rtol=1e-6, atol=1e-9, err_msg=name
        )
        # Outside the mask: pyradiomics' initValue (0).
        assert np.all(got[~inside] == 0), name


def test_masked_kernel_off_radius_2_and_init_value_nan():
    image, mask, spacing = _phantom(seed=3, shape=(6, 12, 12))
    img, msk = _sitk(image, spacing), _sitk(mask, spacing)
    params = {
        "setting": {"binCount": 10},
        "featureClass": {
            "glcm": ["Contrast", "MCC", "Correlation", "Dissimilarity"],
            "firstorder": ["Median", "90Percentile", "Entropy"],
            "glszm": None,
            "gldm": ["GrayLevelNonUniformityNormalized", "DependenceEntropy"],
            "ngtdm": ["Busyness"],
        },
        "voxelSetting": {
            "kernelRadius": 2,
            "maskedKernel": False,
            "initValue": float("nan"),
        },
    }
    expected = _pyradiomics_maps(img, msk, params)
    maps, _ = compute_maps(img, msk, params, None)
    inside = mask == 1
    for name, want in expected.items():
        np.testing.assert_allclose(
            maps[name][inside], want[inside], rtol=1e-6, atol=1e-9, err_msg=name
        )
        assert np.isnan(maps[name][~inside]).all()


def _manifest(tmp_path, n=2, missing_mask=False):
    rows = []
    for k in range(n):
        image, mask, spacing = _phantom(seed=k, shape=(6, 12, 12))
        img = write_image(tmp_path / f"c{k}_img.nii.gz", image, spacing=spacing)
        msk = tmp_path / f"c{k}_mask.nii.gz"
        if not (missing_mask and k == 0):
            write_image(msk, mask, spacing=spacing)
        rows.append({"case_id": f"case{k}", "image": str(img), "mask": str(msk)})
    path = tmp_path / "manifest.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


FAST = {
    "setting": {"binCount": 8},
    "featureClass": {"glcm": ["Contrast", "JointEntropy"], "firstorder": ["Mean"]},
}


def test_files_named_like_extract_columns_on_the_image_grid(tmp_path):
    manifest = _manifest(tmp_path)
    result = feature_maps(manifest, FAST, tmp_path / "maps")
    assert result.summary == "maps: 2 computed, 0 from cache, 0 failed"
    assert result.errors.empty
    names = sorted(p.name for p in (tmp_path / "maps" / "case0").glob("*.nii.gz"))
    assert names == [
        "original_firstorder_Mean.nii.gz",
        "original_glcm_Contrast.nii.gz",
        "original_glcm_JointEntropy.nii.gz",
    ]
    assert set(result.files["column"]) == {
        "original_firstorder_Mean",
        "original_glcm_Contrast",
        "original_glcm_JointEntropy",
    }
    image = sitk.ReadImage(str(tmp_path / "c0_img.nii.gz"))
    mask = sitk.ReadImage(str(tmp_path / "c0_mask.nii.gz"))
    written = sitk.ReadImage(
        str(tmp_path / "maps" / "case0" / "original_glcm_Contrast.nii.gz")
    )
    assert written.GetSize() == image.GetSize()
    assert written.GetSpacing() == image.GetSpacing()
    expected, _ = compute_maps(image, mask, FAST, 1)
    got = sitk.GetArrayFromImage(written)
    np.testing.assert_allclose(
        got, expected["original_glcm_Contrast"].astype(np.float32), rtol=0
    )


def test_resume_from_cache_and_recompute_on_change(tmp_path):
    manifest = _manifest(tmp_path)
    out = tmp_path / "maps"
    first = feature_maps(manifest, FAST, out)
    assert first.n_computed == 2
    contrast = out / "case1" / "original_glcm_Contrast.nii.gz"
    stamp = contrast.stat().st_mtime_ns
    again = feature_maps(manifest, FAST, out)
    assert (again.n_computed, again.n_cached) == (0, 2)
    assert contrast.stat().st_mtime_ns == stamp
    pd.testing.assert_frame_equal(again.files, first.files)
    # A lost map is recomputed; so is every case after a change of kernel.
    contrast.unlink()
    partial = feature_maps(manifest, FAST, out)
    assert (partial.n_computed, partial.n_cached) == (1, 1)
    assert contrast.exists()
    wider = feature_maps(manifest, FAST, out, kernel_radius=2)
    assert wider.n_computed == 2


def test_a_bad_case_is_recorded_and_the_others_are_written(tmp_path):
    manifest = _manifest(tmp_path, missing_mask=True)
    with pytest.warns(UserWarning, match=r"1 case\(s\) failed and have no maps"):
        result = feature_maps(manifest, FAST, tmp_path / "maps")
    assert (result.n_computed, result.n_failed) == (1, 1)
    row = result.errors.iloc[0]
    assert row["case_id"] == "case0"
    assert row["stage"] == "read"
    assert row["message"] == "mask file does not exist"
    assert row["file"].endswith("c0_mask.nii.gz")
    assert (tmp_path / "maps" / "case1" / "original_firstorder_Mean.nii.gz").exists()


def test_nan_reaching_a_filter_and_exploding_bins_are_refused_like_extract(tmp_path):
    # case0: a NaN voxel outside the mask, which the wavelet would read;
    # case1: intensities of 1e9 with binWidth 25 (4e7 grey levels).
    manifest = _manifest(tmp_path)
    table = pd.read_csv(manifest)
    image = sitk.ReadImage(table["image"][0])
    array = sitk.GetArrayFromImage(image).astype(np.float32)
    mask = sitk.GetArrayFromImage(sitk.ReadImage(table["mask"][0]))
    outside = tuple(np.argwhere(mask == 0)[0])
    array[outside] = np.nan
    nan_image = _sitk(array, image.GetSpacing())
    sitk.WriteImage(nan_image, table["image"][0])
    image = sitk.ReadImage(table["image"][1])
    huge = sitk.GetArrayFromImage(image).astype(np.float64) * 1e9
    sitk.WriteImage(_sitk(huge, image.GetSpacing()), table["image"][1])
    settings = {
        "imageType": {"Wavelet": {}},
        "setting": {"binWidth": 25},
        "featureClass": {"glcm": ["Contrast"]},
    }
    with pytest.warns(UserWarning, match=r"2 case\(s\) failed and have no maps"):
        result = feature_maps(manifest, settings, tmp_path / "maps")
    errors = result.errors.set_index("case_id")
    assert errors["stage"].tolist() == ["validate", "validate"]
    index = tuple(int(i) for i in outside[::-1])
    assert errors.loc["case0", "message"].startswith(
        f"image holds 1 NaN or infinite voxel(s) outside the mask (the first at "
        f"voxel index {index}); image type(s) Wavelet use voxels outside the mask"
    )
    assert "binWidth" in errors.loc["case1", "message"]
    assert not list((tmp_path / "maps").rglob("*.nii.gz"))


def test_bad_arguments_are_refused(tmp_path):
    manifest = _manifest(tmp_path, n=1)
    with pytest.raises(ValueError, match="kernel_radius must be a positive integer"):
        feature_maps(manifest, FAST, tmp_path / "maps", kernel_radius=0)
    with pytest.raises(ValueError, match="n_jobs must be a non-zero integer"):
        feature_maps(manifest, FAST, tmp_path / "maps", n_jobs=0)


def test_cli_round_trip(tmp_path):
    import yaml
    from click.testing import CliRunner

    from radsarc.cli import main

    manifest = _manifest(tmp_path)
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(FAST))
    out = tmp_path / "maps"
    args = ["maps", str(manifest), "--params", str(params), "--out", str(out)]
    run = CliRunner().invoke(main, [*args, "--kernel-radius", "1", "-q"])
    assert run.exit_code == 0, run.output
    assert "wrote 6 maps (2 cases x 3 features)" in run.output
    assert "maps: 2 computed, 0 from cache, 0 failed" in run.output
    table = pd.read_csv(out / "maps.csv")
    assert list(table.columns) == ["case_id", "column", "path"]
    assert len(table) == 6
    image = sitk.ReadImage(str(tmp_path / "c1_img.nii.gz"))
    mask = sitk.ReadImage(str(tmp_path / "c1_mask.nii.gz"))
    expected, _ = compute_maps(image, mask, FAST, 1)
    written = sitk.GetArrayFromImage(
        sitk.ReadImage(str(out / "case1" / "original_firstorder_Mean.nii.gz"))
    )
    np.testing.assert_array_equal(
        written, expected["original_firstorder_Mean"].astype(np.float32)
    )
    again = CliRunner().invoke(main, [*args, "-q"])
    assert again.exit_code == 0, again.output
    assert "maps: 0 computed, 2 from cache, 0 failed" in again.output
    bad = CliRunner().invoke(main, [*args, "--kernel-radius", "0"])
    assert bad.exit_code == 2
    assert "--kernel-radius" in bad.output


def test_texture_maps_feed_the_voxel_table_and_the_blackledge2019_preset(tmp_path):
    from radsarc.features import voxel_features
    from radsarc.images import Cohort
    from radsarc.presets import make_preset

    manifest = _manifest(tmp_path)
    out = tmp_path / "maps"
    feature_maps(manifest, FAST, out)
    cohort = Cohort.from_csv(manifest)
    table = voxel_features(cohort, window=(1, 3, 3), texture_maps=out)
    assert {"original_glcm_Contrast", "original_firstorder_Mean"} <= set(table.columns)
    case = table.loc["case1"]
    contrast = sitk.GetArrayFromImage(
        sitk.ReadImage(str(out / "case1" / "original_glcm_Contrast.nii.gz"))
    )
    z, y, x = (case.index.get_level_values(n).to_numpy() for n in ("z", "y", "x"))
    np.testing.assert_array_equal(
        case["original_glcm_Contrast"].to_numpy(), contrast[z, y, x]
    )
    labels = (
        table["original_firstorder_Mean"] > table["original_firstorder_Mean"].median()
    ).astype(int)
    model = make_preset("blackledge2019").fit(table, labels)
    assert "original_glcm_Contrast" in model.feature_names_in_
    assert model.score(table, labels) > 0.6
    with pytest.raises(ValueError, match=r"No texture maps for case 'case0' in .*"):
        voxel_features(cohort, window=(1, 3, 3), texture_maps=tmp_path / "none")


def test_several_sequences_prefix_the_columns_like_extract(tmp_path):
    from radsarc.features import extract_features

    image, mask, spacing = _phantom(seed=5, shape=(6, 12, 12))
    t1 = write_image(tmp_path / "t1.nii.gz", image, spacing=spacing)
    t2 = write_image(tmp_path / "t2.nii.gz", image[:, ::-1].copy(), spacing=spacing)
    msk = write_image(tmp_path / "mask.nii.gz", mask, spacing=spacing)
    manifest = tmp_path / "manifest.csv"
    pd.DataFrame(
        [{"case_id": "p1", "image_T1": t1, "image_T2": t2, "mask": msk}]
    ).to_csv(manifest, index=False)
    result = feature_maps(manifest, FAST, tmp_path / "maps")
    columns = set(result.files["column"])
    extracted = extract_features(manifest, FAST)
    assert columns == set(extracted.columns)
    assert "T2_original_glcm_Contrast" in columns
    assert (tmp_path / "maps" / "p1" / "T1_original_glcm_Contrast.nii.gz").exists()


def test_threads_give_the_same_maps():
    image, mask, spacing = _phantom(seed=2)
    img, msk = _sitk(image, spacing), _sitk(mask, spacing)
    params = {"setting": {"binCount": 16}, "featureClass": ALL_CLASSES}
    one, _ = compute_maps(img, msk, params, 1)
    two, _ = compute_maps(img, msk, params, 1, threads=2)
    assert sorted(one) == sorted(two)
    for name in one:
        np.testing.assert_array_equal(one[name], two[name], err_msg=name)


@pytest.mark.parametrize("roi", ["lobulated", "cuboid"])
def test_flat_region_matches_pyradiomics(roi):
    # One gray level: pyradiomics' MCC is 1 (flat), unless a voxel has an empty
    # GLCM angle, when its eigenvalues of NaN fail for the batch (initValue).
    _, mask, spacing = _phantom(seed=4, shape=(6, 12, 12))
    if roi == "cuboid":
        mask = np.zeros_like(mask)
        mask[1:5, 3:9, 2:10] = 1
    image = np.full(mask.shape, 100.0, np.float32)
    img, msk = _sitk(image, spacing), _sitk(mask, spacing)
    params = {"setting": {"binWidth": 25}, "featureClass": ALL_CLASSES}
    expected = _pyradiomics_maps(img, msk, params)
    maps, _ = compute_maps(img, msk, params, 1)
    inside = mask == 1
    for name, want in expected.items():
        np.testing.assert_allclose(
            maps[name][inside], want[inside], rtol=1e-6, atol=1e-9, err_msg=name
        )
    mcc = maps["original_glcm_MCC"][inside]
    assert np.all(mcc == (1.0 if roi == "cuboid" else 0.0))


def test_filtered_image_types_match_pyradiomics():
    image, mask, spacing = _phantom(seed=6)
    img, msk = _sitk(image, spacing), _sitk(mask, spacing)
    params = {
        "imageType": {"Original": {}, "LoG": {"sigma": [1.0]}},
        "setting": {"binCount": 16},
        "featureClass": {"glcm": ["Contrast", "MCC"], "glrlm": ["RunEntropy"]},
    }
    expected = _pyradiomics_maps(img, msk, params)
    maps, _ = compute_maps(img, msk, params, 1)
    assert sorted(maps) == sorted(expected)
    assert "log-sigma-1-0-mm-3D_glcm_Contrast" in maps
    inside = mask == 1
    for name, want in expected.items():
        np.testing.assert_allclose(
            maps[name][inside], want[inside], rtol=1e-6, atol=1e-9, err_msg=name
        )


@pytest.mark.parametrize(("batch", "n_failed"), [(100, 57), (64, 0)])
def test_voxel_batches_fail_and_drop_angles_like_pyradiomics(batch, n_failed):
    # A cuboid and one isolated voxel, last in raster order: its GLCM angles are
    # empty. With voxelBatch 100 it shares the last batch (57 voxels) with
    # others, so pyradiomics' MCC fails there (initValue); with 64 it is alone
    # in its batch, whose empty angles are all dropped (NaN).
    image, _, spacing = _phantom(seed=1, shape=(7, 12, 12))
    mask = np.zeros(image.shape, np.uint8)
    mask[1:5, 2:10, 2:10] = 1
    mask[6, 5, 5] = 1
    img, msk = _sitk(image, spacing), _sitk(mask, spacing)
    params = {
        "setting": {"binCount": 16},
        "featureClass": {"glcm": ["MCC", "JointAverage", "Contrast"]},
        "voxelSetting": {"voxelBatch": batch},
    }
    expected = _pyradiomics_maps(img, msk, params)
    maps, _ = compute_maps(img, msk, params, 1)
    inside = mask == 1
    for name, want in expected.items():
        np.testing.assert_allclose(
            maps[name][inside], want[inside], rtol=1e-6, atol=1e-9, err_msg=name
        )
    assert (maps["original_glcm_MCC"][inside] == 0).sum() == n_failed
    assert np.isnan(maps["original_glcm_JointAverage"][6, 5, 5])
