// Gated DeltaNet layer (models.md §3.2): projections, causal conv1d + SiLU,
// L2-normalised q/k, gates, the gated delta rule per value head, gated
// RMSNorm with SiLU(z), output projection.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "model/forward.h"
#include "ops/deltanet.h"
#include "ops/elementwise.h"
#include "util/thread_pool.h"

namespace dllm {

namespace {

// Segments of at most this many tokens (decode steps, speculative verify
// batches) run the recurrent delta rule; longer prefill segments the chunked
// one, with chunks of kDeltaNetChunk tokens (16 measured fastest on AVX2 with
// dk = dv = 128: bench/deltanet_bench, 1.12x the recurrent kernel; 64 was 0.98x).
constexpr int kRecurrentMaxTokens = 8;
constexpr int kDeltaNetChunk = 16;

// Rearranges the fused ssm_in output (per key-head group [q_g|k_g|v_g|z_g],
// models.md §2.4.1) into qkv = [q all | k all | v all] and z.
void split_fused_qkvz(const HParams& hp, const float* u, float* qkv, float* z) {
  const int Hk = hp.ssm_hk, dk = hp.ssm_dk, dv = hp.ssm_dv(), r = hp.ssm_hv / hp.ssm_hk;
  const int64_t KD = hp.ssm_key_dim();
  const int64_t group = 2 * dk + 2 * int64_t(r) * dv;
  for (int g = 0; g < Hk; ++g) {
    const float* src = u + g * group;
    std::memcpy(qkv + int64_t(g) * dk, src, sizeof(float) * dk);
    std::memcpy(qkv + KD + int64_t(g) * dk, src + dk, sizeof(float) * dk);
    std::memcpy(qkv + 2 * KD + int64_t(g) * r * dv, src + 2 * dk, sizeof(float) * r * dv);
    std::memcpy(z + int64_t(g) * r * dv, src + 2 * dk + int64_t(r) * dv, sizeof(float) * r * dv);
  }
}

// The conv state after each token t of a segment (its last ns inputs, the
// older ones from the state before the segment) to ckpt + t*stride, laid out
// like the state: [channel][ns], oldest first. Runs before the conv updates
// the state.
void save_conv_checkpoints(const float* x, const float* state, int64_t channels, int ns, int n_tokens, float* ckpt,
                           int64_t stride) {
  for (int t = 0; t < n_tokens; ++t) {
    float* dst = ckpt + t * stride;
    for (int j = 0; j < ns; ++j) {
      const int idx = t - ns + 1 + j;  // input index of window slot j; < 0: from the old state
      if (idx >= 0) {
        const float* row = x + int64_t(idx) * channels;
        for (int64_t c = 0; c < channels; ++c) dst[c * ns + j] = row[c];
      } else {
        for (int64_t c = 0; c < channels; ++c) dst[c * ns + j] = state[c * ns + ns + idx];
      }
    }
  }
}

}  // namespace

void gdn_layer(const Model& model, int il, const MicroBatch& ub, SequenceMemory& mem, ForwardWorkspace& ws,
               ThreadPool& pool) {
  const HParams& hp = model.hparams();
  const LayerWeights& L = model.layers()[il];
  const int n = ub.n;
  const int Hk = hp.ssm_hk, Hv = hp.ssm_hv, dk = hp.ssm_dk, dv = hp.ssm_dv(), Kc = hp.ssm_conv_kernel;
  const int r = Hv / Hk;
  const int64_t KD = hp.ssm_key_dim(), VD = hp.ssm_inner, CD = hp.ssm_conv_dim();
  const float* h = ws.h.data();

  // Step 1: projections -> qkv [n][CD], z [n][VD], beta/alpha [n][Hv]
  float* qkv = ws.qkv.data();
  float* z = ws.z.data();
  float* beta = ws.beta.data();   // raw beta (sigmoid applied inside the delta rule)
  float* gate = ws.gate.data();   // alpha, turned into the log-decay below
  // All four from h: one activation preparation and one pass over the threads.
  MatmulOut outs[4];
  int n_outs = 0;
  auto project = [&](const char* name, const WeightView& W, float* y) {
    observe(ws, il, name, h, n, W.cols);
    outs[n_outs++] = MatmulOut{&W, y, W.rows};
  };
  if (L.fused_qkvz) {
    project("ssm_in", L.ssm_in, ws.proj.data());
  } else {
    project("attn_qkv", L.wqkv, qkv);
    project("attn_gate", L.wgate, z);
  }
  if (L.fused_ba) {
    project("ssm_ba", L.ssm_ba, ws.ba.data());
  } else {
    project("ssm_beta", L.ssm_beta, beta);
    project("ssm_alpha", L.ssm_alpha, gate);
  }
  matmul_shared(outs, n_outs, h, n, outs[0].W->cols, pool, ws.mm);
  if (L.fused_qkvz) {
    const int64_t w = 2 * KD + 2 * VD;
    for (int t = 0; t < n; ++t) split_fused_qkvz(hp, ws.proj.data() + t * w, qkv + t * CD, z + t * VD);
  }
  if (L.fused_ba) {
    for (int t = 0; t < n; ++t) {
      const float* ba = ws.ba.data() + t * 2 * Hv;
      for (int g = 0; g < Hk; ++g)
        for (int j = 0; j < r; ++j) {
          beta[t * Hv + g * r + j] = ba[g * 2 * r + j];
          gate[t * Hv + g * r + j] = ba[g * 2 * r + r + j];
        }
    }
  }
  // Step 2: log-decay gamma = softplus(alpha + dt_bias) * ssm_a (<= 0)
  for (int t = 0; t < n; ++t)
    for (int hh = 0; hh < Hv; ++hh) {
      float& g = gate[t * Hv + hh];
      g = softplus(g + L.dt_bias[hh]) * L.ssm_a[hh];
    }

  // The conv output overwrites its input (the kernels read a token's inputs
  // before writing its outputs), so the layer needs one [n][CD] buffer, not two.
  float* const conv = qkv;
  float* o = ws.o.data();
  const float scale = 1.0f / std::sqrt(float(dk));
  const int64_t conv_floats = int64_t(Kc - 1) * CD;
  for (const Segment& seg : ub.segments) {
    RecurrentStateView st = mem.recurrent(il, seg.seq);
    const RecurrentCheckpoints cp = mem.checkpoints(il, seg.seq);
    float* const ckpt = cp.base && seg.len <= cp.max_steps ? cp.base : nullptr;
    if (ckpt) save_conv_checkpoints(qkv + int64_t(seg.start) * CD, st.conv, CD, Kc - 1, seg.len, ckpt, cp.stride);
    // Step 3: causal conv over this segment's tokens, then SiLU.
    Conv1dArgs ca;
    ca.state = st.conv;
    ca.weight = L.conv1d;
    ca.x = qkv + int64_t(seg.start) * CD;
    ca.x_stride = CD;
    ca.y = conv + int64_t(seg.start) * CD;
    ca.y_stride = CD;
    ca.n_tokens = seg.len;
    ca.channels = CD;
    ca.kc = Kc;
    pool.parallel_for(CD, [&](int64_t c0, int64_t c1) {
      conv1d_causal(ca, c0, c1);
      for (int t = 0; t < seg.len; ++t) {
        float* row = ca.y + t * CD;
        silu_inplace(row + c0, c1 - c0);
      }
    });
    // Step 4: L2-normalise q and k of every key head (in place), tokens over the threads.
    pool.parallel_for(seg.len, [&](int64_t t0, int64_t t1) {
      for (int64_t t = seg.start + t0; t < seg.start + t1; ++t) {
        float* row = conv + t * CD;
        for (int kh = 0; kh < 2 * Hk; ++kh) l2_norm(row + int64_t(kh) * dk, row + int64_t(kh) * dk, dk, hp.eps);
      }
    });
    // Step 5: the gated delta rule, value heads in parallel.
    pool.parallel_for(Hv, [&](int64_t h0, int64_t h1) {
      for (int64_t hh = h0; hh < h1; ++hh) {
        const int kh = L.head_map == HeadMap::Grouped ? int(hh / r) : int(hh % Hk);
        DeltaNetHeadArgs a;
        a.state = st.ssm + hh * int64_t(dk) * dv;
        a.q = conv + int64_t(seg.start) * CD + int64_t(kh) * dk;
        a.k = conv + int64_t(seg.start) * CD + KD + int64_t(kh) * dk;
        a.qk_stride = CD;
        a.v = conv + int64_t(seg.start) * CD + 2 * KD + hh * dv;
        a.v_stride = CD;
        a.g = gate + int64_t(seg.start) * Hv + hh;
        a.b = beta + int64_t(seg.start) * Hv + hh;
        a.gb_stride = Hv;
        a.out = o + int64_t(seg.start) * VD + hh * dv;
        a.out_stride = VD;
        a.n_tokens = seg.len;
        a.dk = dk;
        a.dv = dv;
        a.scale = scale;
        if (ckpt) {
          a.checkpoints = ckpt + conv_floats + hh * int64_t(dk) * dv;
          a.checkpoint_stride = cp.stride;
        }
        // Prefill segments take the chunked form (fewer passes over the state);
        // decode steps and speculative verify batches (<= kRecurrentMaxTokens per
        // sequence) and checkpointed segments keep the recurrent kernel, so their
        // bits equal one-token steps.
        if (!a.checkpoints && seg.len > kRecurrentMaxTokens)
          delta_net_chunked(a, kDeltaNetChunk);
        else
          delta_net_recurrent(a);
      }
    });
  }
  // Step 6: gated RMSNorm per head (shared dv weight), times SiLU(z); tokens over the threads.
  pool.parallel_for(n, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t)
      for (int hh = 0; hh < Hv; ++hh) {
        float* oh = o + t * VD + int64_t(hh) * dv;
        const float* zh = z + t * VD + int64_t(hh) * dv;
        rms_norm(oh, L.ssm_norm, oh, dv, hp.eps);
        mul_silu(oh, zh, dv);
      }
  });
  observe(ws, il, "ssm_out", o, n, L.ssm_out.cols);
  matmul(L.ssm_out, o, n, ws.y.data(), pool, ws.mm);
}

}  // namespace dllm
