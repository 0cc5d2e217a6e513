// GgufWriter -> GgufFile round trips: every value type (edge values, empty
// and nested arrays), tensors of several types and ranks, alignments, v2
// files, typed getters, and what the writer refuses.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>

#include "formats/gguf.h"
#include "formats/gguf_json.h"
#include "support/test_support.h"
#include "util/error.h"

namespace dllm {
namespace {

using V = GgufValue;

std::vector<GgufKV> all_value_kinds() {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<GgufKV> kv = {
      {"general.architecture", V::str("qwen35")},
      {"general.name", V::str("round trip")},
      {"t.u8", V::u8(255)},
      {"t.i8", V::i8(-128)},
      {"t.u16", V::u16(65535)},
      {"t.i16", V::i16(-32768)},
      {"t.u32", V::u32(4294967295u)},
      {"t.i32", V::i32(std::numeric_limits<int32_t>::min())},
      {"t.u64", V::u64(std::numeric_limits<uint64_t>::max())},
      {"t.i64", V::i64(std::numeric_limits<int64_t>::min())},
      {"t.f32", V::f32(1e-6f)},
      {"t.f32_denormal", V::f32(std::numeric_limits<float>::denorm_min())},
      {"t.f32_negzero", V::f32(-0.0f)},
      {"t.f32_inf", V::f32(-inf)},
      {"t.f32_nan", V::f32(std::nanf(""))},
      {"t.f64", V::f64(0.1)},
      {"t.f64_max", V::f64(std::numeric_limits<double>::max())},
      {"t.bool_true", V::boolean(true)},
      {"t.bool_false", V::boolean(false)},
      {"t.str_empty", V::str("")},
      {"t.str_utf8", V::str("h\xC3\xA9llo \xE2\x9C\x93 \xF0\x9F\x98\x80")},
      {"t.str_nul", V::str(std::string("a\0b", 3))},
      {"t.str_not_utf8", V::str("bad \xFF\xFE \xE0\x80 \xED\xA0\x80 \xF4\x90\x80\x80 \xC3")},
      {"t.arr_empty_u8", V::array(GgufType::UINT8, {})},
      {"t.arr_u8", V::array(GgufType::UINT8, {V::u8(0), V::u8(7), V::u8(255)})},
      {"t.arr_i8", V::array(GgufType::INT8, {V::i8(-1), V::i8(127)})},
      {"t.arr_u16", V::array(GgufType::UINT16, {V::u16(1), V::u16(65535)})},
      {"t.arr_i16", V::array(GgufType::INT16, {V::i16(-2)})},
      {"t.arr_u32", V::array(GgufType::UINT32, {V::u32(3), V::u32(0)})},
      {"t.arr_i32", V::i32_array({1, -2, 3, std::numeric_limits<int32_t>::max()})},
      {"t.arr_u64", V::array(GgufType::UINT64, {V::u64(1ull << 63)})},
      {"t.arr_i64", V::array(GgufType::INT64, {V::i64(-5), V::i64(1ll << 40)})},
      {"t.arr_f32", V::f32_array({0.5f, -1.25f, 3.4e38f, inf, std::nanf("")})},
      {"t.arr_f64", V::array(GgufType::FLOAT64, {V::f64(-1e300), V::f64(2.5)})},
      {"t.arr_bool", V::array(GgufType::BOOL, {V::boolean(true), V::boolean(false)})},
      {"t.arr_str", V::str_array({"", "a", "\xC3\xA9", "\x80\x81"})},
      {"t.arr_nested",
       V::array(GgufType::ARRAY, {V::array(GgufType::UINT32, {V::u32(1), V::u32(2)}),
                                  V::array(GgufType::STRING, {V::str("x")}), V::array(GgufType::INT8, {})})},
      {"t.arr_nested3",
       V::array(GgufType::ARRAY,
                {V::array(GgufType::ARRAY, {V::array(GgufType::FLOAT32, {V::f32(1.5f)}),
                                            V::array(GgufType::ARRAY, {})})})},
      {"t.arr_nested_empty", V::array(GgufType::ARRAY, {})},
      {"tokenizer.ggml.tokens", V::str_array({"a", "b", "c"})},
      {"tokenizer.ggml.token_type", V::i32_array({1, 1, 3})},
      {"tokenizer.ggml.bos_token_id", V::u32(2)},
      {"qwen35.block_count", V::u32(4)},
  };
  return kv;
}

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

struct TensorSpec {
  std::string name;
  GgmlType type;
  std::vector<int64_t> ne;
  size_t nbytes;
};

std::vector<TensorSpec> some_tensors() {
  return {
      {"token_embd.weight", GgmlType::F32, {8, 3}, 8 * 3 * 4},
      {"blk.0.attn_norm.weight", GgmlType::F32, {5}, 20},  // not a multiple of the alignment
      {"blk.0.q8", GgmlType::Q8_0, {64, 2, 3}, 2 * 34 * 6},
      {"blk.0.f16", GgmlType::F16, {3, 1, 2, 2}, 3 * 4 * 2},
      {"blk.0.q4k", GgmlType::Q4_K, {256, 2}, 144 * 2},
      {"blk.0.bf16", GgmlType::BF16, {1}, 2},
  };
}

void expect_roundtrip(uint32_t alignment) {
  SCOPED_TRACE(testing::Message() << "alignment " << alignment);
  GgufWriter w(alignment);
  auto kvs = all_value_kinds();
  for (const auto& kv : kvs) w.set(kv.key, kv.value);
  auto tensors = some_tensors();
  std::vector<std::vector<uint8_t>> datas;
  for (size_t i = 0; i < tensors.size(); ++i) {
    datas.push_back(random_bytes(tensors[i].nbytes, static_cast<uint32_t>(i)));
    if (i % 2) w.add_tensor(tensors[i].name, tensors[i].type, tensors[i].ne, datas[i].data(), datas[i].size());
    else w.add_tensor(tensors[i].name, tensors[i].type, tensors[i].ne, std::vector<uint8_t>(datas[i]));
  }
  std::string path = test::temp_path("rt-" + std::to_string(alignment) + ".gguf");
  w.write(path);
  std::vector<uint8_t> mem = w.to_bytes();
  std::string disk = test::read_file(path);
  ASSERT_EQ(disk.size(), mem.size());
  EXPECT_EQ(0, std::memcmp(disk.data(), mem.data(), mem.size()));

  auto f = GgufFile::open(path);
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->alignment(), alignment);
  EXPECT_EQ(f->data_offset() % alignment, 0u);
  EXPECT_EQ(f->file_size(), disk.size());
  EXPECT_EQ(f->file_size() % alignment, 0u);  // every tensor is padded, the last one too

  // Metadata: same order and values; general.alignment appears first when
  // the writer had to add it.
  size_t extra = alignment != 32 ? 1 : 0;
  ASSERT_EQ(f->metadata().size(), kvs.size() + extra);
  if (extra) {
    EXPECT_EQ(f->metadata()[0].key, "general.alignment");
    EXPECT_EQ(f->metadata()[0].value, V::u32(alignment));
  }
  for (size_t i = 0; i < kvs.size(); ++i) {
    const GgufKV& got = f->metadata()[i + extra];
    EXPECT_EQ(got.key, kvs[i].key);
    EXPECT_TRUE(got.value == kvs[i].value) << kvs[i].key;
    ASSERT_NE(f->find(kvs[i].key), nullptr);
    EXPECT_TRUE(*f->find(kvs[i].key) == kvs[i].value);
  }

  ASSERT_EQ(f->tensors().size(), tensors.size());
  uint64_t expect_offset = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const GgufTensorInfo& t = f->tensors()[i];
    EXPECT_EQ(t.name, tensors[i].name);
    EXPECT_EQ(t.ggml_type(), tensors[i].type);
    ASSERT_EQ(t.n_dims, static_cast<int>(tensors[i].ne.size()));
    for (int d = 0; d < 4; ++d)
      EXPECT_EQ(t.ne[d], d < t.n_dims ? tensors[i].ne[d] : 1) << t.name << " dim " << d;
    EXPECT_EQ(t.nbytes, tensors[i].nbytes);
    EXPECT_EQ(t.offset, expect_offset);
    expect_offset += (t.nbytes + alignment - 1) / alignment * alignment;
    EXPECT_EQ(0, std::memcmp(f->tensor_data(t), datas[i].data(), datas[i].size())) << t.name;
    EXPECT_EQ(f->find_tensor(t.name), &t);
  }
  EXPECT_EQ(f->find_tensor("nope"), nullptr);
  EXPECT_EQ(f->find("nope"), nullptr);
}

TEST(GgufRoundTrip, AllValueTypesAndTensors) {
  for (uint32_t a : {32u, 1u, 8u, 64u, 4096u}) expect_roundtrip(a);
}

TEST(GgufRoundTrip, NoTemporaryLeftBehind) {
  std::string dir = test::temp_path("atomic");
  std::filesystem::create_directories(dir);
  GgufWriter w;
  w.set("general.architecture", V::str("qwen35"));
  w.write(dir + "/a.gguf");
  w.write(dir + "/a.gguf");  // overwrite in place
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    EXPECT_EQ(e.path().filename(), "a.gguf");
    ++n;
  }
  EXPECT_EQ(n, 1u);
}

TEST(GgufRoundTrip, FailedWriteLeavesNothing) {
  GgufWriter w;
  std::string path = test::temp_path("no-such-dir/x.gguf");
  EXPECT_THROW(w.write(path), Error);
  EXPECT_FALSE(std::filesystem::exists(path));
  // A file the reader would reject is not written at all.
  GgufWriter bad;
  bad.set("general.architecture", V::u32(1));
  std::string bad_path = test::temp_path("bad-arch.gguf");
  try {
    bad.write(bad_path);
    ADD_FAILURE() << "no throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("expected STRING"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(bad_path));
}

TEST(GgufRoundTrip, VocabOnlyFileHasNoTensors) {
  GgufWriter w;
  w.set("general.architecture", V::str("qwen35"));
  w.set("tokenizer.ggml.tokens", V::str_array({"a", "b"}));
  std::string path = test::temp_path("vocab-only.gguf");
  w.write(path);
  auto f = GgufFile::open(path);
  EXPECT_TRUE(f->tensors().empty());
  EXPECT_EQ(f->metadata().size(), 2u);
}

// The tensors a selector picks are read into memory: same bytes, aligned,
// the others still read from the mapping; a second copy is refused.
TEST(GgufRoundTrip, TensorsCopiedToMemory) {
  GgufWriter w;
  w.set("general.architecture", V::str("qwen35"));
  std::mt19937 rng(7);
  const std::vector<std::pair<std::string, int64_t>> specs = {{"a", 3}, {"b", 1000}, {"c", 17}, {"d", 5 << 20}};
  for (const auto& [name, n] : specs) {
    std::vector<uint8_t> bytes(size_t(n) * 4);
    for (auto& b : bytes) b = uint8_t(rng());
    w.add_tensor(name, GgmlType::F32, {n}, bytes.data(), bytes.size());
  }
  const std::string path = test::temp_path("copied.gguf");
  w.write(path);
  auto f = GgufFile::open(path);
  std::vector<std::vector<uint8_t>> mapped;
  for (const GgufTensorInfo& t : f->tensors()) mapped.emplace_back(f->tensor_data(t), f->tensor_data(t) + t.nbytes);
  EXPECT_EQ(f->copied_bytes(), 0u);
  uint64_t last_done = 0, calls = 0;
  f->copy_tensors_to_memory([](const GgufTensorInfo& t) { return t.name != "c"; },
                            [&](uint64_t done, uint64_t total) {
                              EXPECT_GT(done, last_done);
                              EXPECT_LE(done, total);
                              last_done = done;
                              ++calls;
                            });
  EXPECT_EQ(f->copied_bytes(), uint64_t(3 + 1000 + (5 << 20)) * 4);
  EXPECT_EQ(last_done, f->copied_bytes());
  EXPECT_GE(calls, 4u);  // the 20 MiB tensor takes two reads
  for (size_t i = 0; i < f->tensors().size(); ++i) {
    const GgufTensorInfo& t = f->tensors()[i];
    const uint8_t* p = f->tensor_data(t);
    EXPECT_EQ(std::memcmp(p, mapped[i].data(), t.nbytes), 0) << t.name;
    const bool in_mapping = p >= f->base() && p < f->base() + f->file_size();
    EXPECT_EQ(in_mapping, t.name == "c") << t.name;
    if (!in_mapping) {
      EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u) << t.name;
    }
  }
  EXPECT_THROW(f->copy_tensors_to_memory([](const GgufTensorInfo&) { return true; }, nullptr), Error);
}

TEST(GgufRoundTrip, Version2IsRead) {
  GgufWriter w;
  w.set("general.architecture", V::str("qwen35"));
  std::vector<uint8_t> f32(16, 0);
  w.add_tensor("x", GgmlType::F32, {4}, f32.data(), f32.size());
  std::vector<uint8_t> bytes = w.to_bytes();
  bytes[4] = 2;  // v2 has the same layout as v3
  std::string path = test::temp_path("v2.gguf");
  test::write_file(path, std::string(bytes.begin(), bytes.end()));
  auto f = GgufFile::open(path);
  EXPECT_EQ(f->version(), 2u);
  EXPECT_EQ(f->tensors().size(), 1u);
}

TEST(GgufRoundTrip, SetReplacesInPlace) {
  GgufWriter w;
  w.set("a.x", V::u32(1));
  w.set("a.y", V::u32(2));
  w.set("a.x", V::str("three"));
  std::string path = test::temp_path("replace.gguf");
  w.write(path);
  auto f = GgufFile::open(path);
  ASSERT_EQ(f->metadata().size(), 2u);
  EXPECT_EQ(f->metadata()[0].key, "a.x");
  EXPECT_EQ(f->metadata()[0].value, V::str("three"));
  EXPECT_EQ(f->metadata()[1].key, "a.y");
}

TEST(GgufRoundTrip, SettingAlignmentKeyChangesLayout) {
  GgufWriter w;
  w.set("general.alignment", V::u32(128));
  std::vector<uint8_t> d(4, 1);
  w.add_tensor("a", GgmlType::F32, {1}, d.data(), d.size());
  w.add_tensor("b", GgmlType::F32, {1}, d.data(), d.size());
  std::string path = test::temp_path("align128.gguf");
  w.write(path);
  auto f = GgufFile::open(path);
  EXPECT_EQ(f->alignment(), 128u);
  EXPECT_EQ(f->tensors()[1].offset, 128u);
  EXPECT_EQ(f->data_offset() % 128, 0u);
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(GgufRoundTrip, TypedGetters) {
  GgufWriter w;
  w.set("general.architecture", V::str("qwen35"));
  w.set("k.u8", V::u8(7));
  w.set("k.i32", V::i32(9));
  w.set("k.neg", V::i32(-1));
  w.set("k.big", V::u64(1ull << 40));
  w.set("k.f64", V::f64(0.25));
  w.set("k.f32", V::f32(1.5f));
  w.set("k.bool", V::boolean(true));
  w.set("k.arr", V::i32_array({1, 2}));
  std::string path = test::temp_path("getters.gguf");
  w.write(path);
  auto f = GgufFile::open(path);
  EXPECT_EQ(f->get_u32("k.u8"), 7u);
  EXPECT_EQ(f->get_u32("k.i32"), 9u);
  EXPECT_EQ(f->require_u32("k.i32"), 9u);
  EXPECT_EQ(f->get_u32("k.absent"), std::nullopt);
  EXPECT_EQ(f->get_f32("k.f64"), 0.25f);
  EXPECT_EQ(f->get_f32("k.f32"), 1.5f);
  EXPECT_EQ(f->get_str("general.architecture"), "qwen35");
  EXPECT_EQ(f->get_bool("k.bool"), true);
  ASSERT_NE(f->get_array("k.arr"), nullptr);
  EXPECT_EQ(f->get_array("k.arr")->items.size(), 2u);
  EXPECT_EQ(f->get_array("k.absent"), nullptr);
  EXPECT_EQ(f->find("k.big")->as_int(), int64_t{1} << 40);
  EXPECT_EQ(f->find("k.f32")->as_number(), 1.5);
  EXPECT_EQ(f->find("k.f32")->as_int(), std::nullopt);

  EXPECT_NE(error_of([&] { f->require_u32("k.absent"); }).find(path + ": missing key \"k.absent\""),
            std::string::npos);
  EXPECT_NE(error_of([&] { f->get_u32("k.neg"); }).find("does not fit"), std::string::npos);
  EXPECT_NE(error_of([&] { f->get_u32("k.big"); }).find("does not fit"), std::string::npos);
  EXPECT_NE(error_of([&] { f->get_u32("k.f32"); }).find("has type FLOAT32"), std::string::npos);
  EXPECT_NE(error_of([&] { f->get_str("k.u8"); }).find(path + ": key \"k.u8\" has type UINT8, expected STRING"),
            std::string::npos);
  EXPECT_NE(error_of([&] { f->get_f32("k.u8"); }).find("expected FLOAT32"), std::string::npos);
  EXPECT_NE(error_of([&] { f->get_bool("k.u8"); }).find("expected BOOL"), std::string::npos);
  EXPECT_NE(error_of([&] { f->get_array("k.u8"); }).find("expected ARRAY"), std::string::npos);
}

TEST(GgufWriterChecks, RefusesBadInput) {
  std::vector<uint8_t> d16(16);
  struct Case {
    const char* expect;
    std::function<void(GgufWriter&)> fn;
  };
  std::vector<Case> cases = {
      {"empty tensor name", [&](GgufWriter& w) { w.add_tensor("", GgmlType::F32, {4}, d16.data(), 16); }},
      {"longer than 63", [&](GgufWriter& w) { w.add_tensor(std::string(64, 'x'), GgmlType::F32, {4}, d16.data(), 16); }},
      {"duplicate tensor", [&](GgufWriter& w) {
         w.add_tensor("a", GgmlType::F32, {4}, d16.data(), 16);
         w.add_tensor("a", GgmlType::F32, {4}, d16.data(), 16);
       }},
      {"unknown type id 4", [&](GgufWriter& w) { w.add_tensor("a", static_cast<GgmlType>(4), {4}, d16.data(), 16); }},
      {"0 dimensions", [&](GgufWriter& w) { w.add_tensor("a", GgmlType::F32, {}, d16.data(), 16); }},
      {"5 dimensions", [&](GgufWriter& w) { w.add_tensor("a", GgmlType::F32, {1, 1, 1, 1, 4}, d16.data(), 16); }},
      {"dimension 0", [&](GgufWriter& w) { w.add_tensor("a", GgmlType::F32, {4, 0}, d16.data(), 16); }},
      {"dimension -1", [&](GgufWriter& w) { w.add_tensor("a", GgmlType::F32, {4, -1}, d16.data(), 16); }},
      {"element count overflows",
       [&](GgufWriter& w) { w.add_tensor("a", GgmlType::F32, {1ll << 40, 1ll << 40}, d16.data(), 16); }},
      {"not a multiple of its block size 32",
       [&](GgufWriter& w) { w.add_tensor("a", GgmlType::Q8_0, {16}, d16.data(), 16); }},
      {"needs 12", [&](GgufWriter& w) { w.add_tensor("a", GgmlType::F32, {3}, d16.data(), 16); }},
      {"alignment 3 is not", [&](GgufWriter&) { GgufWriter w3(3); }},
      {"alignment 0 is not", [&](GgufWriter&) { GgufWriter w0(0); }},
      {"general.alignment 24 is not", [&](GgufWriter& w) { w.set("general.alignment", V::u32(24)); }},
      {"general.alignment must be UINT32", [&](GgufWriter& w) { w.set("general.alignment", V::u64(32)); }},
      {"BOOL value 2", [&](GgufWriter& w) {
         V b = V::boolean(true);
         b.u = 2;
         w.set("k", b);
       }},
      {"array of UINT32 holds a INT32",
       [&](GgufWriter& w) { w.set("k", V::array(GgufType::UINT32, {V::u32(1), V::i32(2)})); }},
      {"empty metadata key", [&](GgufWriter& w) { w.set("", V::u32(1)); }},
      {"expected ARRAY of STRING", [&](GgufWriter& w) {
         w.set("tokenizer.ggml.tokens", V::i32_array({1}));
         w.to_bytes();
       }},
      {"expected UINT32", [&](GgufWriter& w) {
         w.set("general.architecture", V::str("qwen3next"));
         w.set("qwen3next.block_count", V::i32(4));
         w.to_bytes();
       }},
  };
  for (const Case& c : cases) {
    GgufWriter w;
    std::string err = error_of([&] { c.fn(w); });
    EXPECT_NE(err.find(c.expect), std::string::npos) << "expected '" << c.expect << "', got: " << err;
  }
}

TEST(GgufJson, Utf8Sanitize) {
  const std::string R = "\xEF\xBF\xBD";
  EXPECT_EQ(utf8_sanitize("plain"), "plain");
  EXPECT_EQ(utf8_sanitize("\xC3\xA9\xF0\x9F\x98\x80"), "\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(utf8_sanitize("a\xFF" "b"), "a" + R + "b");
  EXPECT_EQ(utf8_sanitize("\xC0\xAF"), R + R);                  // overlong lead byte
  EXPECT_EQ(utf8_sanitize("\xE0\x80\x80"), R + R + R);          // E0 needs A0..BF next
  EXPECT_EQ(utf8_sanitize("\xE1\x80"), R);                      // truncated: one maximal subpart
  EXPECT_EQ(utf8_sanitize("\xED\xA0\x80"), R + R + R);          // surrogate
  EXPECT_EQ(utf8_sanitize("\xF4\x90\x80\x80"), R + R + R + R);  // above U+10FFFF
  EXPECT_EQ(utf8_sanitize("\xF0\x9F\x98" "x"), R + "x");
}

}  // namespace
}  // namespace dllm
