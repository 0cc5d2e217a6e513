// Internal: the AVX2 activation quantizers (quant_act_avx2.cpp), chosen by
// prepare_activations() when the CPU has AVX2. Same results as the scalar ones.
#pragma once
#include <cstdint>

namespace dllm::simd {

void quantize_act_q8_32_avx2(const float* x, int64_t K, int8_t* qs, float* d, int16_t* sum16, float* dsum16);
void quantize_act_q8_k_avx2(const float* x, int64_t K, int8_t* qs, float* d, int16_t* sum16, float* dsum16);

}  // namespace dllm::simd
