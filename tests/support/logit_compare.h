// Comparisons of logit matrices [rows][n_vocab] used by the model tests, in
// the terms of ../shared/testdata/README.md (tolerances).
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

namespace dllm::test {

struct LogitStats {
  double max_abs_diff = 0;   // max |a - b|
  double max_abs_ref = 0;    // max |ref|
  double mean_kl = 0;        // mean over rows of KL(softmax(ref) || softmax(ours))
  double min_corr = 1;       // lowest Pearson correlation of a row
  int rows_corr_below_099 = 0;
  int argmax_mismatch = 0;   // rows whose argmax differs although the ref top-two gap > 2*bound
  double rel() const { return max_abs_ref > 0 ? max_abs_diff / max_abs_ref : max_abs_diff; }
};

inline LogitStats compare_logits(const float* ref, const float* ours, int64_t rows, int64_t n_vocab,
                                 double argmax_bound_rel = 1e-3) {
  LogitStats s;
  for (int64_t i = 0; i < rows * n_vocab; ++i) {
    s.max_abs_diff = std::max(s.max_abs_diff, double(std::fabs(ref[i] - ours[i])));
    s.max_abs_ref = std::max(s.max_abs_ref, double(std::fabs(ref[i])));
  }
  const double bound = argmax_bound_rel * s.max_abs_ref;
  double kl_sum = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const float* a = ref + r * n_vocab;
    const float* b = ours + r * n_vocab;
    double ma = -1e300, mb = -1e300;
    int64_t arg_a = 0, arg_b = 0;
    for (int64_t i = 0; i < n_vocab; ++i) {
      if (a[i] > ma) { ma = a[i]; arg_a = i; }
      if (b[i] > mb) { mb = b[i]; arg_b = i; }
    }
    double sa = 0, sb = 0;
    for (int64_t i = 0; i < n_vocab; ++i) {
      sa += std::exp(a[i] - ma);
      sb += std::exp(b[i] - mb);
    }
    const double la = std::log(sa), lb = std::log(sb);
    double kl = 0;
    for (int64_t i = 0; i < n_vocab; ++i) {
      const double lpa = a[i] - ma - la, lpb = b[i] - mb - lb;
      kl += std::exp(lpa) * (lpa - lpb);
    }
    kl_sum += kl;
    double mean_a = 0, mean_b = 0;
    for (int64_t i = 0; i < n_vocab; ++i) { mean_a += a[i]; mean_b += b[i]; }
    mean_a /= n_vocab;
    mean_b /= n_vocab;
    double cov = 0, va = 0, vb = 0;
    for (int64_t i = 0; i < n_vocab; ++i) {
      cov += (a[i] - mean_a) * (b[i] - mean_b);
      va += (a[i] - mean_a) * (a[i] - mean_a);
      vb += (b[i] - mean_b) * (b[i] - mean_b);
    }
    const double corr = cov / std::sqrt(va * vb + 1e-300);
    s.min_corr = std::min(s.min_corr, corr);
    if (corr < 0.99) s.rows_corr_below_099++;
    if (arg_a != arg_b) {
      double second = -1e300;
      for (int64_t i = 0; i < n_vocab; ++i)
        if (i != arg_a) second = std::max(second, double(a[i]));
      if (ma - second > 2 * bound) s.argmax_mismatch++;
    }
  }
  s.mean_kl = kl_sum / double(rows);
  return s;
}

}  // namespace dllm::test
