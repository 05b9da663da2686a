"""radsarc's texture matrices equal pyradiomics' C output, array for array.

Each case compares :mod:`radsarc.features._matrices` with ``radiomics.cMatrices``
on one discretised image and region: exactly equal arrays (counts are exact and
the NGTDM's sums are added in the same order), same shapes, same angles; with
both backends of the kernels (C, compiled on first use by
:mod:`radsarc.features._native`, and numba's fallback). Then the backends'
selection, fallback and cache.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from radsarc.features import _matrices, _native

radiomics = pytest.importorskip("radiomics")
from radiomics import cMatrices  # noqa: E402


def _random_case(shape, n_levels, fill, seed, smooth=0.0):
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=shape)
    if smooth:
        noise = ndimage.gaussian_filter(noise, smooth)
    ranks = np.argsort(np.argsort(noise.ravel())).reshape(shape)
    image = 1 + (ranks * n_levels) // ranks.size
    mask = rng.random(shape) < fill
    if smooth:
        mask = ndimage.gaussian_filter(mask.astype(float), smooth) > 1 - fill
    return image.astype(np.int64), mask


def _cases():
    yield "dense-3d", *_random_case((9, 11, 13), 6, 0.8, 0, smooth=1.0)
    yield "sparse-3d", *_random_case((7, 8, 9), 4, 0.2, 1)
    yield "many-levels", *_random_case((6, 10, 12), 40, 0.7, 2)
    # more than 255 levels: the C kernels take the image as uint16
    yield "wide-levels", *_random_case((5, 14, 15), 300, 0.9, 7)
    yield "2d", *_random_case((15, 17), 5, 0.7, 3)
    yield "slab-z1", *_random_case((1, 12, 14), 4, 0.8, 4)
    yield "slab-y1", *_random_case((8, 1, 9), 3, 0.9, 5)
    image, mask = _random_case((5, 6, 7), 3, 0.0, 6)
    single = mask.copy()
    single[2, 3, 4] = True
    yield "single-voxel", image, single
    # Two voxels on one z line, not adjacent: runs of length 1 only, but the
    # z angle keeps its line of two voxels (pyradiomics' multi-element rule).
    gap = np.zeros((5, 4, 4), bool)
    gap[0, 1, 1] = gap[3, 1, 1] = True
    yield "gap", np.arange(80).reshape(5, 4, 4) % 3 + 1, gap
    comps = np.zeros((8, 12, 12), bool)
    comps[1:3, 1:4, 1:4] = True
    comps[5:7, 7:11, 6:11] = True
    comps[4, 0, 11] = True
    yield "components", np.ones((8, 12, 12), np.int64) * 2, comps


CASES = list(_cases())


@pytest.fixture(params=["c", "numba"])
def backend(request, monkeypatch):
    """Run the test with the C kernels, then with numba's."""
    if request.param == "c":
        library = _native.load()
        if library is None:
            pytest.skip(f"no C kernels (no working C compiler): {_native.failure()}")
        kernels = _matrices._CKernels(library)
    else:
        from radsarc.features import _matrices_numba as kernels
    monkeypatch.setattr(_matrices, "_KERNELS", kernels)
    assert _matrices.backend() == request.param
    return request.param


@pytest.mark.parametrize("force2d", [False, True])
@pytest.mark.parametrize(("name", "image", "mask"), CASES, ids=[c[0] for c in CASES])
def test_matrices_equal_pyradiomics(name, image, mask, force2d, backend):
    image = np.where(mask, image, 0)
    ng = int(image.max()) if mask.any() else 1
    region = _matrices.Region(image, mask)

    def angles(distances, both):
        return cMatrices.generate_angles(
            np.array(image.shape), np.array(distances), both, force2d, 0
        )

    for distances in ([1], [1, 2]):
        want, want_angles = cMatrices.calculate_glcm(
            image, mask, np.array(distances), ng, force2d, 0
        )
        np.testing.assert_array_equal(angles(distances, False), want_angles)
        got = _matrices.glcm(region, ng, angles(distances, False))
        np.testing.assert_array_equal(got, want)
        for alpha in (0, 1):
            gldm, ngtdm = _matrices.gldm_ngtdm(
                region, ng, angles(distances, True), alpha
            )
            want = cMatrices.calculate_gldm(
                image, mask, np.array(distances), ng, alpha, force2d, 0
            )
            assert gldm.shape == want.shape
            np.testing.assert_array_equal(gldm, want)
        want = cMatrices.calculate_ngtdm(
            image, mask, np.array(distances), ng, force2d, 0
        )
        np.testing.assert_array_equal(ngtdm, want)
    nr = int(np.max(image.shape))
    want, want_angles = cMatrices.calculate_glrlm(image, mask, ng, nr, force2d, 0)
    np.testing.assert_array_equal(angles([1], False), want_angles)
    got = _matrices.glrlm(region, ng, nr, angles([1], False))
    np.testing.assert_array_equal(got, want)
    want = cMatrices.calculate_glszm(image, mask, ng, int(mask.sum()), force2d, 0)
    got = _matrices.glszm(region, ng, angles([1], True))
    np.testing.assert_array_equal(got, want)


def test_region_rejects_mismatched_arrays_and_levels_below_one():
    with pytest.raises(ValueError, match="2-D or 3-D arrays of one shape"):
        _matrices.Region(np.ones((3, 3, 3)), np.ones((3, 3), bool))
    image = np.ones((3, 3, 3), np.int64)
    image[1, 1, 1] = 0
    with pytest.raises(ValueError, match="from 1 to 2\\*\\*31 - 1 .*got 0 to 1"):
        _matrices.Region(image, np.ones((3, 3, 3), bool)).padded(np.array([[0, 0, 1]]))
    image[1, 1, 1] = -2
    with pytest.raises(ValueError, match="got -2 to 1"):
        _matrices.Region(image, np.ones((3, 3, 3), bool)).padded(np.array([[0, 0, 1]]))
    big = np.ones((3, 3, 3), np.int64)
    big[0, 0, 0] = 2**32
    with pytest.raises(ValueError, match="got 1 to 4294967296"):
        _matrices.Region(big, np.ones((3, 3, 3), bool))
    # outside the region anything goes (below 1)
    _matrices.Region(image, image > 0).padded(np.array([[0, 0, 1]]))


@pytest.mark.parametrize(("name", "image", "mask"), CASES, ids=[c[0] for c in CASES])
def test_compact_glszm_is_the_dense_one_without_empty_columns(
    name, image, mask, backend
):
    image = np.where(mask, image, 0)
    ng = int(image.max()) if mask.any() else 1
    region = _matrices.Region(image, mask)
    angles = cMatrices.generate_angles(
        np.array(image.shape), np.array([1]), True, False, 0
    )
    dense = _matrices.glszm(region, ng, angles)
    compact, sizes = _matrices.glszm_compact(region, ng, angles)
    present = np.flatnonzero(dense.sum((0, 1)))
    np.testing.assert_array_equal(sizes, present + 1.0)
    np.testing.assert_array_equal(compact, dense[:, :, present])


def test_load_compiled_matrices_in_a_fresh_process():
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]

    code = (
        "from radsarc.features import _pyradiomics as p\n"
        "assert not p._matrices_loaded()\n"
        "p.load_compiled_matrices()\n"
        "assert p._matrices_loaded()\n"
        "print('loaded')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "loaded"


# ---------------------------------------------------------------------------
# Backends: selection, fallback without a compiler, cache
# ---------------------------------------------------------------------------
def _all_matrices(kernels):
    """Every matrix of a few cases, computed with ``kernels``."""
    out = []
    for _, image, mask in CASES[:3] + CASES[-2:]:
        image = np.where(mask, image, 0)
        ng = int(image.max()) if mask.any() else 1
        one = cMatrices.generate_angles(
            np.array(image.shape), np.array([1, 2]), False, False, 0
        )
        both = np.concatenate([one, -one])
        previous = _matrices._KERNELS
        _matrices._KERNELS = kernels
        try:
            region = _matrices.Region(image, mask)
            out += [
                _matrices.glcm(region, ng, one),
                _matrices.glrlm(region, ng, int(max(image.shape)), one[:13]),
                *_matrices.glszm_compact(region, ng, both[:26:1]),
                *_matrices.gldm_ngtdm(region, ng, both, 1),
            ]
        finally:
            _matrices._KERNELS = previous
    return out


@pytest.fixture
def fresh_backend(monkeypatch, tmp_path):
    """A process state with no kernels chosen yet and an empty kernel cache."""
    monkeypatch.setenv("RADSARC_KERNEL_DIR", str(tmp_path / "kernels"))
    monkeypatch.setattr(_native, "_LIBRARY", None)
    monkeypatch.setattr(_native, "_FAILURE", None)
    monkeypatch.setattr(_matrices, "_KERNELS", None)
    return tmp_path / "kernels"


@pytest.fixture
def c_kernels():
    """Skip unless this process has the C kernels (checked before any reset)."""
    if _native.load() is None:
        pytest.skip(f"no C kernels (no working C compiler): {_native.failure()}")


@pytest.fixture
def fresh_c_backend(c_kernels, fresh_backend):
    return fresh_backend


@pytest.mark.parametrize("cc", ["missing", "failing"])
def test_without_a_compiler_the_numba_kernels_give_the_same_arrays(
    fresh_backend, monkeypatch, caplog, tmp_path, cc
):
    from radsarc.features import _matrices_numba

    want = _all_matrices(_matrices_numba)
    if cc == "missing":
        monkeypatch.setenv("CC", str(tmp_path / "no-such-cc"))
        reason = "no-such-cc"
    else:
        broken = tmp_path / "broken-cc"
        broken.write_text("#!/bin/sh\necho 'broken compiler' >&2\nexit 3\n")
        broken.chmod(0o755)
        monkeypatch.setenv("CC", str(broken))
        reason = "failed (3): broken compiler"
    with caplog.at_level("DEBUG", logger="radsarc.features._native"):
        assert _matrices.backend() == "numba"
    assert reason in _native.failure()
    # said at debug level only: no warning or error for the user
    assert any(reason in r.getMessage() for r in caplog.records)
    assert all(r.levelname == "DEBUG" for r in caplog.records)
    # the failure is remembered: no second attempt in this process
    compilations = _native.COMPILATIONS
    assert _native.load() is None
    assert _native.COMPILATIONS == compilations
    assert _matrices.kernels() is _matrices_numba
    got = _all_matrices(_matrices.kernels())
    assert not list(fresh_backend.glob("*.so"))
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
    if _native.compiler() is not None:
        monkeypatch.delenv("CC")
        library = _native.load(refresh=True)
        if library is not None:  # the C kernels: the same arrays too
            got = _all_matrices(_matrices._CKernels(library))
            for g, w in zip(got, want, strict=True):
                np.testing.assert_array_equal(g, w)


def test_the_cached_library_is_loaded_without_compiling(fresh_c_backend):
    fresh_backend = fresh_c_backend
    compilations = _native.COMPILATIONS
    assert _native.load(refresh=True) is not None
    assert _native.COMPILATIONS == compilations + 1
    (path,) = fresh_backend.glob("radsarc_matrices_*.so")
    assert _native.library_key() in path.name
    # the library and its digest, no temporary file
    assert sorted(p.name for p in fresh_backend.iterdir()) == [
        path.name,
        path.name + ".sha256",
    ]
    assert _native.load(refresh=True) is not None
    assert _native.COMPILATIONS == compilations + 1  # loaded from the cache
    # another source (or flags, or platform) has another key: its own file
    assert _native.library_key(b"int x;") != _native.library_key()


@pytest.mark.parametrize("damage", ["corrupt", "truncated", "foreign"])
def test_a_damaged_or_foreign_cached_library_is_rebuilt(fresh_c_backend, damage):
    fresh_backend = fresh_c_backend
    from radsarc.features import _matrices_numba

    key = _native.library_key()
    path = fresh_backend / f"radsarc_matrices_{key}{_native._suffix()}"
    fresh_backend.mkdir(parents=True)
    if damage == "corrupt":
        path.write_bytes(b"not a shared library\n" * 100)
    else:
        # a real build of the kernels, under another key (an older radsarc, a
        # file copied from elsewhere), or cut short
        import hashlib
        import subprocess

        subprocess.run(
            [
                *_native.compiler(),
                *_native.CFLAGS,
                '-DRADSARC_KEY="someone-else"',
                "-o",
                str(path),
                str(_native.SOURCE),
            ],
            check=True,
        )
        # with its digest (copied along): the key it returns gives it away
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        path.with_name(path.name + ".sha256").write_text(digest)
        if damage == "truncated":
            # (a truncated library would crash the process that maps it: the
            # recorded digest keeps it from being loaded)
            path.write_bytes(path.read_bytes()[:1000])
    compilations = _native.COMPILATIONS
    library = _native.load(refresh=True)
    assert library is not None
    assert _native.COMPILATIONS == compilations + 1
    assert library.radsarc_matrices_key() == key.encode()
    assert sorted(p.name for p in fresh_backend.iterdir()) == [
        path.name,
        path.name + ".sha256",
    ]
    got = _all_matrices(_matrices._CKernels(library))
    for g, w in zip(got, _all_matrices(_matrices_numba), strict=True):
        np.testing.assert_array_equal(g, w)


def test_concurrent_first_uses_build_one_library(tmp_path, c_kernels):
    """Processes starting together on an empty cache: each loads a whole file."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = (
        "import sys\n"
        "from radsarc.features import _matrices\n"
        "_matrices.warm_up()\n"
        "print(_matrices.backend(), 'numba' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(root), "RADSARC_KERNEL_DIR": str(tmp_path)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        # the C kernels, without importing numba
        assert out.split() == ["c", "False"]
    # one library and its digest, no temporary file left
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".sha256", ".so"]


def test_cache_directory_follows_the_environment(monkeypatch, tmp_path):
    from pathlib import Path

    monkeypatch.setenv("RADSARC_KERNEL_DIR", str(tmp_path / "k"))
    assert _native.cache_dir() == tmp_path / "k"
    monkeypatch.delenv("RADSARC_KERNEL_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _native.cache_dir() == tmp_path / "xdg" / "radsarc" / "kernels"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert _native.cache_dir() == Path.home() / ".cache" / "radsarc" / "kernels"
    monkeypatch.setenv("CC", "ccache gcc -m64")
    assert _native.compiler() == ["ccache", "gcc", "-m64"]


# ---------------------------------------------------------------------------
# The engine's route: which images use the kernels, same values either way
# ---------------------------------------------------------------------------
def _image_and_mask(n_side, seed=0):
    import SimpleITK as sitk

    rng = np.random.default_rng(seed)
    array = (rng.normal(size=(8, 24, 24)) * 50 + 300).astype(np.int16)
    mask = np.zeros(array.shape, np.uint8)
    mask[2:6, 2 : 2 + n_side, 2 : 2 + n_side] = 1
    image, label = sitk.GetImageFromArray(array), sitk.GetImageFromArray(mask)
    image.SetSpacing((0.8, 0.8, 3.0))
    label.CopyInformation(image)
    return image, label


TEXTURE = {"featureClass": dict.fromkeys(["glcm", "glrlm", "glszm", "gldm", "ngtdm"])}


def _engine_run(monkeypatch, image, mask, kernels=None, min_work=None):
    """Texture features of one case, and how many images used the kernels."""
    from radsarc.features import _pyradiomics

    monkeypatch.setattr(_pyradiomics, "COMPILED_MIN_WORK", min_work)
    monkeypatch.setattr(_pyradiomics, "_C_WORK", 0)
    if kernels is not None:
        monkeypatch.setattr(_matrices, "_KERNELS", kernels)
    regions = []
    real = _matrices.Region
    monkeypatch.setattr(_matrices, "Region", lambda *a: regions.append(1) or real(*a))
    features, _ = _pyradiomics.Engine(TEXTURE).extract(image, mask, 1)
    monkeypatch.setattr(_matrices, "Region", real)
    return features, len(regions)


def test_engine_values_are_the_same_with_either_backend_and_route(
    monkeypatch, c_kernels
):
    from radsarc.features import _matrices_numba

    image, mask = _image_and_mask(12)  # 576 voxels
    c = _matrices._CKernels(_native.load())
    c_features, used = _engine_run(monkeypatch, image, mask, c)
    assert used == 1  # >= C_KERNELS_MIN_VOXELS: the C kernels
    numba_features, used = _engine_run(monkeypatch, image, mask, _matrices_numba, 0)
    assert used == 1
    plain, used = _engine_run(monkeypatch, image, mask, c, min_work=float("inf"))
    assert used == 0  # pyradiomics' C matrices
    assert len(plain) == 75
    assert c_features == plain
    assert numba_features == plain


def test_the_c_kernels_serve_regions_from_their_crossover(monkeypatch, c_kernels):
    from radsarc.features import _pyradiomics

    small = _image_and_mask(5)  # 100 voxels
    assert _engine_run(monkeypatch, *small)[1] == 0
    monkeypatch.setattr(_pyradiomics, "C_KERNELS_MIN_VOXELS", 100)
    assert _engine_run(monkeypatch, *small)[1] == 1
    assert _pyradiomics.compiled_route(100)
    assert not _pyradiomics.compiled_route(99)


def test_without_c_kernels_numba_is_loaded_only_for_large_work(
    fresh_backend, monkeypatch
):
    """The fallback keeps numba's rule: its load must pay (NUMBA_MIN_WORK)."""
    import sys

    from radsarc.features import _pyradiomics

    monkeypatch.setattr(_native, "_FAILURE", "no compiler (test)")
    monkeypatch.setattr(_pyradiomics, "NUMBA_MIN_WORK", 1000)
    image, mask = _image_and_mask(12)  # 576 voxels
    assert _engine_run(monkeypatch, image, mask)[1] == 0
    assert _pyradiomics._C_WORK == 576
    assert not _pyradiomics.compiled_route(576)
    assert _pyradiomics.compiled_route(576, n_images=2)
    if "radsarc.features._matrices_numba" not in sys.modules:
        assert _matrices.loaded() is None  # numba not imported for this
    image, mask = _image_and_mask(16)  # 1024 voxels
    assert _engine_run(monkeypatch, image, mask)[1] == 1
    assert _matrices.backend() == "numba"


def test_the_c_source_is_package_data():
    """``pip install .`` ships _matrices.c (pyproject's package-data)."""
    import fnmatch
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    config = tomllib.loads((root / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["radsarc.features"]
    assert _native.SOURCE.parent == root / "radsarc" / "features"
    assert any(fnmatch.fnmatch(_native.SOURCE.name, p) for p in patterns)
    assert _native.SOURCE.is_file()


@pytest.mark.parametrize("types", [("uint16", "int32"), ("int32",)])
def test_every_pixel_type_gives_the_same_arrays(c_kernels, monkeypatch, types):
    """The C kernels on uint8 (the default here), uint16 and int32 images."""
    kernels = _matrices._CKernels(_native.load())
    monkeypatch.setattr(_matrices, "_KERNELS", kernels)
    want = _all_matrices(kernels)
    monkeypatch.setattr(_matrices._CKernels, "pixel_types", types)
    got = _all_matrices(kernels)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
    image, mask = CASES[1][1:]  # sparse: voxels outside the region
    assert not mask.all()
    assert _matrices.Region(image, mask).dtype == np.dtype(types[0])
    # levels below 0 (outside the region) or above 65535: int32
    monkeypatch.setattr(
        _matrices._CKernels, "pixel_types", ("uint8", "uint16", "int32")
    )
    assert _matrices.Region(np.where(mask, image, -1), mask).dtype == np.int32
    assert _matrices.Region(np.where(mask, image, 70000), mask).dtype == np.int32
    assert _matrices.Region(np.where(mask, image, 300), mask).dtype == np.uint16
    with pytest.raises(TypeError, match="C-contiguous array of uint8, uint16, int32"):
        kernels.glcm(
            np.zeros(27, np.int64),
            np.array([13]),
            np.array([1]),
            np.zeros(8),
            2,
        )
