// Dense SwiGLU FFN and the MoE block with its shared expert (models.md §3.4).
#include <algorithm>
#include <cmath>

#include "model/forward.h"
#include "ops/elementwise.h"
#include "util/thread_pool.h"

namespace dllm {

namespace {

// y = W_down * (silu(W_gate x) * (W_up x)) for n rows of x. `shexp`: the
// MoE block's shared expert (only for the activation observer's names).
void dense_swiglu(const WeightView& wg, const WeightView& wu, const WeightView& wd, const float* x, int n, float* y,
                  ForwardWorkspace& ws, ThreadPool& pool, int il, bool shexp) {
  const int64_t F = wg.rows;
  observe(ws, il, shexp ? "ffn_gate_shexp" : "ffn_gate", x, n, wg.cols);
  observe(ws, il, shexp ? "ffn_up_shexp" : "ffn_up", x, n, wu.cols);
  const MatmulOut gate_up[2] = {{&wg, ws.ff_gate.data(), wg.rows}, {&wu, ws.ff_up.data(), wu.rows}};
  matmul_shared(gate_up, 2, x, n, wg.cols, pool, ws.mm);
  // Row by row over the threads (elementwise: the split changes no bits).
  pool.parallel_for(n, [&](int64_t t0, int64_t t1) {
    silu_mul(ws.ff_gate.data() + t0 * F, ws.ff_up.data() + t0 * F, (t1 - t0) * F);
  });
  observe(ws, il, shexp ? "ffn_down_shexp" : "ffn_down", ws.ff_gate.data(), n, wd.cols);
  matmul(wd, ws.ff_gate.data(), n, y, pool, ws.mm);
}

}  // namespace

void ffn_layer(const Model& model, int il, int n, ForwardWorkspace& ws, ThreadPool& pool) {
  const LayerWeights& L = model.layers()[il];
  dense_swiglu(L.ffn_gate, L.ffn_up, L.ffn_down, ws.h.data(), n, ws.y.data(), ws, pool, il, false);
}

void moe_layer(const Model& model, int il, int n, ForwardWorkspace& ws, ThreadPool& pool) {
  const HParams& hp = model.hparams();
  const LayerWeights& L = model.layers()[il];
  const int X = hp.n_expert, K = hp.n_expert_used;
  const int64_t E = hp.n_embd, Fe = hp.n_ff_exp;
  const float* f = ws.h.data();
  float* y = ws.y.data();

  // 1-3: router softmax over all experts, top-K, renormalised weights.
  observe(ws, il, "ffn_gate_inp", f, n, L.gate_inp.cols);
  matmul(L.gate_inp, f, n, ws.router.data(), pool, ws.mm);
  for (int t = 0; t < n; ++t) {
    float* p = ws.router.data() + int64_t(t) * X;
    const float mx = *std::max_element(p, p + X);
    double sum = 0.0;
    for (int e = 0; e < X; ++e) {
      p[e] = std::exp(p[e] - mx);
      sum += p[e];
    }
    for (int e = 0; e < X; ++e) p[e] = float(p[e] / sum);
    int* sel = ws.sel_expert.data() + int64_t(t) * K;
    float* w = ws.sel_weight.data() + int64_t(t) * K;
    // top-K by selection (K is small); ties keep the lower index
    for (int j = 0; j < K; ++j) {
      int best = -1;
      for (int e = 0; e < X; ++e) {
        bool taken = false;
        for (int i = 0; i < j; ++i) taken |= sel[i] == e;
        if (!taken && (best < 0 || p[e] > p[best])) best = e;
      }
      sel[j] = best;
      w[j] = p[best];
    }
    float wsum = 0.0f;
    for (int j = 0; j < K; ++j) wsum += w[j];
    for (int j = 0; j < K; ++j) w[j] /= wsum;
  }

  std::fill(y, y + int64_t(n) * E, 0.0f);
  // 4: each expert over the tokens routed to it.
  for (int e = 0; e < X; ++e) {
    int cnt = 0;
    for (int t = 0; t < n; ++t)
      for (int j = 0; j < K; ++j)
        if (ws.sel_expert[int64_t(t) * K + j] == e) {
          ws.expert_rows[cnt] = t;
          ws.expert_w[cnt] = ws.sel_weight[int64_t(t) * K + j];
          ++cnt;
        }
    if (cnt == 0) continue;
    for (int i = 0; i < cnt; ++i) std::copy_n(f + int64_t(ws.expert_rows[i]) * E, E, ws.xe.data() + int64_t(i) * E);
    if (L.fused_gate_up) {
      // [cnt][2Fe]: gate rows first, then up rows
      observe(ws, il, "ffn_gate_up_exps", ws.xe.data(), cnt, E, e);
      matmul(L.gate_up_exps.expert(e), ws.xe.data(), cnt, ws.ff_up.data(), pool, ws.mm);
      for (int i = 0; i < cnt; ++i) {
        const float* gu = ws.ff_up.data() + int64_t(i) * 2 * Fe;
        float* g = ws.ff_gate.data() + int64_t(i) * Fe;
        std::copy_n(gu, Fe, g);
        silu_mul(g, gu + Fe, Fe);
      }
    } else {
      observe(ws, il, "ffn_gate_exps", ws.xe.data(), cnt, E, e);
      observe(ws, il, "ffn_up_exps", ws.xe.data(), cnt, E, e);
      const WeightView ge = L.gate_exps.expert(e), ue = L.up_exps.expert(e);
      const MatmulOut gate_up[2] = {{&ge, ws.ff_gate.data(), ge.rows}, {&ue, ws.ff_up.data(), ue.rows}};
      matmul_shared(gate_up, 2, ws.xe.data(), cnt, E, pool, ws.mm);
      silu_mul(ws.ff_gate.data(), ws.ff_up.data(), int64_t(cnt) * Fe);
    }
    observe(ws, il, "ffn_down_exps", ws.ff_gate.data(), cnt, Fe, e);
    matmul(L.down_exps.expert(e), ws.ff_gate.data(), cnt, ws.de.data(), pool, ws.mm);
    for (int i = 0; i < cnt; ++i) {
      float* yt = y + int64_t(ws.expert_rows[i]) * E;
      const float* d = ws.de.data() + int64_t(i) * E;
      const float w = ws.expert_w[i];
      for (int64_t c = 0; c < E; ++c) yt[c] += w * d[c];
    }
  }
  // 5: shared expert scaled by sigmoid(w_shgate . f), one scalar per token.
  if (L.has_shared_expert) {
    // the shared-expert gate is a [E] -> [1] matmul in the reference's graph
    observe(ws, il, "ffn_gate_inp_shexp", f, n, E);
    dense_swiglu(L.gate_shexp, L.up_shexp, L.down_shexp, f, n, ws.de.data(), ws, pool, il, true);
    for (int t = 0; t < n; ++t) {
      const float* ft = f + int64_t(t) * E;
      float dot = 0.0f;
      for (int64_t c = 0; c < E; ++c) dot += L.gate_inp_shexp[c] * ft[c];
      const float s = sigmoid(dot);
      float* yt = y + int64_t(t) * E;
      const float* d = ws.de.data() + int64_t(t) * E;
      for (int64_t c = 0; c < E; ++c) yt[c] += s * d[c];
    }
  }
}

}  // namespace dllm
