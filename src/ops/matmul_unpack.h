// Weight rows of every quantized type, unpacked into one common form that a
// single int8 dot kernel reads (the "unpack once, reuse over activation rows"
// idea of kernels.md §3.3):
//
//   q    [K]      int8 weight quants
//   dw   [K/32]   f32 scale of each 32-block
//   s16  [K/16]   int16 multiplier of each 16-group (types with 16-element
//                 scales: Q2_K, Q3_K, Q6_K), else unused
//   mw16 [K/16]   f32 offset factor of each 16-group (types with mins), else unused
//
// so that   row . x  =  sum_b dw[b]*da[b] * (S_lo(b) + S_hi(b))  +  sum_g mw16[g]*da*suma[g]
// with S_lo/S_hi the int dot of the block's two 16-halves (times s16 where
// used) and suma the activation quant sums. Every stored value is exact: the
// composite scales (d*sc, -dmin*m) are products of an fp16 and a small integer.
//
// Internal linkage on purpose: this header is compiled into portable and
// ISA-specific files (the compiler vectorizes these loops there).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "formats/ggml_type.h"
#include "formats/quant_blocks.h"

namespace dllm::unpack {

struct Traits {
  bool s16;   // uses 16-group multipliers
  bool mins;  // has offset terms
};

static inline float h2f(const uint8_t* p) {
  // fp16 -> f32, exact, without branches on the hot path: the 15 magnitude
  // bits placed in a float's exponent/mantissa field and scaled by 2^112 give
  // the value for normals and subnormals alike (a power-of-two product is
  // exact); inf/NaN get the all-ones exponent. A local copy so that ISA files
  // do not share an inline symbol.
  const uint16_t h = qb::load_u16(p);
  const uint32_t mag = uint32_t(h & 0x7fff) << 13;
  float f;
  std::memcpy(&f, &mag, 4);
  f *= 5.192296858534828e33f;  // 2^112
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((h & 0x7c00) == 0x7c00) bits = 0x7f800000u | mag;
  bits |= uint32_t(h & 0x8000) << 16;
  std::memcpy(&f, &bits, 4);
  return f;
}

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

static void iq4_nl(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t*, float*) {
  for (int64_t b = 0; b < K / 32; ++b, w += qb::kIQ4_NLBytes) {
    dw[b] = h2f(w);
    int8_t n[32];
    nibbles32(w + 2, n, 0);
    for (int i = 0; i < 32; ++i) q[32 * b + i] = qb::kIQ4Values[n[i]];
  }
}

static void q2_k(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float* mw16) {
  for (int64_t sb = 0; sb < K / 256; ++sb, w += qb::kQ2_KBytes, q += 256) {
    const float d = h2f(w + 80), dmin = h2f(w + 82);
    for (int j = 0; j < 8; ++j) dw[8 * sb + j] = d;
    for (int g = 0; g < 16; ++g) {
      s16[16 * sb + g] = int16_t(w[g] & 15);
      mw16[16 * sb + g] = -(dmin * float(w[g] >> 4));
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

using Fn = void (*)(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float* mw16);

struct Entry {
  Fn fn;
  Traits traits;
};

// nullptr fn: not an int8 type.
static constexpr Entry entry(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_0: return {q4_0, {false, false}};
    case GgmlType::Q4_1: return {q4_1, {false, true}};
    case GgmlType::Q5_0: return {q5_0, {false, false}};
    case GgmlType::Q5_1: return {q5_1, {false, true}};
    case GgmlType::Q8_0: return {q8_0, {false, false}};
    case GgmlType::IQ4_NL: return {iq4_nl, {false, false}};
    case GgmlType::Q2_K: return {q2_k, {true, true}};
    case GgmlType::Q3_K: return {q3_k, {true, false}};
    case GgmlType::Q4_K: return {q4_k, {false, true}};
    case GgmlType::Q5_K: return {q5_k, {false, true}};
    case GgmlType::Q6_K: return {q6_k, {true, false}};
    case GgmlType::IQ4_XS: return {iq4_xs, {false, false}};
    case GgmlType::IQ4_K: return {iq4_k, {true, false}};
    case GgmlType::IQ4_KS: return {iq4_ks, {false, false}};
    default: return {nullptr, {false, false}};
  }
}

// Scratch for one unpacked row of K (all four arrays, 64-byte aligned pieces).
static inline size_t row_bytes_unpacked(int64_t K) {
  auto a64 = [](size_t n) { return (n + 63) & ~size_t(63); };
  const size_t k = size_t(K);
  return a64(k) + a64(k / 32 * 4) + a64(k / 16 * 2) + a64(k / 16 * 4);
}

struct Row {
  int8_t* q;
  float* dw;
  int16_t* s16;
  float* mw16;
};

// Carves a Row out of `buf` (64-byte aligned, row_bytes_unpacked(K) long).
static inline Row carve(uint8_t* buf, int64_t K) {
  auto a64 = [](size_t n) { return (n + 63) & ~size_t(63); };
  const size_t k = size_t(K);
  Row r;
  r.q = reinterpret_cast<int8_t*>(buf);
  r.dw = reinterpret_cast<float*>(buf + a64(k));
  r.s16 = reinterpret_cast<int16_t*>(buf + a64(k) + a64(k / 32 * 4));
  r.mw16 = reinterpret_cast<float*>(buf + a64(k) + a64(k / 32 * 4) + a64(k / 16 * 2));
  return r;
}

}  // namespace dllm::unpack
