// Helpers of the command-line tests that read text files: a generated text,
// a temp file holding it, and the check that a command failed the way every
// command must (exit 1, nothing on stdout, one `deltallm: error:` line last).
#pragma once
#include <gtest/gtest.h>

#include <deltallm.h>

#include <algorithm>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "support/test_support.h"

namespace dllm::test {

// Words drawn from a fixed list by a small LCG: a text of a few thousand
// tokens for the tiny models' byte-level vocabulary.
inline std::string make_word_text(uint32_t seed, int n_words) {
  static const char* words[] = {"the",  "people", "and",   "world", "of",     "a",     "model",   "reads",
                                "text", "every",  "token", "state", "delta",  "river", "stone",   "light",
                                "over", "under",  "quiet", "number", "seven", "blue",  "morning", "writes"};
  std::string s;
  uint32_t x = seed;
  for (int i = 0; i < n_words; ++i) {
    x = x * 1664525u + 1013904223u;
    s += words[(x >> 8) % (sizeof words / sizeof *words)];
    s += (i % 11 == 10) ? ".\n" : " ";
  }
  return s;
}

inline std::string text_file(const std::string& name, const std::string& text) {
  const std::string p = temp_path(name);
  write_file(p, text);
  return p;
}

// The model's tokens of `text`, special tokens added as the model asks (as
// the text commands tokenize).
inline std::vector<int32_t> tokens_of(deltallm_model* m, const std::string& text) {
  std::vector<int32_t> ids(text.size() + 8);
  size_t n = 0;
  EXPECT_EQ(deltallm_tokenize(m, text.data(), text.size(), DELTALLM_TOKENIZE_ADD_SPECIAL, ids.data(), ids.size(), &n),
            DELTALLM_OK);
  ids.resize(std::min(n, ids.size()));
  return ids;
}

// Exactly one error line, the last line of stderr, containing `text`; nothing on stdout.
inline void expect_error(const CmdResult& r, const std::string& text) {
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  std::istringstream ss(r.err);
  std::string line, last;
  int n_error = 0;
  while (std::getline(ss, line)) {
    if (line.rfind("deltallm: error: ", 0) == 0) ++n_error;
    last = line;
  }
  EXPECT_EQ(n_error, 1) << r.err;
  EXPECT_EQ(last.rfind("deltallm: error: ", 0), 0u) << r.err;
  EXPECT_NE(last.find(text), std::string::npos) << r.err;
}

}  // namespace dllm::test
