// matmul() on the real weights of the reference files (every type in
// ../shared/testdata): every kernel set against the dequantize-and-dot
// oracle, decode and prefill shapes, and against the f32 source weights.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "formats/gguf.h"
#include "ops/matmul/matmul.h"
#include "support/test_support.h"
#include "util/thread_pool.h"

namespace dllm {
namespace {

WeightView view_of(const GgufFile& f, const GgufTensorInfo& t) {
  WeightView w;
  w.type = t.ggml_type();
  w.cols = t.ne[0];
  w.rows = t.n_elements() / t.ne[0];
  w.data = f.tensor_data(t);
  w.row_stride = row_bytes(w.type, w.cols);
  return w;
}

TEST(MatmulTestdata, RealWeightsEverySet) {
  std::string td;
  DLLM_REQUIRE_TESTDATA(td);
  ThreadPool pool(2);
  MatmulScratch scratch;
  std::mt19937 rng(11);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const auto src = GgufFile::open(td + "/qwen35-tiny-f32.gguf");
  int compared = 0;
  // Relative L2 error of the product against the f32 weights: the weight
  // rounding of each type (see quant_testdata_test) plus ~0.5% from int8
  // activations, with margin.
  const std::pair<const char*, double> kTypes[] = {
      {"F16", 1e-3},   {"BF16", 6e-3},  {"Q8_0", 0.015}, {"Q4_0", 0.13},  {"Q4_1", 0.12},
      {"Q5_0", 0.075}, {"Q5_1", 0.07},  {"Q2_K", 0.4},   {"Q3_K", 0.23},  {"Q4_K", 0.12},
      {"Q5_K", 0.07},  {"Q6_K", 0.035}, {"IQ4_NL", 0.12}, {"IQ4_XS", 0.12}};
  for (const auto& [q, bound] : kTypes) {
    const auto f = GgufFile::open(td + "/qwen35-tiny-" + std::string(q) + ".gguf");
    // Two matrices per file: a square-ish projection and the FFN down projection.
    for (const char* name : {"blk.3.attn_q.weight", "blk.0.ffn_down.weight"}) {
      const GgufTensorInfo* t = f->find_tensor(name);
      ASSERT_NE(t, nullptr) << name;
      const WeightView W = view_of(*f, *t);
      const WeightView S = view_of(*src, *src->find_tensor(name));
      for (int64_t M : {1, 9}) {
        std::vector<float> x(size_t(M * W.cols));
        for (float& v : x) v = nd(rng);
        std::vector<float> ref(size_t(M * W.rows)), y(ref.size()), exact(ref.size());
        matmul_reference(W, x.data(), M, W.cols, ref.data(), W.rows);
        matmul_reference(S, x.data(), M, W.cols, exact.data(), W.rows);
        double ref_scale = 0, num = 0, den = 0;
        for (size_t i = 0; i < ref.size(); ++i) {
          ref_scale = std::max(ref_scale, double(std::fabs(ref[i])));
          num += (double(ref[i]) - exact[i]) * (double(ref[i]) - exact[i]);
          den += double(exact[i]) * exact[i];
        }
        // The quantized product stays near the f32 one (weight + activation rounding).
        EXPECT_LT(std::sqrt(num / den), bound) << q << " " << name;
        for (MatmulIsa isa : {MatmulIsa::Portable, MatmulIsa::Avx2, MatmulIsa::Avx512}) {
          if (!matmul_isa_available(isa)) continue;
          matmul_isa(isa, W, x.data(), M, W.cols, y.data(), W.rows, pool, scratch);
          for (size_t i = 0; i < y.size(); ++i)
            ASSERT_NEAR(y[i], ref[i], 2e-5 * ref_scale) << q << " " << name << " " << matmul_isa_name(isa)
                                                         << " M=" << M << " i=" << i;
          ++compared;
        }
      }
    }
  }
  std::printf("%d comparisons\n", compared);
}

}  // namespace
}  // namespace dllm
