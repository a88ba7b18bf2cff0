/* What several kernel families share: includes, the OpenMP loop pragma and small float32 helpers.
 *
 * Every kernel file (and the fusion loops ember/compiler/codegen.py fills in from fused_group.c) includes this
 * header; ember/kernels/loader.py hashes its text with theirs, so editing it recompiles them. The helpers are
 * static inline: a family that does not call one gets no code for it. Each performs its float32 operations in
 * a fixed order (kernels are compiled with -ffp-contract=off), which is what keeps a kernel's results equal to
 * the NumPy code it mirrors.
 */
#ifndef EMBER_KERNELS_H
#define EMBER_KERNELS_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Put before a loop over n elements in a function with an int `threads` argument; splitting small loops
   across threads costs more than it saves. Without -fopenmp the pragma is ignored. */
#define EMBER_PARALLEL_FOR _Pragma("omp parallel for num_threads(threads) schedule(static) if (n > 65536)")

/* NumPy's float32 relu / maximum / minimum, NaN included (a NaN operand wins). */
static inline float ember_relu(float a) { return (a >= 0.0f || a != a) ? a : 0.0f; }
static inline float ember_max(float a, float b) { return (a >= b || a != a) ? a : b; }
static inline float ember_min(float a, float b) { return (a <= b || a != a) ? a : b; }

/* tanh as Eigen's rational approximation (clamped odd/even polynomials): vectorizes, unlike libm's tanhf. */
static inline float ember_tanhf(float v) {
    float y = v;
    y = y > 7.90531110763549805f ? 7.90531110763549805f : y;
    y = y < -7.90531110763549805f ? -7.90531110763549805f : y;
    float y2 = y * y;
    float p = -2.76076847742355e-16f;
    p = p * y2 + 2.00018790482477e-13f;
    p = p * y2 + -8.60467152213735e-11f;
    p = p * y2 + 5.12229709037114e-08f;
    p = p * y2 + 1.48572235717979e-05f;
    p = p * y2 + 6.37261928875436e-04f;
    p = p * y2 + 4.89352455891786e-03f;
    p = p * y;
    float q = 1.19825839466702e-06f;
    q = q * y2 + 1.18534705686654e-04f;
    q = q * y2 + 2.26843463243900e-03f;
    q = q * y2 + 4.89352518554385e-03f;
    float r = p / q;
    return fabsf(v) < 0.0004f ? v : r;
}

/* Row reductions in 8 independent lanes (vectorizable without reassociating: the same order on every run). */
#define EMBER_LANES 8
static inline float ember_lanes_sum(const float* acc) {
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

static inline float ember_sum(const float* restrict x, long n) {
    float acc[EMBER_LANES] = {0};
    long j = 0;
    for (; j + EMBER_LANES <= n; j += EMBER_LANES)
        for (int l = 0; l < EMBER_LANES; l++) acc[l] += x[j + l];
    for (; j < n; j++) acc[0] += x[j];
    return ember_lanes_sum(acc);
}

static inline float ember_dot(const float* restrict a, const float* restrict b, long n) {
    float acc[EMBER_LANES] = {0};
    long j = 0;
    for (; j + EMBER_LANES <= n; j += EMBER_LANES)
        for (int l = 0; l < EMBER_LANES; l++) acc[l] += a[j + l] * b[j + l];
    for (; j < n; j++) acc[0] += a[j] * b[j];
    return ember_lanes_sum(acc);
}

/* A window's columns in a strided scan (pooling, im2col): output column ox reads input column
   ox * stride + offset; [*first, *last) are the output columns (of ow) whose input column lies inside a row of
   width w. */
static inline void ember_columns_inside(long offset, long w, long stride, long ow, long* first, long* last) {
    long lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
    long hi = w - offset > 0 ? (w - offset + stride - 1) / stride : 0;
    if (hi > ow) hi = ow;
    if (lo > hi) lo = hi;
    *first = lo;
    *last = hi;
}

#endif
