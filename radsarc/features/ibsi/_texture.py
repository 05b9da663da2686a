"""IBSI texture matrices and features: GLCM, GLRLM, GLSZM, GLDZM, NGTDM, NGLDM.

Every matrix is built with whole-array operations: voxel pairs along a direction
are two shifted views of the padded grey-level array, counted with
``np.bincount`` on flat (slice, level, level) indices; runs are paired start and
end voxels sorted along their line; zones are ``scipy.ndimage.label`` components,
one call per grey level. All matrices of one family are kept by direction and
slice, and the IBSI aggregation methods are sums over those axes:

========== ===================================== ===============
tag suffix IBSI aggregation                      matrices summed
========== ===================================== ===============
_2D_avg    by slice, without merging             none
_2D_comb   by slice, with merging                directions
_2_5D_avg  by direction, with merging            slices
_2_5D_comb full merging (2.5D)                   both
_3D_avg    by direction, without merging (3D)    none
_3D_comb   full merging (3D)                     directions
_2D        (zone / neighbourhood matrices) per slice, features averaged
_2_5D      slices merged
_3D        one 3D matrix
========== ===================================== ===============

Features of several matrices are averaged; empty matrices (no voxel pair, run or
zone) are left out of the average.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage, sparse
from scipy.sparse import csgraph

__all__ = ["texture_features"]

DIRS_3D = (
    (0, 0, 1), (0, 1, 0), (0, 1, 1), (0, 1, -1),
    (1, 0, 0), (1, 0, 1), (1, 0, -1), (1, 1, 0), (1, -1, 0),
    (1, 1, 1), (1, 1, -1), (1, -1, 1), (1, -1, -1),
)  # fmt: skip
DIRS_2D = DIRS_3D[:4]

#: Most grey levels present in a ROI that the texture matrices accept.
MAX_LEVELS = 1000


def _shift(gp: np.ndarray, d) -> np.ndarray:
    """View of the padded array ``gp`` moved by ``d`` (core-shaped)."""
    return gp[tuple(slice(1 + o, gp.shape[a] - 1 + o) for a, o in enumerate(d))]


def _entropy(p: np.ndarray, axes) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(p > 0, p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
    return -t.sum(axis=axes)


# ---------------------------------------------------------------------------
# GLCM
# ---------------------------------------------------------------------------
def _glcm_counts(gp, n_g, dirs, n_z):
    core = gp[1:-1, 1:-1, 1:-1]
    zidx = np.broadcast_to(np.arange(core.shape[0])[:, None, None], core.shape)
    out = np.zeros((len(dirs), n_z, n_g, n_g))
    for k, d in enumerate(dirs):
        nb = _shift(gp, d)
        ok = (core > 0) & (nb > 0)
        z = zidx[ok] if n_z > 1 else 0
        i = core[ok].astype(np.int64)
        flat = (z * n_g + i - 1) * n_g + nb[ok] - 1
        out[k] = np.bincount(flat, minlength=n_z * n_g * n_g).reshape(n_z, n_g, n_g)
    return out + np.swapaxes(out, -1, -2)


def _glcm_features(counts: np.ndarray, lv: np.ndarray, n_g: int) -> dict:
    """GLCM features of a batch of matrices over the grey levels ``lv``.

    ``lv`` are the grey levels of the rows / columns (those present in the
    ROI); ``n_g`` the number of grey levels of the discretisation (IBSI's N_g,
    in the normalised inverse differences).
    """
    k_lv = lv.size
    tot = counts.sum(axis=(-1, -2))
    p = counts[tot > 0] / tot[tot > 0, None, None]
    lv = np.asarray(lv, dtype=np.float64)
    i = lv[:, None]
    j = lv[None, :]
    pi = p.sum(axis=2)
    pj = p.sum(axis=1)
    mu_i = pi @ lv
    mu_j = pj @ lv
    flat = p.reshape(len(p), k_lv * k_lv)
    # diagonal and cross-diagonal distributions p_{i-j}, p_{i+j}
    kk, kd = np.unique(np.abs(i - j).ravel(), return_inverse=True)
    ss, ks = np.unique((i + j).ravel(), return_inverse=True)
    cells = np.arange(k_lv * k_lv)
    ones = np.ones(cells.size)
    pd = flat @ sparse.csr_matrix((ones, (cells, kd)), shape=(cells.size, kk.size))
    ps = flat @ sparse.csr_matrix((ones, (cells, ks)), shape=(cells.size, ss.size))
    pd = np.asarray(pd)
    ps = np.asarray(ps)
    diff_avg = pd @ kk
    sum_avg = ps @ ss
    var_i = pi @ lv**2 - mu_i**2
    var_j = pj @ lv**2 - mu_j**2
    hxy = _entropy(p, (1, 2))
    hx = _entropy(pi, 1)
    hy = _entropy(pj, 1)
    pipj = pi[:, :, None] * pj[:, None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        logpipj = np.where(pipj > 0, np.log2(np.where(pipj > 0, pipj, 1.0)), 0.0)
        hxy1 = -(p * logpipj).sum(axis=(1, 2))
        hxy2 = -(pipj * logpipj).sum(axis=(1, 2))
        corr = ((p * (i * j)).sum(axis=(1, 2)) - mu_i * mu_j) / np.sqrt(var_i * var_j)
        corr = np.where(var_i * var_j > 0, corr, 1.0)
        hmax = np.maximum(hx, hy)
        ic1 = np.where(hmax > 0, (hxy - hxy1) / np.where(hmax > 0, hmax, 1.0), 0.0)
    ic2 = np.sqrt(np.clip(1.0 - np.exp(-2.0 * (hxy2 - hxy)), 0.0, None))
    dev = i + j - mu_i[:, None, None] - mu_j[:, None, None]
    mu = mu_i  # symmetric matrices: mu_i == mu_j
    dif = np.abs(i - j)
    inv_var_w = np.zeros_like(kk)
    inv_var_w[kk > 0] = 1.0 / kk[kk > 0] ** 2
    return {
        "joint_max": p.max(axis=(1, 2)),
        "joint_avg": mu_i,
        "joint_var": (p * (i - mu[:, None, None]) ** 2).sum(axis=(1, 2)),
        "joint_entr": hxy,
        "diff_avg": diff_avg,
        "diff_var": pd @ kk**2 - diff_avg**2,
        "diff_entr": _entropy(pd, 1),
        "sum_avg": sum_avg,
        "sum_var": ps @ ss**2 - sum_avg**2,
        "sum_entr": _entropy(ps, 1),
        "energy": (p**2).sum(axis=(1, 2)),
        "contrast": pd @ kk**2,
        "dissimilarity": diff_avg,
        "inv_diff": (p / (1.0 + dif)).sum(axis=(1, 2)),
        "inv_diff_norm": (p / (1.0 + dif / n_g)).sum(axis=(1, 2)),
        "inv_diff_mom": (p / (1.0 + dif**2)).sum(axis=(1, 2)),
        "inv_diff_mom_norm": (p / (1.0 + dif**2 / n_g**2)).sum(axis=(1, 2)),
        "inv_var": pd @ inv_var_w,
        "corr": corr,
        "auto_corr": (p * (i * j)).sum(axis=(1, 2)),
        "clust_tend": (p * dev**2).sum(axis=(1, 2)),
        "clust_shade": (p * dev**3).sum(axis=(1, 2)),
        "clust_prom": (p * dev**4).sum(axis=(1, 2)),
        "info_corr1": ic1,
        "info_corr2": ic2,
    }


# ---------------------------------------------------------------------------
# GLRLM
# ---------------------------------------------------------------------------
def _sheared_lines(g: np.ndarray, d) -> tuple[np.ndarray, int]:
    """``g`` rearranged so that the lines along ``d`` are rows, zero-separated.

    The run axis ``a`` is an axis with ``d[a] != 0`` (the shortest); every other
    axis ``c`` with ``d[c] != 0`` is sheared by the slab index along ``a``, so
    that a line of voxels ``v + k d`` becomes one row. Built slab by slab.
    Returns the array (run axis last, one zero appended to every row) and the
    axis that was moved (for the slice index of in-plane directions).
    """
    cand = [ax for ax in range(3) if d[ax] != 0]
    a = min(cand, key=lambda ax: g.shape[ax])
    n_a = g.shape[a]
    shape = [g.shape[c] + (n_a - 1 if (c != a and d[c] != 0) else 0) for c in range(3)]
    shape[a] = n_a + 1
    out = np.zeros(shape, dtype=g.dtype)
    for i in range(n_a):
        dst = [slice(None)] * 3
        src = [slice(None)] * 3
        dst[a] = i
        src[a] = i
        for c in range(3):
            if c == a or d[c] == 0:
                continue
            off = (n_a - 1 - i) if d[c] * d[a] > 0 else i
            dst[c] = slice(off, off + g.shape[c])
        out[tuple(dst)] = g[tuple(src)]
    return np.moveaxis(out, a, -1), a


def _glrlm_counts(gp, n_g, dirs, n_z):
    g = gp[1:-1, 1:-1, 1:-1]
    max_len = max(g.shape)
    out = np.zeros((len(dirs), n_z, n_g, max_len))
    for k, d in enumerate(dirs):
        rows, a = _sheared_lines(g, d)
        v = rows.ravel()  # a copy: rows is not contiguous
        change = np.flatnonzero(v[1:] != v[:-1]) + 1
        bounds = np.concatenate(([0], change, [v.size]))
        starts = bounds[:-1]
        length = np.diff(bounds)
        level = v[starts]
        keep = level > 0
        starts, length, level = starts[keep], length[keep], level[keep]
        if n_z > 1:
            # in-plane directions: z is the first axis of ``rows`` (a != 0)
            z = starts // (v.size // rows.shape[0])
        else:
            z = 0
        flat = (z * n_g + level.astype(np.int64) - 1) * max_len + length - 1
        out[k] = np.bincount(flat, minlength=n_z * n_g * max_len).reshape(
            n_z, n_g, max_len
        )
    return out


def _run_features(
    counts: np.ndarray, short: str, n_voxels=None, lengths=None, lv=None
) -> dict:
    """Features of run-length-like matrices (levels x lengths): GLRLM, GLSZM,
    GLDZM, NGLDM. ``short`` picks the IBSI names; ``lengths`` are the column values
    and ``lv`` the row grey levels (default 1, 2, ...)."""
    n_s = counts.sum(axis=(-1, -2))
    keep = n_s > 0
    r = counts[keep]
    n_s = n_s[keep]
    n_g, n_l = r.shape[-2:]
    if lv is None:
        lv = np.arange(1, n_g + 1)
    i = np.asarray(lv, dtype=np.float64)[:, None]
    if lengths is None:
        lengths = np.arange(1, n_l + 1)
    j = np.asarray(lengths, dtype=np.float64)[None, :]

    def s(w):
        return (r * w).sum(axis=(1, 2)) / n_s

    p = r / n_s[:, None, None]
    pi = p.sum(axis=2)
    pj = p.sum(axis=1)
    mu_i = pi @ i[:, 0]
    mu_j = pj @ j[0]
    if n_voxels is None:
        n_v = (r * j).sum(axis=(1, 2))
    else:
        n_v = np.asarray(n_voxels, dtype=np.float64)[keep]
    glnu = (r.sum(axis=2) ** 2).sum(axis=1) / n_s
    lnu = (r.sum(axis=1) ** 2).sum(axis=1) / n_s
    names = {
        "r": (
            "sre",
            "lre",
            "lgre",
            "hgre",
            "srlge",
            "srhge",
            "lrlge",
            "lrhge",
            "glnu",
            "glnu_norm",
            "rlnu",
            "rlnu_norm",
            "r_perc",
            "gl_var",
            "rl_var",
            "rl_entr",
        ),
        "sz": (
            "sze",
            "lze",
            "lgze",
            "hgze",
            "szlge",
            "szhge",
            "lzlge",
            "lzhge",
            "glnu",
            "glnu_norm",
            "zsnu",
            "zsnu_norm",
            "z_perc",
            "gl_var",
            "zs_var",
            "zs_entr",
        ),
        "ngl": (
            "lde",
            "hde",
            "lgce",
            "hgce",
            "ldlge",
            "ldhge",
            "hdlge",
            "hdhge",
            "glnu",
            "glnu_norm",
            "dcnu",
            "dcnu_norm",
            "dc_perc",
            "gl_var",
            "dc_var",
            "dc_entr",
        ),
        "dz": (
            "sde",
            "lde",
            "lgze",
            "hgze",
            "sdlge",
            "sdhge",
            "ldlge",
            "ldhge",
            "glnu",
            "glnu_norm",
            "zdnu",
            "zdnu_norm",
            "z_perc",
            "gl_var",
            "zd_var",
            "zd_entr",
        ),
    }[short]
    values = (
        s(1.0 / j**2), s(j**2), s(1.0 / i**2), s(i**2),
        s(1.0 / (i**2 * j**2)), s(i**2 / j**2), s(j**2 / i**2), s(i**2 * j**2),
        glnu, glnu / n_s, lnu, lnu / n_s, n_s / n_v,
        pi @ i[:, 0] ** 2 - mu_i**2, pj @ j[0] ** 2 - mu_j**2, _entropy(p, (1, 2)),
    )  # fmt: skip
    return dict(zip(names, values, strict=True))


# ---------------------------------------------------------------------------
# GLSZM / GLDZM
# ---------------------------------------------------------------------------
def _zones(g, n_g, two_d: bool, dist=None):
    """Per zone: grey level, size, slice, and minimum distance (if ``dist``).

    Zones are the connected components of equal grey level (26-connected in 3D,
    8-connected within a slice for 2D): a graph whose nodes are the ROI voxels
    and whose edges join equal neighbours, split by
    ``scipy.sparse.csgraph.connected_components``. Neighbour pairs are found in
    the padded array's flat indices (a direction is a constant offset; the
    padding keeps lines apart).
    """
    gp = np.pad(g, 1)
    flat = gp.ravel()
    inside = flat > 0
    roi = np.flatnonzero(inside)
    n = roi.size
    node = np.full(flat.size, -1, dtype=np.int32 if n < 2**31 - 1 else np.int64)
    node[roi] = np.arange(n)
    strides = [gp.shape[1] * gp.shape[2], gp.shape[2], 1]
    src, dst = [], []
    for d in DIRS_2D if two_d else DIRS_3D:
        off = sum(o * st for o, st in zip(d, strides, strict=True))  # > 0
        pairs = np.flatnonzero(inside[:-off] & (flat[:-off] == flat[off:]))
        src.append(node[pairs])
        dst.append(node[pairs + off])
    src = np.concatenate(src)
    dst = np.concatenate(dst)
    graph = sparse.csr_matrix(
        (np.ones(src.size, dtype=np.int8), (src, dst)), shape=(n, n)
    )
    total, zone = csgraph.connected_components(graph, directed=False)
    levels = np.zeros(total, dtype=np.int64)
    levels[zone] = flat[roi]
    sizes = np.bincount(zone, minlength=total)
    slices = np.zeros(total, dtype=np.int64)
    if two_d:
        slices[zone] = roi // strides[0] - 1  # padded z -> z
    dists = None
    if dist is not None:
        dists = np.full(total, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(dists, zone, np.pad(dist, 1).ravel()[roi].astype(np.int64))
    return levels, sizes, slices, dists


def _zone_matrix(levels, lengths, slices, n_g, n_z):
    """Zone counts by (slice, level, length), over the lengths that occur only.

    Returns the matrix and the lengths of its columns (zone sizes reach the
    ROI's size: a dense column per size would be mostly empty).
    """
    present, column = np.unique(lengths, return_inverse=True)
    n_l = present.size
    flat = (slices * n_g + levels - 1) * n_l + column
    matrix = np.bincount(flat, minlength=n_z * n_g * n_l).reshape(n_z, n_g, n_l)
    return matrix, present


def _distance_map(mask: np.ndarray, two_d: bool) -> np.ndarray:
    """Taxicab distance to the ROI edge (1 at the border), in-plane for 2D."""
    padded = np.pad(mask, 1)
    if two_d:
        metric = np.zeros((3, 3, 3), dtype=bool)
        metric[1] = ndimage.generate_binary_structure(2, 1)
    else:
        metric = ndimage.generate_binary_structure(3, 1)
    d = ndimage.distance_transform_cdt(padded, metric=metric)
    return d[1:-1, 1:-1, 1:-1]


# ---------------------------------------------------------------------------
# NGTDM / NGLDM
# ---------------------------------------------------------------------------
def _neighbour_offsets(two_d: bool):
    rng = (0,) if two_d else (-1, 0, 1)
    return [
        (dz, dy, dx)
        for dz in rng
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
        if (dz, dy, dx) != (0, 0, 0)
    ]


def _box_sum(a: np.ndarray, two_d: bool) -> np.ndarray:
    """Sum over the 3x3x3 (2D: 3x3 in-plane) box around each voxel of the core
    of the padded array ``a``: three (two) separable passes of exact sums."""
    out = a
    for axis in (2, 1) if two_d else (2, 1, 0):
        n = out.shape[axis]
        lo = [slice(None)] * 3
        mid = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[axis], mid[axis], hi[axis] = slice(0, n - 2), slice(1, n - 1), slice(2, n)
        out = out[tuple(lo)] + out[tuple(mid)] + out[tuple(hi)]
    if two_d:
        out = out[1:-1]
    return out


def _ngtdm(gp, n_g, two_d, n_z):
    """NGTDM s_i and n_i by slice: neighbourhood sums as box sums less the
    centre; voxels without a neighbour in the ROI are left out."""
    core = gp[1:-1, 1:-1, 1:-1]
    inside = gp > 0
    total = _box_sum(gp.astype(np.int32), two_d) - core
    count = _box_sum(inside.astype(np.int16), two_d) - inside[1:-1, 1:-1, 1:-1]
    ok = (core > 0) & (count > 0)
    lev = core[ok]
    z = np.nonzero(ok)[0]
    avg = total[ok] / count[ok]
    flat = z * n_g + lev - 1
    s = np.bincount(flat, weights=np.abs(lev - avg), minlength=n_z * n_g)
    n = np.bincount(flat, minlength=n_z * n_g).astype(np.float64)
    return s.reshape(n_z, n_g), n.reshape(n_z, n_g)


def _ngtdm_features(s: np.ndarray, n: np.ndarray, lv: np.ndarray) -> dict:
    n_vc = n.sum(axis=1)
    keep = n_vc > 0
    s, n, n_vc = s[keep], n[keep], n_vc[keep]
    p = n / n_vc[:, None]
    lv = np.asarray(lv, dtype=np.float64)
    present = p > 0
    n_gp = present.sum(axis=1)
    ps = (p * s).sum(axis=1)
    pair = present[:, :, None] & present[:, None, :]
    d2 = (lv[:, None] - lv[None, :]) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        coarse = np.where(ps > 0, 1.0 / np.where(ps > 0, ps, 1.0), 1e6)
        contrast = np.where(
            n_gp > 1,
            (p[:, :, None] * p[:, None, :] * d2).sum(axis=(1, 2))
            / (n_gp * (n_gp - 1)).clip(1)
            * s.sum(axis=1)
            / n_vc,
            0.0,
        )
        ip = lv * p
        busy_den = (np.abs(ip[:, :, None] - ip[:, None, :]) * pair).sum(axis=(1, 2))
        busy = np.where(busy_den > 0, ps / np.where(busy_den > 0, busy_den, 1.0), 0.0)
        psi = p * s
        num = np.abs(lv[:, None] - lv[None, :]) * (psi[:, :, None] + psi[:, None, :])
        den = p[:, :, None] + p[:, None, :]
        compl = (np.where(pair, num / np.where(pair, den, 1.0), 0.0)).sum(
            axis=(1, 2)
        ) / n_vc
        ssum = s.sum(axis=1)
        strength = np.where(
            ssum > 0,
            (np.where(pair, den * d2, 0.0)).sum(axis=(1, 2))
            / np.where(ssum > 0, ssum, 1.0),
            0.0,
        )
    return {
        "coarseness": coarse,
        "contrast": contrast,
        "busyness": busy,
        "complexity": compl,
        "strength": strength,
    }


def _ngldm(gp, gc, n_k, two_d, n_z, alpha):
    """NGLDM counts by (slice, compact level, dependence count).

    ``gp``: padded grey levels (their values decide the dependence, within
    ``alpha``); ``gc``: the compact level index 1..n_k of each voxel.
    """
    core = gp[1:-1, 1:-1, 1:-1]
    dep = np.ones(core.shape, dtype=np.int8)
    offsets = _neighbour_offsets(two_d)
    for d in offsets:
        nb = _shift(gp, d)
        if alpha == 0:
            dep += nb == core  # core > 0 is selected below
        else:
            dep += (nb > 0) & (np.abs(nb - core) <= alpha)
    ok = core > 0
    z = np.nonzero(ok)[0]
    n_d = len(offsets) + 1
    flat = (z * n_k + gc[ok] - 1) * n_d + dep[ok].astype(np.int64) - 1
    return np.bincount(flat, minlength=n_z * n_k * n_d).reshape(n_z, n_k, n_d)


def _ngldm_features(counts: np.ndarray, lv: np.ndarray) -> dict:
    """NGLDM features: the formulas of :func:`_run_features` (dependence counts
    for run lengths; every voxel is the centre of one neighbourhood, so
    ``N_v = N_s`` and ``dc_perc`` is 1), then the dependence count energy."""
    n_s = counts.sum(axis=(1, 2))
    out = _run_features(counts, "ngl", n_voxels=n_s, lv=lv)
    keep = n_s > 0
    p = counts[keep] / n_s[keep][:, None, None]
    out["dc_energy"] = (p**2).sum(axis=(1, 2))
    return out


# ---------------------------------------------------------------------------
def _mean(feats: dict) -> dict:
    return {
        k: float(np.mean(v)) if np.size(v) else float("nan") for k, v in feats.items()
    }


def _tagged(prefix: str, suffix: str, feats: dict) -> dict:
    return {f"{prefix}_{k}_{suffix}": v for k, v in _mean(feats).items()}


def texture_features(
    levels: np.ndarray,
    int_mask: np.ndarray,
    morph_mask: np.ndarray | None = None,
    families=("cm", "rlm", "szm", "dzm", "ngt", "ngl"),
    aggregation=("3D",),
    *,
    ngldm_alpha: int = 0,
) -> dict[str, float]:
    """IBSI texture features of a discretised ROI.

    Parameters
    ----------
    levels : ndarray of int, shape (z, y, x)
        Grey levels 1..N_g inside ``int_mask`` (other voxels are ignored).
    int_mask : ndarray of bool
        The intensity mask.
    morph_mask : ndarray of bool, optional
        The morphological mask; the GLDZM distance to the ROI edge is measured
        in it (default: ``int_mask``).
    families : sequence of str
        Among "cm", "rlm", "szm", "dzm", "ngt", "ngl".
    aggregation : sequence of str
        Among "2D", "2.5D", "3D".
    ngldm_alpha : int, default=0

    Returns
    -------
    dict of str to float
        Tags as in the IBSI-1 reference tables.
    """
    nz = [
        np.nonzero(int_mask.any(axis=tuple(a for a in range(3) if a != ax)))[0]
        for ax in range(3)
    ]
    sl = tuple(slice(z[0], z[-1] + 1) for z in nz)
    g = np.where(int_mask[sl], levels[sl], 0).astype(np.int64)
    n_g = int(g.max())  # IBSI's N_g
    # Matrices are indexed by the grey levels present only (their values, lv,
    # enter the features): memory stays bounded with many, sparse levels.
    lv = np.flatnonzero(np.bincount(g.ravel(), minlength=n_g + 1)[1:]) + 1
    n_k = lv.size
    if n_k > MAX_LEVELS:
        raise ValueError(
            f"{n_k} grey levels are present in the ROI after discretisation; the "
            f"texture matrices hold at most {MAX_LEVELS}: use fixed bin number "
            "discretisation (fbn, n_bins) or a larger bin_width."
        )
    lut = np.zeros(n_g + 1, dtype=np.int16)  # n_k <= MAX_LEVELS
    lut[lv] = np.arange(1, n_k + 1, dtype=np.int16)
    gc = lut[g]  # compact levels 1..n_k, 0 outside (int16: less memory traffic)
    gcp = np.pad(gc, 1)
    gp = np.pad(g.astype(np.int32), 1)
    n_z = g.shape[0]
    out: dict[str, float] = {}
    zone_cache: dict = {}
    want2d = "2D" in aggregation or "2.5D" in aggregation
    want3d = "3D" in aggregation

    def cm_features(c):
        # in chunks of matrices: at most ~4M cells at a time
        step = max(1, (1 << 22) // (n_k * n_k))
        parts = [
            _glcm_features(c[k : k + step], lv, n_g) for k in range(0, len(c), step)
        ]
        return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}

    def rlm_features(c):
        return _run_features(c, "r", lv=lv)

    for fam in families:
        if fam == "cm" or fam == "rlm":
            build = _glcm_counts if fam == "cm" else _glrlm_counts
            feats = cm_features if fam == "cm" else rlm_features
            if want2d:
                c = build(gcp, n_k, DIRS_2D, n_z)  # (dir, slice, ...)
                flat = c.reshape(-1, *c.shape[2:])
                if "2D" in aggregation:
                    out.update(_tagged(fam, "2D_avg", feats(flat)))
                    out.update(_tagged(fam, "2D_comb", feats(c.sum(axis=0))))
                if "2.5D" in aggregation:
                    out.update(_tagged(fam, "2_5D_avg", feats(c.sum(axis=1))))
                    out.update(
                        _tagged(fam, "2_5D_comb", feats(c.sum(axis=(0, 1))[None]))
                    )
            if want3d:
                c = build(gcp, n_k, DIRS_3D, 1)[:, 0]
                out.update(_tagged(fam, "3D_avg", feats(c)))
                out.update(_tagged(fam, "3D_comb", feats(c.sum(axis=0)[None])))
        elif fam in ("szm", "dzm"):
            for two_d, wanted in ((True, want2d), (False, want3d)):
                if not wanted:
                    continue
                if two_d not in zone_cache:
                    dist = None
                    if "dzm" in families:
                        ref = int_mask if morph_mask is None else morph_mask
                        dist = _distance_map(ref[sl], two_d)
                    zone_cache[two_d] = _zones(gc, n_k, two_d, dist)
                lev, size, zs, dmin = zone_cache[two_d]
                length = size if fam == "szm" else dmin
                nz_ = n_z if two_d else 1
                m, cols = _zone_matrix(lev, length, zs, n_k, nz_)
                kind = "sz" if fam == "szm" else "dz"
                nvox = np.bincount(zs, weights=size, minlength=nz_)
                if two_d:
                    if "2D" in aggregation:
                        found = _run_features(m, kind, nvox, cols, lv)
                        out.update(_tagged(fam, "2D", found))
                    if "2.5D" in aggregation:
                        merged = _run_features(
                            m.sum(axis=0)[None], kind, nvox.sum(keepdims=True), cols, lv
                        )
                        out.update(_tagged(fam, "2_5D", merged))
                else:
                    found = _run_features(m, kind, nvox, cols, lv)
                    out.update(_tagged(fam, "3D", found))
        elif fam == "ngt":
            for two_d, wanted in ((True, want2d), (False, want3d)):
                if not wanted:
                    continue
                s_full, n_full = _ngtdm(gp, n_g, two_d, n_z)
                s_, n_ = s_full[:, lv - 1], n_full[:, lv - 1]
                if two_d:
                    if "2D" in aggregation:
                        out.update(_tagged("ngt", "2D", _ngtdm_features(s_, n_, lv)))
                    if "2.5D" in aggregation:
                        merged = _ngtdm_features(
                            s_.sum(axis=0)[None], n_.sum(axis=0)[None], lv
                        )
                        out.update(_tagged("ngt", "2_5D", merged))
                else:
                    merged = _ngtdm_features(
                        s_.sum(axis=0)[None], n_.sum(axis=0)[None], lv
                    )
                    out.update(_tagged("ngt", "3D", merged))
        elif fam == "ngl":
            for two_d, wanted in ((True, want2d), (False, want3d)):
                if not wanted:
                    continue
                c = _ngldm(gp, gc, n_k, two_d, n_z, ngldm_alpha)
                if two_d:
                    if "2D" in aggregation:
                        out.update(_tagged("ngl", "2D", _ngldm_features(c, lv)))
                    if "2.5D" in aggregation:
                        merged = _ngldm_features(c.sum(axis=0)[None], lv)
                        out.update(_tagged("ngl", "2_5D", merged))
                else:
                    merged = _ngldm_features(c.sum(axis=0)[None], lv)
                    out.update(_tagged("ngl", "3D", merged))
        else:
            raise ValueError(f"Unknown texture family {fam!r}.")
    return out
