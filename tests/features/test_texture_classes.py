"""radsarc's shortcuts in the texture classes and the discretisation give
pyradiomics' (or numpy's) exact results.

(The feature values of every class against plain pyradiomics are in
test_speed_equivalence.py and test_pyradiomics_baseline.py; these pin the
pieces on inputs chosen to reach their edge cases.)
"""

from __future__ import annotations

import numpy as np
import pytest

from radsarc.features import _matrices

radiomics = pytest.importorskip("radiomics")
from radiomics import imageoperations  # noqa: E402

from radsarc.features._pyradiomics import _digitize  # noqa: E402


@pytest.mark.parametrize(
    "dtype", [np.int16, np.uint16, np.int32, np.uint8, np.int8, np.uint32, bool]
)
def test_digitize_integer_images_equals_numpy(dtype):
    rng = np.random.default_rng(3)
    info = np.iinfo(dtype) if dtype is not bool else None
    for trial in range(40):
        if info is None:
            values = rng.random(6000) < 0.5
        else:
            lo = int(info.min) if trial % 4 else max(int(info.min), -50)
            hi = int(info.max) if trial % 4 else min(int(info.max), 400)
            values = rng.integers(lo, hi, 6000, endpoint=True).astype(dtype)
        if trial % 2:
            setting = {"binCount": int(rng.integers(2, 300))}
        else:
            spread = float(values.max()) - float(values.min())
            setting = {"binWidth": max(spread / rng.uniform(1, 200), 1e-3)}
        if trial % 8 == 0 and info is not None:
            setting = {"binWidth": 25}  # edges on integers: values on edges
        extremes = np.array([values.min(), values.max()], dtype=values.dtype)
        edges = np.asarray(imageoperations.getBinEdges(extremes, **setting))
        got = _digitize(values, edges)
        np.testing.assert_array_equal(got, np.digitize(values, edges))


def test_digitize_wide_integers_go_to_numpy():
    # int64 beyond 2**53 is not exact in float64: numpy's own digitize
    values = np.array([2**62, 2**62 + 1, -(2**62)] * 2000, dtype=np.int64)
    edges = np.array([-(2.0**62), 0.0, 2.0**62, 2.0**62 + 2**11])
    np.testing.assert_array_equal(_digitize(values, edges), np.digitize(values, edges))


def test_glszm_compaction_equals_numpy_unique():
    rng = np.random.default_rng(5)
    for trial in range(20):
        shape = (int(rng.integers(1, 8)), 12, 13)
        image = rng.integers(1, 4 + trial, shape)
        mask = rng.random(shape) < rng.uniform(0.05, 1)
        region = _matrices.Region(np.where(mask, image, 0), mask)
        angles = np.array(
            [(z, y, x) for z in (-1, 0, 1) for y in (-1, 0, 1) for x in (-1, 0, 1)]
        )
        angles = angles[np.abs(angles).sum(1) > 0]
        ng = int(image.max())
        levels, sizes = _matrices.glszm_zones(region, angles)
        present, column = np.unique(sizes, return_inverse=True)
        want = np.zeros((1, ng, len(present)))
        np.add.at(want, (0, levels - 1, column), 1.0)
        got, got_sizes = _matrices.glszm_compact(region, ng, angles)
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(got_sizes, present.astype(float))


def test_distinct_equals_numpy_unique():
    from radsarc.features._pyradiomics import _distinct

    rng = np.random.default_rng(11)
    levels = np.sort(rng.choice(300, 40, replace=False) + 1).astype(float)
    i, j = np.meshgrid(levels, levels, indexing="ij", sparse=True)
    cases = [
        i + j,  # GLCM's sums of gray levels: the bincount route
        (i + j) * 0.5,  # not integers
        i + j + 2.0**23,  # too large for a bincount
        i - j,  # negative
        np.zeros((0, 3)),
    ]
    for values in cases:
        want, where = np.unique(values, return_inverse=True)
        got, got_where = _distinct(values)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(got_where, where.reshape(values.shape))
