// K-quant super-blocks (kernels.md §2.3) and IQ4_XS (§2.4): bit-exact
// decoders. Products are formed in the reference's order: the block scale
// times the small integer scale first, then times the quant.
#include "formats/quant_blocks.h"
#include "formats/quant_rows.h"
#include "util/fp16.h"

namespace dllm::quant {

using namespace qb;

namespace {
float f16_at(const uint8_t* p) { return f16_to_f32(load_u16(p)); }
}  // namespace

void dequant_q2_k(const void* src, float* dst, int64_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(src);
  for (int64_t ib = 0; ib < n / kQK_K; ++ib, b += kQ2_KBytes, dst += kQK_K) {
    const uint8_t* scales = b;
    const uint8_t* qs = b + 16;
    const float d = f16_at(b + 80), dmin = f16_at(b + 82);
    for (int e = 0; e < kQK_K; ++e) {
      const int h = e / 128, c = (e % 128) / 32, l = e % 32;
      const int q = (qs[32 * h + l] >> (2 * c)) & 3;
      const int sc = scales[e / 16];
      const float dl = d * float(sc & 15), ml = dmin * float(sc >> 4);
      dst[e] = dl * float(q) - ml;
    }
  }
}

void dequant_q3_k(const void* src, float* dst, int64_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(src);
  for (int64_t ib = 0; ib < n / kQK_K; ++ib, b += kQ3_KBytes, dst += kQK_K) {
    const uint8_t* hmask = b;
    const uint8_t* qs = b + 32;
    const uint8_t* scales = b + 96;
    const float d = f16_at(b + 108);
    for (int e = 0; e < kQK_K; ++e) {
      const int h = e / 128, c = (e % 128) / 32, l = e % 32;
      const int q = (qs[32 * h + l] >> (2 * c)) & 3;
      const int hb = (hmask[l] >> (4 * h + c)) & 1;
      const float dl = d * float(q3k_scale(scales, e / 16));
      dst[e] = dl * float(hb ? q : q - 4);
    }
  }
}

void dequant_q4_k(const void* src, float* dst, int64_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(src);
  for (int64_t ib = 0; ib < n / kQK_K; ++ib, b += kQ4_KBytes, dst += kQK_K) {
    const float d = f16_at(b), dmin = f16_at(b + 2);
    const uint8_t* qs = b + 16;
    for (int e = 0; e < kQK_K; ++e) {
      const int g = e / 64, r = e % 64, l = r % 32, half = r / 32, j = 2 * g + half;
      int sc, m;
      k_scale_min(b + 4, j, &sc, &m);
      const int q = half ? qs[32 * g + l] >> 4 : qs[32 * g + l] & 15;
      const float d1 = d * float(sc), m1 = dmin * float(m);
      dst[e] = d1 * float(q) - m1;
    }
  }
}

void dequant_q5_k(const void* src, float* dst, int64_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(src);
  for (int64_t ib = 0; ib < n / kQK_K; ++ib, b += kQ5_KBytes, dst += kQK_K) {
    const float d = f16_at(b), dmin = f16_at(b + 2);
    const uint8_t* qh = b + 16;
    const uint8_t* qs = b + 48;
    for (int e = 0; e < kQK_K; ++e) {
      const int g = e / 64, r = e % 64, l = r % 32, half = r / 32, j = 2 * g + half;
      int sc, m;
      k_scale_min(b + 4, j, &sc, &m);
      const int lo = half ? qs[32 * g + l] >> 4 : qs[32 * g + l] & 15;
      const int q = lo + 16 * ((qh[l] >> j) & 1);
      const float d1 = d * float(sc), m1 = dmin * float(m);
      dst[e] = d1 * float(q) - m1;
    }
  }
}

void dequant_q6_k(const void* src, float* dst, int64_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(src);
  for (int64_t ib = 0; ib < n / kQK_K; ++ib, b += kQ6_KBytes, dst += kQK_K) {
    const uint8_t* ql = b;
    const uint8_t* qh = b + 128;
    const int8_t* scales = reinterpret_cast<const int8_t*>(b + 192);
    const float d = f16_at(b + 208);
    for (int e = 0; e < kQK_K; ++e) {
      const int h = e / 128, c = (e % 128) / 32, l = e % 32;
      const uint8_t lsrc = ql[64 * h + 32 * (c & 1) + l];
      const int low = c < 2 ? lsrc & 15 : lsrc >> 4;
      const int high = (qh[32 * h + l] >> (2 * c)) & 3;
      const int q = (low | high << 4) - 32;
      dst[e] = d * float(scales[e / 16]) * float(q);
    }
  }
}

void dequant_iq4_xs(const void* src, float* dst, int64_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(src);
  for (int64_t ib = 0; ib < n / kQK_K; ++ib, b += kIQ4_XSBytes, dst += kQK_K) {
    const float d = f16_at(b);
    for (int sb = 0; sb < 8; ++sb) {
      const float dl = d * float(iq4xs_scale(b, sb) - 32);
      const uint8_t* qs = b + 8 + 16 * sb;
      for (int i = 0; i < 32; ++i) dst[32 * sb + i] = dl * float(kIQ4Values[nibble32(qs, i)]);
    }
  }
}

}  // namespace dllm::quant
