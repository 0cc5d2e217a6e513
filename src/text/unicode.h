// UTF-8 helpers for the tokenizer: validation with a byte offset, code point
// decoding, NFC (utf8proc) and the GPT-2 byte <-> code point map
// (kernels.md §6.2) that byte-level BPE vocabularies are written in.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dllm {

// Length of the longest prefix of `s` that is well-formed UTF-8 (no overlong
// forms, no surrogates, nothing above U+10FFFF). Equals s.size() when valid.
size_t utf8_valid_prefix(std::string_view s);
inline bool utf8_is_valid(std::string_view s) { return utf8_valid_prefix(s) == s.size(); }

// Throws dllm::Error "invalid UTF-8 in <what> at byte N" unless `s` is valid.
void utf8_require_valid(std::string_view s, std::string_view what);

// Byte length of the UTF-8 sequence that starts with `lead` (1..4), or 0 for a
// byte that cannot start a sequence.
inline int utf8_seq_len(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xC2) return 0;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  if (lead < 0xF5) return 4;
  return 0;
}

// Decodes the code point at s[i] of VALID UTF-8 and advances i.
inline uint32_t utf8_next(std::string_view s, size_t& i) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data()) + i;
  uint32_t c = p[0];
  if (c < 0x80) { i += 1; return c; }
  if (c < 0xE0) { i += 2; return ((c & 0x1F) << 6) | (p[1] & 0x3F); }
  if (c < 0xF0) { i += 3; return ((c & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F); }
  i += 4;
  return ((c & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F);
}

void utf8_append(std::string& out, uint32_t cp);

// Appends `s` with every ill-formed sequence replaced by U+FFFD (one per
// maximal invalid subpart, as WHATWG / String::from_utf8_lossy do).
void utf8_append_lossy(std::string& out, std::string_view s);

// Streaming form of utf8_append_lossy: appends the part of `s` that is
// complete and returns how many bytes it used; what is left is the start of a
// character that more bytes could still complete.
size_t utf8_append_complete(std::string& out, std::string_view s);

// Unicode NFC of valid UTF-8 (utf8proc). Only the runs of characters that
// can change or combine (with the character before each run) go through
// utf8proc; text below U+0300 is copied as is.
std::string utf8_nfc(std::string_view s);
// Appends NFC(s) to out; same contract as utf8_nfc.
void utf8_nfc_append(std::string& out, std::string_view s);

// GPT-2 byte-level map (kernels.md §6.2).
// gpt2_byte_char(b): the code point byte b is written as in vocabularies.
uint32_t gpt2_byte_char(uint8_t b);
// The byte for a code point of that alphabet, or -1 when cp is not in it.
int gpt2_char_byte(uint32_t cp);
// Raw bytes -> vocabulary form ("a b" -> "aĠb").
std::string gpt2_encode_bytes(std::string_view raw);
// Vocabulary form (valid UTF-8) -> raw bytes. Returns false (out unspecified)
// when a code point is outside the 256-character alphabet.
bool gpt2_decode_text(std::string_view text, std::string& out);

}  // namespace dllm
