// K-quants (Q2_K .. Q6_K): rows unpacked into the common form of unpack.h. Included by
// unpack.h only (inside namespace dllm::unpack).
// No include guard: one inclusion, from unpack.h.

// Super-block order with mins: dw[8sb..8sb+3] = d, dw[8sb+4..8sb+7] = -dmin,
// s16 the 16-group scales, mw16 the 16-group mins as (exact) floats.
static void q2_k(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float* mw16) {
  for (int64_t sb = 0; sb < K / 256; ++sb, w += qb::kQ2_KBytes, q += 256) {
    const float d = h2f(w + 80), dmin = h2f(w + 82);
    for (int j = 0; j < 8; ++j) dw[8 * sb + j] = j < 4 ? d : -dmin;
    for (int g = 0; g < 16; ++g) {
      s16[16 * sb + g] = int16_t(w[g] & 15);
      mw16[16 * sb + g] = float(w[g] >> 4);
    }
    const uint8_t* qs = w + 16;
    for (int h = 0; h < 2; ++h)
      for (int c = 0; c < 4; ++c)
        for (int l = 0; l < 32; ++l) q[128 * h + 32 * c + l] = int8_t((qs[32 * h + l] >> (2 * c)) & 3);
  }
}

static void q3_k(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float*) {
  for (int64_t sb = 0; sb < K / 256; ++sb, w += qb::kQ3_KBytes, q += 256) {
    const float d = h2f(w + 108);
    for (int j = 0; j < 8; ++j) dw[8 * sb + j] = d;
    for (int g = 0; g < 16; ++g) s16[16 * sb + g] = int16_t(qb::q3k_scale(w + 96, g));
    const uint8_t* hmask = w;
    const uint8_t* qs = w + 32;
    for (int h = 0; h < 2; ++h)
      for (int c = 0; c < 4; ++c)
        for (int l = 0; l < 32; ++l) {
          const int v = (qs[32 * h + l] >> (2 * c)) & 3;
          const int hb = (hmask[l] >> (4 * h + c)) & 1;
          q[128 * h + 32 * c + l] = int8_t(hb ? v : v - 4);
        }
  }
}

static void q4_k(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t*, float* mw16) {
  for (int64_t sb = 0; sb < K / 256; ++sb, w += qb::kQ4_KBytes, q += 256) {
    const float d = h2f(w), dmin = h2f(w + 2);
    for (int j = 0; j < 8; ++j) {
      int sc, m;
      qb::k_scale_min(w + 4, j, &sc, &m);
      dw[8 * sb + j] = d * float(sc);
      mw16[16 * sb + 2 * j] = mw16[16 * sb + 2 * j + 1] = -(dmin * float(m));
    }
    const uint8_t* qs = w + 16;
    for (int g = 0; g < 4; ++g)
      for (int l = 0; l < 32; ++l) {
        q[64 * g + l] = int8_t(qs[32 * g + l] & 15);
        q[64 * g + 32 + l] = int8_t(qs[32 * g + l] >> 4);
      }
  }
}

static void q5_k(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t*, float* mw16) {
  for (int64_t sb = 0; sb < K / 256; ++sb, w += qb::kQ5_KBytes, q += 256) {
    const float d = h2f(w), dmin = h2f(w + 2);
    for (int j = 0; j < 8; ++j) {
      int sc, m;
      qb::k_scale_min(w + 4, j, &sc, &m);
      dw[8 * sb + j] = d * float(sc);
      mw16[16 * sb + 2 * j] = mw16[16 * sb + 2 * j + 1] = -(dmin * float(m));
    }
    const uint8_t* qh = w + 16;
    const uint8_t* qs = w + 48;
    for (int g = 0; g < 4; ++g)
      for (int l = 0; l < 32; ++l) {
        q[64 * g + l] = int8_t((qs[32 * g + l] & 15) | ((qh[l] >> (2 * g)) & 1) << 4);
        q[64 * g + 32 + l] = int8_t((qs[32 * g + l] >> 4) | ((qh[l] >> (2 * g + 1)) & 1) << 4);
      }
  }
}

static void q6_k(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float*) {
  for (int64_t sb = 0; sb < K / 256; ++sb, w += qb::kQ6_KBytes, q += 256) {
    const float d = h2f(w + 208);
    for (int j = 0; j < 8; ++j) dw[8 * sb + j] = d;
    const int8_t* sc = reinterpret_cast<const int8_t*>(w + 192);
    for (int g = 0; g < 16; ++g) s16[16 * sb + g] = sc[g];
    const uint8_t* ql = w;
    const uint8_t* qh = w + 128;
    for (int h = 0; h < 2; ++h)
      for (int l = 0; l < 32; ++l) {
        const uint8_t a = ql[64 * h + l], b = ql[64 * h + 32 + l], hb = qh[32 * h + l];
        q[128 * h + l] = int8_t(((a & 15) | (hb & 3) << 4) - 32);
        q[128 * h + 32 + l] = int8_t(((b & 15) | ((hb >> 2) & 3) << 4) - 32);
        q[128 * h + 64 + l] = int8_t(((a >> 4) | ((hb >> 4) & 3) << 4) - 32);
        q[128 * h + 96 + l] = int8_t(((b >> 4) | ((hb >> 6) & 3) << 4) - 32);
      }
  }
}
