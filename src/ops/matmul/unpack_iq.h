// IQ types (IQ4_NL, IQ4_XS, the mainline codebook types IQ1_S .. IQ3_S) and
// MXFP4: rows unpacked into the common form of unpack.h. Included by
// unpack.h only (inside namespace dllm::unpack).
// No include guard: one inclusion, from unpack.h.

static void iq4_nl(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t*, float*) {
  for (int64_t b = 0; b < K / 32; ++b, w += qb::kIQ4_NLBytes) {
    dw[b] = h2f(w);
    int8_t n[32];
    nibbles32(w + 2, n, 0);
    for (int i = 0; i < 32; ++i) q[32 * b + i] = qb::kIQ4Values[n[i]];
  }
}

// IQ4_XS: d over the super-block (dw), each 32-block's scale as the
// multiplier of its two 16-groups (the super-block order).
static void iq4_xs(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float*) {
  for (int64_t sb = 0; sb < K / 256; ++sb, w += qb::kIQ4_XSBytes, q += 256) {
    const float d = h2f(w);
    for (int ib = 0; ib < 8; ++ib) {
      dw[8 * sb + ib] = d;
      s16[16 * sb + 2 * ib] = s16[16 * sb + 2 * ib + 1] = int16_t(qb::iq4xs_scale(w, ib) - 32);
      int8_t n[32];
      nibbles32(w + 8 + 16 * ib, n, 0);
      for (int i = 0; i < 32; ++i) q[32 * ib + i] = qb::kIQ4Values[n[i]];
    }
  }
}

// --- mainline codebook types and MXFP4 --------------------------------------------
// q = codebook value times sign (qb::*_sub); the float scale of each
// 32-block (or of the super-block, with 16-group multipliers in s16) is
// chosen so that dw * s16 * q is the decoder's value exactly: all factors are
// an fp16, small integers and powers of two.

// IQ2_XXS / IQ3_XXS / IQ3_S: one 4-bit scale s per 32-block, as the integer
// multiplier of both its 16-groups (the super-block order): d * (0.5 + s) / 4
// = (d / 8) * (2s + 1) (IQ2_XXS), d * (0.5 + s) / 2 = (d / 4) * (2s + 1)
// (IQ3_XXS), d * (1 + 2s) (IQ3_S).
template <int (*Sub)(const uint8_t*, int, int8_t*), int kBytes>
static void odd_s32(const uint8_t* w, int64_t K, float f, int8_t* q, float* dw, int16_t* s16) {
  for (int64_t sb = 0; sb < K / 256; ++sb, w += kBytes, q += 256) {
    const float d = h2f(w) * f;
    for (int ib = 0; ib < 8; ++ib) {
      dw[8 * sb + ib] = d;
      s16[16 * sb + 2 * ib] = s16[16 * sb + 2 * ib + 1] = int16_t(2 * Sub(w, ib, q + 32 * ib) + 1);
    }
  }
}
static void iq2_xxs(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float*) {
  odd_s32<qb::iq2xxs_sub, qb::kIQ2_XXSBytes>(w, K, 0.125f, q, dw, s16);
}
static void iq3_xxs(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float*) {
  odd_s32<qb::iq3xxs_sub, qb::kIQ3_XXSBytes>(w, K, 0.25f, q, dw, s16);
}
static void iq3_s(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float*) {
  odd_s32<qb::iq3s_sub, qb::kIQ3_SBytes>(w, K, 1.0f, q, dw, s16);
}

// IQ2_XS / IQ2_S: a 4-bit scale s per 16-group, d * (0.5 + s) / 4 =
// (d / 8) * (2s + 1): dw = d / 8, s16 = 2s + 1.
template <void (*Sub)(const uint8_t*, int, int8_t*, int*, int*), int kBytes>
static void iq2_s16(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float*) {
  for (int64_t sb = 0; sb < K / 256; ++sb, w += kBytes, q += 256) {
    const float d8 = h2f(w) * 0.125f;
    for (int ib = 0; ib < 8; ++ib) {
      int lo, hi;
      Sub(w, ib, q + 32 * ib, &lo, &hi);
      dw[8 * sb + ib] = d8;
      s16[16 * sb + 2 * ib] = int16_t(2 * lo + 1);
      s16[16 * sb + 2 * ib + 1] = int16_t(2 * hi + 1);
    }
  }
}
static void iq2_xs(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float* mw16) {
  iq2_s16<qb::iq2xs_sub, qb::kIQ2_XSBytes>(w, K, q, dw, s16, mw16);
}
static void iq2_s(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float* mw16) {
  iq2_s16<qb::iq2s_sub, qb::kIQ2_SBytes>(w, K, q, dw, s16, mw16);
}

// IQ1_S: value (d * (2s + 1)) * (g +- 1/8) = (d * (2s + 1) / 8) * q with
// q = 8g +- 1: dw = d / 8, 2s + 1 the multiplier of both 16-groups.
static void iq1_s(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float*) {
  odd_s32<qb::iq1s_sub, qb::kIQ1_SBytes>(w, K, 0.125f, q, dw, s16);
}

// IQ1_M: as IQ1_S with a 3-bit scale per 16-group: dw = d / 8, s16 = 2s + 1.
static void iq1_m(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float*) {
  for (int64_t sb = 0; sb < K / 256; ++sb, w += qb::kIQ1_MBytes, q += 256) {
    uint8_t dbits[2];  // the scattered fp16 d, gathered for h2f
    const uint16_t h = qb::iq1m_d_bits(w);
    std::memcpy(dbits, &h, 2);
    const float d8 = h2f(dbits) * 0.125f;
    for (int ib = 0; ib < 8; ++ib) {
      int lo, hi;
      qb::iq1m_sub(w, ib, q + 32 * ib, &lo, &hi);
      dw[8 * sb + ib] = d8;
      s16[16 * sb + 2 * ib] = int16_t(2 * lo + 1);
      s16[16 * sb + 2 * ib + 1] = int16_t(2 * hi + 1);
    }
  }
}

// MXFP4: doubled FP4 values, half the E8M0 scale.
static void mxfp4(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t*, float*) {
  for (int64_t b = 0; b < K / 32; ++b, w += qb::kMXFP4Bytes) {
    dw[b] = qb::e8m0_half(w[0]);
    qb::mxfp4_block(w, q + 32 * b);
  }
}
