/* The cffi declaration of a loop made from the fused_group.c template, filled in with the same fields. */
void ${name}(${inputs}float* restrict out, long n);
