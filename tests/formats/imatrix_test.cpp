// formats/imatrix: the legacy .dat and the GGUF imatrix, written and read
// back identically; every kind of damage refused with a clear error; the
// reference's own file (testdata/types/qwen35-tiny.imatrix.dat) read.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>

#include "formats/gguf.h"
#include "formats/imatrix.h"
#include "support/test_support.h"
#include "util/error.h"

namespace dllm {
namespace {

Imatrix sample(ImatrixFormat f) {
  Imatrix m;
  m.format = f;
  m.datasets = {"prose.txt"};
  m.chunk_count = 7;
  if (f == ImatrixFormat::Gguf) m.chunk_size = 128;
  ImatrixEntry a, b;
  for (int i = 0; i < 48; ++i) a.values.push_back(0.25f * float(i) + 1e-3f);
  if (f == ImatrixFormat::Dat) {
    a.counts = {7};
    b.counts = {3};
    b.values = {1.5f, 2.5f, 0.0f, 4.0f};
  } else {
    a.counts = {224};
    b.counts = {10, 0, 3, 5};  // 4 experts of 2 columns, one without data
    b.values = {1, 2, 0, 0, 3, 4, 5, 6};
  }
  m.entries["blk.0.ffn_up.weight"] = a;
  m.entries["blk.1.ffn_down_exps.weight"] = b;
  return m;
}

std::string bytes_of(const std::string& path) { return test::read_file(path); }

void write_bytes(const std::string& path, const std::string& s) { test::write_file(path, s); }

std::string le32(int32_t v) {
  std::string s(4, '\0');
  std::memcpy(s.data(), &v, 4);
  return s;
}

// The message of the error read_imatrix throws for these bytes ("" if none).
std::string error_for(const std::string& name, const std::string& bytes) {
  const std::string p = test::temp_path(name);
  write_bytes(p, bytes);
  try {
    read_imatrix(p);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Imatrix, DatRoundTrip) {
  const Imatrix m = sample(ImatrixFormat::Dat);
  const std::string p = test::temp_path("rt.dat");
  write_imatrix_dat(m, p);
  const Imatrix r = read_imatrix(p);
  EXPECT_TRUE(r == m);
  // written again: the same bytes
  const std::string p2 = test::temp_path("rt2.dat");
  write_imatrix_dat(r, p2);
  EXPECT_EQ(bytes_of(p), bytes_of(p2));
  // mean squares undo the ncall scaling
  const std::vector<float> ms = r.entries.at("blk.1.ffn_down_exps.weight").mean_squares();
  EXPECT_FLOAT_EQ(ms[0], 0.5f);
  EXPECT_FLOAT_EQ(ms[3], 4.0f / 3.0f);
}

TEST(Imatrix, GgufRoundTrip) {
  const Imatrix m = sample(ImatrixFormat::Gguf);
  const std::string p = test::temp_path("rt.gguf");
  write_imatrix_gguf(m, p);
  const Imatrix r = read_imatrix(p);
  EXPECT_TRUE(r == m);
  const std::string p2 = test::temp_path("rt2.gguf");
  write_imatrix_gguf(r, p2);
  EXPECT_EQ(bytes_of(p), bytes_of(p2));
  // mainline's keys and tensor names and shapes
  auto f = GgufFile::open(p);
  EXPECT_EQ(f->get_str("general.type"), "imatrix");
  EXPECT_EQ(f->get_u32("imatrix.chunk_count"), 7u);
  EXPECT_EQ(f->get_u32("imatrix.chunk_size"), 128u);
  ASSERT_NE(f->get_array("imatrix.datasets"), nullptr);
  const GgufTensorInfo* s = f->find_tensor("blk.1.ffn_down_exps.weight.in_sum2");
  const GgufTensorInfo* c = f->find_tensor("blk.1.ffn_down_exps.weight.counts");
  ASSERT_TRUE(s && c);
  EXPECT_EQ(s->ne[0], 2);
  EXPECT_EQ(s->ne[1], 4);
  EXPECT_EQ(c->ne[0], 1);
  EXPECT_EQ(c->ne[1], 4);
  // an expert without data weighs uniformly
  const std::vector<float> ms = r.entries.at("blk.1.ffn_down_exps.weight").mean_squares();
  EXPECT_FLOAT_EQ(ms[0], 0.1f);
  EXPECT_FLOAT_EQ(ms[2], 1.0f);
  EXPECT_FLOAT_EQ(ms[4], 1.0f);
}

TEST(Imatrix, DatWithoutTrailerReads) {
  const Imatrix m = sample(ImatrixFormat::Dat);
  const std::string p = test::temp_path("trailer.dat");
  write_imatrix_dat(m, p);
  std::string b = bytes_of(p);
  b.resize(b.size() - 8 - 9);  // last_call, the name length and "prose.txt"
  const std::string q = test::temp_path("notrailer.dat");
  write_bytes(q, b);
  const Imatrix r = read_imatrix(q);
  EXPECT_EQ(r.entries, m.entries);
  EXPECT_TRUE(r.datasets.empty());
}

TEST(Imatrix, DamagedDatIsRefused) {
  const std::string p = test::temp_path("good.dat");
  write_imatrix_dat(sample(ImatrixFormat::Dat), p);
  const std::string good = bytes_of(p);
  // every truncation inside the entries or the trailer
  for (size_t n = 1; n < good.size(); ++n) {
    if (n == good.size() - 17) continue;  // exactly the entries without the trailer: valid
    const std::string e = error_for("cut.dat", good.substr(0, n));
    EXPECT_FALSE(e.empty()) << "cut at " << n;
  }
  EXPECT_NE(error_for("empty.dat", "").find("empty file"), std::string::npos);
  EXPECT_NE(error_for("n.dat", le32(2000000000) + good.substr(4)).find("entry count"), std::string::npos);
  EXPECT_NE(error_for("n0.dat", le32(0) + good.substr(4)).find("entry count"), std::string::npos);
  // entry 0: name length at 4, name (19 bytes) at 8, ncall at 27, nval at 31
  std::string b = good;
  std::memcpy(b.data() + 4, le32(-5).data(), 4);
  EXPECT_NE(error_for("len.dat", b).find("bad name length -5"), std::string::npos);
  b = good;
  std::memcpy(b.data() + 27, le32(-3).data(), 4);
  EXPECT_NE(error_for("neg.dat", b).find("negative call count -3"), std::string::npos);
  b = good;
  std::memcpy(b.data() + 31, le32(1 << 30).data(), 4);
  EXPECT_NE(error_for("nval.dat", b).find("value count 1073741824 needs 4294967296 bytes"), std::string::npos);
  std::memcpy(b.data() + 31, le32(0).data(), 4);
  EXPECT_NE(error_for("nval0.dat", b).find("bad value count 0"), std::string::npos);
  b = good;
  const float nan = NAN;
  std::memcpy(b.data() + 35, &nan, 4);
  EXPECT_NE(error_for("nan.dat", b).find("value 0 is nan"), std::string::npos);
  EXPECT_NE(error_for("tail.dat", good + "xyz").find("bytes after the end"), std::string::npos);
  // a duplicate name
  const std::string entry = good.substr(4, 4 + 19 + 8 + 48 * 4);
  EXPECT_NE(error_for("dup.dat", le32(2) + entry + entry).find("appears twice"), std::string::npos);
  try {
    read_imatrix(test::temp_path("does-not-exist.dat"));
    ADD_FAILURE() << "no error for a missing file";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open"), std::string::npos);
  }
}

TEST(Imatrix, DamagedGgufIsRefused) {
  // a model-like GGUF is not an imatrix
  {
    GgufWriter w;
    w.set("general.architecture", GgufValue::str("qwen35"));
    const float x[2] = {1, 2};
    w.add_tensor("blk.0.ffn_up.weight.in_sum2", GgmlType::F32, {2}, x, sizeof x);
    const std::string p = test::temp_path("model.gguf");
    w.write(p);
    try {
      read_imatrix(p);
      ADD_FAILURE();
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("not an imatrix"), std::string::npos) << e.what();
    }
  }
  const auto refused = [](const std::string& name, GgufWriter& w, const std::string& text) {
    const std::string p = test::temp_path(name);
    w.write(p);
    try {
      read_imatrix(p);
      ADD_FAILURE() << name << ": no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    }
  };
  const float sums[4] = {1, 2, 3, 4}, one = 1, neg = -2, two[2] = {1, 1};
  {
    GgufWriter w;
    w.set("general.type", GgufValue::str("imatrix"));
    w.add_tensor("a.weight.in_sum2", GgmlType::F32, {4}, sums, sizeof sums);
    refused("nocounts.gguf", w, "has no 'a.weight.counts'");
  }
  {
    GgufWriter w;
    w.set("general.type", GgufValue::str("imatrix"));
    w.add_tensor("a.weight.in_sum2", GgmlType::F32, {4}, sums, sizeof sums);
    w.add_tensor("a.weight.counts", GgmlType::F32, {1}, &neg, 4);
    refused("negcount.gguf", w, "count -2");
  }
  {
    GgufWriter w;
    w.set("general.type", GgufValue::str("imatrix"));
    w.add_tensor("a.weight.in_sum2", GgmlType::F32, {2, 2}, sums, sizeof sums);
    w.add_tensor("a.weight.counts", GgmlType::F32, {1}, &one, 4);
    refused("shape.gguf", w, "has shape [1, 1], expected [1, 2]");
  }
  {
    GgufWriter w;
    w.set("general.type", GgufValue::str("imatrix"));
    w.add_tensor("a.weight.in_sum2", GgmlType::F32, {2, 2}, sums, sizeof sums);
    w.add_tensor("a.weight.counts", GgmlType::F32, {1, 2}, two, sizeof two);
    w.add_tensor("stray", GgmlType::F32, {1}, &one, 4);
    refused("stray.gguf", w, "unexpected tensor 'stray'");
  }
  {
    GgufWriter w;
    w.set("general.type", GgufValue::str("imatrix"));
    refused("noentries.gguf", w, "without entries");
  }
  // a truncated GGUF imatrix: the GGUF reader's own error
  const std::string p = test::temp_path("ok.gguf");
  write_imatrix_gguf(sample(ImatrixFormat::Gguf), p);
  const std::string good = bytes_of(p);
  // (the last tensor, 4 counts, is followed by 16 bytes of alignment padding)
  for (size_t n : {size_t(5), size_t(40), good.size() / 2, good.size() - 17})
    EXPECT_FALSE(error_for("cut.gguf", good.substr(0, n)).empty()) << "cut at " << n;
}

// Random byte damage: an error or a valid read, never a crash (run under ASan).
TEST(Imatrix, RandomMutationsNeverCrash) {
  std::mt19937 rng(5);
  for (const bool gguf : {false, true}) {
    const std::string p = test::temp_path(gguf ? "mut.gguf" : "mut.dat");
    if (gguf) write_imatrix_gguf(sample(ImatrixFormat::Gguf), p);
    else write_imatrix_dat(sample(ImatrixFormat::Dat), p);
    const std::string good = bytes_of(p);
    for (int i = 0; i < 300; ++i) {
      std::string b = good;
      const int n = 1 + int(rng() % 4);
      for (int k = 0; k < n; ++k) b[rng() % b.size()] = char(rng() & 0xff);
      if (rng() % 4 == 0) b.resize(rng() % b.size());
      error_for(gguf ? "m.gguf" : "m.dat", b);  // must return (either way)
    }
  }
}

TEST(Imatrix, ReadsTheReferenceFile) {
  std::string td;
  DLLM_REQUIRE_TESTDATA(td);
  const std::string p = td + "/types/qwen35-tiny.imatrix.dat";
  if (!std::filesystem::exists(p)) GTEST_SKIP() << p << " is absent";
  const Imatrix m = read_imatrix(p);
  EXPECT_EQ(m.format, ImatrixFormat::Dat);
  EXPECT_EQ(m.entries.size(), 31u);
  EXPECT_EQ(m.chunk_count, 78);
  ASSERT_EQ(m.datasets.size(), 1u);
  EXPECT_EQ(m.datasets[0], "prose.txt");
  for (const auto& [name, e] : m.entries) {
    ASSERT_EQ(e.counts.size(), 1u) << name;
    EXPECT_EQ(e.counts[0], 78.0f) << name;
    const bool down = name.find("ffn_down") != std::string::npos;
    EXPECT_EQ(e.values.size(), down ? 512u : 256u) << name;
  }
  EXPECT_TRUE(m.entries.count("blk.0.attn_qkv.weight"));
  EXPECT_TRUE(m.entries.count("blk.3.attn_output.weight"));
  EXPECT_FALSE(m.entries.count("output.weight"));
}

}  // namespace
}  // namespace dllm
