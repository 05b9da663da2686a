"""radsarc's texture matrices equal pyradiomics' C output, array for array.

Each case compares :mod:`radsarc.features._matrices` with ``radiomics.cMatrices``
on one discretised image and region: exactly equal arrays (counts are exact and
the NGTDM's sums are added in the same order), same shapes, same angles.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from radsarc.features import _matrices

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


@pytest.mark.parametrize("force2d", [False, True])
@pytest.mark.parametrize(("name", "image", "mask"), CASES, ids=[c[0] for c in CASES])
def test_matrices_equal_pyradiomics(name, image, mask, force2d):
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
def test_compact_glszm_is_the_dense_one_without_empty_columns(name, image, mask):
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
