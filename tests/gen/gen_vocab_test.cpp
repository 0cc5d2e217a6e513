// The generator's BPE vocabulary: byte tokens, consistent merges, special
// tokens, padding, and common English words as single tokens under a plain
// rank-ordered BPE written here.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "gen/vocab.h"
#include "util/error.h"

namespace dllm::gen {
namespace {

// Splits UTF-8 into code point strings.
std::vector<std::string> chars(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    out.push_back(s.substr(i, len));
    i += len;
  }
  return out;
}

// Rank-ordered BPE of one pre-token (kernels.md §6.4, simple quadratic form).
std::vector<std::string> bpe(const Vocab& v, const std::string& pretoken) {
  std::map<std::pair<std::string, std::string>, size_t> rank;
  for (size_t i = 0; i < v.merges.size(); ++i) {
    const size_t sp = v.merges[i].find(' ', 1);
    rank[{v.merges[i].substr(0, sp), v.merges[i].substr(sp + 1)}] = i;
  }
  std::vector<std::string> syms = chars(byte_encode(pretoken));
  for (;;) {
    size_t best = SIZE_MAX, at = 0;
    for (size_t k = 0; k + 1 < syms.size(); ++k) {
      auto it = rank.find({syms[k], syms[k + 1]});
      if (it != rank.end() && it->second < best) best = it->second, at = k;
    }
    if (best == SIZE_MAX) return syms;
    syms[at] += syms[at + 1];
    syms.erase(syms.begin() + long(at) + 1);
  }
}

TEST(GenVocab, ByteEncoding) {
  EXPECT_EQ(byte_encode(" "), "\xC4\xA0");   // U+0120 'Ġ'
  EXPECT_EQ(byte_encode("\n"), "\xC4\x8A");  // U+010A 'Ċ'
  EXPECT_EQ(byte_encode("a!~"), "a!~");
  EXPECT_EQ(byte_encode(std::string(1, '\0')), "\xC4\x80");   // U+0100
  EXPECT_EQ(byte_encode("\xAD"), "\xC5\x83");                  // the 68th remapped byte: U+0143
  EXPECT_EQ(byte_encode("\xE9"), "\xC3\xA9");                  // printable Latin-1 keeps its value
}

TEST(GenVocab, StructureAndConsistency) {
  const Vocab v = build_vocab(1024);
  ASSERT_EQ(v.tokens.size(), 1024u);
  ASSERT_EQ(v.types.size(), 1024u);

  // All 256 bytes, first, NORMAL (as Qwen's vocabulary has them).
  std::set<std::string> bytes;
  for (int b = 0; b < 256; ++b) bytes.insert(byte_encode(std::string(1, char(b))));
  EXPECT_EQ(std::set<std::string>(v.tokens.begin(), v.tokens.begin() + 256), bytes);
  EXPECT_EQ(v.tokens[0], "!");
  EXPECT_EQ(v.tokens[188], "\xC4\x80");  // first remapped byte after the 188 printable ones

  std::set<std::string> unique(v.tokens.begin(), v.tokens.end());
  EXPECT_EQ(unique.size(), v.tokens.size()) << "duplicate token text";

  // Every merge has both parts and its result in the vocabulary.
  EXPECT_GE(v.merges.size(), 300u);
  EXPECT_LE(v.merges.size(), size_t(kMaxMerges));
  std::set<std::string> merge_set;
  for (const std::string& m : v.merges) {
    const size_t sp = m.find(' ', 1);
    ASSERT_NE(sp, std::string::npos) << m;
    const std::string l = m.substr(0, sp), r = m.substr(sp + 1);
    EXPECT_TRUE(unique.count(l)) << m;
    EXPECT_TRUE(unique.count(r)) << m;
    EXPECT_TRUE(unique.count(l + r)) << m;
    EXPECT_TRUE(merge_set.insert(m).second) << "duplicate merge " << m;
  }

  // Special tokens.
  auto id_of = [&](const std::string& t) {
    for (size_t i = 0; i < v.tokens.size(); ++i)
      if (v.tokens[i] == t) return int(i);
    return -1;
  };
  EXPECT_EQ(id_of("<|endoftext|>"), int(v.eos_id));
  EXPECT_EQ(id_of("<|im_start|>"), int(v.im_start_id));
  EXPECT_EQ(id_of("<|im_end|>"), int(v.im_end_id));
  for (const char* t : {"<|endoftext|>", "<|im_start|>", "<|im_end|>"}) {
    ASSERT_GE(id_of(t), 0) << t;
    EXPECT_EQ(v.types[size_t(id_of(t))], kTokControl) << t;
  }
  for (const char* t : {"<think>", "</think>", "<tool_call>", "</tool_call>"}) {
    ASSERT_GE(id_of(t), 0) << t;
    EXPECT_EQ(v.types[size_t(id_of(t))], kTokUserDefined) << t;
  }

  // Types: NORMAL before the specials, UNUSED [PADn] after them, numbered from 0.
  for (uint32_t i = 0; i < v.eos_id; ++i) EXPECT_EQ(v.types[i], kTokNormal) << i;
  EXPECT_EQ(v.n_real, v.eos_id + 7);
  for (uint32_t i = v.n_real; i < 1024; ++i) {
    EXPECT_EQ(v.types[i], kTokUnused);
    EXPECT_EQ(v.tokens[i], "[PAD" + std::to_string(i - v.n_real) + "]");
  }
}

TEST(GenVocab, CommonWordsAreSingleTokens) {
  const Vocab v = build_vocab(1024);
  for (const char* w : {" the", " and", " of", " to", " in", " is", " that", " it", " was", " for", " with",
                        " you", " people", " every", "The"}) {
    EXPECT_EQ(bpe(v, w).size(), 1u) << "'" << w << "'";
  }
  // An unseen word still encodes, into byte-level pieces of the vocabulary.
  std::set<std::string> all(v.tokens.begin(), v.tokens.end());
  for (const std::string& piece : bpe(v, " zyxwvut")) EXPECT_TRUE(all.count(piece)) << piece;
}

TEST(GenVocab, SizesAndDeterminism) {
  const Vocab a = build_vocab(4096), b = build_vocab(4096);
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.merges, b.merges);
  // Same real tokens at every size that fits them all.
  const Vocab c = build_vocab(1024);
  EXPECT_EQ(a.n_real, c.n_real);
  EXPECT_TRUE(std::equal(c.tokens.begin(), c.tokens.begin() + c.n_real, a.tokens.begin()));
  // A vocab too small for all merges keeps fewer, still consistent.
  const Vocab s = build_vocab(300);
  EXPECT_EQ(s.tokens.size(), 300u);
  EXPECT_EQ(s.merges.size(), 300u - 256 - 7);
  EXPECT_EQ(s.n_real, 300u);
  EXPECT_THROW(build_vocab(262), Error);
}

TEST(GenVocab, ChatTemplateIsChatML) {
  const std::string t = kChatTemplate;
  EXPECT_NE(t.find("<|im_start|>"), std::string::npos);
  EXPECT_NE(t.find("<|im_end|>"), std::string::npos);
  EXPECT_NE(t.find("add_generation_prompt"), std::string::npos);
}

}  // namespace
}  // namespace dllm::gen
