"""Mesh-based shape coefficients of a 3-D mask, equal to pyradiomics' C shape code.

pyradiomics (``radiomics/src/cshape.c``, ``calculate_coefficients``) builds a
marching-cubes mesh of the mask (padded by one voxel of background), sums the area
and signed volume of its triangles, and finds the maximum 3-D and 2-D diameters by
comparing *every pair* of mesh vertices. The pair loop is quadratic in the surface
size: it takes seconds on a large sarcoma. This module computes the same numbers
without it:

* **Vertices.** The C code stores, for every cube, the vertices on three of its
  edges (those ending at its corner ``(1, 1, 0)``), which together visit every
  edge of the voxel grid once: a vertex is the midpoint of each grid edge whose
  two voxels differ (one in the mask, one not). :func:`mesh_vertices` lists the
  same midpoints with the same floating-point operations
  (``(index + 0.5) * spacing`` along the edge, ``index * spacing`` across it), so
  the coordinates are bit-identical.
* **Diameters.** The largest distance between points of a set is attained by two
  vertices of its convex hull (the squared distance to a fixed point is strictly
  convex along any segment, so no point inside a hull face or edge can attain
  it). The 3-D diameter is therefore the largest distance between hull vertices,
  and each 2-D diameter the largest distance between the hull vertices of the
  vertices sharing one coordinate (one plane). Squared distances are computed
  with the C code's expression, ``(a-b)_z**2 + (a-b)_y**2 + (a-b)_x**2`` summed in
  that order, and the square root is taken last, so the maxima are bit-identical.
  Before the hull, each axis-parallel line of vertices is reduced to its two end
  points (an interior point of a segment is never a hull vertex); the hull's
  coplanar points are kept as candidates too, so no candidate is lost to qhull's
  precision handling.
* **Surface area and volume.** The C code adds, cube by cube, the triangles of the
  cube's configuration (its 8 corners in or out of the mask). The area of a
  configuration's triangles does not depend on where the cube is, and their
  signed volume ``a . (b x c) / 6`` is an affine function of the cube position
  (``det(p + a, p + b, p + c)`` expands with no quadratic term). So the totals are
  sums over configurations of (count x area) and (count x volume at the origin +
  position sum x per-step increment), from per-configuration tables that the
  caller measures with pyradiomics' own C function on single cubes (see
  :func:`radsarc.features._pyradiomics.cube_tables`). Only the order of the
  floating-point additions differs from the C loop (relative difference about
  1e-13).
"""

from __future__ import annotations

import sys

import numpy as np

__all__ = [
    "cube_configurations",
    "maximum_diameters",
    "mesh_vertices",
    "surface_volume",
]

# Bit of each cube corner in pyradiomics' cube index; corners as (dz, dy, dx)
# (cshape.c ``gridAngles``).
GRID_ANGLES = (
    (0, 0, 0),
    (0, 0, 1),
    (0, 1, 1),
    (0, 1, 0),
    (1, 0, 0),
    (1, 0, 1),
    (1, 1, 1),
    (1, 1, 0),
)


def cube_configurations(mask: np.ndarray) -> np.ndarray:
    """Cube index (0-255) of every 2x2x2 cube of ``mask``, as pyradiomics numbers it.

    Parameters
    ----------
    mask : ndarray of bool, shape (Z, Y, X)
        The padded mask.

    Returns
    -------
    ndarray of uint8, shape (Z - 1, Y - 1, X - 1)
    """
    m = np.asarray(mask, dtype=bool)
    z, y, x = m.shape
    idx = np.zeros((z - 1, y - 1, x - 1), dtype=np.uint8)
    for bit, (dz, dy, dx) in enumerate(GRID_ANGLES):
        corner = m[dz : dz + z - 1, dy : dy + y - 1, dx : dx + x - 1]
        idx |= corner.view(np.uint8) << np.uint8(bit)
    return idx


def surface_volume(
    mask: np.ndarray,
    area_table: np.ndarray,
    volume_table: np.ndarray,
    step_table: np.ndarray,
) -> tuple[float, float]:
    """Mesh surface area and volume from per-configuration tables.

    Parameters
    ----------
    mask : ndarray of bool, shape (Z, Y, X)
        The mask, padded with background on every side (as pyradiomics pads it).
    area_table : ndarray, shape (256,)
        Triangle area of each cube configuration.
    volume_table : ndarray, shape (256,)
        Signed volume (``sum a . (b x c) / 6``) of each configuration's triangles,
        the cube at the origin.
    step_table : ndarray, shape (256, 3)
        Change of that volume when the cube moves by one voxel along z, y and x.

    Returns
    -------
    surface_area, volume : float
    """
    idx = cube_configurations(mask)
    counts = np.bincount(idx.ravel(), minlength=256).astype(np.float64)
    counts[0] = counts[255] = 0.0
    area = float(counts @ area_table)
    volume = float(counts @ volume_table)
    surface = np.nonzero((idx != 0) & (idx != 255))
    conf = idx[surface]
    for axis in range(3):
        pos = np.bincount(conf, weights=surface[axis], minlength=256)
        volume += float(pos @ step_table[:, axis])
    return area, volume


def mesh_vertices(mask: np.ndarray, spacing) -> np.ndarray:
    """The marching-cubes vertices of pyradiomics' C shape code.

    Parameters
    ----------
    mask : ndarray of bool, shape (Z, Y, X)
        The padded mask.
    spacing : sequence of 3 float
        Voxel spacing in (z, y, x) order.

    Returns
    -------
    ndarray of float64, shape (n_vertices, 3)
        Physical (z, y, x) coordinates, relative to the first voxel of ``mask``.
    """
    m = np.asarray(mask, dtype=bool)
    sz, sy, sx = (float(s) for s in spacing)
    parts = []
    for axis in range(3):
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[axis] = slice(0, -1)
        hi[axis] = slice(1, None)
        iz, iy, ix = np.nonzero(m[tuple(lo)] != m[tuple(hi)])
        index = [iz.astype(np.float64), iy.astype(np.float64), ix.astype(np.float64)]
        index[axis] = index[axis] + 0.5
        parts.append(np.column_stack([index[0] * sz, index[1] * sy, index[2] * sx]))
    return np.concatenate(parts)


def _max_sq_distance(points: np.ndarray) -> float:
    """Largest squared distance between two rows of ``points`` (C expression).

    Each pair is evaluated once, with pyradiomics' expression: the differences
    squared and summed in z, y, x order.
    """
    n = len(points)
    best = 0.0
    if n < 2:
        return best
    pz, py, px = (np.ascontiguousarray(points[:, k]) for k in range(3))
    chunk = max(1, 1_000_000 // n)
    for start in range(0, n - 1, chunk):
        stop = min(start + chunk, n - 1)
        rest = slice(start + 1, None)
        dz = pz[start:stop, None] - pz[None, rest]
        dz *= dz
        dy = py[start:stop, None] - py[None, rest]
        dy *= dy
        dz += dy
        dx = px[start:stop, None] - px[None, rest]
        dx *= dx
        dz += dx
        # Row i compares with every later row; the lower-left part of the block
        # (pairs already compared, or a point with itself) is dropped.
        rows = np.arange(stop - start)[:, None]
        cols = np.arange(n - start - 1)[None, :]
        dz[cols < rows] = 0.0
        best = max(best, float(dz.max()))
    return best


def _max_sq_distance_3d(points: np.ndarray) -> float:
    """:func:`_max_sq_distance`, skipping points that cannot be in the farthest pair.

    With ``r`` the distance of each point from the centre of the bounding box, no
    pair is farther apart than ``r_i + r_j``. A first pass (the point farthest
    from the centre against all points) gives a distance ``L`` that the answer
    reaches; points with ``r_i + max(r) < sqrt(L)`` (with a margin for rounding)
    cannot be in a farther pair and are dropped before the exact pairwise pass.
    """
    if len(points) < 64:
        return _max_sq_distance(points)
    centre = (points.min(axis=0) + points.max(axis=0)) / 2
    r = np.sqrt(((points - centre) ** 2).sum(axis=1))
    far = points[np.argmax(r)]
    d = points - far
    d *= d
    first = float((d[:, 0] + d[:, 1] + d[:, 2]).max())
    keep = r + r.max() >= np.sqrt(first) * (1 - 1e-9)
    return max(first, _max_sq_distance(points[keep]))


def _line_ends(points: np.ndarray, group: list[int], along: int) -> np.ndarray:
    """End points of every line of points parallel to axis ``along``.

    Lines are the sets of points with equal coordinates on the ``group`` axes;
    the result is sorted by the ``group`` coordinates (first axis first). An
    interior point of a segment is never a vertex of the convex hull.
    """
    if len(points) <= 2:
        return points
    order = np.lexsort([points[:, along]] + [points[:, a] for a in group[::-1]])
    p = points[order]
    key = p[:, group]
    new = np.ones(len(p), dtype=bool)
    new[1:] = (key[1:] != key[:-1]).any(axis=1)
    last = np.ones(len(p), dtype=bool)
    last[:-1] = new[1:]
    return p[new | last]


def _hull_2d(points: np.ndarray) -> np.ndarray:
    """Indices of the points on the boundary of the convex hull of 2-D ``points``.

    Andrew's monotone chain on the points sorted by (first, second)
    coordinate. A point is dropped only when it makes a clockwise turn beyond
    a rounding tolerance, so the hull's vertices and the points on (or within
    rounding of) its edges are kept: every point that can be at either end of
    the farthest pair of the set. Points that coincide are all kept.
    """
    n = len(points)
    if n <= 3:
        return np.arange(n)
    order = np.lexsort((points[:, 1], points[:, 0]))
    xs = points[order, 0].tolist()
    ys = points[order, 1].tolist()
    span = max(
        float(points[:, 0].max() - points[:, 0].min()),
        float(points[:, 1].max() - points[:, 1].min()),
        1e-300,
    )
    tol = 1e-9 * span * span

    def chain(indices):
        kept: list[int] = []
        for i in indices:
            while len(kept) >= 2:
                a, b = kept[-2], kept[-1]
                cross = (xs[b] - xs[a]) * (ys[i] - ys[a]) - (ys[b] - ys[a]) * (
                    xs[i] - xs[a]
                )
                if cross < -tol:
                    kept.pop()
                else:
                    break
            kept.append(i)
        return kept

    lower = chain(range(n))
    upper = chain(range(n - 1, -1, -1))
    return np.unique(order[np.array(lower + upper)])


#: Diameter computations after which a process imports scipy.spatial (0.2 s
#: once) for qhull, which prunes the 3-D candidates further (0.09 s against
#: 0.14 s on a 474k-voxel ROI); fewer are cheaper without it. Both routes keep
#: every hull vertex, so the diameters are the same.
QHULL_AFTER = 3
_CALLS = 0


def _use_qhull() -> bool:
    return "scipy.spatial" in sys.modules or _CALLS > QHULL_AFTER


def _hull_candidates(points: np.ndarray, dims: list[int]) -> np.ndarray:
    """Points that may be convex-hull vertices of ``points[:, dims]``.

    Every vertex of the hull is kept, with points on (or within rounding of)
    its boundary, so the farthest pair of the set is among them. With qhull
    (scipy.spatial, once imported): its vertices and coplanar points; a
    degenerate set is returned whole. Without: in 2-D the hull boundary by
    :func:`_hull_2d`; in 3-D the points on the 2-D hull boundary of their
    plane of equal first coordinate (a vertex of the 3-D hull is a vertex of
    the hull of its plane: were it a convex combination of points of its
    plane, it would be one of points of the set).
    """
    if len(points) <= 4 * len(dims):
        return points
    if _use_qhull():
        from scipy.spatial import ConvexHull, QhullError

        try:
            hull = ConvexHull(points[:, dims], qhull_options="Qc")
        except (QhullError, ValueError):
            return points
        keep = np.zeros(len(points), dtype=bool)
        keep[hull.vertices] = True
        if len(hull.coplanar):
            keep[hull.coplanar[:, 0]] = True
        return points[keep]
    if len(dims) == 2:
        return points[_hull_2d(points[:, dims])]
    first, rest = dims[0], dims[1:]
    order = np.argsort(points[:, first], kind="stable")
    p = points[order]
    cuts = np.flatnonzero(p[1:, first] != p[:-1, first]) + 1
    keep = [
        plane[_hull_2d(p[plane][:, rest])]
        for plane in np.split(np.arange(len(p)), cuts)
    ]
    return p[np.concatenate(keep)]


def _plane_maximum(vertices: np.ndarray, axis: int) -> float:
    """Largest squared distance between vertices with equal ``axis`` coordinate."""
    dims = [a for a in range(3) if a != axis]
    p = _line_ends(vertices, [axis, dims[0]], dims[1])
    if len(p) < 2:
        return 0.0
    cuts = np.flatnonzero(p[1:, axis] != p[:-1, axis]) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.append(cuts, len(p))
    # No two points of a plane are farther apart than twice the largest distance
    # from the centre of the plane's bounding box: planes are visited from the
    # largest bound down and skipped once the bound is below the best distance
    # found (with a margin for rounding).
    lengths = ends - starts
    radius2 = np.zeros(len(p))
    for d in dims:
        lo = np.minimum.reduceat(p[:, d], starts)
        hi = np.maximum.reduceat(p[:, d], starts)
        centre = np.repeat((lo + hi) / 2, lengths)
        radius2 += (p[:, d] - centre) ** 2
    bound = 4 * np.maximum.reduceat(radius2, starts)
    best = 0.0
    for k in np.argsort(-bound, kind="stable"):
        if bound[k] * (1 + 1e-9) < best:
            break
        plane = p[starts[k] : ends[k]]
        if len(plane) < 2:
            continue
        best = max(best, _max_sq_distance(_hull_candidates(plane, dims)))
    return best


def maximum_diameters(vertices: np.ndarray) -> tuple[float, float, float, float]:
    """Maximum 2-D diameters (equal z, equal y, equal x) and maximum 3-D diameter.

    Parameters
    ----------
    vertices : ndarray of float64, shape (n, 3)
        Mesh vertices as returned by :func:`mesh_vertices`.

    Returns
    -------
    tuple of 4 float
        In pyradiomics' order: ``Maximum2DDiameterSlice`` (pairs with equal z),
        ``Maximum2DDiameterColumn`` (equal y), ``Maximum2DDiameterRow`` (equal
        x) and ``Maximum3DDiameter``; exactly the values of pyradiomics' pairwise
        loop.
    """
    global _CALLS
    _CALLS += 1
    v = np.asarray(vertices, dtype=np.float64)
    out = [_plane_maximum(v, axis) for axis in range(3)]
    cand = _hull_candidates(_line_ends(v, [0, 1], 2), [0, 1, 2])
    out.append(_max_sq_distance_3d(cand))
    return tuple(float(np.sqrt(d)) for d in out)
