// Block layouts of the quantized types (kernels.md §2), as byte offsets and
// small unpack helpers shared by the row decoders (formats/) and the matmul
// kernels (ops/). Everything here has internal linkage (static): this header
// is included by files compiled for different ISAs, and an inline function
// with external linkage could be merged across them by the linker.
#pragma once
#include <cstdint>
#include <cstring>

#include "formats/iq_grids.h"

namespace dllm::qb {

// Legacy 32-element blocks.
constexpr int kQK = 32;
constexpr int kQ4_0Bytes = 18;   // d f16; qs[16]
constexpr int kQ4_1Bytes = 20;   // d f16; m f16; qs[16]
constexpr int kQ5_0Bytes = 22;   // d f16; qh u32; qs[16]
constexpr int kQ5_1Bytes = 24;   // d f16; m f16; qh u32; qs[16]
constexpr int kQ8_0Bytes = 34;   // d f16; qs[32] int8
constexpr int kIQ4_NLBytes = 18; // d f16; qs[16]
constexpr int kMXFP4Bytes = 17;  // e u8 (E8M0 scale); qs[16] (FP4 codes, legacy nibble order)

// 256-element super-blocks.
constexpr int kQK_K = 256;
constexpr int kQ2_KBytes = 84;   // scales[16]; qs[64]; d f16 @80; dmin f16 @82
constexpr int kQ3_KBytes = 110;  // hmask[32]; qs[64] @32; scales[12] @96; d f16 @108
constexpr int kQ4_KBytes = 144;  // d @0; dmin @2; scales[12] @4; qs[128] @16
constexpr int kQ5_KBytes = 176;  // d @0; dmin @2; scales[12] @4; qh[32] @16; qs[128] @48
constexpr int kQ6_KBytes = 210;  // ql[128]; qh[64] @128; scales[16] int8 @192; d f16 @208
constexpr int kIQ4_XSBytes = 136;  // d @0; scales_h u16 @2; scales_l[4] @4; qs[128] @8
// Mainline grid types: 32-element sub-blocks built from
// 8-value (IQ1/IQ2) or 4-value (IQ3) codebook entries.
constexpr int kIQ2_XXSBytes = 66;  // d f16; per sub-block 8 B @2+8ib: 4 grid bytes, u32 signs 4x7 | scale << 28
constexpr int kIQ2_XSBytes = 74;   // d f16; qs[32] u16 @2 (grid 9 bits | sign index << 9); scales[8] @66
constexpr int kIQ2_SBytes = 82;    // d f16; qs[32] @2 (grid low 8 bits); signs[32] @34; qh[8] @66; scales[8] @74
constexpr int kIQ3_XXSBytes = 98;  // d f16; qs[64] @2 (grid indices); u32 signs 4x7 | scale << 28 [8] @66
constexpr int kIQ3_SBytes = 110;   // d f16; qs[64] @2; qh[8] @66; signs[32] @74; scales[4] @106
constexpr int kIQ1_SBytes = 50;    // d f16; qs[32] @2; qh[8] u16 @34 (grid high 3x3 | scale << 12 | delta sign)
constexpr int kIQ1_MBytes = 56;    // qs[32]; qh[16] @32; scales[8] @48 (four u16: 4x3-bit scales | a d nibble)

// ik-specific 256-element super-blocks (kernels.md §2.5).
constexpr int kIQ4_KBytes = 144;   // d f16 @0; extra u16 @2; scales_h[4] @4; scales_l[8] @8; qs[128] @16
constexpr int kIQ4_KSBytes = 136;  // scales[8] @0; qs[128] @8 (each row starts with an f32 scale)
constexpr int kIQ4_KSRowMeta = 4;

// The IQ4_NL / IQ4_XS codebook.
static constexpr int8_t kIQ4Values[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                          1,    13,   25,  38,  53,  69,  89,  113};
// The IQ4_K / IQ4_KS codebooks: the IQ4_NL values, then the same plus 4.
static constexpr int8_t kIQ4KValues[32] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
                                           -123, -100, -79, -61, -45, -31, -18, -6,  5, 17, 29, 42, 57, 73, 93, 117};

// MXFP4's FP4 (E2M1) values, doubled so that they are integers; the block
// scale is halved to match (e8m0_half).
static constexpr int8_t kMXFP4Values[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

static inline uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
static inline uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Legacy nibble order: element i < 16 is the low nibble of qs[i], element
// i >= 16 the high nibble of qs[i - 16].
static inline int nibble32(const uint8_t* qs, int i) {
  return i < 16 ? (qs[i] & 15) : (qs[i - 16] >> 4);
}

// Q4_K / Q5_K: the 12 bytes b hold eight 6-bit scales and eight 6-bit mins.
static inline void k_scale_min(const uint8_t* b, int j, int* sc, int* m) {
  if (j < 4) {
    *sc = b[j] & 63;
    *m = b[j + 4] & 63;
  } else {
    *sc = (b[j + 4] & 15) | ((b[j - 4] >> 6) << 4);
    *m = (b[j + 4] >> 4) | ((b[j] >> 6) << 4);
  }
}

// Q3_K: signed 6-bit scale of 16-element group j (0..15).
static inline int q3k_scale(const uint8_t* scales, int j) {
  const int low = j < 8 ? (scales[j] & 15) : (scales[j - 8] >> 4);
  const int high = (scales[8 + (j % 4)] >> (2 * (j / 4))) & 3;
  return (low | (high << 4)) - 32;
}

// IQ4_XS: 6-bit scale (0..63, to be offset by -32) of 32-element sub-block ib.
static inline int iq4xs_scale(const uint8_t* block, int ib) {
  const uint16_t scales_h = load_u16(block + 2);
  const uint8_t* scales_l = block + 4;
  return ((scales_l[ib / 2] >> (4 * (ib % 2))) & 15) | (((scales_h >> (2 * ib)) & 3) << 4);
}

// IQ4_K: 6-bit scale (0..63, to be offset by -32) of 16-element sub-block s
// (0..15; s = 2*ib + half for 32-element sub-block ib).
static inline int iq4k_scale(const uint8_t* block, int s) {
  const int ib = s / 2, half = s % 2;
  const int low = (block[8 + ib] >> (4 * half)) & 15;
  const int high = (block[4 + ib / 2] >> (4 * (ib % 2) + 2 * half)) & 3;
  return low | (high << 4);
}

// IQ4_K: the codebook of sub-block s, chosen by bit s of `extra`.
static inline const int8_t* iq4k_codebook(const uint8_t* block, int s) {
  return kIQ4KValues + (((load_u16(block + 2) >> s) & 1) << 4);
}

// IQ4_KS: the scale byte of 32-element sub-block ib gives the multiplier of
// the row scale (an odd integer -127..127) and, in its low bit, the codebook.
static inline int iq4ks_scale(uint8_t sc) { return int(sc & 254) - 127; }
static inline const int8_t* iq4ks_codebook(uint8_t sc) { return kIQ4KValues + ((sc & 1) << 4); }

// --- mainline grid types and MXFP4 -----------------------------------------------
// Each helper decodes one 32-element sub-block ib of a super-block into its
// signed integer values q[32] (codebook value times sign) and returns its
// small integer scale(s); the callers apply the float scale in the
// reference's formula (formats/quant_iq_grid.cpp, ops/matmul/unpack_iq.h).

// E8M0 exponent byte -> 2^(e - 127) / 2 as f32 (e = 0 and 1 give subnormals;
// e = 255, NaN in the OCP format, is read as 2^127 like the reference does).
static inline float e8m0_half(uint8_t e) {
  const uint32_t bits = e >= 2 ? uint32_t(e - 1) << 23 : uint32_t(0x00200000) << e;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// A 7-bit sign index -> 8 sign bits (bit j set: element j negative). The
// eighth sign is implied: the count of negative signs is even.
static inline uint8_t iq_signs8(uint32_t idx7) {
  idx7 &= 127;
  return uint8_t(idx7 | uint32_t(__builtin_popcount(idx7) & 1) << 7);
}

// Byte j of a grid entry times sign bit j, for 8 (or, twice, 4) values.
static inline void grid8_signed(uint64_t g, uint8_t signs, int8_t* q) {
  for (int j = 0; j < 8; ++j) {
    const int v = int((g >> (8 * j)) & 0xff);
    q[j] = int8_t((signs >> j) & 1 ? -v : v);
  }
}
static inline void grid4x2_signed(uint32_t g1, uint32_t g2, uint8_t signs, int8_t* q) {
  grid8_signed(uint64_t(g1) | uint64_t(g2) << 32, signs, q);
}

// IQ2_XXS: returns the 4-bit scale ls (sub-block scale d * (0.5 + ls) / 4).
static inline int iq2xxs_sub(const uint8_t* block, int ib, int8_t* q) {
  const uint8_t* p = block + 2 + 8 * ib;
  const uint32_t aux = load_u32(p + 4);
  for (int l = 0; l < 4; ++l) grid8_signed(kIQ2XXSGrid[p[l]], iq_signs8(aux >> (7 * l)), q + 8 * l);
  return int(aux >> 28);
}

// IQ2_XS: 4-bit scales of the two 16-halves (d * (0.5 + s) / 4 each).
static inline void iq2xs_sub(const uint8_t* block, int ib, int8_t* q, int* s_lo, int* s_hi) {
  for (int l = 0; l < 4; ++l) {
    const uint16_t v = load_u16(block + 2 + 2 * (4 * ib + l));
    grid8_signed(kIQ2XSGrid[v & 511], iq_signs8(v >> 9), q + 8 * l);
  }
  *s_lo = block[66 + ib] & 15;
  *s_hi = block[66 + ib] >> 4;
}

// IQ2_S: 10-bit grid indices (2 high bits per group in qh), 8 explicit sign
// bits per group; scales as IQ2_XS.
static inline void iq2s_sub(const uint8_t* block, int ib, int8_t* q, int* s_lo, int* s_hi) {
  const uint8_t* qs = block + 2 + 4 * ib;
  const uint8_t* signs = block + 34 + 4 * ib;
  const int qh = block[66 + ib];
  for (int l = 0; l < 4; ++l) grid8_signed(kIQ2SGrid[qs[l] | ((qh >> (2 * l)) & 3) << 8], signs[l], q + 8 * l);
  *s_lo = block[74 + ib] & 15;
  *s_hi = block[74 + ib] >> 4;
}

// IQ3_XXS: returns the 4-bit scale ls (sub-block scale d * (0.5 + ls) / 2).
static inline int iq3xxs_sub(const uint8_t* block, int ib, int8_t* q) {
  const uint8_t* qs = block + 2 + 8 * ib;
  const uint32_t aux = load_u32(block + 66 + 4 * ib);
  for (int l = 0; l < 4; ++l)
    grid4x2_signed(kIQ3XXSGrid[qs[2 * l]], kIQ3XXSGrid[qs[2 * l + 1]], iq_signs8(aux >> (7 * l)), q + 8 * l);
  return int(aux >> 28);
}

// IQ3_S: 9-bit grid indices (the high bit of index i of the sub-block is
// bit i of its qh byte), 8 explicit sign bits per group; returns the 4-bit
// scale s (sub-block scale d * (1 + 2s)).
static inline int iq3s_sub(const uint8_t* block, int ib, int8_t* q) {
  const uint8_t* qs = block + 2 + 8 * ib;
  const int qh = block[66 + ib];
  const uint8_t* signs = block + 74 + 4 * ib;
  for (int l = 0; l < 4; ++l) {
    const int i1 = qs[2 * l] | ((qh >> (2 * l)) & 1) << 8;
    const int i2 = qs[2 * l + 1] | ((qh >> (2 * l + 1)) & 1) << 8;
    grid4x2_signed(kIQ3SGrid[i1], kIQ3SGrid[i2], signs[l], q + 8 * l);
  }
  return (block[106 + ib / 2] >> (4 * (ib % 2))) & 15;
}

// IQ1_S / IQ1_M values are grid value g (-1, 0, 1) plus a delta of +-1/8;
// q = 8g +- 1 is that value times 8, an exact integer in [-9, 9] (the 1/8
// goes into the float scale).
static inline void iq1_group8(uint64_t g, bool neg_delta, int8_t* q) {
  for (int j = 0; j < 8; ++j) q[j] = int8_t(8 * int8_t(uint8_t(g >> (8 * j))) + (neg_delta ? -1 : 1));
}

// IQ1_S: 11-bit grid indices; returns the 3-bit scale s (sub-block scale
// d * (2s + 1), values (g +- 1/8) times that).
static inline int iq1s_sub(const uint8_t* block, int ib, int8_t* q) {
  const uint8_t* qs = block + 2 + 4 * ib;
  const uint16_t qh = load_u16(block + 34 + 2 * ib);
  for (int l = 0; l < 4; ++l) iq1_group8(kIQ1SGrid[qs[l] | ((qh >> (3 * l)) & 7) << 8], qh & 0x8000, q + 8 * l);
  return (qh >> 12) & 7;
}

// IQ1_M: the f16 super-block scale, spread over the top nibbles of the four
// u16 scale words.
static inline uint16_t iq1m_d_bits(const uint8_t* block) {
  const uint16_t s0 = load_u16(block + 48), s1 = load_u16(block + 50), s2 = load_u16(block + 52),
                 s3 = load_u16(block + 54);
  return uint16_t((s0 >> 12) | ((s1 >> 8) & 0x00f0) | ((s2 >> 4) & 0x0f00) | (s3 & 0xf000));
}

// IQ1_M: per 8-group an 11-bit index and its own delta sign (qh nibble: 3
// index bits, then the sign); 3-bit scales of the two 16-halves (d * (2s + 1)).
static inline void iq1m_sub(const uint8_t* block, int ib, int8_t* q, int* s_lo, int* s_hi) {
  const uint8_t* qs = block + 4 * ib;
  const uint8_t* qh = block + 32 + 2 * ib;
  for (int l = 0; l < 4; ++l) {
    const int nib = qh[l / 2] >> (4 * (l % 2));
    iq1_group8(kIQ1SGrid[qs[l] | (nib & 7) << 8], nib & 8, q + 8 * l);
  }
  const int sc = load_u16(block + 48 + 2 * (ib / 2)) >> (6 * (ib % 2));
  *s_lo = sc & 7;
  *s_hi = (sc >> 3) & 7;
}

// MXFP4: one block of 32; q = doubled FP4 values (scale e8m0_half(block[0])).
static inline void mxfp4_block(const uint8_t* block, int8_t* q) {
  for (int j = 0; j < 16; ++j) {
    q[j] = kMXFP4Values[block[1 + j] & 15];
    q[j + 16] = kMXFP4Values[block[1 + j] >> 4];
  }
}

}  // namespace dllm::qb
