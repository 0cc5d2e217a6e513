// AVX2 + FMA + F16C kernels (this file alone is compiled with those flags;
// matmul.cpp picks it at run time by CPUID). The int8 kernels are shared with
// the AVX-512 file (matmul_simd_impl.h); here the u8 x s8 dot is maddubs +
// madd, which cannot saturate for |w| <= 128, |a| <= 127.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "ops/matmul_kernels.h"
#include "ops/matmul_unpack.h"

namespace dllm::mm {

namespace {

struct Dot {
  static __m256i dot(__m256i u8, __m256i s8) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u8, s8), _mm256_set1_epi16(1));
  }
};

// Float vectors for the F32 / F16 / BF16 kernel of matmul_simd_impl.h.
struct FVec {
  using T = __m256;
  static constexpr int W = 8;
  static T zero() { return _mm256_setzero_ps(); }
  static T load(const float* p) { return _mm256_loadu_ps(p); }
  static float sum(T v);  // defined below, after the shared helpers
  static T fmadd(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  static T load_f16(const uint8_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static T load_bf16(const uint8_t* p) {
    const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
  }
};

#include "ops/matmul_simd_impl.h"
#include "ops/matmul_panels_avx2.h"

inline float FVec::sum(T v) { return hsum(v); }

template <class Kernel, int NTP>
void rows_direct(const Task& t, int64_t n0, int64_t n1, int64_t m0, int64_t m1, uint8_t*) {
  drive<NTP>(t, n0, n1, m0, m1, Kernel{});
}

// F32 / F16 / BF16. Decode (few activation rows): tiles of 4 weight rows
// read in place. Prefill: panels of 16 weight rows (converted to f32 once,
// F32 read in place) swept by tiles of 4 weight x 3 activation rows, so that
// the activations stream once per panel instead of once per weight row pair.
// Both compute every output with FloatKernel's order, hence the same bits.
template <GgmlType T>
void rows_float(const Task& t, int64_t n0, int64_t n1, int64_t m0, int64_t m1, uint8_t* tmp) {
  if (m1 - m0 < 4) {
    drive<2>(t, n0, n1, m0, m1, FloatKernel<T>{});
    return;
  }
  const WeightView& W = *t.W;
  const int64_t K = W.cols;
  constexpr int64_t kPanel = 16;
  const FloatKernel<GgmlType::F32> k;
  for (int64_t n = n0; n < n1; n += kPanel) {
    const int64_t nr = std::min(kPanel, n1 - n);
    WeightView P;
    P.type = GgmlType::F32;
    P.cols = K;
    P.rows = nr;
    if constexpr (T == GgmlType::F32) {
      P.data = W.data + size_t(n) * W.row_stride;
      P.row_stride = W.row_stride;
    } else {
      float* f = reinterpret_cast<float*>(tmp);
      for (int64_t r = 0; r < nr; ++r) {
        const uint8_t* row = W.data + size_t(n + r) * W.row_stride;
        float* d = f + r * K;
        int64_t i = 0;
        for (; i + 8 <= K; i += 8) _mm256_storeu_ps(d + i, load_weights<T>(row, i));
        for (; i < K; ++i) d[i] = load1<T>(row, i);
      }
      P.data = tmp;
      P.row_stride = size_t(K) * 4;
    }
    const Task tp{&P, t.A, t.Y + n, t.ldy};
    int64_t m = m0;
    for (; m + 3 <= m1; m += 3) {
      int64_t r = 0;
      for (; r + 4 <= nr; r += 4) k.tile<4, 3>(tp, r, m);
      for (; r < nr; ++r) k.tile<1, 3>(tp, r, m);
    }
    for (; m < m1; ++m) {
      int64_t r = 0;
      for (; r + 4 <= nr; r += 4) k.tile<4, 1>(tp, r, m);
      for (; r < nr; ++r) k.tile<1, 1>(tp, r, m);
    }
  }
}

}  // namespace

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
    default: return nullptr;
  }
}

}  // namespace dllm::mm
