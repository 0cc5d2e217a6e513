// Portable kernels: plain C++ for every supported type, the fallback on CPUs
// without AVX2 and the first thing the SIMD sets are checked against.
#include <cmath>
#include <cstring>

#include "ops/matmul/kernels.h"
#include "ops/matmul/unpack.h"
#include "util/fp16.h"

namespace dllm::mm {

namespace {

float dot_f32(const float* a, const float* b, int64_t K) {
  float s = 0.0f;
  for (int64_t k = 0; k < K; ++k) s += a[k] * b[k];
  return s;
}

// F32 / F16 / BF16 weights: (decode the row to f32 once,) then dot with every
// activation row (already rounded to bf16 for BF16 weights).
void rows_float(const Task& t, int64_t n0, int64_t n1, int64_t m0, int64_t m1, uint8_t* tmp) {
  const WeightView& W = *t.W;
  const ActRows& A = *t.A;
  float* wf = reinterpret_cast<float*>(tmp);
  for (int64_t n = n0; n < n1; ++n) {
    const uint8_t* row = W.data + size_t(n) * W.row_stride;
    const float* w = wf;
    if (W.type == GgmlType::F32 && reinterpret_cast<uintptr_t>(row) % alignof(float) == 0) {
      w = reinterpret_cast<const float*>(row);
    } else if (W.type == GgmlType::F32) {
      std::memcpy(wf, row, size_t(W.cols) * 4);
    } else {
      for (int64_t k = 0; k < W.cols; ++k) {
        uint16_t h;
        std::memcpy(&h, row + 2 * k, 2);
        wf[k] = W.type == GgmlType::F16 ? f16_to_f32(h) : bf16_to_f32(h);
      }
    }
    for (int64_t m = m0; m < m1; ++m) t.Y[m * t.ldy + n] = dot_f32(w, A.x_row(m), W.cols);
  }
}

// The canonical order of every int8 kernel (panels_avx2.h): per 32-block
// an exact integer dot, then fmas into accumulator b % 8, summed by a fixed tree.
// Mins per 32-block (both halves share one) take one fma with dsum32.
// Super-block types (Traits::sb): per 256-chunk c the exact integer sum of its
// 8 blocks, then one fma into accumulator c % 8; with mins (Q2_K) a second:
// the chunk's integer sum of mins times activation quant sums, times -dmin.
float udot(const unpack::Row& u, unpack::Traits tr, const ActRows& A, int64_t m) {
  const int64_t K = A.K;
  const int8_t* a = A.qs_row(m);
  const float* da = A.d_row(m);
  const float* ds32 = A.dsum32_row(m);
  float P[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  auto block_isum = [&](int64_t b) {
    const int8_t* q = u.q + 32 * b;
    const int8_t* ab = a + 32 * b;
    int lo = 0, hi = 0;
    for (int i = 0; i < 16; ++i) lo += int(q[i]) * int(ab[i]);
    for (int i = 16; i < 32; ++i) hi += int(q[i]) * int(ab[i]);
    return tr.s16 ? int(u.s16[2 * b]) * lo + int(u.s16[2 * b + 1]) * hi : lo + hi;
  };
  if (tr.sb) {
    for (int64_t c = 0; c < K / 256; ++c) {
      int32_t isum = 0;  // exact: |q| <= 128, |a| <= 127 and |s16| <= 512 keep it below 2^31
      for (int64_t b = 8 * c; b < 8 * c + 8; ++b) isum += block_isum(b);
      P[c % 8] = std::fma(float(isum), u.dw[8 * c] * da[8 * c], P[c % 8]);
      if (tr.mins) {  // exact too: 16 * 15 * 16 * 127 < 2^24
        int32_t imin = 0;
        for (int64_t g = 16 * c; g < 16 * c + 16; ++g) imin += int32_t(u.mw16[g]) * A.sum16_row(m)[g];
        P[c % 8] = std::fma(float(imin), u.dw[8 * c + 4] * da[8 * c], P[c % 8]);
      }
    }
    return ((P[0] + P[4]) + (P[2] + P[6])) + ((P[1] + P[5]) + (P[3] + P[7]));
  }
  for (int64_t b = 0; b < K / 32; ++b) {
    const int isum = block_isum(b);
    float& acc = P[b % 8];
    acc = std::fma(float(isum), u.dw[b] * da[b], acc);
    if (tr.mins) acc = std::fma(u.mw16[2 * b], ds32[b], acc);
  }
  return ((P[0] + P[4]) + (P[2] + P[6])) + ((P[1] + P[5]) + (P[3] + P[7]));
}

template <GgmlType T>
void rows_int8(const Task& t, int64_t n0, int64_t n1, int64_t m0, int64_t m1, uint8_t* tmp) {
  const WeightView& W = *t.W;
  const unpack::Entry e = unpack::entry(T);
  const unpack::Row u = unpack::carve(tmp, W.cols);
  for (int64_t n = n0; n < n1; ++n) {
    e.fn(W.data + size_t(n) * W.row_stride, W.cols, u.q, u.dw, u.s16, u.mw16);
    for (int64_t m = m0; m < m1; ++m) t.Y[m * t.ldy + n] = udot(u, e.traits, *t.A, m);
  }
}

}  // namespace

size_t thread_tmp_bytes(int64_t K) {
  // An unpacked int8 row, or a row decoded to f32, with room to spare for the
  // SIMD sets (several rows at once).
  // (The AVX2 set: a panel of 8 unpacked and interleaved int8 rows, or 16
  // rows converted to f32.)
  const size_t a = unpack::row_bytes_unpacked(K), f = size_t(K) * 4;
  return 32 * (a > f ? a : f) + (32 << 10);  // + the f32 prefill accumulators (48 x 16 vectors)
}

RowsFn portable_rows(GgmlType t) {
  switch (t) {
    case GgmlType::F32:
    case GgmlType::F16:
    case GgmlType::BF16: return rows_float;
    case GgmlType::Q4_0: return rows_int8<GgmlType::Q4_0>;
    case GgmlType::Q4_1: return rows_int8<GgmlType::Q4_1>;
    case GgmlType::Q5_0: return rows_int8<GgmlType::Q5_0>;
    case GgmlType::Q5_1: return rows_int8<GgmlType::Q5_1>;
    case GgmlType::Q8_0: return rows_int8<GgmlType::Q8_0>;
    case GgmlType::IQ4_NL: return rows_int8<GgmlType::IQ4_NL>;
    case GgmlType::Q2_K: return rows_int8<GgmlType::Q2_K>;
    case GgmlType::Q3_K: return rows_int8<GgmlType::Q3_K>;
    case GgmlType::Q4_K: return rows_int8<GgmlType::Q4_K>;
    case GgmlType::Q5_K: return rows_int8<GgmlType::Q5_K>;
    case GgmlType::Q6_K: return rows_int8<GgmlType::Q6_K>;
    case GgmlType::IQ4_XS: return rows_int8<GgmlType::IQ4_XS>;
    case GgmlType::IQ4_K: return rows_int8<GgmlType::IQ4_K>;
    case GgmlType::IQ4_KS: return rows_int8<GgmlType::IQ4_KS>;
    case GgmlType::Q6_0: return rows_int8<GgmlType::Q6_0>;
    case GgmlType::IQ2_K: return rows_int8<GgmlType::IQ2_K>;
    case GgmlType::IQ3_K: return rows_int8<GgmlType::IQ3_K>;
    case GgmlType::IQ5_K: return rows_int8<GgmlType::IQ5_K>;
    case GgmlType::IQ6_K: return rows_int8<GgmlType::IQ6_K>;
    case GgmlType::IQ2_KS: return rows_int8<GgmlType::IQ2_KS>;
    case GgmlType::IQ3_KS: return rows_int8<GgmlType::IQ3_KS>;
    case GgmlType::IQ5_KS: return rows_int8<GgmlType::IQ5_KS>;
    case GgmlType::IQ4_KSS: return rows_int8<GgmlType::IQ4_KSS>;
    case GgmlType::IQ2_KL: return rows_int8<GgmlType::IQ2_KL>;
    case GgmlType::IQ2_XXS: return rows_int8<GgmlType::IQ2_XXS>;
    case GgmlType::IQ2_XS: return rows_int8<GgmlType::IQ2_XS>;
    case GgmlType::IQ2_S: return rows_int8<GgmlType::IQ2_S>;
    case GgmlType::IQ3_XXS: return rows_int8<GgmlType::IQ3_XXS>;
    case GgmlType::IQ3_S: return rows_int8<GgmlType::IQ3_S>;
    case GgmlType::IQ1_S: return rows_int8<GgmlType::IQ1_S>;
    case GgmlType::IQ1_M: return rows_int8<GgmlType::IQ1_M>;
    case GgmlType::MXFP4: return rows_int8<GgmlType::MXFP4>;
    default: return nullptr;
  }
}

}  // namespace dllm::mm
