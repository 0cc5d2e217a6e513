// AVX-512 (F/BW/VL/DQ) + VNNI kernels (this file alone is compiled with those
// flags; matmul.cpp picks it when CPUID reports AVX-512 VNNI).
//
// Int8 blocks use 256-bit VNNI (vpdpbusd on ymm: 32 registers, no
// maddubs/madd pair); floats use 512-bit FMA. As in the AVX2 set, each output
// has one accumulator and the same operation sequence in any tile.
// GCC 12 warns about the deliberately undefined vectors inside its own
// AVX-512 intrinsic headers (_mm512_undefined_*); not our code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <cstring>

#include "ops/matmul_kernels.h"
#include "ops/matmul_unpack.h"

namespace dllm::mm {

namespace {

inline float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline float hsum512(__m512 v) {
  return hsum256(_mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1)));
}

inline float f16_at(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// sum over groups of 4 of |w| * (a with w's sign), exact in int32 lanes.
inline __m256i dot_s8(__m256i wabs, __m256i wq, __m256i av) {
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), wabs, _mm256_sign_epi8(av, wq));
}

template <class Kernel>
void drive(const Task& t, int64_t n0, int64_t n1, int64_t m0, int64_t m1, const Kernel& k) {
  if (m1 - m0 < 4) {
    for (int64_t m = m0; m < m1; ++m) {
      int64_t n = n0;
      for (; n + 4 <= n1; n += 4) k.template tile<4, 1>(t, n, m);
      for (; n < n1; ++n) k.template tile<1, 1>(t, n, m);
    }
    return;
  }
  int64_t n = n0;
  for (; n + 4 <= n1; n += 4) {
    int64_t m = m0;
    for (; m + 4 <= m1; m += 4) k.template tile<4, 4>(t, n, m);
    for (; m < m1; ++m) k.template tile<4, 1>(t, n, m);
  }
  for (; n < n1; ++n) {
    int64_t m = m0;
    for (; m + 4 <= m1; m += 4) k.template tile<1, 4>(t, n, m);
    for (; m < m1; ++m) k.template tile<1, 1>(t, n, m);
  }
}

// --- F32 / F16 / BF16 -----------------------------------------------------------

template <GgmlType T>
inline __m512 load16(const uint8_t* row, int64_t k) {
  if constexpr (T == GgmlType::F32) {
    return _mm512_loadu_ps(reinterpret_cast<const float*>(row) + k);
  } else if constexpr (T == GgmlType::F16) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * k)));
  } else {
    const __m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * k)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
  }
}

template <GgmlType T>
inline float load1(const uint8_t* row, int64_t k) {
  if constexpr (T == GgmlType::F32) {
    float f;
    std::memcpy(&f, row + 4 * k, 4);
    return f;
  } else if constexpr (T == GgmlType::F16) {
    return f16_at(row + 2 * k);
  } else {
    uint16_t h;
    std::memcpy(&h, row + 2 * k, 2);
    const uint32_t u = uint32_t(h) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
}

template <GgmlType T>
struct FloatKernel {
  template <int NT, int MT>
  void tile(const Task& t, int64_t n, int64_t m) const {
    const WeightView& W = *t.W;
    const int64_t K = W.cols;
    const uint8_t* w[NT];
    const float* x[MT];
    for (int r = 0; r < NT; ++r) w[r] = W.data + size_t(n + r) * W.row_stride;
    for (int j = 0; j < MT; ++j) x[j] = t.A->x_row(m + j);
    __m512 acc[NT][MT];
    for (int r = 0; r < NT; ++r)
      for (int j = 0; j < MT; ++j) acc[r][j] = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) {
      __m512 xv[MT];
      for (int j = 0; j < MT; ++j) xv[j] = _mm512_loadu_ps(x[j] + k);
      for (int r = 0; r < NT; ++r) {
        const __m512 wv = load16<T>(w[r], k);
        for (int j = 0; j < MT; ++j) acc[r][j] = _mm512_fmadd_ps(wv, xv[j], acc[r][j]);
      }
    }
    for (int r = 0; r < NT; ++r)
      for (int j = 0; j < MT; ++j) {
        float s = hsum512(acc[r][j]);
        for (int64_t kk = k; kk < K; ++kk) s += load1<T>(w[r], kk) * x[j][kk];
        t.Y[(m + j) * t.ldy + n + r] = s;
      }
  }
};

// --- Q8_0: read in place ------------------------------------------------------------

struct Q8_0Kernel {
  template <int NT, int MT>
  void tile(const Task& t, int64_t n, int64_t m) const {
    const WeightView& W = *t.W;
    const ActRows& A = *t.A;
    const int64_t nb = W.cols / 32;
    const uint8_t* w[NT];
    const int8_t* a[MT];
    const float* da[MT];
    for (int r = 0; r < NT; ++r) w[r] = W.data + size_t(n + r) * W.row_stride;
    for (int j = 0; j < MT; ++j) {
      a[j] = A.qs_row(m + j);
      da[j] = A.d_row(m + j);
    }
    __m256 acc[NT][MT];
    for (int r = 0; r < NT; ++r)
      for (int j = 0; j < MT; ++j) acc[r][j] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
      __m256i wq[NT], wabs[NT];
      __m256 dw[NT];
      for (int r = 0; r < NT; ++r) {
        const uint8_t* blk = w[r] + 34 * b;
        dw[r] = _mm256_set1_ps(f16_at(blk));
        wq[r] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 2));
        wabs[r] = _mm256_sign_epi8(wq[r], wq[r]);
      }
      for (int j = 0; j < MT; ++j) {
        const __m256i av = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[j] + 32 * b));
        const __m256 dab = _mm256_set1_ps(da[j][b]);
        for (int r = 0; r < NT; ++r) {
          const __m256i p = dot_s8(wabs[r], wq[r], av);
          acc[r][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_mul_ps(dw[r], dab), acc[r][j]);
        }
      }
    }
    for (int r = 0; r < NT; ++r)
      for (int j = 0; j < MT; ++j) t.Y[(m + j) * t.ldy + n + r] = hsum256(acc[r][j]);
  }
};

// --- every int8 type: unpack each weight row once, dot with all activation rows ---

inline float dot_f32(const float* a, const float* b, int64_t n) {
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc);
  float s = hsum256(acc);
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

template <bool S16, bool MINS, int MT>
inline void udot(const unpack::Row& u, const ActRows& A, int64_t m, float* out) {
  const int64_t nb = A.K / 32;
  const int8_t* a[MT];
  const float* da[MT];
  for (int j = 0; j < MT; ++j) {
    a[j] = A.qs_row(m + j);
    da[j] = A.d_row(m + j);
  }
  __m256 acc[MT];
  for (int j = 0; j < MT; ++j) acc[j] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const __m256i wq = _mm256_load_si256(reinterpret_cast<const __m256i*>(u.q + 32 * b));
    const __m256i wabs = _mm256_sign_epi8(wq, wq);
    __m256i mult = _mm256_setzero_si256();
    if constexpr (S16)
      mult = _mm256_set_m128i(_mm_set1_epi32(u.s16[2 * b + 1]), _mm_set1_epi32(u.s16[2 * b]));
    const __m256 dw = _mm256_set1_ps(u.dw[b]);
    for (int j = 0; j < MT; ++j) {
      const __m256i av = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[j] + 32 * b));
      __m256i p = dot_s8(wabs, wq, av);
      if constexpr (S16) p = _mm256_mullo_epi32(p, mult);
      acc[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_mul_ps(dw, _mm256_set1_ps(da[j][b])), acc[j]);
    }
  }
  for (int j = 0; j < MT; ++j) {
    out[j] = hsum256(acc[j]);
    if constexpr (MINS) out[j] += dot_f32(u.mw16, A.dsum16_row(m + j), A.K / 16);
  }
}

template <GgmlType T>
void rows_unpacked(const Task& t, int64_t n0, int64_t n1, int64_t m0, int64_t m1, uint8_t* tmp) {
  const WeightView& W = *t.W;
  const unpack::Entry e = unpack::entry(T);
  constexpr bool S16 = T == GgmlType::Q2_K || T == GgmlType::Q3_K || T == GgmlType::Q6_K;
  constexpr bool MINS = T == GgmlType::Q4_1 || T == GgmlType::Q5_1 || T == GgmlType::Q2_K ||
                        T == GgmlType::Q4_K || T == GgmlType::Q5_K;
  const unpack::Row u = unpack::carve(tmp, W.cols);
  for (int64_t n = n0; n < n1; ++n) {
    e.fn(W.data + size_t(n) * W.row_stride, W.cols, u.q, u.dw, u.s16, u.mw16);
    int64_t m = m0;
    float out[8];
    for (; m + 8 <= m1; m += 8) {
      udot<S16, MINS, 8>(u, *t.A, m, out);
      for (int j = 0; j < 8; ++j) t.Y[(m + j) * t.ldy + n] = out[j];
    }
    for (; m < m1; ++m) {
      udot<S16, MINS, 1>(u, *t.A, m, out);
      t.Y[m * t.ldy + n] = out[0];
    }
  }
}

template <class Kernel>
void rows_direct(const Task& t, int64_t n0, int64_t n1, int64_t m0, int64_t m1, uint8_t*) {
  drive(t, n0, n1, m0, m1, Kernel{});
}

}  // namespace

RowsFn avx512_rows(GgmlType t) {
  switch (t) {
    case GgmlType::F32: return rows_direct<FloatKernel<GgmlType::F32>>;
    case GgmlType::F16: return rows_direct<FloatKernel<GgmlType::F16>>;
    case GgmlType::BF16: return rows_direct<FloatKernel<GgmlType::BF16>>;
    case GgmlType::Q8_0: return rows_direct<Q8_0Kernel>;
    case GgmlType::Q4_0: return rows_unpacked<GgmlType::Q4_0>;
    case GgmlType::Q4_1: return rows_unpacked<GgmlType::Q4_1>;
    case GgmlType::Q5_0: return rows_unpacked<GgmlType::Q5_0>;
    case GgmlType::Q5_1: return rows_unpacked<GgmlType::Q5_1>;
    case GgmlType::IQ4_NL: return rows_unpacked<GgmlType::IQ4_NL>;
    case GgmlType::Q2_K: return rows_unpacked<GgmlType::Q2_K>;
    case GgmlType::Q3_K: return rows_unpacked<GgmlType::Q3_K>;
    case GgmlType::Q4_K: return rows_unpacked<GgmlType::Q4_K>;
    case GgmlType::Q5_K: return rows_unpacked<GgmlType::Q5_K>;
    case GgmlType::Q6_K: return rows_unpacked<GgmlType::Q6_K>;
    case GgmlType::IQ4_XS: return rows_unpacked<GgmlType::IQ4_XS>;
    default: return nullptr;
  }
}

}  // namespace dllm::mm
