// AVX2 + FMA + F16C kernels (this file alone is compiled with those flags;
// matmul.cpp picks it at run time by CPUID). The int8 kernels are shared with
// the AVX-512 file (matmul_simd_impl.h); here the u8 x s8 dot is maddubs +
// madd, which cannot saturate for |w| <= 128, |a| <= 127.
#include <immintrin.h>

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

#include "ops/matmul_simd_impl.h"

// --- F32 / F16 / BF16 -----------------------------------------------------------

template <GgmlType T>
inline __m256 load8(const uint8_t* row, int64_t k) {
  if constexpr (T == GgmlType::F32) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + k);
  } else if constexpr (T == GgmlType::F16) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * k)));
  } else {
    const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * k)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
  }
}

template <GgmlType T>
inline float load1(const uint8_t* row, int64_t k) {
  if constexpr (T == GgmlType::F32) {
    float f;
    std::memcpy(&f, row + 4 * k, 4);
    return f;
  } else if constexpr (T == GgmlType::F16) {
    return f16_at(row + 2 * k);
  } else {
    uint16_t h;
    std::memcpy(&h, row + 2 * k, 2);
    const uint32_t u = uint32_t(h) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
}

template <GgmlType T>
struct FloatKernel {
  template <int NT, int MT>
  void tile(const Task& t, int64_t n, int64_t m) const {
    const WeightView& W = *t.W;
    const int64_t K = W.cols;
    const uint8_t* w[NT];
    const float* x[MT];
    for (int r = 0; r < NT; ++r) w[r] = W.data + size_t(n + r) * W.row_stride;
    for (int j = 0; j < MT; ++j) x[j] = t.A->x_row(m + j);
    __m256 acc[NT][MT];
    for (int r = 0; r < NT; ++r)
      for (int j = 0; j < MT; ++j) acc[r][j] = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 8 <= K; k += 8) {
      __m256 xv[MT];
      for (int j = 0; j < MT; ++j) xv[j] = _mm256_loadu_ps(x[j] + k);
      for (int r = 0; r < NT; ++r) {
        prefetch(w[r] + NT * W.row_stride + k * (T == GgmlType::F32 ? 4 : 2));
        const __m256 wv = load8<T>(w[r], k);
        for (int j = 0; j < MT; ++j) acc[r][j] = _mm256_fmadd_ps(wv, xv[j], acc[r][j]);
      }
    }
    for (int r = 0; r < NT; ++r)
      for (int j = 0; j < MT; ++j) {
        float s = hsum(acc[r][j]);
        for (int64_t kk = k; kk < K; ++kk) s += load1<T>(w[r], kk) * x[j][kk];
        t.Y[(m + j) * t.ldy + n + r] = s;
      }
  }
};

template <class Kernel, int NTP>
void rows_direct(const Task& t, int64_t n0, int64_t n1, int64_t m0, int64_t m1, uint8_t*) {
  drive<NTP>(t, n0, n1, m0, m1, Kernel{});
}

}  // namespace

RowsFn avx2_rows(GgmlType t) {
  switch (t) {
    case GgmlType::F32: return rows_direct<FloatKernel<GgmlType::F32>, 2>;
    case GgmlType::F16: return rows_direct<FloatKernel<GgmlType::F16>, 2>;
    case GgmlType::BF16: return rows_direct<FloatKernel<GgmlType::BF16>, 2>;
    case GgmlType::Q8_0: return rows_direct<Q8_0Kernel, 2>;
    case GgmlType::Q4_0: return rows_unpacked<GgmlType::Q4_0, 4>;
    case GgmlType::Q4_1: return rows_unpacked<GgmlType::Q4_1, 4>;
    case GgmlType::Q5_0: return rows_unpacked<GgmlType::Q5_0, 4>;
    case GgmlType::Q5_1: return rows_unpacked<GgmlType::Q5_1, 4>;
    case GgmlType::IQ4_NL: return rows_unpacked<GgmlType::IQ4_NL, 4>;
    case GgmlType::Q2_K: return rows_unpacked<GgmlType::Q2_K, 4>;
    case GgmlType::Q3_K: return rows_unpacked<GgmlType::Q3_K, 4>;
    case GgmlType::Q4_K: return rows_direct<Q4_KKernel, 1>;
    case GgmlType::Q5_K: return rows_direct<Q5_KKernel, 1>;
    case GgmlType::Q6_K: return rows_direct<Q6_KKernel, 1>;
    case GgmlType::IQ4_XS: return rows_unpacked<GgmlType::IQ4_XS, 4>;
    case GgmlType::IQ4_K: return rows_unpacked<GgmlType::IQ4_K, 4>;
    case GgmlType::IQ4_KS: return rows_unpacked<GgmlType::IQ4_KS, 4>;
    default: return nullptr;
  }
}

}  // namespace dllm::mm
