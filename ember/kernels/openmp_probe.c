/* Compiled once per process by ember/kernels/loader.py with -fopenmp: it builds only where the C compiler has
   OpenMP, and then the kernels are compiled with it. */
#include <omp.h>
int probe(void) { return omp_get_max_threads(); }
