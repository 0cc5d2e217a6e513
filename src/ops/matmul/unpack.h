// Weight rows of every quantized type, unpacked into one common form that a
// single int8 dot kernel reads (the "unpack once, reuse over activation rows"
// idea of kernels.md §3.3):
//
//   q    [K]      int8 weight quants
//   dw   [K/32]   f32 scale of each 32-block
//   s16  [K/16]   int16 multiplier of each 16-group (types with 16-element
//                 scales: Q2_K, Q3_K, Q6_K, IQ2_K .. IQ6_K, IQ2_XS, IQ2_S, IQ1_M;
//                 and, each 32-block's integer scale twice, IQ4_XS, IQ4_KS,
//                 IQ5_KS, IQ4_KSS, IQ2_KS, IQ3_KS, IQ2_KL, IQ2_XXS, IQ3_XXS,
//                 IQ3_S, IQ1_S), else unused
//   mw16 [K/16]   f32 offset factor of each 16-group (types with mins), else unused
//                 (Q2_K, super-block order: the integer min of each 16-group)
//
// so that   row . x  =  sum_b dw[b]*da[b] * (S_lo(b) + S_hi(b))  +  sum_g mw16[g]*da*suma[g]
// with S_lo/S_hi the int dot of the block's two 16-halves (times s16 where
// used) and suma the activation quant sums. Every stored value is exact: the
// composite scales (d*sc, -dmin*m) are products of an fp16 and a small integer.
//
// Internal linkage on purpose: this header is compiled into portable and
// ISA-specific files (the compiler vectorizes these loops there).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "formats/ggml_type.h"
#include "formats/quant_blocks.h"

namespace dllm::unpack {

struct Traits {
  bool s16;   // uses 16-group multipliers
  bool mins;  // has offset terms
  // The super-block order: dw is one value over each 256-chunk (and so is the
  // Q8_K activation scale), so the kernels sum the chunk's 8 block integers
  // (times their multipliers) exactly first and take one float step per chunk
  // instead of one per 32-block. s16 types only. With mins (Q2_K), the
  // chunk's integer sum of min times activation 16-group quant sum takes a
  // second float step, with the factor in dw[8c + 4] (dw[8c] is the scale).
  bool sb = false;
  // s16 holds one integer scale per 32-block (its two 16-groups alike).
  bool s32 = false;
};

static inline float h2f(const uint8_t* p) {
  // fp16 -> f32, exact, without branches on the hot path: the 15 magnitude
  // bits placed in a float's exponent/mantissa field and scaled by 2^112 give
  // the value for normals and subnormals alike (a power-of-two product is
  // exact); inf/NaN get the all-ones exponent. A local copy so that ISA files
  // do not share an inline symbol.
  const uint16_t h = qb::load_u16(p);
  const uint32_t mag = uint32_t(h & 0x7fff) << 13;
  float f;
  std::memcpy(&f, &mag, 4);
  f *= 5.192296858534828e33f;  // 2^112
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((h & 0x7c00) == 0x7c00) bits = 0x7f800000u | mag;
  bits |= uint32_t(h & 0x8000) << 16;
  std::memcpy(&f, &bits, 4);
  return f;
}

// One header per type family; each defines static unpackers with the Fn
// signature below.
#include "ops/matmul/unpack_legacy.h"
#include "ops/matmul/unpack_kquants.h"
#include "ops/matmul/unpack_iq.h"
#include "ops/matmul/unpack_ik.h"

using Fn = void (*)(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float* mw16);

struct Entry {
  Fn fn;
  Traits traits;
};

// nullptr fn: not an int8 type.
static constexpr Entry entry(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_0: return {q4_0, {false, false}};
    case GgmlType::Q4_1: return {q4_1, {false, true}};
    case GgmlType::Q5_0: return {q5_0, {false, false}};
    case GgmlType::Q5_1: return {q5_1, {false, true}};
    case GgmlType::Q8_0: return {q8_0, {false, false}};
    case GgmlType::IQ4_NL: return {iq4_nl, {false, false}};
    case GgmlType::Q2_K: return {q2_k, {true, true, true}};
    case GgmlType::Q3_K: return {q3_k, {true, false, true}};
    case GgmlType::Q4_K: return {q4_k, {false, true}};
    case GgmlType::Q5_K: return {q5_k, {false, true}};
    case GgmlType::Q6_K: return {q6_k, {true, false}};
    case GgmlType::IQ4_XS: return {iq4_xs, {true, false, true, true}};
    case GgmlType::IQ4_K: return {iq4_k, {true, false, true}};
    case GgmlType::IQ4_KS: return {iq4_ks, {true, false, true, true}};
    case GgmlType::Q6_0: return {q6_0, {false, false}};
    case GgmlType::IQ2_K: return {iq2_k, {true, false, true}};
    case GgmlType::IQ3_K: return {iq3_k, {true, false, true}};
    case GgmlType::IQ5_K: return {iq5_k, {true, false, true}};
    case GgmlType::IQ6_K: return {iq6_k, {true, false, true}};
    case GgmlType::IQ5_KS: return {iq5_ks, {true, false, true, true}};
    case GgmlType::IQ4_KSS: return {iq4_kss, {true, false, true, true}};
    case GgmlType::IQ2_KS: return {iq2_ks, {true, false, true, true}};
    case GgmlType::IQ3_KS: return {iq3_ks, {true, false, true, true}};
    case GgmlType::IQ2_KL: return {iq2_kl, {true, false, true, true}};
    case GgmlType::IQ2_XXS: return {iq2_xxs, {true, false, true, true}};
    case GgmlType::IQ2_XS: return {iq2_xs, {true, false, true}};
    case GgmlType::IQ2_S: return {iq2_s, {true, false, true}};
    case GgmlType::IQ3_XXS: return {iq3_xxs, {true, false, true, true}};
    case GgmlType::IQ3_S: return {iq3_s, {true, false, true, true}};
    case GgmlType::IQ1_S: return {iq1_s, {true, false, true, true}};
    case GgmlType::IQ1_M: return {iq1_m, {true, false, true}};
    case GgmlType::MXFP4: return {mxfp4, {false, false}};
    default: return {nullptr, {false, false}};
  }
}

// Scratch for one unpacked row of K (all four arrays, 64-byte aligned pieces).
static inline size_t row_bytes_unpacked(int64_t K) {
  auto a64 = [](size_t n) { return (n + 63) & ~size_t(63); };
  const size_t k = size_t(K);
  return a64(k) + a64(k / 32 * 4) + a64(k / 16 * 2) + a64(k / 16 * 4);
}

struct Row {
  int8_t* q;
  float* dw;
  int16_t* s16;
  float* mw16;
};

// Carves a Row out of `buf` (64-byte aligned, row_bytes_unpacked(K) long).
static inline Row carve(uint8_t* buf, int64_t K) {
  auto a64 = [](size_t n) { return (n + 63) & ~size_t(63); };
  const size_t k = size_t(K);
  Row r;
  r.q = reinterpret_cast<int8_t*>(buf);
  r.dw = reinterpret_cast<float*>(buf + a64(k));
  r.s16 = reinterpret_cast<int16_t*>(buf + a64(k) + a64(k / 32 * 4));
  r.mw16 = reinterpret_cast<float*>(buf + a64(k) + a64(k / 32 * 4) + a64(k / 16 * 2));
  return r;
}

}  // namespace dllm::unpack
