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
constexpr int kIQ5_KBytes = 176;   // d f16 @0; extra u16 @2; scales_h[4] @4; scales_l[8] @8; qs[128] @16; qh[32] @144
constexpr int kIQ6_KBytes = 212;   // d f16 @0; extra u16 @2; scales[16] int8 @4; qs[128] @20; qh[64] @148
constexpr int kIQ2_KBytes = 76;    // d f16 @0; extra u16 @2; scales[8] @4; qs[64] @12
constexpr int kIQ3_KBytes = 110;   // d f16 @0; extra u16 @2; scales_h u16 @4; scales_l[8] @6; qs[64] @14; qh[32] @78
// Types whose rows start with a scale: f32 (IQ5_KS, IQ4_KSS) or fp16 (IQ2_KS, IQ3_KS, IQ2_KL).
constexpr int kIQ5_KSBytes = 168;  // scales[8] @0; qs[128] @8; qh[32] @136
constexpr int kIQ4_KSSBytes = 128; // qs as 128 u16 words (quants, scale and codebook bits interleaved)
constexpr int kIQ2_KSBytes = 70;   // extra u16 @0; scales[4] @2; qs[64] @6
constexpr int kIQ3_KSBytes = 102;  // extra u16 @0; scales[4] @2; qs[64] @6; qh[32] @70
constexpr int kIQ2_KLBytes = 86;   // scales_h u16 @0; scales_l[4] @2; qs[64] @6; qh[16] @70
constexpr int kF32RowMeta = 4;
constexpr int kF16RowMeta = 2;

// ik's legacy-style 6-bit type: 32-element blocks.
constexpr int kQ6_0Bytes = 26;     // d f16 @0; qh[8] @2; qs[16] @10

// The IQ4_NL / IQ4_XS codebook.
static constexpr int8_t kIQ4Values[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                          1,    13,   25,  38,  53,  69,  89,  113};
// The IQ4_K / IQ4_KS codebooks: the IQ4_NL values, then the same plus 4.
static constexpr int8_t kIQ4KValues[32] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
                                           -123, -100, -79, -61, -45, -31, -18, -6,  5, 17, 29, 42, 57, 73, 93, 117};

// ik's non-linear codebooks (each: the base values, then a shifted copy
// chosen per sub-block by an `extra` bit).
static constexpr int8_t kIQ2NLValues[8] = {-31, -13, 1, 17, -26, -8, 6, 22};
static constexpr int8_t kIQ3NLValues[16] = {-63, -40, -23, -10, 1, 13, 28, 47,
                                            -59, -36, -19, -6,  5, 17, 32, 51};
static constexpr int8_t kIQ5NLValues[64] = {
    -126, -114, -103, -92, -83, -74, -65, -57, -50, -43, -36, -30, -24, -18, -12, -6,
    -1,   5,    11,   17,  23,  29,  36,  43,  51,  59,  68,  77,  87,  97,  109, 121,
    -124, -112, -101, -90, -81, -72, -63, -55, -48, -41, -34, -28, -22, -16, -10, -4,
    1,    7,    13,   19,  25,  31,  38,  45,  53,  61,  70,  79,  89,  99,  111, 123};
// IQ6_K: what the reference's matmul kernels multiply with (its row decoder
// evaluates a cubic instead, see quant_iqk.cpp).
static constexpr int8_t kIQ6NLValues[128] = {
    -127, -121, -115, -109, -104, -98, -93, -88, -84, -79, -74, -70, -66, -62, -58, -54,
    -51,  -47,  -44,  -40,  -37,  -34, -31, -28, -25, -22, -19, -16, -13, -11, -8,  -5,
    -2,   0,    3,    6,    9,    12,  14,  17,  20,  23,  27,  30,  33,  36,  40,  44,
    47,   51,   55,   59,   63,   68,  72,  77,  82,  87,  92,  98,  103, 109, 115, 121,
    -126, -120, -114, -108, -103, -97, -92, -87, -83, -78, -73, -69, -65, -61, -57, -53,
    -50,  -46,  -43,  -39,  -36,  -33, -30, -27, -24, -21, -18, -15, -12, -10, -7,  -4,
    -1,   1,    4,    7,    10,   13,  15,  18,  21,  24,  28,  31,  34,  37,  41,  45,
    48,   52,   56,   60,   64,   69,  73,  78,  83,  88,  93,  99,  104, 110, 116, 122};
// IQ2_KL: 32 pairs of values, low byte first (each byte an int8 of the
// IQ3 base codebook).
static constexpr uint16_t kIQ2KLPairs[32] = {
    0xe9c1, 0x0dc1, 0xc1d8, 0xf6d8, 0x0dd8, 0x2fd8, 0xd8e9, 0xe9e9, 0x01e9, 0x0de9, 0x1ce9,
    0xc1f6, 0x01f6, 0x0df6, 0x2ff6, 0xe901, 0xf601, 0x0101, 0x0d01, 0x1c01, 0xd80d, 0xe90d,
    0xf60d, 0x010d, 0x0d0d, 0xc11c, 0xe91c, 0x011c, 0x1c1c, 0x2f1c, 0xe92f, 0x0d2f};
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

// --- ik's other types (bit positions from the reference's row decoders) ---

static inline int nibble(uint8_t byte, int which) { return which ? byte >> 4 : byte & 15; }

// Q6_0: the 6-bit quant (0..63, to be offset by -32) of element i (0..31).
// Element j < 16 is the low nibble of qs[j], j + 16 the high one; their two
// high bits come from qh[j % 8], nibble j / 8: bits 0-1, then bits 2-3.
static inline int q6_0_quant(const uint8_t* block, int i) {
  const int j = i % 16, hi = i / 16;
  const int h = block[2 + j % 8] >> (4 * (j / 8));
  return nibble(block[10 + j], hi) | (((h >> (2 * hi)) & 3) << 4);
}

// IQ5_K / IQ5_KS: codebook index (0..31) of element i (0..31) of 32-block ib
// (0..7): 32-block pairs share 32 bytes of qs (low nibbles, then high), and
// bit ib of qh[i] is the fifth bit.
static inline int iq5_index(const uint8_t* qs, const uint8_t* qh, int ib, int i) {
  return nibble(qs[32 * (ib / 2) + i], ib % 2) | (((qh[i] >> ib) & 1) << 4);
}

// IQ6_K: codebook index (0..63) of element i of 32-block ib; the two high
// bits come from 32-byte half ib / 4 of qh, bits 4*((ib/2) % 2) + 2*(ib % 2).
static inline int iq6_index(const uint8_t* qs, const uint8_t* qh, int ib, int i) {
  const int hb = (qh[32 * (ib / 4) + i] >> (4 * ((ib / 2) % 2) + 2 * (ib % 2))) & 3;
  return nibble(qs[32 * (ib / 2) + i], ib % 2) | (hb << 4);
}

// IQ2_K / IQ2_KS: 2-bit index of element i of 32-block ib (the Q2_K order:
// four 32-blocks share 32 bytes of qs, two bits each).
static inline int iq2_index(const uint8_t* qs, int ib, int i) { return (qs[32 * (ib / 4) + i] >> (2 * (ib % 4))) & 3; }

// IQ3_K / IQ3_KS: the IQ2 bits plus bit ib of qh[i] as the third.
static inline int iq3_index(const uint8_t* qs, const uint8_t* qh, int ib, int i) {
  return iq2_index(qs, ib, i) | (((qh[i] >> ib) & 1) << 2);
}

// IQ2_KL: index (0..31) of value pair j (elements 2j, 2j+1; j = 0..15) of
// 32-block ib: nibble ib % 2 of qs[16*(ib/2) + j], bit ib of qh[j] the fifth.
static inline int iq2kl_index(const uint8_t* qs, const uint8_t* qh, int ib, int j) {
  return nibble(qs[16 * (ib / 2) + j], ib % 2) | (((qh[j] >> ib) & 1) << 4);
}
static inline int8_t iq2kl_value(int index, int k) { return int8_t(uint8_t(kIQ2KLPairs[index] >> (8 * k))); }

// IQ6_K: signed scale of 16-group s (0..15); bit s of `extra` shifts the codebook.
static inline int iq6k_scale(const uint8_t* block, int s) { return int8_t(block[4 + s]); }
static inline int extra_bit(const uint8_t* p, int bit) { return (load_u16(p) >> bit) & 1; }

// IQ2_K: scale (-8..7) of 16-group s: nibble s % 2 of scales[s / 2], minus 8.
static inline int iq2k_scale(const uint8_t* block, int s) { return nibble(block[4 + s / 2], s % 2) - 8; }

// IQ3_K: odd scale of 16-group s: 2*(nibble s % 2 of scales_l[s / 2]) + 1,
// negated where bit s of scales_h is set.
static inline int iq3k_scale(const uint8_t* block, int s) {
  const int m = 2 * nibble(block[6 + s / 2], s % 2) + 1;
  return extra_bit(block + 4, s) ? -m : m;
}

// IQ2_KS: scale (-16..15) of 32-block ib: nibble ib % 2 of scales[ib / 2],
// fifth bit = bit 8 + ib of extra. Codebook: bit ib of extra.
static inline int iq2ks_scale(const uint8_t* block, int ib) {
  return (nibble(block[2 + ib / 2], ib % 2) | (extra_bit(block, 8 + ib) << 4)) - 16;
}

// IQ3_KS: scale (-16..15) of 32-block ib: nibble ib / 4 of scales[ib % 4],
// fifth bit = bit ib of extra. Codebook: bit 8 + ib of extra.
static inline int iq3ks_scale(const uint8_t* block, int ib) {
  return (nibble(block[2 + ib % 4], ib / 4) | (extra_bit(block, ib) << 4)) - 16;
}

// IQ2_KL: scale (-32..31) of 32-block ib: nibble ib / 4 of scales_l[ib % 4],
// high two bits = bits 2*ib of scales_h.
static inline int iq2kl_scale(const uint8_t* block, int ib) {
  return (nibble(block[2 + ib % 4], ib / 4) | (((load_u16(block) >> (2 * ib)) & 3) << 4)) - 32;
}

// IQ4_KSS: 32-block ib is eight u16 words. Bit 0 of word k is bit k of the
// block's scale byte (an IQ4_KS scale byte: multiplier and codebook); the
// other 15 bits, w & 0xfffe xor'ed with itself shifted right by one, are two
// bytes of IQ4_KS-style nibbles (legacy order over the block's 16 bytes).
static inline uint8_t iq4kss_unpack(const uint8_t* block, int ib, uint8_t nib[16]) {
  uint8_t sc = 0;
  for (int k = 0; k < 8; ++k) {
    const uint16_t w = load_u16(block + 16 * ib + 2 * k);
    const uint16_t v = uint16_t((w & 0xfffe) ^ ((w & 0xfffe) >> 1));
    nib[2 * k] = uint8_t(v & 0xff);
    nib[2 * k + 1] = uint8_t(v >> 8);
    sc = uint8_t(sc | ((w & 1) << k));
  }
  return sc;
}

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
