"""The maximum diameters of radsarc.features._mesh against a pairwise brute force.

pyradiomics' C code compares every pair of mesh vertices; radsarc prunes the
vertices (ends of lines, support polygons, a tree of cells) and evaluates only
the pairs that can be the longest, with the C expression. The four diameters
must be exactly (==) the brute force's, on every kind of mask: blobs, spheres
(the worst case for pruning: many pairs nearly as long as the longest, exact
ties with isotropic spacing), cylinders, ellipsoids, thin slabs, single slices,
lines, single voxels and scattered voxels, with isotropic and anisotropic
spacings.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from radsarc.features import _mesh


def _pairs_max(points: np.ndarray) -> float:
    """Largest C-expression squared distance over all pairs of ``points`` (n, 3)."""
    best = 0.0
    z, y, x = (np.ascontiguousarray(points[:, k]) for k in range(3))
    for s in range(0, len(points), 256):
        dz = z[s : s + 256, None] - z[None, :]
        dy = y[s : s + 256, None] - y[None, :]
        dx = x[s : s + 256, None] - x[None, :]
        d = (dz * dz + dy * dy) + dx * dx
        best = max(best, float(d.max()))
    return best


def brute_force(vertices: np.ndarray) -> tuple[float, float, float, float]:
    """pyradiomics' pairwise loop: the 2-D maxima over pairs of equal z, y, x;
    the 3-D maximum over all pairs."""
    out = []
    for axis in range(3):
        best = 0.0
        for value in np.unique(vertices[:, axis]):
            best = max(best, _pairs_max(vertices[vertices[:, axis] == value]))
        out.append(best)
    out.append(_pairs_max(vertices))
    return tuple(float(np.sqrt(d)) for d in out)


SPACINGS = [
    (1.0, 1.0, 1.0),
    (3.0, 0.8, 0.8),
    (0.7, 0.7, 2.5),
    (1.25, 0.5, 1.0),
]


def _masks(seed: int, n: int):
    """Random masks of every kind (unpadded) with a spacing each."""
    rng = np.random.default_rng(seed)
    kinds = [
        "blob",
        "sphere",
        "ellipsoid",
        "cylinder",
        "slab",
        "slice",
        "line",
        "voxels",
        "scattered",
    ]
    for k in range(n):
        kind = kinds[k % len(kinds)]
        if rng.random() < 0.5:
            spacing = SPACINGS[rng.integers(len(SPACINGS))]
        else:
            spacing = tuple(np.round(rng.uniform(0.3, 4.0, 3), rng.integers(1, 6)))
        shape = rng.integers(3, 26, 3)
        z, y, x = np.ogrid[: shape[0], : shape[1], : shape[2]]
        c = rng.uniform(0.3, 0.7, 3) * shape
        if kind == "blob":
            field = ndimage.gaussian_filter(rng.random(shape), rng.uniform(0.4, 3.0))
            mask = field > np.quantile(field, rng.uniform(0.3, 0.8))
        elif kind in ("sphere", "ellipsoid"):
            r = rng.uniform(1.0, 12.0)
            a = (1, 1, 1) if kind == "sphere" else rng.uniform(0.4, 1.6, 3)
            mask = (
                ((z - c[0]) / a[0]) ** 2
                + ((y - c[1]) / a[1]) ** 2
                + ((x - c[2]) / a[2]) ** 2
            ) < r * r
        elif kind == "cylinder":
            r = rng.uniform(1.0, 12.0)
            axes = [(z, c[0]), (y, c[1]), (x, c[2])]
            del axes[rng.integers(3)]
            mask = np.broadcast_to(
                sum((g - cc) ** 2 for g, cc in axes) < r * r, tuple(shape)
            ).copy()
        elif kind in ("slab", "slice"):
            field = ndimage.gaussian_filter(rng.random(shape), rng.uniform(0.5, 3.0))
            mask = field > np.quantile(field, rng.uniform(0.2, 0.7))
            axis = rng.integers(3)
            keep = np.zeros(shape[axis], dtype=bool)
            at = rng.integers(shape[axis])
            keep[at : at + (1 if kind == "slice" else 2)] = True
            mask &= np.expand_dims(keep, [a for a in range(3) if a != axis])
        elif kind == "line":
            mask = np.zeros(shape, dtype=bool)
            step = rng.integers(-1, 2, 3)
            if not step.any():
                step[rng.integers(3)] = 1
            p = np.array(shape) // 2
            for _ in range(rng.integers(1, 20)):
                mask[tuple(p)] = True
                p = np.clip(p + step, 0, np.array(shape) - 1)
        elif kind == "voxels":
            mask = np.zeros(shape, dtype=bool)
            for _ in range(rng.integers(1, 3)):
                mask[tuple(rng.integers(0, shape))] = True
        else:
            mask = rng.random(shape) < rng.uniform(0.01, 0.2)
        if mask.any():
            yield kind, np.pad(mask, 1), spacing


def _check(mask, spacing):
    grid = _mesh.mesh_grid(mask)
    vertices = _mesh.mesh_vertices(mask, spacing)
    want = brute_force(vertices)
    assert _mesh.maximum_diameters(vertices, grid) == want
    assert _mesh.maximum_diameters(vertices) == want  # ranks instead of grid


@pytest.mark.parametrize("seed", range(4))
def test_diameters_equal_the_brute_force_on_random_masks(seed):
    kinds = set()
    for kind, mask, spacing in _masks(seed, 45):
        _check(mask, spacing)
        kinds.add(kind)
    assert len(kinds) == 9


def test_every_pair_search_through_the_cell_tree(monkeypatch):
    # The tree of cells (used with many candidate pairs) on every set: the
    # same values as the brute force.
    monkeypatch.setattr(_mesh, "_DIRECT_PAIRS", 0)
    for _, mask, spacing in _masks(7, 45):
        _check(mask, spacing)


def test_cell_tree_on_point_sets_with_ties():
    # Integer points (many equal distances) and groups: _max_sq_pairs equals
    # the brute force within each group, whatever lower bound it starts from.
    rng = np.random.default_rng(3)
    for trial in range(40):
        n = int(rng.integers(2, 400))
        points = rng.integers(0, rng.integers(1, 12), (3, n)).astype(np.float64)
        points *= rng.choice([1.0, 0.8, 3.0])
        group = np.sort(rng.integers(0, rng.integers(1, 5), n))
        want = max(_pairs_max(points[:, group == g].T) for g in np.unique(group))
        start = want * rng.choice([0.0, 0.5, 1.0])
        assert _mesh._max_sq_pairs(points, group, start, 1e-9) == want, trial


def test_large_sphere_and_cylinder():
    # Round shapes, where many vertices are nearly as far apart as the
    # longest pair, through the support polygons and the tree.
    z, y, x = np.ogrid[:30, :44, :44]
    sphere = np.pad((z - 14.5) ** 2 + (y - 21.7) ** 2 + (x - 21.3) ** 2 < 14**2, 1)
    cylinder = np.pad(
        np.broadcast_to((y - 21.5) ** 2 + (x - 21.5) ** 2 < 20**2, (8, 44, 44)), 1
    )
    for mask, spacing in [(sphere, (1.0, 1.0, 1.0)), (cylinder, (3.0, 0.8, 0.8))]:
        _check(mask, spacing)


def test_degenerate_vertex_sets():
    assert _mesh.maximum_diameters(np.zeros((0, 3))) == (0.0, 0.0, 0.0, 0.0)
    assert _mesh.maximum_diameters(np.ones((1, 3))) == (0.0, 0.0, 0.0, 0.0)
    assert _mesh.maximum_diameters(np.ones((5, 3))) == (0.0, 0.0, 0.0, 0.0)
    line = np.array([[0.0, 0.0, k * 0.7] for k in range(50)])
    want = brute_force(line)
    assert want[2] == 0.0 < want[0] == want[1] == want[3]
    assert _mesh.maximum_diameters(line) == want
    diagonal = np.array([[k * 3.0, k * 0.8, k * 0.8] for k in range(40)])
    assert _mesh.maximum_diameters(diagonal) == brute_force(diagonal)


def test_any_vertex_set_without_grid():
    # Points off any grid (every coordinate distinct): the lines are found by
    # ranking the coordinates; a few exact copies and shared planes added.
    rng = np.random.default_rng(11)
    points = rng.normal(size=(1500, 3)) * [20.0, 35.0, 30.0]
    points[:300, 0] = np.round(points[:300, 0] / 7) * 7  # shared z planes
    points[300:400] = points[:100]
    assert _mesh.maximum_diameters(points) == brute_force(points)


def test_shape_class_equals_pyradiomics_bit_for_bit():
    # radsarc's shape class (mesh route above _SMALL_MESH vertices, voxel
    # coordinates by flatnonzero): the same diameters and eigenvalues (==) as
    # pyradiomics' own class; area and volume within 1e-12 (another order of
    # additions).
    radiomics = pytest.importorskip("radiomics")
    import SimpleITK as sitk
    from radiomics.shape import RadiomicsShape

    from radsarc.features._pyradiomics import _SMALL_MESH, _Shape

    radiomics.setVerbosity(40)
    rng = np.random.default_rng(5)
    n = 0
    for kind, mask, spacing in _masks(21, 120):
        if len(_mesh.mesh_grid(mask)) <= _SMALL_MESH or kind == "scattered":
            continue
        mask_image = sitk.GetImageFromArray(mask[1:-1, 1:-1, 1:-1].astype(np.uint8))
        mask_image.SetSpacing(tuple(float(s) for s in spacing[::-1]))
        image = sitk.GetImageFromArray(rng.normal(size=np.array(mask.shape) - 2))
        image.CopyInformation(mask_image)
        ours, theirs = _Shape(image, mask_image), RadiomicsShape(image, mask_image)
        assert ours.diameters == tuple(theirs.diameters)
        np.testing.assert_array_equal(ours.eigenValues, theirs.eigenValues)
        np.testing.assert_allclose(
            [ours.SurfaceArea, ours.Volume],
            [theirs.SurfaceArea, theirs.Volume],
            rtol=1e-12,
        )
        n += 1
    assert n >= 10
