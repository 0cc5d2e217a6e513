// A model split into several GGUF files (kernels.md §1.7) opens from its
// first file: the same tensors and bytes as the single file, the same logits
// bit for bit through the C API (weights mapped and copied), and every broken
// set is refused with one message that names the file and the problem.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "deltallm.h"
#include "formats/gguf.h"
#include "support/test_support.h"
#include "support/tiny_models.h"
#include "util/error.h"

namespace dllm {
namespace {

std::string shard_path(const std::string& prefix, int no, int count) {
  char b[32];
  std::snprintf(b, sizeof b, "-%05d-of-%05d.gguf", no, count);
  return prefix + b;
}

// What a test may change in shard i's writer before it is written.
using Tweak = std::function<void(int shard, GgufWriter& w)>;

// Writes `src` as `count` files the way split tools do: the first keeps all
// the metadata, every file gets split.no / split.count, the first also
// split.tensors.count; tensor q goes to file q * count / n_tensors.
// Returns the first file's path.
std::string write_split(const GgufFile& src, const std::string& name, int count, const Tweak& tweak = {}) {
  const std::string prefix = test::temp_path(name);
  const size_t n = src.tensors().size();
  for (int i = 0; i < count; ++i) {
    GgufWriter w(uint32_t(src.alignment()));
    if (i == 0)
      for (const GgufKV& kv : src.metadata()) w.set(kv.key, kv.value);
    w.set("split.no", GgufValue::u16(uint16_t(i)));
    w.set("split.count", GgufValue::u16(uint16_t(count)));
    if (i == 0) w.set("split.tensors.count", GgufValue::i32(int32_t(n)));
    for (size_t q = 0; q < n; ++q) {
      if (int(q * size_t(count) / n) != i) continue;
      const GgufTensorInfo& t = src.tensors()[q];
      w.add_tensor(t.name, t.ggml_type(), std::vector<int64_t>(t.ne, t.ne + t.n_dims), src.tensor_data(t),
                   size_t(t.nbytes));
    }
    if (tweak) tweak(i, w);
    w.write(shard_path(prefix, i + 1, count));
  }
  return shard_path(prefix, 1, count);
}

std::string open_error(const std::string& path) {
  try {
    GgufFile::open(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(GgufSplit, OpensFromTheFirstFileWithEveryTensor) {
  const auto src = GgufFile::open(test::tiny_model("qwen35"));
  const std::string first = write_split(*src, "split-ok", 3);
  const auto f = GgufFile::open(first);
  ASSERT_EQ(f->shard_count(), 3u);
  ASSERT_EQ(f->tensors().size(), src->tensors().size());
  size_t per_file = 0;
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_GT(f->shard_tensor_count(i), 0u);
    per_file += f->shard_tensor_count(i);
  }
  EXPECT_EQ(per_file, src->tensors().size());
  EXPECT_EQ(f->total_file_size(), f->shard(0).file_size() + f->shard(1).file_size() + f->shard(2).file_size());
  for (const GgufTensorInfo& t : src->tensors()) {
    const GgufTensorInfo* g = f->find_tensor(t.name);
    ASSERT_NE(g, nullptr) << t.name;
    ASSERT_EQ(g->nbytes, t.nbytes) << t.name;
    EXPECT_EQ(std::memcmp(f->tensor_data(*g), src->tensor_data(t), size_t(t.nbytes)), 0) << t.name;
  }
  EXPECT_EQ(f->get_str("general.architecture"), src->get_str("general.architecture"));
}

TEST(GgufSplit, GgufCommandShowsTheWholeSet) {
  const std::string first = write_split(*GgufFile::open(test::tiny_model("qwen35")), "split-cli", 3);
  const test::CmdResult human = test::run_deltallm({"gguf", first});
  ASSERT_EQ(human.status, 0) << human.err;
  EXPECT_NE(human.out.find("split into 3 files"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("-00003-of-00003.gguf"), std::string::npos);
  const test::CmdResult json = test::run_deltallm({"gguf", first, "--json"});
  ASSERT_EQ(json.status, 0) << json.err;
  EXPECT_NE(json.out.find("\"files\""), std::string::npos);
  EXPECT_NE(json.out.find("\"file\":2"), std::string::npos);
  // run works from the first file
  const test::CmdResult run = test::run_deltallm({"run", "-m", first, "-p", "hello", "-n", "4", "--seed", "1"});
  EXPECT_EQ(run.status, 0) << run.err;
}

std::vector<float> logits_of(const std::string& path, int32_t weight_memory) {
  deltallm_model_params mp = deltallm_model_default_params();
  mp.weight_memory = weight_memory;
  deltallm_model* m = nullptr;
  EXPECT_EQ(deltallm_model_load(path.c_str(), &mp, &m), DELTALLM_OK) << deltallm_last_error();
  if (!m) return {};
  deltallm_context_params cp = deltallm_context_default_params();
  cp.n_ctx = 64;
  cp.n_threads = 1;
  deltallm_context* c = nullptr;
  EXPECT_EQ(deltallm_context_create(m, &cp, &c), DELTALLM_OK) << deltallm_last_error();
  std::vector<float> out;
  if (c) {
    const std::vector<int32_t> tokens = {11, 42, 7, 300, 5, 19}, seqs(tokens.size(), 0);
    deltallm_batch b = deltallm_batch_default_params();
    b.n_tokens = int32_t(tokens.size());
    b.tokens = tokens.data();
    b.seq_ids = seqs.data();
    EXPECT_EQ(deltallm_decode(c, &b), DELTALLM_OK) << deltallm_last_error();
    const float* l = nullptr;
    EXPECT_EQ(deltallm_get_logits(c, -1, &l), DELTALLM_OK) << deltallm_last_error();
    deltallm_model_info info;
    info.size = sizeof info;
    EXPECT_EQ(deltallm_model_get_info(m, &info), DELTALLM_OK);
    if (l) out.assign(l, l + info.n_vocab);
    deltallm_context_free(c);
  }
  deltallm_model_free(m);
  return out;
}

TEST(GgufSplit, SameLogitsAsTheSingleFile) {
  const std::string single = test::tiny_model("qwen35");
  const std::string first = write_split(*GgufFile::open(single), "split-logits", 2);
  for (int32_t wm : {int32_t(DELTALLM_WEIGHTS_MMAP), int32_t(DELTALLM_WEIGHTS_COPY)}) {
    const std::vector<float> want = logits_of(single, wm), got = logits_of(first, wm);
    ASSERT_FALSE(want.empty());
    ASSERT_EQ(got.size(), want.size());
    EXPECT_EQ(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)), 0) << "weight_memory " << wm;
  }
}

TEST(GgufSplit, BrokenSetsAreRefusedByName) {
  const auto src = GgufFile::open(test::tiny_model("qwen35"));

  // Opening a later file says which one to open.
  const std::string first = write_split(*src, "split-later", 3);
  const std::string second = first.substr(0, first.size() - 20) + "-00002-of-00003.gguf";
  EXPECT_NE(open_error(second).find("file 2 of a model split into 3 files; open the first one"), std::string::npos)
      << open_error(second);

  // A missing file is named.
  const std::string gone = write_split(*src, "split-missing", 3);
  const std::string third = gone.substr(0, gone.size() - 20) + "-00003-of-00003.gguf";
  ASSERT_EQ(std::remove(third.c_str()), 0);
  EXPECT_NE(open_error(gone).find(third + ": cannot open"), std::string::npos) << open_error(gone);

  // A first file whose name does not follow the pattern.
  const std::string renamed = test::temp_path("split-renamed.gguf");
  ASSERT_EQ(std::rename(write_split(*src, "split-rename", 2).c_str(), renamed.c_str()), 0);
  EXPECT_NE(open_error(renamed).find("does not end in -00001-of-00002.gguf"), std::string::npos)
      << open_error(renamed);

  // Files out of place, a count that disagrees, a tensor in two files, a
  // wrong total.
  const std::string swapped = write_split(*src, "split-no", 3, [](int i, GgufWriter& w) {
    if (i == 2) w.set("split.no", GgufValue::u16(1));
  });
  EXPECT_NE(open_error(swapped).find("split.no is 1, expected 2"), std::string::npos) << open_error(swapped);
  const std::string recount = write_split(*src, "split-count", 2, [](int i, GgufWriter& w) {
    if (i == 1) w.set("split.count", GgufValue::u16(4));
  });
  EXPECT_NE(open_error(recount).find("split.count is 4 but the first file's is 2"), std::string::npos)
      << open_error(recount);
  const GgufTensorInfo& t0 = src->tensors()[0];
  const std::string dup = write_split(*src, "split-dup", 2, [&](int i, GgufWriter& w) {
    if (i == 1)
      w.add_tensor(t0.name, t0.ggml_type(), std::vector<int64_t>(t0.ne, t0.ne + t0.n_dims), src->tensor_data(t0),
                   size_t(t0.nbytes));
  });
  EXPECT_NE(open_error(dup).find("tensor \"" + t0.name + "\" is also in"), std::string::npos) << open_error(dup);
  const std::string total = write_split(*src, "split-total", 2, [](int i, GgufWriter& w) {
    if (i == 0) w.set("split.tensors.count", GgufValue::i32(3));
  });
  EXPECT_NE(open_error(total).find("split.tensors.count is 3 but the 2 files hold"), std::string::npos)
      << open_error(total);
}

}  // namespace
}  // namespace dllm
