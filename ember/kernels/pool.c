/* 2-d max pooling: each window scanned once, forward and backward, in PyTorch's order. Called from
   ember/kernels/pool.py, which explains which offset wins a tie or a NaN and how the backward sums. */
#include "ember_kernels.h"
#include "pool.h"

/* 0, or -1 when the row buffers cannot be allocated (the caller then takes the NumPy path) */
int ember_max_pool(const float* restrict x, float* restrict out, int8_t* restrict which, long planes, long h,
                   long w, long kh, long kw, long sh, long sw, long ph, long pw, long dh, long dw, long oh,
                   long ow) {
    /* One output row at a time, kernel offset by offset in row-major order, the output columns innermost (a
       loop the compiler vectorizes). For offset column j the outputs whose input column is inside the image
       are [lo[j], hi[j]). */
    long lo[kw], hi[kw];
    for (long j = 0; j < kw; j++) ember_columns_inside(j * dw - pw, w, sw, ow, &lo[j], &hi[j]);
    if (kh == 2 && kw == 2 && sh == 2 && sw == 2 && dh == 1 && dw == 1 && ph == 0 && pw == 0
            && 2 * oh <= h && 2 * ow <= w) {  /* the common 2x2 pool: four loads, three selects per output */
        int* won = malloc(ow * sizeof(int));
        if (!won) return -1;
        for (long p = 0; p < planes; p++)
            for (long oy = 0; oy < oh; oy++) {
                const float* restrict r0 = x + (p * h + 2 * oy) * w;
                const float* restrict r1 = r0 + w;
                float* restrict orow = out + (p * oh + oy) * ow;
                int8_t* restrict wrow = which ? which + (p * oh + oy) * ow : 0;
                int nan = 0;
                for (long ox = 0; ox < ow; ox++) {
                    float a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
                    nan |= (a != a) | (b != b) | (c != c) | (d != d);
                    float best = a;
                    int at = 0;
                    at = b > best ? 1 : at; best = b > best ? b : best;
                    at = c > best ? 2 : at; best = c > best ? c : best;
                    at = d > best ? 3 : at; best = d > best ? d : best;
                    orow[ox] = best;
                    won[ox] = at;  /* an int row, narrowed below: a char store here keeps the loop scalar */
                }
                if (wrow)
                    for (long ox = 0; ox < ow; ox++) wrow[ox] = (int8_t)won[ox];
                if (nan)  /* PyTorch: a NaN wins, the window's last one */
                    for (long ox = 0; ox < ow; ox++) {
                        float v[4] = {r0[2 * ox], r0[2 * ox + 1], r1[2 * ox], r1[2 * ox + 1]};
                        for (int k = 0; k < 4; k++)
                            if (v[k] != v[k]) { orow[ox] = v[k]; if (wrow) wrow[ox] = (int8_t)k; }
                    }
            }
        free(won);
        return 0;
    }
    float* best = malloc(ow * sizeof(float));
    int* at = malloc(ow * sizeof(int));
    if (!best || !at) { free(best); free(at); return -1; }
    for (long p = 0; p < planes; p++) {
        const float* restrict plane = x + p * h * w;
        for (long oy = 0; oy < oh; oy++) {
            for (long ox = 0; ox < ow; ox++) { best[ox] = -INFINITY; at[ox] = -1; }
            int nan = 0;
            for (long i = 0; i < kh; i++) {
                long iy = oy * sh - ph + i * dh;
                if (iy < 0 || iy >= h) continue;
                const float* restrict row = plane + iy * w;
                for (long j = 0; j < kw; j++) {
                    long shift = j * dw - pw;
                    int offset = (int)(i * kw + j);
                    for (long ox = lo[j]; ox < hi[j]; ox++) {
                        float v = row[ox * sw + shift];
                        nan |= v != v;
                        /* a strictly larger value takes over (a tie keeps the first offset); the first
                           element inside the input starts the window, whatever it holds */
                        int take = (v > best[ox]) | (at[ox] < 0);
                        best[ox] = take ? v : best[ox];
                        at[ox] = take ? offset : at[ox];
                    }
                }
            }
            if (nan)  /* PyTorch: a NaN wins, the window's last one (rare: a second, scalar pass) */
                for (long i = 0; i < kh; i++) {
                    long iy = oy * sh - ph + i * dh;
                    if (iy < 0 || iy >= h) continue;
                    for (long j = 0; j < kw; j++)
                        for (long ox = lo[j]; ox < hi[j]; ox++) {
                            float v = plane[iy * w + ox * sw + j * dw - pw];
                            if (v != v) { best[ox] = v; at[ox] = (int)(i * kw + j); }
                        }
                }
            float* restrict orow = out + (p * oh + oy) * ow;
            for (long ox = 0; ox < ow; ox++) orow[ox] = best[ox];  /* a window with nothing inside: -inf */
            if (which) {
                int8_t* restrict wrow = which + (p * oh + oy) * ow;
                for (long ox = 0; ox < ow; ox++) wrow[ox] = (int8_t)(at[ox] < 0 ? 0 : at[ox]);
            }
        }
    }
    free(best);
    free(at);
    return 0;
}

void ember_max_pool_backward(const float* restrict grad, const int8_t* restrict which, float* restrict out,
                             long planes, long h, long w, long kw, long sh, long sw, long ph, long pw, long dh,
                             long dw, long oh, long ow) {
    for (long p = 0; p < planes; p++) {
        float* restrict plane = out + p * h * w;
        for (long oy = 0; oy < oh; oy++)
            for (long ox = 0; ox < ow; ox++) {
                long o = (p * oh + oy) * ow + ox;
                long i = which[o] / kw, j = which[o] % kw;
                long iy = oy * sh - ph + i * dh, ix = ox * sw - pw + j * dw;
                if (iy >= 0 && iy < h && ix >= 0 && ix < w) plane[iy * w + ix] += grad[o];
            }
    }
}
