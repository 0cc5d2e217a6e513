// Partial NEOX rotary embedding (models.md §3.3 step 4): only the first n_rot
// dims of a head rotate, pairing i with i + n_rot/2. For text, qwen35's
// IMROPE with positions (p,p,p,0) is exactly this.
#pragma once
#include <cstdint>

namespace dllm {

struct RopeParams {
  int n_rot = 0;             // rotated dims per head (even)
  float freq_base = 10000.0f;
  float freq_scale = 1.0f;   // 1 / rope.scaling.factor (linear scaling)
};

// Fills cos_sin[2*i], cos_sin[2*i+1] (i < n_rot/2) for position pos the way
// ggml does: theta_i = pos * freq_scale * ts^i with ts = base^(-2/n_rot),
// accumulated by repeated float multiplication.
void rope_cache(const RopeParams& p, int64_t pos, float* cos_sin);

// Rotates n_heads heads of head_dim elements in x (head h at x + h*head_dim).
void rope_neox(float* x, int n_heads, int head_dim, int n_rot, const float* cos_sin);

}  // namespace dllm
