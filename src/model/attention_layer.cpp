// Gated full attention (models.md §3.3): query and gate packed per head in
// attn_q, q/k RMSNorm per head, partial NEOX RoPE, K/V into the cache, causal
// softmax attention with GQA, sigmoid output gate, output projection.
#include <cmath>
#include <cstring>

#include "model/forward.h"
#include "ops/attention.h"
#include "ops/elementwise.h"
#include "ops/rope.h"
#include "util/fp16.h"
#include "util/thread_pool.h"

namespace dllm {

void attention_layer(const Model& model, int il, const MicroBatch& ub, SequenceMemory& mem, ForwardWorkspace& ws,
                     ThreadPool& pool) {
  const HParams& hp = model.hparams();
  const LayerWeights& L = model.layers()[il];
  const int n = ub.n, Hq = hp.n_head, Hkv = hp.n_head_kv, D = hp.head_dim;
  const int64_t qd = int64_t(Hq) * D, kvd = int64_t(Hkv) * D;
  const float* h = ws.h.data();
  observe(ws, il, "attn_q", h, n, L.wq.cols);
  observe(ws, il, "attn_k", h, n, L.wk.cols);
  observe(ws, il, "attn_v", h, n, L.wv.cols);
  // One activation preparation and one pass over the threads for the three.
  const MatmulOut qkv[3] = {{&L.wq, ws.qg.data(), L.wq.rows},  // [n][2*Hq*D]
                            {&L.wk, ws.k.data(), L.wk.rows},   // [n][Hkv*D]
                            {&L.wv, ws.v.data(), L.wv.rows}};  // [n][Hkv*D]
  matmul_shared(qkv, 3, h, n, L.wq.cols, pool, ws.mm);

  RopeParams rp;
  rp.n_rot = hp.n_rot;
  rp.freq_base = hp.rope_freq_base;
  rp.freq_scale = hp.rope_freq_scale;
  for (const Segment& seg : ub.segments) {
    KvView kv = mem.kv(il, seg.seq);
    // Tokens over the threads: each writes only its own rows (q, k, KV row pos).
    pool.parallel_for(seg.len, [&](int64_t i0, int64_t i1) {
    float cs[4096];  // n_rot <= head_dim <= 4096
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t t = seg.start + i;
      const int64_t pos = seg.pos0 + i;
      // de-interleave query heads, normalise, rotate
      float* q = ws.q.data() + t * qd;
      const float* qg = ws.qg.data() + t * 2 * qd;
      for (int hh = 0; hh < Hq; ++hh) {
        std::memcpy(q + int64_t(hh) * D, qg + int64_t(hh) * 2 * D, sizeof(float) * D);
        rms_norm(q + int64_t(hh) * D, L.q_norm, q + int64_t(hh) * D, D, hp.eps);
      }
      float* k = ws.k.data() + t * kvd;
      for (int hh = 0; hh < Hkv; ++hh) rms_norm(k + int64_t(hh) * D, L.k_norm, k + int64_t(hh) * D, D, hp.eps);
      rope_cache(rp, pos, cs);
      rope_neox(q, Hq, D, hp.n_rot, cs);
      rope_neox(k, Hkv, D, hp.n_rot, cs);
      // store K/V at row `pos`
      const float* v = ws.v.data() + t * kvd;
      if (kv.f16) {
        uint16_t* kd = static_cast<uint16_t*>(kv.k) + pos * kvd;
        uint16_t* vd = static_cast<uint16_t*>(kv.v) + pos * kvd;
        for (int64_t j = 0; j < kvd; ++j) {
          kd[j] = f32_to_f16(k[j]);
          vd[j] = f32_to_f16(v[j]);
        }
      } else {
        std::memcpy(static_cast<float*>(kv.k) + pos * kvd, k, sizeof(float) * kvd);
        std::memcpy(static_cast<float*>(kv.v) + pos * kvd, v, sizeof(float) * kvd);
      }
    }
    });
    // attention for every (token, KV head) of the segment, split over threads:
    // the query heads sharing a KV head go together (each K/V row is read
    // once for them), round robin over the threads (a later token attends to
    // more keys; contiguous ranges would leave the last thread most of it).
    const int group = Hq / Hkv;
    const int64_t work = int64_t(seg.len) * Hkv;
    const float scale = 1.0f / std::sqrt(float(D));
    const size_t score_stride = ws.scores.size() / size_t(pool.size());
    pool.run([&](int ith, int nth) {
      float* scores = ws.scores.data() + size_t(ith) * score_stride;
      for (int64_t w = ith; w < work; w += nth) {
        const int i = int(w / Hkv), g = int(w % Hkv);
        const int t = seg.start + i;
        KvRows rows{kv.k, kv.v, kv.f16};
        attention_one(ws.q.data() + t * qd, Hq, Hkv, D, rows, seg.pos0 + i + 1, scale, ws.attn.data() + t * qd, scores,
                      g * group, (g + 1) * group);
      }
    });
  }
  // output gate: attn * sigmoid(gate), gate of head h at qg[2hD + D ..]
  pool.parallel_for(n, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      float* a = ws.attn.data() + t * qd;
      const float* qg = ws.qg.data() + t * 2 * qd;
      for (int hh = 0; hh < Hq; ++hh) mul_sigmoid(a + hh * D, qg + int64_t(hh) * 2 * D + D, D);
    }
  });
  observe(ws, il, "attn_output", ws.attn.data(), n, L.wo.cols);
  matmul(L.wo, ws.attn.data(), n, ws.y.data(), pool, ws.mm);
}

}  // namespace dllm
