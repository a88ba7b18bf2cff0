/* The row-wise kernels rowwise.c defines: the declarations ember/kernels/loader.py hands to cffi (which is why
   this file has no include guard or #include: cffi parses it as it is). */
void ember_softmax(const float* restrict x, float* restrict out, long rows, long n);
void ember_softmax_backward(const float* restrict grad, const float* restrict out, float* restrict result,
                            long rows, long n);
void ember_scaled_masked_softmax(const float* restrict x, float* restrict out, long rows, long n, int scaled,
                                 float scale, const unsigned char* restrict mask, long mask_rows, float fill);
void ember_scaled_masked_softmax_backward(const float* restrict grad, const float* restrict y, float* restrict result,
                                          long rows, long n, int scaled, float scale,
                                          const unsigned char* restrict mask, long mask_rows);
void ember_layer_norm(const float* restrict x, const float* restrict w, const float* restrict b,
                      float* restrict xhat, float* restrict rstd, float* restrict out, long rows, long n, float eps);
void ember_layer_norm_backward(const float* restrict g, const float* restrict xhat, const float* restrict rstd,
                               const float* restrict w, float* restrict dx, float* restrict dw, float* restrict db,
                               long rows, long n);
