// The token-mixing kernels (gated delta rule, causal conv1d, one-query
// attention) written once over a small float-vector interface. Included by
// mixer_avx2.cpp and mixer_avx512.cpp inside an anonymous namespace, after
// each defines `struct Vec`:
//   using T; static constexpr int W (lanes);
//   zero(), set1(x), load(p), store(p, v), load_f16(p), fmadd(a, b, c) = a*b+c,
//   mul, add, sub, min, max, div, round (to nearest even), scale2(p, n)
//   (n integral: n added to p's exponent bits), inf_above(x, t, v) (+inf
//   where x > t, else v), hsum.
// No include guard: meant to be included once per ISA file.

using V = Vec::T;
constexpr int W = Vec::W;

// a . b over n floats (two chains, then the scalar tail).
inline float dot(const float* a, const float* b, int n) {
  V c0 = Vec::zero(), c1 = Vec::zero();
  int i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    c0 = Vec::fmadd(Vec::load(a + i), Vec::load(b + i), c0);
    c1 = Vec::fmadd(Vec::load(a + i + W), Vec::load(b + i + W), c1);
  }
  for (; i + W <= n; i += W) c0 = Vec::fmadd(Vec::load(a + i), Vec::load(b + i), c0);
  float s = Vec::hsum(Vec::add(c0, c1));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

// ---------------------------------------------------------------------------
// Gated delta rule (kernels.md §4.3), one tile of NV*W value columns through
// every token. The tile of the [dk][dv] state (dk rows of NV vectors) stays in
// L1. Each token's pass over the tile does the decay + rank-1 update + clamp
// and, in the same pass, accumulates S^T k and S^T q of the next token, so
// every state element is read and written once per token.
//
// The sums run in two chains (even / odd key rows), added at the end; the
// first token's sums are taken in a separate pass with the same chains, so a
// token gives the same bits whether it comes in a batch or alone.

template <int NV>
struct DeltaTile {
  V p[NV], s[NV];  // S^T k, S^T q of the next token

  // S^T k and S^T q of the stored state (the first token of a call).
  void read(const float* S, int64_t ld, int dk, const float* k, const float* q) {
    V pa[2][NV], sa[2][NV];
    for (int c2 = 0; c2 < 2; ++c2)
      for (int j = 0; j < NV; ++j) pa[c2][j] = sa[c2][j] = Vec::zero();
    auto row_step = [&](int c, auto CH) {
      constexpr int ch = CH;
      const V kc = Vec::set1(k[c]), qc = Vec::set1(q[c]);
      const float* row = S + int64_t(c) * ld;
      for (int j = 0; j < NV; ++j) {
        const V x = Vec::load(row + j * W);
        pa[ch][j] = Vec::fmadd(x, kc, pa[ch][j]);
        sa[ch][j] = Vec::fmadd(x, qc, sa[ch][j]);
      }
    };
    // Rows in pairs, so that the chain (even / odd row) is known at compile
    // time and the sums stay in registers.
    int c = 0;
    for (; c + 1 < dk; c += 2) {
      row_step(c, std::integral_constant<int, 0>{});
      row_step(c + 1, std::integral_constant<int, 1>{});
    }
    if (c < dk) row_step(c, std::integral_constant<int, 0>{});
    for (int j = 0; j < NV; ++j) {
      p[j] = Vec::add(pa[0][j], pa[1][j]);
      s[j] = Vec::add(sa[0][j], sa[1][j]);
    }
  }

  // S = clamp(alpha*S + k u^T) over the tile; with kn/qn (the next token's
  // k and q) also the next token's sums. ck: checkpoint copy or nullptr.
  template <bool kNext>
  void update(float* S, int64_t ld, int dk, const float* k, const V* u, float alpha, const float* kn,
              const float* qn, float* ck, int64_t dv) {
    const V va = Vec::set1(alpha), lo = Vec::set1(-1e6f), hi = Vec::set1(1e6f);
    V pa[2][NV], sa[2][NV];
    if constexpr (kNext)
      for (int c2 = 0; c2 < 2; ++c2)
        for (int j = 0; j < NV; ++j) pa[c2][j] = sa[c2][j] = Vec::zero();
    auto row_step = [&](int c, auto CH) {
      constexpr int ch = CH;
      const V kc = Vec::set1(k[c]);
      float* row = S + int64_t(c) * ld;
      for (int j = 0; j < NV; ++j) {
        V x = Vec::fmadd(kc, u[j], Vec::mul(va, Vec::load(row + j * W)));
        x = Vec::min(hi, Vec::max(lo, x));  // this operand order keeps a NaN, as std::clamp does
        Vec::store(row + j * W, x);
        if (ck) Vec::store(ck + int64_t(c) * dv + j * W, x);
        if constexpr (kNext) {
          pa[ch][j] = Vec::fmadd(x, Vec::set1(kn[c]), pa[ch][j]);
          sa[ch][j] = Vec::fmadd(x, Vec::set1(qn[c]), sa[ch][j]);
        }
      }
    };
    // Rows in pairs (see read): the sums stay in registers.
    int c = 0;
    for (; c + 1 < dk; c += 2) {
      row_step(c, std::integral_constant<int, 0>{});
      row_step(c + 1, std::integral_constant<int, 1>{});
    }
    if (c < dk) row_step(c, std::integral_constant<int, 0>{});
    if constexpr (kNext)
      for (int j = 0; j < NV; ++j) {
        p[j] = Vec::add(pa[0][j], pa[1][j]);
        s[j] = Vec::add(sa[0][j], sa[1][j]);
      }
  }

  void run(const DeltaNetHeadArgs& a, int col0) {
    const int dk = a.dk;
    const int64_t dv = a.dv;
    // The tile's rows lie dv floats apart in the state: at 512 bytes and more
    // the tile's dk lines map onto a few L1 sets, which then thrash. Over
    // several tokens the tile is worked on in a contiguous copy (same
    // arithmetic, so the same bits) and written back at the end.
    constexpr int kCols = NV * W, kMaxDk = 256;
    alignas(64) float local[kMaxDk * kCols];
    const bool copy = a.n_tokens >= 2 && dk <= kMaxDk && dv != kCols;
    float* S = copy ? local : a.state + col0;
    const int64_t ld = copy ? kCols : dv;
    if (copy)
      for (int c = 0; c < dk; ++c) std::memcpy(local + c * kCols, a.state + int64_t(c) * dv + col0, sizeof(float) * kCols);
    read(S, ld, dk, a.k, a.q);
    for (int t = 0; t < a.n_tokens; ++t) {
      const float* q = a.q + t * a.qk_stride;
      const float* k = a.k + t * a.qk_stride;
      const float* v = a.v + t * a.v_stride + col0;
      const float beta = sigmoid(a.b[t * a.gb_stride]);
      const float alpha = std::exp(std::min(a.g[t * a.gb_stride], 50.0f));
      const float kq = dot(k, q, dk);
      const V vb = Vec::set1(beta), vba = Vec::set1(beta * alpha), vas = Vec::set1(alpha * a.scale),
              vkqs = Vec::set1(kq * a.scale);
      V u[NV];
      float* o = a.out + t * a.out_stride + col0;
      for (int j = 0; j < NV; ++j) {
        u[j] = Vec::sub(Vec::mul(vb, Vec::load(v + j * W)), Vec::mul(vba, p[j]));
        Vec::store(o + j * W, Vec::fmadd(vas, s[j], Vec::mul(vkqs, u[j])));
      }
      float* ck = a.checkpoints ? a.checkpoints + t * a.checkpoint_stride + col0 : nullptr;
      if (t + 1 < a.n_tokens)
        update<true>(S, ld, dk, k, u, alpha, k + a.qk_stride, q + a.qk_stride, ck, dv);
      else
        update<false>(S, ld, dk, k, u, alpha, nullptr, nullptr, ck, dv);
    }
    if (copy)
      for (int c = 0; c < dk; ++c) std::memcpy(a.state + int64_t(c) * dv + col0, local + c * kCols, sizeof(float) * kCols);
  }
};

void delta_net_simd(const DeltaNetHeadArgs& a) {
  int col = 0;
  // Two vectors per key row where the columns allow (more independent work
  // per broadcast), then single vectors, then the reference for the rest.
  for (; col + 2 * W <= a.dv; col += 2 * W) DeltaTile<2>().run(a, col);
  for (; col + W <= a.dv; col += W) DeltaTile<1>().run(a, col);
  if (col < a.dv) delta_net_recurrent_ref(a, col, a.dv);
}

// ---------------------------------------------------------------------------
// Causal depthwise conv1d, W channels per vector: y_t = w0*s0 + w1*s1 + ...
// + w_{K-1}*x_t, summed in that order. Tokens in the outer loop over a block
// of channels, so that each token's inputs and outputs are contiguous (a
// column walk, a vector per token 4 KiB+ apart, cost a page walk per access:
// 2.4% of a pp512 profile). The window of the last K-1 inputs lives in a
// ring in L1 (y may alias x: each input is copied there before its output
// overwrites it).

constexpr int kConvCols = 16 * W;  // channels per block

template <int K>
void conv1d_block(const Conv1dArgs& a, int64_t c0, int nv) {
  constexpr int NS = K - 1;
  static_assert(NS >= 1);
  alignas(64) float w[K][kConvCols];
  alignas(64) float ring[NS][kConvCols];  // input position p (the state first) in slot p % NS
  const int nc = nv * W;
  for (int l = 0; l < nc; ++l) {
    for (int j = 0; j < K; ++j) w[j][l] = a.weight[(c0 + l) * K + j];
    for (int j = 0; j < NS; ++j) ring[j][l] = a.state[(c0 + l) * NS + j];
  }
  for (int t = 0; t < a.n_tokens; ++t) {
    const float* x = a.x + t * a.x_stride + c0;
    float* y = a.y + t * a.y_stride + c0;
    float* oldest = ring[t % NS];  // position t, replaced by x_t (position NS + t)
    for (int v = 0; v < nv; ++v) {
      const int o = v * W;
      const V xv = Vec::load(x + o);
      V acc = Vec::mul(Vec::load(w[0] + o), Vec::load(oldest + o));
      for (int j = 1; j < NS; ++j) acc = Vec::fmadd(Vec::load(w[j] + o), Vec::load(ring[(t + j) % NS] + o), acc);
      acc = Vec::fmadd(Vec::load(w[NS] + o), xv, acc);
      Vec::store(oldest + o, xv);
      Vec::store(y + o, acc);
    }
  }
  // the state: positions n .. n + NS - 1
  for (int l = 0; l < nc; ++l)
    for (int j = 0; j < NS; ++j) a.state[(c0 + l) * NS + j] = ring[(a.n_tokens + j) % NS][l];
}

void conv1d_simd(const Conv1dArgs& a, int64_t c_begin, int64_t c_end) {
  int64_t c = c_begin;
  if (a.kc == 4)  // every Qwen3.5 / Qwen3-Next model; other widths take the reference
    for (; c + W <= c_end;) {
      const int nv = int(std::min<int64_t>(kConvCols, c_end - c) / W);
      conv1d_block<4>(a, c, nv);
      c += int64_t(nv) * W;
    }
  if (c < c_end) conv1d_causal_ref(a, c, c_end);
}

// ---------------------------------------------------------------------------
// One query token against the KV cache, vectors along head_dim.

inline V load_kv(const void* base, int64_t idx, bool f16) {
  return f16 ? Vec::load_f16(static_cast<const uint16_t*>(base) + idx) : Vec::load(static_cast<const float*>(base) + idx);
}

// Flash-style: up to 4 query heads that share a KV head together, keys in
// blocks of kKeyBlock with an online softmax (a running max and sum per head;
// the accumulated output is rescaled when the max grows), so that each K and
// V row is converted and read once per group instead of once per head, and no
// score array as long as the context is needed. Differs from the two-pass
// reference only in rounding (the softmax normaliser is applied at the end).
void exp_shifted_simd(float* x, int64_t n, float shift);

constexpr int kKeyBlock = 64;
constexpr int kMaxHeadDim = 512;

template <int NG>
void attention_group(const float* const* qh, const KvRows& kv, int64_t row, int64_t off, int D, int64_t n_kv,
                     float scale, float* const* oh) {
  alignas(64) float acc[NG][kMaxHeadDim];
  alignas(64) float p[NG][kKeyBlock];
  float mx[NG];
  double sum[NG];
  for (int h = 0; h < NG; ++h) {
    mx[h] = -INFINITY;
    sum[h] = 0.0;
    std::fill_n(acc[h], D, 0.0f);
  }
  for (int64_t s0 = 0; s0 < n_kv; s0 += kKeyBlock) {
    const int nb = int(std::min<int64_t>(kKeyBlock, n_kv - s0));
    // scores of the block: two keys at a time, one chain per (key, head)
    int i = 0;
    for (; i + 2 <= nb; i += 2) {
      V c[2][NG];
      for (int k2 = 0; k2 < 2; ++k2)
        for (int h = 0; h < NG; ++h) c[k2][h] = Vec::zero();
      const int64_t b0 = (s0 + i) * row + off, b1 = b0 + row;
      for (int d = 0; d < D; d += W) {
        const V k0 = load_kv(kv.k, b0 + d, kv.f16), k1 = load_kv(kv.k, b1 + d, kv.f16);
        for (int h = 0; h < NG; ++h) {
          const V qv = Vec::load(qh[h] + d);
          c[0][h] = Vec::fmadd(qv, k0, c[0][h]);
          c[1][h] = Vec::fmadd(qv, k1, c[1][h]);
        }
      }
      for (int h = 0; h < NG; ++h) {
        p[h][i] = Vec::hsum(c[0][h]) * scale;
        p[h][i + 1] = Vec::hsum(c[1][h]) * scale;
      }
    }
    for (; i < nb; ++i) {
      V c[NG];
      for (int h = 0; h < NG; ++h) c[h] = Vec::zero();
      const int64_t b0 = (s0 + i) * row + off;
      for (int d = 0; d < D; d += W) {
        const V k0 = load_kv(kv.k, b0 + d, kv.f16);
        for (int h = 0; h < NG; ++h) c[h] = Vec::fmadd(Vec::load(qh[h] + d), k0, c[h]);
      }
      for (int h = 0; h < NG; ++h) p[h][i] = Vec::hsum(c[h]) * scale;
    }
    // online softmax: new max, rescale what was accumulated, exponentiate
    for (int h = 0; h < NG; ++h) {
      float bm = mx[h];
      for (int j = 0; j < nb; ++j) bm = std::max(bm, p[h][j]);
      if (bm > mx[h] && sum[h] > 0.0) {
        const float corr = exp_fast(mx[h] - bm);
        sum[h] *= corr;
        const V vc = Vec::set1(corr);
        for (int d = 0; d < D; d += W) Vec::store(acc[h] + d, Vec::mul(vc, Vec::load(acc[h] + d)));
      }
      mx[h] = bm;
      exp_shifted_simd(p[h], nb, bm);
      double bs = 0.0;
      for (int j = 0; j < nb; ++j) bs += p[h][j];
      sum[h] += bs;
    }
    // acc_h += sum_j p[h][j] * V_j, 2*W columns at a time in registers
    int d = 0;
    for (; d + 2 * W <= D; d += 2 * W) {
      V a0[NG], a1[NG];
      for (int h = 0; h < NG; ++h) {
        a0[h] = Vec::load(acc[h] + d);
        a1[h] = Vec::load(acc[h] + d + W);
      }
      for (int j = 0; j < nb; ++j) {
        const int64_t base = (s0 + j) * row + off + d;
        const V v0 = load_kv(kv.v, base, kv.f16), v1 = load_kv(kv.v, base + W, kv.f16);
        for (int h = 0; h < NG; ++h) {
          const V w = Vec::set1(p[h][j]);
          a0[h] = Vec::fmadd(w, v0, a0[h]);
          a1[h] = Vec::fmadd(w, v1, a1[h]);
        }
      }
      for (int h = 0; h < NG; ++h) {
        Vec::store(acc[h] + d, a0[h]);
        Vec::store(acc[h] + d + W, a1[h]);
      }
    }
    for (; d < D; d += W) {
      V a0[NG];
      for (int h = 0; h < NG; ++h) a0[h] = Vec::load(acc[h] + d);
      for (int j = 0; j < nb; ++j) {
        const V v0 = load_kv(kv.v, (s0 + j) * row + off + d, kv.f16);
        for (int h = 0; h < NG; ++h) a0[h] = Vec::fmadd(Vec::set1(p[h][j]), v0, a0[h]);
      }
      for (int h = 0; h < NG; ++h) Vec::store(acc[h] + d, a0[h]);
    }
  }
  for (int h = 0; h < NG; ++h) {
    const V inv = Vec::set1(float(1.0 / sum[h]));
    for (int d = 0; d < D; d += W) Vec::store(oh[h] + d, Vec::mul(inv, Vec::load(acc[h] + d)));
  }
}

void attention_simd(const float* q, int n_heads, int n_kv_heads, int head_dim, const KvRows& kv, int64_t n_kv,
                    float scale, float* out, float* scores, int h_begin, int h_end) {
  if (head_dim % W != 0 || head_dim > kMaxHeadDim || n_kv <= 0) {
    attention_one_ref(q, n_heads, n_kv_heads, head_dim, kv, n_kv, scale, out, scores, h_begin, h_end);
    return;
  }
  const int group = n_heads / n_kv_heads;
  const int64_t row = int64_t(n_kv_heads) * head_dim;
  int h = h_begin;
  while (h < h_end) {
    // the heads from h on that share h's KV head, at most 4
    const int g = h / group;
    const int ng = std::min({h_end, (g + 1) * group, h + 4}) - h;
    const float* qh[4];
    float* oh[4];
    for (int i = 0; i < ng; ++i) {
      qh[i] = q + int64_t(h + i) * head_dim;
      oh[i] = out + int64_t(h + i) * head_dim;
    }
    const int64_t off = int64_t(g) * head_dim;
    switch (ng) {
      case 1: attention_group<1>(qh, kv, row, off, head_dim, n_kv, scale, oh); break;
      case 2: attention_group<2>(qh, kv, row, off, head_dim, n_kv, scale, oh); break;
      case 3: attention_group<3>(qh, kv, row, off, head_dim, n_kv, scale, oh); break;
      default: attention_group<4>(qh, kv, row, off, head_dim, n_kv, scale, oh); break;
    }
    h += ng;
  }
}

// ---------------------------------------------------------------------------
// Activations: exp_fast of elementwise.h, lane by lane with the same
// operations (so vector lanes, tails and scalar callers give the same bits).

inline V exp_v(V x) {
  // max(lo, x) then min(hi, .): this operand order keeps a NaN
  const V xc = Vec::min(Vec::set1(kExpHi), Vec::max(Vec::set1(kExpLo), x));
  const V n = Vec::round(Vec::mul(xc, Vec::set1(1.44269504f)));
  V r = Vec::fmadd(n, Vec::set1(-0.693359375f), xc);
  r = Vec::fmadd(n, Vec::set1(2.12194440e-4f), r);
  V p = Vec::set1(1.9875691500e-4f);
  p = Vec::fmadd(p, r, Vec::set1(1.3981999507e-3f));
  p = Vec::fmadd(p, r, Vec::set1(8.3334519073e-3f));
  p = Vec::fmadd(p, r, Vec::set1(4.1665795894e-2f));
  p = Vec::fmadd(p, r, Vec::set1(1.6666665459e-1f));
  p = Vec::fmadd(p, r, Vec::set1(5.0000001201e-1f));
  p = Vec::add(Vec::fmadd(p, Vec::mul(r, r), r), Vec::set1(1.0f));
  return Vec::inf_above(x, kExpHi, Vec::scale2(p, n));
}

// x / (1 + exp(-x))
inline V silu_v(V x) { return Vec::div(x, Vec::add(Vec::set1(1.0f), exp_v(Vec::sub(Vec::zero(), x)))); }

void silu_mul_simd(float* gate, const float* up, int64_t n) {
  int64_t i = 0;
  for (; i + W <= n; i += W) Vec::store(gate + i, Vec::mul(silu_v(Vec::load(gate + i)), Vec::load(up + i)));
  for (; i < n; ++i) gate[i] = silu(gate[i]) * up[i];
}

void silu_inplace_simd(float* x, int64_t n) {
  int64_t i = 0;
  for (; i + W <= n; i += W) Vec::store(x + i, silu_v(Vec::load(x + i)));
  for (; i < n; ++i) x[i] = silu(x[i]);
}

void mul_silu_simd(float* o, const float* z, int64_t n) {
  int64_t i = 0;
  for (; i + W <= n; i += W) Vec::store(o + i, Vec::mul(Vec::load(o + i), silu_v(Vec::load(z + i))));
  for (; i < n; ++i) o[i] *= silu(z[i]);
}

void mul_sigmoid_simd(float* o, const float* g, int64_t n) {
  int64_t i = 0;
  const V one = Vec::set1(1.0f);
  for (; i + W <= n; i += W) {
    const V sg = Vec::div(one, Vec::add(one, exp_v(Vec::sub(Vec::zero(), Vec::load(g + i)))));
    Vec::store(o + i, Vec::mul(Vec::load(o + i), sg));
  }
  for (; i < n; ++i) o[i] *= sigmoid(g[i]);
}

void exp_shifted_simd(float* x, int64_t n, float shift) {
  int64_t i = 0;
  const V s = Vec::set1(shift);
  for (; i + W <= n; i += W) Vec::store(x + i, exp_v(Vec::sub(Vec::load(x + i), s)));
  for (; i < n; ++i) x[i] = exp_fast(x[i] - shift);
}
