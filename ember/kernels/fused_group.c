/* One elementwise fusion group as one loop: a template (Python's string.Template) that ember/compiler/codegen.py
   fills in: the function's name, one `const float* restrict in<k>_, ` parameter per operand array, the
   statements that read element i of each operand, and the group's float32 C expression over them. The
   helpers the expressions call (ember_relu, ember_max, ember_min) are the shared header's. */
#include "ember_kernels.h"

void ${name}(${inputs}float* restrict out, long n) {
    for (long i = 0; i < n; i++) { ${loads} out[i] = ${expression}; }
}
