// Internal: the int8 engine of the AVX2 set for every quantized type, and of
// the AVX-512 VNNI set for all but Q8_0 (see DLLM_PANELS_VNNI below). Prefill:
// 16 weight rows at a time unpacked once into two interleaved 8-row panels
// (lane = weight row), then dotted with every activation row. Decode (up to 8
// activation rows): weight rows read in place. Include it INSIDE the anonymous
// namespace of kernels_avx2.cpp / kernels_avx512.cpp, after simd_impl.h (it
// uses load256, prefetch_bytes and the fast unpackers there).
//
// The canonical order (kernels_portable.cpp computes the same, scalar): for
// weight row r and activation row j, eight accumulators P[0..7] = 0; over the
// 32-blocks b in order, with P = P[b % 8],
//   isum = exact int32 dot of the block (times the 16-group multiplier s16)
//   P    = fma(float(isum), dw[b] * da[b], P)
//   (mins per 32: Q4_1 Q5_1 Q4_K Q5_K) P = fma(mw16[2b], dsum32[b], P)
// and the result ((P0+P4) + (P2+P6)) + ((P1+P5) + (P3+P7)) (hsum's tree).
// Super-block types (Spec::kSb: dw and the Q8_K activation scale are one
// value over each 256-chunk c) take one float step per chunk instead:
//   isum = exact int32 sum of the chunk's 8 block integers (with s16)
//   P[c % 8] = fma(float(isum), dw[8c] * da[8c], P[c % 8])
//   (mins per 16: Q2_K) imin = exact sum of the chunk's 16 mins times the
//   activation 16-group quant sums; P[c % 8] = fma(float(imin), dw[8c+4] * da[8c], P[c % 8])
// which is most of the float work of a block gone (the reference sums a
// super-block in integers too).
// Eight accumulators let decode keep the 8 blocks of a 256-chunk in the lanes
// of one vector. The order depends on nothing but the two rows, so a batch
// gives bit for bit what its rows give alone, whatever the tiling or threads.
//
// Panel layout, for each group of 4 consecutive k (a "k4"): 8 rows x 4 bytes,
// one 32-byte vector, so that one maddubs with a broadcast activation k4
// serves 8 rows. maddubs wants unsigned weights: narrow types are stored
// as q + off (off a power of two, taken off afterwards in integers with the
// activation quant sums); wide types (Q8_0, MXFP4 and the codebook types:
// IQ4_*, ik's IQ*_K*, mainline's IQ1..IQ3) as |q|, with q kept to move its
// sign onto the activation (the sign trick).

// Compiled twice: for AVX2 (kernels_avx2.cpp) and, with DLLM_PANELS_VNNI set
// to 1, for AVX-512 VNNI (kernels_avx512.cpp). There the two 8-row panels share
// their arrays lane-interleaved (row r of the second panel is lane 8 + r), so
// one 512-bit vpdpbusd serves 16 weight rows and sums each k4 group's products
// straight into int32 lanes (no int16 sums, no widening multiply), and the
// float steps per block are half as many per weight row. There is no 512-bit
// vpsignb: wide types are stored as q + 128 (an offset like the narrow types').
// The integers are the same either way (all exact), so both give the same bits.
#ifndef DLLM_PANELS_VNNI
#define DLLM_PANELS_VNNI 0
#endif

namespace pnl {

constexpr bool kVnni = DLLM_PANELS_VNNI;

// acc + the 4-byte dot of each 32-bit lane (unsigned u times signed s).
__attribute__((always_inline)) inline __m256i dot4_add(__m256i acc, __m256i u, __m256i s) {
#if DLLM_PANELS_VNNI
  return _mm256_dpbusd_epi32(acc, u, s);
#else
  (void)acc, (void)u, (void)s;
  __builtin_unreachable();
#endif
}

constexpr int kRows = 8;
constexpr int64_t kInplaceMax = 8;  // activation rows up to which decode reads weights in place

// Wide types: quants of either sign up to |q| = 128 (Q8_0 and the codebooks
// reaching +-127), multiplied with the sign trick (|q| times the activation
// with q's sign). Every other type is narrow: stored as q + off with off a
// power of two, unsigned, and off * (sum of the activation quants) taken off
// afterwards in integers. For small codebooks that beats the sign trick (no
// psign per product): off >= the largest |q| keeps q + off >= 0, and
// q + off <= 127 keeps maddubs from saturating (2 * 127 * 127 < 32768).
constexpr bool is_wide(GgmlType t) {
  switch (t) {
    case GgmlType::Q8_0: case GgmlType::IQ4_NL: case GgmlType::IQ4_XS: case GgmlType::IQ4_K:
    case GgmlType::IQ4_KS: case GgmlType::IQ4_KSS: case GgmlType::IQ5_K: case GgmlType::IQ5_KS:
    case GgmlType::IQ6_K:
      return true;
    default:
      return false;
  }
}

// Offset and largest stored byte (q + off) of the narrow types.
struct Narrow {
  int off, umax;
};
constexpr Narrow narrow(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_0: return {8, 15};
    case GgmlType::Q4_1: case GgmlType::Q4_K: return {0, 15};
    case GgmlType::Q5_0: return {16, 31};
    case GgmlType::Q5_1: case GgmlType::Q5_K: return {0, 31};
    case GgmlType::Q2_K: return {0, 3};
    case GgmlType::Q3_K: return {4, 7};
    case GgmlType::Q6_K: case GgmlType::Q6_0: return {32, 63};
    // ik's IQ2 codebook -31..22, IQ3 -63..51, IQ2_KL's pairs -63..47
    case GgmlType::IQ2_K: case GgmlType::IQ2_KS: return {32, 54};
    case GgmlType::IQ3_K: case GgmlType::IQ3_KS: return {64, 115};
    case GgmlType::IQ2_KL: return {64, 111};
    // mainline's grids with signs: magnitudes <= 43 (IQ2_*), 62 (IQ3_XXS),
    // 15 (IQ3_S), 8g +- 1 <= 9 (IQ1_*); doubled FP4 <= 12 (MXFP4)
    case GgmlType::IQ2_XXS: case GgmlType::IQ2_XS: case GgmlType::IQ2_S: return {64, 107};
    case GgmlType::IQ3_XXS: return {64, 126};
    case GgmlType::IQ3_S: return {16, 31};
    case GgmlType::IQ1_S: case GgmlType::IQ1_M: return {16, 25};
    case GgmlType::MXFP4: return {16, 28};
    default: return {0, 0};
  }
}

template <GgmlType T>
struct Spec {
  static constexpr bool kS16 = unpack::entry(T).traits.s16;
  static constexpr bool kMins = unpack::entry(T).traits.mins;
  // Mins per 32-block (both 16-halves alike): one fma with the block's dsum32.
  // (Q2_K's per-16 mins are summed in integers per chunk: the super-block order.)
  static constexpr bool kMins32 = kMins && !unpack::entry(T).traits.sb;
  // One float step per 256-chunk (unpack::Traits::sb).
  static constexpr bool kSb = unpack::entry(T).traits.sb;
  static_assert(!kSb || kS16, "super-block order: s16 types");
  static_assert(!kSb || !kMins || T == GgmlType::Q2_K, "super-block order with mins: Q2_K's layout only");
  // Q2_K with VNNI: the panel stores q * s (<= 3 * 15) so a block's dot
  // needs no multiplier (the same integers); AVX2's maddubs would have to
  // widen its int16 sums four times as often.
  static constexpr bool kFoldS16 = kVnni && T == GgmlType::Q2_K;
  static constexpr bool kS32 = unpack::entry(T).traits.s32;
  static constexpr bool kWide = is_wide(T);
  static_assert(kWide != (narrow(T).umax > 0), "every int8 type is wide or narrow");
  static constexpr int kOff = narrow(T).off;
  static_assert(kOff == 0 || kOff == 4 || kOff == 8 || kOff == 16 || kOff == 32 || kOff == 64);
  static constexpr int kShift = kOff == 0 ? 0 : std::countr_zero(unsigned(kOff));
  // Largest stored weight byte.
  static constexpr int kUmax = kWide ? 128 : narrow(T).umax;
  static_assert(kUmax <= 127 || kWide, "q + off must fit maddubs' unsigned operand without saturating");
  // maddubs results (each <= 2*127*kUmax) summed in int16 before widening;
  // never across a 16-group for types with 16-group multipliers. kG == 8
  // takes block_unrolled, which has no sign trick: narrow types only.
  static constexpr int kFit = 32767 / (254 * kUmax);
  static constexpr int kG = kFit >= 8 && !kS16 && !kWide ? 8 : kFit >= 4 ? 4 : kFit >= 2 ? 2 : 1;
};

// A panel of 8 rows, K columns (per-thread scratch). The arrays hold S lanes
// per k4 group / block / 16-group: S = 8, or 16 where two panels share them
// (the second at lane 8).
struct Panel {
  uint8_t* qp;    // [K/4][S][4] weight bytes (q + off, or |q|)
  int8_t* sp;     // [K/4][S][4] q itself (wide types: its sign)
  float* dwp;     // [K/32][S]
  int32_t* s16p;  // [K/16][S] (s, s) as two int16
  int32_t* slohi; // [K/32][S] (s of the block's first 16-group, s of the second)
  float* mwp;     // [K/16][S]
  int S = kRows;
  unpack::Row u[kRows];
};

inline size_t a64(size_t n) { return (n + 63) & ~size_t(63); }

inline size_t panel_bytes(int64_t K) {
  const size_t k = size_t(K);
  return kRows * unpack::row_bytes_unpacked(K) + 2 * a64(8 * k) + a64(k / 32 * 32) + a64(k / 16 * 32) +
         a64(k / 32 * 32) + a64(k / 16 * 32);
}

inline Panel carve(uint8_t* p, int64_t K) {
  const size_t k = size_t(K);
  Panel P;
  for (int r = 0; r < kRows; ++r, p += unpack::row_bytes_unpacked(K)) P.u[r] = unpack::carve(p, K);
  P.qp = p;
  p += a64(8 * k);
  P.sp = reinterpret_cast<int8_t*>(p);
  p += a64(8 * k);
  P.dwp = reinterpret_cast<float*>(p);
  p += a64(k / 32 * 32);
  P.s16p = reinterpret_cast<int32_t*>(p);
  p += a64(k / 16 * 32);
  P.slohi = reinterpret_cast<int32_t*>(p);
  p += a64(k / 32 * 32);
  P.mwp = reinterpret_cast<float*>(p);
  return P;
}

// Two panels sharing lane-interleaved arrays (S = 16), in 2 * panel_bytes(K).
inline void carve_pair(uint8_t* p, int64_t K, Panel& P0, Panel& P1) {
  const size_t k = size_t(K);
  for (Panel* P : {&P0, &P1})
    for (int r = 0; r < kRows; ++r, p += unpack::row_bytes_unpacked(K)) P->u[r] = unpack::carve(p, K);
  P0.S = P1.S = 2 * kRows;
  P0.qp = p, P1.qp = p + 32;
  p += a64(16 * k);
  P0.sp = reinterpret_cast<int8_t*>(p), P1.sp = P0.sp + 32;
  p += a64(16 * k);
  P0.dwp = reinterpret_cast<float*>(p), P1.dwp = P0.dwp + 8;
  p += a64(k / 32 * 64);
  P0.s16p = reinterpret_cast<int32_t*>(p), P1.s16p = P0.s16p + 8;
  p += a64(k / 16 * 64);
  P0.slohi = reinterpret_cast<int32_t*>(p), P1.slohi = P0.slohi + 8;
  p += a64(k / 32 * 64);
  P0.mwp = reinterpret_cast<float*>(p), P1.mwp = P0.mwp + 8;
}

// 8x8 transpose of 32-bit elements: v[i] lane r  ->  v[r] lane i.
inline void transpose8(__m256i v[8]) {
  __m256i t[8], s[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_epi32(v[i], v[i + 1]);
    t[i + 1] = _mm256_unpackhi_epi32(v[i], v[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    s[i] = _mm256_unpacklo_epi64(t[i], t[i + 2]);
    s[i + 1] = _mm256_unpackhi_epi64(t[i], t[i + 2]);
    s[i + 2] = _mm256_unpacklo_epi64(t[i + 1], t[i + 3]);
    s[i + 3] = _mm256_unpackhi_epi64(t[i + 1], t[i + 3]);
  }
  for (int i = 0; i < 4; ++i) {
    v[i] = _mm256_permute2x128_si256(s[i], s[i + 4], 0x20);
    v[i + 4] = _mm256_permute2x128_si256(s[i], s[i + 4], 0x31);
  }
}

// The offset the panel stores: the narrow types' own; for wide types 0 (the
// sign trick), or 128 with VNNI (no 512-bit vpsignb).
template <GgmlType T>
constexpr int kStoredOff = Spec<T>::kWide ? (kVnni ? 128 : 0) : Spec<T>::kOff;

// Unpacks rows n .. n+nr-1 of W (nr <= 8; the missing rows are zeros) and
// lays them out as the panel.
template <GgmlType T>
void build(const WeightView& W, int64_t n, int nr, Panel& P) {
  using S = Spec<T>;
  const int64_t K = W.cols;
  const unpack::Fn unpack_row = fast_unpack<T>();
  for (int r = 0; r < kRows; ++r) {
    if (r < nr) {
      unpack_row(W.data + size_t(n + r) * W.row_stride, K, P.u[r].q, P.u[r].dw, P.u[r].s16, P.u[r].mw16);
    } else {
      std::memset(P.u[r].q, 0, size_t(K));
      std::memset(P.u[r].dw, 0, size_t(K / 32) * 4);
      std::memset(P.u[r].s16, 0, size_t(K / 16) * 2);
      std::memset(P.u[r].mw16, 0, size_t(K / 16) * 4);
    }
  }
  const __m256i off = _mm256_set1_epi8(char(kStoredOff<T>));
  const int L = P.S;
  for (int64_t b = 0; b < K / 32; ++b) {
    __m256i v[8];
    for (int r = 0; r < kRows; ++r) v[r] = _mm256_load_si256(reinterpret_cast<const __m256i*>(P.u[r].q + 32 * b));
    if constexpr (S::kFoldS16)  // bytes times their 16-group's s: no carry into the next byte (3 * 15 < 256)
      for (int r = 0; r < kRows; ++r)
        v[r] = _mm256_mullo_epi16(v[r], _mm256_setr_m128i(_mm_set1_epi16(P.u[r].s16[2 * b]),
                                                          _mm_set1_epi16(P.u[r].s16[2 * b + 1])));
    transpose8(v);
    for (int i = 0; i < 8; ++i) {
      __m256i* qd = reinterpret_cast<__m256i*>(P.qp + 4 * L * (8 * b + i));
      if constexpr (S::kWide && !kVnni) {
        _mm256_store_si256(reinterpret_cast<__m256i*>(P.sp + 4 * L * (8 * b + i)), v[i]);
        _mm256_store_si256(qd, _mm256_sign_epi8(v[i], v[i]));
      } else {
        _mm256_store_si256(qd, _mm256_add_epi8(v[i], off));
      }
    }
    const unpack::Row* u = P.u;
    _mm256_store_ps(P.dwp + L * b, _mm256_setr_ps(u[0].dw[b], u[1].dw[b], u[2].dw[b], u[3].dw[b], u[4].dw[b],
                                                  u[5].dw[b], u[6].dw[b], u[7].dw[b]));
    if constexpr (S::kS16) {
      for (int h = 0; h < 2; ++h) {
        int32_t* d = P.s16p + L * (2 * b + h);
        for (int r = 0; r < kRows; ++r) d[r] = int32_t(uint32_t(uint16_t(u[r].s16[2 * b + h])) * 0x10001u);
      }
      // VNNI: times -off, the offset correction's factors for vpdpwssd
      // (|off * s| <= 128 * 128: every type's scales fit int16 so)
      constexpr int f = kVnni ? -kStoredOff<T> : 1;
      if constexpr (kStoredOff<T> != 0)
        for (int r = 0; r < kRows; ++r)
          P.slohi[L * b + r] = int32_t(uint32_t(uint16_t(f * u[r].s16[2 * b])) |
                                       uint32_t(uint16_t(f * u[r].s16[2 * b + 1])) << 16);
    }
    if constexpr (S::kSb && S::kMins) {  // the integer mins of the block's two 16-groups, as two int16
      int32_t* d = reinterpret_cast<int32_t*>(P.mwp) + L * b;
      for (int r = 0; r < kRows; ++r)
        d[r] = int32_t(uint32_t(int(u[r].mw16[2 * b])) | uint32_t(int(u[r].mw16[2 * b + 1])) << 16);
    } else if constexpr (S::kMins) {
      for (int h = 0; h < 2; ++h)
        for (int r = 0; r < kRows; ++r) P.mwp[L * (2 * b + h) + r] = u[r].mw16[2 * b + h];
    }
  }
}

inline __m256i bcast32(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

// Calls f(std::integral_constant<int, I>) for I = 0 .. N-1, unrolled (the
// shuffle immediates and the int16 grouping below need I at compile time).
template <int N, typename F, int... I>
__attribute__((always_inline)) inline void unroll_impl(F&& f, std::integer_sequence<int, I...>) {
  (f(std::integral_constant<int, I>{}), ...);
}
template <int N, typename F>
__attribute__((always_inline)) inline void unroll(F&& f) {
  unroll_impl<N>(f, std::make_integer_sequence<int, N>{});
}

// Pins v to a register at this point: GCC otherwise reassociates the int16
// sums, issues every maddubs of a block first and spills the products.
__attribute__((always_inline)) inline void in_register(__m256i& v) { asm("" : "+x"(v)); }

// Activation rows per tile: with two panels, 3 (2*3 int16 sums, 2 weight
// vectors and a broadcast activation fit the 16 registers).
template <int NP>
constexpr int tile_rows() {
  return NP == 1 ? 4 : 3;
}

// The exact integer dots of block b (8 k4 groups) for NP panels x MT
// activation rows, two ways: GCC schedules each best for different types.
// Types that sum a whole block in int16 (kG == 8): unrolled, the int16 sums
// pinned to registers.
template <GgmlType T, int NP, int MT>
__attribute__((always_inline)) inline void block_unrolled(const Panel* const* P, const int8_t* const* a, int64_t b,
                                                          __m256i (&isum)[NP][MT]) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i p16[NP][MT];
  unroll<8>([&](auto G) {
    constexpr int gi = G;
    const int64_t g = 8 * b + gi;
    __m256i w[NP];
    for (int p = 0; p < NP; ++p) w[p] = _mm256_load_si256(reinterpret_cast<const __m256i*>(P[p]->qp + 32 * g));
    for (int j = 0; j < MT; ++j) {
      const __m256i av = bcast32(a[j] + 4 * g);
      for (int p = 0; p < NP; ++p) {
        const __m256i prod = _mm256_maddubs_epi16(w[p], av);
        p16[p][j] = gi == 0 ? prod : _mm256_add_epi16(p16[p][j], prod);
        in_register(p16[p][j]);
      }
    }
  });
  for (int p = 0; p < NP; ++p)
    for (int j = 0; j < MT; ++j) isum[p][j] = _mm256_madd_epi16(p16[p][j], ones);
}

// The others (wide types, 16-group multipliers, kG < 8): a loop over groups,
// adding to isum (super-block types sum a whole chunk there).
template <GgmlType T, int NP, int MT>
__attribute__((always_inline)) inline void block_looped(const Panel* const* P, const int8_t* const* a, int64_t b,
                                                        __m256i (&isum)[NP][MT]) {
  using S = Spec<T>;
  const __m256i ones = _mm256_set1_epi16(1);
  for (int g0 = 0; g0 < 8; g0 += S::kG) {
    __m256i p16[NP][MT];
    for (int i = 0; i < S::kG; ++i) {
      const int64_t g = 8 * b + g0 + i;
      __m256i w[NP], sg[NP];
      for (int p = 0; p < NP; ++p) {
        w[p] = _mm256_load_si256(reinterpret_cast<const __m256i*>(P[p]->qp + 32 * g));
        if constexpr (S::kWide) sg[p] = _mm256_load_si256(reinterpret_cast<const __m256i*>(P[p]->sp + 32 * g));
      }
      for (int j = 0; j < MT; ++j) {
        const __m256i av = bcast32(a[j] + 4 * g);
        for (int p = 0; p < NP; ++p) {
          const __m256i x = S::kWide ? _mm256_sign_epi8(av, sg[p]) : av;
          const __m256i prod = _mm256_maddubs_epi16(w[p], x);
          p16[p][j] = i == 0 ? prod : _mm256_add_epi16(p16[p][j], prod);
        }
      }
    }
    for (int p = 0; p < NP; ++p) {
      __m256i mul = ones;
      if constexpr (S::kS16)
        mul = _mm256_load_si256(reinterpret_cast<const __m256i*>(P[p]->s16p + 8 * (2 * b + g0 / 4)));
      for (int j = 0; j < MT; ++j) isum[p][j] = _mm256_add_epi32(isum[p][j], _mm256_madd_epi16(p16[p][j], mul));
    }
  }
}

// Activation rows m .. m+MT-1 against the panel: Y[(m+j)*ldy + r] for r < nr.
template <GgmlType T, int NP, int MT>
void tile(const Panel* const* P, const ActRows& A, int64_t m, float* Y, int64_t ldy, const int* nr) {
  using S = Spec<T>;
  const int64_t nb = A.K / 32;
  const int8_t* a[MT];
  const float* da[MT];
  for (int j = 0; j < MT; ++j) {
    a[j] = A.qs_row(m + j);
    da[j] = A.d_row(m + j);
  }
  __m256 accs[8][NP][MT];  // accumulator b % 8 (super-block types: chunk % 8) of each (panel, activation row)
  // Each accumulator's first step adds to zero instead of reading it, and
  // those past the last step are zero without being stored: a burst of
  // stores clearing them stalled the tile's start (to lines the panel's
  // stream had evicted).
  const int64_t nsteps = S::kSb ? nb / 8 : nb;
  const int nacc = int(std::min<int64_t>(8, nsteps));
  __m256i isum[NP][MT] = {};
  for (int64_t b = 0; b < nb; ++b) {
    if (!S::kSb || b % 8 == 0)
      for (int p = 0; p < NP; ++p)
        for (int j = 0; j < MT; ++j) isum[p][j] = _mm256_setzero_si256();
    if constexpr (S::kG == 8)
      block_unrolled<T, NP, MT>(P, a, b, isum);
    else
      block_looped<T, NP, MT>(P, a, b, isum);
    if constexpr (S::kOff != 0)
      for (int p = 0; p < NP; ++p) {
        if constexpr (S::kS16) {
          const __m256i slohi = _mm256_load_si256(reinterpret_cast<const __m256i*>(P[p]->slohi + 8 * b));
          for (int j = 0; j < MT; ++j) {
            const __m256i c = _mm256_madd_epi16(slohi, bcast32(A.sum16_row(m + j) + 2 * b));
            isum[p][j] = _mm256_sub_epi32(isum[p][j], _mm256_slli_epi32(c, S::kShift));
          }
        } else {
          for (int j = 0; j < MT; ++j)
            isum[p][j] = _mm256_sub_epi32(isum[p][j], _mm256_set1_epi32(A.sum32_row(m + j)[b] << S::kShift));
        }
      }
    if (S::kSb && b % 8 != 7) continue;  // super-block types: the chunk's integers first
    const int64_t b0 = S::kSb ? b - 7 : b;  // super-block types: the chunk's first block holds its factors
    for (int p = 0; p < NP; ++p) {
      const int64_t step = S::kSb ? b / 8 : b;
      __m256* acc = accs[step % 8][p];
      const __m256 dw = _mm256_load_ps(P[p]->dwp + 8 * b0);
      for (int j = 0; j < MT; ++j)
        acc[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[p][j]), _mm256_mul_ps(dw, _mm256_set1_ps(da[j][b])),
                                 step < 8 ? _mm256_setzero_ps() : acc[j]);
      if constexpr (S::kSb && S::kMins) {  // the chunk's mins times the activation 16-group sums, exact
        const __m256 dm = _mm256_load_ps(P[p]->dwp + 8 * (b0 + 4));
        const int32_t* mlohi = reinterpret_cast<const int32_t*>(P[p]->mwp) + 8 * b0;
        for (int j = 0; j < MT; ++j) {
          const int16_t* sums = A.sum16_row(m + j) + 2 * b0;
          __m256i imin = _mm256_madd_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(mlohi)), bcast32(sums));
          for (int i = 1; i < 8; ++i)
            imin = _mm256_add_epi32(imin, _mm256_madd_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(mlohi + 8 * i)),
                                                            bcast32(sums + 2 * i)));
          acc[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(imin), _mm256_mul_ps(dm, _mm256_set1_ps(da[j][b])), acc[j]);
        }
      } else if constexpr (S::kMins32) {
        const __m256 m0 = _mm256_load_ps(P[p]->mwp + 16 * b);
        for (int j = 0; j < MT; ++j) acc[j] = _mm256_fmadd_ps(m0, _mm256_set1_ps(A.dsum32_row(m + j)[b]), acc[j]);
      }
    }
  }
  for (int p = 0; p < NP; ++p)
    for (int j = 0; j < MT; ++j) {
      auto P = [&](int l) { return l < nacc ? accs[l][p][j] : _mm256_setzero_ps(); };
      // hsum's tree, lane by lane
      const __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(P(0), P(4)), _mm256_add_ps(P(2), P(6))),
                                     _mm256_add_ps(_mm256_add_ps(P(1), P(5)), _mm256_add_ps(P(3), P(7))));
      float* y = Y + (m + j) * ldy + p * kRows;
      if (nr[p] == kRows) {
        _mm256_storeu_ps(y, s);
      } else {
        alignas(32) float tmp[8];
        _mm256_store_ps(tmp, s);
        for (int r = 0; r < nr[p]; ++r) y[r] = tmp[r];
      }
    }
}

// Activation rows [m0, m1) against NP built panels.
template <GgmlType T, int NP, int MT>
void sweep(const Panel* const* P, const ActRows& A, int64_t m0, int64_t m1, float* Y, int64_t ldy, const int* nr) {
  int64_t m = m0;
  for (; m + MT <= m1; m += MT) tile<T, NP, MT>(P, A, m, Y, ldy, nr);
  for (; m < m1; ++m) tile<T, NP, 1>(P, A, m, Y, ldy, nr);
}

#if DLLM_PANELS_VNNI
// Activation rows m .. m+MT-1 against a pair of panels sharing their arrays
// (lane = weight row, 16 of them): Y[(m+j)*ldy + r] for r < nrows. The same
// integers per block and the same float steps per lane as tile().
template <GgmlType T, int MT>
void tile16(const Panel& P, const ActRows& A, int64_t m, float* Y, int64_t ldy, int nrows) {
  using S = Spec<T>;
  constexpr int kOff = kStoredOff<T>;
  const int64_t nb = A.K / 32;
  const int8_t* a[MT];
  const float* da[MT];
  for (int j = 0; j < MT; ++j) {
    a[j] = A.qs_row(m + j);
    da[j] = A.d_row(m + j);
  }
  auto act4 = [&](int j, int64_t g) {  // activation bytes 4g..4g+3 of row j, in every lane
    int32_t v;
    std::memcpy(&v, a[j] + 4 * g, 4);
    return _mm512_set1_epi32(v);
  };
  // Accumulator l (< 8) of each activation row sums the float steps l, l + 8,
  // l + 16, .. (a step: a block; super-block types: a chunk of 8). The steps
  // run accumulator by accumulator, so one accumulator per activation row
  // lives in a register at a time; the 8 are summed by the tree at the end.
  // (Step by step, the 8 x MT accumulators lived on the stack: Q4_K's tile
  // 7-16% slower, bench/matmul_bench --prefill.)
  __m512 accs[8][MT];
  const int64_t nsteps = S::kSb ? nb / 8 : nb;
  const int nacc = int(std::min<int64_t>(8, nsteps));
  // The offset correction, -off * s * (activation 16-group quant sums), one
  // vpdpwssd per block with the sums as a broadcast pair (the panel's slohi
  // holds -off * s; types without multipliers: -off): no per-row scalar work.
  auto minus_off = [&](__m512i acc, int j, int64_t b, __m512i f) {
    int32_t pair;
    std::memcpy(&pair, A.sum16_row(m + j) + 2 * b, 4);
    return _mm512_dpwssd_epi32(acc, f, _mm512_set1_epi32(pair));
  };
  // Block b's exact integer dots, added to isum. (The pragmas: at -O2 GCC
  // left the group loops rolled inside this lambda: ~12% slower.)
  auto block = [&](int64_t b, __m512i(&isum)[MT]) __attribute__((always_inline)) {
    const uint8_t* q = P.qp + 64 * 8 * b;
    if constexpr (S::kS32) {  // one scale per block: the block's dot first
      __m512i t32[MT];
      for (int j = 0; j < MT; ++j) t32[j] = _mm512_setzero_si512();
#pragma GCC unroll 8
      for (int i = 0; i < 8; ++i) {
        const __m512i w = _mm512_load_si512(q + 64 * i);
        for (int j = 0; j < MT; ++j) t32[j] = _mm512_dpbusd_epi32(t32[j], w, act4(j, 8 * b + i));
      }
      const __m512i mul = _mm512_srai_epi32(_mm512_load_si512(P.s16p + 16 * (2 * b)), 16);
      for (int j = 0; j < MT; ++j) isum[j] = _mm512_add_epi32(isum[j], _mm512_mullo_epi32(t32[j], mul));
    } else if constexpr (S::kS16 && !S::kFoldS16) {
      for (int h = 0; h < 2; ++h) {
        __m512i t32[MT];
        for (int j = 0; j < MT; ++j) t32[j] = _mm512_setzero_si512();
#pragma GCC unroll 4
        for (int i = 0; i < 4; ++i) {
          const __m512i w = _mm512_load_si512(q + 64 * (4 * h + i));
          for (int j = 0; j < MT; ++j) t32[j] = _mm512_dpbusd_epi32(t32[j], w, act4(j, 8 * b + 4 * h + i));
        }
        // s16p holds (s, s) as two int16: the upper one, sign-extended
        const __m512i mul = _mm512_srai_epi32(_mm512_load_si512(P.s16p + 16 * (2 * b + h)), 16);
        for (int j = 0; j < MT; ++j) isum[j] = _mm512_add_epi32(isum[j], _mm512_mullo_epi32(t32[j], mul));
      }
    } else {
#pragma GCC unroll 8
      for (int i = 0; i < 8; ++i) {
        const __m512i w = _mm512_load_si512(q + 64 * i);
        for (int j = 0; j < MT; ++j) isum[j] = _mm512_dpbusd_epi32(isum[j], w, act4(j, 8 * b + i));
      }
    }
    if constexpr (kOff != 0) {
      const __m512i f = S::kS16 ? _mm512_load_si512(P.slohi + 16 * b) : _mm512_set1_epi16(short(-kOff));
      for (int j = 0; j < MT; ++j) isum[j] = minus_off(isum[j], j, b, f);
    }
  };
  for (int l = 0; l < nacc; ++l) {
    __m512 acc[MT];
    for (int j = 0; j < MT; ++j) acc[j] = _mm512_setzero_ps();  // the first step adds to zero
    for (int64_t step = l; step < nsteps; step += 8) {
      __m512i isum[MT];
      for (int j = 0; j < MT; ++j) isum[j] = _mm512_setzero_si512();
      const int64_t b0 = S::kSb ? 8 * step : step;  // super-block types: the chunk's first block holds its factors
      const int64_t b = S::kSb ? b0 + 7 : step;     // and its last one's activation scale is taken (all alike)
      if constexpr (S::kSb)
        for (int i = 0; i < 8; ++i) block(b0 + i, isum);  // the chunk's integers first
      else
        block(b, isum);
      const __m512 dw = _mm512_load_ps(P.dwp + 16 * b0);
      for (int j = 0; j < MT; ++j)
        acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[j]), _mm512_mul_ps(dw, _mm512_set1_ps(da[j][b])), acc[j]);
      if constexpr (S::kSb && S::kMins) {  // the chunk's mins times the activation 16-group sums, exact
        const __m512 dm = _mm512_load_ps(P.dwp + 16 * (b0 + 4));
        const int32_t* mlohi = reinterpret_cast<const int32_t*>(P.mwp) + 16 * b0;
        for (int j = 0; j < MT; ++j) {
          const int16_t* sums = A.sum16_row(m + j) + 2 * b0;
          __m512i imin = _mm512_setzero_si512();
          for (int i = 0; i < 8; ++i) {
            int32_t pair;
            std::memcpy(&pair, sums + 2 * i, 4);
            imin = _mm512_dpwssd_epi32(imin, _mm512_load_si512(mlohi + 16 * i), _mm512_set1_epi32(pair));
          }
          acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(imin), _mm512_mul_ps(dm, _mm512_set1_ps(da[j][b])), acc[j]);
        }
      } else if constexpr (S::kMins32) {
        const __m512 m0 = _mm512_load_ps(P.mwp + 32 * b);
        for (int j = 0; j < MT; ++j) acc[j] = _mm512_fmadd_ps(m0, _mm512_set1_ps(A.dsum32_row(m + j)[b]), acc[j]);
      }
    }
    for (int j = 0; j < MT; ++j) accs[l][j] = acc[j];
  }
  const __mmask16 keep = __mmask16((1u << nrows) - 1);
  for (int j = 0; j < MT; ++j) {
    auto P = [&](int l) { return l < nacc ? accs[l][j] : _mm512_setzero_ps(); };
    // hsum's tree, lane by lane
    const __m512 s8 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(P(0), P(4)), _mm512_add_ps(P(2), P(6))),
                                    _mm512_add_ps(_mm512_add_ps(P(1), P(5)), _mm512_add_ps(P(3), P(7))));
    _mm512_mask_storeu_ps(Y + (m + j) * ldy, keep, s8);
  }
}
#endif

// The rows function: two panels of 8 weight rows at a time, each used for all
// activation rows (one broadcast activation group serves 16 weight rows).
template <GgmlType T>
void rows(const Task& t, int64_t n0, int64_t n1, int64_t m0, int64_t m1, uint8_t* tmp) {
  const WeightView& W = *t.W;
  const ActRows& A = *t.A;
#if DLLM_PANELS_VNNI
  {
    Panel P0, P1;
    carve_pair(tmp, W.cols, P0, P1);
    constexpr int MT = 8;
    for (int64_t n = n0; n < n1; n += 2 * kRows) {
      const int nrows = int(std::min<int64_t>(2 * kRows, n1 - n));
      build<T>(W, n, std::min(nrows, kRows), P0);
      build<T>(W, n + kRows, std::max(nrows - kRows, 0), P1);
      float* Y = t.Y + n;
      int64_t m = m0;
      for (; m + MT <= m1; m += MT) tile16<T, MT>(P0, A, m, Y, t.ldy, nrows);
      for (; m < m1; ++m) tile16<T, 1>(P0, A, m, Y, t.ldy, nrows);
    }
    return;
  }
#endif
  Panel P0 = carve(tmp, W.cols), P1 = carve(tmp + panel_bytes(W.cols), W.cols);
  const Panel* both[2] = {&P0, &P1};
  for (int64_t n = n0; n < n1; n += 2 * kRows) {
    const int nr[2] = {int(std::min<int64_t>(kRows, n1 - n)), int(std::clamp<int64_t>(n1 - n - kRows, 0, kRows))};
    build<T>(W, n, nr[0], P0);
    float* Y = t.Y + n;
    if (nr[1] > 0) {
      build<T>(W, n + kRows, nr[1], P1);
      sweep<T, 2, tile_rows<2>()>(both, A, m0, m1, Y, t.ldy, nr);
    } else {
      sweep<T, 1, tile_rows<1>()>(both, A, m0, m1, Y, t.ldy, nr);
    }
  }
}

// --- decode: weights read in place, one row at a time ----------------------------
//
// For few activation rows the panel's interleaving costs more than it saves.
// Here each row is unpacked whole into an L1 buffer; for each 256-element
// chunk (8 blocks) the 8 block dots of the chunk are reduced to one vector (lane =
// block, i.e. the block's accumulator b % 8), and the float steps run on that
// vector: the same integers and the same float operations per accumulator as
// the panel kernel.
namespace inplace {

// Sums of 4 vectors within each 128-bit half: half h of the result holds,
// lane i, the sum of the 4 lanes of half h of v[i].
inline __m256i reduce4_halves(__m256i v0, __m256i v1, __m256i v2, __m256i v3) {
  const __m256i t0 = _mm256_add_epi32(_mm256_unpacklo_epi32(v0, v1), _mm256_unpackhi_epi32(v0, v1));
  const __m256i t1 = _mm256_add_epi32(_mm256_unpacklo_epi32(v2, v3), _mm256_unpackhi_epi32(v2, v3));
  return _mm256_add_epi32(_mm256_unpacklo_epi64(t0, t1), _mm256_unpackhi_epi64(t0, t1));
}

// Lane i of the result = sum of the 8 lanes of v[i] (exact: integers).
// Unpacks and adds rather than vphaddd, which issues about once per 3 cycles
// on the Zen cores this was measured on.
inline __m256i reduce8(const __m256i v[8]) {
  const __m256i a = reduce4_halves(v[0], v[1], v[2], v[3]), b = reduce4_halves(v[4], v[5], v[6], v[7]);
  return _mm256_add_epi32(_mm256_permute2x128_si256(a, b, 0x20), _mm256_permute2x128_si256(a, b, 0x31));
}

// Even and odd elements of 16 floats: (v[0], v[2], .., v[14]), (v[1], .., v[15]).
inline void deinterleave(const float* v, __m256* even, __m256* odd) {
  const __m256 a = _mm256_loadu_ps(v), b = _mm256_loadu_ps(v + 8);
  *even = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xd8));
  *odd = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xdd)), 0xd8));
}

// One row's 256-element chunk (8 blocks) in registers, the quants as maddubs
// takes them (q + off for narrow types, q itself for wide ones), the float
// factors with lane = block.
struct ChunkRegs {
  __m256i q[8];
  __m256 dw, mlo;  // mlo: types with mins per 32-block
  __m256 dm;    // super-block types with mins: the chunk's min factor
  __m256i m16;  // and its 16 integer mins (int16)
  alignas(32) int16_t s16[16];  // 16-group multipliers (types with s16 but not s32)
  __m256i s32;                  // block scales, lane = block (types with s32)
};

// Each block's scale from its two equal 16-group multipliers (the even int16s).
inline __m256i block_scales(const int16_t* s16) {
  return _mm256_srai_epi32(_mm256_slli_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s16)), 16), 16);
}

// From a row unpacked into the common form (every type).
template <GgmlType T>
__attribute__((always_inline)) inline void chunk_from_unpacked(const unpack::Row& U, int64_t c, ChunkRegs& R) {
  using S = Spec<T>;
  const __m256i off = _mm256_set1_epi8(char(S::kOff));
  for (int bb = 0; bb < 8; ++bb) {
    const __m256i q = _mm256_load_si256(reinterpret_cast<const __m256i*>(U.q + 256 * c + 32 * bb));
    R.q[bb] = S::kOff != 0 ? _mm256_add_epi8(q, off) : q;
  }
  R.dw = S::kSb ? _mm256_set1_ps(U.dw[8 * c]) : _mm256_load_ps(U.dw + 8 * c);
  if constexpr (S::kSb && S::kMins) {
    R.dm = _mm256_set1_ps(U.dw[8 * c + 4]);
    const __m256i lo = _mm256_cvtps_epi32(_mm256_load_ps(U.mw16 + 16 * c));
    const __m256i hi = _mm256_cvtps_epi32(_mm256_load_ps(U.mw16 + 16 * c + 8));
    R.m16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(lo, hi), 0xd8);
  } else if constexpr (S::kMins) {
    __m256 odd;  // (equal to the even ones)
    deinterleave(U.mw16 + 16 * c, &R.mlo, &odd);
  }
  if constexpr (S::kS32)
    R.s32 = block_scales(U.s16 + 16 * c);
  else if constexpr (S::kS16)
    std::memcpy(R.s16, U.s16 + 16 * c, sizeof R.s16);
}

// Straight from the file's blocks, for every type with a register decoder
// (IQ6_K and the grid types measured slower in place than unpacked first:
// their codebook tables or lookups and the chunk's registers do not fit the
// 16 vector registers.)
template <GgmlType T>
constexpr bool kDirect = fast::kBlock32<T> || (fast::kSuperBlock<T> && T != GgmlType::IQ6_K && !fast::kGridType<T>) ||
                         T == GgmlType::Q2_K ||
                         T == GgmlType::Q4_K ||
                         T == GgmlType::Q5_K || T == GgmlType::Q6_K || T == GgmlType::IQ4_XS || T == GgmlType::IQ4_KS;

inline __m256 f16x8(const uint8_t* p, int stride) {  // 8 fp16 values `stride` bytes apart
  const __m128i h = _mm_setr_epi16(short(qb::load_u16(p)), short(qb::load_u16(p + stride)),
                                   short(qb::load_u16(p + 2 * stride)), short(qb::load_u16(p + 3 * stride)),
                                   short(qb::load_u16(p + 4 * stride)), short(qb::load_u16(p + 5 * stride)),
                                   short(qb::load_u16(p + 6 * stride)), short(qb::load_u16(p + 7 * stride)));
  return _mm256_cvtph_ps(h);
}

template <GgmlType T>
__attribute__((always_inline)) inline void chunk_direct(const uint8_t* row, int64_t c, ChunkRegs& R) {
  if constexpr (fast::kBlock32<T>) {
    constexpr int kBytes = fast::kBlock32Bytes<T>;
    const uint8_t* p = row + size_t(c) * 8 * kBytes;
    for (int bb = 0; bb < 8; ++bb) R.q[bb] = fast::block32_quants<T>(p + kBytes * bb);
    R.dw = f16x8(p, kBytes);
    if constexpr (Spec<T>::kMins) R.mlo = f16x8(p + 2, kBytes);
  } else if constexpr (fast::kSuperBlock<T>) {
    fast::SuperBlock B;
    constexpr int kAdd = Spec<T>::kOff - fast::kSuperBlockOffset<T>;  // the decoder's offset to the kernel's
    fast::super_block<T, kAdd>(row, c, B);
    for (int ib = 0; ib < 8; ++ib) R.q[ib] = B.q[ib];
    R.dw = B.dw;
    if constexpr (Spec<T>::kS32)
      R.s32 = _mm256_srai_epi32(_mm256_slli_epi32(B.s16, 16), 16);
    else if constexpr (Spec<T>::kS16)
      _mm256_store_si256(reinterpret_cast<__m256i*>(R.s16), B.s16);
  } else if constexpr (T == GgmlType::Q2_K) {
    // scale (low nibble) and min (high nibble) of each 16-group; the mins of
    // the first 16-groups of the blocks (even groups) and of the second ones
    const uint8_t* w = row + size_t(c) * qb::kQ2_KBytes;
    const __m128i sc = fast::load128(w), m4 = _mm_set1_epi8(15);
    _mm256_store_si256(reinterpret_cast<__m256i*>(R.s16), _mm256_cvtepu8_epi16(_mm_and_si128(sc, m4)));
    R.m16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sc, 4), m4));
    R.dm = _mm256_set1_ps(-f16_at(w + 82));
    R.dw = _mm256_set1_ps(f16_at(w + 80));
    const __m256i m3 = _mm256_set1_epi8(3);
    for (int h = 0; h < 2; ++h) {
      const __m256i v = load256(w + 16 + 32 * h);
      for (int k = 0; k < 4; ++k) R.q[4 * h + k] = _mm256_and_si256(_mm256_srli_epi16(v, 2 * k), m3);
    }
  } else if constexpr (T == GgmlType::Q4_K || T == GgmlType::Q5_K) {
    constexpr bool Q5 = T == GgmlType::Q5_K;
    constexpr int kBytes = Q5 ? 176 : 144, kQs = Q5 ? 48 : 16;
    const uint8_t* w = row + size_t(c) * kBytes;
    __m256 sc, mn;
    q4k_scales_mins(w + 4, &sc, &mn);
    R.dw = _mm256_mul_ps(_mm256_set1_ps(f16_at(w)), sc);
    R.mlo = _mm256_xor_ps(_mm256_mul_ps(_mm256_set1_ps(f16_at(w + 2)), mn), _mm256_set1_ps(-0.0f));
    __m256i qh = Q5 ? load256(w + 16) : _mm256_setzero_si256();
    for (int g = 0; g < 4; ++g) q45_quants<Q5>(w + kQs + 32 * g, &qh, &R.q[2 * g], &R.q[2 * g + 1]);
  } else if constexpr (T == GgmlType::IQ4_XS) {
    const uint8_t* w = row + size_t(c) * qb::kIQ4_XSBytes;
    const __m256i tbl = fast::iq4_table();
    for (int ib = 0; ib < 8; ++ib) R.q[ib] = _mm256_shuffle_epi8(tbl, fast::nibbles(w + 8 + 16 * ib));
    R.dw = _mm256_set1_ps(f16_at(w));
    R.s32 = fast::iq4xs_scales8(w);
  } else if constexpr (T == GgmlType::IQ4_KS) {
    float D;
    std::memcpy(&D, row, 4);
    const uint8_t* w = row + qb::kIQ4_KSRowMeta + size_t(c) * qb::kIQ4_KSBytes;
    for (int ib = 0; ib < 8; ++ib) R.q[ib] = fast::iq4_ks_quants(w, ib);
    R.dw = _mm256_set1_ps(D);
    R.s32 = fast::iq4ks_scales8(w);
  } else if constexpr (T == GgmlType::Q6_K) {
    const uint8_t* w = row + size_t(c) * qb::kQ6_KBytes;
    R.dw = _mm256_set1_ps(f16_at(w + 208));
    _mm256_store_si256(reinterpret_cast<__m256i*>(R.s16),
                       _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 192))));
    q6_quants(w, 0, R.q);  // q + 32
    q6_quants(w, 1, R.q + 4);
  }
}

// Super-block types with 16-group multipliers: the exact integer sum of one
// chunk with activation row m, spread over the lanes (only the total is used,
// so no per-group reduction). Per block: maddubs, then the int16 pairs times
// the 16-group's multiplier (broadcast by one in-lane shuffle from a vector
// of all 16) summed into int32 lanes by vpdpwssd (VNNI) or madd + add. (The
// s32 types measured faster with chunk_isum: one dot per block, lane = block,
// one multiply for all 8 scales; IQ4_XS decode 12% slower this way.)
template <GgmlType T>
__attribute__((always_inline)) inline __m256i chunk_isum_sb(const ChunkRegs& R, int64_t c, const ActRows& A,
                                                            int64_t m) {
  using S = Spec<T>;
  const int8_t* a = A.qs_row(m) + 256 * c;
  // scales: the 16-bit word bb of each 128-bit lane is the low lane's (first
  // 16-group's) and the high lane's (second 16-group's) multiplier of block bb
  static_assert(S::kSb && !S::kS32);
  const __m256i even_odd = _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15, 0, 1, 4, 5, 8, 9,
                                            12, 13, 2, 3, 6, 7, 10, 11, 14, 15);
  const __m256i g = _mm256_shuffle_epi8(_mm256_load_si256(reinterpret_cast<const __m256i*>(R.s16)), even_odd);
  const __m256i scales = _mm256_permute4x64_epi64(g, 0xd8);  // groups 0 2 .. 14 | 1 3 .. 15
  __m256i accs[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};  // two chains: half the latency
  unroll<8>([&](auto BB) {
    constexpr int bb = BB;
    const __m256i av = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 32 * bb));
    const __m256i p = S::kWide ? _mm256_maddubs_epi16(_mm256_sign_epi8(R.q[bb], R.q[bb]), _mm256_sign_epi8(av, R.q[bb]))
                               : _mm256_maddubs_epi16(R.q[bb], av);
    const __m256i scl = _mm256_shuffle_epi8(scales, _mm256_set1_epi16(short(0x0100 * (2 * bb + 1) + 2 * bb)));
    __m256i& acc = accs[bb % 2];
    if constexpr (kVnni)
      acc = _mm256_dpwssd_epi32(acc, p, scl);
    else
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, scl));
  });
  __m256i acc = _mm256_add_epi32(accs[0], accs[1]);
  if constexpr (S::kOff != 0) {  // narrow types: off * (sum of s * the activation 16-group sums)
    const __m256i s16 = _mm256_load_si256(reinterpret_cast<const __m256i*>(R.s16));
    const __m256i sums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(A.sum16_row(m) + 16 * c));
    acc = _mm256_sub_epi32(acc, _mm256_slli_epi32(_mm256_madd_epi16(s16, sums), S::kShift));
  }
  return acc;
}

// The exact integer dots of the 8 blocks of one chunk with activation row m
// (lane = block).
template <GgmlType T>
__attribute__((always_inline)) inline __m256i chunk_isum(const ChunkRegs& R, int64_t c, const ActRows& A, int64_t m) {
  using S = Spec<T>;
  static_assert(!S::kSb || S::kS32, "the super-block types with 16-group multipliers take chunk_isum_sb");
  // s32 types: the block dots as for types without multipliers, then times the block scales
  constexpr bool kGroups = S::kS16 && !S::kS32;  // (Q6_K)
  const __m256i ones = _mm256_set1_epi16(1);
  const __m256i lohi = _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3, 2,
                                        3, 2, 3, 2, 3, 2, 3);
  const int8_t* a = A.qs_row(m) + 256 * c;
  __m256i v[8];
  for (int bb = 0; bb < 8; ++bb) {
    const __m256i av = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 32 * bb));
    if constexpr (kVnni) {  // wide types as q + 128, as in the panels
      const __m256i u = S::kWide ? _mm256_xor_si256(R.q[bb], _mm256_set1_epi8(char(0x80))) : R.q[bb];
      v[bb] = dot4_add(_mm256_setzero_si256(), u, av);
      continue;
    }
    __m256i p;
    if constexpr (S::kWide)
      p = _mm256_maddubs_epi16(_mm256_sign_epi8(R.q[bb], R.q[bb]), _mm256_sign_epi8(av, R.q[bb]));
    else
      p = _mm256_maddubs_epi16(R.q[bb], av);
    __m256i mul = ones;
    if constexpr (kGroups) {
      int32_t pair;
      std::memcpy(&pair, R.s16 + 2 * bb, 4);
      mul = _mm256_shuffle_epi8(_mm256_set1_epi32(pair), lohi);
    }
    v[bb] = _mm256_madd_epi16(p, mul);
  }
  __m256i isum;
  if constexpr (kVnni && kGroups) {
    // The 16-group sums (lanes: groups 0 2 4 6 1 3 5 7, and 8 .. 15 alike),
    // times their multipliers in that order, then each block's two added.
    const __m256i ga = inplace::reduce4_halves(v[0], v[1], v[2], v[3]);
    const __m256i gb = inplace::reduce4_halves(v[4], v[5], v[6], v[7]);
    const __m128i even_odd = _mm_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15);
    const __m256i sa = _mm256_cvtepi16_epi32(
        _mm_shuffle_epi8(_mm_load_si128(reinterpret_cast<const __m128i*>(R.s16)), even_odd));
    const __m256i sb = _mm256_cvtepi16_epi32(
        _mm_shuffle_epi8(_mm_load_si128(reinterpret_cast<const __m128i*>(R.s16 + 8)), even_odd));
    const __m256i pa = _mm256_mullo_epi32(ga, sa), pb = _mm256_mullo_epi32(gb, sb);
    isum = _mm256_add_epi32(_mm256_permute2x128_si256(pa, pb, 0x20), _mm256_permute2x128_si256(pa, pb, 0x31));
  } else {
    isum = reduce8(v);
  }
  constexpr int kOff = kStoredOff<T>;
  if constexpr (kOff != 0) {
    constexpr int kShift = std::countr_zero(unsigned(kOff));
    if constexpr (kGroups) {
      const __m256i sl = _mm256_load_si256(reinterpret_cast<const __m256i*>(R.s16));
      const __m256i sums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(A.sum16_row(m) + 16 * c));
      isum = _mm256_sub_epi32(isum, _mm256_slli_epi32(_mm256_madd_epi16(sl, sums), kShift));
    } else {
      const __m256i s32 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(A.sum32_row(m) + 8 * c));
      isum = _mm256_sub_epi32(isum, _mm256_slli_epi32(s32, kShift));
    }
  }
  if constexpr (S::kS32) isum = _mm256_mullo_epi32(isum, R.s32);
  return isum;
}

// The 8 blocks of one chunk against activation row m, into that row's
// accumulator vector (lane = block % 8).
template <GgmlType T>
__attribute__((always_inline)) inline __m256 chunk_dot(const ChunkRegs& R, int64_t c, const ActRows& A, int64_t m,
                                                       __m256 acc) {
  using S = Spec<T>;
  const __m256i isum = chunk_isum<T>(R, c, A, m);
  const __m256 da = _mm256_loadu_ps(A.d_row(m) + 8 * c);
  acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(R.dw, da), acc);
  if constexpr (S::kMins32) acc = _mm256_fmadd_ps(R.mlo, _mm256_loadu_ps(A.dsum32_row(m) + 8 * c), acc);
  return acc;
}

#if DLLM_PANELS_VNNI
// Decode of the 4-bit codebook types and ik's IQ2_K .. IQ5_K in 512-bit
// vectors: 64 weights per shuffle and vpdpbusd, each 16-byte lane one
// 16-group. The quants are decoded as q + 128 from the base codebook
// (unsigned for vpdpbusd), and every correction is folded into one integer
// factor per 16-group g, taken with the activation 16-group sums S_g by one
// vpmaddwd per chunk:
//   s_g * dot(q, a) = s_g * dot(base + 128, a) + f_g * S_g,
//   f_g = s_g * (shift * e_g - 128)
// (e_g the group's `extra` bit: its codebook is the base one + shift). The
// integers are the canonical ones (exact), so the result is the oracle's.
//  - IQ2_K / IQ3_K / IQ5_K: a 32-block's quants are 32 consecutive fields, so
//    the same bytes broadcast to both 256-bit halves and shifted per half
//    give blocks 2k and 2k+1 in activation order;
//  - IQ4_XS / IQ4_KS / IQ4_K: a 32-block's 16 bytes hold its first 16-group in
//    the low nibbles and its second in the high ones; 32 bytes broadcast and
//    shifted per half give [block 2k lo, 2k+1 lo, 2k hi, 2k+1 hi], against
//    activations with the middle 16-byte lanes of every 64 swapped
//    (permute_act, once per call).
namespace dec512 {

template <GgmlType T>
constexpr bool kUse = T == GgmlType::IQ4_XS || T == GgmlType::IQ4_KS || T == GgmlType::IQ4_K ||
                      T == GgmlType::IQ5_K || T == GgmlType::IQ5_KS || T == GgmlType::IQ3_K || T == GgmlType::IQ2_K ||
                      T == GgmlType::IQ3_KS || T == GgmlType::IQ2_KS;
template <GgmlType T>
constexpr bool kPermuted = T == GgmlType::IQ4_XS || T == GgmlType::IQ4_KS || T == GgmlType::IQ4_K;

// The activation row with 16-byte lanes 1 and 2 of every 64 bytes swapped.
inline void permute_act(const int8_t* a, int64_t K, int8_t* out) {
  for (int64_t k = 0; k < K; k += 64) {
    const __m512i v = _mm512_loadu_si512(a + k);
    _mm512_store_si512(out + k, _mm512_shuffle_i64x2(v, v, _MM_SHUFFLE(3, 1, 2, 0)));
  }
}

// One 256-chunk of a weight row, decoded.
struct Chunk {
  __m512i u[4];  // base quant + 128 of weights 64k .. 64k+63 (permuted types: as above)
  __m512i s[4];  // the scale of each lane's 16-group
  __m256i f;     // f_g (int16, natural group order)
  float d;       // the chunk's float scale
};

// 16 bytes in every 16-byte lane, each + 128.
inline __m512i table512(const int8_t* v) {
  return _mm512_broadcast_i32x4(_mm_xor_si128(fast::load128(v), _mm_set1_epi8(char(0x80))));
}
// The group's `extra` bits of the u16 at p (bit g: group g) as int16 lanes of 0 / `shift`.
inline __m256i extra16(const uint8_t* p, int shift) {
  const __m256i bit = _mm256_setr_epi16(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384,
                                        short(0x8000));
  const __m256i set = _mm256_cmpeq_epi16(_mm256_and_si256(_mm256_set1_epi16(short(qb::load_u16(p))), bit), bit);
  return _mm256_and_si256(set, _mm256_set1_epi16(short(shift)));
}
// Bit 0 of each int32 lane of v (lane = 32-block) as int16 lanes of 0 / `shift`
// for both 16-groups of the block.
inline __m256i block_extra16(__m256i v, int shift) {
  return _mm256_mullo_epi16(fast::pairs16(_mm256_and_si256(v, _mm256_set1_epi32(1))), _mm256_set1_epi16(short(shift)));
}
// Per-half shifts: `lo` in the first 256 bits, `hi` in the second (16-bit words).
inline __m512i half_shifts(int lo, int hi) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi16(short(lo))), _mm256_set1_epi16(short(hi)), 1);
}
// Byte mask of bit `lo` in the first 256 bits, bit `hi` in the second.
inline __m512i half_bits(int lo, int hi) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi8(char(1 << lo))), _mm256_set1_epi8(char(1 << hi)),
                            1);
}
inline __m512i bcast256(const uint8_t* p) { return _mm512_broadcast_i64x4(load256(p)); }

template <GgmlType T>
__attribute__((always_inline)) inline void decode(const uint8_t* row, int64_t c, Chunk& C) {
  __m256i s16, ex = _mm256_setzero_si256();  // group scales; shift * e_g
  const __m512i m4 = _mm512_set1_epi8(15), m3 = _mm512_set1_epi8(3);
  if constexpr (kPermuted<T>) {
    const uint8_t* w;
    __m512i tbl = table512(T == GgmlType::IQ4_XS ? qb::kIQ4Values : qb::kIQ4KValues);
    if constexpr (T == GgmlType::IQ4_XS) {
      w = row + size_t(c) * qb::kIQ4_XSBytes;
      C.d = f16_at(w);
      s16 = fast::pairs16(fast::iq4xs_scales8(w));
      w += 8;
    } else if constexpr (T == GgmlType::IQ4_KS) {
      std::memcpy(&C.d, row, 4);
      w = row + qb::kIQ4_KSRowMeta + size_t(c) * qb::kIQ4_KSBytes;
      s16 = fast::pairs16(fast::iq4ks_scales8(w));
      // the codebook by the scale byte's low bit: + 4 for both groups of the block
      ex = block_extra16(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(w))), 4);
      w += 8;
    } else {  // IQ4_K
      w = row + size_t(c) * qb::kIQ4_KBytes;
      C.d = f16_at(w);
      s16 = fast::iq4k_scales16(w);
      ex = extra16(w + 2, 4);
      w += 16;
    }
    const __m512i sh = half_shifts(0, 4);
    for (int k = 0; k < 4; ++k) C.u[k] = _mm512_shuffle_epi8(tbl, _mm512_and_si512(_mm512_srlv_epi16(bcast256(w + 32 * k), sh), m4));
  } else if constexpr (T == GgmlType::IQ5_K || T == GgmlType::IQ5_KS) {
    const uint8_t* qs;
    const uint8_t* qhp;
    if constexpr (T == GgmlType::IQ5_K) {
      const uint8_t* w = row + size_t(c) * qb::kIQ5_KBytes;
      C.d = f16_at(w);
      s16 = fast::iq4k_scales16(w);
      ex = extra16(w + 2, 2);
      qs = w + 16, qhp = w + 144;
    } else {  // f32 row scale; the codebook (+ 2) by the low bit of each 32-block's scale byte
      std::memcpy(&C.d, row, 4);
      const uint8_t* w = row + qb::kF32RowMeta + size_t(c) * qb::kIQ5_KSBytes;
      s16 = fast::pairs16(fast::iq4ks_scales8(w));
      ex = block_extra16(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(w))), 2);
      qs = w + 8, qhp = w + 136;
    }
    const __m512i t0 = table512(qb::kIQ5NLValues), t1 = table512(qb::kIQ5NLValues + 16);
    const __m512i qh = bcast256(qhp), sh = half_shifts(0, 4);
    for (int k = 0; k < 4; ++k) {
      const __m512i n = _mm512_and_si512(_mm512_srlv_epi16(bcast256(qs + 32 * k), sh), m4);
      const __mmask64 hi = _mm512_test_epi8_mask(qh, half_bits(2 * k, 2 * k + 1));  // index bit 4
      C.u[k] = _mm512_mask_shuffle_epi8(_mm512_shuffle_epi8(t0, n), hi, t1, n);
    }
  } else {  // IQ2_K / IQ3_K / IQ2_KS / IQ3_KS: 2-bit fields, IQ3's third bit in qh
    constexpr bool IQ3 = T == GgmlType::IQ3_K || T == GgmlType::IQ3_KS;
    const uint8_t* qs;
    const uint8_t* qhp = nullptr;
    if constexpr (T == GgmlType::IQ2_K || T == GgmlType::IQ3_K) {
      const uint8_t* w = row + size_t(c) * (IQ3 ? qb::kIQ3_KBytes : qb::kIQ2_KBytes);
      C.d = f16_at(w);
      s16 = fast::iq23k_scales16<IQ3>(w);
      ex = extra16(w + 2, IQ3 ? 4 : 5);
      qs = w + (IQ3 ? 14 : 12);
      if constexpr (IQ3) qhp = w + 78;
    } else {  // fp16 row scale; a codebook per 32-block: bit ib (IQ3: 8 + ib) of extra
      C.d = f16_at(row);
      const uint8_t* w = row + qb::kF16RowMeta + size_t(c) * (IQ3 ? qb::kIQ3_KSBytes : qb::kIQ2_KSBytes);
      s16 = fast::pairs16(fast::iq23ks_scales8<IQ3>(w));
      ex = block_extra16(_mm256_srlv_epi32(_mm256_set1_epi32(int(qb::load_u16(w))),
                                           IQ3 ? _mm256_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15)
                                               : _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)),
                         IQ3 ? 4 : 5);
      qs = w + 6;
      if constexpr (IQ3) qhp = w + 70;
    }
    const __m512i tbl = IQ3 ? table512(qb::kIQ3NLValues) : _mm512_broadcast_i32x4(_mm_xor_si128(
        _mm_cvtsi32_si128(int(qb::load_u32(reinterpret_cast<const uint8_t*>(qb::kIQ2NLValues)))), _mm_set1_epi8(char(0x80))));
    const __m512i qh = IQ3 ? bcast256(qhp) : _mm512_setzero_si512();
    for (int k = 0; k < 4; ++k) {
      const int b0 = 2 * k, b1 = 2 * k + 1;
      __m512i n = _mm512_and_si512(_mm512_srlv_epi16(bcast256(qs + 32 * (k / 2)), half_shifts(2 * (b0 % 4), 2 * (b1 % 4))), m3);
      if constexpr (IQ3)
        n = _mm512_mask_add_epi8(n, _mm512_test_epi8_mask(qh, half_bits(b0, b1)), n, _mm512_set1_epi8(4));
      C.u[k] = _mm512_shuffle_epi8(tbl, n);
    }
  }
  C.f = _mm256_mullo_epi16(s16, _mm256_sub_epi16(ex, _mm256_set1_epi16(128)));  // |f| <= 127 * 128
  const __m512i s32 = _mm512_cvtepi16_epi32(s16);
  for (int k = 0; k < 4; ++k) {
    const int g = 4 * k;
    const __m512i lane_group = kPermuted<T> ? _mm512_setr_epi32(g, g, g, g, g + 2, g + 2, g + 2, g + 2, g + 1, g + 1, g + 1,
                                                                g + 1, g + 3, g + 3, g + 3, g + 3)
                                            : _mm512_setr_epi32(g, g, g, g, g + 1, g + 1, g + 1, g + 1, g + 2, g + 2, g + 2,
                                                                g + 2, g + 3, g + 3, g + 3, g + 3);
    C.s[k] = _mm512_permutexvar_epi32(lane_group, s32);
  }
}

// The chunk's exact integer sum with one activation row (a: its chunk,
// permuted for kPermuted types; sum16: its 16-group sums), spread over 8 lanes.
__attribute__((always_inline)) inline __m256i isum(const Chunk& C, const int8_t* a, const int16_t* sum16) {
  __m512i t = _mm512_mullo_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), C.u[0], _mm512_loadu_si512(a)), C.s[0]);
  for (int k = 1; k < 4; ++k)
    t = _mm512_add_epi32(
        t, _mm512_mullo_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), C.u[k], _mm512_loadu_si512(a + 64 * k)),
                              C.s[k]));
  const __m256i r = _mm256_add_epi32(_mm512_castsi512_si256(t), _mm512_extracti64x4_epi64(t, 1));
  return _mm256_add_epi32(r, _mm256_madd_epi16(C.f, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(sum16))));
}

}  // namespace dec512
#endif

// R weight rows (side by side, for instruction-level parallelism) against MT
// activation rows (pa: the activation rows permuted for dec512, MT x K, where
// it is used). Inlined into the loop over rows, so that the decoders'
// constants stay in registers (decode from L2 +8-10%).
template <GgmlType T, int MT, int R>
__attribute__((always_inline)) inline void row_group(const Task& t, int64_t n, int64_t m0, const unpack::Row* U,
                                                     size_t rb, const float* dac, int64_t dac_stride,
                                                     const int8_t* pa) {
  (void)pa;  // (AVX2: unused)
  const WeightView& W = *t.W;
  const int64_t K = W.cols, nchunks = K / 256;
  const uint8_t* rows[R];
  for (int r = 0; r < R; ++r) {
    rows[r] = W.data + size_t(n + r) * W.row_stride;
    prefetch_bytes(rows[r] + 4 * W.row_stride, rb);  // a few rows ahead: memory latency
    if constexpr (!kDirect<T>) {
      const unpack::Fn unpack_row = fast_unpack<T>();
      unpack_row(rows[r], K, U[r].q, U[r].dw, U[r].s16, U[r].mw16);
    }
  }
  __m256 acc[R][MT];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < MT; ++j) acc[r][j] = _mm256_setzero_ps();
  if constexpr (Spec<T>::kSb) {
    // Super-block types: the block integers of 8 chunks are kept (lane =
    // block), then summed per chunk in one reduction (lane = chunk, the
    // chunk's accumulator c % 8) and scaled by the chunks' dw * da at once.
    for (int64_t c0 = 0; c0 < nchunks; c0 += 8) {
      const int64_t n = std::min<int64_t>(8, nchunks - c0);
      constexpr bool kMins = Spec<T>::kMins;
      __m256 dws[R], dms[R];  // lane l: chunk c0 + l's dw (and min factor)
      for (int r = 0; r < R; ++r) dws[r] = dms[r] = _mm256_setzero_ps();
      __m256i halves[2][R][MT];  // reduce8's two halves, four chunks each (fewer live registers)
      __m256i mhalves[2][R][MT];  // the same for the mins (types with mins)
      unroll<2>([&](auto H) {
        if (4 * H >= n) {  // K = 1024: four chunks, one half
          for (int r = 0; r < R; ++r)
            for (int j = 0; j < MT; ++j) halves[H][r][j] = mhalves[H][r][j] = _mm256_setzero_si256();
          return;
        }
        __m256i isums[R][MT][4], imins[R][MT][4];
        unroll<4>([&](auto L) {  // l at compile time: isums stay in registers
          constexpr int l = 4 * H + L;
          if (l >= n) {  // a last partial group: nothing in the other lanes
            for (int r = 0; r < R; ++r)
              for (int j = 0; j < MT; ++j) isums[r][j][L] = imins[r][j][L] = _mm256_setzero_si256();
            return;
          }
          for (int r = 0; r < R; ++r) {
#if DLLM_PANELS_VNNI
            if constexpr (dec512::kUse<T>) {
              dec512::Chunk C;
              dec512::decode<T>(rows[r], c0 + l, C);
              dws[r] = _mm256_blend_ps(dws[r], _mm256_set1_ps(C.d), 1 << l);
              for (int j = 0; j < MT; ++j) {
                const int8_t* a = dec512::kPermuted<T> ? pa + j * K : t.A->qs_row(m0 + j);
                isums[r][j][L] = dec512::isum(C, a + 256 * (c0 + l), t.A->sum16_row(m0 + j) + 16 * (c0 + l));
              }
              continue;
            }
#endif
            ChunkRegs C;
            if constexpr (kDirect<T>)
              chunk_direct<T>(rows[r], c0 + l, C);
            else
              chunk_from_unpacked<T>(U[r], c0 + l, C);
            dws[r] = _mm256_blend_ps(dws[r], C.dw, 1 << l);  // C.dw: one value over the chunk
            if constexpr (kMins) dms[r] = _mm256_blend_ps(dms[r], C.dm, 1 << l);
            for (int j = 0; j < MT; ++j) {
              if constexpr (Spec<T>::kS32)
                isums[r][j][L] = chunk_isum<T>(C, c0 + l, *t.A, m0 + j);
              else
                isums[r][j][L] = chunk_isum_sb<T>(C, c0 + l, *t.A, m0 + j);
              if constexpr (kMins) {  // the 16 mins times the activation 16-group sums
                const __m256i sums =
                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t.A->sum16_row(m0 + j) + 16 * (c0 + l)));
                imins[r][j][L] = _mm256_madd_epi16(C.m16, sums);
              }
            }
          }
        });
        for (int r = 0; r < R; ++r)
          for (int j = 0; j < MT; ++j) {
            halves[H][r][j] = reduce4_halves(isums[r][j][0], isums[r][j][1], isums[r][j][2], isums[r][j][3]);
            if constexpr (kMins)
              mhalves[H][r][j] = reduce4_halves(imins[r][j][0], imins[r][j][1], imins[r][j][2], imins[r][j][3]);
          }
      });
      for (int r = 0; r < R; ++r)
        for (int j = 0; j < MT; ++j) {
          const __m256i a = halves[0][r][j], b = halves[1][r][j];  // as reduce8
          const __m256i sums =
              _mm256_add_epi32(_mm256_permute2x128_si256(a, b, 0x20), _mm256_permute2x128_si256(a, b, 0x31));
          const __m256 da = _mm256_load_ps(dac + j * dac_stride + c0);
          acc[r][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), _mm256_mul_ps(dws[r], da), acc[r][j]);
          if constexpr (kMins) {
            const __m256i ma = mhalves[0][r][j], mb = mhalves[1][r][j];
            const __m256i msums =
                _mm256_add_epi32(_mm256_permute2x128_si256(ma, mb, 0x20), _mm256_permute2x128_si256(ma, mb, 0x31));
            acc[r][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(msums), _mm256_mul_ps(dms[r], da), acc[r][j]);
          }
        }
    }
  } else {
    for (int64_t c = 0; c < nchunks; ++c)
      for (int r = 0; r < R; ++r) {
        ChunkRegs C;
        if constexpr (kDirect<T>)
          chunk_direct<T>(rows[r], c, C);
        else
          chunk_from_unpacked<T>(U[r], c, C);
        for (int j = 0; j < MT; ++j) acc[r][j] = chunk_dot<T>(C, c, *t.A, m0 + j, acc[r][j]);
      }
  }
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < MT; ++j) t.Y[(m0 + j) * t.ldy + n + r] = hsum(acc[r][j]);
}

template <GgmlType T, int MT>
void rows_mt(const Task& t, int64_t n0, int64_t n1, int64_t m0, uint8_t* tmp) {
  const int64_t K = t.W->cols;
  unpack::Row U[2] = {unpack::carve(tmp, K), unpack::carve(tmp + unpack::row_bytes_unpacked(K), K)};
  const size_t rb = row_bytes(T, K);
  // Super-block types: each activation row's scale per chunk (da[8c]), in
  // groups of 8 lanes (zeros past the last chunk), after the two rows.
  float* dac = reinterpret_cast<float*>(tmp + 2 * unpack::row_bytes_unpacked(K));
  const int64_t nchunks = K / 256, dac_stride = (nchunks + 7) / 8 * 8;
  if constexpr (Spec<T>::kSb)
    for (int j = 0; j < MT; ++j)
      for (int64_t c = 0; c < dac_stride; ++c) dac[j * dac_stride + c] = c < nchunks ? t.A->d_row(m0 + j)[8 * c] : 0.0f;
  // dec512: the activation rows permuted, after dac (64-byte aligned)
  int8_t* pa = reinterpret_cast<int8_t*>(tmp + (2 * unpack::row_bytes_unpacked(K) + MT * dac_stride * 4 + 63) / 64 * 64);
#if DLLM_PANELS_VNNI
  if constexpr (dec512::kPermuted<T>)
    for (int j = 0; j < MT; ++j) dec512::permute_act(t.A->qs_row(m0 + j), K, pa + j * K);
#endif
  int64_t n = n0;
  // Super-block types one row at a time: two rows' chunk integers spill
  // registers (IQ4_XS / IQ3_K decode 5-10% slower than one row, alternated;
  // dec512's: no faster).
  if constexpr (!Spec<T>::kSb)
    for (; n + 2 <= n1; n += 2) row_group<T, MT, 2>(t, n, m0, U, rb, dac, dac_stride, pa);
  for (; n < n1; ++n) row_group<T, MT, 1>(t, n, m0, U, rb, dac, dac_stride, pa);
}

template <GgmlType T>
void rows(const Task& t, int64_t n0, int64_t n1, int64_t m0, int64_t m1, uint8_t* tmp) {
  switch (m1 - m0) {
    case 1: return rows_mt<T, 1>(t, n0, n1, m0, tmp);
    case 2: return rows_mt<T, 2>(t, n0, n1, m0, tmp);
    case 3: return rows_mt<T, 3>(t, n0, n1, m0, tmp);
    case 4: return rows_mt<T, 4>(t, n0, n1, m0, tmp);
    case 5: return rows_mt<T, 5>(t, n0, n1, m0, tmp);
    case 6: return rows_mt<T, 6>(t, n0, n1, m0, tmp);
    case 7: return rows_mt<T, 7>(t, n0, n1, m0, tmp);
    default: return rows_mt<T, 8>(t, n0, n1, m0, tmp);
  }
}

}  // namespace inplace

// Few activation rows: in place, when K is whole 256-chunks; else panels.

template <GgmlType T>
void rows_auto(const Task& t, int64_t n0, int64_t n1, int64_t m0, int64_t m1, uint8_t* tmp) {
  if (m1 - m0 <= kInplaceMax && t.W->cols % 256 == 0)
    inplace::rows<T>(t, n0, n1, m0, m1, tmp);
  else
    rows<T>(t, n0, n1, m0, m1, tmp);
}

}  // namespace pnl
