/* im2col for 2-d convolutions: the GEMM's column matrix written in one pass from the unpadded input, zeros
   where a window leaves the image. Called from ember/kernels/im2col.py; it only copies values. */
#include "ember_kernels.h"
#include "im2col.h"

void ember_im2col(const float* restrict x, float* restrict cols, long n, long c, long h, long w, long kh, long kw,
                  long sh, long sw, long ph, long pw, long dh, long dw, long oh, long ow) {
    long length = n * oh * ow;
    for (long ci = 0; ci < c; ci++)
        for (long i = 0; i < kh; i++)
            for (long j = 0; j < kw; j++) {
                float* restrict row = cols + ((ci * kh + i) * kw + j) * length;
                /* the output columns whose input column stays inside the image: [first, last) */
                long offset = j * dw - pw, first, last;
                ember_columns_inside(offset, w, sw, ow, &first, &last);
                for (long b = 0; b < n; b++)
                    for (long y = 0; y < oh; y++) {
                        float* restrict out = row + (b * oh + y) * ow;
                        long iy = y * sh - ph + i * dh;
                        if (iy < 0 || iy >= h) { memset(out, 0, ow * sizeof(float)); continue; }
                        const float* restrict src = x + ((b * c + ci) * h + iy) * w + offset;
                        for (long q = 0; q < first; q++) out[q] = 0.0f;
                        if (sw == 1) memcpy(out + first, src + first, (last - first) * sizeof(float));
                        else for (long q = first; q < last; q++) out[q] = src[q * sw];
                        for (long q = last; q < ow; q++) out[q] = 0.0f;
                    }
            }
}
