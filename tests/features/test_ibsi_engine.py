"""The IBSI engine (radsarc.features.ibsi) against the IBSI-1 reference values.

Digital phantom (tests/data/ibsi, CC BY 4.0): every feature with a reference
value, IBSI's criterion (tolerance 0 = equal at the 3 significant digits of the
table; otherwise |value - reference| <= tolerance). CT radiomics phantom
(../shared/data/ibsi, CC BY-NC 3.0; skipped where absent): every feature of
configurations A-E within its tolerance.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
from scipy import ndimage

from radsarc.exceptions import SettingsError
from radsarc.features import ExtractionSettings, extract_features
from radsarc.features.ibsi import (
    PHANTOM_CONFIGS,
    IBSIConfig,
    compute_features,
    discretise,
    ibsi_feature_code,
    interpolate,
    preprocess,
    resegment,
    texture_features,
)
from radsarc.features.ibsi._morphology import _autocorrelation
from radsarc.images import Cohort
from tests.conftest import TEST_DATA, shared_data

IBSI_DATA = TEST_DATA / "ibsi"
PHANTOM = IBSI_DATA / "phantom.nii.gz"
MASK = IBSI_DATA / "mask.nii.gz"
REFERENCE = pd.read_csv(
    IBSI_DATA / "ibsi_1_reference_values_digital_phantom.csv", encoding="utf-8-sig"
)
REFERENCE = REFERENCE[REFERENCE["reference value"].notna()]


def _digits(ref: float) -> int:
    """Significant digits the table gives ``ref`` with (at least 3)."""
    return next(k for k in range(3, 16) if float(f"{ref:.{k}g}") == ref)


def _passes(value: float, ref: float, tol: float) -> bool:
    if tol == 0:  # equal at the significant digits of the table
        k = _digits(ref)
        return float(f"{value:.{k}g}") == pytest.approx(ref, rel=1e-12, abs=1e-15)
    return abs(value - ref) <= tol + 1e-9 * abs(ref)


@pytest.fixture(scope="module")
def phantom_values():
    return compute_features(
        sitk.ReadImage(str(PHANTOM)),
        sitk.ReadImage(str(MASK)),
        PHANTOM_CONFIGS["digital_phantom"],
    )


@pytest.mark.parametrize(
    ("tag", "ref", "tol"),
    list(REFERENCE[["tag", "reference value", "tolerance"]].itertuples(index=False)),
    ids=list(REFERENCE["tag"]),
)
def test_digital_phantom(phantom_values, tag, ref, tol):
    assert tag in phantom_values
    assert _passes(phantom_values[tag], ref, tol), (phantom_values[tag], ref, tol)


def test_digital_phantom_covers_every_reference_feature(phantom_values):
    assert len(REFERENCE) == 482
    assert set(REFERENCE["tag"]) <= set(phantom_values)


@pytest.fixture(scope="module")
def ct_phantom():
    folder = shared_data("ibsi", "ibsi1_ct_radiomics_phantom", "nifti")
    return (
        sitk.ReadImage(str(folder / "image" / "phantom.nii.gz")),
        sitk.ReadImage(str(folder / "mask" / "mask.nii.gz")),
    )


@pytest.mark.parametrize("config", ["A", "B", "C", "D", "E"])
def test_ct_phantom_configuration(ct_phantom, config):
    ref = pd.read_csv(
        shared_data(
            "ibsi",
            "ibsi1_reference_values",
            f"ibsi_1_reference_values_config_{config}.csv",
        ),
        encoding="utf-8-sig",
    )
    ref = ref[ref["reference value"].notna() & ~ref["family"].str.startswith("Diag")]
    values = compute_features(*ct_phantom, PHANTOM_CONFIGS[config])
    failures = [
        (r.tag, values.get(r.tag), r._4, r.tolerance)
        for r in ref.itertuples(index=False)
        if r.tag not in values or not _passes(values[r.tag], r._4, r.tolerance)
    ]
    assert len(ref) in (346, 210)  # 2D/2.5D configurations, 3D configurations
    assert failures == []


def test_ct_phantom_diagnostics(ct_phantom):
    ref = pd.read_csv(
        shared_data(
            "ibsi", "ibsi1_reference_values", "ibsi_1_reference_values_config_C.csv"
        ),
        encoding="utf-8-sig",
    )
    ref = ref[ref["family"].str.startswith("Diag")]
    values = compute_features(
        *ct_phantom,
        dataclasses.replace(PHANTOM_CONFIGS["C"], families=("stat",)),
        crop=False,
        diagnostics=True,
    )
    assert len(ref) == 60
    for r in ref.itertuples(index=False):
        assert _passes(values[r.tag], r._4, r.tolerance), (r.tag, values[r.tag], r._4)


# --- processing steps ---------------------------------------------------------
def test_interpolation_grid_is_centred():
    z, y, x = np.meshgrid(np.arange(3), np.arange(4), np.arange(5), indexing="ij")
    image = 20.0 * z + 5.0 * y + x  # linear: trilinear interpolation is exact
    mask = np.ones_like(image, dtype=np.uint8)
    out, new_mask, spacing, shape = interpolate(
        image,
        mask,
        IBSIConfig(spacing=(2.0, 2.0, 2.0)),
        spacing=(1.0, 1.5, 3.0),
        crop=False,
    )
    # n_new = ceil(n s / s_new): x 5 -> 3, y 4 * 1.5 / 2 -> 3, z 3 * 3 / 2 -> 5;
    # the grids share their centre: new index j sits at original index
    # ((n - 1) s - (m - 1) s_new) / (2 s) + j s_new / s.
    assert shape == (5, 3, 3)
    assert spacing == (2.0, 2.0, 2.0)
    xc = np.array([0.0, 2.0, 4.0])
    yc = (4.5 - 4.0) / 3.0 + np.arange(3) * 2.0 / 1.5
    zc = (6.0 - 8.0) / 6.0 + np.arange(5) * 2.0 / 3.0
    expected = (
        20.0 * np.clip(zc, 0, 2)[:, None, None]  # outside: nearest value
        + 5.0 * yc[None, :, None]
        + xc[None, None, :]
    )
    np.testing.assert_allclose(out, expected, atol=1e-9)
    assert new_mask.all()
    # tricubic spline: scipy's spline interpolation at the same points
    cubic, _, _, _ = interpolate(
        image,
        mask,
        IBSIConfig(spacing=(2.0, 2.0, 2.0), interpolation="cubic"),
        spacing=(1.0, 1.5, 3.0),
        crop=False,
    )
    points = np.meshgrid(zc, yc, xc, indexing="ij")
    np.testing.assert_allclose(
        cubic,
        ndimage.map_coordinates(image, points, order=3, mode="mirror"),
        atol=1e-9,
    )


def test_mask_partial_volume_threshold():
    mask = np.zeros((1, 1, 4), dtype=np.uint8)
    mask[0, 0, :2] = 1
    image = np.zeros(mask.shape)
    _, m, _, shape = interpolate(
        image,
        mask,
        IBSIConfig(spacing=(0.5, None, None)),
        spacing=(1, 1, 1),
        crop=False,
    )
    # 8 new voxels at original x index -0.25, 0.25, ..., 3.25; the linear mask
    # there (0 outside the image) is 0.75, 1, 1, 0.75, 0.25, 0, 0, 0
    assert shape == (1, 1, 8)
    assert m[0, 0].tolist() == [True] * 4 + [False] * 4
    _, m, _, _ = interpolate(
        image,
        mask,
        IBSIConfig(spacing=(0.5, None, None), mask_threshold=0.8),
        spacing=(1, 1, 1),
        crop=False,
    )
    assert m[0, 0].tolist() == [False, True, True] + [False] * 5


def test_fixed_bin_size_starts_at_resegmentation_bound():
    values = np.array([-500.0, -476.0, -475.0, 0.0, 399.0])
    assert discretise(values, "fbs", bin_width=25, lower_bound=-500).tolist() == [
        1,
        1,
        2,
        21,
        36,
    ]
    # without a range: the ROI minimum
    assert discretise(values + 3, "fbs", bin_width=25).tolist() == [1, 1, 2, 21, 36]
    assert discretise(values, "fbn", n_bins=4).tolist() == [1, 1, 1, 3, 4]


def test_resegmentation_range_then_outliers():
    rng = np.random.default_rng(0)
    image = rng.normal(size=(4, 10, 10))
    image[0, 0, 0] = 50.0
    image[0, 0, 1] = -2000.0
    mask = np.ones(image.shape, dtype=bool)
    out = resegment(image, mask, IBSIConfig(resegment_range=(-1000, None)))
    assert out.sum() == image.size - 1
    out = resegment(
        image, mask, IBSIConfig(resegment_range=(-1000, None), resegment_outliers=3)
    )
    kept = image[resegment(image, mask, IBSIConfig(resegment_range=(-1000, None)))]
    mu, sd = kept.mean(), kept.std()
    assert out.sum() == int(np.sum(np.abs(kept - mu) <= 3 * sd))
    assert not out[0, 0, 0]


def test_moran_and_geary_equal_the_pairwise_sums():
    rng = np.random.default_rng(1)
    image = rng.normal(size=(5, 7, 6)) * 100 - 300
    mask = rng.random(image.shape) > 0.4
    spacing = (2.0, 1.0, 0.7)
    moran, geary = _autocorrelation(image, mask, spacing)
    pos = np.argwhere(mask) * spacing
    x = image[mask]
    dev = x - x.mean()
    d = np.sqrt(((pos[:, None] - pos[None]) ** 2).sum(-1))
    w = np.where(d > 0, 1 / np.where(d > 0, d, 1), 0)
    n = len(x)
    assert moran == pytest.approx(
        n / w.sum() * (dev[:, None] * dev[None] * w).sum() / (dev**2).sum(),
        rel=1e-5,
    )
    assert geary == pytest.approx(
        (n - 1)
        * (w * (x[:, None] - x[None]) ** 2).sum()
        / (2 * w.sum() * (dev**2).sum()),
        rel=1e-5,
    )


def _naive_runs(g, d):
    """Run lengths along direction d by walking every line (test only)."""
    runs = []
    shape = g.shape
    for start in np.ndindex(*shape):
        prev = tuple(s - o for s, o in zip(start, d, strict=True))
        inside = all(0 <= p < n for p, n in zip(prev, shape, strict=True))
        if g[start] == 0 or (inside and g[prev] == g[start]):
            continue
        length, pos = 0, start
        while all(0 <= p < n for p, n in zip(pos, shape, strict=True)) and (
            g[pos] == g[start]
        ):
            length += 1
            pos = tuple(p + o for p, o in zip(pos, d, strict=True))
        runs.append((g[start], length))
    return sorted(runs)


def test_run_lengths_match_a_naive_walk():
    from radsarc.features.ibsi._texture import DIRS_3D, _glrlm_counts

    rng = np.random.default_rng(2)
    g = rng.integers(0, 3, size=(4, 5, 6))
    counts = _glrlm_counts(np.pad(g, 1), 2, DIRS_3D, 1)[:, 0]
    for k, d in enumerate(DIRS_3D):
        lev, length = np.nonzero(counts[k])
        got = sorted(
            (int(a) + 1, int(b) + 1)
            for a, b in zip(lev, length, strict=True)
            for _ in range(int(counts[k, a, b]))
        )
        assert got == _naive_runs(g, d), d


def test_texture_rejects_unknown_family():
    g = np.ones((2, 2, 2), dtype=int)
    with pytest.raises(ValueError, match="Unknown texture family 'xx'"):
        texture_features(g, g > 0, g > 0, ["xx"])


def test_empty_roi_is_an_error():
    image = np.zeros((3, 3, 3))
    with pytest.raises(ValueError, match="no voxels with label 1"):
        preprocess(image, np.zeros((3, 3, 3)), spacing=(1, 1, 1))
    with pytest.raises(ValueError, match="pass spacing"):
        preprocess(image, np.ones((3, 3, 3)))
    with pytest.raises(ValueError, match="empty after re-segmentation"):
        preprocess(
            image, np.ones((3, 3, 3)), {"resegment_range": [5, 10]}, spacing=(1, 1, 1)
        )


def test_feature_codes():
    assert ibsi_feature_code("cm_contrast_3D_avg") == "ACUI"
    assert ibsi_feature_code("T1_original_stat_kurt") == "IPH6"
    assert ibsi_feature_code("original_szm_sze_2_5D") == "5QRC"
    assert ibsi_feature_code("dzm_zd_entr_2D") == "GBDU"
    assert ibsi_feature_code("original_glcm_Contrast") is None
    # the package-wide lookup resolves both engines' columns
    from radsarc.features import ibsi_code

    assert ibsi_code("T1_original_cm_contrast_3D_avg") == "ACUI"
    assert ibsi_code("original_glcm_Contrast") == "ACUI"
    assert ibsi_code("original_glcm_MCC") is None
    # every computed tag has a code
    tags = set(REFERENCE["tag"])
    assert all(ibsi_feature_code(t) for t in tags)


# --- settings and extract_features ----------------------------------------------
def test_settings_select_the_ibsi_engine():
    s = ExtractionSettings.from_dict(
        {"setting": {"engine": "ibsi", "ibsi": {"spacing": [1, 1, None]}}}
    )
    assert s.engine == "ibsi"
    assert s.ibsi_config.spacing == (1.0, 1.0, None)
    assert ExtractionSettings().engine == "pyradiomics"
    # the engine is part of the cache key
    plain = ExtractionSettings.from_dict({"setting": {"engine": "ibsi"}})
    assert plain.digest != ExtractionSettings().digest
    again = ExtractionSettings.from_yaml if False else ExtractionSettings.from_dict
    import yaml

    assert again(yaml.safe_load(s.to_yaml())).digest == s.digest


@pytest.mark.parametrize(
    ("params", "match"),
    [
        (
            {"setting": {"engine": "ibsi", "binWidth": 25}},
            "Setting 'binWidth' is a pyradiomics setting and is not used by the IBSI",
        ),
        ({"setting": {"ibsi": {}}}, "expected 'engine: ibsi' with it"),
        (
            {"setting": {"engine": "ibsi", "ibsi": {"bin_widht": 3}}},
            "Unknown IBSI setting 'bin_widht'. Did you mean 'bin_width'",
        ),
        ({"setting": {"engine": "ibsy"}}, r"'engine' must be among \['pyradiomics'"),
        (
            {"setting": {"engine": "ibsi", "ibsi": {"discretisation": "fbw"}}},
            "'discretisation' must be one of",
        ),
        (
            {"setting": {"engine": "ibsi", "ibsi": {"resegment_range": [5, 1]}}},
            "low < high",
        ),
        (
            {"setting": {"engine": "ibsi"}, "imageType": {"LoG": {"sigma": [1.0]}}},
            "does not use pyradiomics. image types",
        ),
        (
            {
                "setting": {"engine": "ibsi", "ibsi": {"spacing": [1, 1, 1]}},
                "preprocessing": {"resample": {"spacing": [1, 1, 3]}},
            },
            "Both preprocessing.resample and setting.ibsi.spacing are given",
        ),
        (
            {"setting": {"engine": "ibsi"}, "featureClass": {"glcm": None}},
            "choose IBSI families",
        ),
    ],
)
def test_bad_ibsi_settings(params, match):
    with pytest.raises(SettingsError, match=match):
        ExtractionSettings.from_dict(params)


def test_extract_features_with_the_ibsi_engine(tmp_path):
    cohort = Cohort.from_frame(
        pd.DataFrame(
            [("phantom", str(PHANTOM), str(MASK))], columns=["case_id", "image", "mask"]
        )
    )
    params = {"setting": {"engine": "ibsi", "ibsi": {"discretisation": "none"}}}
    result = extract_features(cohort, params, return_result=True, cache_dir=tmp_path)
    assert result.errors.empty
    row = result.features.loc["phantom"]
    assert len(row) == 215  # 3D aggregation only
    direct = compute_features(
        sitk.ReadImage(str(PHANTOM)),
        sitk.ReadImage(str(MASK)),
        IBSIConfig(discretisation="none"),
    )
    for tag, value in direct.items():
        got = row[f"original_{tag}"]
        assert (math.isnan(value) and math.isnan(got)) or got == pytest.approx(
            value, rel=1e-12
        )
    assert row["original_cm_joint_max_3D_avg"] == pytest.approx(0.503, abs=5e-4)
    assert (
        result.diagnostics.loc[
            "phantom", "diagnostics_ibsi_int_mask_vox_count_reseg_roi"
        ]
        == 74
    )
    # the cache answers the second run
    again = extract_features(cohort, params, return_result=True, cache_dir=tmp_path)
    assert again.n_cached == 1


def test_ibsi_engine_with_an_ibsi2_filter():
    from radsarc.features.ibsi import IBSIEngine, features_of, intensity_statistics
    from radsarc.images._filters import ImageFilter

    cohort = Cohort.from_frame(
        pd.DataFrame(
            [("phantom", str(PHANTOM), str(MASK))], columns=["case_id", "image", "mask"]
        )
    )
    params = {
        "setting": {"engine": "ibsi", "ibsi": {"discretisation": "none"}},
        "filter": [{"name": "mean", "support": 3, "boundary": "nearest"}],
    }
    row = extract_features(cohort, params).loc["phantom"]
    image_filter = ImageFilter("mean", {"support": 3, "boundary": "nearest"})
    pre = preprocess(
        sitk.ReadImage(str(PHANTOM)), sitk.ReadImage(str(MASK)), crop=False
    )
    response = image_filter(pre.image, pre.spacing)
    expected = intensity_statistics(response[pre.int_mask])
    prefix = image_filter.type_name
    assert {k for k in row.index if k.startswith(prefix)} == {
        f"{prefix}_{k}" for k in expected
    }
    for tag, value in expected.items():
        assert row[f"{prefix}_{tag}"] == pytest.approx(value, rel=1e-12)
    # the unfiltered features are those of the engine without the filter
    plain = features_of(pre, IBSIConfig(discretisation="none"))
    assert row["original_stat_mean"] == pytest.approx(plain["stat_mean"])
    assert IBSIEngine(IBSIConfig()).n_units() == 1


def test_histogram_moments_from_counts_equal_sorting():
    from radsarc.features.ibsi._intensity import _level_moments, _moments

    rng = np.random.default_rng(3)
    for _ in range(100):
        g = rng.integers(1, rng.integers(2, 12), size=rng.integers(1, 60))
        by_sorting = _moments(g, "ih")
        by_counts = _level_moments(np.bincount(g)[1:].astype(float))
        for key, value in by_sorting.items():
            assert by_counts[key] == pytest.approx(value, rel=1e-10, nan_ok=True)


def test_tiny_rois_give_undefined_values_not_errors():
    rng = np.random.default_rng(4)
    image = rng.normal(100, 20, size=(10, 12, 14))
    config = IBSIConfig(aggregation=("2D", "2.5D", "3D"))
    one = np.zeros(image.shape, dtype=np.uint8)
    one[5, 6, 7] = 1
    values = compute_features(image, one, config, spacing=(1, 1, 2))
    assert values["morph_vol_approx"] == 2.0
    assert values["stat_mean"] == image[5, 6, 7]
    assert math.isnan(values["cm_contrast_3D_avg"])  # no voxel pairs
    assert values["szm_sze_3D"] == 1.0
    flat = np.zeros(image.shape, dtype=np.uint8)
    flat[5, 3:9, 3:9] = 1
    values = compute_features(image, flat, config, spacing=(1, 1, 2))
    assert values["morph_pca_least_axis"] == 0.0
    assert math.isnan(values["morph_vol_dens_aee"])  # a flat ellipsoid
    assert np.isfinite(values["morph_vol_dens_mvee"])


def test_statistics_of_integer_intensities_from_a_histogram():
    from radsarc.features.ibsi import intensity_statistics
    from radsarc.features.ibsi._intensity import _moments

    rng = np.random.default_rng(5)
    x = rng.integers(-1000, 400, size=5000).astype(float)
    fast = intensity_statistics(x)  # integer values: histogram path
    slow = _moments(x, "stat")
    for key, value in slow.items():
        assert fast[key] == pytest.approx(value, rel=1e-9, abs=1e-9)
    assert fast["stat_energy"] == pytest.approx(np.sum(x**2), rel=1e-12)


def test_texture_maps_refuse_the_ibsi_engine(tmp_path):
    from radsarc.features import feature_maps

    cohort = Cohort.from_frame(
        pd.DataFrame(
            [("phantom", str(PHANTOM), str(MASK))], columns=["case_id", "image", "mask"]
        )
    )
    with pytest.raises(ValueError, match="'engine: ibsi' are for extract_features"):
        feature_maps(cohort, {"setting": {"engine": "ibsi"}}, tmp_path / "maps")


def test_enclosing_ellipsoid_and_oriented_box():
    from scipy.spatial import ConvexHull

    from radsarc.features.ibsi._morphology import _ellipsoid_area, _mvee, _ombb

    rng = np.random.default_rng(6)
    rotation = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    u = rng.normal(size=(2000, 3))
    u /= np.linalg.norm(u, axis=1)[:, None]
    on_ellipsoid = (u * [3.0, 2.0, 1.0]) @ rotation.T + [5.0, -2.0, 1.0]
    # Khachiyan stops within 0.1 % of the optimum in the ellipsoid's metric
    np.testing.assert_allclose(_mvee(on_ellipsoid), [3.0, 2.0, 1.0], rtol=5e-3)
    corners = np.array(np.meshgrid([0, 4], [0, 2], [0, 1], indexing="ij"))
    box = corners.reshape(3, -1).T.astype(float) @ rotation.T
    volume, area = _ombb(box, ConvexHull(box))
    assert volume == pytest.approx(8.0, rel=1e-9)
    assert area == pytest.approx(28.0, rel=1e-9)
    assert _ellipsoid_area(2.0, 2.0, 2.0) == pytest.approx(16 * math.pi)


def test_many_sparse_grey_levels_use_the_levels_present():
    """N_g = 20000 but 3 levels present: matrices over the present levels only
    (a dense 20000 x 20000 GLCM per direction would not fit in memory)."""
    from radsarc.features.ibsi._texture import DIRS_3D

    rng = np.random.default_rng(7)
    g = rng.choice([1, 7000, 20000], size=(4, 5, 6))
    mask = np.ones(g.shape, dtype=bool)
    values = texture_features(g, mask, mask, ["cm", "ngt"], ["3D"])
    pairs = []
    for d in DIRS_3D:
        a = g[max(0, -d[0]) : 4 - max(0, d[0]), max(0, -d[1]) : 5 - max(0, d[1]),
              max(0, -d[2]) : 6 - max(0, d[2])]  # fmt: skip
        b = g[max(0, d[0]) : 4 + min(0, d[0]) or None,
              max(0, d[1]) : 5 + min(0, d[1]) or None,
              max(0, d[2]) : 6 + min(0, d[2]) or None]  # fmt: skip
        pairs.append(np.stack([a.ravel(), b.ravel()]))
    i, j = np.concatenate(pairs, axis=1).astype(float)
    i, j = np.concatenate([i, j]), np.concatenate([j, i])  # symmetric
    assert values["cm_contrast_3D_comb"] == pytest.approx(np.mean((i - j) ** 2))
    assert values["cm_inv_diff_norm_3D_comb"] == pytest.approx(
        np.mean(1 / (1 + np.abs(i - j) / 20000))
    )
    assert np.isfinite(values["ngt_coarseness_3D"])


def test_too_many_grey_levels_is_a_clear_error():
    rng = np.random.default_rng(8)
    image = rng.normal(0, 1000, size=(8, 30, 30))
    mask = np.ones(image.shape, dtype=np.uint8)
    with pytest.raises(ValueError, match=r"grey levels are present in the ROI .* at"):
        compute_features(
            image,
            mask,
            {"discretisation": "fbs", "bin_width": 1, "families": ["cm"]},
            spacing=(1, 1, 1),
        )


def test_filters_on_the_cropped_image_equal_whole_image_filtering():
    from radsarc.features.ibsi import IBSIEngine, intensity_statistics
    from radsarc.images._filters import ImageFilter

    rng = np.random.default_rng(9)
    array = rng.normal(100, 30, size=(24, 48, 50))
    roi = np.zeros(array.shape, dtype=np.uint8)
    roi[10:14, 20:28, 22:30] = 1
    image = sitk.GetImageFromArray(array)
    image.SetSpacing((1.0, 1.0, 2.0))
    mask = sitk.GetImageFromArray(roi)
    mask.CopyInformation(image)
    config = IBSIConfig(spacing=(1.5, 1.5, 1.5), families=("stat",))
    log = ImageFilter("log", {"sigma": 2.0, "boundary": "mirror"})
    features, _ = IBSIEngine(config, filters=[log]).extract(image, mask, 1)
    whole = preprocess(image, mask, config, crop=False)
    assert whole.image.shape == (32, 32, 34)  # the whole grid, not a crop
    expected = intensity_statistics(log(whole.image, whole.spacing)[whole.int_mask])
    for tag, value in expected.items():
        assert features[f"{log.type_name}_{tag}"] == pytest.approx(value, rel=1e-9)
