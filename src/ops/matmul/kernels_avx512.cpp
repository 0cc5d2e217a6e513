// AVX-512 (F/BW/VL/DQ) + VNNI kernels (this file alone is compiled with those
// flags; matmul.cpp picks it when CPUID reports AVX-512 VNNI). Q8_0 has its own
// 512-bit kernel below; every other int8 type runs panels_avx2.h compiled for
// VNNI (16-row panels in zmm for prefill, vpdpbusd in place for decode). The
// block decoders, the SIMD unpackers and the float kernel (at 512 bits) are
// shared with the AVX2 file (simd_impl.h).

// GCC 12 warns about the deliberately undefined vectors inside its own
// AVX-512 intrinsic headers (_mm512_undefined_*); not our code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>

#include "ops/matmul/kernels.h"
#include "ops/matmul/unpack.h"
#include "util/cpu.h"

namespace dllm::mm {

namespace {

// Float vectors for the F32 / F16 / BF16 kernel of simd_impl.h.
struct FVec {
  using T = __m512;
  static constexpr int W = 16;
  static T zero() { return _mm512_setzero_ps(); }
  static T load(const float* p) { return _mm512_loadu_ps(p); }
  static float sum(T v);  // defined below, after the shared helpers
  static void sum16(const T v[16], float out[16]);
  static T fmadd(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  static T load_f16(const uint8_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
  static T load_bf16(const uint8_t* p) {
    const __m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
  }
};

#include "ops/matmul/simd_impl.h"
#define DLLM_PANELS_VNNI 1
#include "ops/matmul/panels_avx2.h"

inline float hsum512(__m512 v) {
  return hsum(_mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1)));
}

inline float FVec::sum(T v) { return hsum512(v); }

// out[i] = hsum512(v[i]) for 16 vectors at once, bit for bit: each level adds
// the same pairs as hsum512's tree (lanes i + 8, then i + 4, i + 2, i + 1;
// float addition is commutative), with 16 vectors' lanes transposed in
// between, so 15 adds do the work of 16 separate trees (small K: at K = 256 a
// 4 x 4 tile has 256 FMAs against 16 separate trees of 4 adds and 4 shuffles).
inline void FVec::sum16(const T v[16], float out[16]) {
  __m512 b[8], c[4], d[2];
  for (int p = 0; p < 8; ++p)
    b[p] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * p], v[2 * p + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_f32x4(v[2 * p], v[2 * p + 1], _MM_SHUFFLE(3, 2, 3, 2)));
  for (int q = 0; q < 4; ++q)
    c[q] = _mm512_add_ps(_mm512_shuffle_f32x4(b[2 * q], b[2 * q + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_f32x4(b[2 * q], b[2 * q + 1], _MM_SHUFFLE(3, 1, 3, 1)));
  for (int r = 0; r < 2; ++r)
    d[r] = _mm512_add_ps(_mm512_shuffle_ps(c[2 * r], c[2 * r + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_ps(c[2 * r], c[2 * r + 1], _MM_SHUFFLE(3, 2, 3, 2)));
  const __m512 e = _mm512_add_ps(_mm512_shuffle_ps(d[0], d[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                 _mm512_shuffle_ps(d[0], d[1], _MM_SHUFFLE(3, 1, 3, 1)));
  alignas(64) float tmp[16];
  _mm512_store_ps(tmp, e);
  // lane 4l + i holds vector 4i + l (worked out by following the shuffles)
  for (int l = 0; l < 4; ++l)
    for (int i = 0; i < 4; ++i) out[4 * i + l] = tmp[4 * l + i];
}

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
  const int16_t* s16[MT];
  __m512 acc[MT];
  for (int j = 0; j < MT; ++j) {
    a[j] = A.qs_row(m + j);
    da[j] = A.d_row(m + j);
    s16[j] = A.sum16_row(m + j);
    acc[j] = _mm512_setzero_ps();
  }
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* pb = panel + size_t(b) * kPanelBlockBytes;
    __m512i wk[8];
    for (int k = 0; k < 8; ++k) wk[k] = _mm512_load_si512(pb + 64 * k);
    const __m512 dw = _mm512_load_ps(reinterpret_cast<const float*>(pb + 512));
    // Group-major, row-minor: the MT dot chains are independent neighbours in
    // the instruction stream, so the core overlaps their latencies.
    __m512i isum[MT];
    for (int j = 0; j < MT; ++j) isum[j] = _mm512_setzero_si512();
    for (int k = 0; k < 8; ++k)
      for (int j = 0; j < MT; ++j) {
        int32_t g;
        std::memcpy(&g, a[j] + 32 * b + 4 * k, 4);
        isum[j] = _mm512_dpbusd_epi32(isum[j], wk[k], _mm512_set1_epi32(g));
      }
    for (int j = 0; j < MT; ++j) {
      // the flip's correction, -128 * (the block's activation quant sum), as
      // one vpdpwssd with the two 16-sums (no scalar work per row)
      int32_t pair;
      std::memcpy(&pair, s16[j] + 2 * b, 4);
      isum[j] = _mm512_dpwssd_epi32(isum[j], _mm512_set1_epi16(-128), _mm512_set1_epi32(pair));
      acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[j]), _mm512_mul_ps(dw, _mm512_set1_ps(da[j][b])), acc[j]);
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

// --- BF16 weights with AVX-512 BF16: vdpbf16ps ---------------------------------------
//
// The activations for BF16 weights are already bf16 values (ActKind::BF16), so
// they pack into bf16 exactly, and one vdpbf16ps multiplies 32 weights where an
// FMA takes 16 (the products of two bf16 are exact in f32). Each output is
// lane-wise sums over 32-element steps, then hsum: the same bits whatever the
// tiling, thread count or batch. Activation rows are packed kBf16Rows at a
// time into the thread's scratch, then every weight row of the range runs
// against them, 4 x 4 at a time.
constexpr int64_t kBf16Rows = 64;  // 64 x K x 2 bytes: within thread_tmp_bytes(K) (32 x 4K + 32K)

inline float bf16_to_f32(uint16_t h) {
  const uint32_t u = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline void pack_bf16(const float* x, int64_t K, uint16_t* out) {
  int64_t k = 0;
  for (; k + 32 <= K; k += 32)
    _mm512_storeu_si512(out + k, (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + k + 16), _mm512_loadu_ps(x + k)));
  for (; k < K; ++k) {
    uint32_t u;
    std::memcpy(&u, x + k, 4);
    out[k] = uint16_t(u >> 16);  // a bf16 value already: its upper half is exact
  }
}

template <int NT, int MT>
void bf16_tile(const Task& t, int64_t n, const uint16_t* xb, int64_t m, int64_t mb) {
  const WeightView& W = *t.W;
  const int64_t K = W.cols;
  const uint16_t* w[NT];
  const uint16_t* x[MT];
  for (int r = 0; r < NT; ++r) w[r] = reinterpret_cast<const uint16_t*>(W.data + size_t(n + r) * W.row_stride);
  for (int j = 0; j < MT; ++j) x[j] = xb + (m + j - mb) * K;
  __m512 acc[NT][MT];
  for (int r = 0; r < NT; ++r)
    for (int j = 0; j < MT; ++j) acc[r][j] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 32 <= K; k += 32) {
    __m512bh xv[MT];
    for (int j = 0; j < MT; ++j) xv[j] = (__m512bh)_mm512_loadu_si512(x[j] + k);
    for (int r = 0; r < NT; ++r) {
      prefetch(reinterpret_cast<const uint8_t*>(w[r] + k) + NT * W.row_stride);
      const __m512bh wv = (__m512bh)_mm512_loadu_si512(w[r] + k);
      for (int j = 0; j < MT; ++j) acc[r][j] = _mm512_dpbf16_ps(acc[r][j], wv, xv[j]);
    }
  }
  for (int r = 0; r < NT; ++r)
    for (int j = 0; j < MT; ++j) {
      float s = hsum512(acc[r][j]);
      for (int64_t kk = k; kk < K; ++kk) s = std::fma(bf16_to_f32(w[r][kk]), bf16_to_f32(x[j][kk]), s);
      t.Y[(m + j) * t.ldy + n + r] = s;
    }
}

// The tile: 6 weight rows x 4 activation rows, 24 accumulators. The activation
// rows come from L2 once per tile, so more weight rows per tile means fewer L2
// bytes per vdpbf16ps (6 x 4 measured +12% over 4 x 4: bench/matmul_bench --prefill).
constexpr int kBf16TileW = 6, kBf16TileA = 4;

void rows_bf16_dot(const Task& t, int64_t n0, int64_t n1, int64_t m0, int64_t m1, uint8_t* tmp) {
  const int64_t K = t.W->cols;
  uint16_t* xb = reinterpret_cast<uint16_t*>(tmp);  // kBf16Rows x K: within thread_tmp_bytes(K)
  for (int64_t mb = m0; mb < m1; mb += kBf16Rows) {
    const int64_t me = std::min(m1, mb + kBf16Rows);
    for (int64_t m = mb; m < me; ++m) pack_bf16(t.A->x_row(m), K, xb + (m - mb) * K);
    int64_t n = n0;
    for (; n + kBf16TileW <= n1; n += kBf16TileW) {
      int64_t m = mb;
      for (; m + kBf16TileA <= me; m += kBf16TileA) bf16_tile<kBf16TileW, kBf16TileA>(t, n, xb, m, mb);
      for (; m < me; ++m) bf16_tile<kBf16TileW, 1>(t, n, xb, m, mb);
    }
    for (; n + 4 <= n1; n += 4) {
      int64_t m = mb;
      for (; m + 4 <= me; m += 4) bf16_tile<4, 4>(t, n, xb, m, mb);
      for (; m < me; ++m) bf16_tile<4, 1>(t, n, xb, m, mb);
    }
    for (; n < n1; ++n)
      for (int64_t m = mb; m < me; ++m) bf16_tile<1, 1>(t, n, xb, m, mb);
  }
}

// F32 / F16 weights against f32 activations: the activation rows a chunk at a
// time (at most 256 KiB of them, so they stay in L2 while the weight rows
// stream past) rather than every activation row per 4 weight rows. The same
// tile for every row, so the same bits whatever the split.
template <GgmlType T>
void rows_float512(const Task& t, int64_t n0, int64_t n1, int64_t m0, int64_t m1, uint8_t*) {
  const FloatKernel<T> k;
  const int64_t chunk = std::clamp<int64_t>((256 << 10) / (t.W->cols * 4), 4, 64) / 4 * 4;
  for (int64_t mb = m0; mb < m1; mb += chunk) {
    const int64_t me = std::min(m1, mb + chunk);
    int64_t n = n0;
    for (; n + 4 <= n1; n += 4) {
      int64_t m = mb;
      for (; m + 4 <= me; m += 4) k.template tile<4, 4>(t, n, m);
      for (; m < me; ++m) k.template tile<4, 1>(t, n, m);
    }
    for (; n < n1; ++n)
      for (int64_t m = mb; m < me; ++m) k.template tile<1, 1>(t, n, m);
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
    case GgmlType::F32: return rows_float512<GgmlType::F32>;
    case GgmlType::F16: return rows_float512<GgmlType::F16>;
    case GgmlType::BF16:
      return cpu_features().avx512_bf16 ? rows_bf16_dot : rows_direct<FloatKernel<GgmlType::BF16>, 4>;
    case GgmlType::Q8_0: return rows_q8_0;
#define DLLM_PANEL_TYPE(T) \
  case GgmlType::T: return pnl::rows_auto<GgmlType::T>;
    DLLM_PANEL_TYPE(Q4_0) DLLM_PANEL_TYPE(Q4_1) DLLM_PANEL_TYPE(Q5_0) DLLM_PANEL_TYPE(Q5_1)
    DLLM_PANEL_TYPE(IQ4_NL) DLLM_PANEL_TYPE(Q2_K) DLLM_PANEL_TYPE(Q3_K) DLLM_PANEL_TYPE(Q4_K)
    DLLM_PANEL_TYPE(Q5_K) DLLM_PANEL_TYPE(Q6_K) DLLM_PANEL_TYPE(IQ4_XS) DLLM_PANEL_TYPE(IQ4_K)
    DLLM_PANEL_TYPE(IQ4_KS) DLLM_PANEL_TYPE(Q6_0) DLLM_PANEL_TYPE(IQ2_K) DLLM_PANEL_TYPE(IQ3_K)
    DLLM_PANEL_TYPE(IQ5_K) DLLM_PANEL_TYPE(IQ6_K) DLLM_PANEL_TYPE(IQ2_KS) DLLM_PANEL_TYPE(IQ3_KS)
    DLLM_PANEL_TYPE(IQ5_KS) DLLM_PANEL_TYPE(IQ4_KSS) DLLM_PANEL_TYPE(IQ2_KL) DLLM_PANEL_TYPE(IQ2_XXS)
    DLLM_PANEL_TYPE(IQ2_XS) DLLM_PANEL_TYPE(IQ2_S) DLLM_PANEL_TYPE(IQ3_XXS) DLLM_PANEL_TYPE(IQ3_S)
    DLLM_PANEL_TYPE(IQ1_S) DLLM_PANEL_TYPE(IQ1_M) DLLM_PANEL_TYPE(MXFP4)
#undef DLLM_PANEL_TYPE
    default: return nullptr;
  }
}

}  // namespace dllm::mm
