// Block layouts of the quantized types (kernels.md §2), as byte offsets and
// small unpack helpers shared by the row decoders (formats/) and the matmul
// kernels (ops/). Everything here has internal linkage (static): this header
// is included by files compiled for different ISAs, and an inline function
// with external linkage could be merged across them by the linker.
#pragma once
#include <cstdint>
#include <cstring>

namespace dllm::qb {

// Legacy 32-element blocks.
constexpr int kQK = 32;
constexpr int kQ4_0Bytes = 18;   // d f16; qs[16]
constexpr int kQ4_1Bytes = 20;   // d f16; m f16; qs[16]
constexpr int kQ5_0Bytes = 22;   // d f16; qh u32; qs[16]
constexpr int kQ5_1Bytes = 24;   // d f16; m f16; qh u32; qs[16]
constexpr int kQ8_0Bytes = 34;   // d f16; qs[32] int8
constexpr int kIQ4_NLBytes = 18; // d f16; qs[16]

// 256-element super-blocks.
constexpr int kQK_K = 256;
constexpr int kQ2_KBytes = 84;   // scales[16]; qs[64]; d f16 @80; dmin f16 @82
constexpr int kQ3_KBytes = 110;  // hmask[32]; qs[64] @32; scales[12] @96; d f16 @108
constexpr int kQ4_KBytes = 144;  // d @0; dmin @2; scales[12] @4; qs[128] @16
constexpr int kQ5_KBytes = 176;  // d @0; dmin @2; scales[12] @4; qh[32] @16; qs[128] @48
constexpr int kQ6_KBytes = 210;  // ql[128]; qh[64] @128; scales[16] int8 @192; d f16 @208
constexpr int kIQ4_XSBytes = 136;  // d @0; scales_h u16 @2; scales_l[4] @4; qs[128] @8

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

}  // namespace dllm::qb
