/* The tanh-GELU and expm1 kernels pointwise.c defines: the declarations ember/kernels/loader.py hands to cffi (no include
   guard or #include: cffi parses this file as it is). */
void ember_gelu_tanh(const float* restrict x, float* restrict out, float* restrict t, long n);
void ember_gelu_tanh_backward(const float* restrict grad, const float* restrict x, const float* restrict t,
                              float* restrict out, long n);
void ember_gelu_tanh_value(const float* restrict x, float* restrict out, long n);
void ember_gelu_tanh_backward_recompute(const float* restrict grad, const float* restrict x, float* restrict out,
                                        long n);
void ember_gelu_tanh_slope(const float* restrict x, float* restrict out, long n);
void ember_expm1f(const float* restrict x, float* restrict out, long n);
