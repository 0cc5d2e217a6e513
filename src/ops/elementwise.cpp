#include "ops/elementwise.h"

namespace dllm {

void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += double(x[i]) * double(x[i]);
  const float mean = float(sum / double(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  if (w) {
    for (int64_t i = 0; i < n; ++i) y[i] = scale * w[i] * x[i];
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = scale * x[i];
  }
}

void rms_norm_rows(const float* x, const float* w, float* y, int64_t rows, int64_t n, int64_t stride, float eps) {
  for (int64_t r = 0; r < rows; ++r) rms_norm(x + r * stride, w, y + r * stride, n, eps);
}

void l2_norm(const float* x, float* y, int64_t n, float eps) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += double(x[i]) * double(x[i]);
  const float norm = std::sqrt(float(sum));
  const float scale = 1.0f / (norm > eps ? norm : eps);
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale;
}

void add_inplace(float* out, const float* a, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] += a[i];
}

}  // namespace dllm
