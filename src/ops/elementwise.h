// Norms, activations and small element-wise kernels in the exact numeric form
// of the reference (models.md §3.0, kernels.md §4.7).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace dllm {

// exp(x) to about 1 ulp: Cephes' expf polynomial after a two-part ln 2
// reduction, the power of two added to the exponent bits. Inputs below
// ln(FLT_MIN) give FLT_MIN (not a subnormal or 0), above ln(FLT_MAX) +inf;
// NaN stays NaN. The SIMD kernels (mixer_simd_impl.h, exp_v) run the same
// operations per lane, so a value has the same bits in a vector, in a tail
// or here.
inline constexpr float kExpLo = -87.33654f, kExpHi = 88.72283f;
inline float exp_fast(float x) {
  if (std::isnan(x)) return x;
  const float xc = std::min(std::max(x, kExpLo), kExpHi);
  const float n = std::nearbyint(xc * 1.44269504f);
  float r = std::fma(n, -0.693359375f, xc);
  r = std::fma(n, 2.12194440e-4f, r);
  float p = 1.9875691500e-4f;
  p = std::fma(p, r, 1.3981999507e-3f);
  p = std::fma(p, r, 8.3334519073e-3f);
  p = std::fma(p, r, 4.1665795894e-2f);
  p = std::fma(p, r, 1.6666665459e-1f);
  p = std::fma(p, r, 5.0000001201e-1f);
  p = std::fma(p, r * r, r) + 1.0f;
  uint32_t bits;
  std::memcpy(&bits, &p, 4);
  bits += uint32_t(int32_t(n)) << 23;
  std::memcpy(&p, &bits, 4);
  return x > kExpHi ? INFINITY : p;
}

inline float silu(float x) { return x / (1.0f + exp_fast(-x)); }
inline float sigmoid(float x) { return 1.0f / (1.0f + exp_fast(-x)); }
// Threshold 20 like PyTorch / ggml; logf(1+expf(x)) like ggml (not log1p).
inline float softplus(float x) { return x > 20.0f ? x : std::log(1.0f + std::exp(x)); }

// y[i] = x[i] * w[i] / sqrt(mean(x^2) + eps); the sum of squares in double as
// the reference CPU does. y may alias x. w may be null (no weight).
void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps);
// Applies rms_norm to `rows` rows of n elements: x, y [rows][stride].
void rms_norm_rows(const float* x, const float* w, float* y, int64_t rows, int64_t n, int64_t stride, float eps);
// y = x / max(||x||_2, eps), sum in double. y may alias x.
void l2_norm(const float* x, float* y, int64_t n, float eps);

// Vectorised activations over n floats (the fastest kernel set this CPU has;
// the same bits as the scalar silu / sigmoid / exp_fast above).
void silu_mul(float* gate, const float* up, int64_t n);  // gate[i] = silu(gate[i]) * up[i]
void silu_inplace(float* x, int64_t n);                  // x[i] = silu(x[i])
void mul_silu(float* o, const float* z, int64_t n);      // o[i] *= silu(z[i])
void mul_sigmoid(float* o, const float* g, int64_t n);   // o[i] *= sigmoid(g[i])
void exp_shifted(float* x, int64_t n, float shift);      // x[i] = exp_fast(x[i] - shift)

// out[i] += a[i] for n elements.
void add_inplace(float* out, const float* a, int64_t n);

}  // namespace dllm
