// Internal: SIMD helpers on 256-bit vectors shared by the AVX2 and the AVX-512
// kernel files: block decoders (K-quant scales and quants), the SIMD
// unpackers into unpack.h's common form, and the F32/F16/BF16 kernel
// (written over the including file's FVec). Include it INSIDE an anonymous
// namespace of a file compiled for the ISA.

#include "ops/simd256.h"  // hsum

inline float f16_at(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// Decode streams the weights once; the hardware prefetcher alone leaves the
// kernels waiting for memory (measured: ~2x slower), so each tile asks for the
// bytes of the NEXT tile of rows at the offset it is reading now.
inline void prefetch(const void* p) { _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0); }
inline void prefetch_bytes(const uint8_t* p, size_t n) {
  for (size_t o = 0; o < n; o += 64) prefetch(p + o);
}

inline float dot_f32(const float* a, const float* b, int64_t n) {
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc);
  float s = hsum(acc);
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

// Walks the (n, m) rectangle in tiles of NT weight rows x MT activation rows:
// decode (fewer than 4 activation rows) 4 x 1, prefill NTP x 4.
template <int NTP, class Kernel>
void drive(const Task& t, int64_t n0, int64_t n1, int64_t m0, int64_t m1, const Kernel& k) {
  if (m1 - m0 < 4) {
    for (int64_t m = m0; m < m1; ++m) {
      int64_t n = n0;
      for (; n + 4 <= n1; n += 4) k.template tile<4, 1>(t, n, m);
      for (; n < n1; ++n) k.template tile<1, 1>(t, n, m);
    }
    return;
  }
  int64_t n = n0;
  for (; n + NTP <= n1; n += NTP) {
    int64_t m = m0;
    for (; m + 4 <= m1; m += 4) k.template tile<NTP, 4>(t, n, m);
    for (; m < m1; ++m) k.template tile<NTP, 1>(t, n, m);
  }
  for (; n < n1; ++n) {
    int64_t m = m0;
    for (; m + 4 <= m1; m += 4) k.template tile<1, 4>(t, n, m);
    for (; m < m1; ++m) k.template tile<1, 1>(t, n, m);
  }
}

// --- Q4_K / Q5_K / Q6_K block decoders ---------------------------------------------

// Q4_K / Q5_K: the eight 6-bit scales and mins are unpacked with word
// operations (kernels.md §2.3 packing); S = sc_j*(d*da_j) for the eight
// 32-blocks is one vector, the min term -dmin*m_j*da_j*suma_j one FMA.
inline void q4k_scales_mins(const uint8_t* b12, __m256* sc, __m256* mn) {
  uint32_t w0, w1, w2;
  std::memcpy(&w0, b12, 4);
  std::memcpy(&w1, b12 + 4, 4);
  std::memcpy(&w2, b12 + 8, 4);
  const uint32_t s_lo = w0 & 0x3f3f3f3fu, m_lo = w1 & 0x3f3f3f3fu;
  const uint32_t s_hi = (w2 & 0x0f0f0f0fu) | ((w0 >> 2) & 0x30303030u);
  const uint32_t m_hi = ((w2 >> 4) & 0x0f0f0f0fu) | ((w1 >> 2) & 0x30303030u);
  const __m128i v = _mm_setr_epi32(int(s_lo), int(s_hi), int(m_lo), int(m_hi));
  *sc = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v));
  *mn = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(v, 8)));
}

// Q4_K / Q5_K: the 64 quants of 32-block pair (2g, 2g+1) of a super-block,
// unsigned, as two vectors (lo: block 2g, hi: block 2g+1). For Q5_K, *qh is a
// copy of the block's qh bits, shifted on by 2 per call.
template <bool Q5>
inline void q45_quants(const uint8_t* qs32, __m256i* qh, __m256i* lo, __m256i* hi) {
  const __m256i m4 = _mm256_set1_epi8(0x0f), m16 = _mm256_set1_epi8(0x10);
  const __m256i q = load256(qs32);
  *lo = _mm256_and_si256(q, m4);
  *hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
  if constexpr (Q5) {
    *lo = _mm256_or_si256(*lo, _mm256_and_si256(_mm256_slli_epi16(*qh, 4), m16));
    *hi = _mm256_or_si256(*hi, _mm256_and_si256(_mm256_slli_epi16(*qh, 3), m16));
    *qh = _mm256_srli_epi16(*qh, 2);
  }
}

// Q6_K: the 128 quants of half h of a super-block, unsigned (0..63), as the
// four 32-blocks 4h .. 4h+3.
inline void q6_quants(const uint8_t* blk, int h, __m256i q[4]) {
  const __m256i m4 = _mm256_set1_epi8(0x0f), m30 = _mm256_set1_epi8(0x30);
  const __m256i ql0 = load256(blk + 64 * h), ql1 = load256(blk + 64 * h + 32);
  const __m256i qh = load256(blk + 128 + 32 * h);
  q[0] = _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), m30));
  q[1] = _mm256_or_si256(_mm256_and_si256(ql1, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), m30));
  q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), _mm256_and_si256(qh, m30));
  q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4), _mm256_and_si256(_mm256_srli_epi16(qh, 2), m30));
}

// --- SIMD unpackers (same output as unpack.h, which the compiler does
// not vectorize well: byte stores then vector reloads stall on store forwarding) ---

namespace fast {

inline __m256i nibbles(const uint8_t* qs) {  // legacy order: 16 low nibbles, then 16 high
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i m4 = _mm_set1_epi8(0x0f);
  return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), m4), _mm_and_si128(v, m4));
}

// Byte i = 0xff where bit i of a 32-bit word is set, else 0. The word is
// given in dwords 0 and 4 of `bits` (the low lane reads its bytes 0 and 1,
// the high lane bytes 2 and 3), e.g. broadcast to every dword.
inline __m256i bit_mask32(__m256i bits) {
  const __m256i spread = _mm256_shuffle_epi8(
      bits,
      _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
  const __m256i bit = _mm256_set1_epi64x(int64_t(0x8040201008040201ull));
  return _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
}
inline __m256i bit_mask32(uint32_t bits) { return bit_mask32(_mm256_set1_epi32(int(bits))); }

// Byte i = 0x10 where bit i of qh is set, else 0.
inline __m256i high_bits(uint32_t qh) { return _mm256_and_si256(bit_mask32(qh), _mm256_set1_epi8(0x10)); }

inline void store32(int8_t* q, __m256i v) { _mm256_store_si256(reinterpret_cast<__m256i*>(q), v); }

inline __m256i iq4_table() {
  const __m128i t = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qb::kIQ4Values));
  return _mm256_set_m128i(t, t);
}

template <GgmlType T>
void legacy(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t*, float* mw16) {
  constexpr int kBytes = T == GgmlType::Q4_0 ? 18 : T == GgmlType::Q4_1 ? 20 : T == GgmlType::Q5_0 ? 22
                       : T == GgmlType::Q5_1 ? 24 : 18;
  const __m256i tbl = iq4_table();
  for (int64_t b = 0; b < K / 32; ++b, w += kBytes) {
    dw[b] = f16_at(w);
    __m256i v;
    if constexpr (T == GgmlType::Q4_0) {
      v = _mm256_sub_epi8(nibbles(w + 2), _mm256_set1_epi8(8));
    } else if constexpr (T == GgmlType::Q4_1) {
      v = nibbles(w + 4);
    } else if constexpr (T == GgmlType::Q5_0) {
      uint32_t qh;
      std::memcpy(&qh, w + 2, 4);
      v = _mm256_sub_epi8(_mm256_or_si256(nibbles(w + 6), high_bits(qh)), _mm256_set1_epi8(16));
    } else if constexpr (T == GgmlType::Q5_1) {
      uint32_t qh;
      std::memcpy(&qh, w + 4, 4);
      v = _mm256_or_si256(nibbles(w + 8), high_bits(qh));
    } else {  // IQ4_NL
      v = _mm256_shuffle_epi8(tbl, nibbles(w + 2));
    }
    if constexpr (T == GgmlType::Q4_1 || T == GgmlType::Q5_1) mw16[2 * b] = mw16[2 * b + 1] = f16_at(w + 2);
    store32(q + 32 * b, v);
  }
}

inline void iq4_xs(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t*, float*) {
  const __m256i tbl = iq4_table();
  for (int64_t sb = 0; sb < K / 256; ++sb, w += qb::kIQ4_XSBytes, q += 256) {
    const float d = f16_at(w);
    for (int ib = 0; ib < 8; ++ib) {
      dw[8 * sb + ib] = d * float(qb::iq4xs_scale(w, ib) - 32);
      store32(q + 32 * ib, _mm256_shuffle_epi8(tbl, nibbles(w + 8 + 16 * ib)));
    }
  }
}

inline void q2_k(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float* mw16) {
  const __m256i m3 = _mm256_set1_epi8(3);
  for (int64_t sb = 0; sb < K / 256; ++sb, w += qb::kQ2_KBytes, q += 256) {
    const float d = f16_at(w + 80), dmin = f16_at(w + 82);
    for (int j = 0; j < 8; ++j) dw[8 * sb + j] = d;
    for (int g = 0; g < 16; ++g) {
      s16[16 * sb + g] = int16_t(w[g] & 15);
      mw16[16 * sb + g] = -(dmin * float(w[g] >> 4));
    }
    for (int h = 0; h < 2; ++h) {
      const __m256i v = load256(w + 16 + 32 * h);
      store32(q + 128 * h, _mm256_and_si256(v, m3));
      store32(q + 128 * h + 32, _mm256_and_si256(_mm256_srli_epi16(v, 2), m3));
      store32(q + 128 * h + 64, _mm256_and_si256(_mm256_srli_epi16(v, 4), m3));
      store32(q + 128 * h + 96, _mm256_and_si256(_mm256_srli_epi16(v, 6), m3));
    }
  }
}

inline void q3_k(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float*) {
  const __m256i m3 = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1), four = _mm256_set1_epi8(4);
  for (int64_t sb = 0; sb < K / 256; ++sb, w += qb::kQ3_KBytes, q += 256) {
    const float d = f16_at(w + 108);
    for (int j = 0; j < 8; ++j) dw[8 * sb + j] = d;
    for (int g = 0; g < 16; ++g) s16[16 * sb + g] = int16_t(qb::q3k_scale(w + 96, g));
    const __m256i hm = load256(w);
    for (int h = 0; h < 2; ++h) {
      const __m256i v = load256(w + 32 + 32 * h);
      for (int c = 0; c < 4; ++c) {
        const __m256i lo = _mm256_and_si256(_mm256_srli_epi16(v, 2 * c), m3);
        const __m256i hb = _mm256_and_si256(_mm256_srli_epi16(hm, 4 * h + c), one);
        // value = lo - 4 when the high bit is clear, lo when it is set
        store32(q + 128 * h + 32 * c, _mm256_sub_epi8(_mm256_or_si256(lo, _mm256_slli_epi16(hb, 2)), four));
      }
    }
  }
}

inline __m128i load128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }

// IQ4_KS: the quants of 32-block ib of super-block w: one of the two
// codebooks (low bit of the scale byte). Its scale is D * iq4ks_scale(w[ib]).
inline __m256i iq4_ks_quants(const uint8_t* w, int ib) {
  const __m128i cb = load128(qb::iq4ks_codebook(w[ib]));
  return _mm256_shuffle_epi8(_mm256_set_m128i(cb, cb), nibbles(w + 8 + 16 * ib));
}

inline void iq4_ks(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t*, float*) {
  float D;
  std::memcpy(&D, w, 4);
  w += qb::kIQ4_KSRowMeta;
  for (int64_t sb = 0; sb < K / 256; ++sb, w += qb::kIQ4_KSBytes, q += 256)
    for (int ib = 0; ib < 8; ++ib) {
      dw[8 * sb + ib] = D * float(qb::iq4ks_scale(w[ib]));
      store32(q + 32 * ib, iq4_ks_quants(w, ib));
    }
}

// IQ4_K: a codebook per 16-group (bit s of `extra`): the low nibbles of a
// 32-block are its first 16-group, the high nibbles its second.
inline void iq4_k(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float*) {
  for (int64_t sb = 0; sb < K / 256; ++sb, w += qb::kIQ4_KBytes, q += 256) {
    const float d = f16_at(w);
    for (int j = 0; j < 8; ++j) dw[8 * sb + j] = d;
    for (int s = 0; s < 16; ++s) s16[16 * sb + s] = int16_t(qb::iq4k_scale(w, s) - 32);
    for (int ib = 0; ib < 8; ++ib) {
      const __m256i tbl = _mm256_set_m128i(load128(qb::iq4k_codebook(w, 2 * ib + 1)), load128(qb::iq4k_codebook(w, 2 * ib)));
      store32(q + 32 * ib, _mm256_shuffle_epi8(tbl, nibbles(w + 16 + 16 * ib)));
    }
  }
}

// Q6_0: the legacy nibbles, plus two high bits per element from the 8 qh
// bytes: element i takes bits 4*((i/8) % 2) + 2*(i/16) of qh[i % 8], i.e. one
// shift per 8 lanes.
inline void q6_0(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t*, float*) {
  const __m256i shifts = _mm256_setr_epi32(0, 0, 4, 4, 2, 2, 6, 6);
  const __m256i m3 = _mm256_set1_epi8(3), m32 = _mm256_set1_epi8(32);
  for (int64_t b = 0; b < K / 32; ++b, w += qb::kQ6_0Bytes) {
    dw[b] = f16_at(w);
    uint64_t qh;
    std::memcpy(&qh, w + 2, 8);
    const __m256i hb = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi64x(int64_t(qh)), shifts), m3);
    store32(q + 32 * b, _mm256_sub_epi8(_mm256_or_si256(nibbles(w + 10), _mm256_slli_epi16(hb, 4)), m32));
  }
}

// Byte k of the result: bit `bit` of byte k of v, as 0 or 1.
inline __m256i bit_of_bytes(__m256i v, int bit) {
  return _mm256_and_si256(_mm256_srli_epi16(v, bit), _mm256_set1_epi8(1));
}

// Codebook lookup of 5-bit indices (idx, 0..31) in two 16-entry tables per
// 128-bit lane: lo for indices 0..15, hi for 16..31.
inline __m256i lookup32(__m256i lo, __m256i hi, __m256i idx) {
  return _mm256_blendv_epi8(_mm256_shuffle_epi8(lo, idx), _mm256_shuffle_epi8(hi, idx), _mm256_slli_epi16(idx, 3));
}

// IQ5_K / IQ5_KS: the 5-bit indices of 32-block ib (qb::iq5_index).
inline __m256i iq5_indices(const uint8_t* qs, __m256i qh, int ib) {
  const __m256i v = load256(qs + 32 * (ib / 2));
  const __m256i n = _mm256_and_si256(ib % 2 ? _mm256_srli_epi16(v, 4) : v, _mm256_set1_epi8(15));
  return _mm256_or_si256(n, _mm256_slli_epi16(bit_of_bytes(qh, ib), 4));
}

// The IQ5 codebook halves of 16-groups s0 (low lane) and s1 (high lane), by
// their codebook bits c0, c1.
inline void iq5_tables(int c0, int c1, __m256i* lo, __m256i* hi) {
  *lo = _mm256_set_m128i(load128(qb::kIQ5NLValues + 32 * c1), load128(qb::kIQ5NLValues + 32 * c0));
  *hi = _mm256_set_m128i(load128(qb::kIQ5NLValues + 32 * c1 + 16), load128(qb::kIQ5NLValues + 32 * c0 + 16));
}

inline void iq5_k(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float*) {
  for (int64_t sb = 0; sb < K / 256; ++sb, w += qb::kIQ5_KBytes, q += 256) {
    const float d = f16_at(w);
    for (int j = 0; j < 8; ++j) dw[8 * sb + j] = d;
    for (int s = 0; s < 16; ++s) s16[16 * sb + s] = int16_t(qb::iq4k_scale(w, s) - 32);
    const __m256i qh = load256(w + 144);
    for (int ib = 0; ib < 8; ++ib) {
      __m256i lo, hi;
      iq5_tables(qb::extra_bit(w + 2, 2 * ib), qb::extra_bit(w + 2, 2 * ib + 1), &lo, &hi);
      store32(q + 32 * ib, lookup32(lo, hi, iq5_indices(w + 16, qh, ib)));
    }
  }
}

inline void iq5_ks(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t*, float*) {
  float D;
  std::memcpy(&D, w, 4);
  w += qb::kF32RowMeta;
  for (int64_t sb = 0; sb < K / 256; ++sb, w += qb::kIQ5_KSBytes, q += 256) {
    const __m256i qh = load256(w + 136);
    for (int ib = 0; ib < 8; ++ib) {
      dw[8 * sb + ib] = D * float(qb::iq4ks_scale(w[ib]));
      __m256i lo, hi;
      iq5_tables(w[ib] & 1, w[ib] & 1, &lo, &hi);
      store32(q + 32 * ib, lookup32(lo, hi, iq5_indices(w + 8, qh, ib)));
    }
  }
}

// IQ6_K: 6-bit indices (qb::iq6_index) into the int8 codebook of each
// 16-group: four 16-entry lookups, chosen by index bits 4 and 5.
inline void iq6_k(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float*) {
  const __m256i m15 = _mm256_set1_epi8(15), m3 = _mm256_set1_epi8(3);
  for (int64_t sb = 0; sb < K / 256; ++sb, w += qb::kIQ6_KBytes, q += 256) {
    const float d = f16_at(w);
    for (int j = 0; j < 8; ++j) dw[8 * sb + j] = d;
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(s16 + 16 * sb),
                        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 4))));
    for (int ib = 0; ib < 8; ++ib) {
      const __m256i v = load256(w + 20 + 32 * (ib / 2));
      const __m256i n = _mm256_and_si256(ib % 2 ? _mm256_srli_epi16(v, 4) : v, m15);
      const __m256i h = _mm256_and_si256(
          _mm256_srli_epi16(load256(w + 148 + 32 * (ib / 4)), 4 * ((ib / 2) % 2) + 2 * (ib % 2)), m3);
      const int8_t* c0 = qb::kIQ6NLValues + 64 * qb::extra_bit(w + 2, 2 * ib);
      const int8_t* c1 = qb::kIQ6NLValues + 64 * qb::extra_bit(w + 2, 2 * ib + 1);
      __m256i t[4];
      for (int k = 0; k < 4; ++k)
        t[k] = _mm256_shuffle_epi8(_mm256_set_m128i(load128(c1 + 16 * k), load128(c0 + 16 * k)), n);
      const __m256i sel4 = _mm256_slli_epi16(h, 7), sel5 = _mm256_slli_epi16(h, 6);  // bit 0 / bit 1 of h to bit 7
      const __m256i r01 = _mm256_blendv_epi8(t[0], t[1], sel4), r23 = _mm256_blendv_epi8(t[2], t[3], sel4);
      store32(q + 32 * ib, _mm256_blendv_epi8(r01, r23, sel5));
    }
  }
}

// IQ2_K / IQ2_KS / IQ3_K / IQ3_KS: the indices of 32-block ib (qb::iq2_index,
// with qb::iq3_index's third bit where qh is given).
inline __m256i iq23_indices(const uint8_t* qs, const uint8_t* qh, int ib) {
  const __m256i v = _mm256_and_si256(_mm256_srli_epi16(load256(qs + 32 * (ib / 4)), 2 * (ib % 4)), _mm256_set1_epi8(3));
  return qh ? _mm256_or_si256(v, _mm256_slli_epi16(bit_of_bytes(load256(qh), ib), 2)) : v;
}

// Codebook c of IQ2 (4 values) or IQ3 (8 values), zero-padded to a 16-byte
// shuffle table.
template <bool IQ3>
inline __m128i iq23_table(int c) {
  if constexpr (IQ3)
    return _mm_loadl_epi64(reinterpret_cast<const __m128i*>(qb::kIQ3NLValues + 8 * c));
  else
    return _mm_cvtsi32_si128(int(qb::load_u32(reinterpret_cast<const uint8_t*>(qb::kIQ2NLValues + 4 * c))));
}

// IQ2_K / IQ3_K: a codebook per 16-group (bit s of extra).
template <bool IQ3>
inline void iq23_k(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float*) {
  constexpr int kBytes = IQ3 ? qb::kIQ3_KBytes : qb::kIQ2_KBytes, kQs = IQ3 ? 14 : 12;
  for (int64_t sb = 0; sb < K / 256; ++sb, w += kBytes, q += 256) {
    const float d = f16_at(w);
    for (int j = 0; j < 8; ++j) dw[8 * sb + j] = d;
    for (int s = 0; s < 16; ++s) s16[16 * sb + s] = int16_t(IQ3 ? qb::iq3k_scale(w, s) : qb::iq2k_scale(w, s));
    for (int ib = 0; ib < 8; ++ib) {
      const __m256i tbl = _mm256_set_m128i(iq23_table<IQ3>(qb::extra_bit(w + 2, 2 * ib + 1)),
                                           iq23_table<IQ3>(qb::extra_bit(w + 2, 2 * ib)));
      store32(q + 32 * ib, _mm256_shuffle_epi8(tbl, iq23_indices(w + kQs, IQ3 ? w + 78 : nullptr, ib)));
    }
  }
}

// IQ2_KS / IQ3_KS: fp16 row scale, a codebook per 32-block.
template <bool IQ3>
inline void iq23_ks(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t*, float*) {
  constexpr int kBytes = IQ3 ? qb::kIQ3_KSBytes : qb::kIQ2_KSBytes;
  const float D = f16_at(w);
  w += qb::kF16RowMeta;
  for (int64_t sb = 0; sb < K / 256; ++sb, w += kBytes, q += 256)
    for (int ib = 0; ib < 8; ++ib) {
      dw[8 * sb + ib] = D * float(IQ3 ? qb::iq3ks_scale(w, ib) : qb::iq2ks_scale(w, ib));
      const __m128i t = iq23_table<IQ3>(qb::extra_bit(w, IQ3 ? 8 + ib : ib));
      store32(q + 32 * ib, _mm256_shuffle_epi8(_mm256_set_m128i(t, t), iq23_indices(w + 6, IQ3 ? w + 70 : nullptr, ib)));
    }
}

// IQ4_KSS: the eight words of a 32-block decoded at once (qb::iq4kss_unpack),
// the scale byte gathered from their low bits.
inline void iq4_kss(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t*, float*) {
  const __m128i keep = _mm_set1_epi16(short(0xfffe)), m4 = _mm_set1_epi8(15);
  float D;
  std::memcpy(&D, w, 4);
  w += qb::kF32RowMeta;
  for (int64_t sb = 0; sb < K / 256; ++sb, w += qb::kIQ4_KSSBytes, q += 256)
    for (int ib = 0; ib < 8; ++ib) {
      const uint8_t* b = w + 16 * ib;
      int sc = 0;
      for (int k = 0; k < 8; ++k) sc |= (b[2 * k] & 1) << k;
      dw[8 * sb + ib] = D * float(qb::iq4ks_scale(uint8_t(sc)));
      const __m128i a = _mm_and_si128(load128(b), keep);
      const __m128i v = _mm_xor_si128(a, _mm_srli_epi16(a, 1));
      const __m128i cb = load128(qb::iq4ks_codebook(uint8_t(sc)));
      const __m256i n = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), m4), _mm_and_si128(v, m4));
      store32(q + 32 * ib, _mm256_shuffle_epi8(_mm256_set_m128i(cb, cb), n));
    }
}

// IQ2_KL: the 16 pair indices of a 32-block (qb::iq2kl_index) look up the
// pairs' low and high bytes (two 32-entry tables), then interleave them.
inline void iq2_kl(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t*, float*) {
  // The pair table split: lo[0] / hi[0] the low / high bytes of pairs 0..15, lo[1] / hi[1] of 16..31.
  const __m128i split = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
  __m128i c[4];
  for (int k = 0; k < 4; ++k) c[k] = _mm_shuffle_epi8(load128(qb::kIQ2KLPairs + 8 * k), split);
  const __m128i lo[2] = {_mm_unpacklo_epi64(c[0], c[1]), _mm_unpacklo_epi64(c[2], c[3])};
  const __m128i hi[2] = {_mm_unpackhi_epi64(c[0], c[1]), _mm_unpackhi_epi64(c[2], c[3])};
  const __m128i m15 = _mm_set1_epi8(15), one = _mm_set1_epi8(1);
  const float D = f16_at(w);
  w += qb::kF16RowMeta;
  for (int64_t sb = 0; sb < K / 256; ++sb, w += qb::kIQ2_KLBytes, q += 256) {
    const __m128i qh = load128(w + 70);
    for (int ib = 0; ib < 8; ++ib) {
      dw[8 * sb + ib] = D * float(qb::iq2kl_scale(w, ib));
      const __m128i v = load128(w + 6 + 16 * (ib / 2));
      const __m128i n = _mm_and_si128(ib % 2 ? _mm_srli_epi16(v, 4) : v, m15);
      const __m128i sel = _mm_slli_epi16(_mm_and_si128(_mm_srli_epi16(qh, ib), one), 7);  // index bit 4
      const __m128i l = _mm_blendv_epi8(_mm_shuffle_epi8(lo[0], n), _mm_shuffle_epi8(lo[1], n), sel);
      const __m128i h = _mm_blendv_epi8(_mm_shuffle_epi8(hi[0], n), _mm_shuffle_epi8(hi[1], n), sel);
      store32(q + 32 * ib, _mm256_set_m128i(_mm_unpackhi_epi8(l, h), _mm_unpacklo_epi8(l, h)));
    }
  }
}

inline void q8_0(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t*, float*) {
  for (int64_t b = 0; b < K / 32; ++b, w += qb::kQ8_0Bytes) {
    dw[b] = f16_at(w);
    store32(q + 32 * b, load256(w + 2));
  }
}

// Q4_K / Q5_K: composite scales as the scalar unpacker makes them (dw = d*sc,
// mw16 = -(dmin*m) for both 16-halves), quants from q45_quants.
template <bool Q5>
inline void q45_k(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t*, float* mw16) {
  constexpr int kBytes = Q5 ? 176 : 144, kQs = Q5 ? 48 : 16;
  for (int64_t sb = 0; sb < K / 256; ++sb, w += kBytes, q += 256) {
    __m256 sc, mn;
    q4k_scales_mins(w + 4, &sc, &mn);
    _mm256_storeu_ps(dw + 8 * sb, _mm256_mul_ps(_mm256_set1_ps(f16_at(w)), sc));
    const __m256 mw = _mm256_xor_ps(_mm256_mul_ps(_mm256_set1_ps(f16_at(w + 2)), mn), _mm256_set1_ps(-0.0f));
    const __m256 lo = _mm256_unpacklo_ps(mw, mw), hi = _mm256_unpackhi_ps(mw, mw);  // m0 m0 m1 m1 | m4 m4 m5 m5
    _mm256_storeu_ps(mw16 + 16 * sb, _mm256_permute2f128_ps(lo, hi, 0x20));
    _mm256_storeu_ps(mw16 + 16 * sb + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
    __m256i qh = Q5 ? load256(w + 16) : _mm256_setzero_si256();
    for (int g = 0; g < 4; ++g) {
      __m256i lo, hi;
      q45_quants<Q5>(w + kQs + 32 * g, &qh, &lo, &hi);
      store32(q + 64 * g, lo);
      store32(q + 64 * g + 32, hi);
    }
  }
}

inline void q6_k(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float*) {
  const __m256i m32 = _mm256_set1_epi8(32);
  for (int64_t sb = 0; sb < K / 256; ++sb, w += qb::kQ6_KBytes, q += 256) {
    const float d = f16_at(w + 208);
    for (int j = 0; j < 8; ++j) dw[8 * sb + j] = d;
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(s16 + 16 * sb),
                        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 192))));
    for (int h = 0; h < 2; ++h) {
      __m256i v[4];
      q6_quants(w, h, v);
      for (int c = 0; c < 4; ++c) store32(q + 128 * h + 32 * c, _mm256_sub_epi8(v[c], m32));
    }
  }
}

// IQ1_S .. IQ3_S, MXFP4
#include "ops/matmul/simd_iq_grid.h"

}  // namespace fast

// The unpacker of type T for this ISA.
template <GgmlType T>
constexpr unpack::Fn fast_unpack() {
  if constexpr (T == GgmlType::Q4_0 || T == GgmlType::Q4_1 || T == GgmlType::Q5_0 || T == GgmlType::Q5_1 ||
                T == GgmlType::IQ4_NL)
    return fast::legacy<T>;
  else if constexpr (T == GgmlType::IQ4_XS)
    return fast::iq4_xs;
  else if constexpr (T == GgmlType::Q2_K)
    return fast::q2_k;
  else if constexpr (T == GgmlType::Q3_K)
    return fast::q3_k;
  else if constexpr (T == GgmlType::Q8_0)
    return fast::q8_0;
  else if constexpr (T == GgmlType::IQ4_KS)
    return fast::iq4_ks;
  else if constexpr (T == GgmlType::IQ4_K)
    return fast::iq4_k;
  else if constexpr (T == GgmlType::Q6_0)
    return fast::q6_0;
  else if constexpr (T == GgmlType::IQ5_K)
    return fast::iq5_k;
  else if constexpr (T == GgmlType::IQ5_KS)
    return fast::iq5_ks;
  else if constexpr (T == GgmlType::IQ6_K)
    return fast::iq6_k;
  else if constexpr (T == GgmlType::IQ2_K || T == GgmlType::IQ3_K)
    return fast::iq23_k<T == GgmlType::IQ3_K>;
  else if constexpr (T == GgmlType::IQ2_KS || T == GgmlType::IQ3_KS)
    return fast::iq23_ks<T == GgmlType::IQ3_KS>;
  else if constexpr (T == GgmlType::IQ4_KSS)
    return fast::iq4_kss;
  else if constexpr (T == GgmlType::IQ2_KL)
    return fast::iq2_kl;
  else if constexpr (T == GgmlType::Q4_K)
    return fast::q45_k<false>;
  else if constexpr (T == GgmlType::Q5_K)
    return fast::q45_k<true>;
  else if constexpr (T == GgmlType::Q6_K)
    return fast::q6_k;
  else if constexpr (T == GgmlType::IQ2_XXS)
    return fast::iq2_xxs;
  else if constexpr (T == GgmlType::IQ2_XS)
    return fast::iq2_xs;
  else if constexpr (T == GgmlType::IQ2_S)
    return fast::iq2_s;
  else if constexpr (T == GgmlType::IQ3_XXS)
    return fast::iq3_xxs;
  else if constexpr (T == GgmlType::IQ3_S)
    return fast::iq3_s;
  else if constexpr (T == GgmlType::IQ1_S)
    return fast::iq1_s;
  else if constexpr (T == GgmlType::IQ1_M)
    return fast::iq1_m;
  else if constexpr (T == GgmlType::MXFP4)
    return fast::mxfp4;
  else
    return unpack::entry(T).fn;
}

// fast_unpack<T>() of a type known at run time (nullptr: no int8 unpacker),
// for the tests that hold each to the portable unpacker's bytes. Type ids are
// below 256.
template <uint32_t... Ids>
unpack::Fn fast_unpack_by_id(GgmlType t, std::integer_sequence<uint32_t, Ids...>) {
  unpack::Fn f = nullptr;
  ((uint32_t(t) == Ids ? (void)(f = fast_unpack<GgmlType(Ids)>()) : (void)0), ...);
  return f;
}
inline unpack::Fn fast_unpack_of(GgmlType t) {
  return fast_unpack_by_id(t, std::make_integer_sequence<uint32_t, 256>{});
}

// --- F32 / F16 / BF16 weights: FMA on float vectors -----------------------------
// Written over the including file's `FVec` (W lanes: zero, load, fmadd, sum,
// load_f16 / load_bf16 of W weights at a byte address).

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
inline FVec::T load_weights(const uint8_t* row, int64_t k) {
  if constexpr (T == GgmlType::F32)
    return FVec::load(reinterpret_cast<const float*>(row) + k);
  else if constexpr (T == GgmlType::F16)
    return FVec::load_f16(row + 2 * k);
  else
    return FVec::load_bf16(row + 2 * k);
}

template <GgmlType T>
struct FloatKernel {
  template <int NT, int MT>
  void tile(const Task& t, int64_t n, int64_t m) const {
    constexpr int W = FVec::W;
    const WeightView& Wt = *t.W;
    const int64_t K = Wt.cols;
    const uint8_t* w[NT];
    const float* x[MT];
    for (int r = 0; r < NT; ++r) w[r] = Wt.data + size_t(n + r) * Wt.row_stride;
    for (int j = 0; j < MT; ++j) x[j] = t.A->x_row(m + j);
    typename FVec::T acc[NT][MT];
    for (int r = 0; r < NT; ++r)
      for (int j = 0; j < MT; ++j) acc[r][j] = FVec::zero();
    int64_t k = 0;
    for (; k + W <= K; k += W) {
      typename FVec::T xv[MT];
      for (int j = 0; j < MT; ++j) xv[j] = FVec::load(x[j] + k);
      for (int r = 0; r < NT; ++r) {
        prefetch(w[r] + NT * Wt.row_stride + k * (T == GgmlType::F32 ? 4 : 2));
        const typename FVec::T wv = load_weights<T>(w[r], k);
        for (int j = 0; j < MT; ++j) acc[r][j] = FVec::fmadd(wv, xv[j], acc[r][j]);
      }
    }
    for (int r = 0; r < NT; ++r)
      for (int j = 0; j < MT; ++j) {
        float s = FVec::sum(acc[r][j]);
        for (int64_t kk = k; kk < K; ++kk) s = std::fma(load1<T>(w[r], kk), x[j][kk], s);
        t.Y[(m + j) * t.ldy + n + r] = s;
      }
  }
};
