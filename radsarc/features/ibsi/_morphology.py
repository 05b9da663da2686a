"""IBSI morphological features (mesh, PCA, densities, spatial autocorrelation)."""

from __future__ import annotations

import math

import numpy as np
from scipy import fft as sp_fft
from scipy.spatial import ConvexHull, QhullError
from scipy.special import eval_legendre

from radsarc.features import _mesh

__all__ = ["morphology"]


def _moments_of(weights: np.ndarray, spacing) -> tuple[float, np.ndarray, np.ndarray]:
    """Total, centre (mm) and population covariance of a weighted voxel grid.

    From the three 2-D projections of ``weights`` (no list of voxel positions):
    every first and second moment of (z, y, x) is a weighted sum over one of them.
    """
    coords = [np.arange(n) * s for n, s in zip(weights.shape, spacing, strict=True)]
    zy = weights.sum(axis=2)
    zx = weights.sum(axis=1)
    yx = weights.sum(axis=0)
    total = float(zy.sum())
    if total == 0:
        return 0.0, np.zeros(3), np.zeros((3, 3))
    marg = [zy.sum(axis=1), zy.sum(axis=0), zx.sum(axis=0)]
    mean = np.array([m @ c for m, c in zip(marg, coords, strict=True)]) / total
    second = np.empty((3, 3))
    for a in range(3):
        second[a, a] = marg[a] @ coords[a] ** 2 / total
    second[0, 1] = second[1, 0] = coords[0] @ zy @ coords[1] / total
    second[0, 2] = second[2, 0] = coords[0] @ zx @ coords[2] / total
    second[1, 2] = second[2, 1] = coords[1] @ yx @ coords[2] / total
    return total, mean, second - np.outer(mean, mean)


def _ratio(num: float, den: float) -> float:
    """``num / den``; NaN where the denominator is 0 (a flat or empty shape,
    for which IBSI leaves the feature undefined)."""
    return num / den if den > 0 else math.nan


def _ellipsoid_area(a: float, b: float, c: float) -> float:
    """Surface area of an ellipsoid with semi-axes a >= b >= c (IBSI series)."""
    if a <= 0:
        return 0.0
    alpha = math.sqrt(max(0.0, 1.0 - b**2 / a**2))
    beta = math.sqrt(max(0.0, 1.0 - c**2 / a**2))
    if alpha * beta == 0:
        # a sphere or a spheroid degenerate case: first term of the series
        if alpha == 0 and beta == 0:
            return 4.0 * math.pi * a * b
    total = 0.0
    ab = alpha * beta
    arg = (alpha**2 + beta**2) / (2.0 * ab) if ab > 0 else 1.0
    for nu in range(21):
        total += ab**nu / (1.0 - 4.0 * nu**2) * eval_legendre(nu, arg)
    return 4.0 * math.pi * a * b * total


def _mvee(points: np.ndarray, tol: float = 1e-3, max_iter: int = 300):
    """Minimum-volume enclosing ellipsoid (Khachiyan): semi-axes, descending.

    Stops when no point lies further out than ``1 + tol`` in the ellipsoid's
    metric (relative to the optimum, the volume is then within ~``tol``).
    """
    p = np.asarray(points, dtype=np.float64)
    n, d = p.shape
    q = np.vstack([p.T, np.ones(n)])
    u = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        x = (q * u) @ q.T
        m = np.einsum("ij,ij->j", q, np.linalg.solve(x, q))
        j = int(np.argmax(m))
        if m[j] <= (d + 1.0) * (1.0 + tol):
            break
        step = (m[j] - d - 1.0) / ((d + 1.0) * (m[j] - 1.0))
        u *= 1.0 - step
        u[j] += step
    centre = p.T @ u
    a = np.linalg.inv((p.T * u) @ p - np.outer(centre, centre)) / d
    eig = np.linalg.eigvalsh(a)
    return np.sort(1.0 / np.sqrt(eig))[::-1]


def _ombb(points: np.ndarray, hull: ConvexHull, n_normals: int = 64):
    """Oriented minimum bounding box (approximation): volume and area.

    Candidate orientations: the normals of the largest hull facets (the optimal
    box has a face flush with a hull facet in most cases) and the principal
    axes; for each, the other two axes come from the exact 2-D minimum-area
    rectangle of the projection (rotating calipers over the hull edges). The
    smallest volume wins.
    """
    pts = points[hull.vertices]
    normals = hull.equations[:, :3]
    order = np.argsort(-_facet_areas(points, hull))
    cand = [normals[i] for i in order[:n_normals]]
    centred = pts - pts.mean(axis=0)
    cand += list(np.linalg.eigh(centred.T @ centred)[1].T)
    best = (math.inf, math.inf)
    for nrm in cand:
        nrm = nrm / np.linalg.norm(nrm)
        helper = (
            np.array([1.0, 0.0, 0.0])
            if abs(nrm[0]) < 0.9
            else np.array([0.0, 1.0, 0.0])
        )
        u = np.cross(nrm, helper)
        u /= np.linalg.norm(u)
        v = np.cross(nrm, u)
        h = pts @ nrm
        proj = np.column_stack([pts @ u, pts @ v])
        try:
            poly = proj[ConvexHull(proj).vertices]
        except QhullError:
            poly = proj
        edges = np.roll(poly, -1, axis=0) - poly
        ang = np.arctan2(edges[:, 1], edges[:, 0])
        c, s = np.cos(ang)[:, None], np.sin(ang)[:, None]
        rx = poly[:, 0] * c + poly[:, 1] * s
        ry = -poly[:, 0] * s + poly[:, 1] * c
        wx = rx.max(axis=1) - rx.min(axis=1)
        wy = ry.max(axis=1) - ry.min(axis=1)
        k = int(np.argmin(wx * wy))
        dz = h.max() - h.min()
        vol = wx[k] * wy[k] * dz
        if vol < best[0]:
            best = (vol, 2.0 * (wx[k] * wy[k] + wx[k] * dz + wy[k] * dz))
    return best


def _facet_areas(points: np.ndarray, hull: ConvexHull) -> np.ndarray:
    tri = points[hull.simplices]
    return 0.5 * np.linalg.norm(
        np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1
    )


def _padded_rfftn(a: np.ndarray, size) -> np.ndarray:
    """``rfftn(a, size)`` of a zero-padded array, skipping the all-zero lines.

    Axis by axis (last first): before the transform along an axis, only the
    lines that the earlier axes made non-zero are transformed; the zero padding
    of the remaining axes is added by the transform itself (about 40 % less
    work than transforming the padded volume).
    """
    out = sp_fft.rfft(a, n=size[2], axis=2)
    out = sp_fft.fft(out, n=size[1], axis=1, overwrite_x=True)
    return sp_fft.fft(out, n=size[0], axis=0, overwrite_x=True)


def _even_fast_len(n: int, real: bool = True) -> int:
    """The smallest even length >= n that pocketfft transforms fast (5-smooth
    for the real transform, 11-smooth for the complex ones)."""
    k = sp_fft.next_fast_len(max(n, 2), real=real)
    while k % 2:
        k = sp_fft.next_fast_len(k + 1, real=real)
    return k


def _autocorrelation(values_grid: np.ndarray, mask: np.ndarray, spacing):
    """Moran's I and Geary's C with inverse-distance weights, exactly.

    The double sums over voxel pairs, ``sum_ij w_ij a_i b_j`` with ``w_ij = 1 /
    |x_i - x_j|`` (0 on the diagonal), are inner products of ``a`` with the
    correlation of ``b`` and the inverse-distance kernel; by Parseval's theorem
    they are sums over the Fourier spectra, so only forward FFTs are needed. The
    circular grid has at least 2n - 1 points per axis, so no pair wraps round.
    """
    nz = [
        np.nonzero(mask.any(axis=tuple(a for a in range(3) if a != ax)))[0]
        for ax in range(3)
    ]
    if any(z.size == 0 for z in nz):
        return math.nan, math.nan
    sl = tuple(slice(z[0], z[-1] + 1) for z in nz)
    roi = mask[sl]
    n = int(np.count_nonzero(roi))
    if n < 2:
        return math.nan, math.nan
    # Single precision halves the FFT cost (relative error ~1e-5, far below the
    # IBSI tolerances of ~0.5 %); Moran's I and Geary's C do not depend on the
    # scale of the centred intensities.
    m = roi.astype(np.float32)
    vals = values_grid[sl]
    y = vals.astype(np.float32)
    y -= np.float32(vals[roi].mean())
    y[~roi] = 0.0
    # axes 0 and 1 take complex transforms, the last axis the real one
    size = [_even_fast_len(2 * k - 1, real=ax == 2) for ax, k in enumerate(roi.shape)]
    # The kernel is even along every axis, so its DFT (real) is the DCT-I of
    # one octant: an eighth of the work of a full FFT.
    octant = [np.arange(k // 2 + 1) * s for k, s in zip(size, spacing, strict=True)]
    gz, gy, gx = np.meshgrid(*octant, indexing="ij", sparse=True)
    dist2 = (gz**2 + gy**2 + gx**2).astype(np.float32)
    kernel = np.zeros(dist2.shape, dtype=np.float32)
    np.divide(np.float32(1.0), np.sqrt(dist2), out=kernel, where=dist2 > 0)
    spec = sp_fft.dctn(kernel, type=1)
    del kernel, dist2
    # rfft's half spectrum: the bins of the last axis but its first and (even
    # size) Nyquist bin stand for two; and the 1 / size of Parseval's theorem
    half = np.full(spec.shape[-1], 2.0)
    half[0] = half[-1] = 1.0
    spec *= (half / float(np.prod(size))).astype(np.float32)
    # unfold the octant to the full axes 0 and 1 (k and size - k are equal)
    kf = np.concatenate([spec, spec[-2:0:-1]], axis=0)
    kf = np.concatenate([kf, kf[:, -2:0:-1]], axis=1)
    del spec
    mf = _padded_rfftn(m, size)
    yf = _padded_rfftn(y, size)
    y2f = _padded_rfftn(y * y, size)

    # sum_k kf_k Re(conj(a_k) b_k) as BLAS dot products (single precision; the
    # relative error, ~1e-5, is far below the IBSI tolerances)
    km = mf * kf
    w_total = float(np.vdot(mf, km).real)
    y2m = float(np.vdot(y2f, km).real)
    del km
    cross = float(np.vdot(yf, yf * kf).real)
    ss = float(np.sum(y.astype(np.float64) ** 2))
    if ss == 0 or w_total == 0:
        return math.nan, math.nan
    moran = n / w_total * cross / ss
    # sum_ij w_ij (y_i - y_j)^2 = 2 sum_i y_i^2 (K*m)_i - 2 sum_i y_i (K*y)_i
    geary = (n - 1) * (2.0 * y2m - 2.0 * cross) / (2.0 * w_total * ss)
    return moran, geary


def morphology(
    image: np.ndarray,
    morph_mask: np.ndarray,
    int_mask: np.ndarray,
    spacing,
) -> dict[str, float]:
    """IBSI morphological features (``morph_*``) of the ROI.

    The mesh is pyradiomics' marching cubes of the morphological mask (vertices
    at the midpoints of the grid edges that cross the ROI border); volume and
    area densities use its vertices; centre of mass shift, integrated intensity,
    Moran's I and Geary's C use the intensities of the intensity mask.
    """
    from radsarc.features._pyradiomics import cube_tables

    sp = tuple(float(s) for s in spacing)
    nz = [
        np.nonzero(morph_mask.any(axis=tuple(a for a in range(3) if a != ax)))[0]
        for ax in range(3)
    ]
    sl = tuple(slice(z[0], z[-1] + 1) for z in nz)
    m = np.pad(morph_mask[sl], 1)
    area, volume = _mesh.surface_volume(m, *cube_tables(sp))
    volume = abs(volume)
    verts = _mesh.mesh_vertices(m, sp)
    voxel_volume = sp[0] * sp[1] * sp[2]
    n_vox = int(morph_mask.sum())
    out: dict[str, float] = {}
    out["morph_volume"] = volume
    out["morph_vol_approx"] = n_vox * voxel_volume
    out["morph_area_mesh"] = area
    out["morph_av"] = area / volume
    out["morph_comp_1"] = volume / (math.sqrt(math.pi) * area**1.5)
    out["morph_comp_2"] = 36.0 * math.pi * volume**2 / area**3
    out["morph_sph_dispr"] = area / (36.0 * math.pi * volume**2) ** (1.0 / 3.0)
    out["morph_sphericity"] = (36.0 * math.pi * volume**2) ** (1.0 / 3.0) / area
    out["morph_asphericity"] = (area**3 / (36.0 * math.pi * volume**2)) ** (
        1.0 / 3.0
    ) - 1.0
    # centre of mass shift (positions relative to the box; the shift is a
    # difference of positions)
    box_mask = morph_mask[sl]
    w = image[int_mask]
    _, com_geom, cov = _moments_of(box_mask.astype(np.float64), sp)
    total, com_gl, _ = _moments_of(np.where(int_mask[sl], image[sl], 0.0), sp)
    if total == 0:
        com_gl = com_geom
    out["morph_com"] = float(np.linalg.norm(com_geom - com_gl))
    # hull and diameter
    # Only the end points of each line of vertices can be hull vertices.
    candidates = verts[_mesh._line_ends(_mesh.mesh_grid(m).T, 2)]
    try:
        hull = ConvexHull(candidates)
        hull_ok = True
    except QhullError:
        hull_ok = False
    if hull_ok:
        hv = candidates[hull.vertices]
        d2 = 0.0
        for start in range(0, len(hv), 2048):
            block = hv[start : start + 2048]
            diff = block[:, None, :] - hv[None, :, :]
            d2 = max(d2, float(np.max(np.einsum("ijk,ijk->ij", diff, diff))))
        out["morph_diam"] = math.sqrt(d2)
    else:
        out["morph_diam"] = math.nan
    # PCA of voxel positions (sample covariance)
    if n_vox > 1:
        sample_cov = cov * n_vox / (n_vox - 1)
        lam = np.sort(np.linalg.eigvalsh(sample_cov))[::-1]
        lam = np.maximum(lam, 0.0)
    else:
        lam = np.zeros(3)
    major, minor, least = (4.0 * math.sqrt(v) for v in lam)
    out["morph_pca_maj_axis"] = major
    out["morph_pca_min_axis"] = minor
    out["morph_pca_least_axis"] = least
    out["morph_pca_elongation"] = math.sqrt(lam[1] / lam[0]) if lam[0] > 0 else math.nan
    out["morph_pca_flatness"] = math.sqrt(lam[2] / lam[0]) if lam[0] > 0 else math.nan
    ext = verts.max(axis=0) - verts.min(axis=0)
    out["morph_vol_dens_aabb"] = _ratio(volume, float(np.prod(ext)))
    out["morph_area_dens_aabb"] = _ratio(
        area, float(2.0 * (ext[0] * ext[1] + ext[0] * ext[2] + ext[1] * ext[2]))
    )
    if hull_ok:
        ob_vol, ob_area = _ombb(candidates, hull)
        out["morph_vol_dens_ombb"] = _ratio(volume, ob_vol)
        out["morph_area_dens_ombb"] = _ratio(area, ob_area)
    else:
        out["morph_vol_dens_ombb"] = out["morph_area_dens_ombb"] = math.nan
    a, b, c = (2.0 * math.sqrt(v) for v in lam)
    out["morph_vol_dens_aee"] = _ratio(volume, 4.0 * math.pi * a * b * c / 3.0)
    out["morph_area_dens_aee"] = _ratio(area, _ellipsoid_area(a, b, c))
    if hull_ok:
        ma, mb, mc = _mvee(candidates[hull.vertices])
        out["morph_vol_dens_mvee"] = _ratio(volume, 4.0 * math.pi * ma * mb * mc / 3.0)
        out["morph_area_dens_mvee"] = _ratio(area, _ellipsoid_area(ma, mb, mc))
        out["morph_vol_dens_conv_hull"] = _ratio(volume, hull.volume)
        out["morph_area_dens_conv_hull"] = _ratio(area, hull.area)
    else:
        for k in (
            "vol_dens_mvee",
            "area_dens_mvee",
            "vol_dens_conv_hull",
            "area_dens_conv_hull",
        ):
            out[f"morph_{k}"] = math.nan
    out["morph_integ_int"] = float(w.mean()) * volume
    moran, geary = _autocorrelation(image, int_mask, sp)
    out["morph_moran_i"] = moran
    out["morph_geary_c"] = geary
    return {k: float(v) for k, v in out.items()}
