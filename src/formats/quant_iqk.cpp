// ik_llama.cpp's own 4-bit types (kernels.md §2.5): bit-exact decoders.
// Products in the reference's order: the block scale times the integer
// scale first, then times the codebook value.
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

}  // namespace dllm::quant
