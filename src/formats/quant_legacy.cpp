// Legacy 32-element blocks (kernels.md §2.2): Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
// IQ4_NL — decoders, and the reference Q8_0 quantizer.
#include <cmath>
#include <cstring>

#include "formats/quant_blocks.h"
#include "formats/quant_rows.h"
#include "util/fp16.h"

namespace dllm::quant {

using namespace qb;

namespace {
float f16_at(const uint8_t* p) { return f16_to_f32(load_u16(p)); }
}  // namespace

void dequant_q4_0(const void* src, float* dst, int64_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(src);
  for (int64_t ib = 0; ib < n / kQK; ++ib, b += kQ4_0Bytes, dst += kQK) {
    const float d = f16_at(b);
    for (int i = 0; i < kQK; ++i) dst[i] = float(nibble32(b + 2, i) - 8) * d;
  }
}

void dequant_q4_1(const void* src, float* dst, int64_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(src);
  for (int64_t ib = 0; ib < n / kQK; ++ib, b += kQ4_1Bytes, dst += kQK) {
    const float d = f16_at(b), m = f16_at(b + 2);
    // n*d is exact in f32, so only the addition rounds (no FMA question).
    for (int i = 0; i < kQK; ++i) dst[i] = float(nibble32(b + 4, i)) * d + m;
  }
}

void dequant_q5_0(const void* src, float* dst, int64_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(src);
  for (int64_t ib = 0; ib < n / kQK; ++ib, b += kQ5_0Bytes, dst += kQK) {
    const float d = f16_at(b);
    const uint32_t qh = load_u32(b + 2);
    for (int i = 0; i < kQK; ++i) {
      const int q = nibble32(b + 6, i) | int((qh >> i) & 1) << 4;
      dst[i] = float(q - 16) * d;
    }
  }
}

void dequant_q5_1(const void* src, float* dst, int64_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(src);
  for (int64_t ib = 0; ib < n / kQK; ++ib, b += kQ5_1Bytes, dst += kQK) {
    const float d = f16_at(b), m = f16_at(b + 2);
    const uint32_t qh = load_u32(b + 4);
    for (int i = 0; i < kQK; ++i) {
      const int q = nibble32(b + 8, i) | int((qh >> i) & 1) << 4;
      dst[i] = float(q) * d + m;
    }
  }
}

void dequant_q8_0(const void* src, float* dst, int64_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(src);
  for (int64_t ib = 0; ib < n / kQK; ++ib, b += kQ8_0Bytes, dst += kQK) {
    const float d = f16_at(b);
    const int8_t* qs = reinterpret_cast<const int8_t*>(b + 2);
    for (int i = 0; i < kQK; ++i) dst[i] = float(qs[i]) * d;
  }
}

void dequant_iq4_nl(const void* src, float* dst, int64_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(src);
  for (int64_t ib = 0; ib < n / kQK; ++ib, b += kIQ4_NLBytes, dst += kQK) {
    const float d = f16_at(b);
    for (int i = 0; i < kQK; ++i) dst[i] = d * float(kIQ4Values[nibble32(b + 2, i)]);
  }
}

void quant_q8_0(const float* src, void* dst, int64_t n) {
  uint8_t* b = static_cast<uint8_t*>(dst);
  for (int64_t ib = 0; ib < n / kQK; ++ib, b += kQ8_0Bytes, src += kQK) {
    float amax = 0.0f;
    for (int i = 0; i < kQK; ++i) amax = std::fmax(amax, std::fabs(src[i]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const uint16_t dh = f32_to_f16(d);
    std::memcpy(b, &dh, 2);
    int8_t* qs = reinterpret_cast<int8_t*>(b + 2);
    for (int i = 0; i < kQK; ++i) qs[i] = static_cast<int8_t>(std::roundf(src[i] * id));
  }
}

}  // namespace dllm::quant
