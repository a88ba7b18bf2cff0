/* The row scatter-add kernel scatter_rows.c defines: the declaration ember/kernels/loader.py hands to cffi (no
   include guard or #include: cffi parses this file as it is). */
void ember_index_add_rows(const int64_t* restrict indices, const float* restrict rows, float* restrict out,
                          long count, long width);
