// AVX-512 (F/BW/VL/DQ) + VNNI kernels (compiled with those flags only; chosen at run time).
#include "ops/matmul_kernels.h"

namespace dllm::mm {

RowsFn avx512_rows(GgmlType) { return nullptr; }

}  // namespace dllm::mm
