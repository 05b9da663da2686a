"""MRI preprocessing steps against hand-made images with known answers."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from numpy.testing import assert_allclose
from scipy import ndimage

from radsarc.exceptions import SettingsError
from radsarc.features import ExtractionSettings
from radsarc.images import (
    PreprocessingConfig,
    apply_nyul,
    body_mask,
    learn_nyul_landmarks,
    n4_correct,
    normalize_percentile,
    normalize_zscore,
    peritumoral_ring,
    preprocess,
    resample_image,
    resample_mask,
    resegment,
)


def _image(arr, spacing=(1.0, 1.0, 1.0)):
    img = sitk.GetImageFromArray(np.asarray(arr))
    img.SetSpacing(spacing)
    return img


def _arr(img):
    return sitk.GetArrayFromImage(img)


def _limb(shape=(16, 64, 64), radius=24.0, value=100.0):
    """A cylinder along z (the body) with a ball (the tumour) in its centre."""
    z, y, x = np.indices(shape, dtype=float)
    c = [(n - 1) / 2 for n in shape]
    body = (y - c[1]) ** 2 + (x - c[2]) ** 2 <= radius**2
    ball = (z - c[0]) ** 2 + (y - c[1]) ** 2 + (x - c[2]) ** 2 <= 6.0**2
    img = np.where(body, value, 0.0)
    img[ball] = 2 * value
    return img, body, ball


def test_body_mask_is_the_limb():
    img, body, _ = _limb()
    rng = np.random.default_rng(0)
    noisy = img + rng.normal(0, 3, img.shape)
    found = _arr(body_mask(_image(noisy))).astype(bool)
    # Smoothing moves the boundary by at most about a voxel: > 97 % overlap.
    dice = 2 * (found & body).sum() / (found.sum() + body.sum())
    assert dice > 0.97


def test_n4_removes_a_smooth_multiplicative_field():
    img, body, _ = _limb(value=100.0)
    img[img > 0] = 100.0  # flat tissue, so any variation is the bias field
    z, y, x = np.indices(img.shape, dtype=float)
    field = 1.0 + 0.5 * (x - 32) / 32
    biased = _image(img * field)
    cv_before = (img * field)[body].std() / (img * field)[body].mean()
    corrected = _arr(n4_correct(biased, _image(body.astype(np.uint8))))
    cv_after = corrected[body].std() / corrected[body].mean()
    assert cv_before > 0.15
    assert cv_after < 0.5 * cv_before


def test_resample_image_is_exact_for_linear_on_a_linear_ramp():
    z, y, x = np.indices((10, 20, 20), dtype=float)
    ramp = _image(2.0 * x + 3.0 * y + 5.0 * z, spacing=(1.0, 1.0, 1.0))
    out = resample_image(ramp, (2.0, 2.0, 1.0), "linear")
    assert out.GetSize() == (10, 10, 10)
    assert out.GetSpacing() == (2.0, 2.0, 1.0)
    zz, yy, xx = np.indices((10, 10, 10), dtype=float)
    expected = 2.0 * (2 * xx) + 3.0 * (2 * yy) + 5.0 * zz
    assert_allclose(_arr(out), expected, atol=1e-4)


def test_resample_mask_nearest_and_partial_volume():
    _, _, ball = _limb(shape=(32, 32, 32))
    mask = _image(ball.astype(np.uint8))
    ref = resample_image(mask, (0.5, 0.5, 0.5))
    for mode in ("nearest", "partial_volume"):
        fine = resample_mask(mask, ref, mode=mode)
        volume = _arr(fine).sum() * 0.125
        assert volume == pytest.approx(ball.sum(), rel=0.1)
    # Partial volume with a high threshold keeps only the core.
    strict = resample_mask(mask, ref, mode="partial_volume", threshold=0.99)
    assert _arr(strict).sum() < _arr(resample_mask(mask, ref)).sum()


def test_zscore_and_percentile_normalisation():
    rng = np.random.default_rng(1)
    arr = rng.gamma(3.0, 20.0, (8, 16, 16))
    region = np.zeros(arr.shape, np.uint8)
    region[2:6, 4:12, 4:12] = 1
    img, reg = _image(arr), _image(region)
    z = _arr(normalize_zscore(img, reg))[region == 1]
    assert_allclose([z.mean(), z.std()], [0.0, 1.0], atol=1e-5)
    p = _arr(normalize_percentile(img, reg, percentiles=(1, 99), scale=100))
    assert_allclose(np.percentile(p[region == 1], [1, 99]), [0.0, 100.0], atol=1e-3)
    with pytest.raises(ValueError, match=r"z-score normalisation needs a region"):
        normalize_zscore(
            _image(np.ones((4, 4, 4))), _image(np.ones((4, 4, 4), np.uint8))
        )


def test_nyul_landmarks_and_mapping():
    rng = np.random.default_rng(2)
    base = rng.gamma(2.0, 30.0, (8, 20, 20))
    region = _image(np.ones(base.shape, np.uint8))
    a, b = _image(base), _image(3.0 * base + 50.0)  # same shape, other scanner scale
    landmarks = learn_nyul_landmarks([(a, region), (b, region)])
    assert landmarks[0] == 0.0
    assert landmarks[-1] == pytest.approx(100.0)
    # An affine change of intensity scale does not change the landmarks.
    assert_allclose(landmarks, learn_nyul_landmarks([(a, region)]), atol=1e-9)
    # After mapping, both images are on the same standard scale.
    ma, mb = (
        _arr(apply_nyul(a, region, landmarks)),
        _arr(apply_nyul(b, region, landmarks)),
    )
    assert_allclose(ma, mb, atol=1e-3)
    pct = np.percentile(ma, [1, 10, 50, 90, 99])
    assert_allclose(pct, np.asarray(landmarks)[[0, 1, 5, 9, 10]], atol=1e-3)
    with pytest.raises(ValueError, match=r"landmarks have 3 values; expected one per"):
        apply_nyul(a, region, [0, 50, 100])
    with pytest.raises(ValueError, match=r"needs at least one training image"):
        learn_nyul_landmarks([])


def test_resegment_and_ring_against_brute_force():
    img, body, ball = _limb(shape=(20, 40, 40), radius=18.0)
    spacing = (0.8, 0.8, 2.0)
    mask = _image(ball.astype(np.uint8), spacing)
    image = _image(img, spacing)
    kept = _arr(resegment(image, mask, 150.0, None))
    assert kept.sum() == ball.sum()
    assert _arr(resegment(image, mask, None, 150.0)).sum() == 0
    ring = _arr(peritumoral_ring(mask, _image(body.astype(np.uint8), spacing), 4.0))
    # Brute force: exact Euclidean distance (mm) from every voxel to the tumour.
    dist = ndimage.distance_transform_edt(~ball, sampling=spacing[::-1])
    expected = (dist > 0) & (dist <= 4.0) & body
    np.testing.assert_array_equal(ring.astype(bool), expected)


def test_preprocess_pipeline_regions_and_errors():
    img, body, ball = _limb()
    image, mask = _image(img + 1.0), _image(ball.astype(np.uint8))
    cfg = PreprocessingConfig.from_dict(
        {
            "resample": {"spacing": [2.0, 2.0, 2.0], "mask": "partial_volume"},
            "normalize": {"method": "zscore", "region": "body"},
            "ring": {"thickness_mm": 4.0},
        }
    )
    assert cfg.regions == ("", "ring")
    out, regions = preprocess(image, mask, cfg)
    assert out.GetSpacing() == (2.0, 2.0, 2.0)
    assert set(regions) == {"", "ring"}
    assert _arr(regions["ring"]).sum() > 0
    assert not (_arr(regions["ring"]) & _arr(regions[""])).any()
    untouched, only = preprocess(image, mask, PreprocessingConfig())
    assert untouched is image
    assert only[""] is mask
    cut = PreprocessingConfig.from_dict({"resegment": {"range": [1e6, None]}})
    with pytest.raises(
        ValueError, match=r"no voxel of the ROI is inside the resegment"
    ):
        preprocess(image, mask, cut)
    nyul = PreprocessingConfig.from_dict(
        {"normalize": {"method": "nyul", "landmarks": {"T1": list(range(11))}}}
    )
    with pytest.raises(ValueError, match=r"no Nyul landmarks for sequence 'T2FS'"):
        preprocess(image, mask, nyul, sequence="T2FS")


@pytest.mark.parametrize(
    ("steps", "match"),
    [
        ({"rings": {}}, r"Unknown preprocessing step 'rings'\. Did you mean 'ring'\?"),
        (
            {"ring": {"thickness": 3}},
            r"Unknown setting preprocessing\.ring\.'thickness'\. "
            r"Did you mean 'thickness_mm'",
        ),
        ({"ring": {}}, r"preprocessing\.ring needs 'thickness_mm'"),
        (
            {"resample": {"spacing": [1, 1]}},
            r"preprocessing\.resample\.spacing must be a list of 3 numbers",
        ),
        ({"resample": {"spacing": [1, 1, 0]}}, r"3 spacings > 0"),
        (
            {"resample": {"spacing": [1, 1, 1], "mask": "linear"}},
            r"preprocessing\.resample\.mask must be one of "
            r"\['nearest', 'partial_volume'\]",
        ),
        (
            {"normalize": {"method": "nyul"}},
            r"method 'nyul' needs 'landmarks' per sequence, learned on training images",
        ),
        (
            {"normalize": {"method": "zscore", "percentiles": [99, 1]}},
            r"two increasing percentiles",
        ),
        ({"resegment": {"range": [3, -3]}}, r"\[low, high\] with low < high"),
    ],
)
def test_bad_preprocessing_settings(steps, match):
    with pytest.raises(SettingsError, match=match):
        PreprocessingConfig.from_dict(steps)


def test_preprocessing_is_part_of_the_extraction_settings():
    plain = ExtractionSettings.from_dict({"setting": {"binWidth": 5}})
    ring = ExtractionSettings.from_dict(
        {"setting": {"binWidth": 5}, "preprocessing": {"ring": {"thickness_mm": 5}}}
    )
    assert ring.digest != plain.digest
    assert "preprocessing" not in ring.to_dict()  # the pyradiomics parameters
    assert ring.to_full_dict()["preprocessing"] == {"ring": {"thickness_mm": 5.0}}
    assert "thickness_mm: 5.0" in ring.to_yaml()
    with pytest.raises(SettingsError, match=r"Unknown preprocessing step 'n3'"):
        ExtractionSettings.from_dict({"preprocessing": {"n3": {}}})


def test_nyul_learned_on_a_training_cohort_through_the_settings(small_cohort):
    from radsarc.features import extract_features

    train = small_cohort.subset(small_cohort.case_ids[:4])
    base = ExtractionSettings.from_dict(
        {
            "featureClass": {"firstorder": None},
            "setting": {"binWidth": 2.0},
            "preprocessing": {"resample": {"spacing": [2.0, 2.0, 3.0]}},
        }
    )
    settings = base.with_nyul_landmarks(train)
    landmarks = settings.preprocessing.steps["normalize"]["landmarks"]
    assert set(landmarks) == {"T1", "T2FS"}
    for lm in landmarks.values():
        assert lm[0] == 0.0
        assert lm[-1] == pytest.approx(100.0)
        assert np.all(np.diff(lm) > 0)
    assert settings.digest != base.digest
    # Every case, training or not, lands on the standard scale.
    result = extract_features(small_cohort, settings, return_result=True)
    assert result.errors.empty
    assert result.features["T1_original_firstorder_Maximum"].max() < 300
