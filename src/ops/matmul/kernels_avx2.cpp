// AVX2 + FMA + F16C kernels (this file alone is compiled with those flags;
// matmul.cpp picks it at run time by CPUID). The int8 kernels are in
// panels_avx2.h; the block decoders and the float kernel are shared
// with the AVX-512 file (simd_impl.h).
#include <immintrin.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <utility>

#include "ops/matmul/kernels.h"
#include "ops/matmul/unpack.h"

namespace dllm::mm {

namespace {

// Float vectors for the F32 / F16 / BF16 kernel of simd_impl.h.
struct FVec {
  using T = __m256;
  static constexpr int W = 8;
  static T zero() { return _mm256_setzero_ps(); }
  static T load(const float* p) { return _mm256_loadu_ps(p); }
  static float sum(T v);  // defined below, after the shared helpers
  static void sum16(const T v[16], float out[16]) {
    for (int i = 0; i < 16; ++i) out[i] = sum(v[i]);
  }
  static T fmadd(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  static T load_f16(const uint8_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static T load_bf16(const uint8_t* p) {
    const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
  }
};

#include "ops/matmul/simd_impl.h"
#include "ops/matmul/panels_avx2.h"

inline float FVec::sum(T v) { return hsum(v); }

// F32 / F16 / BF16. Decode (few activation rows): tiles of 4 weight rows
// read in place (FloatKernel). Prefill: panels of 16 weight rows converted to
// f32 once, stored column chunk by column chunk (256 columns, the 16 rows of a
// chunk contiguous: rows a power-of-two apart would share L1 sets and evict
// each other), swept over groups of 48 activation rows, with tiles of 4 weight
// x 3 activation rows whose accumulators persist in an L1 buffer between
// column chunks. Every output's lane l still accumulates k = l, l+8, ... in
// order, then hsum, then the tail with fma: FloatKernel's bits.
template <int NT, int MT>
inline void float_micro(const float* w, int64_t ldw, const float* x, int64_t ldx, int64_t len, __m256* acc,
                        int64_t acc_ld) {
  __m256 c[NT][MT];
  for (int r = 0; r < NT; ++r)
    for (int j = 0; j < MT; ++j) c[r][j] = acc[j * acc_ld + r];
  for (int64_t k = 0; k < len; k += 8) {
    __m256 xv[MT];
    for (int j = 0; j < MT; ++j) xv[j] = _mm256_loadu_ps(x + j * ldx + k);
    for (int r = 0; r < NT; ++r) {
      const __m256 wv = _mm256_load_ps(w + r * ldw + k);
      for (int j = 0; j < MT; ++j) c[r][j] = _mm256_fmadd_ps(wv, xv[j], c[r][j]);
    }
  }
  for (int r = 0; r < NT; ++r)
    for (int j = 0; j < MT; ++j) acc[j * acc_ld + r] = c[r][j];
}

template <GgmlType T>
void rows_float(const Task& t, int64_t n0, int64_t n1, int64_t m0, int64_t m1, uint8_t* tmp) {
  if (m1 - m0 < 4) {
    drive<2>(t, n0, n1, m0, m1, FloatKernel<T>{});
    return;
  }
  const WeightView& W = *t.W;
  const ActRows& A = *t.A;
  const int64_t K = W.cols, K8 = K / 8 * 8;
  constexpr int64_t kPanel = 16, kMc = 48, kKc = 256;
  // Chunk c holds columns [c*kc, c*kc + kc) of the panel's rows, row r at r*kc.
  const int64_t kc = std::min(kKc, K8), nchunks = kc ? (K8 + kc - 1) / kc : 0;
  float* panel = reinterpret_cast<float*>(tmp);  // thread_tmp_bytes leaves room for 16 x (K8 + kc)
  __m256* accbuf =
      reinterpret_cast<__m256*>(tmp + ((size_t(kPanel * nchunks * kc) * 4 + 63) & ~size_t(63)));
  for (int64_t n = n0; n < n1; n += kPanel) {
    const int64_t nr = std::min(kPanel, n1 - n);
    for (int64_t r = 0; r < nr; ++r) {
      const uint8_t* row = W.data + size_t(n + r) * W.row_stride;
      for (int64_t i = 0; i < K8; i += 8)
        _mm256_store_ps(panel + (i / kc) * kPanel * kc + r * kc + i % kc, load_weights<T>(row, i));
    }
    for (int64_t mc = m0; mc < m1; mc += kMc) {
      const int64_t me = std::min(mc + kMc, m1);
      for (int64_t i = 0; i < (me - mc) * kPanel; ++i) accbuf[i] = _mm256_setzero_ps();
      for (int64_t c = 0; c < nchunks; ++c) {
        const int64_t k0 = c * kc, len = std::min(kc, K8 - k0);
        const float* w = panel + c * kPanel * kc;
        int64_t m = mc;
        for (; m + 3 <= me; m += 3) {
          const float* x = A.x_row(m) + k0;
          __m256* acc = accbuf + (m - mc) * kPanel;
          int64_t r = 0;
          for (; r + 4 <= nr; r += 4) float_micro<4, 3>(w + r * kc, kc, x, A.ldx, len, acc + r, kPanel);
          for (; r < nr; ++r) float_micro<1, 3>(w + r * kc, kc, x, A.ldx, len, acc + r, kPanel);
        }
        for (; m < me; ++m) {
          const float* x = A.x_row(m) + k0;
          __m256* acc = accbuf + (m - mc) * kPanel;
          int64_t r = 0;
          for (; r + 4 <= nr; r += 4) float_micro<4, 1>(w + r * kc, kc, x, A.ldx, len, acc + r, kPanel);
          for (; r < nr; ++r) float_micro<1, 1>(w + r * kc, kc, x, A.ldx, len, acc + r, kPanel);
        }
      }
      for (int64_t m = mc; m < me; ++m) {
        const float* x = A.x_row(m);
        for (int64_t r = 0; r < nr; ++r) {
          float s = hsum(accbuf[(m - mc) * kPanel + r]);
          const uint8_t* row = W.data + size_t(n + r) * W.row_stride;
          for (int64_t k = K8; k < K; ++k) s = std::fma(load1<T>(row, k), x[k], s);
          t.Y[m * t.ldy + n + r] = s;
        }
      }
    }
  }
}

}  // namespace

UnpackRowFn avx2_unpacker(GgmlType t) { return fast_unpack_of(t); }

RowsFn avx2_rows(GgmlType t) {
  switch (t) {
    case GgmlType::F32: return rows_float<GgmlType::F32>;
    case GgmlType::F16: return rows_float<GgmlType::F16>;
    case GgmlType::BF16: return rows_float<GgmlType::BF16>;
    case GgmlType::Q8_0: return pnl::rows_auto<GgmlType::Q8_0>;
    case GgmlType::Q4_0: return pnl::rows_auto<GgmlType::Q4_0>;
    case GgmlType::Q4_1: return pnl::rows_auto<GgmlType::Q4_1>;
    case GgmlType::Q5_0: return pnl::rows_auto<GgmlType::Q5_0>;
    case GgmlType::Q5_1: return pnl::rows_auto<GgmlType::Q5_1>;
    case GgmlType::IQ4_NL: return pnl::rows_auto<GgmlType::IQ4_NL>;
    case GgmlType::Q2_K: return pnl::rows_auto<GgmlType::Q2_K>;
    case GgmlType::Q3_K: return pnl::rows_auto<GgmlType::Q3_K>;
    case GgmlType::Q4_K: return pnl::rows_auto<GgmlType::Q4_K>;
    case GgmlType::Q5_K: return pnl::rows_auto<GgmlType::Q5_K>;
    case GgmlType::Q6_K: return pnl::rows_auto<GgmlType::Q6_K>;
    case GgmlType::IQ4_XS: return pnl::rows_auto<GgmlType::IQ4_XS>;
    case GgmlType::IQ4_K: return pnl::rows_auto<GgmlType::IQ4_K>;
    case GgmlType::IQ4_KS: return pnl::rows_auto<GgmlType::IQ4_KS>;
    case GgmlType::Q6_0: return pnl::rows_auto<GgmlType::Q6_0>;
    case GgmlType::IQ2_K: return pnl::rows_auto<GgmlType::IQ2_K>;
    case GgmlType::IQ3_K: return pnl::rows_auto<GgmlType::IQ3_K>;
    case GgmlType::IQ5_K: return pnl::rows_auto<GgmlType::IQ5_K>;
    case GgmlType::IQ6_K: return pnl::rows_auto<GgmlType::IQ6_K>;
    case GgmlType::IQ2_KS: return pnl::rows_auto<GgmlType::IQ2_KS>;
    case GgmlType::IQ3_KS: return pnl::rows_auto<GgmlType::IQ3_KS>;
    case GgmlType::IQ5_KS: return pnl::rows_auto<GgmlType::IQ5_KS>;
    case GgmlType::IQ4_KSS: return pnl::rows_auto<GgmlType::IQ4_KSS>;
    case GgmlType::IQ2_KL: return pnl::rows_auto<GgmlType::IQ2_KL>;
    case GgmlType::IQ2_XXS: return pnl::rows_auto<GgmlType::IQ2_XXS>;
    case GgmlType::IQ2_XS: return pnl::rows_auto<GgmlType::IQ2_XS>;
    case GgmlType::IQ2_S: return pnl::rows_auto<GgmlType::IQ2_S>;
    case GgmlType::IQ3_XXS: return pnl::rows_auto<GgmlType::IQ3_XXS>;
    case GgmlType::IQ3_S: return pnl::rows_auto<GgmlType::IQ3_S>;
    case GgmlType::IQ1_S: return pnl::rows_auto<GgmlType::IQ1_S>;
    case GgmlType::IQ1_M: return pnl::rows_auto<GgmlType::IQ1_M>;
    case GgmlType::MXFP4: return pnl::rows_auto<GgmlType::MXFP4>;
    default: return nullptr;
  }
}

}  // namespace dllm::mm
