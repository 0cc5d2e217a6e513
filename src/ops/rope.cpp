#include "ops/rope.h"

#include <cmath>

namespace dllm {

void rope_cache(const RopeParams& p, int64_t pos, float* cos_sin) {
  const float theta_scale = std::pow(p.freq_base, -2.0f / float(p.n_rot));
  float theta = float(pos) * p.freq_scale;
  for (int i = 0; i < p.n_rot / 2; ++i) {
    cos_sin[2 * i] = std::cos(theta);
    cos_sin[2 * i + 1] = std::sin(theta);
    theta *= theta_scale;
  }
}

void rope_neox(float* x, int n_heads, int head_dim, int n_rot, const float* cos_sin) {
  const int half = n_rot / 2;
  for (int h = 0; h < n_heads; ++h) {
    float* v = x + int64_t(h) * head_dim;
    for (int i = 0; i < half; ++i) {
      const float c = cos_sin[2 * i], s = cos_sin[2 * i + 1];
      const float x0 = v[i], x1 = v[i + half];
      v[i] = x0 * c - x1 * s;
      v[i + half] = x0 * s + x1 * c;
    }
  }
}

}  // namespace dllm
