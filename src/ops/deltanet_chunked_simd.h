// The chunked gated delta rule (kernels.md §5; plain form and contract in
// deltanet_chunked.cpp / deltanet.h) over the Vec interface of
// mixer_simd_impl.h. Included by mixer_avx2.cpp and mixer_avx512.cpp inside
// their anonymous namespace, after mixer_simd_impl.h (V, W, exp_v, delta_net_simd).
// No include guard: meant to be included once per ISA file.
//
// Everything is one register-blocked GEMM shape: up to 6 rows of a
// row-major A (broadcast one element at a time) times a panel of NV vectors
// of a row-major B, accumulated in 6*NV registers. The state is kept during
// the call in panels of NV*W value columns, each [dk][NV*W] contiguous, so
// that a panel (8 KiB for dk = 128 on AVX2) stays in L1 while it is used
// (rows of the [dk][dv] state 512 bytes apart would map onto a few L1 sets).
// Per chunk, the state-independent matrices are built once and the value
// panels (independent columns) then run through the three state GEMMs.

// acc[i] += sum_{k < kn} A[i*lda + k] * B[k*ldb .. + NV*W), i < R.
template <int R, int NV>
inline void gemm_block(const float* A, int64_t lda, const float* B, int64_t ldb, int kn, V (&acc)[R][NV]) {
  for (int k = 0; k < kn; ++k) {
    V b[NV];
    for (int j = 0; j < NV; ++j) b[j] = Vec::load(B + k * ldb + j * W);
    for (int i = 0; i < R; ++i) {
      const V x = Vec::set1(A[i * lda + k]);
      for (int j = 0; j < NV; ++j) acc[i][j] = Vec::fmadd(x, b[j], acc[i][j]);
    }
  }
}

// Rows [0, m) of A*B in blocks of 6: init(i, acc_row) sets row i's
// accumulators, done(i, acc_row) consumes them. B has kmax rows; with
// `lower` (A lower-triangular, zeros above the diagonal stored) a block of
// rows [i0, i0+R) stops at k = i0+R.
template <int NV, class Init, class Done>
inline void gemm_rows(int m, const float* A, int64_t lda, const float* B, int64_t ldb, int kmax, bool lower,
                      Init&& init, Done&& done) {
  auto block = [&](int i0, auto RC) {
    constexpr int R = decltype(RC)::value;
    V acc[R][NV];
    for (int i = 0; i < R; ++i) init(i0 + i, acc[i]);
    gemm_block<R, NV>(A + i0 * lda, lda, B, ldb, lower ? std::min(i0 + R, kmax) : kmax, acc);
    for (int i = 0; i < R; ++i) done(i0 + i, acc[i]);
  };
  int i0 = 0;
  for (; i0 + 6 <= m; i0 += 6) block(i0, std::integral_constant<int, 6>{});
  switch (m - i0) {
    case 5: block(i0, std::integral_constant<int, 5>{}); break;
    case 4: block(i0, std::integral_constant<int, 4>{}); break;
    case 3: block(i0, std::integral_constant<int, 3>{}); break;
    case 2: block(i0, std::integral_constant<int, 2>{}); break;
    case 1: block(i0, std::integral_constant<int, 1>{}); break;
    default: break;
  }
}

// The state-independent part of one chunk of L tokens (ld = Lw, L rounded
// up to W, zeros beyond the lower triangle so that triangular GEMMs may read
// whole vectors).
struct ChunkPrep {
  int L = 0, Lw = 0, dk = 0;
  float* KQ;    // [2L][dk]: k rows, then q rows
  float* KT;    // [dk][Lw]: k transposed (Gram operand)
  float* KTd;   // [dk][Lw]: exp(gamma_last - gamma_r) * k_r[c] (state update operand)
  float* G;     // [2L][Lw]: k_r.k_s, then q_r.k_s (only s <= r is written)
  float* T;     // [L][Lw]: (I + A)^-1
  float* P;     // [L][Lw]: scale * exp(gamma_r - gamma_s) * q_r.k_s, s <= r
  float* beta;  // [L]
  float* Gam;   // [L]: exp(gamma_r)
  float* dec;   // [L]: exp(gamma_last - gamma_r)
  float* E;     // [Lw]: one row of exp(gamma_r - gamma_s)
  double* gam;  // [L]: cumulative log-decay, in double (differences keep their digits);
                // 8-byte aligned: every size before it is an even number of floats

  static size_t floats(int C, int dk) {
    const size_t Cw = size_t((C + W - 1) / W * W);
    return size_t(2) * C * dk + 2 * size_t(dk) * Cw + 4 * size_t(C) * Cw + 4 * Cw + 2 * Cw /* gam */;
  }
  void carve(float* p, int C, int dk_) {
    dk = dk_;
    const size_t Cw = size_t((C + W - 1) / W * W);
    KQ = p, p += size_t(2) * C * dk;
    KT = p, p += size_t(dk) * Cw;
    KTd = p, p += size_t(dk) * Cw;
    G = p, p += 2 * size_t(C) * Cw;
    T = p, p += size_t(C) * Cw;
    P = p, p += size_t(C) * Cw;
    beta = p, p += Cw;
    Gam = p, p += Cw;
    dec = p, p += Cw;
    E = p, p += Cw;
    gam = reinterpret_cast<double*>(p);
  }

  void build(const DeltaNetHeadArgs& a, int t0, int L_) {
    L = L_;
    Lw = (L + W - 1) / W * W;
    double acc = 0.0;
    for (int r = 0; r < L; ++r) {
      acc += double(a.g[int64_t(t0 + r) * a.gb_stride]);
      gam[r] = acc;
      beta[r] = sigmoid(a.b[int64_t(t0 + r) * a.gb_stride]);
      Gam[r] = chunk_decay(acc);
    }
    for (int r = 0; r < L; ++r) dec[r] = chunk_decay(gam[L - 1] - gam[r]);
    for (int r = 0; r < L; ++r) {
      std::memcpy(KQ + size_t(r) * dk, a.k + int64_t(t0 + r) * a.qk_stride, sizeof(float) * size_t(dk));
      std::memcpy(KQ + size_t(L + r) * dk, a.q + int64_t(t0 + r) * a.qk_stride, sizeof(float) * size_t(dk));
    }
    for (int c = 0; c < dk; ++c) {
      float* kt = KT + size_t(c) * Lw;
      float* ktd = KTd + size_t(c) * Lw;
      for (int r = 0; r < L; ++r) {
        kt[r] = KQ[size_t(r) * dk + c];
        ktd[r] = dec[r] * kt[r];
      }
      for (int r = L; r < Lw; ++r) kt[r] = ktd[r] = 0.0f;
    }
    // Gram rows: k_r.k_s and q_r.k_s for s <= r, a column panel starting at
    // j0 only for the rows r >= j0 that need it; panels of 2W columns where
    // they fit (fewer broadcasts per multiply-add), then W.
    auto gram = [&](int j0, auto NVC) {
      constexpr int NV = decltype(NVC)::value;
      for (int part = 0; part < 2; ++part) {
        const int r0 = part * L + j0;
        gemm_rows<NV>(
            L - j0, KQ + size_t(r0) * dk, dk, KT + j0, Lw, dk, false,
            [](int, V* acc) { for (int j = 0; j < NV; ++j) acc[j] = Vec::zero(); },
            [&](int i, V* acc) {
              for (int j = 0; j < NV; ++j) Vec::store(G + size_t(r0 + i) * Lw + j0 + j * W, acc[j]);
            });
      }
    };
    int j0 = 0;
    for (; j0 + 2 * W <= Lw; j0 += 2 * W) gram(j0, std::integral_constant<int, 2>{});
    if (j0 < L) gram(j0, std::integral_constant<int, 1>{});
    // T = (I + A)^-1 row by row: T_r = e_r - sum_{m<r} A[r][m] T_m, where
    // T_m is zero beyond column m; and P.
    for (int r = 0; r < L; ++r) {
      for (int s = 0; s <= r; ++s) E[s] = float(gam[r] - gam[s]);  // <= 0: exp only ever of these
      for (int s = r + 1; s < Lw; ++s) E[s] = 0.0f;                  // the rest of the last vector
      for (int s = 0; s <= r; s += W) Vec::store(E + s, exp_v(Vec::load(E + s)));
      for (int s = 0; s <= r && gam[r] - gam[s] < kDecayCutoff; ++s) E[s] = 0.0f;  // as chunk_decay
      float* Tr = T + size_t(r) * Lw;
      float* Pr = P + size_t(r) * Lw;
      const float* Gk = G + size_t(r) * Lw;
      const float* Gq = G + size_t(L + r) * Lw;
      for (int s = 0; s < Lw; ++s) Tr[s] = Pr[s] = 0.0f;
      Tr[r] = 1.0f;
      for (int s = 0; s <= r; ++s) Pr[s] = a.scale * E[s] * Gq[s];
      for (int m = 0; m < r; ++m) {
        const V x = Vec::set1(-beta[r] * E[m] * Gk[m]);
        const float* Tm = T + size_t(m) * Lw;
        for (int s = 0; s <= m; s += W) Vec::store(Tr + s, Vec::fmadd(x, Vec::load(Tm + s), Vec::load(Tr + s)));
      }
    }
  }
};

// One chunk through one panel of NV*W value columns starting at col0; Hp is
// the panel's state [dk][NV*W]. R, U, YQ: [L][NV*W] scratch.
template <int NV>
void chunk_panel(const DeltaNetHeadArgs& a, const ChunkPrep& c, int t0, int col0, float* Hp, float* R, float* U,
                 float* YQ) {
  constexpr int PW = NV * W;
  const int L = c.L, dk = c.dk;
  // R = beta*v - (beta*Gamma)*(K H), the recurrent kernel's u with H0.
  gemm_rows<NV>(
      L, c.KQ, dk, Hp, PW, dk, false, [](int, V* acc) { for (int j = 0; j < NV; ++j) acc[j] = Vec::zero(); },
      [&](int r, V* acc) {
        const float* v = a.v + int64_t(t0 + r) * a.v_stride + col0;
        const V vb = Vec::set1(c.beta[r]), vbg = Vec::set1(c.beta[r] * c.Gam[r]);
        for (int j = 0; j < NV; ++j)
          Vec::store(R + r * PW + j * W, Vec::sub(Vec::mul(vb, Vec::load(v + j * W)), Vec::mul(vbg, acc[j])));
      });
  // YQ = (scale*Gamma) * (Q H).
  gemm_rows<NV>(
      L, c.KQ + size_t(L) * dk, dk, Hp, PW, dk, false,
      [](int, V* acc) { for (int j = 0; j < NV; ++j) acc[j] = Vec::zero(); },
      [&](int r, V* acc) {
        const V sg = Vec::set1(a.scale * c.Gam[r]);
        for (int j = 0; j < NV; ++j) Vec::store(YQ + r * PW + j * W, Vec::mul(sg, acc[j]));
      });
  // U = T R.
  gemm_rows<NV>(
      L, c.T, c.Lw, R, PW, L, true, [](int, V* acc) { for (int j = 0; j < NV; ++j) acc[j] = Vec::zero(); },
      [&](int r, V* acc) { for (int j = 0; j < NV; ++j) Vec::store(U + r * PW + j * W, acc[j]); });
  // O = YQ + P U.
  gemm_rows<NV>(
      L, c.P, c.Lw, U, PW, L, true,
      [&](int r, V* acc) { for (int j = 0; j < NV; ++j) acc[j] = Vec::load(YQ + r * PW + j * W); },
      [&](int r, V* acc) {
        float* o = a.out + int64_t(t0 + r) * a.out_stride + col0;
        for (int j = 0; j < NV; ++j) Vec::store(o + j * W, acc[j]);
      });
  // H = clamp(Gamma_last*H + KTd U), rows of the state.
  const V gl = Vec::set1(c.Gam[L - 1]), lo = Vec::set1(-1e6f), hi = Vec::set1(1e6f);
  gemm_rows<NV>(
      dk, c.KTd, c.Lw, U, PW, L, false,
      [&](int k, V* acc) { for (int j = 0; j < NV; ++j) acc[j] = Vec::mul(gl, Vec::load(Hp + k * PW + j * W)); },
      [&](int k, V* acc) {
        for (int j = 0; j < NV; ++j) Vec::store(Hp + k * PW + j * W, Vec::min(hi, Vec::max(lo, acc[j])));
      });
}

float* chunk_scratch(size_t n) {
  thread_local std::vector<float> buf;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

void delta_net_chunked_simd(const DeltaNetHeadArgs& a, int chunk) {
  if (a.checkpoints || chunk < 1) return delta_net_chunked_ref(a, chunk, 0, a.dv);  // refuses with the reason
  if (a.n_tokens <= 0) return;
  for (int t = 0; t < a.n_tokens; ++t)
    if (!(a.g[t * a.gb_stride] <= 0.0f)) return delta_net_simd(a);  // growing or NaN gate: see deltanet.h
  const int dk = a.dk, C = std::min(chunk, a.n_tokens);
  const int n2 = a.dv / (2 * W), n1 = (a.dv - n2 * 2 * W) / W;  // panels of 2W, then W columns
  const int cols = (n2 * 2 + n1) * W;
  const int64_t dv = a.dv;
  const size_t prep = ChunkPrep::floats(C, dk);
  const size_t state = size_t(dk) * cols, panel = size_t(C) * 2 * W;
  float* base = chunk_scratch(prep + state + 3 * panel);
  ChunkPrep c;
  c.carve(base, C, dk);
  float* Hs = base + prep;  // the state's SIMD columns as panels
  float* R = Hs + state;
  float* U = R + panel;
  float* YQ = U + panel;
  auto panel_of = [&](int p, int& col0, int& width) {
    col0 = p < n2 ? p * 2 * W : n2 * 2 * W + (p - n2) * W;
    width = p < n2 ? 2 * W : W;
  };
  for (int p = 0; p < n2 + n1; ++p) {
    int col0, width;
    panel_of(p, col0, width);
    for (int k = 0; k < dk; ++k)
      std::memcpy(Hs + size_t(dk) * col0 + size_t(k) * width, a.state + k * dv + col0, sizeof(float) * size_t(width));
  }
  for (int t0 = 0; t0 < a.n_tokens; t0 += C) {
    c.build(a, t0, std::min(C, a.n_tokens - t0));
    for (int p = 0; p < n2 + n1; ++p) {
      int col0, width;
      panel_of(p, col0, width);
      float* Hp = Hs + size_t(dk) * col0;
      if (width == 2 * W)
        chunk_panel<2>(a, c, t0, col0, Hp, R, U, YQ);
      else
        chunk_panel<1>(a, c, t0, col0, Hp, R, U, YQ);
    }
  }
  for (int p = 0; p < n2 + n1; ++p) {
    int col0, width;
    panel_of(p, col0, width);
    for (int k = 0; k < dk; ++k)
      std::memcpy(a.state + k * dv + col0, Hs + size_t(dk) * col0 + size_t(k) * width, sizeof(float) * size_t(width));
  }
  if (cols < a.dv) delta_net_chunked_ref(a, chunk, cols, a.dv);  // columns short of a vector
}
