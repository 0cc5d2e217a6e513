// Norms, activations and small element-wise kernels in the exact numeric form
// of the reference (models.md §3.0, kernels.md §4.7).
#pragma once
#include <cmath>
#include <cstdint>

namespace dllm {

inline float silu(float x) { return x / (1.0f + std::exp(-x)); }
inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
// Threshold 20 like PyTorch / ggml; logf(1+expf(x)) like ggml (not log1p).
inline float softplus(float x) { return x > 20.0f ? x : std::log(1.0f + std::exp(x)); }

// y[i] = x[i] * w[i] / sqrt(mean(x^2) + eps); the sum of squares in double as
// the reference CPU does. y may alias x. w may be null (no weight).
void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps);
// Applies rms_norm to `rows` rows of n elements: x, y [rows][stride].
void rms_norm_rows(const float* x, const float* w, float* y, int64_t rows, int64_t n, int64_t stride, float eps);
// y = x / max(||x||_2, eps), sum in double. y may alias x.
void l2_norm(const float* x, float* y, int64_t n, float eps);

// out[i] += a[i] for n elements.
void add_inplace(float* out, const float* a, int64_t n);

}  // namespace dllm
