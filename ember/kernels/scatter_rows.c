/* Row scatter-add, out[indices[i]] += rows[i] in index order (the backward of an embedding lookup). Called
   from ember/kernels/scatter_rows.py, which passes only valid indices. */
#include "ember_kernels.h"
#include "scatter_rows.h"

void ember_index_add_rows(const int64_t* restrict indices, const float* restrict rows, float* restrict out,
                          long count, long width) {
    for (long i = 0; i < count; i++) {
        float* restrict target = out + indices[i] * width;
        const float* restrict row = rows + i * width;
        for (long j = 0; j < width; j++) target[j] += row[j];
    }
}
