"""The numba versions of radsarc's texture-matrix kernels (the fallback).

:mod:`radsarc.features._matrices` uses the C kernels (``_matrices.c``, built by
:mod:`radsarc.features._native`) when a C compiler is available, and these
otherwise. They are the same loops, over the same flat arrays, and give the same
arrays (tests/features/test_matrices.py runs every test with both). Importing
numba and loading the cached machine code costs ~0.4 s per process, which is
why this module is imported only when the C kernels cannot be had.
"""

from __future__ import annotations

import numpy as np
from numba import njit


# ---------------------------------------------------------------------------
# Kernels (flat arrays; the padding makes every neighbour index valid)
# ---------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def glcm(flat, index, offsets, out, ng):
    na = offsets.shape[0]
    for i in index:
        row = (flat[i] - 1) * ng * na
        for a in range(na):
            h = flat[i + offsets[a]]
            if h > 0:
                out[row + (h - 1) * na + a] += 1.0


@njit(cache=True, nogil=True)
def gldm_ngtdm(flat, index, offsets, alpha, gldm, ngtdm):
    na = offsets.shape[0]
    width = 2 * na + 1
    for i in index:
        g = flat[i]
        dep = 0
        count = 0.0
        total = 0.0
        for a in range(na):
            h = flat[i + offsets[a]]
            if h > 0:
                count += 1.0
                total += h
                if abs(g - h) <= alpha:
                    dep += 1
        diff = 0.0 if count == 0 else g - total / count
        if diff < 0:
            diff = -diff
        gldm[(g - 1) * width + dep] += 1.0
        ngtdm[(g - 1) * 3] += 1.0
        ngtdm[(g - 1) * 3 + 1] += diff


@njit(cache=True, nogil=True)
def glrlm(flat, index, offsets, out, nr):
    """Count runs; returns, per angle, whether two region voxels were adjacent."""
    na = offsets.shape[0]
    multi = np.zeros(na, np.bool_)
    for i in index:
        g = flat[i]
        row = (g - 1) * nr
        for a in range(na):
            o = offsets[a]
            if flat[i - o] == g:
                continue  # not the first voxel of its run along this angle
            j = i + o
            length = 0
            while flat[j] == g:
                length += 1
                j += o
            if length > 0 or flat[j] > 0:
                multi[a] = True
            out[(row + length) * na + a] += 1.0
    return multi


@njit(cache=True, nogil=True)
def any_line_pair(flat, index, shape, angle):
    """Whether two region voxels lie on one line along ``angle`` (z, y, x).

    Only needed when no two region voxels are adjacent along the angle: walks
    from each region voxel over the background until the next region voxel or
    the edge of the (padded) array.
    """
    sy = shape[1] * shape[2]
    sx = shape[2]
    step = angle[0] * sy + angle[1] * sx + angle[2]
    for i in index:
        z = i // sy
        y = (i % sy) // sx
        x = i % sx
        j = i
        while True:
            z += angle[0]
            y += angle[1]
            x += angle[2]
            if not (0 <= z < shape[0] and 0 <= y < shape[1] and 0 <= x < shape[2]):
                break
            j += step
            if flat[j] > 0:
                return True
    return False


@njit(cache=True, nogil=True)
def glszm(flat, index, offsets):
    na = offsets.shape[0]
    todo = flat.copy()
    stack = np.empty(index.shape[0], np.int64)
    levels = np.empty(index.shape[0], np.int64)
    sizes = np.empty(index.shape[0], np.int64)
    n_zones = 0
    for i in index:
        g = todo[i]
        if g == 0:
            continue
        todo[i] = 0
        stack[0] = i
        top = 1
        size = 0
        while top > 0:
            top -= 1
            k = stack[top]
            size += 1
            for a in range(na):
                j = k + offsets[a]
                if todo[j] == g:
                    todo[j] = 0
                    stack[top] = j
                    top += 1
        levels[n_zones] = g
        sizes[n_zones] = size
        n_zones += 1
    return levels[:n_zones], sizes[:n_zones]


#: Backend name (:func:`radsarc.features._matrices.backend`).
name = "numba"
#: Image types the kernels take (one: numba would compile each type apart, and
#: its arithmetic on unsigned types would not be the C kernels').
pixel_types = ("int32",)
