/*
 * Segment-based texture matrices of radsarc (radsarc/features/_matrices.py).
 *
 * Plain C over flat arrays, loaded with ctypes; no Python C API, no numpy
 * headers. radsarc compiles this file on first use with the system C compiler
 * (-O2 -fPIC -shared -ffp-contract=off: no contraction into fused
 * multiply-adds, no fast-math, no -march, so that every floating-point
 * operation is the IEEE one written here) into a per-user cache; see
 * radsarc/features/_native.py.
 *
 * Every function takes the discretised image copied into an array padded
 * with background (gray level 0) as wide as the longest angle, so that
 * no neighbour needs a bounds check ("flat", C order), the flat indices of the
 * region's voxels in increasing order ("index", int64) and the flat offsets of
 * the angles ("offsets", int64). Outputs are float64 arrays, zero-filled by
 * the caller. The loops are those of the numba kernels
 * (radsarc/features/_matrices_numba.py) and give the same arrays as
 * pyradiomics' C extension (_cmatrices), count for count; the NGTDM's sums are
 * added in pyradiomics' order (voxels in C order, neighbours in angle order).
 *
 * The image comes as uint8, uint16 or int32 (the narrowest type that holds its
 * gray levels: a smaller array, fewer cache misses, ~15 % faster GLRLM and
 * GLSZM at 117 levels); every kernel exists once per type, named with the
 * suffix _u8, _u16 or _i32: this file includes itself once per type (the
 * kernels below the #else), with PIXEL and NAME defined. All arithmetic is in
 * int32 / int64 / double, whatever the type.
 */
#ifndef PIXEL
#include <stdint.h>

/* RADSARC_KEY is defined on the compiler's command line (a hash of this
 * source and the build settings): the loader checks it, so that a stale or
 * foreign library under the cache's file name is never used. */
#ifndef RADSARC_KEY
#define RADSARC_KEY "unset"
#endif

const char *radsarc_matrices_key(void) { return RADSARC_KEY; }

#define PIXEL uint8_t
#define NAME(f) radsarc_##f##_u8
#include "_matrices.c" /* this file, from its own directory */
#undef PIXEL
#undef NAME
#define PIXEL uint16_t
#define NAME(f) radsarc_##f##_u16
#include "_matrices.c" /* this file, from its own directory */
#undef PIXEL
#undef NAME
#define PIXEL int32_t
#define NAME(f) radsarc_##f##_i32
#include "_matrices.c" /* this file, from its own directory */
#undef PIXEL
#undef NAME

#else /* the kernels, for one PIXEL type */

/* GLCM: out has shape (Ng, Ng, Na), C order. */
void NAME(glcm)(const PIXEL *flat, const int64_t *index, int64_t n,
                  const int64_t *offsets, int64_t na, double *out, int64_t ng)
{
    for (int64_t v = 0; v < n; v++) {
        const int64_t i = index[v];
        const int64_t row = ((int64_t)flat[i] - 1) * ng * na;
        for (int64_t a = 0; a < na; a++) {
            const int32_t h = (int32_t)flat[i + offsets[a]];
            if (h > 0)
                out[row + (int64_t)(h - 1) * na + a] += 1.0;
        }
    }
}

/* GLDM (Ng, 2 Na + 1) and NGTDM (Ng, 3; column 2 filled by the caller) in
 * one pass over the same neighbourhood. */
void NAME(gldm_ngtdm)(const PIXEL *flat, const int64_t *index, int64_t n,
                        const int64_t *offsets, int64_t na, int64_t alpha,
                        double *gldm, double *ngtdm)
{
    const int64_t width = 2 * na + 1;
    for (int64_t v = 0; v < n; v++) {
        const int64_t i = index[v];
        const int32_t g = (int32_t)flat[i];
        int64_t dep = 0;
        double count = 0.0;
        double total = 0.0;
        for (int64_t a = 0; a < na; a++) {
            const int32_t h = (int32_t)flat[i + offsets[a]];
            if (h > 0) {
                count += 1.0;
                total += (double)h;
                int64_t d = (int64_t)g - (int64_t)h;
                if (d < 0)
                    d = -d;
                if (d <= alpha)
                    dep += 1;
            }
        }
        double diff = count == 0.0 ? 0.0 : (double)g - total / count;
        if (diff < 0)
            diff = -diff;
        gldm[(int64_t)(g - 1) * width + dep] += 1.0;
        ngtdm[(int64_t)(g - 1) * 3] += 1.0;
        ngtdm[(int64_t)(g - 1) * 3 + 1] += diff;
    }
}

/* GLRLM (Ng, Nr, Na): runs are walked from their first voxel along each
 * angle. multi[a] is set to 1 where two region voxels were found adjacent
 * (or a run ended on another region voxel) along angle a. */
void NAME(glrlm)(const PIXEL *flat, const int64_t *index, int64_t n,
                   const int64_t *offsets, int64_t na, double *out, int64_t nr,
                   uint8_t *multi)
{
    for (int64_t v = 0; v < n; v++) {
        const int64_t i = index[v];
        const int32_t g = (int32_t)flat[i];
        const int64_t row = (int64_t)(g - 1) * nr;
        for (int64_t a = 0; a < na; a++) {
            const int64_t o = offsets[a];
            if ((int32_t)flat[i - o] == g)
                continue; /* not the first voxel of its run along this angle */
            int64_t j = i + o;
            int64_t length = 0;
            while ((int32_t)flat[j] == g) {
                length += 1;
                j += o;
            }
            if (length > 0 || flat[j] > 0)
                multi[a] = 1;
            out[(row + length) * na + a] += 1.0;
        }
    }
}

/* Whether two region voxels lie on one line along angle (z, y, x) of the
 * padded array of shape (z, y, x): walks from each region voxel over the
 * background until the next region voxel or the edge. */
int32_t NAME(any_line_pair)(const PIXEL *flat, const int64_t *index,
                              int64_t n, const int64_t *shape,
                              const int64_t *angle)
{
    const int64_t sy = shape[1] * shape[2];
    const int64_t sx = shape[2];
    const int64_t step = angle[0] * sy + angle[1] * sx + angle[2];
    for (int64_t v = 0; v < n; v++) {
        const int64_t i = index[v];
        int64_t z = i / sy;
        int64_t y = (i % sy) / sx;
        int64_t x = i % sx;
        int64_t j = i;
        for (;;) {
            z += angle[0];
            y += angle[1];
            x += angle[2];
            if (!(0 <= z && z < shape[0] && 0 <= y && y < shape[1] && 0 <= x &&
                  x < shape[2]))
                break;
            j += step;
            if (flat[j] > 0)
                return 1;
        }
    }
    return 0;
}

/* GLSZM zones, grown with a stack in the order of pyradiomics' C code.
 * todo: a writable copy of flat (consumed); stack: n int64 of scratch.
 * Writes the gray level and size of each zone; returns the number of zones. */
int64_t NAME(glszm)(PIXEL *todo, const int64_t *index, int64_t n,
                      const int64_t *offsets, int64_t na, int64_t *stack,
                      int64_t *levels, int64_t *sizes)
{
    int64_t n_zones = 0;
    for (int64_t v = 0; v < n; v++) {
        const int64_t i = index[v];
        const int32_t g = (int32_t)todo[i];
        if (g == 0)
            continue;
        todo[i] = 0;
        stack[0] = i;
        int64_t top = 1;
        int64_t size = 0;
        while (top > 0) {
            top -= 1;
            const int64_t k = stack[top];
            size += 1;
            for (int64_t a = 0; a < na; a++) {
                const int64_t j = k + offsets[a];
                if ((int32_t)todo[j] == g) {
                    todo[j] = 0;
                    stack[top] = j;
                    top += 1;
                }
            }
        }
        levels[n_zones] = g;
        sizes[n_zones] = size;
        n_zones += 1;
    }
    return n_zones;
}

#endif
