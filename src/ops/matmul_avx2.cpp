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

inline float FVec::sum(T v) { return hsum(v); }

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
