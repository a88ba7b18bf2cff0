/* The max-pooling kernels pool.c defines: the declarations ember/kernels/loader.py hands to cffi (no include
   guard or #include: cffi parses this file as it is). */
int ember_max_pool(const float* restrict x, float* restrict out, int8_t* restrict which, long planes, long h,
                   long w, long kh, long kw, long sh, long sw, long ph, long pw, long dh, long dw, long oh,
                   long ow);
void ember_max_pool_backward(const float* restrict grad, const int8_t* restrict which, float* restrict out,
                             long planes, long h, long w, long kw, long sh, long sw, long ph, long pw, long dh,
                             long dw, long oh, long ow);
