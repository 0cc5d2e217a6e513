// ik_llama.cpp's types (IQ4_K, IQ4_KS): rows unpacked into the common form of unpack.h. Included by
// unpack.h only (inside namespace dllm::unpack).
// No include guard: one inclusion, from unpack.h.

// IQ4_K: one fp16 d per super-block (dw), the 6-bit scale of each 16-group
// as its multiplier (s16), codebook values as the quants.
static void iq4_k(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float*) {
  for (int64_t sb = 0; sb < K / 256; ++sb, w += qb::kIQ4_KBytes, q += 256) {
    const float d = h2f(w);
    for (int j = 0; j < 8; ++j) dw[8 * sb + j] = d;
    const uint8_t* qs = w + 16;
    for (int s = 0; s < 16; ++s) {
      s16[16 * sb + s] = int16_t(qb::iq4k_scale(w, s) - 32);
      const int8_t* cb = qb::iq4k_codebook(w, s);
      const int ib = s / 2, half = s % 2;
      for (int j = 0; j < 16; ++j) {
        const uint8_t byte = qs[16 * ib + j];
        q[32 * ib + 16 * half + j] = cb[half ? byte >> 4 : byte & 15];
      }
    }
  }
}

// IQ4_KS: the row's f32 scale times each sub-block's odd multiplier (dw).
static void iq4_ks(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t*, float*) {
  float D;
  std::memcpy(&D, w, 4);
  w += qb::kIQ4_KSRowMeta;
  for (int64_t sb = 0; sb < K / 256; ++sb, w += qb::kIQ4_KSBytes, q += 256)
    for (int ib = 0; ib < 8; ++ib) {
      dw[8 * sb + ib] = D * float(qb::iq4ks_scale(w[ib]));
      const int8_t* cb = qb::iq4ks_codebook(w[ib]);
      int8_t n[32];
      nibbles32(w + 8 + 16 * ib, n, 0);
      for (int i = 0; i < 32; ++i) q[32 * ib + i] = cb[n[i]];
    }
}
