#include "model/forward.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <utility>

#include "ops/elementwise.h"
#include "util/thread_pool.h"

namespace dllm {

namespace {

// Lays out consecutive windows (64-byte aligned) from offset 0 of an arena
// that does not exist yet; place() points them once it does.
struct ArenaLayout {
  size_t end = 0;
  std::vector<std::pair<size_t, std::function<void(uint8_t*)>>> windows;
  template <class T>
  void add(ArenaBuf<T>& b, size_t n) {
    const size_t off = end;
    end = (end + n * sizeof(T) + 63) & ~size_t(63);
    b.n = n;
    windows.emplace_back(off, [&b](uint8_t* base) { b.p = reinterpret_cast<T*>(base); });
  }
  void place(uint8_t* base) {
    for (auto& [off, set] : windows) set(base + off);
  }
};

}  // namespace

ForwardWorkspace::ForwardWorkspace(const Model& model, int max_tokens, int64_t max_ctx, int n_threads)
    : max_tokens_(max_tokens) {
  const HParams& hp = model.hparams();
  const size_t T = size_t(max_tokens);
  const size_t E = size_t(hp.n_embd);
  x.resize(T * E);
  h.resize(T * E);
  y.resize(T * E);
  out_norm.resize(T * E);
  scores.resize(size_t(std::max(1, n_threads)) * size_t(max_ctx));
  ArenaLayout gdn, att, ffn;
  if (hp.n_recurrent_layers() > 0) {
    const size_t CD = hp.ssm_conv_dim(), VD = hp.ssm_inner, KD = hp.ssm_key_dim(), Hv = hp.ssm_hv;
    const auto& layers = model.layers();
    if (std::any_of(layers.begin(), layers.end(), [](const LayerWeights& L) { return L.fused_qkvz; }))
      gdn.add(proj, T * (2 * KD + 2 * VD));
    gdn.add(qkv, T * CD);
    gdn.add(z, T * VD);
    gdn.add(ba, T * 2 * Hv);
    gdn.add(beta, T * Hv);
    gdn.add(gate, T * Hv);
    gdn.add(o, T * VD);
  }
  const size_t qd = size_t(hp.n_head) * hp.head_dim, kvd = size_t(hp.n_head_kv) * hp.head_dim;
  att.add(qg, T * 2 * qd);
  att.add(q, T * qd);
  att.add(k, T * kvd);
  att.add(v, T * kvd);
  att.add(attn, T * qd);
  const size_t ffw = std::max({size_t(hp.n_ff), size_t(hp.n_ff_shexp), size_t(2 * hp.n_ff_exp)});
  ffn.add(ff_gate, T * ffw);
  ffn.add(ff_up, T * ffw);
  if (hp.n_expert > 0) {
    const size_t X = hp.n_expert, K = hp.n_expert_used;
    ffn.add(router, T * X);
    ffn.add(sel_expert, T * K);
    ffn.add(sel_weight, T * K);
    ffn.add(expert_rows, T * K);
    ffn.add(expert_w, T * K);
    ffn.add(xe, T * E);
    ffn.add(de, T * E);
    ffn.add(sh_gate, T);
  }
  arena_.resize(std::max({gdn.end, att.end, ffn.end}) + 64);
  uint8_t* base = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(arena_.data()) + 63) & ~uintptr_t(63));
  gdn.place(base);
  att.place(base);
  ffn.place(base);
}

size_t ForwardWorkspace::bytes() const {
  size_t n = arena_.size();
  for (const auto* v : {&x, &h, &y, &scores, &out_norm}) n += v->size() * sizeof(float);
  return n;
}

void observe_slow(ForwardWorkspace& ws, int layer, const char* what, int expert, const float* rows, int n_rows,
                  int64_t n_cols) {
  char name[96];
  if (layer >= 0) std::snprintf(name, sizeof name, "blk.%d.%s.weight", layer, what);
  else std::snprintf(name, sizeof name, "%s.weight", what);
  ws.observer.fn(ws.observer.user, name, expert, rows, n_rows, int(n_cols));
}

bool forward(const Model& model, const MicroBatch& ub, SequenceMemory& mem, ForwardWorkspace& ws, ThreadPool& pool,
             const AbortCheck& abort) {
  const HParams& hp = model.hparams();
  const int n = ub.n;
  const int64_t E = hp.n_embd;
  float* x = ws.x.data();
  // [n][E] embeddings (no scaling)
  for (int t = 0; t < n; ++t) weight_row_f32(model.token_embd(), ub.tokens[t], x + t * E);

  for (int il = 0; il < hp.n_layer_main; ++il) {
    if (abort()) return false;
    const LayerWeights& L = model.layers()[il];
    // Row-wise steps go over the threads by rows (the split changes no bits).
    const auto norm_rows = [&](const float* w) {
      pool.parallel_for(n, [&](int64_t t0, int64_t t1) {
        rms_norm_rows(x + t0 * E, w, ws.h.data() + t0 * E, t1 - t0, E, E, hp.eps);
      });
    };
    const auto add_rows = [&] {
      pool.parallel_for(n, [&](int64_t t0, int64_t t1) { add_inplace(x + t0 * E, ws.y.data() + t0 * E, (t1 - t0) * E); });
    };
    norm_rows(L.attn_norm);
    if (hp.is_recurrent(il)) gdn_layer(model, il, ub, mem, ws, pool);
    else attention_layer(model, il, ub, mem, ws, pool);
    add_rows();
    norm_rows(L.post_attention_norm);
    if (L.moe) moe_layer(model, il, n, ws, pool);
    else ffn_layer(model, il, n, ws, pool);
    add_rows();
  }

  // Output head only on the rows that asked for logits.
  const int n_out = int(ub.out_rows.size());
  if (n_out == 0) return true;
  for (int i = 0; i < n_out; ++i)
    rms_norm(x + ub.out_rows[i] * E, model.output_norm(), ws.out_norm.data() + i * E, E, hp.eps);
  // Logit rows may be scattered: compute into each destination one row at a
  // time when they are not contiguous.
  bool contiguous = true;
  for (int i = 1; i < n_out; ++i) contiguous &= ub.out_logits[i] == ub.out_logits[0] + i * hp.n_vocab;
  observe(ws, -1, model.tied_output() ? "token_embd" : "output", ws.out_norm.data(), n_out, E);
  if (contiguous) {
    matmul(model.output(), ws.out_norm.data(), n_out, ub.out_logits[0], pool, ws.mm);
  } else {
    for (int i = 0; i < n_out; ++i) matmul(model.output(), ws.out_norm.data() + i * E, 1, ub.out_logits[i], pool, ws.mm);
  }
  return true;
}

}  // namespace dllm
