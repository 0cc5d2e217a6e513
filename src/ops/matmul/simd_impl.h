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
inline void prefetch(const void* p) { __builtin_prefetch(p, 0, 3); }
// A run of bytes, as asm statements: GCC dropped a loop of builtin prefetches
// once the decode row loop was inlined around it (Q6_K decode fell to a third).
// Not for every prefetch: inside the float tiles the asm form measured ~45%
// slower.
inline void prefetch_bytes(const uint8_t* p, size_t n) {
  for (size_t o = 0; o < n; o += 64) asm volatile("prefetcht0 %0" : : "m"(*(p + o)));
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

inline __m128i load128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }

// The 16 nibbles of 8 bytes as bytes: nibble s % 2 of byte s / 2.
inline __m128i nibbles16_interleaved(const uint8_t* p) {
  const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)), m4 = _mm_set1_epi8(15);
  return _mm_unpacklo_epi8(_mm_and_si128(v, m4), _mm_and_si128(_mm_srli_epi16(v, 4), m4));
}

// Sixteen 2-bit fields as int16 (field << 4): field s sits in byte s of b, at
// bit 2 * (s % 4) (kByMod4) or 2 * (s / 4). Masked in place, then moved to bit
// 6 by a per-lane power-of-two multiply (no per-lane shifts for 16 bits).
template <bool kByMod4>
inline __m256i two_bit_fields16(__m128i b) {
  const __m256i mask = kByMod4 ? _mm256_setr_epi16(3, 12, 48, 192, 3, 12, 48, 192, 3, 12, 48, 192, 3, 12, 48, 192)
                               : _mm256_setr_epi16(3, 3, 3, 3, 12, 12, 12, 12, 48, 48, 48, 48, 192, 192, 192, 192);
  const __m256i mul = kByMod4 ? _mm256_setr_epi16(64, 16, 4, 1, 64, 16, 4, 1, 64, 16, 4, 1, 64, 16, 4, 1)
                              : _mm256_setr_epi16(64, 64, 64, 64, 16, 16, 16, 16, 4, 4, 4, 4, 1, 1, 1, 1);
  const __m256i v = _mm256_and_si256(_mm256_cvtepu8_epi16(b), mask);
  return _mm256_srli_epi16(_mm256_mullo_epi16(v, mul), 2);
}

inline __m256i iq4_table() {
  const __m128i t = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qb::kIQ4Values));
  return _mm256_set_m128i(t, t);
}

// The 32-element block types: block bytes, and the quants of one block as
// the kernels store them (q + the type's offset: Q4_0 8, Q5_0 16, Q6_0 32;
// Q4_1 / Q5_1 unsigned; Q8_0 and IQ4_NL signed values).
template <GgmlType T>
constexpr bool kBlock32 = T == GgmlType::Q4_0 || T == GgmlType::Q4_1 || T == GgmlType::Q5_0 ||
                          T == GgmlType::Q5_1 || T == GgmlType::Q8_0 || T == GgmlType::IQ4_NL || T == GgmlType::Q6_0;
template <GgmlType T>
constexpr int kBlock32Bytes = T == GgmlType::Q4_0 ? qb::kQ4_0Bytes : T == GgmlType::Q4_1 ? qb::kQ4_1Bytes
                            : T == GgmlType::Q5_0 ? qb::kQ5_0Bytes : T == GgmlType::Q5_1 ? qb::kQ5_1Bytes
                            : T == GgmlType::Q8_0 ? qb::kQ8_0Bytes : T == GgmlType::IQ4_NL ? qb::kIQ4_NLBytes
                            : qb::kQ6_0Bytes;
template <GgmlType T>
constexpr int kBlock32Offset = T == GgmlType::Q4_0 ? 8 : T == GgmlType::Q5_0 ? 16 : T == GgmlType::Q6_0 ? 32 : 0;

template <GgmlType T>
inline __m256i block32_quants(const uint8_t* w) {
  if constexpr (T == GgmlType::Q4_0 || T == GgmlType::Q4_1) {
    return nibbles(w + (T == GgmlType::Q4_0 ? 2 : 4));
  } else if constexpr (T == GgmlType::Q5_0 || T == GgmlType::Q5_1) {
    constexpr int kQh = T == GgmlType::Q5_0 ? 2 : 4;
    return _mm256_or_si256(nibbles(w + kQh + 4), high_bits(qb::load_u32(w + kQh)));
  } else if constexpr (T == GgmlType::Q8_0) {
    return load256(w + 2);
  } else if constexpr (T == GgmlType::IQ4_NL) {
    return _mm256_shuffle_epi8(iq4_table(), nibbles(w + 2));
  } else {
    // Q6_0: the legacy nibbles, plus two high bits per element from the 8 qh
    // bytes: element i takes bits 4*((i/8) % 2) + 2*(i/16) of qh[i % 8], i.e.
    // one shift per 8 lanes.
    uint64_t qh;
    std::memcpy(&qh, w + 2, 8);
    const __m256i hb = _mm256_and_si256(
        _mm256_srlv_epi32(_mm256_set1_epi64x(int64_t(qh)), _mm256_setr_epi32(0, 0, 4, 4, 2, 2, 6, 6)),
        _mm256_set1_epi8(3));
    return _mm256_or_si256(nibbles(w + 10), _mm256_slli_epi16(hb, 4));
  }
}

template <GgmlType T>
void block32(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t*, float* mw16) {
  constexpr int kBytes = kBlock32Bytes<T>;
  const __m256i off = _mm256_set1_epi8(char(kBlock32Offset<T>));
  for (int64_t b = 0; b < K / 32; ++b, w += kBytes) {
    dw[b] = f16_at(w);
    if constexpr (T == GgmlType::Q4_1 || T == GgmlType::Q5_1) mw16[2 * b] = mw16[2 * b + 1] = f16_at(w + 2);
    store32(q + 32 * b, _mm256_sub_epi8(block32_quants<T>(w), off));
  }
}

// 8 int32 block scales (lane = block) as the 16 int16 multipliers of their
// 16-groups (each twice): the s16 form of the super-block types with one
// integer scale per 32-block.
inline __m256i pairs16(__m256i sc) {
  const __m256i p = _mm256_packs_epi32(sc, sc);  // s0..s3 s0..s3 | s4..s7 s4..s7
  return _mm256_unpacklo_epi16(p, p);
}

// IQ4_XS: the 8 six-bit scales minus 32 (qb::iq4xs_scale, lane = block): low
// 4 bits at bit 4*ib of scales_l, high 2 at bit 2*ib of scales_h.
inline __m256i iq4xs_scales8(const uint8_t* w) {
  const __m256i lo = _mm256_and_si256(
      _mm256_srlv_epi32(_mm256_set1_epi32(int(qb::load_u32(w + 4))), _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28)),
      _mm256_set1_epi32(15));
  const __m256i hi = _mm256_and_si256(
      _mm256_srlv_epi32(_mm256_set1_epi32(qb::load_u16(w + 2)), _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14)),
      _mm256_set1_epi32(3));
  return _mm256_sub_epi32(_mm256_or_si256(lo, _mm256_slli_epi32(hi, 4)), _mm256_set1_epi32(32));
}

inline void iq4_xs(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float*) {
  const __m256i tbl = iq4_table();
  for (int64_t sb = 0; sb < K / 256; ++sb, w += qb::kIQ4_XSBytes, q += 256) {
    _mm256_storeu_ps(dw + 8 * sb, _mm256_set1_ps(f16_at(w)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(s16 + 16 * sb), pairs16(iq4xs_scales8(w)));
    for (int ib = 0; ib < 8; ++ib) store32(q + 32 * ib, _mm256_shuffle_epi8(tbl, nibbles(w + 8 + 16 * ib)));
  }
}

inline void q2_k(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float* mw16) {
  const __m256i m3 = _mm256_set1_epi8(3);
  for (int64_t sb = 0; sb < K / 256; ++sb, w += qb::kQ2_KBytes, q += 256) {
    const __m128 d = _mm_set1_ps(f16_at(w + 80)), ndmin = _mm_set1_ps(-f16_at(w + 82));
    _mm256_storeu_ps(dw + 8 * sb, _mm256_insertf128_ps(_mm256_castps128_ps256(d), ndmin, 1));
    const __m128i sc = load128(w), m4 = _mm_set1_epi8(15);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(s16 + 16 * sb), _mm256_cvtepu8_epi16(_mm_and_si128(sc, m4)));
    const __m128i m = _mm_and_si128(_mm_srli_epi16(sc, 4), m4);
    for (int h = 0; h < 2; ++h)
      _mm256_storeu_ps(mw16 + 16 * sb + 8 * h, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(h ? _mm_srli_si128(m, 8) : m)));
    for (int h = 0; h < 2; ++h) {
      const __m256i v = load256(w + 16 + 32 * h);
      store32(q + 128 * h, _mm256_and_si256(v, m3));
      store32(q + 128 * h + 32, _mm256_and_si256(_mm256_srli_epi16(v, 2), m3));
      store32(q + 128 * h + 64, _mm256_and_si256(_mm256_srli_epi16(v, 4), m3));
      store32(q + 128 * h + 96, _mm256_and_si256(_mm256_srli_epi16(v, 6), m3));
    }
  }
}

// Q3_K: the 16 scales of the 12 bytes at p (qb::q3k_scale) as int16: low
// nibbles of bytes 0..7, then their high nibbles; two high bits of group j
// at bit 2 * (j / 4) of byte 8 + j % 4.
inline __m256i q3k_scales16(const uint8_t* p) {
  const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)), m4 = _mm_set1_epi8(15);
  const __m128i low = _mm_unpacklo_epi64(_mm_and_si128(v, m4), _mm_and_si128(_mm_srli_epi16(v, 4), m4));
  const __m128i hb = _mm_shuffle_epi8(_mm_cvtsi32_si128(int(qb::load_u32(p + 8))),
                                      _mm_setr_epi8(0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3));
  return _mm256_sub_epi16(_mm256_or_si256(_mm256_cvtepu8_epi16(low), two_bit_fields16<false>(hb)),
                          _mm256_set1_epi16(32));
}

// The eight 32-block scales of IQ4_KS-style scale bytes (qb::iq4ks_scale).
inline __m256i iq4ks_scales8(const uint8_t* sc8) {
  return _mm256_sub_epi32(
      _mm256_and_si256(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc8))),
                       _mm256_set1_epi32(254)),
      _mm256_set1_epi32(127));
}

// IQ4_KS: the quants of 32-block ib of super-block w: one of the two
// codebooks (low bit of the scale byte). Its scale is D * iq4ks_scale(w[ib]).
inline __m256i iq4_ks_quants(const uint8_t* w, int ib) {
  const __m128i cb = load128(qb::iq4ks_codebook(w[ib]));
  return _mm256_shuffle_epi8(_mm256_set_m128i(cb, cb), nibbles(w + 8 + 16 * ib));
}

inline void iq4_ks(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float*) {
  float D;
  std::memcpy(&D, w, 4);
  w += qb::kIQ4_KSRowMeta;
  for (int64_t sb = 0; sb < K / 256; ++sb, w += qb::kIQ4_KSBytes, q += 256) {
    _mm256_storeu_ps(dw + 8 * sb, _mm256_set1_ps(D));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(s16 + 16 * sb), pairs16(iq4ks_scales8(w)));
    for (int ib = 0; ib < 8; ++ib) store32(q + 32 * ib, iq4_ks_quants(w, ib));
  }
}

// --- scales and codebook choices of ik's types, a super-block at a time ---

// IQ4_K / IQ5_K: the 16 scales (qb::iq4k_scale) minus 32, as int16.
inline __m256i iq4k_scales16(const uint8_t* w) {
  const __m128i hb = _mm_shuffle_epi8(_mm_cvtsi32_si128(int(qb::load_u32(w + 4))),
                                      _mm_setr_epi8(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3));
  const __m256i s = _mm256_or_si256(_mm256_cvtepu8_epi16(nibbles16_interleaved(w + 8)), two_bit_fields16<true>(hb));
  return _mm256_sub_epi16(s, _mm256_set1_epi16(32));
}

// Byte g of each 128-bit lane (g = 0..15): `shift` where bit g of the 16-bit
// field at p is set, else 0. ik's second codebooks are the first shifted by a
// constant (checked below), so an `extra` bit is an add after the lookup.
inline __m256i extra_shifts(const uint8_t* p, int8_t shift) {
  const __m256i spread =
      _mm256_shuffle_epi8(_mm256_set1_epi16(short(qb::load_u16(p))),
                          _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1,
                                           1, 1, 1, 1, 1, 1));
  const __m256i bit = _mm256_set1_epi64x(int64_t(0x8040201008040201ull));
  return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit), _mm256_set1_epi8(shift));
}
// The shifts of 16-groups g0 (low lane) and g1 (high lane), per byte.
inline __m256i group_shifts(__m256i es, int g0, int g1) {
  return _mm256_shuffle_epi8(es, _mm256_set_m128i(_mm_set1_epi8(char(g1)), _mm_set1_epi8(char(g0))));
}

constexpr bool is_shifted_copy(const int8_t* v, int n, int shift) {
  for (int i = 0; i < n; ++i)
    if (v[n + i] != v[i] + shift) return false;
  return true;
}
static_assert(is_shifted_copy(qb::kIQ4KValues, 16, 4) && is_shifted_copy(qb::kIQ2NLValues, 4, 5) &&
              is_shifted_copy(qb::kIQ3NLValues, 8, 4) && is_shifted_copy(qb::kIQ5NLValues, 32, 2) &&
              is_shifted_copy(qb::kIQ6NLValues, 64, 1));

inline __m256i table16(const int8_t* v) {  // 16 bytes in both lanes
  const __m128i t = load128(v);
  return _mm256_set_m128i(t, t);
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

// IQ2_K / IQ2_KS / IQ3_K / IQ3_KS: the indices of 32-block ib (qb::iq2_index,
// with qb::iq3_index's third bit where qh is given).
inline __m256i iq23_indices(const uint8_t* qs, const uint8_t* qh, int ib) {
  const __m256i v = _mm256_and_si256(_mm256_srli_epi16(load256(qs + 32 * (ib / 4)), 2 * (ib % 4)), _mm256_set1_epi8(3));
  return qh ? _mm256_or_si256(v, _mm256_slli_epi16(bit_of_bytes(load256(qh), ib), 2)) : v;
}

// (a & mask) | (b & ~mask), bitwise: one vpternlogd where AVX-512VL is there.
inline __m256i select_bits(__m256i a, __m256i b, __m256i mask) {
#ifdef __AVX512VL__
  return _mm256_ternarylogic_epi32(a, b, mask, 0xe4);
#else
  return _mm256_or_si256(_mm256_and_si256(a, mask), _mm256_andnot_si256(mask, b));
#endif
}
// (a & mask) | b, bitwise.
inline __m256i and_or(__m256i a, __m256i mask, __m256i b) {
#ifdef __AVX512VL__
  return _mm256_ternarylogic_epi32(a, b, mask, 0xec);
#else
  return _mm256_or_si256(_mm256_and_si256(a, mask), b);
#endif
}
// v >> n (n >= 0) or v << -n, per 16-bit word (n a constant: one shift at most).
template <int N>
inline __m256i shift_right16(__m256i v) {
  if constexpr (N > 0) return _mm256_srli_epi16(v, N);
  else if constexpr (N < 0) return _mm256_slli_epi16(v, -N);
  else return v;
}

// IQ2_K / IQ3_K, 32-block IB: the codebook index with the group's extra bit
// as its top bit (the codebooks' second halves are their first halves
// shifted: qb::kIQ2NLValues, qb::kIQ3NLValues), so that one shuffle of the
// whole table decodes it. qs the 32 bytes of the block's 2-bit fields, qh the
// high bits (IQ3), ex each byte's extra bit at the index's top bit.
template <bool IQ3, int IB>
__attribute__((always_inline)) inline __m256i iq23k_index(__m256i qs, __m256i qh, __m256i ex) {
  const __m256i lo = shift_right16<2 * (IB % 4)>(qs);
  if constexpr (IQ3) {
    const __m256i r = select_bits(lo, shift_right16<IB - 2>(qh), _mm256_set1_epi8(3));  // bit 2: qh bit IB
    return and_or(r, _mm256_set1_epi8(7), ex);
  } else {
    return and_or(lo, _mm256_set1_epi8(3), ex);
  }
}

// The base codebook of IQ2 (4 values) or IQ3 (8 values), zero-padded to a
// 16-byte shuffle table, in both lanes.
template <bool IQ3>
inline __m256i iq23_table() {
  const __m128i t = IQ3 ? _mm_loadl_epi64(reinterpret_cast<const __m128i*>(qb::kIQ3NLValues))
                        : _mm_cvtsi32_si128(int(qb::load_u32(reinterpret_cast<const uint8_t*>(qb::kIQ2NLValues))));
  return _mm256_set_m128i(t, t);
}

// IQ2_K / IQ3_K: the 16 group scales as int16 (qb::iq2k_scale / qb::iq3k_scale).
template <bool IQ3>
inline __m256i iq23k_scales16(const uint8_t* w) {
  if constexpr (IQ3) {
    const __m256i m = _mm256_add_epi16(_mm256_slli_epi16(_mm256_cvtepu8_epi16(nibbles16_interleaved(w + 6)), 1),
                                       _mm256_set1_epi16(1));
    const __m256i bit = _mm256_setr_epi16(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384,
                                          short(0x8000));
    const __m256i neg = _mm256_cmpeq_epi16(_mm256_and_si256(_mm256_set1_epi16(short(qb::load_u16(w + 4))), bit), bit);
    return _mm256_sub_epi16(_mm256_xor_si256(m, neg), neg);
  } else {
    return _mm256_sub_epi16(_mm256_cvtepu8_epi16(nibbles16_interleaved(w + 4)), _mm256_set1_epi16(8));
  }
}

// Eight fields of the 32 bits v as int32 lanes: field ib = (v >> shift[ib]) & mask.
inline __m256i fields8(uint32_t v, __m256i shifts, int mask) {
  return _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(int(v)), shifts), _mm256_set1_epi32(mask));
}
// Nibble shifts of the 32-block scales: nibble ib % 2 of byte ib / 2 (kIb2),
// or nibble ib / 4 of byte ib % 4.
inline __m256i nibble_shifts_ib2() { return _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28); }
inline __m256i nibble_shifts_ib4() { return _mm256_setr_epi32(0, 8, 16, 24, 4, 12, 20, 28); }

// IQ2_KS / IQ3_KS: the eight 32-block scales (qb::iq2ks_scale / qb::iq3ks_scale).
template <bool IQ3>
inline __m256i iq23ks_scales8(const uint8_t* w) {
  const uint32_t extra = qb::load_u16(w), sc = qb::load_u32(w + 2);
  const __m256i lo = fields8(sc, IQ3 ? nibble_shifts_ib4() : nibble_shifts_ib2(), 15);
  const __m256i hi = fields8(IQ3 ? extra : extra >> 8, _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), 1);
  return _mm256_sub_epi32(_mm256_or_si256(lo, _mm256_slli_epi32(hi, 4)), _mm256_set1_epi32(16));
}

// --- super-blocks in registers -------------------------------------------------
// One 256-element super-block of a row, decoded into registers: what the
// in-place decode multiplies directly and what the unpackers store. The
// quants are in the kernels' stored form (q + kSuperBlockOffset: Q3_K's are
// 0..7), dw is the scale of each 32-block (lane = block; one value over the
// super-block for the super-block order's types) and s16 the 16-group
// multipliers of the types that have them.
struct SuperBlock {
  __m256i q[8];
  __m256 dw;
  __m256i s16;
};

#include "ops/matmul/simd_iq_grid.h"

template <GgmlType T>
constexpr bool kSuperBlock = kGridType<T> || T == GgmlType::Q3_K || T == GgmlType::IQ4_K || T == GgmlType::IQ5_K ||
                             T == GgmlType::IQ6_K || T == GgmlType::IQ2_K || T == GgmlType::IQ3_K ||
                             T == GgmlType::IQ2_KS || T == GgmlType::IQ3_KS || T == GgmlType::IQ5_KS ||
                             T == GgmlType::IQ4_KSS || T == GgmlType::IQ2_KL;
template <GgmlType T>
constexpr int kSuperBlockOffset = T == GgmlType::Q3_K ? 4 : 0;

// The row-scaled types keep an f32 (IQ5_KS, IQ4_KSS) or fp16 (IQ2_KS, IQ3_KS,
// IQ2_KL) row scale in front of the super-blocks.
inline float f32_at(const uint8_t* p) {
  float f;
  std::memcpy(&f, p, 4);
  return f;
}

// Calls f(std::integral_constant<int, I>) for I = 0 .. 7, unrolled.
template <typename F>
__attribute__((always_inline)) inline void unroll8(F&& f) {
  [&]<int... I>(std::integer_sequence<int, I...>) { (f(std::integral_constant<int, I>{}), ...); }(
      std::make_integer_sequence<int, 8>{});
}

// Add: a constant the caller wants added to every quant (the kernels' stored
// offset), folded into the codebook table where there is one.
template <GgmlType T, int Add = 0>
__attribute__((always_inline)) inline void super_block(const uint8_t* row, int64_t sb, SuperBlock& B) {
  if constexpr (Add != 0 && T != GgmlType::IQ2_K && T != GgmlType::IQ3_K) {
    super_block<T>(row, sb, B);
    for (int ib = 0; ib < 8; ++ib) B.q[ib] = _mm256_add_epi8(B.q[ib], _mm256_set1_epi8(char(Add)));
    return;
  }
  if constexpr (kGridType<T>) {
    grid_super_block<T>(row, sb, B);
  } else if constexpr (T == GgmlType::Q3_K) {
    // value = lo - 4 when the high bit is clear, lo when it is set: stored lo | hb << 2
    const uint8_t* w = row + size_t(sb) * qb::kQ3_KBytes;
    const __m256i m3 = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
    B.dw = _mm256_set1_ps(f16_at(w + 108));
    B.s16 = q3k_scales16(w + 96);
    const __m256i hm = load256(w);
    for (int h = 0; h < 2; ++h) {
      const __m256i v = load256(w + 32 + 32 * h);
      for (int c = 0; c < 4; ++c) {
        const __m256i lo = _mm256_and_si256(_mm256_srli_epi16(v, 2 * c), m3);
        const __m256i hb = _mm256_and_si256(_mm256_srli_epi16(hm, 4 * h + c), one);
        B.q[4 * h + c] = _mm256_or_si256(lo, _mm256_slli_epi16(hb, 2));
      }
    }
  } else if constexpr (T == GgmlType::IQ4_K) {
    // the low nibbles of a 32-block are its first 16-group, the high nibbles
    // its second; base codebook + 4 where the group's extra bit is set
    const uint8_t* w = row + size_t(sb) * qb::kIQ4_KBytes;
    const __m256i tbl = table16(qb::kIQ4KValues), es = extra_shifts(w + 2, 4);
    B.dw = _mm256_set1_ps(f16_at(w));
    B.s16 = iq4k_scales16(w);
    for (int ib = 0; ib < 8; ++ib)
      B.q[ib] = _mm256_add_epi8(_mm256_shuffle_epi8(tbl, nibbles(w + 16 + 16 * ib)), group_shifts(es, 2 * ib, 2 * ib + 1));
  } else if constexpr (T == GgmlType::IQ5_K) {
    const uint8_t* w = row + size_t(sb) * qb::kIQ5_KBytes;
    const __m256i lo = table16(qb::kIQ5NLValues), hi = table16(qb::kIQ5NLValues + 16), es = extra_shifts(w + 2, 2);
    const __m256i qh = load256(w + 144);
    B.dw = _mm256_set1_ps(f16_at(w));
    B.s16 = iq4k_scales16(w);
    for (int ib = 0; ib < 8; ++ib)
      B.q[ib] = _mm256_add_epi8(lookup32(lo, hi, iq5_indices(w + 16, qh, ib)), group_shifts(es, 2 * ib, 2 * ib + 1));
  } else if constexpr (T == GgmlType::IQ6_K) {
    // 6-bit indices (qb::iq6_index): four 16-entry lookups chosen by index
    // bits 4 and 5, + 1 where the group's extra bit is set
    const uint8_t* w = row + size_t(sb) * qb::kIQ6_KBytes;
    const __m256i m15 = _mm256_set1_epi8(15), m3 = _mm256_set1_epi8(3), es = extra_shifts(w + 2, 1);
    B.dw = _mm256_set1_ps(f16_at(w));
    B.s16 = _mm256_cvtepi8_epi16(load128(w + 4));
    for (int ib = 0; ib < 8; ++ib) {
      const __m256i v = load256(w + 20 + 32 * (ib / 2));
      const __m256i n = _mm256_and_si256(ib % 2 ? _mm256_srli_epi16(v, 4) : v, m15);
      const __m256i h = _mm256_and_si256(
          _mm256_srli_epi16(load256(w + 148 + 32 * (ib / 4)), 4 * ((ib / 2) % 2) + 2 * (ib % 2)), m3);
      __m256i r[4];
      for (int k = 0; k < 4; ++k) r[k] = _mm256_shuffle_epi8(table16(qb::kIQ6NLValues + 16 * k), n);
      const __m256i sel4 = _mm256_slli_epi16(h, 7), sel5 = _mm256_slli_epi16(h, 6);  // bit 0 / bit 1 of h to bit 7
      const __m256i r01 = _mm256_blendv_epi8(r[0], r[1], sel4), r23 = _mm256_blendv_epi8(r[2], r[3], sel4);
      B.q[ib] = _mm256_add_epi8(_mm256_blendv_epi8(r01, r23, sel5), group_shifts(es, 2 * ib, 2 * ib + 1));
    }
  } else if constexpr (T == GgmlType::IQ2_K || T == GgmlType::IQ3_K) {
    // base codebook + 5 (IQ2) / + 4 (IQ3) where the group's extra bit is
    // set: the codebook's second half, the extra bit as the index's top bit
    // (plus Add in the table itself)
    constexpr bool IQ3 = T == GgmlType::IQ3_K;
    constexpr int kBytes = IQ3 ? qb::kIQ3_KBytes : qb::kIQ2_KBytes, kQs = IQ3 ? 14 : 12;
    const uint8_t* w = row + size_t(sb) * kBytes;
    const __m128i t = IQ3 ? load128(qb::kIQ3NLValues) : _mm_loadl_epi64(reinterpret_cast<const __m128i*>(qb::kIQ2NLValues));
    const __m256i tbl = _mm256_add_epi8(_mm256_set_m128i(t, t), _mm256_set1_epi8(char(Add)));
    const __m256i ex = extra_shifts(w + 2, IQ3 ? 8 : 4);
    B.dw = _mm256_set1_ps(f16_at(w));
    B.s16 = iq23k_scales16<IQ3>(w);
    const __m256i qs0 = load256(w + kQs), qs1 = load256(w + kQs + 32);
    const __m256i qh = IQ3 ? load256(w + 78) : _mm256_setzero_si256();
    unroll8([&](auto IB) {
      constexpr int ib = IB;
      const __m256i idx = iq23k_index<IQ3, ib>(ib < 4 ? qs0 : qs1, qh, group_shifts(ex, 2 * ib, 2 * ib + 1));
      B.q[ib] = _mm256_shuffle_epi8(tbl, idx);
    });
    return;
  } else if constexpr (T == GgmlType::IQ2_KS || T == GgmlType::IQ3_KS) {
    // fp16 row scale, a codebook per 32-block (bit ib / 8 + ib of extra)
    constexpr bool IQ3 = T == GgmlType::IQ3_KS;
    const uint8_t* w = row + qb::kF16RowMeta + size_t(sb) * (IQ3 ? qb::kIQ3_KSBytes : qb::kIQ2_KSBytes);
    const __m256i tbl = iq23_table<IQ3>(), es = extra_shifts(w, IQ3 ? 4 : 5);
    B.dw = _mm256_set1_ps(f16_at(row));
    B.s16 = pairs16(iq23ks_scales8<IQ3>(w));
    for (int ib = 0; ib < 8; ++ib) {
      const int g = IQ3 ? 8 + ib : ib;
      B.q[ib] = _mm256_add_epi8(_mm256_shuffle_epi8(tbl, iq23_indices(w + 6, IQ3 ? w + 70 : nullptr, ib)),
                                group_shifts(es, g, g));
    }
  } else if constexpr (T == GgmlType::IQ5_KS) {
    // f32 row scale; the codebook (+ 2) by the low bit of each 32-block's scale byte
    const uint8_t* w = row + qb::kF32RowMeta + size_t(sb) * qb::kIQ5_KSBytes;
    const __m256i lo = table16(qb::kIQ5NLValues), hi = table16(qb::kIQ5NLValues + 16), one = _mm256_set1_epi8(1);
    const __m256i qh = load256(w + 136);
    B.dw = _mm256_set1_ps(f32_at(row));
    B.s16 = pairs16(iq4ks_scales8(w));
    for (int ib = 0; ib < 8; ++ib) {
      const __m256i shift = _mm256_slli_epi16(_mm256_and_si256(_mm256_set1_epi8(char(w[ib])), one), 1);
      B.q[ib] = _mm256_add_epi8(lookup32(lo, hi, iq5_indices(w + 8, qh, ib)), shift);
    }
  } else if constexpr (T == GgmlType::IQ4_KSS) {
    // the eight words of a 32-block decoded at once (qb::iq4kss_unpack), the
    // scale byte gathered from their low bits
    const uint8_t* w = row + qb::kF32RowMeta + size_t(sb) * qb::kIQ4_KSSBytes;
    const __m128i keep = _mm_set1_epi16(short(0xfffe)), m4 = _mm_set1_epi8(15);
    const __m128i even_bytes = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1);
    alignas(8) uint8_t sc[8];
    for (int ib = 0; ib < 8; ++ib) {
      const __m128i b = load128(w + 16 * ib);
      // bit 0 of each word's low byte to bit 7, those bytes first, their top bits
      sc[ib] = uint8_t(_mm_movemask_epi8(_mm_shuffle_epi8(_mm_slli_epi16(b, 7), even_bytes)));
      const __m128i a = _mm_and_si128(b, keep);
      const __m128i v = _mm_xor_si128(a, _mm_srli_epi16(a, 1));
      const __m128i cb = load128(qb::iq4ks_codebook(sc[ib]));
      const __m256i n = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), m4), _mm_and_si128(v, m4));
      B.q[ib] = _mm256_shuffle_epi8(_mm256_set_m128i(cb, cb), n);
    }
    B.dw = _mm256_set1_ps(f32_at(row));
    B.s16 = pairs16(iq4ks_scales8(sc));
  } else if constexpr (T == GgmlType::IQ2_KL) {
    // the 16 pair indices of a 32-block (qb::iq2kl_index) look up the pairs'
    // low and high bytes (two 32-entry tables), then interleave them
    const uint8_t* w = row + qb::kF16RowMeta + size_t(sb) * qb::kIQ2_KLBytes;
    const __m128i split = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
    __m128i c[4];
    for (int k = 0; k < 4; ++k) c[k] = _mm_shuffle_epi8(load128(qb::kIQ2KLPairs + 8 * k), split);
    // lo[0] / hi[0] the low / high bytes of pairs 0..15, lo[1] / hi[1] of 16..31
    const __m128i lo[2] = {_mm_unpacklo_epi64(c[0], c[1]), _mm_unpacklo_epi64(c[2], c[3])};
    const __m128i hi[2] = {_mm_unpackhi_epi64(c[0], c[1]), _mm_unpackhi_epi64(c[2], c[3])};
    const __m128i m15 = _mm_set1_epi8(15), one = _mm_set1_epi8(1);
    // the eight scales (qb::iq2kl_scale): nibble ib / 4 of byte ib % 4, two high bits at 2 * ib
    const __m256i sc = _mm256_or_si256(
        fields8(qb::load_u32(w + 2), nibble_shifts_ib4(), 15),
        _mm256_slli_epi32(fields8(qb::load_u16(w), _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14), 3), 4));
    B.dw = _mm256_set1_ps(f16_at(row));
    B.s16 = pairs16(_mm256_sub_epi32(sc, _mm256_set1_epi32(32)));
    const __m128i qh = load128(w + 70);
    for (int ib = 0; ib < 8; ++ib) {
      const __m128i v = load128(w + 6 + 16 * (ib / 2));
      const __m128i n = _mm_and_si128(ib % 2 ? _mm_srli_epi16(v, 4) : v, m15);
      const __m128i sel = _mm_slli_epi16(_mm_and_si128(_mm_srli_epi16(qh, ib), one), 7);  // index bit 4
      const __m128i l = _mm_blendv_epi8(_mm_shuffle_epi8(lo[0], n), _mm_shuffle_epi8(lo[1], n), sel);
      const __m128i h = _mm_blendv_epi8(_mm_shuffle_epi8(hi[0], n), _mm_shuffle_epi8(hi[1], n), sel);
      B.q[ib] = _mm256_set_m128i(_mm_unpackhi_epi8(l, h), _mm_unpacklo_epi8(l, h));
    }
  }
}

// The unpacker of a super-block type: its registers stored (q back to signed).
template <GgmlType T>
void super_blocks(const uint8_t* row, int64_t K, int8_t* q, float* dw, int16_t* s16, float*) {
  const __m256i off = _mm256_set1_epi8(char(kSuperBlockOffset<T>));
  for (int64_t sb = 0; sb < K / 256; ++sb) {
    SuperBlock B;
    super_block<T>(row, sb, B);
    for (int ib = 0; ib < 8; ++ib) store32(q + 256 * sb + 32 * ib, _mm256_sub_epi8(B.q[ib], off));
    _mm256_storeu_ps(dw + 8 * sb, B.dw);
    if constexpr (unpack::entry(T).traits.s16)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(s16 + 16 * sb), B.s16);
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

}  // namespace fast

// The unpacker of type T for this ISA.
template <GgmlType T>
constexpr unpack::Fn fast_unpack() {
  if constexpr (fast::kBlock32<T>)
    return fast::block32<T>;
  else if constexpr (T == GgmlType::IQ4_XS)
    return fast::iq4_xs;
  else if constexpr (T == GgmlType::Q2_K)
    return fast::q2_k;
  else if constexpr (fast::kSuperBlock<T>)
    return fast::super_blocks<T>;
  else if constexpr (T == GgmlType::IQ4_KS)
    return fast::iq4_ks;
  else if constexpr (T == GgmlType::Q4_K)
    return fast::q45_k<false>;
  else if constexpr (T == GgmlType::Q5_K)
    return fast::q45_k<true>;
  else if constexpr (T == GgmlType::Q6_K)
    return fast::q6_k;
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
    if constexpr (NT * MT == 16) {
      if (k == K) {  // no tail: the 16 sums at once, the same bits
        float s[16];
        FVec::sum16(&acc[0][0], s);
        for (int r = 0; r < NT; ++r)
          for (int j = 0; j < MT; ++j) t.Y[(m + j) * t.ldy + n + r] = s[r * MT + j];
        return;
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
