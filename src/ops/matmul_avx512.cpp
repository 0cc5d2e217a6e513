// AVX-512 (F/BW/VL/DQ) + VNNI kernels (this file alone is compiled with those
// flags; matmul.cpp picks it when CPUID reports AVX-512 VNNI). Int8 blocks use
// 256-bit vpdpbusd through the kernels shared with the AVX2 file
// (matmul_simd_impl.h; same lanes, so the same bits); floats use 512-bit FMA.

// GCC 12 warns about the deliberately undefined vectors inside its own
// AVX-512 intrinsic headers (_mm512_undefined_*); not our code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <cstring>

#include "ops/matmul_kernels.h"
#include "ops/matmul_unpack.h"

namespace dllm::mm {

namespace {

struct Dot {
  static __m256i dot(__m256i u8, __m256i s8) { return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u8, s8); }
};

#include "ops/matmul_simd_impl.h"

inline float hsum512(__m512 v) {
  return hsum(_mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1)));
}

// --- F32 / F16 / BF16 -----------------------------------------------------------

template <GgmlType T>
inline __m512 load16(const uint8_t* row, int64_t k) {
  if constexpr (T == GgmlType::F32) {
    return _mm512_loadu_ps(reinterpret_cast<const float*>(row) + k);
  } else if constexpr (T == GgmlType::F16) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * k)));
  } else {
    const __m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * k)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
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
    __m512 acc[NT][MT];
    for (int r = 0; r < NT; ++r)
      for (int j = 0; j < MT; ++j) acc[r][j] = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) {
      __m512 xv[MT];
      for (int j = 0; j < MT; ++j) xv[j] = _mm512_loadu_ps(x[j] + k);
      for (int r = 0; r < NT; ++r) {
        const __m512 wv = load16<T>(w[r], k);
        for (int j = 0; j < MT; ++j) acc[r][j] = _mm512_fmadd_ps(wv, xv[j], acc[r][j]);
      }
    }
    for (int r = 0; r < NT; ++r)
      for (int j = 0; j < MT; ++j) {
        float s = hsum512(acc[r][j]);
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

RowsFn avx512_rows(GgmlType t) {
  switch (t) {
    case GgmlType::F32: return rows_direct<FloatKernel<GgmlType::F32>, 4>;
    case GgmlType::F16: return rows_direct<FloatKernel<GgmlType::F16>, 4>;
    case GgmlType::BF16: return rows_direct<FloatKernel<GgmlType::BF16>, 4>;
    case GgmlType::Q8_0: return rows_direct<Q8_0Kernel, 4>;
    case GgmlType::Q4_0: return rows_unpacked<GgmlType::Q4_0, 8>;
    case GgmlType::Q4_1: return rows_unpacked<GgmlType::Q4_1, 8>;
    case GgmlType::Q5_0: return rows_unpacked<GgmlType::Q5_0, 8>;
    case GgmlType::Q5_1: return rows_unpacked<GgmlType::Q5_1, 8>;
    case GgmlType::IQ4_NL: return rows_unpacked<GgmlType::IQ4_NL, 8>;
    case GgmlType::Q2_K: return rows_unpacked<GgmlType::Q2_K, 8>;
    case GgmlType::Q3_K: return rows_unpacked<GgmlType::Q3_K, 8>;
    case GgmlType::Q4_K: return rows_kquant<GgmlType::Q4_K, Q4_KKernel, 8>;
    case GgmlType::Q5_K: return rows_unpacked<GgmlType::Q5_K, 8>;
    case GgmlType::Q6_K: return rows_kquant<GgmlType::Q6_K, Q6_KKernel, 8>;
    case GgmlType::IQ4_XS: return rows_unpacked<GgmlType::IQ4_XS, 8>;
    default: return nullptr;
  }
}

}  // namespace dllm::mm
