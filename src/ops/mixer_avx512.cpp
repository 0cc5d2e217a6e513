// AVX-512 token-mixing kernels (this file alone is compiled with AVX-512
// flags; mixer_dispatch.cpp decides whether the CPU may run it).

// GCC 12 warns about the deliberately undefined vectors inside its own
// AVX-512 intrinsic headers (_mm512_undefined_*); not our code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include "ops/elementwise.h"
#include "ops/mixer_kernels.h"

namespace dllm::mixer {

namespace {

struct Vec {
  using T = __m512;
  static constexpr int W = 16;
  static T zero() { return _mm512_setzero_ps(); }
  static T set1(float x) { return _mm512_set1_ps(x); }
  static T load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, T v) { _mm512_storeu_ps(p, v); }
  static T load_f16(const uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
  static T fmadd(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  static T mul(T a, T b) { return _mm512_mul_ps(a, b); }
  static T add(T a, T b) { return _mm512_add_ps(a, b); }
  static T sub(T a, T b) { return _mm512_sub_ps(a, b); }
  static T min(T a, T b) { return _mm512_min_ps(a, b); }
  static T max(T a, T b) { return _mm512_max_ps(a, b); }
  static T div(T a, T b) { return _mm512_div_ps(a, b); }
  static T round(T a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static T scale2(T p, T n) {
    return _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(p), _mm512_slli_epi32(_mm512_cvtps_epi32(n), 23)));
  }
  static T inf_above(T x, float t, T v) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_set1_ps(t), _CMP_GT_OQ), v, _mm512_set1_ps(INFINITY));
  }
  static float hsum(T v) { return _mm512_reduce_add_ps(v); }
};

#include "ops/mixer_simd_impl.h"
#include "ops/deltanet_chunked_simd.h"

}  // namespace

extern const MixerKernels kAvx512;
const MixerKernels kAvx512{"avx512", &delta_net_simd, &delta_net_chunked_simd, &conv1d_simd, &attention_simd,
                                &silu_mul_simd,  &silu_inplace_simd, &mul_silu_simd,
                                &mul_sigmoid_simd, &exp_shifted_simd};

}  // namespace dllm::mixer
