// IQ types (IQ4_NL, IQ4_XS): rows unpacked into the common form of unpack.h. Included by
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

static void iq4_xs(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t*, float*) {
  for (int64_t sb = 0; sb < K / 256; ++sb, w += qb::kIQ4_XSBytes, q += 256) {
    const float d = h2f(w);
    for (int ib = 0; ib < 8; ++ib) {
      dw[8 * sb + ib] = d * float(qb::iq4xs_scale(w, ib) - 32);
      int8_t n[32];
      nibbles32(w + 8 + 16 * ib, n, 0);
      for (int i = 0; i < 32; ++i) q[32 * ib + i] = qb::kIQ4Values[n[i]];
    }
  }
}
