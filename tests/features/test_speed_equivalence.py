"""radsarc's faster engine gives pyradiomics' values, feature by feature.

Every test runs plain pyradiomics (``RadiomicsFeatureExtractor(params).execute``)
and radsarc's engine on the same image and mask and compares every feature:
relative difference <= 1e-6 (measured: < 1e-12), maximum diameters exactly equal,
and the diagnostics equal.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
import SimpleITK as sitk
from scipy import ndimage

from radsarc.features import _mesh
from radsarc.features._pyradiomics import (
    _SMALL_MESH,
    Engine,
    _plain,
    cube_tables,
    shape_coefficients,
)
from tests.conftest import PYRADIOMICS_DATA

radiomics = pytest.importorskip("radiomics")
from radiomics import cShape  # noqa: E402
from radiomics.featureextractor import RadiomicsFeatureExtractor  # noqa: E402

RTOL = 1e-6


def _assert_same(params, image, mask, label=1):
    """Compare radsarc's engine with pyradiomics; return the number of features."""
    radiomics.setVerbosity(logging.ERROR)
    expected = RadiomicsFeatureExtractor(params).execute(image, mask, label=label)
    features, diagnostics = Engine(params).extract(image, mask, label)
    names = [k for k in expected if not k.startswith("diagnostics_")]
    assert sorted(names) == sorted(features)
    for name in names:
        want, got = float(expected[name]), features[name]
        if "Diameter" in name:
            assert got == want, f"{name}: {got!r} != {want!r}"
        elif np.isnan(want):
            assert np.isnan(got), name
        else:
            assert abs(got - want) <= RTOL * abs(want), f"{name}: {got!r} vs {want!r}"
    for name, value in expected.items():
        if name.startswith("diagnostics_"):
            assert diagnostics[name] == _plain(value), name
    return len(names)


def _synthetic(shape, radii, seed, spacing=(0.8, 0.8, 3.0), centre=None):
    rng = np.random.default_rng(seed)
    z, y, x = np.ogrid[: shape[0], : shape[1], : shape[2]]
    c = centre or [s / 2 for s in shape]
    r = np.sqrt(
        ((z - c[0]) / radii[0]) ** 2
        + ((y - c[1]) / radii[1]) ** 2
        + ((x - c[2]) / radii[2]) ** 2
    )
    wobble = ndimage.gaussian_filter(rng.normal(size=shape), 3)
    mask = (r < 1 + 2 * wobble).astype(np.uint8)
    noise = ndimage.gaussian_filter(rng.normal(size=shape), (0.7, 1.5, 1.5))
    image = (300.0 + 120.0 * mask + 200 * noise / noise.std()).astype(np.int16)
    out = []
    for array in (image, mask):
        img = sitk.GetImageFromArray(array)
        img.SetSpacing(spacing)
        img.SetOrigin((-40.0, 12.5, 7.0))
        out.append(img)
    return out


@pytest.fixture(scope="module")
def small():
    """~6k-voxel irregular ROI in a 16x64x64 volume."""
    return _synthetic((16, 64, 64), (5, 20, 18), seed=3)


def test_every_image_type(small):
    image, mask = small
    params = {
        "imageType": {
            "Original": {},
            "LoG": {"sigma": [1.0, 3.0]},
            "Wavelet": {},
            "Square": {},
            "SquareRoot": {},
            "Logarithm": {},
            "Exponential": {},
            "Gradient": {},
        },
    }
    # shape + 93 features of 6 classes on each of 16 images
    assert _assert_same(params, image, mask) == 14 + 16 * 93


def test_large_roi_through_the_mesh_route():
    image, mask = _synthetic((24, 96, 96), (8, 34, 30), seed=3)
    arr = np.pad(sitk.GetArrayFromImage(mask).astype(bool), 1)
    assert len(_mesh.mesh_vertices(arr, (3.0, 0.8, 0.8))) > _SMALL_MESH
    params = {"featureClass": {"shape": None, "firstorder": None, "glcm": None}}
    assert _assert_same(params, image, mask) == 14 + 18 + 24


def test_pyradiomics_cases_default_and_wavelet_levels():
    for case in ("brain1", "breast1"):
        image = sitk.ReadImage(str(PYRADIOMICS_DATA / f"{case}_image.nrrd"))
        mask = sitk.ReadImage(str(PYRADIOMICS_DATA / f"{case}_label.nrrd"))
        assert _assert_same({}, image, mask) == 107
        params = {
            "imageType": {"Wavelet": {"wavelet": "haar", "start_level": 1}},
            "featureClass": {"firstorder": None},
        }
        assert _assert_same(params, image, mask) == 8 * 18


@pytest.mark.parametrize(
    "setting",
    [
        {"binCount": 32},
        {"normalize": True, "removeOutliers": 3},
        {"resampledPixelSpacing": [1.6, 1.6, 3], "interpolator": "sitkBSpline"},
        {"resegmentRange": [350, 600], "resegmentMode": "absolute"},
        {"preCrop": True, "minimumROISize": 10, "weightingNorm": "euclidean"},
        {"force2D": True, "force2Ddimension": 0, "distances": [1, 2]},
    ],
    ids=["binCount", "normalize", "resample", "resegment", "preCrop", "force2D"],
)
def test_settings(small, setting):
    image, mask = small
    params = {
        "featureClass": {"firstorder": None, "glcm": None, "shape": None},
        "setting": setting,
    }
    if setting.get("preCrop"):  # wavelet crop offsets on a pre-cropped image
        params["imageType"] = {"Original": {}, "Wavelet": {"start_level": 1}}
    assert _assert_same(params, image, mask) >= 14 + 18 + 24


def test_roi_touching_the_border_and_other_label():
    # Wavelet crop impossible along x (ROI at the edge); label 2.
    image, mask = _synthetic((16, 64, 64), (6, 20, 20), seed=5, centre=(8, 32, 60))
    mask = sitk.Cast(mask, sitk.sitkUInt8) * 2
    params = {
        "imageType": {"Original": {}, "Wavelet": {}},
        "featureClass": {"firstorder": None, "shape": None},
        "setting": {"label": 2},
    }
    assert _assert_same(params, image, mask, label=2) == 14 + 9 * 18


def test_mismatched_mask_geometry_goes_through_pyradiomics(small):
    image, mask = small
    shifted = sitk.Image(mask)
    shifted.SetOrigin(tuple(o + 0.4 for o in mask.GetOrigin()))
    params = {
        "featureClass": {"firstorder": None, "shape": None},
        "setting": {"correctMask": True},
    }
    assert _assert_same(params, image, shifted) == 18 + 14


# --- the mesh route alone, against pyradiomics' C function --------------------
def _random_masks(n, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        shape = rng.integers(2, 22, 3)
        field = ndimage.gaussian_filter(rng.random(shape), rng.uniform(0.4, 2.5))
        mask = field > np.quantile(field, rng.uniform(0.3, 0.8))
        if mask.sum() >= 2:
            yield np.pad(mask, 1), rng.choice([0.5, 0.7, 0.8, 1.0, 1.25, 3.0], 3)


def test_mesh_route_equals_pyradiomics_c_code():
    n = 0
    for mask, spacing in _random_masks(40):
        area, volume, diameters = cShape.calculate_coefficients(mask, spacing)
        a, v = _mesh.surface_volume(mask, *cube_tables(tuple(spacing)))
        d = _mesh.maximum_diameters(
            _mesh.mesh_vertices(mask, spacing), _mesh.mesh_grid(mask)
        )
        np.testing.assert_allclose([a, v], [area, volume], rtol=1e-12)
        assert tuple(d) == tuple(diameters), (spacing, mask.shape)
        n += 1
    assert n >= 30


@pytest.mark.parametrize(
    "voxels",
    [
        [(0, 0, 0), (0, 0, 1)],  # two voxels on a line
        [(0, 0, k) for k in range(9)],  # a line
        [(0, j, k) for j in range(5) for k in range(7)],  # one slice
        [(i, 2, k) for i in range(4) for k in range(6)],  # one coronal plane
        [(0, 0, 0), (3, 4, 5)],  # two separate voxels
    ],
    ids=["pair", "line", "slice", "plane", "apart"],
)
def test_mesh_route_degenerate_masks(voxels):
    mask = np.zeros((6, 8, 9), dtype=bool)
    for v in voxels:
        mask[v] = True
    mask = np.pad(mask, 1)
    spacing = np.array([3.0, 0.8, 0.8])
    area, volume, diameters = cShape.calculate_coefficients(mask, spacing)
    a, v = _mesh.surface_volume(mask, *cube_tables(tuple(spacing)))
    vertices = _mesh.mesh_vertices(mask, spacing)
    d = _mesh.maximum_diameters(vertices, _mesh.mesh_grid(mask))
    np.testing.assert_allclose([a, v], [area, volume], rtol=1e-12)
    assert tuple(d) == tuple(diameters) == _mesh.maximum_diameters(vertices)


def test_diameters_need_no_scipy_spatial():
    """The shape features do not pay scipy.spatial's import (0.2 s)."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from radsarc.features import _mesh\n"
        "m = np.zeros((12, 30, 30), bool); m[2:10, 5:25, 4:22] = True\n"
        "v = _mesh.mesh_vertices(m, np.array([3.0, 0.8, 0.8]))\n"
        "d = _mesh.maximum_diameters(v, _mesh.mesh_grid(m))\n"
        "print('scipy.spatial' in sys.modules, d == _mesh.maximum_diameters(v))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "True"]


def test_shape_coefficients_large_mask_uses_mesh_route_and_matches():
    mask = sitk.GetArrayFromImage(_synthetic((20, 80, 80), (7, 30, 28), seed=9)[1])
    mask = np.pad(mask.astype(bool), 1)
    spacing = np.array([3.0, 0.8, 0.8])
    assert len(_mesh.mesh_vertices(mask, spacing)) > _SMALL_MESH
    area, volume, diameters = cShape.calculate_coefficients(mask, spacing)
    a, v, d = shape_coefficients(mask, spacing)
    np.testing.assert_allclose([a, v], [area, volume], rtol=1e-12)
    assert tuple(d) == tuple(diameters)


# --- LoG on a crop, and one case spread over processes ------------------------
def test_log_on_a_crop_of_a_large_volume():
    # A small ROI in a large volume: the LoG runs on the ROI's box plus 20 sigma.
    from radsarc.features._pyradiomics import LOG_MARGIN_SIGMAS, _log_images

    image, mask = _synthetic(
        (40, 120, 120), (4, 12, 12), seed=7, spacing=(1.0, 1.0, 1.5)
    )
    roi = sitk.GetArrayFromImage(mask).astype(bool)
    z, y, x = np.where(roi)
    bbox = np.array([x.min(), x.max(), y.min(), y.max(), z.min(), z.max()])
    crops = list(_log_images(image, bbox, [(0, 1.0), (1, 2)]))
    assert [c[0] for c in crops] == [0, 1]
    assert [c[2] for c in crops] == ["log-sigma-1-0-mm-3D", "log-sigma-2-mm-3D"]
    margin = int(np.ceil(LOG_MARGIN_SIGMAS * 1.0 / 1.0))
    assert crops[0][1].GetSize()[0] == min(120, x.max() - x.min() + 1 + 2 * margin)
    assert crops[0][1].GetSize()[0] < image.GetSize()[0]
    params = {
        "imageType": {"LoG": {"sigma": [1.0, 2]}},
        "featureClass": {"firstorder": None, "glcm": None, "glszm": None},
    }
    assert _assert_same(params, image, mask) == 2 * (18 + 24 + 16)


def test_shares_of_a_case_merge_to_the_whole(small):
    from radsarc.features._pyradiomics import merge_parts

    image, mask = small
    params = {
        "imageType": {"Original": {}, "LoG": {"sigma": [1.0, 2.0]}, "Wavelet": {}},
        "featureClass": {"firstorder": None, "shape": None, "glcm": None},
        "setting": {"additionalInfo": True},
    }
    engine = Engine(params)
    assert engine.n_units() == 1 + 2 + 8
    whole, diagnostics = engine.extract(image, mask, 1)
    shares = [engine.extract_part(image, mask, 1, k, 3) for k in range(3)]
    # units 0, 3, 6, 9 (+ shape); 1, 4, 7, 10; 2, 5, 8; a block per class
    assert [sorted({key[0] for key, _ in blocks}) for blocks, _ in shares] == [
        [-1, 0, 3, 6, 9],
        [1, 4, 7, 10],
        [2, 5, 8],
    ]
    assert [len(blocks) for blocks, _ in shares] == [1 + 4 * 2, 4 * 2, 3 * 2]
    assert shares[1][1] == {}
    assert shares[0][1] == diagnostics
    merged = merge_parts([blocks for blocks, _ in shares])
    assert list(merged) == list(whole)  # pyradiomics' order
    assert merged == whole  # the same operations, so exactly equal
    with pytest.raises(ValueError, match=r"part must be in \[0, 3\); got 3"):
        engine.extract_part(image, mask, 1, 3, 3)


def _one_case_cohort(image, mask, folder):
    """A cohort of one case ``a``: ``image`` and ``mask`` written to ``folder``."""
    import pandas as pd

    from radsarc.images import Cohort

    sitk.WriteImage(image, str(folder / "image.nrrd"))
    sitk.WriteImage(mask, str(folder / "mask.nrrd"))
    return Cohort.from_frame(
        pd.DataFrame(
            [("a", folder / "image.nrrd", folder / "mask.nrrd")],
            columns=["case_id", "image", "mask"],
        )
    )


def test_one_case_over_two_processes_equals_one_process(small, tmp_path):
    import pandas as pd

    from radsarc.features import extract_features

    image, mask = small
    cohort = _one_case_cohort(image, mask, tmp_path)
    params = {
        "imageType": {"Original": {}, "LoG": {"sigma": [1.0]}, "Wavelet": {}},
        "featureClass": {"firstorder": None, "glrlm": None},
    }
    one = extract_features(cohort, params, n_jobs=1)
    result = extract_features(
        cohort, params, n_jobs=2, cache_dir=tmp_path / "cache", return_result=True
    )
    pd.testing.assert_frame_equal(result.features, one, check_exact=True)
    assert result.summary == "extracted: 1 computed, 0 from cache, 0 failed"
    again = extract_features(
        cohort, params, n_jobs=2, cache_dir=tmp_path / "cache", return_result=True
    )
    assert again.summary == "extracted: 0 computed, 1 from cache, 0 failed"
    pd.testing.assert_frame_equal(again.features, one, check_exact=True)


def test_parent_computes_a_share_while_workers_compute_the_others(small, tmp_path):
    """n_jobs=3, one case: 3 shares, one in this process, two in workers."""
    import pandas as pd

    from radsarc.features import ExtractionSettings, extract_features
    from radsarc.features._extract import _compute, _run_shares, _Task

    image, mask = small
    cohort = _one_case_cohort(image, mask, tmp_path)
    params = {
        "imageType": {"Original": {}, "LoG": {"sigma": [1.0, 2.0]}, "Wavelet": {}},
        "featureClass": {"firstorder": None, "glcm": None, "shape": None},
    }
    one = extract_features(cohort, params, n_jobs=1)
    three = extract_features(cohort, params, n_jobs=3)
    pd.testing.assert_frame_equal(three, one, check_exact=True)

    settings = ExtractionSettings.coerce(params)
    task = _Task("a", "", tmp_path / "image.nrrd", tmp_path / "mask.nrrd")
    jobs = [(0, k, task, settings, 3) for k in range(3)]
    results = list(_run_shares(jobs, 3))
    # the first job is this process's, so it comes first; all three come back
    assert results[0][0] == (0, 0)
    assert sorted(i for i, _ in results) == [(0, 0), (0, 1), (0, 2)]
    for (_, part), out in results:
        assert out["regions"] == _compute(task, settings, part, 3)["regions"]
    assert list(_run_shares([], 2)) == []


def test_engine_runs_with_one_blas_thread(small, tmp_path, monkeypatch):
    """Spinning BLAS threads cost up to 3x the CPU on a busy machine."""
    from threadpoolctl import threadpool_info, threadpool_limits

    import radsarc.features._extract as extract_module
    from radsarc.features import extract_features

    image, mask = small
    cohort = _one_case_cohort(image, mask, tmp_path)
    seen = []
    real = extract_module._engine

    class Recording:
        def __init__(self, engine):
            self.engine = engine

        def extract_part(self, *args):
            seen.append(
                [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
            )
            return self.engine.extract_part(*args)

    monkeypatch.setattr(extract_module, "_engine", lambda s: Recording(real(s)))
    params = {"featureClass": {"firstorder": None}}
    with threadpool_limits(limits=2, user_api="blas"):
        outside = [
            i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"
        ]
        table = extract_features(cohort, params, n_jobs=1)
    assert table.shape == (1, 18)  # firstorder
    assert seen
    assert all(threads == [1] * len(threads) for threads in seen)
    if not outside or max(outside) < 2:
        pytest.skip("this BLAS runs one thread anyway")


# ---------------------------------------------------------------------------
# Compiled texture matrices (radsarc.features._matrices) through the engine
# ---------------------------------------------------------------------------
_TEXTURE = ("glcm", "glrlm", "glszm", "gldm", "ngtdm")


@pytest.fixture
def compiled(monkeypatch):
    """Force the compiled matrices; count their calls."""
    from radsarc.features import _matrices
    from radsarc.features import _pyradiomics as engine_module

    monkeypatch.setattr(engine_module, "COMPILED_MIN_WORK", 0)
    calls = []
    for name in ("glcm", "glrlm", "glszm_compact", "gldm_ngtdm"):
        original = getattr(_matrices, name)

        def spy(*args, _original=original, _name=name, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(_matrices, name, spy)
    return calls


def test_compiled_matrices_every_class_and_image_type(small, compiled):
    image, mask = small
    params = {"imageType": {"Original": {}, "LoG": {"sigma": [2.0]}, "Wavelet": {}}}
    assert _assert_same(params, image, mask) == 14 + 10 * 93
    # one GLCM, GLRLM, GLSZM and one GLDM + NGTDM pass per image
    assert sorted(set(compiled)) == ["glcm", "gldm_ngtdm", "glrlm", "glszm_compact"]
    assert len(compiled) == 4 * 10


@pytest.mark.parametrize(
    "setting",
    [
        {"binCount": 32},
        {"force2D": True, "force2Ddimension": 0, "distances": [1, 2]},
        {"force2D": True, "force2Ddimension": 2},
        {"weightingNorm": "manhattan"},
        {"weightingNorm": "infinity", "symmetricalGLCM": False, "gldm_a": 1},
        {"resegmentRange": [350, 600], "resegmentMode": "absolute"},
    ],
    ids=["binCount", "force2D-z", "force2D-x", "manhattan", "infinity-a1", "resegment"],
)
def test_compiled_matrices_settings(small, compiled, setting):
    image, mask = small
    params = {"featureClass": dict.fromkeys(_TEXTURE), "setting": setting}
    assert _assert_same(params, image, mask) == 75
    assert compiled


def test_compiled_matrices_2d_image_and_single_slice(compiled):
    image, mask = _synthetic((1, 64, 64), (1, 20, 18), seed=4)
    params = {"featureClass": dict.fromkeys(_TEXTURE)}
    # a one-slice 3-D image, then the same as a 2-D image
    assert _assert_same(params, image, mask) == 75
    image2d, mask2d = image[:, :, 0], mask[:, :, 0]
    assert _assert_same(params, image2d, mask2d) == 75
    assert compiled


def test_c_matrices_below_the_work_threshold(small, monkeypatch):
    from radsarc.features import _pyradiomics as engine_module

    monkeypatch.setattr(engine_module, "COMPILED_MIN_WORK", float("inf"))
    monkeypatch.setattr(engine_module, "_matrices_loaded", lambda: False)
    used = []
    monkeypatch.setattr(
        engine_module, "_matrices_module", lambda: used.append(1) or None
    )
    image, mask = small
    assert _assert_same({}, image, mask) == 107
    assert not used


@pytest.mark.parametrize(
    "setting",
    [{}, {"voxelArrayShift": 300, "binCount": 16}, {"binWidth": 1000}],
    ids=["default", "shift-binCount", "one-level"],
)
def test_first_order_shared_quantities(small, setting):
    image, mask = small
    params = {"featureClass": {"firstorder": None}, "setting": setting}
    assert _assert_same(params, image, mask) == 18
    # deprecated StandardDeviation, enabled by name
    params["featureClass"]["firstorder"] = ["StandardDeviation", "Variance", "Median"]
    assert _assert_same(params, image, mask) == 3


def test_first_order_with_nan_values_is_pyradiomics_own(small):
    image, mask = small
    array = sitk.GetArrayFromImage(image).astype(np.float64)
    inside = np.argwhere(sitk.GetArrayFromImage(mask) == 1)
    array[tuple(inside[len(inside) // 2])] = np.nan
    with_nan = sitk.GetImageFromArray(array)
    with_nan.CopyInformation(image)
    params = {"featureClass": {"firstorder": None}}
    radiomics.setVerbosity(logging.ERROR)
    expected = RadiomicsFeatureExtractor(params).execute(with_nan, mask)
    features, _ = Engine(params).extract(with_nan, mask, 1)
    for name, got in features.items():
        want = float(expected[name])
        assert (np.isnan(want) and np.isnan(got)) or got == want, name


@pytest.mark.parametrize(
    "setting",
    [
        {},
        {"level": 2},
        {"start_level": 1, "wavelet": "haar"},
        {"force2D": True, "force2Ddimension": 0},
        {"force2D": True, "force2Ddimension": 2, "level": 2, "wavelet": "db2"},
    ],
    ids=["default", "level2", "start1-haar", "force2D-z", "force2D-x-level2"],
)
def test_wavelet_sub_bands_on_demand_equal_pyradiomics(setting):
    import pywt
    from radiomics import imageoperations

    from radsarc.features._pyradiomics import _swt_images

    rng = np.random.default_rng(7)
    for shape, dtype in [((9, 12, 11), np.int16), ((8, 10, 13), np.float32)]:
        image = sitk.GetImageFromArray((rng.normal(size=shape) * 100).astype(dtype))
        image.SetSpacing((0.8, 0.9, 3.0))
        expected = list(imageoperations.getWaveletImage(image, image, **setting))
        n = len(expected)
        filt = pywt.Wavelet(setting.get("wavelet", "coif1"))
        for wanted in (None, {0}, {n - 1}, {1, 5}, set(range(0, n, 3))):
            got = list(_swt_images(image, filt, wanted, **setting))
            assert [g[1] for g in got] == [e[1] for e in expected]
            for k, ((want, _, _), (have, _, _)) in enumerate(
                zip(expected, got, strict=True)
            ):
                if wanted is not None and k not in wanted:
                    assert have is None
                    continue
                assert have.GetPixelID() == want.GetPixelID()
                assert have.GetOrigin() == want.GetOrigin()
                np.testing.assert_array_equal(
                    sitk.GetArrayFromImage(have), sitk.GetArrayFromImage(want)
                )


def test_compiled_matrices_once_the_c_work_pays_for_them(small, monkeypatch):
    from radsarc.features import _pyradiomics as engine_module

    image, mask = small
    n_voxels = int(sitk.GetArrayViewFromImage(mask).sum())
    monkeypatch.setattr(engine_module, "COMPILED_MIN_WORK", int(n_voxels * 1.5))
    monkeypatch.setattr(engine_module, "_C_WORK", 0)
    monkeypatch.setattr(engine_module, "_matrices_loaded", lambda: False)
    used = []
    real = engine_module._matrices_module
    monkeypatch.setattr(
        engine_module, "_matrices_module", lambda: used.append(1) or real()
    )
    params = {"featureClass": {"glcm": None}}
    assert _assert_same(params, image, mask) == 24
    assert not used  # one image of n voxels: below the threshold, C matrices
    assert engine_module._C_WORK == n_voxels
    assert _assert_same(params, image, mask) == 24
    assert used  # n (done in C) + n (this image) >= 1.5 n: compiled


def test_digitize_equals_numpy_for_pyradiomics_bin_edges():
    from radiomics import imageoperations

    from radsarc.features._pyradiomics import _digitize

    rng = np.random.default_rng(1)
    for trial in range(120):
        scale = 10.0 ** rng.uniform(-3, 4)
        values = rng.normal(size=5000) * scale + rng.uniform(-1, 1) * scale
        if trial % 3 == 1:
            values = np.round(values)
        elif trial % 3 == 2:
            values = values.astype(np.float32)
        if trial % 2:
            setting = {"binWidth": float(scale / 10 ** rng.uniform(0, 2))}
        else:
            setting = {"binCount": int(rng.integers(2, 300))}
        extremes = np.array([values.min(), values.max()], dtype=values.dtype)
        edges = np.asarray(imageoperations.getBinEdges(extremes, **setting))
        # values exactly on the edges, and a NaN
        k = min(len(edges), 100)
        values[:k] = edges[:k].astype(values.dtype)
        values[k] = np.nan
        np.testing.assert_array_equal(
            _digitize(values, edges), np.digitize(values, edges), err_msg=str(setting)
        )


def test_feature_classes_log_to_pyradiomics_loggers(small, caplog):
    """pyradiomics' routine notes stay under its own (quieted) loggers."""
    image, mask = small
    with caplog.at_level(logging.DEBUG):
        Engine({}).extract(image, mask, 1)
    names = {r.name for r in caplog.records if r.levelno >= logging.INFO}
    assert "radiomics.glcm" in names  # "GLCM is symmetrical, ..."
    assert "radsarc.features._pyradiomics" not in names


@pytest.mark.parametrize(
    "setting", [{}, {"weightingNorm": "manhattan"}, {"binCount": 64}]
)
def test_glcm_cluster_powers_are_pyradiomics_arrays(small, setting):
    from radiomics import imageoperations

    from radsarc.features._pyradiomics import _GLCM, _check_mask

    image, mask = small
    box, _ = _check_mask(image, mask, label=1)
    cropped, cropped_mask = imageoperations.cropToTumorMask(image, mask, box)
    glcm = _GLCM(cropped, cropped_mask, label=1, **setting)
    glcm._initCalculation()
    c = glcm.coefficients
    for power in (3, 4):
        expected = ((c["i"] + c["j"])[None, :, :, None] - c["ux"] - c["uy"]) ** power
        np.testing.assert_array_equal(glcm._cluster_power(power), expected)


def test_centre_of_mass_from_slice_counts_is_numpys_mean_of_indices():
    """The mask diagnostics' centre of mass (from the voxel counts per slice) is
    exactly numpy's mean of the index arrays, on random regions and offsets."""
    from radsarc.features._pyradiomics import _centre_index

    rng = np.random.default_rng(0)
    for _ in range(200):
        shape = tuple(int(s) for s in rng.integers(1, 30, 3))
        sub = rng.random(shape) < rng.random()
        if not sub.any():
            continue
        lower = [int(v) for v in rng.integers(0, 600, 3)]
        where = np.array(np.where(sub)) + np.array(lower)[:, None]
        assert _centre_index(sub, lower) == tuple(np.mean(where, axis=1)[::-1])


def test_percentiles_of_sorted_rows_are_numpys_to_the_bit():
    from radsarc.features._pyradiomics import _sorted_median, _sorted_percentiles

    rng = np.random.default_rng(3)
    qs = (10, 25, 75, 90)
    for n in [1, 2, 3, 4, 5, 7, 10, 11, 99, 100, 101, 1000, 4097]:
        for kind in ("normal", "ties", "int"):
            if kind == "normal":
                row = rng.normal(size=n) * 10.0 ** rng.integers(-3, 6)
            elif kind == "ties":
                row = rng.integers(0, 4, n).astype(float)
            else:
                row = rng.integers(-1000, 3000, n).astype(float)
            rows = np.sort(row)[None, :]
            got = _sorted_percentiles(rows, qs)
            want = np.percentile(rows, qs, axis=1)
            assert got.shape == want.shape
            assert np.array_equal(got, want), (n, kind, got, want)
            median = np.median(rows, 1)
            assert _sorted_median(rows).shape == median.shape
            assert np.array_equal(_sorted_median(rows), median), (n, kind)
    with_nan = np.sort(np.array([[1.0, np.nan, 3.0]]), 1)
    assert np.isnan(_sorted_percentiles(with_nan, qs)).all()
    assert np.isnan(_sorted_median(with_nan)).all()
    big = np.sort(np.array([[1e308, 1.5e308]]), 1)  # the sum overflows, as numpy's
    with np.errstate(over="ignore"):
        assert np.array_equal(_sorted_median(big), np.median(big, 1))


@pytest.mark.parametrize(
    ("pixel", "background", "label"),
    [
        (sitk.sitkUInt8, 0, 1),
        (sitk.sitkInt16, 0, 1),
        (sitk.sitkUInt16, 3, 4),  # labels 3 and 4
        (sitk.sitkInt8, -1, 1),  # background -1: pyradiomics' UInt32 cast wraps it
        (sitk.sitkFloat32, 0, 1),
        (sitk.sitkUInt64, 0, 1),
    ],
)
def test_mask_pixel_types_give_pyradiomics_features_and_hashes(
    small, pixel, background, label
):
    """Masks kept in their own integer type (no UInt32 copy) or cast as
    pyradiomics casts them: the same features and diagnostics (incl. the mask
    hash, of the UInt32 buffer)."""
    image, mask = small
    inside = sitk.GetArrayFromImage(mask) > 0
    arr = np.where(inside, label, background)
    typed = sitk.Cast(sitk.GetImageFromArray(arr), pixel)
    typed.CopyInformation(mask)
    params = {"setting": {"label": label}}
    assert _assert_same(params, image, typed, label=label) == 107
