/* The optimizer updates optimizer.c defines: the declarations ember/kernels/loader.py hands to cffi (no include
   guard or #include: cffi parses this file as it is). */
void ember_sgd(float* p, const float* g, float* buf, long n, float lr, float momentum, float damp, int use_damp,
               float wd, int nesterov, int threads);
void ember_sgd_plain(float* p, const float* g, long n, float lr, float wd, int threads);
void ember_adam(float* p, const float* g, float* m, float* v, long n, float decay, int decoupled, float wd,
                int coupled, float w1, int lerp_small, float one_minus_w1, float beta2, float one_minus_beta2,
                float bc2, float eps, float neg_step, int threads);
