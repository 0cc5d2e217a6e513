// Row kernels of the type table (kernels.md §2): scalar, bit-exact decoders
// for every type that has one, and the quantizers that must match the
// reference byte for byte. Registered in ggml_type.cpp; call them through
// dequantize_row() / quantize_row() of ggml_type.h.
#pragma once
#include <cstdint>

namespace dllm::quant {

// src: n / block_elems blocks of the type; dst: [n] f32.
void dequant_f32(const void* src, float* dst, int64_t n);
void dequant_f16(const void* src, float* dst, int64_t n);
void dequant_bf16(const void* src, float* dst, int64_t n);
void dequant_q4_0(const void* src, float* dst, int64_t n);
void dequant_q4_1(const void* src, float* dst, int64_t n);
void dequant_q5_0(const void* src, float* dst, int64_t n);
void dequant_q5_1(const void* src, float* dst, int64_t n);
void dequant_q8_0(const void* src, float* dst, int64_t n);
void dequant_iq4_nl(const void* src, float* dst, int64_t n);
void dequant_q2_k(const void* src, float* dst, int64_t n);
void dequant_q3_k(const void* src, float* dst, int64_t n);
void dequant_q4_k(const void* src, float* dst, int64_t n);
void dequant_q5_k(const void* src, float* dst, int64_t n);
void dequant_q6_k(const void* src, float* dst, int64_t n);
void dequant_iq4_xs(const void* src, float* dst, int64_t n);
// ik types (kernels.md §2.5). IQ4_KS: src is a whole row (its f32 scale first).
void dequant_iq4_k(const void* src, float* dst, int64_t n);
void dequant_iq4_ks(const void* src, float* dst, int64_t n);
void dequant_q6_0(const void* src, float* dst, int64_t n);
void dequant_iq2_k(const void* src, float* dst, int64_t n);
void dequant_iq3_k(const void* src, float* dst, int64_t n);
void dequant_iq5_k(const void* src, float* dst, int64_t n);
// IQ6_K: the reference's row decoder (a cubic in the quant); its matmul
// multiplies with the int8 codebook qb::kIQ6NLValues instead (up to half a
// unit apart), and so does ours.
void dequant_iq6_k(const void* src, float* dst, int64_t n);
// Whole rows: an f32 row scale first (IQ5_KS, IQ4_KSS), or an fp16 one
// (IQ2_KS, IQ3_KS, IQ2_KL).
void dequant_iq5_ks(const void* src, float* dst, int64_t n);
void dequant_iq4_kss(const void* src, float* dst, int64_t n);
void dequant_iq2_ks(const void* src, float* dst, int64_t n);
void dequant_iq3_ks(const void* src, float* dst, int64_t n);
void dequant_iq2_kl(const void* src, float* dst, int64_t n);
// Mainline codebook types and MXFP4 (quant_iq_grid.cpp).
void dequant_iq2_xxs(const void* src, float* dst, int64_t n);
void dequant_iq2_xs(const void* src, float* dst, int64_t n);
void dequant_iq2_s(const void* src, float* dst, int64_t n);
void dequant_iq3_xxs(const void* src, float* dst, int64_t n);
void dequant_iq3_s(const void* src, float* dst, int64_t n);
void dequant_iq1_s(const void* src, float* dst, int64_t n);
void dequant_iq1_m(const void* src, float* dst, int64_t n);
void dequant_mxfp4(const void* src, float* dst, int64_t n);

// src: [n] f32; dst: the encoded row.
void quant_f32(const float* src, void* dst, int64_t n);
void quant_f16(const float* src, void* dst, int64_t n);
void quant_bf16(const float* src, void* dst, int64_t n);
// Reference Q8_0: d = amax/127, id = 1/d (0 if d == 0), q = roundf(x*id)
// (half away from zero), d stored as F16.
void quant_q8_0(const float* src, void* dst, int64_t n);

}  // namespace dllm::quant
