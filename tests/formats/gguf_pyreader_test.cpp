// `deltallm gguf --json` against an independent reader written in Python
// from the spec (tests/scripts/gguf_py_reader.py): every file of
// ../shared/testdata and a synthetic file with every value type (NaN,
// non-UTF-8 strings, nested arrays) must give the same document.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "formats/gguf.h"
#include "support/test_support.h"

namespace dllm {
namespace {

using json = nlohmann::json;

std::string python3() {
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "";
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string cand = p.substr(start, end - start) + "/python3";
    if (end > start && access(cand.c_str(), X_OK) == 0) return cand;
    start = end + 1;
  }
  return "/usr/bin/python3";
}

const std::string kScript = std::string(DELTALLM_SOURCE_DIR) + "/tests/scripts/gguf_py_reader.py";

// First few differences as JSON-patch paths, for a readable failure.
std::string describe_diff(const json& ours, const json& theirs) {
  json patch = json::diff(ours, theirs);
  std::string out;
  for (size_t i = 0; i < patch.size() && i < 5; ++i) {
    const json& op = patch[i];
    std::string path = op["path"].get<std::string>();
    json::json_pointer ptr(path);
    out += "  " + op["op"].get<std::string>() + " " + path + ": ours=" +
           (ours.contains(ptr) ? ours[ptr].dump().substr(0, 200) : "(absent)") +
           " python=" + (theirs.contains(ptr) ? theirs[ptr].dump().substr(0, 200) : "(absent)") + "\n";
  }
  return out + "  (" + std::to_string(patch.size()) + " differences)";
}

// Runs the Python reader once over `paths` (one document per line).
std::vector<json> python_docs(const std::vector<std::string>& paths) {
  std::vector<std::string> argv{python3(), kScript};
  argv.insert(argv.end(), paths.begin(), paths.end());
  test::CmdResult r = test::run_cmd(argv);
  EXPECT_EQ(r.status, 0) << r.err;
  std::vector<json> docs;
  size_t start = 0;
  while (start < r.out.size()) {
    size_t end = r.out.find('\n', start);
    if (end == std::string::npos) end = r.out.size();
    docs.push_back(json::parse(r.out.substr(start, end - start)));
    start = end + 1;
  }
  EXPECT_EQ(docs.size(), paths.size());
  return docs;
}

// Runs `deltallm gguf --json` on each file and compares with the Python
// reader's document; returns ours.
std::vector<json> compare_with_python(const std::vector<std::string>& paths) {
  std::vector<json> theirs = python_docs(paths);
  std::vector<json> result;
  for (size_t i = 0; i < paths.size(); ++i) {
    test::CmdResult ours = test::run_deltallm({"gguf", paths[i], "--json"});
    EXPECT_EQ(ours.status, 0) << ours.err;
    EXPECT_EQ(ours.err, "");
    if (ours.status != 0 || i >= theirs.size()) {
      result.push_back(json());
      continue;
    }
    json a = json::parse(ours.out);  // throws (fails the test) on invalid JSON
    EXPECT_TRUE(a == theirs[i]) << paths[i] << " differs from the Python reader:\n" << describe_diff(a, theirs[i]);
    result.push_back(std::move(a));
  }
  return result;
}

TEST(GgufPyReader, AgreesOnEveryTestdataFile) {
  std::string td;
  DLLM_REQUIRE_TESTDATA(td);
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(td))
    if (e.path().extension() == ".gguf") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty());
  std::vector<json> docs = compare_with_python(files);
  ASSERT_EQ(docs.size(), files.size());
  for (const json& doc : docs) {
    ASSERT_FALSE(doc.is_null());
    // Sanity of what was compared: a real model with tensors and a vocabulary.
    EXPECT_FALSE(doc["tensors"].empty());
    EXPECT_EQ(doc["metadata"]["tokenizer.ggml.tokens"]["elem_type"], "STRING");
    EXPECT_TRUE(doc["summary"]["architecture"].is_string());
  }
  std::printf("compared %zu testdata files with the Python reader\n", files.size());
}

std::vector<GgufKV> synthetic_metadata() {
  using V = GgufValue;
  const double inf = std::numeric_limits<double>::infinity();
  return {
      {"general.architecture", V::str("qwen3next")},
      {"u8", V::u8(200)},
      {"i8", V::i8(-100)},
      {"u16", V::u16(60000)},
      {"i16", V::i16(-30000)},
      {"u32", V::u32(4000000000u)},
      {"i32", V::i32(-2000000000)},
      {"u64", V::u64(std::numeric_limits<uint64_t>::max())},
      {"i64", V::i64(std::numeric_limits<int64_t>::min())},
      {"f32", V::f32(0.1f)},
      {"f32.tiny", V::f32(1e-45f)},
      {"f32.negzero", V::f32(-0.0f)},
      {"f32.nan", V::f32(std::nanf(""))},
      {"f32.inf", V::f32(static_cast<float>(inf))},
      {"f64", V::f64(1.0 / 3.0)},
      {"f64.ninf", V::f64(-inf)},
      {"f64.big", V::f64(1e308)},
      {"bool", V::boolean(true)},
      {"str.utf8", V::str("\xE4\xBD\xA0\xE5\xA5\xBD \xF0\x9F\x98\x80 \"quoted\" \\ tab\t nl\n")},
      {"str.bad", V::str("x\xFF\xC3(\xE2\x82\xF0\x9F\x98 \xED\xA0\x80 \xC0\x80")},
      {"str.nul", V::str(std::string("a\0b", 3))},
      {"key.bad.\xFF", V::u8(1)},
      {"arr.empty", V::array(GgufType::INT64, {})},
      {"arr.bool", V::array(GgufType::BOOL, {V::boolean(false), V::boolean(true)})},
      {"arr.f32", V::f32_array({1.5f, std::nanf(""), -static_cast<float>(inf), 3.4028235e38f})},
      {"arr.f64", V::array(GgufType::FLOAT64, {V::f64(2.2250738585072014e-308)})},
      {"arr.str", V::str_array({"a", "", "\x80"})},
      {"arr.nested", V::array(GgufType::ARRAY, {V::array(GgufType::UINT16, {V::u16(1), V::u16(2)}),
                                                V::array(GgufType::ARRAY, {V::str_array({"deep"})}),
                                                V::array(GgufType::FLOAT32, {})})},
      {"tokenizer.ggml.tokens", V::str_array({"<a>", "<b>"})},
  };
}

TEST(GgufPyReader, AgreesOnSyntheticFile) {
  GgufWriter w(64);
  for (const GgufKV& kv : synthetic_metadata()) w.set(kv.key, kv.value);
  struct T {
    const char* name;
    GgmlType type;
    std::vector<int64_t> ne;
  };
  const T tensors[] = {
      {"f32.weight", GgmlType::F32, {3, 5}},       {"f16.weight", GgmlType::F16, {7}},
      {"bf16.weight", GgmlType::BF16, {2, 2, 2}},  {"q8_0.weight", GgmlType::Q8_0, {64, 3}},
      {"q4_k.weight", GgmlType::Q4_K, {256, 1, 2, 2}}, {"iq4_xs.weight", GgmlType::IQ4_XS, {512}},
      {"q5_1.weight", GgmlType::Q5_1, {32, 9}},    {"i32.weight", GgmlType::I32, {5}},
  };
  for (const T& t : tensors) {
    const TypeTraits* tt = type_traits(t.type);
    ASSERT_NE(tt, nullptr);
    int64_t rows = 1;
    for (size_t d = 1; d < t.ne.size(); ++d) rows *= t.ne[d];
    std::vector<uint8_t> data(static_cast<size_t>(t.ne[0] / tt->block_elems * tt->block_bytes * rows), 0x5a);
    w.add_tensor(t.name, t.type, t.ne, std::move(data));
  }
  std::string path = test::temp_path("synthetic.gguf");
  w.write(path);
  json doc = compare_with_python({path})[0];
  ASSERT_FALSE(doc.is_null());
  // A few fixed points of the documented encoding, so that both readers
  // cannot agree on something wrong.
  const json& m = doc["metadata"];
  EXPECT_EQ(m["f32.nan"]["value"], "NaN");
  EXPECT_EQ(m["f64.ninf"]["value"], "-Infinity");
  EXPECT_EQ(m["f32"]["value"].get<double>(), static_cast<double>(0.1f));
  EXPECT_EQ(m["u64"]["value"].get<uint64_t>(), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(m["str.bad"]["value"], "x\xEF\xBF\xBD\xEF\xBF\xBD(\xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD"
                                   "\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(m["str.nul"]["value"], std::string("a\0b", 3));
  EXPECT_TRUE(m.contains("key.bad.\xEF\xBF\xBD"));
  EXPECT_EQ(m["arr.nested"]["elem_type"], "ARRAY");
  EXPECT_EQ(m["arr.nested"]["value"], json::parse(R"([[1, 2], [["deep"]], []])"));
  EXPECT_EQ(m["arr.bool"]["value"], json::parse("[false, true]"));
  EXPECT_EQ(doc["alignment"], 64);
  EXPECT_EQ(doc["tensors"][4]["ne"], json::parse("[256, 1, 2, 2]"));
  EXPECT_EQ(doc["tensors"][4]["type"], "Q4_K");
  EXPECT_EQ(doc["tensors"][4]["bytes"], 144 * 4);
  EXPECT_EQ(doc["summary"]["n_params"], 15 + 7 + 8 + 192 + 1024 + 512 + 288 + 5);
  EXPECT_EQ(doc["summary"]["bytes_by_type"]["Q8_0"], 34 * 2 * 3);
}

TEST(GgufCli, JsonLayoutAndHumanOutput) {
  std::string td;
  DLLM_REQUIRE_TESTDATA(td);
  std::string path = td + "/qwen3next-tiny-Q4_K_M.gguf";
  test::CmdResult r = test::run_deltallm({"gguf", path, "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  nlohmann::ordered_json doc = nlohmann::ordered_json::parse(r.out);
  std::vector<std::string> keys;
  for (const auto& [k, v] : doc.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"version", "alignment", "data_offset", "metadata", "tensors", "summary"}));
  std::vector<std::string> tkeys;
  for (const auto& [k, v] : doc["tensors"][0].items()) tkeys.push_back(k);
  EXPECT_EQ(tkeys, (std::vector<std::string>{"name", "type", "ne", "offset", "bytes"}));
  EXPECT_EQ(doc["metadata"].begin().key(), "general.architecture");  // file order
  EXPECT_EQ(doc["metadata"]["tokenizer.ggml.tokens"]["value"].size(), 1024u);  // arrays in full

  test::CmdResult h = test::run_deltallm({"gguf", path});
  ASSERT_EQ(h.status, 0) << h.err;
  EXPECT_EQ(h.err, "");
  // Columns are padded; compare with runs of spaces squeezed to one.
  std::string out;
  for (char c : h.out)
    if (!(c == ' ' && !out.empty() && out.back() == ' ')) out += c;
  EXPECT_NE(out.find("\n general.architecture STRING \"qwen3next\"\n"), std::string::npos) << out;
  // Long arrays abbreviated: element type, count and the first items only.
  size_t tok = out.find("\n tokenizer.ggml.tokens ARRAY[STRING x 1024] [\"!\", \"\\\"\", \"#\", ");
  ASSERT_NE(tok, std::string::npos) << out;
  size_t tok_end = out.find("\n", tok + 1);
  ASSERT_NE(tok_end, std::string::npos);
  EXPECT_EQ(out.compare(tok_end - 6, 6, ", ...]"), 0) << out.substr(tok, tok_end - tok);
  EXPECT_LT(tok_end - tok, 200u);
  EXPECT_LT(out.size(), 20000u);
  EXPECT_NE(out.find("\n token_embd.weight Q4_K {256, 1024} 147456\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\n blk.0.ffn_gate_exps.weight Q4_K {256, 256, 8} 294912\n"), std::string::npos) << out;
  uint64_t n_params = doc["summary"]["n_params"].get<uint64_t>();
  EXPECT_NE(out.find("\n parameters " + std::to_string(n_params) + " "), std::string::npos) << out;
  EXPECT_NE(out.find("\n architecture qwen3next\n"), std::string::npos);
  EXPECT_NE(out.find("Q6_K " + std::to_string(doc["summary"]["bytes_by_type"]["Q6_K"].get<uint64_t>())),
            std::string::npos);
}

}  // namespace
}  // namespace dllm
