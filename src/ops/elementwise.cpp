#include "ops/elementwise.h"

namespace dllm {

namespace {

// Sum of squares in double, in four interleaved partial sums (fixed order, so
// the same bits on every machine; the compiler can keep them in vectors).
double sum_squares(const float* x, int64_t n) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += double(x[i]) * double(x[i]);
    s1 += double(x[i + 1]) * double(x[i + 1]);
    s2 += double(x[i + 2]) * double(x[i + 2]);
    s3 += double(x[i + 3]) * double(x[i + 3]);
  }
  for (; i < n; ++i) s0 += double(x[i]) * double(x[i]);
  return (s0 + s1) + (s2 + s3);
}

}  // namespace

void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps) {
  const double sum = sum_squares(x, n);
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
  const double sum = sum_squares(x, n);
  const float norm = std::sqrt(float(sum));
  const float scale = 1.0f / (norm > eps ? norm : eps);
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale;
}

void add_inplace(float* out, const float* a, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] += a[i];
}

}  // namespace dllm
