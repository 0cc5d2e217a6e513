// A tiny byte-level BPE tokenizer.json / tokenizer_config.json for the
// tokenizer tests, with hand-computable results:
//   ids 0..255   the 256 byte characters (id == byte value)
//   256..264     merges "Ġ t", "h e", "Ġt he", "i n", "Ġ in", "a b", "ab c", "b c", "a a" (rank = order)
//   265..299     no token ([PADi] UNUSED after import)
//   300..302     <|endoftext|> <|im_start|> <|im_end|>   (special: CONTROL)
//   303          <think> (not special: USER_DEFINED)     304: hole
//   305          </think> (USER_DEFINED)                 306: <|fim_pad|> (not special, looks special: CONTROL)
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "text/tokenizer.h"
#include "text/unicode.h"

namespace dllm::test {

inline const char* kQwen2Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// merges_as_pairs: ["a","b"] instead of "a b".
inline nlohmann::ordered_json tiny_tokenizer_json(bool merges_as_pairs = false, const std::string& split = kQwen2Split) {
  using nlohmann::ordered_json;
  ordered_json vocab = ordered_json::object();
  for (int b = 0; b < 256; ++b) {
    std::string ch;
    utf8_append(ch, gpt2_byte_char(static_cast<uint8_t>(b)));
    vocab[ch] = b;
  }
  const char* merges[][2] = {{"Ġ", "t"}, {"h", "e"}, {"Ġt", "he"}, {"i", "n"}, {"Ġ", "in"},
                             {"a", "b"}, {"ab", "c"}, {"b", "c"}, {"a", "a"}};
  ordered_json jm = ordered_json::array();
  int id = 256;
  for (const auto& m : merges) {
    vocab[std::string(m[0]) + m[1]] = id++;
    if (merges_as_pairs) jm.push_back(ordered_json::array({m[0], m[1]}));
    else jm.push_back(std::string(m[0]) + " " + m[1]);
  }
  auto added = [](int id, const char* content, bool special) {
    return ordered_json{{"id", id},          {"content", content}, {"single_word", false}, {"lstrip", false},
                        {"rstrip", false},   {"normalized", false}, {"special", special}};
  };
  ordered_json j;
  j["version"] = "1.0";
  j["added_tokens"] = ordered_json::array({added(300, "<|endoftext|>", true), added(301, "<|im_start|>", true),
                                           added(302, "<|im_end|>", true), added(303, "<think>", false),
                                           added(305, "</think>", false), added(306, "<|fim_pad|>", false)});
  j["normalizer"] = {{"type", "NFC"}};
  j["pre_tokenizer"] = {
      {"type", "Sequence"},
      {"pretokenizers",
       ordered_json::array({{{"type", "Split"}, {"pattern", {{"Regex", split}}}, {"behavior", "Isolated"}, {"invert", false}},
                            {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}})}};
  j["post_processor"] = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}};
  j["decoder"] = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}};
  j["model"] = {{"type", "BPE"},       {"dropout", nullptr},    {"unk_token", nullptr},
                {"continuing_subword_prefix", ""}, {"end_of_word_suffix", ""}, {"fuse_unk", false},
                {"byte_fallback", false}, {"ignore_merges", false}, {"vocab", vocab}, {"merges", jm}};
  return j;
}

inline nlohmann::ordered_json tiny_tokenizer_config() {
  return {{"add_bos_token", false},
          {"bos_token", nullptr},
          {"eos_token", {{"content", "<|im_end|>"}, {"special", true}}},
          {"pad_token", "<|endoftext|>"},
          {"chat_template", "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"}};
}

}  // namespace dllm::test
