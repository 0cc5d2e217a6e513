#include "ops/attention.h"
#include "ops/elementwise.h"

#include <algorithm>
#include <cmath>

#include "ops/mixer_kernels.h"
#include "util/fp16.h"

namespace dllm {

namespace {
inline float load(const void* base, int64_t idx, bool f16) {
  return f16 ? f16_to_f32(static_cast<const uint16_t*>(base)[idx]) : static_cast<const float*>(base)[idx];
}
}  // namespace

void attention_one(const float* q, int n_heads, int n_kv_heads, int head_dim, const KvRows& kv, int64_t n_kv,
                   float scale, float* out, float* scores, int h_begin, int h_end) {
  mixer_kernels().attention(q, n_heads, n_kv_heads, head_dim, kv, n_kv, scale, out, scores, h_begin, h_end);
}

float softmax_exp(float* scores, int64_t n) {
  float mx = -INFINITY;
  for (int64_t s = 0; s < n; ++s) mx = std::max(mx, scores[s]);
  exp_shifted(scores, n, mx);
  double sum = 0.0;
  for (int64_t s = 0; s < n; ++s) sum += scores[s];
  return float(1.0 / sum);
}

void attention_one_ref(const float* q, int n_heads, int n_kv_heads, int head_dim, const KvRows& kv, int64_t n_kv,
                       float scale, float* out, float* scores, int h_begin, int h_end) {
  const int group = n_heads / n_kv_heads;
  const int64_t row = int64_t(n_kv_heads) * head_dim;
  for (int h = h_begin; h < h_end; ++h) {
    const int kvh = h / group;
    const float* qh = q + int64_t(h) * head_dim;
    for (int64_t s = 0; s < n_kv; ++s) {
      const int64_t base = s * row + int64_t(kvh) * head_dim;
      float dot = 0.0f;
      for (int d = 0; d < head_dim; ++d) dot += qh[d] * load(kv.k, base + d, kv.f16);
      scores[s] = dot * scale;
    }
    const float inv = softmax_exp(scores, n_kv);
    float* oh = out + int64_t(h) * head_dim;
    std::fill(oh, oh + head_dim, 0.0f);
    for (int64_t s = 0; s < n_kv; ++s) {
      const float w = scores[s] * inv;
      const int64_t base = s * row + int64_t(kvh) * head_dim;
      for (int d = 0; d < head_dim; ++d) oh[d] += w * load(kv.v, base + d, kv.f16);
    }
  }
}

}  // namespace dllm
