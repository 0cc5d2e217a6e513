// Activation preparation for matmul (kernels.md §3.3): the rows of X are
// rounded or quantized once per matmul, the way the reference prepares them
// for each weight type, into a layout every kernel (portable and SIMD) reads.
#pragma once
#include <cstddef>
#include <cstdint>

#include "formats/ggml_type.h"

namespace dllm {

enum class ActKind : uint8_t {
  F32,    // F32 / F16 weights: activations as they are
  BF16,   // BF16 weights: activations rounded to bf16 (kept as f32 values)
  Q8_32,  // legacy types (Q6_0 too), IQ4_NL, Q4_K/Q5_K/Q6_K: per-32 int8, d = bf16(amax/127) (ik Q8_2_X4)
  Q8_K,   // Q2_K, Q3_K, IQ4_XS, ik's IQ*_K / IQ*_KS / IQ4_KSS / IQ2_KL: per-256 int8, d = amax/127 (ik Q8_K)
};

// The activation kind the reference uses with weights of this type.
ActKind act_kind(GgmlType weight_type);

// Prepared activations: M rows of K. For the int8 kinds every 32-block has a
// scale (a Q8_K row repeats its 256-block scale over its eight 32-blocks), so
// that one kernel reads both kinds; the per-16 quant sums serve the offset
// terms of the types with mins.
struct ActRows {
  ActKind kind = ActKind::F32;
  int64_t M = 0, K = 0;
  const float* x = nullptr;      // F32 / BF16: [M][ldx]
  int64_t ldx = 0;
  const int8_t* qs = nullptr;    // int8 kinds: [M][K] quants
  const float* d = nullptr;      // [M][K/32] scale of each 32-block
  const int16_t* sum16 = nullptr;  // [M][K/16] sum of each 16 quants
  const float* dsum16 = nullptr;   // [M][K/16] d * sum16 (exact in f32)
  const float* dsum32 = nullptr;   // [M][K/32] d * (sum of the block's 32 quants) (exact)
  const int32_t* sum32 = nullptr;  // [M][K/32] sum of the block's 32 quants

  const int8_t* qs_row(int64_t m) const { return qs + m * K; }
  const float* d_row(int64_t m) const { return d + m * (K / 32); }
  const int16_t* sum16_row(int64_t m) const { return sum16 + m * (K / 16); }
  const float* dsum16_row(int64_t m) const { return dsum16 + m * (K / 16); }
  const float* dsum32_row(int64_t m) const { return dsum32 + m * (K / 32); }
  const int32_t* sum32_row(int64_t m) const { return sum32 + m * (K / 32); }
  const float* x_row(int64_t m) const { return x + m * ldx; }
};

// Bytes of scratch prepare_activations needs (includes 64-byte alignment slack).
size_t act_scratch_bytes(ActKind kind, int64_t M, int64_t K);

// Fills `scratch` (act_scratch_bytes long) and returns the view. For F32 the
// view points at X itself. K must be a multiple of 32 (Q8_32) or 256 (Q8_K).
// Rows [m_begin, m_end) only are computed (to split the work over threads);
// the returned view always describes all M rows.
ActRows prepare_activations(ActKind kind, const float* X, int64_t M, int64_t K, int64_t ldx,
                            uint8_t* scratch, int64_t m_begin, int64_t m_end);

// One row, the reference's rounding (bit-exact across ISAs: the same scalar
// code runs everywhere).
//   Q8_32: per 32: amax; d = bf16(amax/127); id = d ? 1/d : 0; q = RNE(x*id).
//   Q8_K : per 256: amax; d = amax/127; iscale = amax ? 127/amax : 0; q = RNE(x*iscale).
// Quants are clamped to [-127, 127] (never reached for finite input).
void quantize_act_q8_32(const float* x, int64_t K, int8_t* qs, float* d, int16_t* sum16,
                        float* dsum16);
void quantize_act_q8_k(const float* x, int64_t K, int8_t* qs, float* d, int16_t* sum16,
                       float* dsum16);

}  // namespace dllm
