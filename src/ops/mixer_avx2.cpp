// AVX2 + FMA + F16C token-mixing kernels (this file alone is compiled with
// those flags; mixer_dispatch.cpp decides whether the CPU may run it).
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include "ops/elementwise.h"
#include "ops/mixer_kernels.h"

namespace dllm::mixer {

namespace {

#include "ops/simd256.h"  // hsum, shared with the matmul kernels

struct Vec {
  using T = __m256;
  static constexpr int W = 8;
  static T zero() { return _mm256_setzero_ps(); }
  static T set1(float x) { return _mm256_set1_ps(x); }
  static T load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, T v) { _mm256_storeu_ps(p, v); }
  static T load_f16(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static T fmadd(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  static T mul(T a, T b) { return _mm256_mul_ps(a, b); }
  static T add(T a, T b) { return _mm256_add_ps(a, b); }
  static T sub(T a, T b) { return _mm256_sub_ps(a, b); }
  static T min(T a, T b) { return _mm256_min_ps(a, b); }
  static T max(T a, T b) { return _mm256_max_ps(a, b); }
  static T div(T a, T b) { return _mm256_div_ps(a, b); }
  static T round(T a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static T scale2(T p, T n) {
    return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), _mm256_slli_epi32(_mm256_cvtps_epi32(n), 23)));
  }
  static T inf_above(T x, float t, T v) {
    return _mm256_blendv_ps(v, _mm256_set1_ps(INFINITY), _mm256_cmp_ps(x, _mm256_set1_ps(t), _CMP_GT_OQ));
  }
  static float hsum(T v) { return ::dllm::mixer::hsum(v); }
};

#include "ops/mixer_simd_impl.h"
#include "ops/deltanet_chunked_simd.h"

}  // namespace

extern const MixerKernels kAvx2;
const MixerKernels kAvx2{"avx2", &delta_net_simd, &delta_net_chunked_simd, &conv1d_simd, &attention_simd,
                                &silu_mul_simd,  &silu_inplace_simd, &mul_silu_simd,
                                &mul_sigmoid_simd, &exp_shifted_simd};

}  // namespace dllm::mixer
