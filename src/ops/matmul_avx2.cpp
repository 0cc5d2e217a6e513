// AVX2 + FMA + F16C kernels (compiled with those flags only; chosen at run time).
#include "ops/matmul_kernels.h"

namespace dllm::mm {

RowsFn avx2_rows(GgmlType) { return nullptr; }

}  // namespace dllm::mm
