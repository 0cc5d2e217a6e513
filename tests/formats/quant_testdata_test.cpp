// The row kernels against the reference's own files (../shared/testdata):
//  - quantizing the f32 model reproduces the F16, BF16 and Q8_0 files byte
//    for byte;
//  - every tensor of every file dequantizes bit-exactly like an independent
//    numpy decoder (tests/scripts/dequant_ref.py);
//  - dequantized weights are close to their f32 source.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <sstream>
#include <vector>

#include "formats/ggml_type.h"
#include "formats/gguf.h"
#include "util/fp16.h"
#include "support/test_support.h"

namespace dllm {
namespace {

std::vector<float> dequant_tensor(const GgufFile& f, const GgufTensorInfo& t) {
  const int64_t ne0 = t.ne[0], rows = t.n_elements() / ne0;
  const size_t rb = row_bytes(t.ggml_type(), ne0);
  std::vector<float> out(size_t(t.n_elements()));
  const uint8_t* p = f.tensor_data(t);
  for (int64_t r = 0; r < rows; ++r) dequantize_row(t.ggml_type(), p + r * rb, out.data() + r * ne0, ne0);
  return out;
}

// Same as dequant_ref.py: sum_i bits_i * (i * 0x9E3779B97F4A7C15 | 1) mod 2^64.
uint64_t checksum(const std::vector<float>& x) {
  uint64_t h = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    uint32_t bits;
    std::memcpy(&bits, &x[i], 4);
    h += uint64_t(bits) * ((uint64_t(i) * 0x9E3779B97F4A7C15ull) | 1u);
  }
  return h;
}

TEST(QuantTestdata, QuantizeReproducesReferenceFiles) {
  std::string td;
  DLLM_REQUIRE_TESTDATA(td);
  const auto src = GgufFile::open(td + "/qwen35-tiny-f32.gguf");
  for (const char* sib : {"F16", "BF16", "Q8_0"}) {
    const auto dst = GgufFile::open(td + "/qwen35-tiny-" + std::string(sib) + ".gguf");
    int quantized = 0, kept = 0;
    for (const GgufTensorInfo& t : dst->tensors()) {
      const GgufTensorInfo* s = src->find_tensor(t.name);
      ASSERT_NE(s, nullptr) << t.name;
      ASSERT_EQ(s->type, 0u) << t.name;
      ASSERT_EQ(s->n_elements(), t.n_elements()) << t.name;
      const int64_t ne0 = t.ne[0], rows = t.n_elements() / ne0;
      const size_t rb = row_bytes(t.ggml_type(), ne0);
      ASSERT_EQ(t.nbytes, rb * size_t(rows)) << t.name;
      std::vector<uint8_t> mine(rb * size_t(rows));
      const float* x = reinterpret_cast<const float*>(src->tensor_data(*s));
      for (int64_t r = 0; r < rows; ++r) quantize_row(t.ggml_type(), x + r * ne0, mine.data() + r * rb, ne0);
      const uint8_t* theirs = dst->tensor_data(t);
      if (std::memcmp(mine.data(), theirs, mine.size()) != 0) {
        size_t i = 0;
        while (mine[i] == theirs[i]) ++i;
        FAIL() << sib << ": tensor " << t.name << " (" << type_label(t.type) << ") differs at byte " << i
               << ": ours " << int(mine[i]) << ", reference " << int(theirs[i]);
      }
      (t.type == 0 ? kept : quantized)++;
    }
    std::printf("%s: %d tensors quantized identically, %d kept F32\n", sib, quantized, kept);
    EXPECT_GT(quantized, 20) << sib;
  }
}

struct RefLine {
  std::string type;
  int64_t n;
  std::string sum;
};

// file -> tensor name -> line, for all files in one python run.
std::map<std::string, std::map<std::string, RefLine>> run_numpy(const std::vector<std::string>& paths) {
  std::vector<std::string> argv = {"/usr/bin/python3", std::string(DELTALLM_SOURCE_DIR) + "/tests/scripts/dequant_ref.py"};
  argv.insert(argv.end(), paths.begin(), paths.end());
  const auto r = test::run_cmd(argv);
  EXPECT_EQ(r.status, 0) << r.err;
  std::map<std::string, std::map<std::string, RefLine>> out;
  std::istringstream in(r.out);
  std::string line, file = paths.size() == 1 ? paths[0] : "";
  while (std::getline(in, line)) {
    if (line.rfind("== ", 0) == 0) {
      file = line.substr(3);
      continue;
    }
    std::istringstream ls(line);
    std::string name;
    RefLine l;
    std::getline(ls, name, '\t');
    ls >> l.type >> l.n >> l.sum;
    out[file][name] = l;
  }
  return out;
}

// ik's types on random blocks (sane fp16 / f32 scales, every other bit
// random: every sub-scale, codebook and sign bit pattern) in a file of our
// own, decoded by both sides. (Their reference-made files: below.)
TEST(QuantTestdata, IkTypesMatchNumpyOnRandomBlocks) {
  std::mt19937 rng(2024);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> ex(-14.0f, -4.0f);
  auto scale = [&] { return std::exp2(ex(rng)) * (byte(rng) & 1 ? 1.0f : -1.0f); };
  GgufWriter w;
  w.set("general.architecture", GgufValue::str("none"));
  struct Spec {
    const char* name;
    GgmlType type;
    int64_t ne0, rows;
  };
  const Spec specs[] = {{"iq4_k", GgmlType::IQ4_K, 512, 3},   {"iq4_ks", GgmlType::IQ4_KS, 768, 5},
                        {"q6_0", GgmlType::Q6_0, 96, 4},      {"iq2_k", GgmlType::IQ2_K, 512, 3},
                        {"iq3_k", GgmlType::IQ3_K, 512, 3},   {"iq5_k", GgmlType::IQ5_K, 512, 3},
                        {"iq6_k", GgmlType::IQ6_K, 512, 3},   {"iq2_ks", GgmlType::IQ2_KS, 768, 5},
                        {"iq3_ks", GgmlType::IQ3_KS, 768, 5}, {"iq5_ks", GgmlType::IQ5_KS, 768, 5},
                        {"iq4_kss", GgmlType::IQ4_KSS, 768, 5}, {"iq2_kl", GgmlType::IQ2_KL, 768, 5}};
  for (const Spec& sp : specs) {
    const TypeTraits& tt = *type_traits(sp.type);
    const size_t rb = row_bytes(sp.type, sp.ne0);
    std::vector<uint8_t> data(rb * size_t(sp.rows));
    for (uint8_t& b : data) b = uint8_t(byte(rng));
    for (int64_t r = 0; r < sp.rows; ++r) {
      uint8_t* row = data.data() + size_t(r) * rb;
      if (tt.row_meta_bytes == 4) {
        const float d = scale();
        std::memcpy(row, &d, 4);
      } else if (tt.row_meta_bytes == 2) {
        const uint16_t h = f32_to_f16(scale());
        std::memcpy(row, &h, 2);
      } else {  // an fp16 d first in every block
        for (int64_t b = 0; b < sp.ne0 / tt.block_elems; ++b) {
          const uint16_t h = f32_to_f16(scale());
          std::memcpy(row + b * tt.block_bytes, &h, 2);
        }
      }
    }
    w.add_tensor(sp.name, sp.type, {sp.ne0, sp.rows}, std::move(data));
  }
  const std::string path = test::temp_path("ik_types.gguf");
  w.write(path);
  const auto ref = run_numpy({path}).at(path);
  const auto f = GgufFile::open(path);
  for (const Spec& sp : specs) {
    const GgufTensorInfo* t = f->find_tensor(sp.name);
    ASSERT_NE(t, nullptr);
    ASSERT_EQ(ref.count(sp.name), 1u) << sp.name;
    EXPECT_EQ(ref.at(sp.name).type, type_traits(sp.type)->name);
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(checksum(dequant_tensor(*f, *t))));
    EXPECT_EQ(ref.at(sp.name).sum, hex) << sp.name;
  }
}

// The reference-quantized files of ik's types (../shared/testdata/types, one
// type per file): every tensor decodes bit-exactly like numpy, and close to
// the f32 source (loose bounds per bit width, as below).
TEST(QuantTestdata, IkTypeFilesMatchNumpyAndSource) {
  std::string td;
  DLLM_REQUIRE_TESTDATA(td);
  const std::map<std::string, double> bound = {
      {"Q6_0", 0.03},   {"IQ6_K", 0.04},   {"IQ5_K", 0.06},  {"IQ5_KS", 0.06}, {"IQ4_KSS", 0.15},
      {"IQ3_K", 0.22},  {"IQ3_KS", 0.22},  {"IQ2_K", 0.4},   {"IQ2_KS", 0.4},  {"IQ2_KL", 0.4}};
  std::vector<std::string> paths;
  for (const auto& [name, b] : bound) paths.push_back(td + "/types/qwen35-tiny-" + name + ".gguf");
  const auto refs = run_numpy(paths);
  const auto src = GgufFile::open(td + "/qwen35-tiny-f32.gguf");
  size_t i = 0;
  for (const auto& [name, b] : bound) {
    const std::string& path = paths[i++];
    const auto f = GgufFile::open(path);
    ASSERT_EQ(refs.count(path), 1u) << path;
    const auto& ref = refs.at(path);
    double worst = 0;
    int typed = 0;
    for (const GgufTensorInfo& t : f->tensors()) {
      ASSERT_EQ(ref.count(t.name), 1u) << name << " " << t.name;
      ASSERT_EQ(ref.at(t.name).type, type_traits(t.type)->name) << t.name;
      const std::vector<float> a = dequant_tensor(*f, t);
      char hex[17];
      std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(checksum(a)));
      EXPECT_EQ(ref.at(t.name).sum, hex) << name << " " << t.name;
      if (t.type == 0) continue;
      EXPECT_EQ(type_traits(t.type)->name, name) << t.name;
      ++typed;
      const GgufTensorInfo* s = src->find_tensor(t.name);
      ASSERT_NE(s, nullptr);
      const std::vector<float> x = dequant_tensor(*src, *s);
      double num = 0, den = 0;
      for (size_t k = 0; k < a.size(); ++k) {
        num += (double(a[k]) - x[k]) * (double(a[k]) - x[k]);
        den += double(x[k]) * x[k];
      }
      worst = std::max(worst, std::sqrt(num / den));
    }
    EXPECT_EQ(typed, 33) << name;
    EXPECT_LT(worst, b) << name;
    EXPECT_GT(worst, b / 40) << name << ": suspiciously exact";
    std::printf("%-7s worst relative L2 error %.4f\n", name.c_str(), worst);
  }
}

TEST(QuantTestdata, DequantizeMatchesNumpyBitExactly) {
  std::string td;
  DLLM_REQUIRE_TESTDATA(td);
  std::map<std::string, int> by_type;
  int files = 0;
  std::vector<std::string> paths;
  for (const auto& e : std::filesystem::directory_iterator(td))
    if (e.path().extension() == ".gguf") paths.push_back(e.path().string());
  const auto refs = run_numpy(paths);
  for (const std::string& path : paths) {
    const std::filesystem::path e(path);
    const auto f = GgufFile::open(path);
    ASSERT_EQ(refs.count(path), 1u) << path;
    const auto& ref = refs.at(path);
    ASSERT_EQ(ref.size(), f->tensors().size()) << path;
    for (const GgufTensorInfo& t : f->tensors()) {
      const auto it = ref.find(t.name);
      ASSERT_NE(it, ref.end()) << path << " " << t.name;
      ASSERT_EQ(it->second.type, type_traits(t.type)->name) << t.name;
      ASSERT_EQ(it->second.n, t.n_elements()) << t.name;
      char hex[17];
      std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(checksum(dequant_tensor(*f, t))));
      EXPECT_EQ(it->second.sum, hex) << e.filename() << " " << t.name << " (" << type_label(t.type)
                                     << "): run tests/scripts/dequant_ref.py FILE --dump NAME OUT to compare";
      by_type[type_traits(t.type)->name]++;
    }
    ++files;
  }
  std::printf("%d files;", files);
  for (const auto& [name, n] : by_type) std::printf(" %s:%d", name.c_str(), n);
  std::printf("\n");
  EXPECT_GE(files, 20);
  for (const char* t : {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K",
                        "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS"})
    EXPECT_GT(by_type[t], 0) << t << " not covered by the test data";
}

// Relative L2 error of the dequantized weights against the f32 source, per
// file: a sanity check that decoding (and the test data) make sense. The
// bounds are loose multiples of what each bit width gives on Gaussian data.
TEST(QuantTestdata, DequantizedCloseToSource) {
  std::string td;
  DLLM_REQUIRE_TESTDATA(td);
  const auto src = GgufFile::open(td + "/qwen35-tiny-f32.gguf");
  const std::map<std::string, double> bound = {
      {"F16", 1e-3},  {"BF16", 5e-3}, {"Q8_0", 0.01}, {"Q6_K", 0.03},  {"Q5_0", 0.07},
      {"Q5_1", 0.06}, {"Q5_K", 0.06}, {"Q4_0", 0.12}, {"Q4_1", 0.11},  {"Q4_K", 0.11},
      {"IQ4_NL", 0.11}, {"IQ4_XS", 0.11}, {"Q3_K", 0.22}, {"Q2_K", 0.4}, {"Q4_K_M", 0.11}};
  for (const auto& [name, b] : bound) {
    const auto f = GgufFile::open(td + "/qwen35-tiny-" + name + ".gguf");
    double worst = 0;
    for (const GgufTensorInfo& t : f->tensors()) {
      if (t.type == 0) continue;
      const GgufTensorInfo* s = src->find_tensor(t.name);
      ASSERT_NE(s, nullptr);
      const std::vector<float> a = dequant_tensor(*f, t), x = dequant_tensor(*src, *s);
      double num = 0, den = 0;
      for (size_t i = 0; i < a.size(); ++i) {
        num += (double(a[i]) - x[i]) * (double(a[i]) - x[i]);
        den += double(x[i]) * x[i];
      }
      worst = std::max(worst, std::sqrt(num / den));
    }
    EXPECT_LT(worst, b) << name;
    EXPECT_GT(worst, b / 40) << name << ": suspiciously exact";
    std::printf("%-7s worst relative L2 error %.4f\n", name.c_str(), worst);
  }
}

}  // namespace
}  // namespace dllm
