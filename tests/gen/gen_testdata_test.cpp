// Generated models against the reference files of ../shared/testdata: the
// same metadata keys with the same GGUF types (values where they define the
// shape), the same tensor names, shapes and types, and weights of the same
// scale.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <set>

#include "formats/gguf.h"
#include "gen/model_generator.h"
#include "support/test_support.h"

namespace dllm::gen {
namespace {

// Keys whose values are free (names, the vocabulary itself); every other
// key defines the model and must match in value too.
bool value_is_free(const std::string& key) {
  static const std::set<std::string> free = {
      "general.name",           "tokenizer.ggml.tokens",           "tokenizer.ggml.token_type",
      "tokenizer.ggml.merges",  "tokenizer.ggml.eos_token_id",     "tokenizer.ggml.padding_token_id",
      "tokenizer.ggml.bos_token_id", "tokenizer.chat_template"};
  return free.count(key) != 0;
}

std::string describe_type(const GgufValue& v) {
  std::string s = gguf_type_name(v.type);
  if (v.type == GgufType::ARRAY) s += std::string("[") + gguf_type_name(v.elem_type) + "]";
  return s;
}

void compare_files(const GgufFile& gen, const GgufFile& ref) {
  std::set<std::string> gk, rk;
  for (const auto& kv : gen.metadata()) gk.insert(kv.key);
  for (const auto& kv : ref.metadata()) rk.insert(kv.key);
  EXPECT_EQ(gk, rk);
  for (const auto& kv : ref.metadata()) {
    const GgufValue* g = gen.find(kv.key);
    if (!g) continue;
    EXPECT_EQ(describe_type(*g), describe_type(kv.value)) << kv.key;
    if (!value_is_free(kv.key)) {
      EXPECT_TRUE(*g == kv.value) << kv.key;
    }
  }
  // The vocabulary fills the embedding rows exactly.
  EXPECT_EQ(gen.get_array("tokenizer.ggml.tokens")->items.size(), ref.get_array("tokenizer.ggml.tokens")->items.size());

  ASSERT_EQ(gen.tensors().size(), ref.tensors().size());
  for (size_t i = 0; i < ref.tensors().size(); ++i) {
    const GgufTensorInfo& g = gen.tensors()[i];
    const GgufTensorInfo& r = ref.tensors()[i];
    EXPECT_EQ(g.name, r.name);
    EXPECT_EQ(g.n_dims, r.n_dims) << r.name;
    for (int d = 0; d < 4; ++d) EXPECT_EQ(g.ne[d], r.ne[d]) << r.name << " dim " << d;
    EXPECT_EQ(g.type, r.type) << r.name;
    EXPECT_EQ(g.offset, r.offset) << r.name;  // same sizes in the same order
  }
}

struct Moments {
  double mean, sd;
};
Moments moments(const GgufFile& f, const GgufTensorInfo& t) {
  const float* x = reinterpret_cast<const float*>(f.tensor_data(t));
  double s = 0, q = 0;
  const int64_t n = t.n_elements();
  for (int64_t i = 0; i < n; ++i) s += x[i], q += double(x[i]) * x[i];
  const double m = s / double(n);
  return {m, std::sqrt(std::max(0.0, q / double(n) - m * m))};
}

TEST(GenVsTestdata, TinyF32AllArchs) {
  std::string td;
  DLLM_REQUIRE_TESTDATA(td);
  int compared = 0;
  for (const char* arch : {"qwen35", "qwen35moe", "qwen3next"}) {
    SCOPED_TRACE(arch);
    GenOptions o;
    o.arch = arch;
    o.preset = "tiny";
    const std::string path = test::temp_path(std::string("td-") + arch + ".gguf");
    generate_model(o, path);
    auto gen = GgufFile::open(path);
    auto ref = GgufFile::open(td + "/" + arch + "-tiny-f32.gguf");
    compare_files(*gen, *ref);
    // Weights of the same scale (the test data's residual std is 0.004).
    for (const auto& r : ref->tensors()) {
      const GgufTensorInfo* g = gen->find_tensor(r.name);
      if (!g || r.name.find("ssm_a") != std::string::npos || r.name.find("ssm_dt") != std::string::npos) continue;
      const Moments mg = moments(*gen, *g), mr = moments(*ref, r);
      // Tolerances: five standard errors of the sample moments of n values.
      const double n = double(r.n_elements());
      EXPECT_NEAR(mg.mean, mr.mean, 5 * mr.sd * std::sqrt(2 / n) + 1e-4) << r.name;
      EXPECT_NEAR(mg.sd, mr.sd, mr.sd * (0.05 + 5 / std::sqrt(2 * n))) << r.name;
    }
    ++compared;
  }
  std::printf("compared %d generated tiny models with the test data\n", compared);
}

TEST(GenVsTestdata, SmallF32) {
  std::string td;
  DLLM_REQUIRE_TESTDATA(td);
  GenOptions o;
  o.preset = "small";
  const std::string path = test::temp_path("td-small.gguf");
  generate_model(o, path);
  compare_files(*GgufFile::open(path), *GgufFile::open(td + "/qwen35-small-f32.gguf"));
}

// The dtype rule: which tensors take --dtype and which stay F32, as in the
// "pure" files of the test data.
TEST(GenVsTestdata, DtypeSiblings) {
  std::string td;
  DLLM_REQUIRE_TESTDATA(td);
  struct Case {
    const char* arch;
    GgmlType t;
    const char* file;
  };
  for (const Case& c : {Case{"qwen35", GgmlType::F16, "qwen35-tiny-F16.gguf"},
                        Case{"qwen35", GgmlType::BF16, "qwen35-tiny-BF16.gguf"},
                        Case{"qwen35", GgmlType::Q8_0, "qwen35-tiny-Q8_0.gguf"},
                        Case{"qwen35moe", GgmlType::Q8_0, "qwen35moe-tiny-Q8_0.gguf"},
                        Case{"qwen3next", GgmlType::Q8_0, "qwen3next-tiny-Q8_0.gguf"}}) {
    SCOPED_TRACE(c.file);
    GenOptions o;
    o.arch = c.arch;
    o.dtype = c.t;
    const std::string path = test::temp_path(std::string("td-") + c.file);
    generate_model(o, path);
    compare_files(*GgufFile::open(path), *GgufFile::open(td + "/" + c.file));
  }
}

}  // namespace
}  // namespace dllm::gen
