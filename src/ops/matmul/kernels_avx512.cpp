// AVX-512 (F/BW/VL/DQ) + VNNI kernels (this file alone is compiled with those
// flags; matmul.cpp picks it when CPUID reports AVX-512 VNNI). Int8 blocks use
// the 512-bit kernels below; the block decoders, the SIMD unpackers and the
// float kernel (at 512 bits) are shared with the AVX2 file (simd_impl.h).

// GCC 12 warns about the deliberately undefined vectors inside its own
// AVX-512 intrinsic headers (_mm512_undefined_*); not our code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>

#include "ops/matmul/kernels.h"
#include "ops/matmul/unpack.h"

namespace dllm::mm {

namespace {

// Float vectors for the F32 / F16 / BF16 kernel of simd_impl.h.
struct FVec {
  using T = __m512;
  static constexpr int W = 16;
  static T zero() { return _mm512_setzero_ps(); }
  static T load(const float* p) { return _mm512_loadu_ps(p); }
  static float sum(T v);  // defined below, after the shared helpers
  static T fmadd(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  static T load_f16(const uint8_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
  static T load_bf16(const uint8_t* p) {
    const __m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
  }
};

#include "ops/matmul/simd_impl.h"

inline float hsum512(__m512 v) {
  return hsum(_mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1)));
}

inline float FVec::sum(T v) { return hsum512(v); }


// --- prefill: 512-bit int8 kernel over unpacked rows --------------------------------
//
// Two 32-blocks per zmm. The weight's sign moves onto the activation with a
// masked negate (there is no 512-bit vpsignb). Lane i of a block pair is block
// i / 8, so the scale vector is (dw_b, dw_b+1) broadcast by halves. An odd last
// block runs with a zero upper half and zero upper scales.

inline __m512 pair_scales(const float* s, int64_t b, bool both) {
  const __m512i idx = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
  return _mm512_permutexvar_ps(idx, _mm512_maskz_loadu_ps(both ? 0x3 : 0x1, s + b));
}

template <bool S16, bool MINS>
struct Unpacked512 {
  const unpack::Row* u;  // [NT] unpacked weight rows

  template <int NT, int MT>
  void tile(const Task& t, int64_t n, int64_t m) const {
    const ActRows& A = *t.A;
    const int64_t nb = A.K / 32;
    const int8_t* a[MT];
    const float* da[MT];
    for (int j = 0; j < MT; ++j) {
      a[j] = A.qs_row(m + j);
      da[j] = A.d_row(m + j);
    }
    const __m512i idx4 = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
    __m512 acc[NT][MT];
    for (int r = 0; r < NT; ++r)
      for (int j = 0; j < MT; ++j) acc[r][j] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b += 2) {
      const bool both = b + 1 < nb;
      __m512i wabs[NT], mult[NT];
      __mmask64 wneg[NT];
      __m512 dw[NT];
      for (int r = 0; r < NT; ++r) {
        const __m512i wq = both ? _mm512_load_si512(u[r].q + 32 * b)
                                : _mm512_zextsi256_si512(_mm256_load_si256(reinterpret_cast<const __m256i*>(u[r].q + 32 * b)));
        wabs[r] = _mm512_abs_epi8(wq);
        wneg[r] = _mm512_movepi8_mask(wq);
        dw[r] = pair_scales(u[r].dw, b, both);
        if constexpr (S16) {
          const __m128i s = _mm_maskz_loadu_epi16(both ? 0xf : 0x3, u[r].s16 + 2 * b);
          mult[r] = _mm512_permutexvar_epi32(idx4, _mm512_castsi128_si512(_mm_cvtepi16_epi32(s)));
        }
      }
      for (int j = 0; j < MT; ++j) {
        const __m512i av = both ? _mm512_loadu_si512(a[j] + 32 * b)
                                : _mm512_zextsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[j] + 32 * b)));
        const __m512 d2 = pair_scales(da[j], b, both);
        for (int r = 0; r < NT; ++r) {
          const __m512i as = _mm512_mask_sub_epi8(av, wneg[r], _mm512_setzero_si512(), av);
          __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), wabs[r], as);
          if constexpr (S16) p = _mm512_mullo_epi32(p, mult[r]);
          acc[r][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_mul_ps(dw[r], d2), acc[r][j]);
        }
      }
    }
    for (int r = 0; r < NT; ++r)
      for (int j = 0; j < MT; ++j) {
        float s = _mm512_reduce_add_ps(acc[r][j]);
        if constexpr (MINS) s += dot_f32(u[r].mw16, A.dsum16_row(m + j), A.K / 16);
        t.Y[(m + j) * t.ldy + n + r] = s;
      }
  }
};

// --- Q8_0: 16-row panels, one canonical order per output ---------------------------
//
// Every Q8_0 output is computed here as
//   acc = 0;  for each 32-block b in order:  acc = fma(float(isum_b), dw_b * da_b, acc)
// with isum_b the exact integer dot of the block. Three paths give those bits:
//  - in place (fewer than 16 activation rows): 16 weight rows at a time read
//    where they are, each row's block reduced to one lane (lane = row);
//  - panels (16 or more activation rows): 16 weight rows repacked once into
//    4-byte groups across lanes, so one vpdpbusd with a broadcast activation
//    group serves 16 rows, for 8 activation rows at a time;
//  - leftover rows one at a time, with scalar fma.
// So results depend neither on the batch size nor on the split over threads.
// Weights enter vpdpbusd as unsigned bytes (w ^ 0x80 = w + 128); the offset,
// 128 * (sum of the block's activation quants), is taken off in integers.

constexpr int kPanelRows = 16;
constexpr size_t kPanelBlockBytes = 8 * 64 + 64;  // 8 groups x 16 rows x 4 bytes, 16 scales

inline __m512i q8_flip() { return _mm512_set1_epi8(char(0x80)); }

// Lane r of the result: row r's fp16 block scale at base + gidx[r], as f32.
inline __m512 gather_scales(const uint8_t* base, __m512i gidx) {
  const __m512i g = _mm512_i32gather_epi32(gidx, base, 1);
  return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(g));
}

// P[i] holds rows (kPairRow[i], kPairRow[i] + 4) of one block: 8 partial sums
// each. Summing within each half and across the pairs leaves row r in lane r.
constexpr int kPairRow[8] = {0, 1, 2, 3, 8, 9, 10, 11};

inline __m512i reduce_rows(const __m512i P[8]) {
  __m512i Q[4];
  for (int i = 0; i < 4; ++i)
    Q[i] = _mm512_add_epi32(_mm512_unpacklo_epi32(P[2 * i], P[2 * i + 1]), _mm512_unpackhi_epi32(P[2 * i], P[2 * i + 1]));
  const __m512i S0 = _mm512_add_epi32(_mm512_unpacklo_epi64(Q[0], Q[1]), _mm512_unpackhi_epi64(Q[0], Q[1]));
  const __m512i S1 = _mm512_add_epi32(_mm512_unpacklo_epi64(Q[2], Q[3]), _mm512_unpackhi_epi64(Q[2], Q[3]));
  // 128-bit lane q of S0 / S1: [P0..P3] / [P4..P7] summed over their quarter q;
  // quarters 0+1 are the first row of each pair, 2+3 the second.
  return _mm512_add_epi32(_mm512_shuffle_i32x4(S0, S1, _MM_SHUFFLE(2, 0, 2, 0)),
                          _mm512_shuffle_i32x4(S0, S1, _MM_SHUFFLE(3, 1, 3, 1)));
}

// 16 rows from w0 (row stride rs, gather offsets gidx) against activation row m.
void q8_0_inplace16(const Task& t, const uint8_t* w0, size_t rs, __m512i gidx, int64_t n, int64_t m) {
  const ActRows& A = *t.A;
  const int64_t nb = t.W->cols / 32;
  const int8_t* a = A.qs_row(m);
  const float* da = A.d_row(m);
  const int32_t* s32 = A.sum32_row(m);
  const __m512i flip = q8_flip();
  __m512 acc = _mm512_setzero_ps();
  // The next panel is one contiguous run of 16 rows: fetch it as a stream,
  // 16 * 34 bytes per block step, while this one is computed.
  const uint8_t* next = w0 + kPanelRows * rs;
  for (int64_t b = 0; b < nb; ++b) {
    const __m512i a2 = _mm512_broadcast_i64x4(load256(a + 32 * b));
    for (int l = 0; l < kPanelRows * 34; l += 64) prefetch(next + size_t(b) * (kPanelRows * 34) + l);
    __m512i P[8];
    for (int i = 0; i < 8; ++i) {
      const uint8_t* lo = w0 + size_t(kPairRow[i]) * rs + 34 * b;
      const uint8_t* hi = lo + 4 * rs;
      const __m512i wq = _mm512_inserti64x4(_mm512_castsi256_si512(load256(lo + 2)), load256(hi + 2), 1);
      P[i] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_xor_si512(wq, flip), a2);
    }
    const __m512i isum = _mm512_sub_epi32(reduce_rows(P), _mm512_set1_epi32(128 * s32[b]));
    const __m512 sc = _mm512_mul_ps(gather_scales(w0 + 34 * b, gidx), _mm512_set1_ps(da[b]));
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), sc, acc);
  }
  _mm512_storeu_ps(t.Y + m * t.ldy + n, acc);
}

// Repacks 16 rows into `panel`: per block, group k (bytes 4k..4k+3) of row r
// at lane r of vector k, flipped to unsigned; then the 16 scales as f32.
void q8_0_repack16(const uint8_t* w0, __m512i gidx, int64_t nb, uint8_t* panel) {
  const __m512i flip = q8_flip();
  for (int64_t b = 0; b < nb; ++b) {
    uint8_t* out = panel + size_t(b) * kPanelBlockBytes;
    const uint8_t* blk = w0 + 34 * b;
    for (int k = 0; k < 8; ++k) {
      const __m512i g = _mm512_i32gather_epi32(gidx, blk + 2 + 4 * k, 1);
      _mm512_store_si512(out + 64 * k, _mm512_xor_si512(g, flip));
    }
    _mm512_store_ps(reinterpret_cast<float*>(out + 512), gather_scales(blk, gidx));
  }
}

// A repacked panel of 16 rows (outputs n..n+15) against activation rows m..m+MT-1.
template <int MT>
void q8_0_panel_tile(const Task& t, const uint8_t* panel, int64_t n, int64_t m) {
  const ActRows& A = *t.A;
  const int64_t nb = t.W->cols / 32;
  const int8_t* a[MT];
  const float* da[MT];
  const int32_t* s32[MT];
  __m512 acc[MT];
  for (int j = 0; j < MT; ++j) {
    a[j] = A.qs_row(m + j);
    da[j] = A.d_row(m + j);
    s32[j] = A.sum32_row(m + j);
    acc[j] = _mm512_setzero_ps();
  }
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* pb = panel + size_t(b) * kPanelBlockBytes;
    __m512i wk[8];
    for (int k = 0; k < 8; ++k) wk[k] = _mm512_load_si512(pb + 64 * k);
    const __m512 dw = _mm512_load_ps(reinterpret_cast<const float*>(pb + 512));
    for (int j = 0; j < MT; ++j) {
      const int8_t* ab = a[j] + 32 * b;
      __m512i isum = _mm512_set1_epi32(-128 * s32[j][b]);
      for (int k = 0; k < 8; ++k) {
        int32_t g;
        std::memcpy(&g, ab + 4 * k, 4);
        isum = _mm512_dpbusd_epi32(isum, wk[k], _mm512_set1_epi32(g));
      }
      acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(dw, _mm512_set1_ps(da[j][b])), acc[j]);
    }
  }
  for (int j = 0; j < MT; ++j) _mm512_storeu_ps(t.Y + (m + j) * t.ldy + n, acc[j]);
}

// One weight row against activation rows [m0, m1), scalar fma per block.
void q8_0_row(const Task& t, int64_t n, int64_t m0, int64_t m1) {
  const WeightView& W = *t.W;
  const ActRows& A = *t.A;
  const int64_t nb = W.cols / 32;
  const uint8_t* w = W.data + size_t(n) * W.row_stride;
  const __m256i flip = _mm256_set1_epi8(char(0x80));
  for (int64_t m = m0; m < m1; ++m) {
    const int8_t* a = A.qs_row(m);
    const float* da = A.d_row(m);
    const int32_t* s32 = A.sum32_row(m);
    float acc = 0.0f;
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = w + 34 * b;
      const __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_xor_si256(load256(blk + 2), flip),
                                            load256(a + 32 * b));
      const __m128i h = _mm_add_epi32(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));
      const __m128i h2 = _mm_add_epi32(h, _mm_unpackhi_epi64(h, h));
      const int32_t isum = _mm_cvtsi128_si32(_mm_add_epi32(h2, _mm_shuffle_epi32(h2, 1))) - 128 * s32[b];
      acc = std::fma(float(isum), f16_at(blk) * da[b], acc);
    }
    t.Y[m * t.ldy + n] = acc;
  }
}

void rows_q8_0(const Task& t, int64_t n0, int64_t n1, int64_t m0, int64_t m1, uint8_t* tmp) {
  const WeightView& W = *t.W;
  const int64_t nb = W.cols / 32;
  const size_t rs = W.row_stride;
  int64_t n = n0;
  // Panels need 32-bit gather offsets for 16 rows.
  if (rs <= size_t(INT32_MAX) / kPanelRows) {
    const __m512i gidx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                            _mm512_set1_epi32(int32_t(rs)));
    const bool repack = m1 - m0 >= 16;
    for (; n + kPanelRows <= n1; n += kPanelRows) {
      const uint8_t* w0 = W.data + size_t(n) * rs;
      if (!repack) {
        for (int64_t m = m0; m < m1; ++m) q8_0_inplace16(t, w0, rs, gidx, n, m);
        continue;
      }
      q8_0_repack16(w0, gidx, nb, tmp);
      int64_t m = m0;
      for (; m + 8 <= m1; m += 8) q8_0_panel_tile<8>(t, tmp, n, m);
      for (; m + 4 <= m1; m += 4) q8_0_panel_tile<4>(t, tmp, n, m);
      for (; m < m1; ++m) q8_0_panel_tile<1>(t, tmp, n, m);
    }
  }
  for (; n < n1; ++n) q8_0_row(t, n, m0, m1);
}

// --- Q4_K / Q5_K / Q6_K in place, two 32-blocks per zmm -----------------------------
//
// As the 256-bit kernels of simd_impl.h (same formulas), but each
// vpdpbusd covers two consecutive 32-blocks, whose activations are contiguous.
// Used for decode (MT = 1) and prefill (MT = 4) alike, so both give the same
// bits per output.

template <bool Q5>
struct Q45_K512 {
  template <int NT, int MT>
  void tile(const Task& t, int64_t n, int64_t m) const {
    constexpr int kBytes = Q5 ? 176 : 144, kQs = Q5 ? 48 : 16;
    const WeightView& W = *t.W;
    const ActRows& A = *t.A;
    const int64_t nsb = W.cols / 256;
    const int8_t* a[MT];
    const float* da[MT];
    const float* ds[MT];
    for (int j = 0; j < MT; ++j) {
      a[j] = A.qs_row(m + j);
      da[j] = A.d_row(m + j);
      ds[j] = A.dsum32_row(m + j);
    }
    const uint8_t* w[NT];
    __m512 acc[NT][MT];
    for (int r = 0; r < NT; ++r) {
      w[r] = W.data + size_t(n + r) * W.row_stride;
      for (int j = 0; j < MT; ++j) acc[r][j] = _mm512_setzero_ps();
    }
    for (int64_t sb = 0; sb < nsb; ++sb) {
      for (int r = 0; r < NT; ++r) {
        const uint8_t* blk = w[r] + kBytes * sb;
        prefetch_bytes(blk + NT * W.row_stride, kBytes);
        __m256 sc, mn;
        q4k_scales_mins(blk + 4, &sc, &mn);
        const __m256 d = _mm256_set1_ps(f16_at(blk));
        const __m512 mnd = _mm512_zextps256_ps512(_mm256_mul_ps(mn, _mm256_set1_ps(-f16_at(blk + 2))));
        __m512 S[MT];
        for (int j = 0; j < MT; ++j) {
          S[j] = _mm512_zextps256_ps512(_mm256_mul_ps(sc, _mm256_mul_ps(d, _mm256_loadu_ps(da[j] + 8 * sb))));
          acc[r][j] = _mm512_fmadd_ps(mnd, _mm512_zextps256_ps512(_mm256_loadu_ps(ds[j] + 8 * sb)), acc[r][j]);
        }
        __m256i qh = Q5 ? load256(blk + 16) : _mm256_setzero_si256();
        for (int g = 0; g < 4; ++g) {
          __m256i lo, hi;
          q45_quants<Q5>(blk + kQs + 32 * g, &qh, &lo, &hi);
          const __m512i wq = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
          // lanes 0-7: sub-block 2g, lanes 8-15: sub-block 2g+1
          const __m512i idx = _mm512_setr_epi32(2 * g, 2 * g, 2 * g, 2 * g, 2 * g, 2 * g, 2 * g, 2 * g, 2 * g + 1,
                                                2 * g + 1, 2 * g + 1, 2 * g + 1, 2 * g + 1, 2 * g + 1, 2 * g + 1, 2 * g + 1);
          for (int j = 0; j < MT; ++j) {
            const __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), wq, _mm512_loadu_si512(a[j] + 256 * sb + 64 * g));
            acc[r][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_permutexvar_ps(idx, S[j]), acc[r][j]);
          }
        }
      }
    }
    for (int r = 0; r < NT; ++r)
      for (int j = 0; j < MT; ++j) t.Y[(m + j) * t.ldy + n + r] = _mm512_reduce_add_ps(acc[r][j]);
  }
};

struct Q6_K512 {
  template <int NT, int MT>
  void tile(const Task& t, int64_t n, int64_t m) const {
    const WeightView& W = *t.W;
    const ActRows& A = *t.A;
    const int64_t nsb = W.cols / 256;
    const int8_t* a[MT];
    const float* da[MT];
    const float* ds16[MT];
    for (int j = 0; j < MT; ++j) {
      a[j] = A.qs_row(m + j);
      da[j] = A.d_row(m + j);
      ds16[j] = A.dsum16_row(m + j);
    }
    // 16-group g belongs to 32-block g / 2
    const __m512i group_block = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    const __m512 m32 = _mm512_set1_ps(-32.0f);
    const uint8_t* w[NT];
    __m512 acc[NT][MT];
    for (int r = 0; r < NT; ++r) {
      w[r] = W.data + size_t(n + r) * W.row_stride;
      for (int j = 0; j < MT; ++j) acc[r][j] = _mm512_setzero_ps();
    }
    for (int64_t sb = 0; sb < nsb; ++sb) {
      __m512 dg[MT];  // da of each 16-group
      for (int j = 0; j < MT; ++j)
        dg[j] = _mm512_permutexvar_ps(group_block, _mm512_castps256_ps512(_mm256_loadu_ps(da[j] + 8 * sb)));
      for (int r = 0; r < NT; ++r) {
        const uint8_t* blk = w[r] + 210 * sb;
        prefetch_bytes(blk + NT * W.row_stride, 210);
        const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 192));
        const __m512 scd = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(sc8)), _mm512_set1_ps(f16_at(blk + 208)));
        __m512 F[MT];
        for (int j = 0; j < MT; ++j) {
          F[j] = _mm512_mul_ps(scd, dg[j]);
          acc[r][j] = _mm512_fmadd_ps(_mm512_mul_ps(scd, m32), _mm512_loadu_ps(ds16[j] + 16 * sb), acc[r][j]);
        }
        for (int h = 0; h < 2; ++h) {
          __m256i q[4];
          q6_quants(blk, h, q);
          for (int cp = 0; cp < 2; ++cp) {
            const __m512i wq = _mm512_inserti64x4(_mm512_castsi256_si512(q[2 * cp]), q[2 * cp + 1], 1);
            // lanes 4i..4i+3 are 16-group 8h + 4cp + i
            const int g0 = 8 * h + 4 * cp;
            const __m512i idx = _mm512_setr_epi32(g0, g0, g0, g0, g0 + 1, g0 + 1, g0 + 1, g0 + 1, g0 + 2, g0 + 2,
                                                  g0 + 2, g0 + 2, g0 + 3, g0 + 3, g0 + 3, g0 + 3);
            for (int j = 0; j < MT; ++j) {
              const __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), wq,
                                                    _mm512_loadu_si512(a[j] + 256 * sb + 128 * h + 64 * cp));
              acc[r][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_permutexvar_ps(idx, F[j]), acc[r][j]);
            }
          }
        }
      }
    }
    for (int r = 0; r < NT; ++r)
      for (int j = 0; j < MT; ++j) t.Y[(m + j) * t.ldy + n + r] = _mm512_reduce_add_ps(acc[r][j]);
  }
};

// Unpacks two weight rows at a time into this thread's scratch, then runs them
// against 4 activation rows at a time.
template <GgmlType T>
void rows_prefill512(const Task& t, int64_t n0, int64_t n1, int64_t m0, int64_t m1, uint8_t* tmp) {
  const WeightView& W = *t.W;
  const unpack::Fn unpack_row = fast_unpack<T>();
  constexpr bool S16 = unpack::entry(T).traits.s16;
  constexpr bool MINS = unpack::entry(T).traits.mins;
  const size_t rb = unpack::row_bytes_unpacked(W.cols);
  const unpack::Row u[2] = {unpack::carve(tmp, W.cols), unpack::carve(tmp + rb, W.cols)};
  const Unpacked512<S16, MINS> k{u};
  const size_t wb = row_bytes(T, W.cols);
  for (int64_t n = n0; n < n1; n += 2) {
    const int nt = n + 2 <= n1 ? 2 : 1;
    if (n + 2 < n1) prefetch_bytes(W.data + size_t(n + 2) * W.row_stride, wb * size_t(std::min<int64_t>(2, n1 - n - 2)));
    for (int r = 0; r < nt; ++r)
      unpack_row(W.data + size_t(n + r) * W.row_stride, W.cols, u[r].q, u[r].dw, u[r].s16, u[r].mw16);
    int64_t m = m0;
    if (nt == 2) {
      for (; m + 4 <= m1; m += 4) k.template tile<2, 4>(t, n, m);
      for (; m < m1; ++m) k.template tile<2, 1>(t, n, m);
    } else {
      for (; m + 4 <= m1; m += 4) k.template tile<1, 4>(t, n, m);
      for (; m < m1; ++m) k.template tile<1, 1>(t, n, m);
    }
  }
}

template <class Kernel, int NTP>
void rows_direct(const Task& t, int64_t n0, int64_t n1, int64_t m0, int64_t m1, uint8_t*) {
  drive<NTP>(t, n0, n1, m0, m1, Kernel{});
}

}  // namespace

UnpackRowFn avx512_unpacker(GgmlType t) { return fast_unpack_of(t); }

RowsFn avx512_rows(GgmlType t) {
  switch (t) {
    case GgmlType::F32: return rows_direct<FloatKernel<GgmlType::F32>, 4>;
    case GgmlType::F16: return rows_direct<FloatKernel<GgmlType::F16>, 4>;
    case GgmlType::BF16: return rows_direct<FloatKernel<GgmlType::BF16>, 4>;
    case GgmlType::Q8_0: return rows_q8_0;
    case GgmlType::Q4_0: return rows_prefill512<GgmlType::Q4_0>;
    case GgmlType::Q4_1: return rows_prefill512<GgmlType::Q4_1>;
    case GgmlType::Q5_0: return rows_prefill512<GgmlType::Q5_0>;
    case GgmlType::Q5_1: return rows_prefill512<GgmlType::Q5_1>;
    case GgmlType::IQ4_NL: return rows_prefill512<GgmlType::IQ4_NL>;
    case GgmlType::Q2_K: return rows_prefill512<GgmlType::Q2_K>;
    case GgmlType::Q3_K: return rows_prefill512<GgmlType::Q3_K>;
    case GgmlType::Q4_K: return rows_direct<Q45_K512<false>, 2>;
    case GgmlType::Q5_K: return rows_direct<Q45_K512<true>, 2>;
    case GgmlType::Q6_K: return rows_direct<Q6_K512, 2>;
    case GgmlType::IQ4_XS: return rows_prefill512<GgmlType::IQ4_XS>;
    case GgmlType::IQ4_K: return rows_prefill512<GgmlType::IQ4_K>;
    case GgmlType::IQ4_KS: return rows_prefill512<GgmlType::IQ4_KS>;
    case GgmlType::Q6_0: return rows_prefill512<GgmlType::Q6_0>;
    case GgmlType::IQ2_K: return rows_prefill512<GgmlType::IQ2_K>;
    case GgmlType::IQ3_K: return rows_prefill512<GgmlType::IQ3_K>;
    case GgmlType::IQ5_K: return rows_prefill512<GgmlType::IQ5_K>;
    case GgmlType::IQ6_K: return rows_prefill512<GgmlType::IQ6_K>;
    case GgmlType::IQ2_KS: return rows_prefill512<GgmlType::IQ2_KS>;
    case GgmlType::IQ3_KS: return rows_prefill512<GgmlType::IQ3_KS>;
    case GgmlType::IQ5_KS: return rows_prefill512<GgmlType::IQ5_KS>;
    case GgmlType::IQ4_KSS: return rows_prefill512<GgmlType::IQ4_KSS>;
    case GgmlType::IQ2_KL: return rows_prefill512<GgmlType::IQ2_KL>;
    case GgmlType::IQ2_XXS: return rows_prefill512<GgmlType::IQ2_XXS>;
    case GgmlType::IQ2_XS: return rows_prefill512<GgmlType::IQ2_XS>;
    case GgmlType::IQ2_S: return rows_prefill512<GgmlType::IQ2_S>;
    case GgmlType::IQ3_XXS: return rows_prefill512<GgmlType::IQ3_XXS>;
    case GgmlType::IQ3_S: return rows_prefill512<GgmlType::IQ3_S>;
    case GgmlType::IQ1_S: return rows_prefill512<GgmlType::IQ1_S>;
    case GgmlType::IQ1_M: return rows_prefill512<GgmlType::IQ1_M>;
    case GgmlType::MXFP4: return rows_prefill512<GgmlType::MXFP4>;
    default: return nullptr;
  }
}

}  // namespace dllm::mm
