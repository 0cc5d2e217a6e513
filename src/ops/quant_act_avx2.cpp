// AVX2 activation quantizers: the same results as the scalar ones in
// quant_act.cpp, bit for bit (the same IEEE operations, no fused multiply-add;
// tested against them), for the rows of every prefill matmul.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "ops/quant_act_simd.h"
#include "util/fp16.h"

namespace dllm::simd {

namespace {

// max |x| over n floats (n a multiple of 8) through the bit patterns, as the
// scalar abs_max: NaN orders above everything.
inline float abs_max(const float* x, int n) {
  const __m256i mask = _mm256_set1_epi32(0x7fffffff);
  __m256i m = _mm256_setzero_si256();
  for (int i = 0; i < n; i += 8)
    m = _mm256_max_epi32(m, _mm256_and_si256(_mm256_castps_si256(_mm256_loadu_ps(x + i)), mask));
  __m128i v = _mm_max_epi32(_mm256_castsi256_si128(m), _mm256_extracti128_si256(m, 1));
  v = _mm_max_epi32(v, _mm_shuffle_epi32(v, 0x4e));
  v = _mm_max_epi32(v, _mm_shuffle_epi32(v, 0xb1));
  const int32_t r = _mm_cvtsi128_si32(v);
  float f;
  std::memcpy(&f, &r, 4);
  return f;
}

// 32 floats times `scale`, rounded half to even, clamped to +-127, NaN -> 0.
inline __m256i quant32(const float* x, __m256 scale) {
  const __m256 lim = _mm256_set1_ps(127.0f), nlim = _mm256_set1_ps(-127.0f);
  __m256i q[4];
  for (int i = 0; i < 4; ++i) {
    __m256 v = _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * i), scale),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    v = _mm256_and_ps(v, _mm256_cmp_ps(v, v, _CMP_ORD_Q));
    v = _mm256_max_ps(_mm256_min_ps(v, lim), nlim);
    q[i] = _mm256_cvttps_epi32(v);
  }
  const __m256i p01 = _mm256_packs_epi32(q[0], q[1]), p23 = _mm256_packs_epi32(q[2], q[3]);
  const __m256i b = _mm256_packs_epi16(p01, p23);
  // packs interleave 128-bit lanes: dwords come out as 0 2 4 6 1 3 5 7 of the wanted order
  return _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// Sums of each 16 quants of a 32-block (int16) and d * sum.
inline void sums(__m256i q, float d, int16_t* s16, float* ds16) {
  const __m256i p = _mm256_maddubs_epi16(_mm256_set1_epi8(1), q);  // pairs
  const __m256i s4 = _mm256_madd_epi16(p, _mm256_set1_epi16(1));   // 4-sums
  __m128i lo = _mm256_castsi256_si128(s4), hi = _mm256_extracti128_si256(s4, 1);
  lo = _mm_hadd_epi32(lo, hi);  // 8-sums: lo0 lo1 hi0 hi1
  lo = _mm_hadd_epi32(lo, lo);  // 16-sums: lo, hi
  const int32_t a = _mm_cvtsi128_si32(lo), c = _mm_extract_epi32(lo, 1);
  s16[0] = int16_t(a);
  s16[1] = int16_t(c);
  ds16[0] = d * float(int16_t(a));
  ds16[1] = d * float(int16_t(c));
}

}  // namespace

void quantize_act_q8_32_avx2(const float* x, int64_t K, int8_t* qs, float* d, int16_t* sum16, float* dsum16) {
  for (int64_t b = 0; b < K / 32; ++b) {
    const float* xb = x + 32 * b;
    const float amax = abs_max(xb, 32);
    const float db = round_bf16(amax / 127.0f);
    const float id = db != 0.0f ? 1.0f / db : 0.0f;
    d[b] = db;
    const __m256i q = quant32(xb, _mm256_set1_ps(id));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs + 32 * b), q);
    sums(q, db, sum16 + 2 * b, dsum16 + 2 * b);
  }
}

void quantize_act_q8_k_avx2(const float* x, int64_t K, int8_t* qs, float* d, int16_t* sum16, float* dsum16) {
  for (int64_t sb = 0; sb < K / 256; ++sb) {
    const float* xb = x + 256 * sb;
    const float amax = abs_max(xb, 256);
    const float dd = amax / 127.0f;
    const float iscale = amax != 0.0f ? 127.0f / amax : 0.0f;
    for (int j = 0; j < 8; ++j) {
      d[8 * sb + j] = dd;
      const __m256i q = quant32(xb + 32 * j, _mm256_set1_ps(iscale));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs + 256 * sb + 32 * j), q);
      sums(q, dd, sum16 + 16 * sb + 2 * j, dsum16 + 16 * sb + 2 * j);
    }
  }
}

}  // namespace dllm::simd
