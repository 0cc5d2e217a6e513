// Tokenizer library tests on a tiny hand-checkable vocabulary (see
// tokenizer_test_vocab.h), the UTF-8/NFC helpers against independent
// references, the streaming decoder, errors, and the tokenizer of the test
// data models. Hugging Face itself is the oracle in tokenizer_oracle_slow_test.
#include <gtest/gtest.h>
#include <utf8proc.h>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "support/test_support.h"
#include "text/tokenizer.h"
#include "text/tokenizer_pretok.h"
#include "text/unicode.h"
#include "text/vocab_import.h"
#include "text/tokenizer_test_vocab.h"
#include "util/error.h"

namespace dllm {
namespace {

using Ids = std::vector<int32_t>;

HfTokenizerImport import_tiny(bool pairs = false) {
  const std::string dir = test::temp_dir();
  const std::string tj = dir + (pairs ? "/tiny_pairs.json" : "/tiny.json");
  test::write_file(tj, test::tiny_tokenizer_json(pairs).dump());
  test::write_file(dir + "/tiny_config.json", test::tiny_tokenizer_config().dump());
  HfImportOptions opt;
  opt.config_path = dir + "/tiny_config.json";
  return import_hf_tokenizer(tj, opt);
}

const Tokenizer& tiny() {
  static const auto tok = Tokenizer::from_spec(import_tiny().spec);
  return *tok;
}

std::string u8(std::initializer_list<uint32_t> cps) {
  std::string s;
  for (uint32_t c : cps) utf8_append(s, c);
  return s;
}

// ---- UTF-8 and NFC -----------------------------------------------------------

TEST(Utf8, ValidPrefixRejectsEveryIllFormedKind) {
  EXPECT_EQ(utf8_valid_prefix("abc"), 3u);
  EXPECT_EQ(utf8_valid_prefix("a\xC3\xA9z"), 4u);
  EXPECT_EQ(utf8_valid_prefix("ab\xC0\x80"), 2u);          // overlong 2-byte
  EXPECT_EQ(utf8_valid_prefix("\xE0\x80\x80"), 0u);        // overlong 3-byte
  EXPECT_EQ(utf8_valid_prefix("x\xED\xA0\x80"), 1u);       // surrogate U+D800
  EXPECT_EQ(utf8_valid_prefix("\xF4\x90\x80\x80"), 0u);    // above U+10FFFF
  EXPECT_EQ(utf8_valid_prefix("\xF5\x80\x80\x80"), 0u);    // lead byte F5
  EXPECT_EQ(utf8_valid_prefix("ab\xE2\x82"), 2u);          // truncated
  EXPECT_EQ(utf8_valid_prefix("\x80"), 0u);                // lone continuation
  EXPECT_EQ(utf8_valid_prefix("\xF0\x9F\x98\x80!"), 5u);   // emoji
  EXPECT_EQ(utf8_valid_prefix(std::string("a\0b", 3)), 3u);  // NUL is valid
}

TEST(Utf8, LossyReplacesMaximalSubparts) {
  // The example of Unicode 15 §3.9 Table 3-8 ("U+FFFD for each maximal subpart").
  const std::string in = "\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64";
  std::string out;
  utf8_append_lossy(out, in);
  const std::string R = "\xEF\xBF\xBD";
  EXPECT_EQ(out, "a" + R + R + R + "b" + R + "c" + R + R + "d");
  // Surrogates and overlongs: one per byte (no valid prefix longer than 1).
  out.clear();
  utf8_append_lossy(out, "\xED\xA0\x80");
  EXPECT_EQ(out, R + R + R);
}

TEST(Utf8, RequireValidNamesTheByteOffset) {
  try {
    utf8_require_valid("hello \xFF world", "the prompt");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the prompt at byte 6"), std::string::npos) << e.what();
  }
}

// utf8_nfc cuts the text into runs; utf8proc on the whole string is the oracle.
TEST(Nfc, SegmentedEqualsWholeStringUtf8proc) {
  const std::vector<uint32_t> pool = {
      'a', 'e', 'o', 'A', ' ', '>', '=', '<', 'x', 0xE9, 0xC5, 0x1EB9, 0x300, 0x301, 0x302, 0x308, 0x323, 0x327,
      0x338, 0x340, 0x344, 0x345, 0x0958, 0x093C, 0x0915, 0x2126, 0x212B, 0x1100, 0x1161, 0x11A8, 0xAC00, 0xAC01,
      0x304B, 0x3099, 0x309A, 0x30AB, 0x0B47, 0x0B3E, 0x0B57, 0x0DD9, 0x0DCF, 0x0DCA, 0x1B05, 0x1B35, 0x11935,
      0x11930, 0x1D15E, 0x1D165, 0xFB1D, 0x0F73, 0x4E00, 0xF900, 0x2F800, 0x0627, 0x0653, 0x05D0, 0x05B8, 0x1E0A,
      0x0307, 0x0112, 0x0113, 0x1F00, 0x0345, 0x03B1, 0x0313, 0x0342, 0xFF76, 0xFF9E, 0x1F600, 0x200D, 0xFE0F};
  std::mt19937 rng(7);
  for (int iter = 0; iter < 3000; ++iter) {
    std::string s;
    const int n = 1 + static_cast<int>(rng() % 12);
    for (int i = 0; i < n; ++i) utf8_append(s, pool[rng() % pool.size()]);
    utf8proc_uint8_t* ref = utf8proc_NFC(reinterpret_cast<const utf8proc_uint8_t*>(s.c_str()));
    ASSERT_NE(ref, nullptr);
    const std::string want(reinterpret_cast<const char*>(ref));
    std::free(ref);
    ASSERT_EQ(utf8_nfc(s), want) << "input " << nlohmann::json(s).dump(-1, ' ', true);
  }
  EXPECT_EQ(utf8_nfc("e\xCC\x81"), "\xC3\xA9");
  EXPECT_EQ(utf8_nfc("plain ascii"), "plain ascii");
  EXPECT_EQ(utf8_nfc(u8({0x1100, 0x1161, 0x11A8})), u8({0xAC01}));  // Hangul L V T
}

TEST(Gpt2Map, IsTheGpt2ByteAlphabet) {
  std::vector<uint32_t> seen;
  for (int b = 0; b < 256; ++b) {
    const uint32_t c = gpt2_byte_char(static_cast<uint8_t>(b));
    EXPECT_EQ(gpt2_char_byte(c), b);
    seen.push_back(c);
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(std::unique(seen.begin(), seen.end()), seen.end());
  EXPECT_EQ(gpt2_byte_char(' '), 0x120u);
  EXPECT_EQ(gpt2_byte_char('\n'), 0x10Au);
  EXPECT_EQ(gpt2_byte_char(0xAD), 0x143u);  // the last of the 68 remapped bytes
  EXPECT_EQ(gpt2_byte_char('a'), static_cast<uint32_t>('a'));
  std::string raw;
  EXPECT_TRUE(gpt2_decode_text(gpt2_encode_bytes("a b\xFF\n"), raw));
  EXPECT_EQ(raw, "a b\xFF\n");
  EXPECT_FALSE(gpt2_decode_text("\xE4\xB8\xAD", raw));  // U+4E2D is not in the alphabet
}

// ---- pre-tokenizer -------------------------------------------------------------

std::vector<std::string> split(PreType t, const std::string& s) {
  RegexSplitter sp(pre_type_hf_regex(t));
  std::vector<RegexSplitter::Piece> p;
  sp.split(s, p);
  std::vector<std::string> out;
  for (const auto& x : p) out.push_back(s.substr(x.begin, x.end - x.begin));
  return out;
}

TEST(PreTokenizer, Qwen2SplitsAsThePatternSays) {
  using V = std::vector<std::string>;
  EXPECT_EQ(split(PreType::Qwen2, "Hello world"), (V{"Hello", " world"}));
  EXPECT_EQ(split(PreType::Qwen2, "I'M 12345"), (V{"I", "'M", " ", "1", "2", "3", "4", "5"}));
  EXPECT_EQ(split(PreType::Qwen2, "a  \n\n  b"), (V{"a", "  \n\n", " ", " b"}));
  EXPECT_EQ(split(PreType::Qwen2, "x'\u017Fa"), (V{"x", "'\u017F", "a"}));  // ſ case-folds to s
  // U+180E is not White_Space (PCRE2's own \s would say it is).
  EXPECT_EQ(split(PreType::Qwen2, "\u180E\u180E."), (V{"\u180E\u180E."}));
  EXPECT_EQ(split(PreType::Qwen2, "a\u3000\u3000b"), (V{"a", "\u3000", "\u3000b"}));
  EXPECT_EQ(split(PreType::Llama3, "12345"), (V{"123", "45"}));
  // qwen35 keeps combining marks in the letter run; qwen2 does not.
  EXPECT_EQ(split(PreType::Qwen35, "e\u0301t\u0308"), (V{"e\u0301t\u0308"}));
  EXPECT_EQ(split(PreType::Qwen2, "e\u0301t\u0308"), (V{"e", "\u0301t", "\u0308"}));
  EXPECT_TRUE(split(PreType::Qwen2, "").empty());
}

TEST(PreTokenizer, LongRunsNeedNoDeepStack) {
  const std::string spaces(1 << 20, ' '), letters(1 << 20, 'a');
  EXPECT_EQ(split(PreType::Qwen2, spaces).size(), 1u);
  EXPECT_EQ(split(PreType::Qwen2, letters + spaces + "b").size(), 3u);
}

// ---- BPE, specials, decoding on the tiny vocabulary --------------------------

TEST(TinyTokenizer, MergesByRank) {
  const Tokenizer& t = tiny();
  EXPECT_EQ(t.n_vocab(), 307);
  EXPECT_EQ(t.encode("the in abc"), (Ids{'t', 257, 260, ' ', 262}));
  EXPECT_EQ(t.encode("bcd"), (Ids{263, 'd'}));
  EXPECT_EQ(t.encode("aaa"), (Ids{264, 'a'}));    // leftmost pair first
  EXPECT_EQ(t.encode("aaaa"), (Ids{264, 264}));
  EXPECT_EQ(t.encode(" the"), (Ids{258}));        // Ġ t -> Ġt, h e -> he, Ġt he -> Ġthe
  EXPECT_EQ(t.encode(""), Ids{});
  EXPECT_EQ(t.encode("\xE4\xB8\xAD"), (Ids{0xE4, 0xB8, 0xAD}));  // bytes without merges
}

TEST(TinyTokenizer, SpecialTokens) {
  const Tokenizer& t = tiny();
  EXPECT_EQ(t.encode("<|im_start|>user<think>x"), (Ids{301, 'u', 's', 'e', 'r', 303, 'x'}));
  // Without parse_special, CONTROL texts are plain text; USER_DEFINED ones still match.
  Ids plain;
  for (char c : std::string("<|im_start|>")) plain.push_back(static_cast<uint8_t>(c));
  plain.push_back(303);
  EXPECT_EQ(t.encode("<|im_start|><think>", false), plain);
  EXPECT_EQ(t.encode("<|fim_pad|>"), (Ids{306}));  // looks special -> CONTROL
  EXPECT_EQ(t.token_type(306), TokenType::Control);
  EXPECT_EQ(t.token_type(303), TokenType::UserDefined);
  EXPECT_EQ(t.token_type(304), TokenType::Unused);
  EXPECT_EQ(t.token_text(304), "[PAD304]");
  EXPECT_EQ(t.encode("<|im_end|><|im_end|>"), (Ids{302, 302}));
  EXPECT_EQ(t.encode("<<|im_end|>>"), (Ids{'<', 302, '>'}));
  EXPECT_EQ(t.encode("<|im_end"), (Ids{'<', '|', 'i', 'm', '_', 'e', 'n', 'd'}));
}

TEST(TinyTokenizer, SpecialIdsAndEndOfGeneration) {
  const Tokenizer& t = tiny();
  EXPECT_EQ(t.bos(), -1);
  EXPECT_EQ(t.eos(), 302);
  EXPECT_EQ(t.pad(), 300);
  EXPECT_EQ(t.eot(), 302);  // <|im_end|> found by its text
  EXPECT_FALSE(t.add_bos());
  EXPECT_EQ(t.eog_ids(), (Ids{300, 302}));  // eos and <|endoftext|>
  EXPECT_TRUE(t.is_eog(300));
  EXPECT_FALSE(t.is_eog(301));
  EXPECT_FALSE(t.is_eog(-1));
  EXPECT_EQ(t.encode_prompt("a"), (Ids{'a'}));
}

TEST(TinyTokenizer, PiecesAndDecode) {
  const Tokenizer& t = tiny();
  EXPECT_EQ(t.token_to_piece(258), " the");
  EXPECT_EQ(t.token_to_piece(301), "");
  EXPECT_EQ(t.token_to_piece(301, true), "<|im_start|>");
  EXPECT_EQ(t.token_to_piece(303), "<think>");
  EXPECT_EQ(t.token_to_piece(304), "");
  EXPECT_EQ(t.token_to_piece(0xE4), "\xE4");
  EXPECT_THROW(t.token_to_piece(307), Error);
  EXPECT_THROW(t.token_to_piece(-1), Error);
  const std::string s = "<|im_start|>user\n<think>e\xCC\x81 \xE4\xB8\xAD the</think><|im_end|>";
  EXPECT_EQ(t.decode(t.encode(s), true), "<|im_start|>user\n<think>\xC3\xA9 \xE4\xB8\xAD the</think><|im_end|>");
  EXPECT_EQ(t.decode(t.encode(s)), "user\n<think>\xC3\xA9 \xE4\xB8\xAD the</think>");
  EXPECT_EQ(t.decode(Ids{0xE4, 0xB8}), "\xEF\xBF\xBD");  // an incomplete character decodes as U+FFFD
}

TEST(TinyTokenizer, InvalidUtf8IsAnError) {
  try {
    tiny().encode("ok \xC3\x28");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("invalid UTF-8"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("byte 3"), std::string::npos) << e.what();
  }
}

TEST(StreamDecoder, EmitsOnlyWholeCharacters) {
  const Tokenizer& t = tiny();
  StreamDecoder sd(t);
  EXPECT_EQ(sd.push(0xF0), "");
  EXPECT_EQ(sd.push(0x9F), "");
  EXPECT_EQ(sd.push(0x98), "");
  EXPECT_EQ(sd.push(0x80), "\xF0\x9F\x98\x80");
  EXPECT_EQ(sd.push('a'), "a");
  EXPECT_EQ(sd.push(0xFF), "\xEF\xBF\xBD");        // never valid: replaced at once
  EXPECT_EQ(sd.push(0xE4), "");
  EXPECT_EQ(sd.push('b'), "\xEF\xBF\xBD" "b");     // the pending lead byte can no longer complete
  EXPECT_EQ(sd.push(0xE4), "");
  EXPECT_EQ(sd.push(301), "");                     // hidden control token: nothing new
  EXPECT_EQ(sd.flush(), "\xEF\xBF\xBD");           // incomplete at the end
  EXPECT_EQ(sd.flush(), "");
  StreamDecoder shown(t, /*render_special=*/true);
  EXPECT_EQ(shown.push(302), "<|im_end|>");
}

TEST(TinyTokenizer, MergePairsAndStringsImportAlike) {
  const auto a = import_tiny(false), b = import_tiny(true);
  EXPECT_EQ(a.spec.merges, b.spec.merges);
  EXPECT_EQ(a.spec.tokens, b.spec.tokens);
  EXPECT_EQ(a.spec.merges[2], "Ġt he");
}

TEST(TinyTokenizer, GgufRoundTrip) {
  const auto imp = import_tiny();
  GgufWriter w;
  w.set("general.type", GgufValue::str("vocab"));
  write_tokenizer_keys(w, imp);
  const std::string path = test::temp_path("tiny_vocab.gguf");
  w.write(path);
  const auto f = GgufFile::open(path);
  EXPECT_EQ(f->get_str("tokenizer.chat_template").value_or(""),
            test::tiny_tokenizer_config()["chat_template"].get<std::string>());
  const auto t = Tokenizer::from_gguf(*f);
  for (const char* s : {"the in abc", "<|im_start|>user<think>x", "e\xCC\x81t\xCC\x88 12", ""}) {
    EXPECT_EQ(t->encode(s), tiny().encode(s)) << s;
  }
  EXPECT_EQ(t->eos(), 302);
  EXPECT_EQ(t->pad(), 300);
}

// Random bytes: either an invalid-UTF-8 error or ids that decode back to the
// NFC of the input; the streaming decoder agrees with decode (also a memory
// check under the sanitizer build).
TEST(TinyTokenizer, RandomInputs) {
  const Tokenizer& t = tiny();
  std::mt19937 rng(11);
  const std::vector<std::string> bits = {"a", "b", "c", " ", "\n", "'s", "<|im_end|>", "<think>", "\xC3\xA9", "e\xCC\x81",
                                         "\xE4\xB8\xAD", "\xF0\x9F\x98\x80", "\xFF", "\xE4", "\x80", "1", "\t"};
  int valid = 0;
  for (int iter = 0; iter < 2000; ++iter) {
    std::string s;
    const int n = static_cast<int>(rng() % 20);
    for (int i = 0; i < n; ++i) s += bits[rng() % bits.size()];
    if (!utf8_is_valid(s)) {
      EXPECT_THROW(t.encode(s), Error);
      continue;
    }
    ++valid;
    const Ids ids = t.encode(s);
    const std::string dec = t.decode(ids, true);
    EXPECT_EQ(dec, utf8_nfc(s));
    StreamDecoder sd(t, true);
    std::string streamed;
    for (int32_t id : ids) streamed += sd.push(id);
    streamed += sd.flush();
    EXPECT_EQ(streamed, dec);
  }
  EXPECT_GT(valid, 200);
}

// ---- bad vocabularies ------------------------------------------------------------

void expect_spec_error(const VocabSpec& s, const std::string& part) {
  try {
    Tokenizer::from_spec(s);
    ADD_FAILURE() << "no error, expected one mentioning '" << part << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

TEST(TokenizerErrors, BadSpecsAreOneLineErrors) {
  const VocabSpec good = import_tiny().spec;
  VocabSpec s = good;
  s.model = "llama";
  expect_spec_error(s, "tokenizer model 'llama'");
  s = good;
  s.pre = "falcon";
  expect_spec_error(s, "'falcon' is not supported");
  s = good;
  s.pre = "";
  expect_spec_error(s, "tokenizer.ggml.pre");
  s = good;
  s.types.pop_back();
  expect_spec_error(s, "token_type has");
  s = good;
  s.types[5] = 9;
  expect_spec_error(s, "token 5 has type 9");
  s = good;
  s.merges.push_back("x zz");
  expect_spec_error(s, "merge 9 'x zz'");
  s = good;
  s.merges.push_back("nospace");
  expect_spec_error(s, "merge 9 'nospace'");
  s = good;
  s.eos = 5000;
  expect_spec_error(s, "EOS token id 5000");
  s = good;
  s.add_bos = true;
  expect_spec_error(s, "adds BOS");
  s = good;
  s.tokens.clear();
  s.types.clear();
  expect_spec_error(s, "empty");
}

// ---- the test data models ----------------------------------------------------------

TEST(TestdataTokenizer, Qwen35TinyLoadsAndRoundTrips) {
  std::string td;
  DLLM_REQUIRE_TESTDATA(td);
  const auto f = GgufFile::open(td + "/qwen35-tiny-f32.gguf");
  const auto t = Tokenizer::from_gguf(*f);
  EXPECT_EQ(t->pre_type(), PreType::Qwen35);
  EXPECT_EQ(t->n_vocab(), 1024);
  EXPECT_EQ(t->eos(), 721);
  EXPECT_EQ(t->encode("<|im_start|>"), (Ids{722}));
  EXPECT_TRUE(t->is_eog(723));  // <|im_end|>
  EXPECT_EQ(t->token_type(724), TokenType::Unused);
  for (const std::string s : {"the tokenizer processes recurrent inference", "Hello, world! 123\n\n  x",
                              "caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80"}) {
    const Ids ids = t->encode(s);
    for (int32_t id : ids) EXPECT_LT(id, 721) << "ordinary text produced a special or padding id";
    EXPECT_EQ(t->decode(ids), s);
  }
  EXPECT_LT(t->encode(" the tokenizer").size(), std::string(" the tokenizer").size());  // merges apply
}

}  // namespace
}  // namespace dllm
