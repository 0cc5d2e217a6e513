// Mainline llama.cpp's low-bit codebook types (IQ1_S, IQ1_M, IQ2_XXS,
// IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S) and MXFP4: bit-exact decoders. The bit
// unpacking is shared with the matmul unpackers (qb::*_sub in
// quant_blocks.h); the float scales follow the reference's formulas and
// order: (d * integer scale expression) first, then times the value. Every
// product here is exact in f32 (an fp16 times small integers and powers of
// two), so any grouping of them gives the same bits.
#include "formats/quant_blocks.h"
#include "formats/quant_rows.h"
#include "util/fp16.h"

namespace dllm::quant {

using namespace qb;

namespace {

float f16_at(const uint8_t* p) { return f16_to_f32(load_u16(p)); }

void scaled(float s, const int8_t* q, int n, float* dst) {
  for (int i = 0; i < n; ++i) dst[i] = s * float(q[i]);
}

}  // namespace

void dequant_iq2_xxs(const void* src, float* dst, int64_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(src);
  for (int64_t sb = 0; sb < n / kQK_K; ++sb, b += kIQ2_XXSBytes, dst += kQK_K) {
    const float d = f16_at(b);
    for (int ib = 0; ib < 8; ++ib) {
      int8_t q[32];
      const int ls = iq2xxs_sub(b, ib, q);
      scaled(d * (0.5f + float(ls)) * 0.25f, q, 32, dst + 32 * ib);
    }
  }
}

namespace {

// IQ2_XS / IQ2_S: a 4-bit scale s per 16-group, d * (0.5 + s) / 4.
template <void (*Sub)(const uint8_t*, int, int8_t*, int*, int*), int kBytes>
void dequant_iq2_s16(const void* src, float* dst, int64_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(src);
  for (int64_t sb = 0; sb < n / kQK_K; ++sb, b += kBytes, dst += kQK_K) {
    const float d = f16_at(b);
    for (int ib = 0; ib < 8; ++ib) {
      int8_t q[32];
      int lo, hi;
      Sub(b, ib, q, &lo, &hi);
      scaled(d * (0.5f + float(lo)) * 0.25f, q, 16, dst + 32 * ib);
      scaled(d * (0.5f + float(hi)) * 0.25f, q + 16, 16, dst + 32 * ib + 16);
    }
  }
}

}  // namespace

void dequant_iq2_xs(const void* src, float* dst, int64_t n) { dequant_iq2_s16<iq2xs_sub, kIQ2_XSBytes>(src, dst, n); }
void dequant_iq2_s(const void* src, float* dst, int64_t n) { dequant_iq2_s16<iq2s_sub, kIQ2_SBytes>(src, dst, n); }

void dequant_iq3_xxs(const void* src, float* dst, int64_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(src);
  for (int64_t sb = 0; sb < n / kQK_K; ++sb, b += kIQ3_XXSBytes, dst += kQK_K) {
    const float d = f16_at(b);
    for (int ib = 0; ib < 8; ++ib) {
      int8_t q[32];
      const int ls = iq3xxs_sub(b, ib, q);
      scaled(d * (0.5f + float(ls)) * 0.5f, q, 32, dst + 32 * ib);
    }
  }
}

void dequant_iq3_s(const void* src, float* dst, int64_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(src);
  for (int64_t sb = 0; sb < n / kQK_K; ++sb, b += kIQ3_SBytes, dst += kQK_K) {
    const float d = f16_at(b);
    for (int ib = 0; ib < 8; ++ib) {
      int8_t q[32];
      const int s = iq3s_sub(b, ib, q);
      scaled(d * float(1 + 2 * s), q, 32, dst + 32 * ib);
    }
  }
}

// The reference computes (d * (2s + 1)) * (g + delta); q = 8 * (g + delta)
// exactly, so (g + delta) = q * 0.125 exactly.
void dequant_iq1_s(const void* src, float* dst, int64_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(src);
  for (int64_t sb = 0; sb < n / kQK_K; ++sb, b += kIQ1_SBytes, dst += kQK_K) {
    const float d = f16_at(b);
    for (int ib = 0; ib < 8; ++ib) {
      int8_t q[32];
      const float dl = d * float(2 * iq1s_sub(b, ib, q) + 1);
      for (int i = 0; i < 32; ++i) dst[32 * ib + i] = dl * (float(q[i]) * 0.125f);
    }
  }
}

void dequant_iq1_m(const void* src, float* dst, int64_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(src);
  for (int64_t sb = 0; sb < n / kQK_K; ++sb, b += kIQ1_MBytes, dst += kQK_K) {
    const float d = f16_to_f32(iq1m_d_bits(b));
    for (int ib = 0; ib < 8; ++ib) {
      int8_t q[32];
      int lo, hi;
      iq1m_sub(b, ib, q, &lo, &hi);
      const float dl[2] = {d * float(2 * lo + 1), d * float(2 * hi + 1)};
      for (int i = 0; i < 32; ++i) dst[32 * ib + i] = dl[i / 16] * (float(q[i]) * 0.125f);
    }
  }
}

void dequant_mxfp4(const void* src, float* dst, int64_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(src);
  for (int64_t ib = 0; ib < n / kQK; ++ib, b += kMXFP4Bytes, dst += kQK) {
    int8_t q[32];
    mxfp4_block(b, q);
    scaled(e8m0_half(b[0]), q, 32, dst);
  }
}

}  // namespace dllm::quant
