// Generated models: round trip through the GGUF writer and reader, value
// conversion per dtype against independent conversions, weight statistics,
// determinism, the variants (MTP, tied, fused gate/up, fused qwen3next input)
// and the rejected option combinations.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <set>

#include "formats/gguf.h"
#include "gen/model_generator.h"
#include "support/test_support.h"
#include "util/error.h"
#include "util/fp16.h"

namespace dllm::gen {
namespace {

using test::temp_path;

GenOptions make_opts(const std::string& arch, const std::string& preset, GgmlType dtype = GgmlType::F32,
                     uint64_t seed = 0) {
  GenOptions o;
  o.arch = arch;
  o.preset = preset;
  o.dtype = dtype;
  o.seed = seed;
  return o;
}

std::string gen_file(const GenOptions& o, const std::string& tag) {
  const std::string path = temp_path(tag + ".gguf");
  generate_model(o, path);
  return path;
}

std::vector<int64_t> ne_of(const GgufTensorInfo& t) { return std::vector<int64_t>(t.ne, t.ne + t.n_dims); }

std::vector<float> f32_values(const GgufFile& f, const std::string& name) {
  const GgufTensorInfo* t = f.find_tensor(name);
  EXPECT_NE(t, nullptr) << name;
  if (!t) return {};
  EXPECT_EQ(t->ggml_type(), GgmlType::F32) << name;
  std::vector<float> v(size_t(t->n_elements()));
  std::memcpy(v.data(), f.tensor_data(*t), v.size() * 4);
  return v;
}

const uint8_t* row_ptr(const GgufFile& f, const GgufTensorInfo& t, int64_t row) {
  return f.tensor_data(t) + size_t(row) * row_bytes(t.ggml_type(), t.ne[0]);
}

// ---------------------------------------------------------------- round trip

struct RoundTripCase {
  const char* arch;
  const char* preset;
  GgmlType dtype;
};

class RoundTrip : public ::testing::TestWithParam<RoundTripCase> {};

// generate -> write -> read: the file holds exactly the planned metadata and
// the bytes generate_tensor() makes in memory.
TEST_P(RoundTrip, FileMatchesPlan) {
  const auto c = GetParam();
  GenOptions o = make_opts(c.arch, c.preset, c.dtype, 11);
  const std::string path = gen_file(o, std::string("rt-") + c.arch + "-" + c.preset);
  auto f = GgufFile::open(path);
  const ModelPlan plan = plan_model(o);

  ASSERT_EQ(f->metadata().size(), plan.metadata.size());
  for (size_t i = 0; i < plan.metadata.size(); ++i) {
    EXPECT_EQ(f->metadata()[i].key, plan.metadata[i].key);
    EXPECT_TRUE(f->metadata()[i].value == plan.metadata[i].value) << plan.metadata[i].key;
  }
  ASSERT_EQ(f->tensors().size(), plan.tensors.size());
  for (size_t i = 0; i < plan.tensors.size(); ++i) {
    const TensorPlan& p = plan.tensors[i];
    const GgufTensorInfo& t = f->tensors()[i];
    EXPECT_EQ(t.name, p.name);
    EXPECT_EQ(t.ggml_type(), p.type) << p.name;
    EXPECT_EQ(ne_of(t), p.ne) << p.name;
    ASSERT_EQ(t.nbytes, p.nbytes()) << p.name;
    const std::vector<uint8_t> bytes = generate_tensor(p, o.seed);
    ASSERT_EQ(bytes.size(), t.nbytes);
    EXPECT_EQ(std::memcmp(bytes.data(), f->tensor_data(t), bytes.size()), 0) << p.name;
  }
  std::remove(path.c_str());
}

std::vector<RoundTripCase> round_trip_cases() {
  std::vector<RoundTripCase> v;
  for (const char* arch : {"qwen35", "qwen35moe", "qwen3next"})
    for (const char* preset : {"tiny", "small"})
      for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0}) v.push_back({arch, preset, t});
  return v;
}

INSTANTIATE_TEST_SUITE_P(AllArchsPresetsDtypes, RoundTrip, ::testing::ValuesIn(round_trip_cases()),
                         [](const auto& info) {
                           return std::string(info.param.arch) + "_" + info.param.preset + "_" +
                                  type_traits(info.param.dtype)->name;
                         });

// ------------------------------------------------------ dtype conversions

// Q8_0 written independently of the library (kernels.md: d = amax/127,
// id = 1/d, q = round half away from zero, d stored as F16).
std::vector<uint8_t> ref_q8_0(const float* x, int64_t n) {
  std::vector<uint8_t> out;
  for (int64_t b = 0; b < n; b += 32) {
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[b + j]));
    const float d = amax / 127.0f;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    const uint16_t dh = f32_to_f16(d);
    out.push_back(uint8_t(dh & 0xFF));
    out.push_back(uint8_t(dh >> 8));
    for (int j = 0; j < 32; ++j) out.push_back(uint8_t(int8_t(std::round(x[b + j] * id))));
  }
  return out;
}

// The same seed gives the same values in every dtype: F16/BF16/Q8_0 files are
// conversions of the F32 file, and exactly the tensors the test data keeps
// in F32 stay F32.
TEST(Dtype, ConvertsTheSameValues) {
  for (const char* arch : {"qwen35", "qwen3next"}) {
    auto f32 = GgufFile::open(gen_file(make_opts(arch, "tiny", GgmlType::F32, 5), std::string("dt-f32-") + arch));
    for (GgmlType dt : {GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0}) {
      auto q = GgufFile::open(gen_file(make_opts(arch, "tiny", dt, 5), std::string("dt-q-") + arch));
      ASSERT_EQ(q->tensors().size(), f32->tensors().size());
      for (size_t i = 0; i < q->tensors().size(); ++i) {
        const GgufTensorInfo& tq = q->tensors()[i];
        const GgufTensorInfo& tf = f32->tensors()[i];
        ASSERT_EQ(tq.name, tf.name);
        const bool keep_f32 = tq.n_dims == 1 || tq.name.find("ssm_conv1d") != std::string::npos ||
                              tq.name.find("ffn_gate_inp") != std::string::npos;
        EXPECT_EQ(tq.ggml_type(), keep_f32 ? GgmlType::F32 : dt) << tq.name;
        const float* x = reinterpret_cast<const float*>(f32->tensor_data(tf));
        const int64_t n = tf.n_elements();
        std::vector<uint8_t> expect;
        if (keep_f32) {
          expect.assign(f32->tensor_data(tf), f32->tensor_data(tf) + n * 4);
        } else if (dt == GgmlType::Q8_0) {
          expect = ref_q8_0(x, n);
        } else {
          for (int64_t k = 0; k < n; ++k) {
            const uint16_t h = dt == GgmlType::F16 ? f32_to_f16(x[k]) : f32_to_bf16(x[k]);
            expect.push_back(uint8_t(h & 0xFF));
            expect.push_back(uint8_t(h >> 8));
          }
        }
        ASSERT_EQ(expect.size(), tq.nbytes) << tq.name;
        EXPECT_EQ(std::memcmp(expect.data(), q->tensor_data(tq), expect.size()), 0) << tq.name << " " << type_traits(dt)->name;
      }
    }
  }
}

TEST(Dtype, FileTypeKey) {
  const std::map<GgmlType, uint32_t> want = {
      {GgmlType::F32, 0}, {GgmlType::F16, 1}, {GgmlType::Q8_0, 7}, {GgmlType::BF16, 32}};
  for (const auto& [t, ft] : want) {
    const ModelPlan p = plan_model(make_opts("qwen35", "tiny", t));
    EXPECT_EQ(p.metadata[3].key, "general.file_type");
    EXPECT_EQ(p.metadata[3].value.u, ft);
  }
}

// ------------------------------------------------------ weight statistics

struct Stats {
  double mean = 0, sd = 0, min = 1e30, max = -1e30;
  bool finite = true;
};
Stats stats(const std::vector<float>& v) {
  Stats s;
  double sum = 0, sq = 0;
  for (float x : v) {
    if (!std::isfinite(x)) s.finite = false;
    sum += x, sq += double(x) * x;
    s.min = std::min<double>(s.min, x), s.max = std::max<double>(s.max, x);
  }
  s.mean = sum / double(v.size());
  s.sd = std::sqrt(std::max(0.0, sq / double(v.size()) - s.mean * s.mean));
  return s;
}

bool ends_with(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

// Scales that keep activations finite: norms near 1, ssm_a negative, small
// residual-writing projections, 0.02 elsewhere.
TEST(Weights, ScalesLikeTheTestData) {
  for (const char* arch : {"qwen35", "qwen35moe", "qwen3next"}) {
    auto f = GgufFile::open(gen_file(make_opts(arch, "tiny"), std::string("stats-") + arch));
    for (const GgufTensorInfo& t : f->tensors()) {
      const Stats s = stats(f32_values(*f, t.name));
      SCOPED_TRACE(std::string(arch) + " " + t.name);
      EXPECT_TRUE(s.finite);
      if (ends_with(t.name, "ssm_a")) {
        EXPECT_LT(s.max, -1.0 + 1e-6);
        EXPECT_GE(s.min, -16.0);
      } else if (ends_with(t.name, "ssm_dt.bias")) {
        EXPECT_GE(s.min, -6.0);
        EXPECT_LT(s.max, -2.5);
      } else if (ends_with(t.name, "ssm_conv1d.weight")) {
        EXPECT_GE(s.min, -0.5);
        EXPECT_LT(s.max, 0.5);
        EXPECT_NEAR(s.sd, 1.0 / std::sqrt(12.0), 0.02);
      } else if (ends_with(t.name, "norm.weight")) {
        EXPECT_NEAR(s.mean, 1.0, 0.02);
        EXPECT_NEAR(s.sd, 0.05, 0.012);
        EXPECT_GT(s.min, 0.75);
      } else {
        const bool residual = t.name.find("attn_output") != std::string::npos ||
                              t.name.find("ssm_out") != std::string::npos ||
                              t.name.find("ffn_down") != std::string::npos;
        const double want = residual ? 0.004 : 0.02;
        EXPECT_NEAR(s.mean, 0.0, want * 0.5);
        EXPECT_NEAR(s.sd, want, want * (t.n_elements() >= 4096 ? 0.05 : 0.2));
        EXPECT_LE(s.max, want * 3.47);
        EXPECT_GE(s.min, -want * 3.47);
      }
    }
  }
}

// ------------------------------------------------------ determinism

TEST(Determinism, SameSeedSameBytesAnyThreadCount) {
  GenOptions a = make_opts("qwen35moe", "tiny", GgmlType::Q8_0, 42);
  a.n_threads = 1;
  GenOptions b = a;
  b.n_threads = 2;
  EXPECT_EQ(test::read_file(gen_file(a, "det-a")), test::read_file(gen_file(b, "det-b")));
}

TEST(Determinism, SeedChangesWeightsOnly) {
  auto f0 = GgufFile::open(gen_file(make_opts("qwen35", "tiny", GgmlType::F32, 0), "seed0"));
  auto f1 = GgufFile::open(gen_file(make_opts("qwen35", "tiny", GgmlType::F32, 1), "seed1"));
  ASSERT_EQ(f0->metadata().size(), f1->metadata().size());
  for (size_t i = 0; i < f0->metadata().size(); ++i)
    EXPECT_TRUE(f0->metadata()[i].value == f1->metadata()[i].value) << f0->metadata()[i].key;
  for (size_t i = 0; i < f0->tensors().size(); ++i) {
    const auto& t = f0->tensors()[i];
    EXPECT_NE(std::memcmp(f0->tensor_data(t), f1->tensor_data(f1->tensors()[i]), t.nbytes), 0) << t.name;
  }
}

// ------------------------------------------------------ layout

TEST(Layout, LayerPatternAndArchTensors) {
  for (const char* arch : {"qwen35", "qwen35moe", "qwen3next"}) {
    const ModelPlan p = plan_model(make_opts(arch, "tiny"));
    std::set<std::string> names;
    for (const auto& t : p.tensors) names.insert(t.name);
    const bool next = std::string(arch) == "qwen3next", moe = std::string(arch) != "qwen35";
    for (int il = 0; il < 4; ++il) {
      const std::string b = "blk." + std::to_string(il) + ".";
      const bool rec = il != 3;
      EXPECT_EQ(names.count(b + "ssm_conv1d.weight"), rec ? 1u : 0u) << arch << il;
      EXPECT_EQ(names.count(b + "attn_qkv.weight"), rec ? 1u : 0u);
      EXPECT_EQ(names.count(b + "attn_k.weight"), rec ? 0u : 1u);
      EXPECT_EQ(names.count(b + "ssm_ba.weight"), rec && next ? 1u : 0u);
      EXPECT_EQ(names.count(b + "ssm_beta.weight"), rec && !next ? 1u : 0u);
      EXPECT_EQ(names.count(b + "ffn_gate_exps.weight"), moe ? 1u : 0u);
      EXPECT_EQ(names.count(b + "ffn_gate.weight"), moe ? 0u : 1u);
      EXPECT_EQ(names.count(b + "post_attention_norm.weight"), 1u);
    }
    EXPECT_EQ(names.count("output.weight"), 1u);
    bool has_sections = false;
    for (const auto& kv : p.metadata) has_sections |= ends_with(kv.key, ".rope.dimension_sections");
    EXPECT_EQ(has_sections, !next);
  }
  // small and the 0.8B preset are tied.
  for (const char* preset : {"small", "qwen35-0.8b"}) {
    const ModelPlan p = plan_model(make_opts("qwen35", preset));
    for (const auto& t : p.tensors) EXPECT_NE(t.name, "output.weight") << preset;
  }
}

const TensorPlan* find(const ModelPlan& p, const std::string& name) {
  for (const auto& t : p.tensors)
    if (t.name == name) return &t;
  return nullptr;
}

uint32_t meta_u32(const GgufFile& f, const std::string& key) { return f.require_u32(key); }

// ------------------------------------------------------ variants

TEST(Variants, MtpAddsLayersAndKeepsMainTensors) {
  for (const char* arch : {"qwen35", "qwen35moe"}) {
    GenOptions o = make_opts(arch, "tiny", GgmlType::Q8_0, 3);
    auto base = GgufFile::open(gen_file(o, std::string("mtp0-") + arch));
    o.mtp = 1;
    auto mtp = GgufFile::open(gen_file(o, std::string("mtp1-") + arch));
    const std::string A = arch;
    EXPECT_EQ(meta_u32(*mtp, A + ".block_count"), 5u);
    EXPECT_EQ(meta_u32(*mtp, A + ".nextn_predict_layers"), 1u);
    EXPECT_EQ(base->find(A + ".nextn_predict_layers"), nullptr);
    for (const auto& t : base->tensors()) {
      const GgufTensorInfo* m = mtp->find_tensor(t.name);
      ASSERT_NE(m, nullptr) << t.name;
      EXPECT_EQ(std::memcmp(base->tensor_data(t), mtp->tensor_data(*m), t.nbytes), 0) << t.name;
    }
    const int64_t E = 256;
    auto expect_ne = [&](const std::string& n, std::vector<int64_t> ne) {
      const GgufTensorInfo* t = mtp->find_tensor(n);
      ASSERT_NE(t, nullptr) << n;
      EXPECT_EQ(ne_of(*t), ne) << n;
    };
    expect_ne("blk.4.nextn.eh_proj.weight", {2 * E, E});
    expect_ne("blk.4.nextn.enorm.weight", {E});
    expect_ne("blk.4.nextn.hnorm.weight", {E});
    expect_ne("blk.4.nextn.shared_head_norm.weight", {E});
    expect_ne("blk.4.attn_q.weight", {E, 2 * 4 * 64});
    expect_ne("blk.4.attn_k.weight", {E, 2 * 64});
    expect_ne("blk.4.attn_q_norm.weight", {64});
    expect_ne("blk.4.post_attention_norm.weight", {E});
    if (A == "qwen35") {
      expect_ne("blk.4.ffn_down.weight", {512, E});
    } else {
      expect_ne("blk.4.ffn_gate_exps.weight", {E, 256, 8});
      expect_ne("blk.4.ffn_down_shexp.weight", {256, E});
    }
    EXPECT_EQ(mtp->find_tensor("blk.4.ssm_conv1d.weight"), nullptr);
    EXPECT_EQ(mtp->find_tensor("blk.4.nextn.eh_proj.weight")->ggml_type(), GgmlType::Q8_0);
    EXPECT_EQ(mtp->find_tensor("blk.4.nextn.enorm.weight")->ggml_type(), GgmlType::F32);
  }
}

TEST(Variants, TiedDropsOutputOnly) {
  GenOptions o = make_opts("qwen3next", "tiny", GgmlType::F16, 9);
  const ModelPlan untied = plan_model(o);
  o.tied = true;
  auto f = GgufFile::open(gen_file(o, "tied"));
  EXPECT_EQ(f->find_tensor("output.weight"), nullptr);
  EXPECT_EQ(f->tensors().size(), untied.tensors.size() - 1);
  const auto* te = f->find_tensor("token_embd.weight");
  ASSERT_NE(te, nullptr);
  const auto bytes = generate_tensor(*find(untied, "token_embd.weight"), 9);
  EXPECT_EQ(std::memcmp(bytes.data(), f->tensor_data(*te), bytes.size()), 0);
}

// Fused experts hold the rows of the split gate and up experts: the same model.
TEST(Variants, FusedGateUpIsTheSplitModel) {
  for (const char* arch : {"qwen35moe", "qwen3next"}) {
    GenOptions o = make_opts(arch, "tiny", GgmlType::Q8_0, 4);
    auto split = GgufFile::open(gen_file(o, std::string("gu-split-") + arch));
    o.fused_gate_up = true;
    auto fused = GgufFile::open(gen_file(o, std::string("gu-fused-") + arch));
    for (int il = 0; il < 4; ++il) {
      const std::string b = "blk." + std::to_string(il) + ".";
      EXPECT_EQ(fused->find_tensor(b + "ffn_gate_exps.weight"), nullptr);
      EXPECT_EQ(fused->find_tensor(b + "ffn_up_exps.weight"), nullptr);
      const GgufTensorInfo* gu = fused->find_tensor(b + "ffn_gate_up_exps.weight");
      const GgufTensorInfo* g = split->find_tensor(b + "ffn_gate_exps.weight");
      const GgufTensorInfo* u = split->find_tensor(b + "ffn_up_exps.weight");
      ASSERT_TRUE(gu && g && u);
      EXPECT_EQ(ne_of(*gu), (std::vector<int64_t>{256, 512, 8}));
      EXPECT_EQ(gu->ggml_type(), GgmlType::Q8_0);
      const int64_t Fe = 256;
      const size_t rb = row_bytes(GgmlType::Q8_0, 256);
      for (int64_t e = 0; e < 8; ++e)
        for (int64_t j = 0; j < Fe; ++j) {
          ASSERT_EQ(std::memcmp(row_ptr(*fused, *gu, e * 2 * Fe + j), row_ptr(*split, *g, e * Fe + j), rb), 0);
          ASSERT_EQ(std::memcmp(row_ptr(*fused, *gu, e * 2 * Fe + Fe + j), row_ptr(*split, *u, e * Fe + j), rb), 0);
        }
      // Everything else is unchanged.
      for (const auto& t : fused->tensors()) {
        if (t.name == b + "ffn_gate_up_exps.weight" || t.name.rfind(b, 0) != 0) continue;
        const GgufTensorInfo* s = split->find_tensor(t.name);
        ASSERT_NE(s, nullptr) << t.name;
        EXPECT_EQ(std::memcmp(fused->tensor_data(t), split->tensor_data(*s), t.nbytes), 0) << t.name;
      }
    }
  }
}

// qwen3next fused ssm_in = per key head [q_g | k_g | v_g | z_g] (models.md
// §2.4.1) made of the rows of the split attn_qkv and attn_gate.
TEST(Variants, Qwen3NextFusedInputIsTheSplitModel) {
  for (const char* preset : {"tiny", "small"}) {
    GenOptions o = make_opts("qwen3next", preset, GgmlType::F32, 8);
    auto split = GgufFile::open(gen_file(o, std::string("in-split-") + preset));
    o.qwen3next_input = "fused";
    auto fused = GgufFile::open(gen_file(o, std::string("in-fused-") + preset));
    const ModelShape s = preset_shape(Arch::Qwen3Next, preset);
    const int64_t dk = s.ssm_d_state, dv = s.ssm_head_v_dim, Hk = s.ssm_n_group, Hv = s.ssm_dt_rank, r = Hv / Hk;
    const int64_t KD = Hk * dk, VD = Hv * dv, E = s.n_embd;
    const size_t rb = size_t(E) * 4;
    for (int il = 0; il < 3; ++il) {
      const std::string b = "blk." + std::to_string(il) + ".";
      EXPECT_EQ(fused->find_tensor(b + "attn_qkv.weight"), nullptr);
      EXPECT_EQ(fused->find_tensor(b + "attn_gate.weight"), nullptr);
      ASSERT_NE(fused->find_tensor(b + "ssm_ba.weight"), nullptr);
      const GgufTensorInfo* in = fused->find_tensor(b + "ssm_in.weight");
      const GgufTensorInfo* qkv = split->find_tensor(b + "attn_qkv.weight");
      const GgufTensorInfo* z = split->find_tensor(b + "attn_gate.weight");
      ASSERT_TRUE(in && qkv && z);
      EXPECT_EQ(ne_of(*in), (std::vector<int64_t>{E, 2 * KD + 2 * VD}));
      const int64_t group = 2 * dk + 2 * r * dv;
      for (int64_t g = 0; g < Hk; ++g) {
        for (int64_t j = 0; j < dk; ++j) {
          EXPECT_EQ(std::memcmp(row_ptr(*fused, *in, g * group + j), row_ptr(*split, *qkv, g * dk + j), rb), 0);
          EXPECT_EQ(std::memcmp(row_ptr(*fused, *in, g * group + dk + j), row_ptr(*split, *qkv, KD + g * dk + j), rb), 0);
        }
        for (int64_t j = 0; j < r * dv; ++j) {
          EXPECT_EQ(std::memcmp(row_ptr(*fused, *in, g * group + 2 * dk + j),
                                row_ptr(*split, *qkv, 2 * KD + g * r * dv + j), rb), 0);
          EXPECT_EQ(std::memcmp(row_ptr(*fused, *in, g * group + 2 * dk + r * dv + j),
                                row_ptr(*split, *z, g * r * dv + j), rb), 0);
        }
      }
    }
  }
}

TEST(Variants, Qwen3NextDefaultInputIsSplit) {
  const ModelPlan p = plan_model(make_opts("qwen3next", "tiny"));
  EXPECT_NE(find(p, "blk.0.attn_qkv.weight"), nullptr);
  EXPECT_EQ(find(p, "blk.0.ssm_in.weight"), nullptr);
}

// The 0.8B preset and its MTP layer, planned only (generation is the slow test).
TEST(Variants, Qwen35_08bPlanShapes) {
  GenOptions o = make_opts("qwen35", "qwen35-0.8b", GgmlType::Q8_0);
  o.mtp = 1;
  const ModelPlan p = plan_model(o);
  auto ne = [&](const std::string& n) {
    const TensorPlan* t = find(p, n);
    EXPECT_NE(t, nullptr) << n;
    return t ? t->ne : std::vector<int64_t>{};
  };
  EXPECT_EQ(ne("token_embd.weight"), (std::vector<int64_t>{1024, 248320}));
  EXPECT_EQ(find(p, "output.weight"), nullptr);
  EXPECT_EQ(ne("blk.24.nextn.eh_proj.weight"), (std::vector<int64_t>{2048, 1024}));
  EXPECT_EQ(ne("blk.24.attn_q.weight"), (std::vector<int64_t>{1024, 4096}));
  EXPECT_EQ(ne("blk.24.ffn_up.weight"), (std::vector<int64_t>{1024, 3584}));
  EXPECT_EQ(find(p, "blk.25.attn_norm.weight"), nullptr);
  for (const auto& kv : p.metadata) {
    if (kv.key == "qwen35.block_count") {
      EXPECT_EQ(kv.value.u, 25u);
    }
    if (kv.key == "qwen35.nextn_predict_layers") {
      EXPECT_EQ(kv.value.u, 1u);
    }
  }
}

// ------------------------------------------------------ rejected options

void expect_error(const GenOptions& o, const std::string& what) {
  try {
    plan_model(o);
    ADD_FAILURE() << "no error; expected: " << what;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
  }
}

TEST(Options, BadCombinationsAreRejected) {
  GenOptions o = make_opts("qwen3next", "tiny");
  o.mtp = 1;
  expect_error(o, "qwen3next files have no MTP layers");
  o = make_opts("qwen35", "tiny");
  o.mtp = -1;
  expect_error(o, "--mtp must be between 0 and 16");
  o = make_opts("qwen35", "tiny");
  o.fused_gate_up = true;
  expect_error(o, "--fused-gate-up needs a MoE architecture");
  o = make_opts("qwen35moe", "tiny");
  o.qwen3next_input = "fused";
  expect_error(o, "--qwen3next-input is only for --arch qwen3next");
  o = make_opts("qwen3next", "tiny");
  o.qwen3next_input = "both";
  expect_error(o, "unknown --qwen3next-input 'both'");
  expect_error(make_opts("qwen35moe", "qwen35-0.8b"), "preset qwen35-0.8b is a qwen35 model");
  expect_error(make_opts("qwen3next", "qwen35-0.8b"), "preset qwen35-0.8b is a qwen35 model");
  expect_error(make_opts("qwen35", "huge"), "unknown preset 'huge'");
  expect_error(make_opts("llama", "tiny"), "unknown architecture 'llama'");
  o = make_opts("qwen35", "tiny");
  o.use_custom_shape = true;
  o.custom_shape.ssm_dt_rank = 3;  // not a multiple of 2 key heads
  expect_error(o, "time_step_rank is not a multiple of group_count");
  o.custom_shape = ModelShape{};
  o.custom_shape.n_vocab = 100;
  expect_error(o, "vocabulary size 100 is too small");
  o.custom_shape = ModelShape{};
  o.custom_shape.n_embd = 48;  // not a multiple of the Q8_0 block
  o.dtype = GgmlType::Q8_0;
  expect_error(o, "needs rows that are a multiple of 32");
}

TEST(Options, CustomShape) {
  GenOptions o = make_opts("qwen35", "tiny", GgmlType::F32, 2);
  o.use_custom_shape = true;
  o.custom_shape.n_layer = 8;
  o.custom_shape.ssm_dt_rank = 6;
  o.residual_std = 0.006f;
  const ModelPlan p = plan_model(o);
  EXPECT_NE(find(p, "blk.7.attn_k.weight"), nullptr);
  EXPECT_NE(find(p, "blk.6.ssm_conv1d.weight"), nullptr);
  EXPECT_EQ(find(p, "blk.0.ssm_beta.weight")->ne, (std::vector<int64_t>{256, 6}));
  EXPECT_FLOAT_EQ(find(p, "blk.0.ssm_out.weight")->b, 0.006f);
}

}  // namespace
}  // namespace dllm::gen
