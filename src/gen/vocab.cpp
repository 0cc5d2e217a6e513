// Byte-level BPE vocabulary for generated models: merges are learned from
// kMergeCorpus with the classic pair-counting procedure, on pre-tokens split
// like the qwen2 regex (kernels.md §6.3, ASCII subset: the corpus is ASCII),
// so that a merge never spans a pre-token boundary the tokenizer would cut.
#include "gen/vocab.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <unordered_set>

#include "util/error.h"

namespace dllm::gen {

const char* const kChatTemplate =
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false %}"
    "{{- '<think>\\n\\n</think>\\n\\n' }}"
    "{%- endif %}"
    "{%- endif %}";

namespace {

// Code point of byte b in the GPT-2 map: printable Latin-1 bytes keep their
// value, the other 68 bytes take U+0100.. in increasing byte order.
uint32_t byte_code_point(uint8_t b) {
  auto printable = [](int c) { return (c >= 0x21 && c <= 0x7E) || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE && c <= 0xFF); };
  if (printable(b)) return b;
  uint32_t n = 0;
  for (int c = 0; c < b; ++c)
    if (!printable(c)) ++n;
  return 0x100 + n;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

const std::string& encoded_byte(uint8_t b) {
  static const std::vector<std::string> table = [] {
    std::vector<std::string> t(256);
    for (int i = 0; i < 256; ++i) append_utf8(t[i], byte_code_point(uint8_t(i)));
    return t;
  }();
  return table[b];
}

bool is_letter(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool is_newline(char c) { return c == '\r' || c == '\n'; }

// Length of the pre-token starting at s[i] (qwen2 regex alternatives, in order).
size_t pretoken_len(std::string_view s, size_t i) {
  const size_t n = s.size();
  const char c = s[i];
  // (?i:'s|'t|'re|'ve|'m|'ll|'d)
  if (c == '\'' && i + 1 < n) {
    auto lower = [&](size_t k) { return k < n ? char(std::tolower(static_cast<unsigned char>(s[k]))) : '\0'; };
    const char a = lower(i + 1), b = lower(i + 2);
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  }
  // [^\r\n\p{L}\p{N}]?\p{L}+
  {
    size_t j = i;
    if (!is_letter(c) && !is_newline(c) && !is_digit(c)) ++j;
    if (j < n && is_letter(s[j])) {
      while (j < n && is_letter(s[j])) ++j;
      return j - i;
    }
  }
  // \p{N}
  if (is_digit(c)) return 1;
  // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
  {
    size_t j = i;
    if (c == ' ') ++j;
    const size_t start = j;
    while (j < n && !is_space(s[j]) && !is_letter(s[j]) && !is_digit(s[j])) ++j;
    if (j > start) {
      while (j < n && is_newline(s[j])) ++j;
      return j - i;
    }
  }
  // Whitespace run [i, j).
  size_t j = i;
  while (j < n && is_space(s[j])) ++j;
  // \s*[\r\n]+ : up to the last newline of the run.
  for (size_t k = j; k > i; --k)
    if (is_newline(s[k - 1])) return k - i;
  // \s+(?!\S) : leave the last space for the following word.
  if (j == n || j - i == 1) return j - i;
  return j - 1 - i;
}

std::vector<std::string> split_utf8(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    size_t len = 1;
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0xF0) len = 4;
    else if (c >= 0xE0) len = 3;
    else if (c >= 0xC0) len = 2;
    out.push_back(s.substr(i, len));
    i += len;
  }
  return out;
}

struct Word {
  std::vector<std::string> syms;
  int64_t count;
};

// Learns up to max_merges merges: each step merges the most frequent adjacent
// pair (ties: the lexicographically smallest pair), until no pair occurs twice.
std::vector<std::pair<std::string, std::string>> learn_merges(std::string_view text, int max_merges) {
  std::map<std::string, int64_t> counts;
  for (size_t i = 0; i < text.size();) {
    const size_t len = pretoken_len(text, i);
    counts[byte_encode(text.substr(i, len))]++;
    i += len;
  }
  std::vector<Word> words;
  for (const auto& [w, c] : counts) words.push_back({split_utf8(w), c});

  std::vector<std::pair<std::string, std::string>> merges;
  while (int(merges.size()) < max_merges) {
    std::map<std::pair<std::string, std::string>, int64_t> pairs;
    for (const Word& w : words)
      for (size_t k = 0; k + 1 < w.syms.size(); ++k) pairs[{w.syms[k], w.syms[k + 1]}] += w.count;
    const std::pair<std::string, std::string>* best = nullptr;
    int64_t best_count = 1;
    for (const auto& [p, c] : pairs)  // map order: ties keep the smallest pair
      if (c > best_count) best = &p, best_count = c;
    if (!best) break;
    const auto m = *best;
    merges.push_back(m);
    for (Word& w : words) {
      std::vector<std::string> out;
      for (size_t k = 0; k < w.syms.size(); ++k) {
        if (k + 1 < w.syms.size() && w.syms[k] == m.first && w.syms[k + 1] == m.second) {
          out.push_back(m.first + m.second);
          ++k;
        } else {
          out.push_back(w.syms[k]);
        }
      }
      w.syms = std::move(out);
    }
  }
  return merges;
}

}  // namespace

std::string byte_encode(std::string_view bytes) {
  std::string out;
  for (char c : bytes) out += encoded_byte(static_cast<uint8_t>(c));
  return out;
}

Vocab build_vocab(uint32_t n_vocab) {
  static const char* const kControl[] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
  static const char* const kUser[] = {"<tool_call>", "</tool_call>", "<think>", "</think>"};
  const uint32_t n_special = 7;
  if (n_vocab < 256 + n_special)
    fail("vocabulary size ", n_vocab, " is too small (at least ", 256 + n_special, " tokens: 256 bytes and ",
         n_special, " special tokens)");

  Vocab v;
  // The 256 byte tokens, in the order of the GPT-2 map: printable bytes first.
  std::vector<uint8_t> order;
  for (int b = 0; b < 256; ++b)
    if (byte_code_point(uint8_t(b)) == uint32_t(b)) order.push_back(uint8_t(b));
  for (int b = 0; b < 256; ++b)
    if (byte_code_point(uint8_t(b)) != uint32_t(b)) order.push_back(uint8_t(b));
  for (uint8_t b : order) {
    v.tokens.push_back(encoded_byte(b));
    v.types.push_back(kTokNormal);
  }

  const int max_merges = int(std::min<uint32_t>(kMaxMerges, n_vocab - 256 - n_special));
  std::unordered_set<std::string> seen(v.tokens.begin(), v.tokens.end());
  // Learned once: the corpus is fixed; smaller vocabularies take a prefix.
  static const auto learned = learn_merges(kMergeCorpus, kMaxMerges);
  for (size_t i = 0; i < learned.size() && int(i) < max_merges; ++i) {
    const auto& [l, r] = learned[i];
    v.merges.push_back(l + " " + r);
    // Two merges can spell the same string; the token exists once.
    if (seen.insert(l + r).second) {
      v.tokens.push_back(l + r);
      v.types.push_back(kTokNormal);
    }
  }

  v.eos_id = uint32_t(v.tokens.size());
  v.im_start_id = v.eos_id + 1;
  v.im_end_id = v.eos_id + 2;
  for (const char* t : kControl) {
    v.tokens.push_back(t);
    v.types.push_back(kTokControl);
  }
  for (const char* t : kUser) {
    v.tokens.push_back(t);
    v.types.push_back(kTokUserDefined);
  }
  v.n_real = uint32_t(v.tokens.size());
  for (uint32_t i = 0; v.tokens.size() < n_vocab; ++i) {
    v.tokens.push_back("[PAD" + std::to_string(i) + "]");
    v.types.push_back(kTokUnused);
  }
  return v;
}

}  // namespace dllm::gen
