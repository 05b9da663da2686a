"""Compiled (numba) loops of voxel-based texture maps.

Each function takes one discretised image (``int32``, gray levels ``1..Ng`` inside
the region, 0 elsewhere), the region mask (``uint8``), the target voxels
(``int64``, shape ``(n, 3)``, z/y/x) and the kernel radius, and walks the kernel of
every target voxel the way pyradiomics' C extension (``_cmatrices``) does in its
voxel-based mode: the kernel is the box ``[v - r, v + r]`` clipped to the image
(not extended along ``force2Ddimension``), and only voxels of the mask count.

Each kernel computes the features themselves, per voxel (and angle), from the
few non-zero cells of that kernel's matrix (at most a few dozen instead of
``Ng x Ng``), with pyradiomics' formulas; :func:`glcm_counts` fills pyradiomics'
dense GLCMs for the few voxels whose values pyradiomics' own code recomputes.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

EPS = float(np.spacing(1))

#: Per-angle GLCM quantities computed by :func:`glcm_features`, in this order.
GLCM_RAW = (
    "Autocorrelation",
    "JointAverage",
    "ClusterProminence",
    "ClusterShade",
    "ClusterTendency",
    "Contrast",
    "Correlation",
    "DifferenceAverage",
    "DifferenceEntropy",
    "DifferenceVariance",
    "JointEnergy",
    "JointEntropy",
    "Imc1",
    "Imc2",
    "Idm",
    "MCC",
    "Idmn",
    "Id",
    "Idn",
    "InverseVariance",
    "MaximumProbability",
    "SumAverage",
    "SumEntropy",
    "SumSquares",
    "_sum",
    "_lambda2",
    "_one_level",
)
_N_RAW = len(GLCM_RAW)


@njit(cache=True, inline="always")
def _bounds(c, r, shape, f2d, lo, hi):
    for d in range(3):
        if d == f2d:
            lo[d] = c[d]
            hi[d] = c[d]
        else:
            lo[d] = max(c[d] - r, 0)
            hi[d] = min(c[d] + r, shape[d] - 1)


@njit(cache=True, error_model="numpy", nogil=True)
def glcm_features(img, msk, coords, r, f2d, angles, weights, symmetric, ng):
    """Per voxel and angle: the GLCM features (``GLCM_RAW``), NaN for empty angles.

    ``weights``: one weight per angle to sum the angles into one matrix
    (pyradiomics' ``weightingNorm``), or an empty array to keep angles apart.
    Returns an array (n_voxels, len(GLCM_RAW), n_out_angles).
    """
    nv = coords.shape[0]
    na = angles.shape[0]
    weighted = weights.shape[0] > 0
    nout = 1 if weighted else na
    out = np.full((nv, _N_RAW, nout), np.nan)
    shape = img.shape
    lo = np.empty(3, np.int64)
    hi = np.empty(3, np.int64)
    local = np.full(ng + 1, -1, np.int64)
    kmax = (2 * r + 1) ** 3
    levels = np.empty(kmax, np.int64)
    cnt = np.zeros((kmax, kmax))
    cells_i = np.empty(kmax * kmax, np.int64)
    cells_j = np.empty(kmax * kmax, np.int64)
    px = np.zeros(kmax)
    py = np.zeros(kmax)
    psum = np.zeros(2 * ng + 2)
    pdiff = np.zeros(ng + 1)
    bmat = np.zeros((kmax, kmax))
    rows = np.empty(kmax, np.int64)
    cols = np.empty(kmax, np.int64)
    # The kernel as a (2r+1)^3 grid of local gray-level indices (-1: outside
    # the clipped box or the mask); the pairs of each angle inside the box.
    width = 2 * r + 1
    grid = np.full(kmax, -1, np.int64)
    pair_p = np.empty((na, kmax), np.int64)
    pair_q = np.empty((na, kmax), np.int64)
    npairs = np.zeros(na, np.int64)
    for a in range(na):
        for dz in range(width):
            for dy in range(width):
                for dx in range(width):
                    qz = dz + angles[a, 0]
                    qy = dy + angles[a, 1]
                    qx = dx + angles[a, 2]
                    if 0 <= qz < width and 0 <= qy < width and 0 <= qx < width:
                        pair_p[a, npairs[a]] = (dz * width + dy) * width + dx
                        pair_q[a, npairs[a]] = (qz * width + qy) * width + qx
                        npairs[a] += 1
    for v in range(nv):
        _bounds(coords[v], r, shape, f2d, lo, hi)
        z0 = coords[v, 0] - r
        y0 = coords[v, 1] - r
        x0 = coords[v, 2] - r
        nl = 0
        for z in range(lo[0], hi[0] + 1):
            for y in range(lo[1], hi[1] + 1):
                for x in range(lo[2], hi[2] + 1):
                    if msk[z, y, x]:
                        g = img[z, y, x]
                        if local[g] < 0:
                            local[g] = nl
                            levels[nl] = g
                            nl += 1
                        grid[((z - z0) * width + (y - y0)) * width + (x - x0)] = local[
                            g
                        ]
        ncells = 0
        for a in range(na):
            if not weighted or a == 0:
                ncells = 0
            w = weights[a] if weighted else 1.0
            for k in range(npairs[a]):
                li = grid[pair_p[a, k]]
                if li < 0:
                    continue
                lj = grid[pair_q[a, k]]
                if lj < 0:
                    continue
                if cnt[li, lj] == 0:
                    cells_i[ncells] = li
                    cells_j[ncells] = lj
                    ncells += 1
                cnt[li, lj] += w
                if symmetric:
                    if cnt[lj, li] == 0:
                        cells_i[ncells] = lj
                        cells_j[ncells] = li
                        ncells += 1
                    cnt[lj, li] += w
            if weighted and a < na - 1:
                continue
            ao = 0 if weighted else a
            _glcm_cell_features(
                cnt,
                cells_i,
                cells_j,
                ncells,
                levels,
                nl,
                ng,
                px,
                py,
                psum,
                pdiff,
                bmat,
                rows,
                cols,
                out[v, :, ao],
            )
            for c in range(ncells):
                cnt[cells_i[c], cells_j[c]] = 0.0
        for k in range(nl):
            local[levels[k]] = -1
        grid[:] = -1
    return out


@njit(cache=True, error_model="numpy", nogil=True)
def _glcm_cell_features(
    cnt, ci, cj, nc, levels, nl, ng, px, py, psum, pdiff, bmat, rows, cols, res
):
    total = 0.0
    for c in range(nc):
        total += cnt[ci[c], cj[c]]
    res[24] = total
    if total == 0:
        return  # NaN: pyradiomics divides by a NaN sum
    for k in range(nl):
        px[k] = 0.0
        py[k] = 0.0
    for k in range(2 * ng + 2):
        psum[k] = 0.0
    for k in range(ng + 1):
        pdiff[k] = 0.0
    ac = ux = uy = ene = hxy = maxp = cont = 0.0
    for c in range(nc):
        p = cnt[ci[c], cj[c]] / total
        i = float(levels[ci[c]])
        j = float(levels[cj[c]])
        px[ci[c]] += p
        py[cj[c]] += p
        ac += p * i * j
        ux += p * i
        uy += p * j
        ene += p * p
        hxy -= p * math.log2(p + EPS)
        if p > maxp:
            maxp = p
        cont += p * (i - j) ** 2
        psum[levels[ci[c]] + levels[cj[c]]] += p
        pdiff[abs(levels[ci[c]] - levels[cj[c]])] += p
    cp = cs = ct = sx = sy = corm = hxy1 = 0.0
    for c in range(nc):
        p = cnt[ci[c], cj[c]] / total
        i = float(levels[ci[c]])
        j = float(levels[cj[c]])
        s = i + j - ux - uy
        cp += p * s**4
        cs += p * s**3
        ct += p * s**2
        sx += p * (i - ux) ** 2
        sy += p * (j - uy) ** 2
        corm += p * (i - ux) * (j - uy)
        hxy1 -= p * math.log2(px[ci[c]] * py[cj[c]] + EPS)
    # HXY2 = -sum_ab px(a) py(b) log2(px(a) py(b) + eps), separated into
    # -(sum px log2 px) sum py - (sum py log2 py) sum px: the eps changes each
    # log by < 1e-12 relative (px py >= 1 / n_pairs^2).
    hx = hy = 0.0
    hx0 = hy0 = sx0 = sy0 = 0.0
    for k in range(nl):
        if px[k] > 0:
            hx -= px[k] * math.log2(px[k] + EPS)
            hx0 -= px[k] * math.log2(px[k])
            sx0 += px[k]
        if py[k] > 0:
            hy -= py[k] * math.log2(py[k] + EPS)
            hy0 -= py[k] * math.log2(py[k])
            sy0 += py[k]
    hxy2 = hx0 * sy0 + hy0 * sx0
    sigx = sx**0.5
    sigy = sy**0.5
    if sigx * sigy == 0:
        corr = 1.0
    else:
        corr = corm / (sigx * sigy + EPS)
    diffavg = difent = idm = idmn = idd = idn = inv = 0.0
    for k in range(ng):
        pk = pdiff[k]
        if pk == 0:
            continue
        fk = float(k)
        diffavg += fk * pk
        difent -= pk * math.log2(pk + EPS)
        idm += pk / (1 + fk**2)
        idmn += pk / (1 + fk**2 / ng**2)
        idd += pk / (1 + fk)
        idn += pk / (1 + fk / ng)
        if k > 0:
            inv += pk / fk**2
    diffvar = 0.0
    for k in range(ng):
        if pdiff[k] != 0:
            diffvar += pdiff[k] * (k - diffavg) ** 2
    sumavg = sument = 0.0
    for k in range(2, 2 * ng + 1):
        pk = psum[k]
        if pk == 0:
            continue
        sumavg += k * pk
        sument -= pk * math.log2(pk + EPS)
    div = max(hx, hy)
    imc1 = (hxy - hxy1) / div if div != 0 else 0.0
    if hxy2 == hxy or nc == 1:
        imc2 = 0.0  # one cell: HXY2 == HXY exactly in pyradiomics too
    else:
        imc2 = np.sqrt(1 - math.e ** (-2 * (hxy2 - hxy)))
    # MCC: Q = Dx^-1 P Dy^-1 P^T is similar to B B^T, B = Dx^-1/2 P Dy^-1/2;
    # its eigenvalues are the squared singular values of B.
    nr = 0
    ncl = 0
    for k in range(nl):
        if px[k] > 0:
            rows[nr] = k
            nr += 1
        if py[k] > 0:
            cols[ncl] = k
            ncl += 1
    # One gray level on one side only: pyradiomics' sigma is rounding noise.
    res[26] = 1.0 if (nr == 1) != (ncl == 1) else 0.0
    if nr < 2 or ncl < 2:
        lam2 = 1.0  # Q has one non-zero eigenvalue: MCC 0, as in pyradiomics
        res[15] = 0.0
    else:
        b = np.empty((nr, ncl))
        for a in range(nr):
            for c in range(ncl):
                b[a, c] = (
                    cnt[rows[a], cols[c]] / total / math.sqrt(px[rows[a]] * py[cols[c]])
                )
        if nr <= ncl:
            m = b @ b.T
        else:
            m = b.T @ b
        ev = np.linalg.eigvalsh(m)
        lam2 = ev[ev.shape[0] - 2]
    res[0] = ac
    res[1] = ux
    res[2] = cp
    res[3] = cs
    res[4] = ct
    res[5] = cont
    res[6] = corr
    res[7] = diffavg
    res[8] = difent
    res[9] = diffvar
    res[10] = ene
    res[11] = hxy
    res[12] = imc1
    res[13] = imc2
    res[14] = idm
    if nr >= 2 and ncl >= 2:
        res[15] = math.sqrt(lam2) if lam2 > 0 else 0.0
    res[16] = idmn
    res[17] = idd
    res[18] = idn
    res[19] = inv
    res[20] = maxp
    res[21] = sumavg
    res[22] = sument
    res[23] = sx
    res[25] = lam2


@njit(cache=True, nogil=True)
def glcm_counts(img, msk, coords, r, f2d, angles, level_index, nlev):
    """Dense GLCM counts (n_voxels, nlev, nlev, n_angles), asymmetric, C order.

    ``level_index[g]`` is the row of gray level ``g`` (levels absent from the
    region deleted, as pyradiomics deletes them).
    """
    nv = coords.shape[0]
    na = angles.shape[0]
    out = np.zeros((nv, nlev, nlev, na))
    shape = img.shape
    lo = np.empty(3, np.int64)
    hi = np.empty(3, np.int64)
    for v in range(nv):
        _bounds(coords[v], r, shape, f2d, lo, hi)
        for a in range(na):
            az, ay, ax = angles[a, 0], angles[a, 1], angles[a, 2]
            for z in range(lo[0], hi[0] + 1):
                nz = z + az
                if nz < lo[0] or nz > hi[0]:
                    continue
                for y in range(lo[1], hi[1] + 1):
                    ny = y + ay
                    if ny < lo[1] or ny > hi[1]:
                        continue
                    for x in range(lo[2], hi[2] + 1):
                        nx = x + ax
                        if nx < lo[2] or nx > hi[2]:
                            continue
                        if msk[z, y, x] and msk[nz, ny, nx]:
                            i = level_index[img[z, y, x]]
                            j = level_index[img[nz, ny, nx]]
                            out[v, i, j, a] += 1.0
    return out


#: Per-angle GLRLM features computed by :func:`glrlm_features`, in this order.
GLRLM_RAW = (
    "ShortRunEmphasis",
    "LongRunEmphasis",
    "GrayLevelNonUniformity",
    "GrayLevelNonUniformityNormalized",
    "RunLengthNonUniformity",
    "RunLengthNonUniformityNormalized",
    "RunPercentage",
    "GrayLevelVariance",
    "RunVariance",
    "RunEntropy",
    "LowGrayLevelRunEmphasis",
    "HighGrayLevelRunEmphasis",
    "ShortRunLowGrayLevelEmphasis",
    "ShortRunHighGrayLevelEmphasis",
    "LongRunLowGrayLevelEmphasis",
    "LongRunHighGrayLevelEmphasis",
)


@njit(cache=True, error_model="numpy", nogil=True)
def glrlm_features(img, msk, coords, r, f2d, angles, weights, ng):
    """Per voxel and angle: pyradiomics' GLRLM features (``GLRLM_RAW``).

    The rules of pyradiomics' C ``calculate_glrlm``: runs are walked along each
    angle from every start voxel of the kernel box, a voxel outside the mask
    ends a run, an angle whose walks never meet two mask voxels is emptied. The
    runs are counted into a small (gray level, run length) table of the levels
    present; an angle without runs is NaN. ``weights``: as in
    :func:`glcm_features`.
    """
    nv = coords.shape[0]
    na = angles.shape[0]
    weighted = weights.shape[0] > 0
    nout = 1 if weighted else na
    nf = 16
    out = np.full((nv, nf, nout), np.nan)
    shape = img.shape
    lo = np.empty(3, np.int64)
    hi = np.empty(3, np.int64)
    start = np.empty(3, np.int64)
    kmax = (2 * r + 1) ** 3
    nr = 2 * r + 1
    local = np.full(ng + 1, -1, np.int64)
    levels = np.empty(kmax, np.int64)
    cnt = np.zeros((kmax, nr))
    runs = np.zeros((kmax, nr))  # this angle's runs, before the weight
    for v in range(nv):
        _bounds(coords[v], r, shape, f2d, lo, hi)
        nl = 0
        for z in range(lo[0], hi[0] + 1):
            for y in range(lo[1], hi[1] + 1):
                for x in range(lo[2], hi[2] + 1):
                    if msk[z, y, x]:
                        g = img[z, y, x]
                        if local[g] < 0:
                            local[g] = nl
                            levels[nl] = g
                            nl += 1
        for a in range(na):
            w = weights[a] if weighted else 1.0
            multi = False
            for d in range(3):
                start[d] = lo[d] if angles[a, d] > 0 else hi[d]
            for z in range(lo[0], hi[0] + 1):
                for y in range(lo[1], hi[1] + 1):
                    for x in range(lo[2], hi[2] + 1):
                        ok = (
                            (angles[a, 0] != 0 and z == start[0])
                            or (angles[a, 1] != 0 and y == start[1])
                            or (angles[a, 2] != 0 and x == start[2])
                        )
                        if not ok:
                            continue
                        cz, cy, cx = z, y, x
                        gl = -1
                        rl = 0
                        elements = 0
                        while True:
                            if msk[cz, cy, cx]:
                                elements += 1
                                g = img[cz, cy, cx]
                                if gl == -1:
                                    gl = g
                                elif g == gl:
                                    rl += 1
                                else:
                                    runs[local[gl], rl] += 1.0
                                    gl = g
                                    rl = 0
                            elif gl > -1:
                                runs[local[gl], rl] += 1.0
                                gl = -1
                                rl = 0
                            cz += angles[a, 0]
                            cy += angles[a, 1]
                            cx += angles[a, 2]
                            if (
                                cz < lo[0]
                                or cz > hi[0]
                                or cy < lo[1]
                                or cy > hi[1]
                                or cx < lo[2]
                                or cx > hi[2]
                            ):
                                break
                        if gl > -1:
                            runs[local[gl], rl] += 1.0
                        if elements > 1:
                            multi = True
            if not multi:
                for k in range(nl):
                    runs[k, 0] = 0.0
            for k in range(nl):
                for j in range(nr):
                    if runs[k, j] != 0:
                        cnt[k, j] += runs[k, j] * w
                        runs[k, j] = 0.0
            if weighted and a < na - 1:
                continue
            _glrlm_cell_features(cnt, levels, nl, nr, out[v, :, 0 if weighted else a])
            for k in range(nl):
                for j in range(nr):
                    cnt[k, j] = 0.0
        for k in range(nl):
            local[levels[k]] = -1
    return out


@njit(cache=True, error_model="numpy", nogil=True)
def _glrlm_cell_features(cnt, levels, nl, nr, res):
    total = 0.0
    for k in range(nl):
        for j in range(nr):
            total += cnt[k, j]
    if total == 0:
        return
    sre = lre = rln = np_ = ur = 0.0
    for j in range(nr):
        prj = 0.0
        for k in range(nl):
            prj += cnt[k, j]
        fj = float(j + 1)
        sre += prj / fj**2
        lre += prj * fj**2
        rln += prj**2
        np_ += prj * fj
        ur += prj / total * fj
    rv = 0.0
    for j in range(nr):
        prj = 0.0
        for k in range(nl):
            prj += cnt[k, j]
        rv += prj / total * (j + 1 - ur) ** 2
    gln = ui = lglre = hglre = 0.0
    srl = srh = lrl = lrh = ent = 0.0
    for k in range(nl):
        pgk = 0.0
        fi = float(levels[k])
        for j in range(nr):
            c = cnt[k, j]
            if c == 0:
                continue
            pgk += c
            fj = float(j + 1)
            srl += c / (fi**2 * fj**2)
            srh += c * fi**2 / fj**2
            lrl += c * fj**2 / fi**2
            lrh += c * (fj**2 * fi**2)
            pc = c / total
            ent -= pc * math.log2(pc + EPS)
        gln += pgk**2
        ui += pgk / total * fi
        lglre += pgk / fi**2
        hglre += pgk * fi**2
    glv = 0.0
    for k in range(nl):
        pgk = 0.0
        for j in range(nr):
            pgk += cnt[k, j]
        glv += pgk / total * (levels[k] - ui) ** 2
    res[0] = sre / total
    res[1] = lre / total
    res[2] = gln / total
    res[3] = gln / total**2
    res[4] = rln / total
    res[5] = rln / total**2
    res[6] = total / np_
    res[7] = glv
    res[8] = rv
    res[9] = ent
    res[10] = lglre / total
    res[11] = hglre / total
    res[12] = srl / total
    res[13] = srh / total
    res[14] = lrl / total
    res[15] = lrh / total


@njit(cache=True, error_model="numpy", nogil=True)
def glszm_features(img, msk, coords, r, f2d, angles, ng):
    """Per voxel: pyradiomics' GLSZM features (the order of ``GLRLM_RAW``, sizes
    for run lengths, ZonePercentage for RunPercentage).

    Zones are connected (through ``angles``, both directions) voxels of one gray
    level inside the kernel box and the mask, as pyradiomics' C code grows them.
    """
    nv = coords.shape[0]
    na = angles.shape[0]
    ns = (2 * r + 1) ** 3
    out = np.full((nv, 16), np.nan)
    local = np.full(ng + 1, -1, np.int64)
    levels = np.empty(ns, np.int64)
    cnt = np.zeros((ns, ns))
    shape = img.shape
    lo = np.empty(3, np.int64)
    hi = np.empty(3, np.int64)
    seen = np.zeros(shape, np.uint8)
    stack = np.empty((ns + 1, 3), np.int64)
    done = np.empty((ns + 1, 3), np.int64)
    for v in range(nv):
        _bounds(coords[v], r, shape, f2d, lo, hi)
        ndone = 0
        nl = 0
        for z in range(lo[0], hi[0] + 1):
            for y in range(lo[1], hi[1] + 1):
                for x in range(lo[2], hi[2] + 1):
                    if not msk[z, y, x] or seen[z, y, x]:
                        continue
                    gl = img[z, y, x]
                    seen[z, y, x] = 1
                    done[ndone, 0], done[ndone, 1], done[ndone, 2] = z, y, x
                    ndone += 1
                    top = 0
                    stack[0, 0], stack[0, 1], stack[0, 2] = z, y, x
                    top = 1
                    size = 0
                    while top > 0:
                        top -= 1
                        kz, ky, kx = stack[top, 0], stack[top, 1], stack[top, 2]
                        size += 1
                        for a in range(na):
                            for sgn in (1, -1):
                                jz = kz + sgn * angles[a, 0]
                                jy = ky + sgn * angles[a, 1]
                                jx = kx + sgn * angles[a, 2]
                                if (
                                    jz < lo[0]
                                    or jz > hi[0]
                                    or jy < lo[1]
                                    or jy > hi[1]
                                    or jx < lo[2]
                                    or jx > hi[2]
                                ):
                                    continue
                                if (
                                    msk[jz, jy, jx]
                                    and not seen[jz, jy, jx]
                                    and img[jz, jy, jx] == gl
                                ):
                                    seen[jz, jy, jx] = 1
                                    done[ndone, 0] = jz
                                    done[ndone, 1] = jy
                                    done[ndone, 2] = jx
                                    ndone += 1
                                    stack[top, 0] = jz
                                    stack[top, 1] = jy
                                    stack[top, 2] = jx
                                    top += 1
                    if local[gl] < 0:
                        local[gl] = nl
                        levels[nl] = gl
                        nl += 1
                    cnt[local[gl], size - 1] += 1.0
        for k in range(ndone):
            seen[done[k, 0], done[k, 1], done[k, 2]] = 0
        _glrlm_cell_features(cnt, levels, nl, ns, out[v])
        for k in range(nl):
            local[levels[k]] = -1
            for j in range(ns):
                cnt[k, j] = 0.0
    return out


@njit(cache=True, error_model="numpy", nogil=True)
def neighbour_features(img, msk, coords, r, f2d, angles, ng, alpha):
    """Per voxel: pyradiomics' GLDM features (the order of ``GLRLM_RAW``,
    dependence for run length) and NGTDM features (``NGTDM_RAW``).

    For each mask voxel of the kernel: its neighbours along ``angles`` (both
    directions) inside the kernel box and the mask. GLDM counts those within
    ``alpha`` gray levels (dependence ``k`` is column ``k``, size ``k + 1``);
    NGTDM sums ``|g - mean(neighbours)|`` (0 without neighbours) per gray level.
    """
    nv = coords.shape[0]
    na = angles.shape[0]
    nd = 2 * na + 1
    kmax = (2 * r + 1) ** 3
    gldm = np.full((nv, 16), np.nan)
    ngtdm = np.full((nv, 5), np.nan)
    local = np.full(ng + 1, -1, np.int64)
    levels = np.empty(kmax, np.int64)
    cnt = np.zeros((kmax, nd))
    n_i = np.zeros(kmax)
    s_i = np.zeros(kmax)
    shape = img.shape
    lo = np.empty(3, np.int64)
    hi = np.empty(3, np.int64)
    for v in range(nv):
        _bounds(coords[v], r, shape, f2d, lo, hi)
        nl = 0
        for z in range(lo[0], hi[0] + 1):
            for y in range(lo[1], hi[1] + 1):
                for x in range(lo[2], hi[2] + 1):
                    if not msk[z, y, x]:
                        continue
                    g = img[z, y, x]
                    if local[g] < 0:
                        local[g] = nl
                        levels[nl] = g
                        nl += 1
                    dep = 0
                    count = 0.0
                    total = 0.0
                    for a in range(na):
                        for sgn in (1, -1):
                            jz = z + sgn * angles[a, 0]
                            jy = y + sgn * angles[a, 1]
                            jx = x + sgn * angles[a, 2]
                            if (
                                jz < lo[0]
                                or jz > hi[0]
                                or jy < lo[1]
                                or jy > hi[1]
                                or jx < lo[2]
                                or jx > hi[2]
                            ):
                                continue
                            if msk[jz, jy, jx]:
                                h = img[jz, jy, jx]
                                if abs(g - h) <= alpha:
                                    dep += 1
                                count += 1.0
                                total += h
                    k = local[g]
                    cnt[k, dep] += 1.0
                    diff = 0.0 if count == 0 else abs(float(g) - total / count)
                    n_i[k] += 1.0
                    s_i[k] += diff
        _glrlm_cell_features(cnt, levels, nl, nd, gldm[v])
        _ngtdm_cell_features(n_i, s_i, levels, nl, ngtdm[v])
        for k in range(nl):
            local[levels[k]] = -1
            n_i[k] = 0.0
            s_i[k] = 0.0
            for j in range(nd):
                cnt[k, j] = 0.0
    return gldm, ngtdm


#: NGTDM features computed by :func:`neighbour_features`, in this order.
NGTDM_RAW = ("Coarseness", "Contrast", "Busyness", "Complexity", "Strength")


@njit(cache=True, error_model="numpy", nogil=True)
def _ngtdm_cell_features(n_i, s_i, levels, nl, res):
    nvp = 0.0
    for k in range(nl):
        nvp += n_i[k]
    ngp = 0
    sum_s = 0.0
    ps = 0.0
    for k in range(nl):
        if n_i[k] > 0:
            ngp += 1
        sum_s += s_i[k]
        ps += n_i[k] / nvp * s_i[k]
    res[0] = 1.0 / ps if ps != 0 else 1000000.0
    con = absdiff = cplx = strength = 0.0
    for a in range(nl):
        pa = n_i[a] / nvp
        ia = float(levels[a])
        for b in range(nl):
            pb = n_i[b] / nvp
            ib = float(levels[b])
            con += pa * pb * (ia - ib) ** 2
            if pa > 0 and pb > 0:
                absdiff += abs(ia * pa - ib * pb)
                cplx += abs(ia - ib) * (pa * s_i[a] + pb * s_i[b]) / (pa + pb)
                strength += (pa + pb) * (ia - ib) ** 2
    div = ngp * (ngp - 1)
    res[1] = con * sum_s / nvp / div if div != 0 else 0.0
    res[2] = ps / absdiff if absdiff != 0 else 0.0
    res[3] = cplx / nvp
    res[4] = strength / sum_s if sum_s != 0 else 0.0


def warm_up() -> None:
    """Compile (or load from the on-disk cache) every kernel on a tiny input."""
    img = np.ones((3, 3, 3), np.int32)
    img[1] = 2
    msk = np.ones((3, 3, 3), np.uint8)
    coords = np.array([[1, 1, 1]], np.int64)
    angles = np.array([[0, 0, 1], [0, 1, 0], [1, 0, 0]], np.int64)
    index = np.array([-1, 0, 1], np.int64)
    none = np.empty(0)
    glcm_features(img, msk, coords, 1, -1, angles, none, True, 2)
    glcm_counts(img, msk, coords, 1, -1, angles, index, 2)
    glrlm_features(img, msk, coords, 1, -1, angles, none, 2)
    glszm_features(img, msk, coords, 1, -1, angles, 2)
    neighbour_features(img, msk, coords, 1, -1, angles, 2, 0)
