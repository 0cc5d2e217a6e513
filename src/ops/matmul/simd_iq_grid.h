// Internal: SIMD unpackers of the mainline codebook ("grid") types IQ1_S ..
// IQ3_S (super-blocks in registers: simd_impl.h's SuperBlock) and the MXFP4
// unpacker, with the scalar unpackers' bytes exactly (unpack_iq.h; the block
// fields are decoded as qb::iq*_sub do). Included by simd_impl.h only, inside
// its namespace fast: uses its helpers (f16_at, load256, load128, store32,
// nibbles, bit_mask32, SuperBlock).
// No include guard: one inclusion.
//
// The codebook entries are looked up one by one (scalar loads: an AVX2
// gather was slower on the Zen 3 core measured) and inserted into the
// 32-block's vector; signs, deltas and scales are vector operations, the
// sign bits and scales of a super-block at once. No branch on data: sign and
// delta bits are random.

// The 32 values of a 32-block from four 8-value entries (element 8l + j =
// byte j of gl).
inline __m256i grid_block(uint64_t g0, uint64_t g1, uint64_t g2, uint64_t g3) {
  return _mm256_set_epi64x(int64_t(g3), int64_t(g2), int64_t(g1), int64_t(g0));
}

// The same from eight 4-value entries (IQ3 grids), as two 128-bit halves
// (cheaper than pairing them in 64-bit registers).
inline __m256i grid_block(uint32_t e0, uint32_t e1, uint32_t e2, uint32_t e3, uint32_t e4, uint32_t e5, uint32_t e6,
                          uint32_t e7) {
  return _mm256_set_m128i(_mm_setr_epi32(int(e4), int(e5), int(e6), int(e7)),
                          _mm_setr_epi32(int(e0), int(e1), int(e2), int(e3)));
}

inline uint64_t load_u64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// v with the elements whose bit is set in `neg` (byte mask, 0xff: negative)
// negated: (v ^ m) - m.
inline __m256i negate_where(__m256i v, __m256i neg) { return _mm256_sub_epi8(_mm256_xor_si256(v, neg), neg); }

// The sign bits of 8 sub-blocks (dword ib: sub-block ib's 32 bits) arranged
// for sign_mask: bytes 0, 1 of each dword in the low lane, bytes 2, 3 in the
// high lane (what bit_mask32 reads of a word), sub-block ib at bytes 2ib, 2ib + 1.
inline __m256i signs_by_lane(__m256i s) {
  const __m256i split = _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15,
                                         0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15);
  return _mm256_permute4x64_epi64(_mm256_shuffle_epi8(s, split), 0xd8);
}

// bit_mask32 of sub-block ib's sign bits in signs_by_lane's arrangement: a
// shuffle per sub-block instead of a cross-lane broadcast.
inline __m256i sign_mask(__m256i by_lane, int ib) {
  const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                          0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
  const __m256i bytes = _mm256_shuffle_epi8(by_lane, _mm256_add_epi8(spread, _mm256_set1_epi8(char(2 * ib))));
  const __m256i bit = _mm256_set1_epi64x(int64_t(0x8040201008040201ull));
  return _mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit), bit);
}

// Each byte of x a 7-bit sign index (bit 7 clear) -> its 8 sign bits
// (qb::iq_signs8): bit 7 set when the index has odd parity. After the three
// xor-shifts, bit 0 of a byte holds the xor of that byte's 8 bits (the 16-bit
// shifts move other bytes' bits only into bits 1 .. 7, which are dropped).
inline __m256i signs_of_index7(__m256i x) {
  __m256i p = _mm256_xor_si256(x, _mm256_srli_epi16(x, 4));
  p = _mm256_xor_si256(p, _mm256_srli_epi16(p, 2));
  p = _mm256_xor_si256(p, _mm256_srli_epi16(p, 1));
  return _mm256_or_si256(x, _mm256_slli_epi16(_mm256_and_si256(p, _mm256_set1_epi8(1)), 7));
}

// IQ2_XXS / IQ3_XXS: the u32 word of each of the 8 sub-blocks (dwords of a)
// holds four 7-bit sign indices at bits 0, 7, 14, 21 and the scale at 28:
// the 32 sign bits of each sub-block, dword for dword (for signs_by_lane).
inline __m256i signs_of_aux(__m256i a) {
  const __m256i m = _mm256_set1_epi32(0x7f);
  __m256i x = _mm256_and_si256(a, m);
  x = _mm256_or_si256(x, _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(a, 7), m), 8));
  x = _mm256_or_si256(x, _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(a, 14), m), 16));
  x = _mm256_or_si256(x, _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(a, 21), m), 24));
  return signs_of_index7(x);
}

// 2s + 1 of 8 int32 scales s (IQ2_XXS, IQ3_XXS, IQ3_S, IQ1_S: lane = block).
inline __m256i odd32(__m256i s) { return _mm256_or_si256(_mm256_slli_epi32(s, 1), _mm256_set1_epi32(1)); }

// IQ2_XS / IQ2_S / IQ1_M: s16 = 2s + 1 (dw = d / 8 for all 8 sub-blocks).
inline __m256i odd_scales(__m256i s) { return _mm256_or_si256(_mm256_slli_epi16(s, 1), _mm256_set1_epi16(1)); }

// IQ2_XS / IQ2_S: the 16 4-bit scales of the 8 bytes at sc, low nibble
// first, as int16.
inline __m256i nibble_scales(const uint8_t* sc) {
  const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc)), m4 = _mm_set1_epi8(15);
  return _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(_mm_and_si128(b, m4), _mm_and_si128(_mm_srli_epi16(b, 4), m4)));
}

// IQ1_S / IQ1_M: q = 8g + delta (delta +-1 per byte, g the int8 grid values
// -1, 0, 1). The 16-bit shift carries the low byte's top bits into the high
// byte's low 3 bits, which the mask clears.
inline __m256i iq1_values(__m256i g, __m256i delta) {
  return _mm256_add_epi8(_mm256_and_si256(_mm256_slli_epi16(g, 3), _mm256_set1_epi8(char(0xf8))), delta);
}

template <GgmlType T>
constexpr bool kGridType = T == GgmlType::IQ2_XXS || T == GgmlType::IQ3_XXS || T == GgmlType::IQ2_XS ||
                           T == GgmlType::IQ2_S || T == GgmlType::IQ3_S || T == GgmlType::IQ1_S ||
                           T == GgmlType::IQ1_M;

// Super-block sb of a grid-type row in registers (simd_impl.h's SuperBlock).
template <GgmlType T>
__attribute__((always_inline)) inline void grid_super_block(const uint8_t* row, int64_t sb, SuperBlock& B) {
  if constexpr (T == GgmlType::IQ2_XXS) {
    const uint8_t* w = row + size_t(sb) * qb::kIQ2_XXSBytes;
    const __m256i odd = _mm256_setr_epi32(1, 3, 5, 7, 1, 3, 5, 7);
    // sub-block ib: 4 index bytes, then its u32 word, at w + 2 + 8ib: the odd dwords
    const __m256i a = _mm256_blend_epi32(_mm256_permutevar8x32_epi32(load256(w + 2), odd),
                                         _mm256_permutevar8x32_epi32(load256(w + 34), odd), 0xf0);
    B.dw = _mm256_set1_ps(f16_at(w) * 0.125f);  // d * (0.5 + ls) / 4 = (d / 8) * (2ls + 1)
    B.s16 = pairs16(odd32(_mm256_srli_epi32(a, 28)));
    const __m256i signs = signs_by_lane(signs_of_aux(a));
    for (int ib = 0; ib < 8; ++ib) {
      const uint8_t* p = w + 2 + 8 * ib;
      const uint64_t* G = qb::kIQ2XXSGrid;
      B.q[ib] = negate_where(grid_block(G[p[0]], G[p[1]], G[p[2]], G[p[3]]), sign_mask(signs, ib));
    }
  } else if constexpr (T == GgmlType::IQ3_XXS) {
    const uint8_t* w = row + size_t(sb) * qb::kIQ3_XXSBytes;
    const __m256i a = load256(w + 66);  // the 8 sub-blocks' u32 words
    B.dw = _mm256_set1_ps(f16_at(w) * 0.25f);  // d * (0.5 + ls) / 2 = (d / 4) * (2ls + 1)
    B.s16 = pairs16(odd32(_mm256_srli_epi32(a, 28)));
    const __m256i signs = signs_by_lane(signs_of_aux(a));
    for (int ib = 0; ib < 8; ++ib) {
      const uint8_t* p = w + 2 + 8 * ib;
      const uint32_t* G = qb::kIQ3XXSGrid;
      const __m256i g = grid_block(G[p[0]], G[p[1]], G[p[2]], G[p[3]], G[p[4]], G[p[5]], G[p[6]], G[p[7]]);
      B.q[ib] = negate_where(g, sign_mask(signs, ib));
    }
  } else if constexpr (T == GgmlType::IQ2_XS) {
    const uint8_t* w = row + size_t(sb) * qb::kIQ2_XSBytes;
    B.dw = _mm256_set1_ps(f16_at(w) * 0.125f);
    B.s16 = odd_scales(nibble_scales(w + 66));
    // the 32 u16 of qs (9-bit grid index | 7-bit sign index << 9): sign indices as bytes, in order
    const __m256i packed = _mm256_packus_epi16(_mm256_srli_epi16(load256(w + 2), 9), _mm256_srli_epi16(load256(w + 34), 9));
    const __m256i signs = signs_by_lane(signs_of_index7(_mm256_permute4x64_epi64(packed, 0xd8)));
    for (int ib = 0; ib < 8; ++ib) {
      const uint64_t v = load_u64(w + 2 + 8 * ib);
      const uint64_t* G = qb::kIQ2XSGrid;
      const __m256i g = grid_block(G[v & 511], G[(v >> 16) & 511], G[(v >> 32) & 511], G[(v >> 48) & 511]);
      B.q[ib] = negate_where(g, sign_mask(signs, ib));
    }
  } else if constexpr (T == GgmlType::IQ2_S) {
    const uint8_t* w = row + size_t(sb) * qb::kIQ2_SBytes;
    B.dw = _mm256_set1_ps(f16_at(w) * 0.125f);
    B.s16 = odd_scales(nibble_scales(w + 74));
    for (int ib = 0; ib < 8; ++ib) {
      const uint8_t* qs = w + 2 + 4 * ib;
      const uint32_t qh = w[66 + ib];  // 2 high index bits per group
      const uint64_t* G = qb::kIQ2SGrid;
      const __m256i g = grid_block(G[qs[0] | (qh << 8 & 0x300)], G[qs[1] | (qh << 6 & 0x300)],
                                   G[qs[2] | (qh << 4 & 0x300)], G[qs[3] | (qh << 2 & 0x300)]);
      B.q[ib] = negate_where(g, bit_mask32(qb::load_u32(w + 34 + 4 * ib)));
    }
  } else if constexpr (T == GgmlType::IQ3_S) {
    const uint8_t* w = row + size_t(sb) * qb::kIQ3_SBytes;
    // d * (1 + 2s): dw = d, s16 = 1 + 2s, s the nibble ib of the 4 scale bytes
    const __m256i s = _mm256_and_si256(
        _mm256_srlv_epi32(_mm256_set1_epi32(int(qb::load_u32(w + 106))), _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28)),
        _mm256_set1_epi32(15));
    B.dw = _mm256_set1_ps(f16_at(w));
    B.s16 = pairs16(odd32(s));
    for (int ib = 0; ib < 8; ++ib) {
      const uint8_t* p = w + 2 + 8 * ib;
      const uint32_t qh = w[66 + ib];  // bit i: the 9th bit of index i
      const uint32_t* G = qb::kIQ3SGrid;
      const __m256i g = grid_block(G[p[0] | (qh << 8 & 0x100)], G[p[1] | (qh << 7 & 0x100)], G[p[2] | (qh << 6 & 0x100)],
                                   G[p[3] | (qh << 5 & 0x100)], G[p[4] | (qh << 4 & 0x100)], G[p[5] | (qh << 3 & 0x100)],
                                   G[p[6] | (qh << 2 & 0x100)], G[p[7] | (qh << 1 & 0x100)]);
      B.q[ib] = negate_where(g, bit_mask32(qb::load_u32(w + 74 + 4 * ib)));
    }
  } else if constexpr (T == GgmlType::IQ1_S) {
    const uint8_t* w = row + size_t(sb) * qb::kIQ1_SBytes;
    // d * (2s + 1) / 8: dw = d / 8, s16 = 2s + 1, s bits 12..14 of sub-block ib's qh word
    const __m256i s = _mm256_and_si256(_mm256_srli_epi32(_mm256_cvtepu16_epi32(load128(w + 34)), 12), _mm256_set1_epi32(7));
    B.dw = _mm256_set1_ps(f16_at(w) * 0.125f);
    B.s16 = pairs16(odd32(s));
    for (int ib = 0; ib < 8; ++ib) {
      const uint8_t* qs = w + 2 + 4 * ib;
      const uint32_t qh = qb::load_u16(w + 34 + 2 * ib);  // 3 high index bits per group; bit 15 the delta sign
      const uint64_t* G = qb::kIQ1SGrid;
      const __m256i g = grid_block(G[qs[0] | (qh << 8 & 0x700)], G[qs[1] | (qh << 5 & 0x700)],
                                   G[qs[2] | (qh << 2 & 0x700)], G[qs[3] | (qh >> 1 & 0x700)]);
      // -1 where bit 15 is set, else +1 (no branch: the bit is random)
      const __m256i neg = _mm256_srai_epi16(_mm256_set1_epi16(short(qh)), 15);
      B.q[ib] = iq1_values(g, _mm256_or_si256(neg, _mm256_set1_epi8(1)));
    }
  } else if constexpr (T == GgmlType::IQ1_M) {
    const uint8_t* w = row + size_t(sb) * qb::kIQ1_MBytes;
    // s16: group f (0..15) has the 3-bit scale at bit 3 * (f % 4) of u16 word
    // f / 4 (at byte 48): each int16 lane takes its word, shifts the field to
    // the top (a multiply: AVX2 has no per-lane 16-bit shift), then down.
    const __m256i words = _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3,
                                           4, 5, 4, 5, 4, 5, 4, 5, 6, 7, 6, 7, 6, 7, 6, 7);
    const __m256i to_top = _mm256_setr_epi16(1 << 13, 1 << 10, 1 << 7, 1 << 4, 1 << 13, 1 << 10, 1 << 7, 1 << 4,
                                             1 << 13, 1 << 10, 1 << 7, 1 << 4, 1 << 13, 1 << 10, 1 << 7, 1 << 4);
    // the delta sign of group l: bit 4l + 3 of the sub-block's qh word
    const __m256i delta_bits = _mm256_setr_epi64x(0x8, 0x80, 0x800, 0x8000);
    const __m256i one = _mm256_set1_epi8(1);
    const __m256i sw = _mm256_shuffle_epi8(_mm256_set1_epi64x(int64_t(load_u64(w + 48))), words);
    B.dw = _mm256_set1_ps(_cvtsh_ss(qb::iq1m_d_bits(w)) * 0.125f);
    B.s16 = odd_scales(_mm256_srli_epi16(_mm256_mullo_epi16(sw, to_top), 13));
    for (int ib = 0; ib < 8; ++ib) {
      const uint8_t* qs = w + 4 * ib;
      const uint32_t qh = qb::load_u16(w + 32 + 2 * ib);  // a nibble per group: 3 high index bits, the delta sign
      const uint64_t* G = qb::kIQ1SGrid;
      const __m256i g = grid_block(G[qs[0] | (qh << 8 & 0x700)], G[qs[1] | (qh << 4 & 0x700)],
                                   G[qs[2] | (qh & 0x700)], G[qs[3] | (qh >> 4 & 0x700)]);
      const __m256i neg = _mm256_cmpeq_epi64(_mm256_and_si256(_mm256_set1_epi64x(qh), delta_bits), delta_bits);
      B.q[ib] = iq1_values(g, _mm256_or_si256(neg, one));  // -1 where negative, else +1
    }
  }
}

// MXFP4: the doubled FP4 values by a 16-entry table, half the E8M0 scale.
inline void mxfp4(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t*, float*) {
  const __m128i t = load128(qb::kMXFP4Values);
  const __m256i tbl = _mm256_set_m128i(t, t);
  for (int64_t b = 0; b < K / 32; ++b, w += qb::kMXFP4Bytes) {
    dw[b] = qb::e8m0_half(w[0]);
    store32(q + 32 * b, _mm256_shuffle_epi8(tbl, nibbles(w + 1)));
  }
}
