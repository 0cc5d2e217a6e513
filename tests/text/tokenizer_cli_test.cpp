// `deltallm import-tokenizer` and `deltallm tokenize` on the tiny vocabulary
// of tokenizer_test_vocab.h: output formats, input sources, errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "formats/gguf.h"
#include "support/test_support.h"
#include "text/tokenizer.h"
#include "text/vocab_import.h"
#include "text/tokenizer_test_vocab.h"

namespace dllm {
namespace {

using test::run_deltallm;

struct Files {
  std::string tokenizer, config, gguf;
};

// Writes the tiny tokenizer files and imports them once.
const Files& tiny_files() {
  static const Files f = [] {
    Files x;
    x.tokenizer = test::temp_path("tok.json");
    x.config = test::temp_path("tok_config.json");
    x.gguf = test::temp_path("tok_vocab.gguf");
    test::write_file(x.tokenizer, test::tiny_tokenizer_json().dump());
    test::write_file(x.config, test::tiny_tokenizer_config().dump());
    const auto r = run_deltallm({"import-tokenizer", x.tokenizer, x.config, "-o", x.gguf});
    if (r.status != 0) throw std::runtime_error("import-tokenizer failed: " + r.err);
    return x;
  }();
  return f;
}

TEST(ImportTokenizer, WritesAVocabOnlyGguf) {
  const Files& f = tiny_files();
  const auto g = GgufFile::open(f.gguf);
  EXPECT_TRUE(g->tensors().empty());
  EXPECT_EQ(g->get_str("general.type").value_or(""), "vocab");
  EXPECT_EQ(g->find("general.architecture"), nullptr);
  EXPECT_EQ(g->get_str("tokenizer.ggml.model").value_or(""), "gpt2");
  EXPECT_EQ(g->get_str("tokenizer.ggml.pre").value_or(""), "qwen2");
  EXPECT_EQ(g->get_u32("tokenizer.ggml.eos_token_id").value_or(0), 302u);
  EXPECT_EQ(g->get_u32("tokenizer.ggml.padding_token_id").value_or(0), 300u);
  EXPECT_FALSE(g->get_u32("tokenizer.ggml.bos_token_id").has_value());
  EXPECT_EQ(g->get_bool("tokenizer.ggml.add_bos_token").value_or(true), false);
  EXPECT_EQ(g->get_str("tokenizer.chat_template").value_or(""),
            test::tiny_tokenizer_config()["chat_template"].get<std::string>());
  const GgufValue* tokens = g->get_array("tokenizer.ggml.tokens");
  const GgufValue* types = g->get_array("tokenizer.ggml.token_type");
  ASSERT_TRUE(tokens && types);
  ASSERT_EQ(tokens->items.size(), 307u);
  EXPECT_EQ(types->elem_type, GgufType::INT32);
  EXPECT_EQ(tokens->items[32].s, "\xC4\xA0");  // Ġ
  EXPECT_EQ(tokens->items[265].s, "[PAD265]");
  EXPECT_EQ(types->items[265].as_int(), 5);  // UNUSED
  EXPECT_EQ(types->items[300].as_int(), 3);  // CONTROL
  EXPECT_EQ(types->items[303].as_int(), 4);  // USER_DEFINED
  EXPECT_EQ(types->items[306].as_int(), 3);  // <|fim_pad|> looks special
  EXPECT_EQ(types->items[258].as_int(), 1);  // NORMAL
  const GgufValue* merges = g->get_array("tokenizer.ggml.merges");
  ASSERT_TRUE(merges);
  ASSERT_EQ(merges->items.size(), 9u);
  EXPECT_EQ(merges->items[0].s, "\xC4\xA0 t");
}

TEST(ImportTokenizer, UnknownRegexNeedsPre) {
  const std::string tj = test::temp_path("odd.json");
  test::write_file(tj, test::tiny_tokenizer_json(false, R"(\p{L}+|\s+|.)").dump());
  const std::string out = test::temp_path("odd.gguf");
  auto r = run_deltallm({"import-tokenizer", tj, "-o", out});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("deltallm: error: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--pre"), std::string::npos) << r.err;
  r = run_deltallm({"import-tokenizer", tj, "-o", out, "--pre", "qwen2"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("warning"), std::string::npos) << r.err;
  r = run_deltallm({"import-tokenizer", tj, "-o", out, "--pre", "nonsense"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("unknown pre type 'nonsense'"), std::string::npos) << r.err;
}

TEST(ImportTokenizer, RecognisesQwen35AndLlama3Regexes) {
  for (PreType t : {PreType::Qwen35, PreType::Llama3}) {
    const std::string tj = test::temp_path(std::string(pre_type_name(t)) + ".json");
    test::write_file(tj, test::tiny_tokenizer_json(false, pre_type_hf_regex(t)).dump());
    const auto imp = import_hf_tokenizer(tj);
    EXPECT_EQ(imp.spec.pre, pre_type_name(t));
  }
}

TEST(ImportTokenizer, BadInputsAreErrors) {
  const std::string out = test::temp_path("bad.gguf");
  auto r = run_deltallm({"import-tokenizer", test::temp_path("missing.json"), "-o", out});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("cannot open"), std::string::npos) << r.err;
  const std::string notjson = test::temp_path("notjson.json");
  test::write_file(notjson, "{ nope");
  r = run_deltallm({"import-tokenizer", notjson, "-o", out});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("not valid JSON"), std::string::npos) << r.err;
  auto j = test::tiny_tokenizer_json();
  j["model"]["merges"].push_back("Ġ zzz");
  const std::string badmerge = test::temp_path("badmerge.json");
  test::write_file(badmerge, j.dump());
  r = run_deltallm({"import-tokenizer", badmerge, "-o", out});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("merge 9"), std::string::npos) << r.err;
  auto cfg = test::tiny_tokenizer_config();
  cfg["bos_token"] = "<|nowhere|>";
  const std::string badcfg = test::temp_path("badcfg.json");
  test::write_file(badcfg, cfg.dump());
  r = run_deltallm({"import-tokenizer", tiny_files().tokenizer, badcfg, "-o", out});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("BOS token '<|nowhere|>'"), std::string::npos) << r.err;
}

TEST(ImportTokenizer, ConfigDetails) {
  auto cfg = test::tiny_tokenizer_config();
  cfg["bos_token"] = {{"content", "<|endoftext|>"}};
  cfg["add_bos_token"] = true;
  cfg["chat_template"] = nlohmann::ordered_json::array(
      {{{"name", "default"}, {"template", "A"}}, {{"name", "tool_use"}, {"template", "B"}}});
  const std::string path = test::temp_path("cfg2.json");
  test::write_file(path, cfg.dump());
  HfImportOptions opt;
  opt.config_path = path;
  const auto imp = import_hf_tokenizer(tiny_files().tokenizer, opt);
  EXPECT_EQ(imp.spec.bos, 300);
  EXPECT_EQ(imp.spec.add_bos, true);
  EXPECT_EQ(imp.chat_template, "A");
  ASSERT_EQ(imp.named_templates.size(), 1u);
  EXPECT_EQ(imp.named_templates[0].first, "tool_use");
  const auto tok = Tokenizer::from_spec(imp.spec);
  EXPECT_EQ(tok->encode_prompt("a"), (std::vector<int32_t>{300, 'a'}));
}

TEST(ImportTokenizer, ApplyPadsToAMultiple) {
  GgufWriter w;
  std::vector<std::string> warnings;
  const int64_t n = apply_hf_tokenizer(w, tiny_files().tokenizer, tiny_files().config, 256, "", &warnings);
  EXPECT_EQ(n, 512);
  EXPECT_TRUE(warnings.empty());
  const std::string path = test::temp_path("padded.gguf");
  w.write(path);
  const auto g = GgufFile::open(path);
  const GgufValue* tokens = g->get_array("tokenizer.ggml.tokens");
  const GgufValue* types = g->get_array("tokenizer.ggml.token_type");
  ASSERT_TRUE(tokens && types);
  ASSERT_EQ(tokens->items.size(), 512u);
  EXPECT_EQ(tokens->items[511].s, "[PAD511]");
  EXPECT_EQ(types->items[511].as_int(), 5);
  EXPECT_EQ(hf_config_beside(tiny_files().tokenizer), "");  // named tok_config.json, not tokenizer_config.json
}

// ---- tokenize ------------------------------------------------------------------

TEST(TokenizeCli, Formats) {
  const std::string& m = tiny_files().gguf;
  auto r = run_deltallm({"tokenize", "-m", m, "--ids-only", "the in abc"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "[116, 257, 260, 32, 262]\n");
  r = run_deltallm({"tokenize", "-m", m, "<|im_start|>a\n'b"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "301 -> '<|im_start|>'\n97 -> 'a'\n10 -> '\\n'\n39 -> '\\''\n98 -> 'b'\n");
  r = run_deltallm({"tokenize", "-m", m, "\xE4\xB8\xAD"});
  EXPECT_EQ(r.out, "228 -> '\\xE4'\n184 -> '\\xB8'\n173 -> '\\xAD'\n");
  r = run_deltallm({"tokenize", "-m", m, "--no-parse-special", "--ids-only", "<|im_end|><think>"});
  EXPECT_EQ(r.out, "[60, 124, 105, 109, 95, 101, 110, 100, 124, 62, 303]\n");
}

TEST(TokenizeCli, EmptyInputPrintsEmptyList) {
  const std::string& m = tiny_files().gguf;
  const std::string empty = test::temp_path("empty.txt");
  test::write_file(empty, "");
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"tokenize", "-m", m, ""}, {"tokenize", "-m", m, "--ids-only", ""}, {"tokenize", "-m", m, "-f", empty},
           {"tokenize", "-m", m}}) {
    const auto r = run_deltallm(args);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "[]\n");
  }
}

TEST(TokenizeCli, FileAndStdinAreVerbatim) {
  const std::string& m = tiny_files().gguf;
  const std::string f = test::temp_path("in.txt");
  test::write_file(f, "the\n");
  auto r = run_deltallm({"tokenize", "-m", m, "--ids-only", "-f", f});
  EXPECT_EQ(r.out, "[116, 257, 10]\n");  // the trailing newline is kept
  r = run_deltallm({"tokenize", "-m", m, "--ids-only"}, "the\n");
  EXPECT_EQ(r.out, "[116, 257, 10]\n");
  r = run_deltallm({"tokenize", "-m", m, "--ids-only", "-f", "/dev/stdin"}, "aaa");
  EXPECT_EQ(r.out, "[264, 97]\n");
  r = run_deltallm({"tokenize", "-m", m, "-f", f, "text"});
  EXPECT_EQ(r.status, 1);
}

TEST(TokenizeCli, Jsonl) {
  const std::string& m = tiny_files().gguf;
  auto r = run_deltallm({"tokenize", "-m", m, "--jsonl"}, "\"the\"\n\"\"\n\"<think>\\u00e9\"\n");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "[116,257]\n[]\n[303,195,169]\n");
  r = run_deltallm({"tokenize", "-m", m, "--jsonl"}, "\"ok\"\n[1]\n");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("line 2 is not a JSON string"), std::string::npos) << r.err;
  r = run_deltallm({"tokenize", "-m", m, "--jsonl"}, "\"ok\"\n{bad\n");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("line 2"), std::string::npos) << r.err;
}

TEST(TokenizeCli, Errors) {
  const std::string& m = tiny_files().gguf;
  const std::string bad = test::temp_path("bad.txt");
  test::write_file(bad, "abc\xFF");
  auto r = run_deltallm({"tokenize", "-m", m, "-f", bad});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("deltallm: error: invalid UTF-8 in the text to tokenize at byte 3"), std::string::npos) << r.err;
  r = run_deltallm({"tokenize", "-m", test::temp_path("nope.gguf"), "x"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "deltallm: error: cannot open '" + test::temp_path("nope.gguf") + "': No such file or directory\n");
  // A vocabulary whose tokenizer cannot be built: one line naming the key,
  // no load-time warning before it.
  GgufWriter w;
  w.set("general.architecture", GgufValue::str("qwen35"));
  w.set("tokenizer.ggml.model", GgufValue::str("gpt2"));
  w.set("tokenizer.ggml.tokens", GgufValue::str_array({"a", "b"}));
  const std::string nopre = test::temp_path("nopre.gguf");
  w.write(nopre);
  r = run_deltallm({"tokenize", "-m", nopre, "ab"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("deltallm: error: ", 0), 0u) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  EXPECT_NE(r.err.find("tokenizer.ggml.pre"), std::string::npos) << r.err;
  r = run_deltallm({"tokenize", "x"});
  EXPECT_EQ(r.status, 1);
  r = run_deltallm({"tokenize", "-m", m, "-f", test::temp_path("missing.txt")});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("cannot open"), std::string::npos) << r.err;
}

TEST(TokenizeCli, TestdataModel) {
  std::string td;
  DLLM_REQUIRE_TESTDATA(td);
  const auto r = run_deltallm({"tokenize", "-m", td + "/qwen35-tiny-f32.gguf", "--ids-only", "<|im_start|>user"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("[722, ", 0), 0u) << r.out;
}

}  // namespace
}  // namespace dllm
