// The gated delta rule of one value head over T tokens, recurrent form
// (kernels.md §4.3, the reference's ordering):
//   beta = sigmoid(b_t), alpha = exp(min(g_t, 50))
//   p = S^T k, s_q = S^T q        (old state)
//   u = beta*v - beta*alpha*p
//   o = (alpha*scale)*s_q + (scale*(k.q))*u
//   S = clamp(alpha*S + k u^T, -1e6, 1e6)
// The state S is [dk][dv], value index contiguous.
#pragma once
#include <cmath>
#include <cstdint>

namespace dllm {

struct DeltaNetHeadArgs {
  float* state = nullptr;      // [dk][dv], updated in place
  const float* q = nullptr;    // token t at q + t*qk_stride, dk values (L2-normalised)
  const float* k = nullptr;    // token t at k + t*qk_stride, dk values (L2-normalised)
  int64_t qk_stride = 0;
  const float* v = nullptr;    // token t at v + t*v_stride, dv values
  int64_t v_stride = 0;
  const float* g = nullptr;    // log-decay of token t at g[t*gb_stride] (<= 0)
  const float* b = nullptr;    // raw beta of token t at b[t*gb_stride]
  int64_t gb_stride = 0;
  float* out = nullptr;        // token t at out + t*out_stride, dv values
  int64_t out_stride = 0;
  int n_tokens = 0;
  int dk = 0;
  int dv = 0;
  float scale = 1.0f;          // 1/sqrt(dk)
  // Optional per-step checkpoints: the state after token t (t < n_tokens) is
  // copied to checkpoints + t*checkpoint_stride.
  float* checkpoints = nullptr;
  int64_t checkpoint_stride = 0;
};

// The fastest kernel this CPU has (AVX-512 / AVX2 / portable, chosen once).
// SIMD kernels tile the state by value columns (kernels.md §5.6: columns are
// independent), keep a tile in L1 across the token loop and fuse token t's
// update with token t+1's reads; results agree with the reference to float
// rounding, and a batch gives bit for bit the same as its tokens one by one.
void delta_net_recurrent(const DeltaNetHeadArgs& a);
// The plain reference: value columns [v_begin, v_end) only (state columns,
// output columns and checkpoints outside the range are left alone).
void delta_net_recurrent_ref(const DeltaNetHeadArgs& a, int v_begin, int v_end);

// The same rule in the chunked (WY / UT) form of kernels.md §5, for prefill:
// the tokens are cut into chunks of `chunk` (the last one may be shorter);
// within a chunk the state-independent parts (cumulative log-decay, Gram
// matrices, T = (I+A)^-1 by forward substitution) are computed once, and the
// state enters only through three small GEMMs per chunk:
//   U = T*diag(beta)*(V - diag(Gamma)*K*H),  O = scale*(diag(Gamma)*Q*H + (M.QK^T)*U),
//   H = clamp(Gamma_C*H + (diag(exp(gamma_C - gamma))*K)^T*U, -1e6, 1e6).
// Same inputs, outputs and state as delta_net_recurrent up to float rounding
// (~1e-6 relative), except that the +-1e6 state clamp is applied at chunk
// boundaries only (it differs only if a state genuinely explodes). Any dk,
// dv. Refuses per-step checkpoints (dllm::Error: callers that need them use
// delta_net_recurrent) and chunk < 1. A call whose gates are not all <= 0
// (never the case for Qwen: g = -exp(A)*softplus(.)) or has a NaN gate runs
// the recurrent kernel instead: the chunked decays exp(gamma_r - gamma_s)
// are only bounded by 1 when g <= 0 (§5.5).
// Scratch lives in per-thread buffers that grow once; no allocation per call
// after the first at a given size.
void delta_net_chunked(const DeltaNetHeadArgs& a, int chunk);
// exp(x) of a chunk's log-decay difference x <= 0, 0 below kDecayCutoff:
// e^-60 = 9e-27 times a state clamped at 1e6 cannot show in a float output,
// and it keeps subnormals (slow on some CPUs) out of the GEMMs.
inline constexpr double kDecayCutoff = -60.0;
inline float chunk_decay(double x) { return x < kDecayCutoff ? 0.0f : std::exp(float(x)); }
// The plain (portable, auto-vectorisable) form: value columns [v_begin,
// v_end) only, like delta_net_recurrent_ref.
void delta_net_chunked_ref(const DeltaNetHeadArgs& a, int chunk, int v_begin, int v_end);

// Depthwise causal conv1d over the channels of one sequence (models.md §3.2
// step 3), no bias, SiLU not applied here:
//   window_c = [state_c[0..Kc-2], x_t[c]],  y_t[c] = sum_j w[c][j] * window_c[j]
// state [channels][Kc-1] (oldest first) is updated to the last Kc-1 inputs.
struct Conv1dArgs {
  float* state = nullptr;       // [channels][kc-1]
  const float* weight = nullptr;  // [channels][kc]
  const float* x = nullptr;     // token t at x + t*x_stride, channels values (y == x is allowed:
                                // each token's inputs are read before its outputs are written)
  int64_t x_stride = 0;
  float* y = nullptr;           // token t at y + t*y_stride
  int64_t y_stride = 0;
  int n_tokens = 0;
  int64_t channels = 0;
  int kc = 0;
};
// Processes channels [c_begin, c_end) (for splitting over threads) with the
// fastest kernel this CPU has; conv1d_causal_ref is the plain reference.
void conv1d_causal(const Conv1dArgs& a, int64_t c_begin, int64_t c_end);
void conv1d_causal_ref(const Conv1dArgs& a, int64_t c_begin, int64_t c_end);

}  // namespace dllm
