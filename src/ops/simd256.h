// SIMD helpers on 256-bit float vectors shared by the matmul and the mixer
// kernel files, so that both reduce a vector with the same tree (the same
// bits). Include it INSIDE an anonymous namespace of a file compiled for its
// ISA (AVX2 or AVX-512): each file gets its own copy, encoded for its flags,
// and no inline symbol is shared between files compiled for different ISAs.
// No include guard: meant to be included once per ISA file.

// The sum of the 8 lanes: halves, then pairs, then the last two.
inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
