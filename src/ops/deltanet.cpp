#include "ops/deltanet.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "ops/elementwise.h"
#include "ops/mixer_kernels.h"

namespace dllm {

void delta_net_recurrent(const DeltaNetHeadArgs& a) { mixer_kernels().delta_net(a); }

void conv1d_causal(const Conv1dArgs& a, int64_t c_begin, int64_t c_end) {
  mixer_kernels().conv1d(a, c_begin, c_end);
}

void delta_net_recurrent_ref(const DeltaNetHeadArgs& a, int v_begin, int v_end) {
  const int dk = a.dk, dv = a.dv;
  if (v_begin >= v_end) return;
  // Scratch indexed by value column; on the stack for the common head sizes.
  float p_buf[256], sq_buf[256], u_buf[256];
  std::vector<float> heap;
  float *p = p_buf, *sq = sq_buf, *u = u_buf;
  if (dv > 256) {
    heap.resize(size_t(dv) * 3);
    p = heap.data();
    sq = p + dv;
    u = sq + dv;
  }
  float* S = a.state;
  for (int t = 0; t < a.n_tokens; ++t) {
    const float* q = a.q + t * a.qk_stride;
    const float* k = a.k + t * a.qk_stride;
    const float* v = a.v + t * a.v_stride;
    const float beta = sigmoid(a.b[t * a.gb_stride]);
    const float alpha = std::exp(std::min(a.g[t * a.gb_stride], 50.0f));
    std::fill(p + v_begin, p + v_end, 0.0f);
    std::fill(sq + v_begin, sq + v_end, 0.0f);
    float kq = 0.0f;
    for (int c = 0; c < dk; ++c) {
      const float kc = k[c], qc = q[c];
      kq += kc * qc;
      const float* row = S + int64_t(c) * dv;
      for (int r = v_begin; r < v_end; ++r) {
        p[r] += row[r] * kc;
        sq[r] += row[r] * qc;
      }
    }
    float* o = a.out + t * a.out_stride;
    const float ba = beta * alpha, as = alpha * a.scale, kqs = kq * a.scale;
    for (int r = v_begin; r < v_end; ++r) {
      u[r] = beta * v[r] - ba * p[r];
      o[r] = as * sq[r] + kqs * u[r];
    }
    for (int c = 0; c < dk; ++c) {
      float* row = S + int64_t(c) * dv;
      const float kc = k[c];
      for (int r = v_begin; r < v_end; ++r) row[r] = std::clamp(alpha * row[r] + kc * u[r], -1e6f, 1e6f);
    }
    if (a.checkpoints)
      for (int c = 0; c < dk; ++c)
        std::memcpy(a.checkpoints + t * a.checkpoint_stride + int64_t(c) * dv + v_begin, S + int64_t(c) * dv + v_begin,
                    sizeof(float) * size_t(v_end - v_begin));
  }
}

void conv1d_causal_ref(const Conv1dArgs& a, int64_t c_begin, int64_t c_end) {
  const int kc = a.kc, ns = kc - 1;
  float win[16];
  for (int64_t c = c_begin; c < c_end; ++c) {
    float* st = a.state + c * ns;
    const float* w = a.weight + c * kc;
    for (int j = 0; j < ns; ++j) win[j] = st[j];
    for (int t = 0; t < a.n_tokens; ++t) {
      win[ns] = a.x[t * a.x_stride + c];
      float acc = 0.0f;
      for (int j = 0; j < kc; ++j) acc += w[j] * win[j];
      a.y[t * a.y_stride + c] = acc;
      for (int j = 0; j < ns; ++j) win[j] = win[j + 1];
    }
    for (int j = 0; j < ns; ++j) st[j] = win[j];
  }
}

}  // namespace dllm
