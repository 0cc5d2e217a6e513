// Legacy types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0): rows unpacked into the common form of unpack.h. Included by
// unpack.h only (inside namespace dllm::unpack).
// No include guard: one inclusion, from unpack.h.

// Legacy nibble order into q[0..31], minus `offset`.
static inline void nibbles32(const uint8_t* qs, int8_t* q, int offset) {
  for (int j = 0; j < 16; ++j) {
    q[j] = int8_t((qs[j] & 15) - offset);
    q[j + 16] = int8_t((qs[j] >> 4) - offset);
  }
}

static void q4_0(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t*, float*) {
  for (int64_t b = 0; b < K / 32; ++b, w += qb::kQ4_0Bytes) {
    dw[b] = h2f(w);
    nibbles32(w + 2, q + 32 * b, 8);
  }
}

static void q4_1(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t*, float* mw16) {
  for (int64_t b = 0; b < K / 32; ++b, w += qb::kQ4_1Bytes) {
    dw[b] = h2f(w);
    mw16[2 * b] = mw16[2 * b + 1] = h2f(w + 2);
    nibbles32(w + 4, q + 32 * b, 0);
  }
}

static void q5_0(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t*, float*) {
  for (int64_t b = 0; b < K / 32; ++b, w += qb::kQ5_0Bytes) {
    dw[b] = h2f(w);
    const uint32_t qh = qb::load_u32(w + 2);
    nibbles32(w + 6, q + 32 * b, 16);
    for (int i = 0; i < 32; ++i) q[32 * b + i] = int8_t(q[32 * b + i] + int(((qh >> i) & 1) << 4));
  }
}

static void q5_1(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t*, float* mw16) {
  for (int64_t b = 0; b < K / 32; ++b, w += qb::kQ5_1Bytes) {
    dw[b] = h2f(w);
    mw16[2 * b] = mw16[2 * b + 1] = h2f(w + 2);
    const uint32_t qh = qb::load_u32(w + 4);
    nibbles32(w + 8, q + 32 * b, 0);
    for (int i = 0; i < 32; ++i) q[32 * b + i] = int8_t(q[32 * b + i] + int(((qh >> i) & 1) << 4));
  }
}

static void q8_0(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t*, float*) {
  for (int64_t b = 0; b < K / 32; ++b, w += qb::kQ8_0Bytes) {
    dw[b] = h2f(w);
    std::memcpy(q + 32 * b, w + 2, 32);
  }
}
