// ik_llama.cpp's own types (kernels.md §2.5): bit-exact decoders.
// Products in the reference's order: the block scale times the integer
// scale first, then times the codebook value.
#include <cmath>
#include <cstring>

#include "formats/quant_blocks.h"
#include "formats/quant_rows.h"
#include "util/fp16.h"

namespace dllm::quant {

using namespace qb;

// Sixteen 16-element sub-blocks per super-block, each with a 6-bit scale and
// one of two codebooks; sub-block s = 2*ib + half holds the low (half 0) or
// high (half 1) nibbles of qs[16*ib .. 16*ib + 15].
void dequant_iq4_k(const void* src, float* dst, int64_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(src);
  for (int64_t sb = 0; sb < n / kQK_K; ++sb, b += kIQ4_KBytes, dst += kQK_K) {
    const float d = f16_to_f32(load_u16(b));
    const uint8_t* qs = b + 16;
    for (int s = 0; s < 16; ++s) {
      const int ib = s / 2, half = s % 2;
      const float dl = d * float(iq4k_scale(b, s) - 32);
      const int8_t* cb = iq4k_codebook(b, s);
      for (int j = 0; j < 16; ++j) {
        const uint8_t byte = qs[16 * ib + j];
        dst[32 * ib + 16 * half + j] = dl * float(cb[half ? byte >> 4 : byte & 15]);
      }
    }
  }
}

// One f32 row scale, then super-blocks of eight 32-element sub-blocks in the
// legacy nibble order, each with its own odd multiplier and codebook.
void dequant_iq4_ks(const void* src, float* dst, int64_t n) {
  const uint8_t* row = static_cast<const uint8_t*>(src);
  float D;
  std::memcpy(&D, row, 4);
  const uint8_t* b = row + kIQ4_KSRowMeta;
  for (int64_t sb = 0; sb < n / kQK_K; ++sb, b += kIQ4_KSBytes, dst += kQK_K)
    for (int ib = 0; ib < 8; ++ib) {
      const float dl = D * float(iq4ks_scale(b[ib]));
      const int8_t* cb = iq4ks_codebook(b[ib]);
      const uint8_t* qs = b + 8 + 16 * ib;
      for (int i = 0; i < 32; ++i) dst[32 * ib + i] = dl * float(cb[nibble32(qs, i)]);
    }
}

namespace {

float row_scale_f32(const uint8_t* row) {
  float D;
  std::memcpy(&D, row, 4);
  return D;
}

// Super-blocks with one fp16 d and 16-element groups: dst[32*ib + i] =
// (d * scale(s)) * value(ib, i), s = 2*ib + i / 16.
template <class Scale, class Value>
void dequant_s16(const uint8_t* b, int block_bytes, float* dst, int64_t n, Scale scale, Value value) {
  for (int64_t sb = 0; sb < n / kQK_K; ++sb, b += block_bytes, dst += kQK_K) {
    const float d = f16_to_f32(load_u16(b));
    for (int s = 0; s < 16; ++s) {
      const float dl = d * float(scale(b, s));
      for (int j = 0; j < 16; ++j) dst[16 * s + j] = dl * float(value(b, s / 2, 16 * (s % 2) + j));
    }
  }
}

// Rows that start with a scale D (meta bytes), then super-blocks with one
// integer multiplier per 32-block: dst[32*ib + i] = (D * scale(ib)) * value(ib, i).
template <class Scale, class Value>
void dequant_row_scaled(float D, const uint8_t* b, int block_bytes, float* dst, int64_t n, Scale scale,
                        Value value) {
  for (int64_t sb = 0; sb < n / kQK_K; ++sb, b += block_bytes, dst += kQK_K)
    for (int ib = 0; ib < 8; ++ib) {
      const float dl = D * float(scale(b, ib));
      for (int i = 0; i < 32; ++i) dst[32 * ib + i] = dl * float(value(b, ib, i));
    }
}

// IQ6_K's row decoder does not use the int8 codebook its matmul kernels use:
// it evaluates -127 + q*(6.2568 + q*(-0.11218 + q*0.0011972)) in f32, plus 1
// for the shifted codebook. The reference binary (GCC, FMA enabled) contracts
// the three multiply-adds into FMAs, innermost first, then adds the shift.
// Table index: q + 64 * shift.
struct Iq6kCubic {
  float v[128];
  Iq6kCubic() {
    for (int i = 0; i < 128; ++i) {
      const float q = float(i % 64), shift = i < 64 ? 0.0f : 1.0f;
      v[i] = std::fma(q, std::fma(q, std::fma(q, 0.0011972f, -0.11218f), 6.2568f), -127.0f) + shift;
    }
  }
};

const float* iq6k_cubic() {
  static const Iq6kCubic table;
  return table.v;
}

}  // namespace

// 32-element blocks: d * (q6 - 32).
void dequant_q6_0(const void* src, float* dst, int64_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(src);
  for (int64_t ib = 0; ib < n / kQK; ++ib, b += kQ6_0Bytes, dst += kQK) {
    const float d = f16_to_f32(load_u16(b));
    for (int i = 0; i < 32; ++i) dst[i] = float(q6_0_quant(b, i) - 32) * d;
  }
}

// IQ4_K's scales and codebook bits, 5-bit quants.
void dequant_iq5_k(const void* src, float* dst, int64_t n) {
  dequant_s16(static_cast<const uint8_t*>(src), kIQ5_KBytes, dst, n,
              [](const uint8_t* b, int s) { return iq4k_scale(b, s) - 32; },
              [](const uint8_t* b, int ib, int i) {
                const int s = 2 * ib + i / 16;
                return kIQ5NLValues[32 * extra_bit(b + 2, s) + iq5_index(b + 16, b + 144, ib, i)];
              });
}

void dequant_iq6_k(const void* src, float* dst, int64_t n) {
  const float* cubic = iq6k_cubic();
  dequant_s16(static_cast<const uint8_t*>(src), kIQ6_KBytes, dst, n, iq6k_scale,
              [cubic](const uint8_t* b, int ib, int i) {
                const int s = 2 * ib + i / 16;
                return cubic[64 * extra_bit(b + 2, s) + iq6_index(b + 20, b + 148, ib, i)];
              });
}

void dequant_iq2_k(const void* src, float* dst, int64_t n) {
  dequant_s16(static_cast<const uint8_t*>(src), kIQ2_KBytes, dst, n, iq2k_scale,
              [](const uint8_t* b, int ib, int i) {
                const int s = 2 * ib + i / 16;
                return kIQ2NLValues[4 * extra_bit(b + 2, s) + iq2_index(b + 12, ib, i)];
              });
}

void dequant_iq3_k(const void* src, float* dst, int64_t n) {
  dequant_s16(static_cast<const uint8_t*>(src), kIQ3_KBytes, dst, n, iq3k_scale,
              [](const uint8_t* b, int ib, int i) {
                const int s = 2 * ib + i / 16;
                return kIQ3NLValues[8 * extra_bit(b + 2, s) + iq3_index(b + 14, b + 78, ib, i)];
              });
}

void dequant_iq5_ks(const void* src, float* dst, int64_t n) {
  const uint8_t* row = static_cast<const uint8_t*>(src);
  dequant_row_scaled(row_scale_f32(row), row + kF32RowMeta, kIQ5_KSBytes, dst, n,
                     [](const uint8_t* b, int ib) { return iq4ks_scale(b[ib]); },
                     [](const uint8_t* b, int ib, int i) {
                       return kIQ5NLValues[32 * (b[ib] & 1) + iq5_index(b + 8, b + 136, ib, i)];
                     });
}

void dequant_iq4_kss(const void* src, float* dst, int64_t n) {
  const uint8_t* row = static_cast<const uint8_t*>(src);
  const float D = row_scale_f32(row);
  const uint8_t* b = row + kF32RowMeta;
  for (int64_t sb = 0; sb < n / kQK_K; ++sb, b += kIQ4_KSSBytes, dst += kQK_K)
    for (int ib = 0; ib < 8; ++ib) {
      uint8_t nib[16];
      const uint8_t sc = iq4kss_unpack(b, ib, nib);
      const float dl = D * float(iq4ks_scale(sc));
      const int8_t* cb = iq4ks_codebook(sc);
      for (int i = 0; i < 32; ++i) dst[32 * ib + i] = dl * float(cb[nibble32(nib, i)]);
    }
}

void dequant_iq2_ks(const void* src, float* dst, int64_t n) {
  const uint8_t* row = static_cast<const uint8_t*>(src);
  dequant_row_scaled(f16_to_f32(load_u16(row)), row + kF16RowMeta, kIQ2_KSBytes, dst, n, iq2ks_scale,
                     [](const uint8_t* b, int ib, int i) {
                       return kIQ2NLValues[4 * extra_bit(b, ib) + iq2_index(b + 6, ib, i)];
                     });
}

void dequant_iq3_ks(const void* src, float* dst, int64_t n) {
  const uint8_t* row = static_cast<const uint8_t*>(src);
  dequant_row_scaled(f16_to_f32(load_u16(row)), row + kF16RowMeta, kIQ3_KSBytes, dst, n, iq3ks_scale,
                     [](const uint8_t* b, int ib, int i) {
                       return kIQ3NLValues[8 * extra_bit(b, 8 + ib) + iq3_index(b + 6, b + 70, ib, i)];
                     });
}

void dequant_iq2_kl(const void* src, float* dst, int64_t n) {
  const uint8_t* row = static_cast<const uint8_t*>(src);
  dequant_row_scaled(f16_to_f32(load_u16(row)), row + kF16RowMeta, kIQ2_KLBytes, dst, n, iq2kl_scale,
                     [](const uint8_t* b, int ib, int i) {
                       return iq2kl_value(iq2kl_index(b + 6, b + 70, ib, i / 2), i % 2);
                     });
}

}  // namespace dllm::quant
