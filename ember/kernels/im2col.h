/* The im2col kernel im2col.c defines: the declaration ember/kernels/loader.py hands to cffi (no include guard
   or #include: cffi parses this file as it is). */
void ember_im2col(const float* restrict x, float* restrict cols, long n, long c, long h, long w, long kh, long kw,
                  long sh, long sw, long ph, long pw, long dh, long dw, long oh, long ow);
