// The codebooks of the mainline IQ1/IQ2/IQ3 types (defined in iq_grids.cpp).
// Plain constant data with external linkage: unlike inline functions, one
// definition shared by the files compiled for different ISAs is harmless.
#pragma once
#include <cstdint>

namespace dllm::qb {

// 8 values per entry, element j in byte j; magnitudes 8, 25, 43.
extern const uint64_t kIQ2XXSGrid[256];
extern const uint64_t kIQ2XSGrid[512];
extern const uint64_t kIQ2SGrid[1024];
// 4 values per entry; magnitudes 4, 12, .., 52, 62 (IQ3_XXS), 1, 3, .., 15 (IQ3_S).
extern const uint32_t kIQ3XXSGrid[256];
extern const uint32_t kIQ3SGrid[512];
// 8 values per entry as int8: -1, 0 or 1.
extern const uint64_t kIQ1SGrid[2048];

}  // namespace dllm::qb
