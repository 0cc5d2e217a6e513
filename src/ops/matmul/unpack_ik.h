// ik_llama.cpp's types (IQ2_K .. IQ6_K, IQ2_KS .. IQ5_KS, IQ4_KSS, IQ2_KL,
// Q6_0): rows unpacked into the common form of unpack.h. Included by unpack.h
// only (inside namespace dllm::unpack).
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

// IQ4_KS: the row's f32 scale (dw), each sub-block's odd multiplier as the
// multiplier of its two 16-groups (the super-block order).
static void iq4_ks(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float*) {
  float D;
  std::memcpy(&D, w, 4);
  w += qb::kIQ4_KSRowMeta;
  for (int64_t sb = 0; sb < K / 256; ++sb, w += qb::kIQ4_KSBytes, q += 256)
    for (int ib = 0; ib < 8; ++ib) {
      dw[8 * sb + ib] = D;
      s16[16 * sb + 2 * ib] = s16[16 * sb + 2 * ib + 1] = int16_t(qb::iq4ks_scale(w[ib]));
      const int8_t* cb = qb::iq4ks_codebook(w[ib]);
      int8_t n[32];
      nibbles32(w + 8 + 16 * ib, n, 0);
      for (int i = 0; i < 32; ++i) q[32 * ib + i] = cb[n[i]];
    }
}

// Q6_0: legacy-shaped 32-blocks; q = the 6-bit quant - 32 (like Q6_K's).
static void q6_0(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t*, float*) {
  for (int64_t b = 0; b < K / 32; ++b, w += qb::kQ6_0Bytes) {
    dw[b] = h2f(w);
    for (int i = 0; i < 32; ++i) q[32 * b + i] = int8_t(qb::q6_0_quant(w, i) - 32);
  }
}

// The ik super-blocks with one fp16 d and a small integer scale per 16-group
// (IQ2_K, IQ3_K, IQ5_K, IQ6_K): d as the block scale, the group scales as
// multipliers, codebook values as quants. dw * s16 * q is the decoder's
// (d * scale) * value exactly: d * scale is exact in f32 (11 + 8 bits).
template <class Scale, class Value>
static inline void ik_s16(const uint8_t* w, int64_t K, int block_bytes, int8_t* q, float* dw, int16_t* s16,
                          Scale scale, Value value) {
  for (int64_t sb = 0; sb < K / 256; ++sb, w += block_bytes, q += 256) {
    const float d = h2f(w);
    for (int j = 0; j < 8; ++j) dw[8 * sb + j] = d;
    for (int s = 0; s < 16; ++s) s16[16 * sb + s] = int16_t(scale(w, s));
    for (int ib = 0; ib < 8; ++ib)
      for (int i = 0; i < 32; ++i) q[32 * ib + i] = value(w, ib, i);
  }
}

static void iq5_k(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float*) {
  ik_s16(w, K, qb::kIQ5_KBytes, q, dw, s16, [](const uint8_t* b, int s) { return qb::iq4k_scale(b, s) - 32; },
         [](const uint8_t* b, int ib, int i) {
           return qb::kIQ5NLValues[32 * qb::extra_bit(b + 2, 2 * ib + i / 16) + qb::iq5_index(b + 16, b + 144, ib, i)];
         });
}

// IQ6_K: the int8 codebook (what the reference's kernels multiply), not the
// cubic of its row decoder (quant_rows.h).
static void iq6_k(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float*) {
  ik_s16(w, K, qb::kIQ6_KBytes, q, dw, s16, qb::iq6k_scale, [](const uint8_t* b, int ib, int i) {
    return qb::kIQ6NLValues[64 * qb::extra_bit(b + 2, 2 * ib + i / 16) + qb::iq6_index(b + 20, b + 148, ib, i)];
  });
}

static void iq2_k(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float*) {
  ik_s16(w, K, qb::kIQ2_KBytes, q, dw, s16, qb::iq2k_scale, [](const uint8_t* b, int ib, int i) {
    return qb::kIQ2NLValues[4 * qb::extra_bit(b + 2, 2 * ib + i / 16) + qb::iq2_index(b + 12, ib, i)];
  });
}

static void iq3_k(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float*) {
  ik_s16(w, K, qb::kIQ3_KBytes, q, dw, s16, qb::iq3k_scale, [](const uint8_t* b, int ib, int i) {
    return qb::kIQ3NLValues[8 * qb::extra_bit(b + 2, 2 * ib + i / 16) + qb::iq3_index(b + 14, b + 78, ib, i)];
  });
}

// The row-scaled ik types (IQ5_KS, IQ4_KSS: f32 row scale; IQ2_KS, IQ3_KS,
// IQ2_KL: fp16): the row scale as dw, each 32-block's integer scale as the
// multiplier of its two 16-groups (dw * s16 is the decoder's own dl; the
// super-block order), codebook values as quants.
template <class Scale, class Values>
static inline void ik_row_scaled(float D, const uint8_t* w, int64_t K, int block_bytes, int8_t* q, float* dw,
                                 int16_t* s16, Scale scale, Values values) {
  for (int64_t sb = 0; sb < K / 256; ++sb, w += block_bytes, q += 256)
    for (int ib = 0; ib < 8; ++ib) {
      dw[8 * sb + ib] = D;
      s16[16 * sb + 2 * ib] = s16[16 * sb + 2 * ib + 1] = int16_t(scale(w, ib));
      values(w, ib, q + 32 * ib);
    }
}

static inline float row_f32(const uint8_t* w) {
  float D;
  std::memcpy(&D, w, 4);
  return D;
}

static void iq5_ks(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float*) {
  ik_row_scaled(row_f32(w), w + qb::kF32RowMeta, K, qb::kIQ5_KSBytes, q, dw, s16,
                [](const uint8_t* b, int ib) { return qb::iq4ks_scale(b[ib]); },
                [](const uint8_t* b, int ib, int8_t* out) {
                  const int8_t* cb = qb::kIQ5NLValues + 32 * (b[ib] & 1);
                  for (int i = 0; i < 32; ++i) out[i] = cb[qb::iq5_index(b + 8, b + 136, ib, i)];
                });
}

// IQ4_KSS: each 32-block's scale byte is spread over its quant words; one
// unpack gives both.
static void iq4_kss(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float*) {
  const float D = row_f32(w);
  w += qb::kF32RowMeta;
  for (int64_t sb = 0; sb < K / 256; ++sb, w += qb::kIQ4_KSSBytes, q += 256)
    for (int ib = 0; ib < 8; ++ib) {
      uint8_t nib[16];
      const uint8_t sc = qb::iq4kss_unpack(w, ib, nib);
      dw[8 * sb + ib] = D;
      s16[16 * sb + 2 * ib] = s16[16 * sb + 2 * ib + 1] = int16_t(qb::iq4ks_scale(sc));
      const int8_t* cb = qb::iq4ks_codebook(sc);
      for (int i = 0; i < 32; ++i) q[32 * ib + i] = cb[qb::nibble32(nib, i)];
    }
}

static void iq2_ks(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float*) {
  ik_row_scaled(h2f(w), w + qb::kF16RowMeta, K, qb::kIQ2_KSBytes, q, dw, s16, qb::iq2ks_scale,
                [](const uint8_t* b, int ib, int8_t* out) {
                  const int8_t* cb = qb::kIQ2NLValues + 4 * qb::extra_bit(b, ib);
                  for (int i = 0; i < 32; ++i) out[i] = cb[qb::iq2_index(b + 6, ib, i)];
                });
}

static void iq3_ks(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float*) {
  ik_row_scaled(h2f(w), w + qb::kF16RowMeta, K, qb::kIQ3_KSBytes, q, dw, s16, qb::iq3ks_scale,
                [](const uint8_t* b, int ib, int8_t* out) {
                  const int8_t* cb = qb::kIQ3NLValues + 8 * qb::extra_bit(b, 8 + ib);
                  for (int i = 0; i < 32; ++i) out[i] = cb[qb::iq3_index(b + 6, b + 70, ib, i)];
                });
}

static void iq2_kl(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float*) {
  ik_row_scaled(h2f(w), w + qb::kF16RowMeta, K, qb::kIQ2_KLBytes, q, dw, s16, qb::iq2kl_scale,
                [](const uint8_t* b, int ib, int8_t* out) {
                  for (int j = 0; j < 16; ++j) {
                    const int idx = qb::iq2kl_index(b + 6, b + 70, ib, j);
                    out[2 * j] = qb::iq2kl_value(idx, 0);
                    out[2 * j + 1] = qb::iq2kl_value(idx, 1);
                  }
                });
}
