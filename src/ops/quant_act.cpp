#include "ops/quant_act.h"

#include <cmath>
#include <cstring>

#include "ops/quant_act_simd.h"
#include "util/cpu.h"
#include "util/error.h"
#include "util/fp16.h"

namespace dllm {

ActKind act_kind(GgmlType t) {
  switch (t) {
    case GgmlType::F32:
    case GgmlType::F16:
      return ActKind::F32;
    case GgmlType::BF16:
      return ActKind::BF16;
    case GgmlType::Q2_K:
    case GgmlType::Q3_K:
    case GgmlType::IQ4_XS:
    case GgmlType::IQ4_K:
    case GgmlType::IQ4_KS:
    case GgmlType::IQ4_KSS:
    case GgmlType::IQ5_K:
    case GgmlType::IQ5_KS:
    case GgmlType::IQ6_K:
    case GgmlType::IQ2_K:
    case GgmlType::IQ2_KS:
    case GgmlType::IQ3_K:
    case GgmlType::IQ3_KS:
    case GgmlType::IQ2_KL:
    // mainline's codebook types: vec_dot_type Q8_K in the reference's type
    // table, and its iqk kernels for them take Q8_K too (MXFP4 takes
    // Q8_2_X4, i.e. Q8_32, below)
    case GgmlType::IQ2_XXS:
    case GgmlType::IQ2_XS:
    case GgmlType::IQ2_S:
    case GgmlType::IQ3_XXS:
    case GgmlType::IQ3_S:
    case GgmlType::IQ1_S:
    case GgmlType::IQ1_M:
      return ActKind::Q8_K;
    default:
      return ActKind::Q8_32;
  }
}

namespace {

// Round half to even for |v| < 2^22 under the default rounding mode: adding
// 1.5*2^23 leaves no fraction bits, so the FPU rounds (to even) for us. Same
// result as nearbyintf / _mm256_round_ps(v, NEAREST), and it vectorizes.
inline float rne(float v) {
  constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23
  return (v + kMagic) - kMagic;
}

// x*scale -> int8 in [-127, 127]; NaN -> 0 (never UB). Plain compares so
// that the loops vectorize.
inline int8_t to_q8(float v) {
  v = rne(v);
  v = v > 127.0f ? 127.0f : v;
  v = v < -127.0f ? -127.0f : v;
  v = v == v ? v : 0.0f;
  return static_cast<int8_t>(static_cast<int>(v));
}

// max |x| through the bit patterns: for non-negative floats they order like
// int32, which vectorizes (a float max with NaN semantics does not). A NaN
// input yields a NaN scale, and every quant of that block becomes 0.
inline float abs_max(const float* x, int n) {
  int32_t m = 0;
  for (int i = 0; i < n; ++i) {
    uint32_t u;
    std::memcpy(&u, x + i, 4);
    const int32_t a = static_cast<int32_t>(u & 0x7fffffffu);
    m = a > m ? a : m;
  }
  float f;
  std::memcpy(&f, &m, 4);
  return f;
}

void sums16(const int8_t* qs, int64_t K, const float* d, int16_t* sum16, float* dsum16) {
  for (int64_t g = 0; g < K / 16; ++g) {
    int16_t s = 0;  // |sum| <= 16 * 127: int16 is exact, and vectorizes
    for (int i = 0; i < 16; ++i) s = int16_t(s + qs[16 * g + i]);
    sum16[g] = s;
    dsum16[g] = d[g / 2] * float(s);
  }
}

size_t align64(size_t n) { return (n + 63) & ~size_t(63); }

struct Layout {
  size_t qs = 0, d = 0, sum16 = 0, dsum16 = 0, dsum32 = 0, sum32 = 0, x = 0, total = 0;
};

Layout layout(ActKind kind, int64_t M, int64_t K) {
  Layout l;
  const size_t m = size_t(M), k = size_t(K);
  if (kind == ActKind::BF16) {
    l.x = 0;
    l.total = align64(m * k * 4);
  } else if (kind == ActKind::Q8_32 || kind == ActKind::Q8_K) {
    l.qs = 0;
    l.d = align64(m * k);
    l.sum16 = l.d + align64(m * (k / 32) * 4);
    l.dsum16 = l.sum16 + align64(m * (k / 16) * 2);
    l.dsum32 = l.dsum16 + align64(m * (k / 16) * 4);
    l.sum32 = l.dsum32 + align64(m * (k / 32) * 4);
    l.total = l.sum32 + align64(m * (k / 32) * 4);
  }
  return l;
}

}  // namespace

void quantize_act_q8_32(const float* x, int64_t K, int8_t* qs, float* d, int16_t* sum16,
                        float* dsum16) {
  for (int64_t b = 0; b < K / 32; ++b) {
    const float* xb = x + 32 * b;
    const float amax = abs_max(xb, 32);
    // The scale is rounded to bf16 first; the quants use its exact inverse.
    const float db = round_bf16(amax / 127.0f);
    const float id = db != 0.0f ? 1.0f / db : 0.0f;
    d[b] = db;
    for (int i = 0; i < 32; ++i) qs[32 * b + i] = to_q8(xb[i] * id);
  }
  sums16(qs, K, d, sum16, dsum16);
}

void quantize_act_q8_k(const float* x, int64_t K, int8_t* qs, float* d, int16_t* sum16,
                       float* dsum16) {
  for (int64_t sb = 0; sb < K / 256; ++sb) {
    const float* xb = x + 256 * sb;
    const float amax = abs_max(xb, 256);
    const float dd = amax / 127.0f;
    const float iscale = amax != 0.0f ? 127.0f / amax : 0.0f;
    for (int j = 0; j < 8; ++j) d[8 * sb + j] = dd;
    for (int i = 0; i < 256; ++i) qs[256 * sb + i] = to_q8(xb[i] * iscale);
  }
  sums16(qs, K, d, sum16, dsum16);
}

size_t act_scratch_bytes(ActKind kind, int64_t M, int64_t K) { return layout(kind, M, K).total + 64; }

ActRows prepare_activations(ActKind kind, const float* X, int64_t M, int64_t K, int64_t ldx,
                            uint8_t* scratch, int64_t m_begin, int64_t m_end) {
  ActRows a;
  a.kind = kind;
  a.M = M;
  a.K = K;
  if (kind == ActKind::F32) {
    a.x = X;
    a.ldx = ldx;
    return a;
  }
  uint8_t* base = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(scratch) + 63) & ~uintptr_t(63));
  const Layout l = layout(kind, M, K);
  if (kind == ActKind::BF16) {
    float* xr = reinterpret_cast<float*>(base + l.x);
    for (int64_t m = m_begin; m < m_end; ++m)
      for (int64_t k = 0; k < K; ++k) xr[m * K + k] = round_bf16(X[m * ldx + k]);
    a.x = xr;
    a.ldx = K;
    return a;
  }
  const int64_t block = kind == ActKind::Q8_K ? 256 : 32;
  if (K % block != 0) fail("matmul: activation length ", K, " is not a multiple of ", block);
  int8_t* qs = reinterpret_cast<int8_t*>(base + l.qs);
  float* d = reinterpret_cast<float*>(base + l.d);
  int16_t* s16 = reinterpret_cast<int16_t*>(base + l.sum16);
  float* ds16 = reinterpret_cast<float*>(base + l.dsum16);
  float* ds32 = reinterpret_cast<float*>(base + l.dsum32);
  int32_t* s32 = reinterpret_cast<int32_t*>(base + l.sum32);
  using QuantFn = void (*)(const float*, int64_t, int8_t*, float*, int16_t*, float*);
  const bool avx2 = cpu_features().avx2;
  const QuantFn quant = kind == ActKind::Q8_K ? (avx2 ? simd::quantize_act_q8_k_avx2 : quantize_act_q8_k)
                                              : (avx2 ? simd::quantize_act_q8_32_avx2 : quantize_act_q8_32);
  for (int64_t m = m_begin; m < m_end; ++m) {
    const size_t o32 = size_t(m * (K / 32)), o16 = size_t(m * (K / 16));
    quant(X + m * ldx, K, qs + m * K, d + o32, s16 + o16, ds16 + o16);
    for (int64_t b = 0; b < K / 32; ++b) {
      s32[o32 + b] = int32_t(s16[o16 + 2 * b]) + int32_t(s16[o16 + 2 * b + 1]);
      ds32[o32 + b] = d[o32 + b] * float(s32[o32 + b]);
    }
  }
  a.qs = qs;
  a.d = d;
  a.sum16 = s16;
  a.dsum16 = ds16;
  a.dsum32 = ds32;
  a.sum32 = s32;
  return a;
}

}  // namespace dllm
