#include "text/unicode.h"

#include <utf8proc.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "util/error.h"

namespace dllm {
namespace {

// Length of the well-formed sequence at s[i] (1..4), or -k where k >= 1 is
// the length of the maximal ill-formed subpart starting there (Unicode §3.9,
// "maximal subpart"): the bytes that one U+FFFD replaces. When the input
// ends inside a sequence that is valid so far, *truncated is set (if given).
int utf8_step(const uint8_t* p, size_t n, bool* truncated = nullptr) {
  const uint8_t b = p[0];
  if (b < 0x80) return 1;
  const int len = utf8_seq_len(b);
  if (len == 0) return -1;
  // The second byte has a narrower range after E0, ED, F0 and F4 (this is what
  // rules out overlong forms, surrogates and code points above U+10FFFF).
  uint8_t lo = 0x80, hi = 0xBF;
  if (b == 0xE0) lo = 0xA0;
  else if (b == 0xED) hi = 0x9F;
  else if (b == 0xF0) lo = 0x90;
  else if (b == 0xF4) hi = 0x8F;
  for (int k = 1; k < len; ++k) {
    if (static_cast<size_t>(k) >= n) {
      if (truncated) *truncated = true;
      return -k;
    }
    const uint8_t c = p[k];
    if (k == 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xBF)) return -k;
  }
  return len;
}

struct Gpt2Map {
  std::array<uint32_t, 256> byte_to_cp{};
  std::array<int16_t, 324> cp_to_byte{};  // the alphabet lies within U+0000..U+0143
  Gpt2Map() {
    cp_to_byte.fill(-1);
    int next = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const uint32_t cp = printable ? static_cast<uint32_t>(b) : static_cast<uint32_t>(0x100 + next++);
      byte_to_cp[b] = cp;
      cp_to_byte[cp] = static_cast<int16_t>(b);
    }
  }
};
const Gpt2Map& gpt2_map() {
  static const Gpt2Map m;
  return m;
}

}  // namespace

size_t utf8_valid_prefix(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // ASCII fast path, 8 bytes at a time.
    while (i + 8 <= n) {
      uint64_t w;
      __builtin_memcpy(&w, p + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= n) break;
    const int step = utf8_step(p + i, n - i);
    if (step < 0) return i;
    i += static_cast<size_t>(step);
  }
  return n;
}

void utf8_require_valid(std::string_view s, std::string_view what) {
  const size_t ok = utf8_valid_prefix(s);
  if (ok != s.size()) {
    fail("invalid UTF-8 in ", what, " at byte ", ok, " (byte 0x", std::hex,
         static_cast<int>(static_cast<uint8_t>(s[ok])), ")");
  }
}

void utf8_append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

void utf8_append_lossy(std::string& out, std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const int step = utf8_step(p + i, n - i);
    if (step > 0) {
      out.append(s.data() + i, static_cast<size_t>(step));
      i += static_cast<size_t>(step);
    } else {
      out += "\xEF\xBF\xBD";
      i += static_cast<size_t>(-step);
    }
  }
}

size_t utf8_append_complete(std::string& out, std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    bool truncated = false;
    const int step = utf8_step(p + i, n - i, &truncated);
    if (step > 0) {
      out.append(s.data() + i, static_cast<size_t>(step));
      i += static_cast<size_t>(step);
    } else if (truncated) {
      break;
    } else {
      out += "\xEF\xBF\xBD";
      i += static_cast<size_t>(-step);
    }
  }
  return i;
}

namespace {

// Code points before which NFC can always cut text: NFC(a + b) == NFC(a) +
// NFC(b) whenever b starts with one. They have combining class 0, are never
// the second part of a composition, and are unchanged by NFC on their own
// (Unicode's NFC_Quick_Check = Yes with ccc = 0). Built once from utf8proc.
struct NfcBoundaries {
  std::vector<uint64_t> bits;  // [0x110000 / 64]
  NfcBoundaries() : bits(0x110000 / 64, 0) {
    for (int32_t c = 0; c < 0x110000; ++c) {
      if (c >= 0xD800 && c <= 0xDFFF) continue;
      const utf8proc_property_t* p = utf8proc_get_property(c);
      if (p->combining_class != 0) continue;
      // utf8proc marks the second part of a composition with comb_index >=
      // 0x8000; Hangul V and T jamo compose algorithmically.
      if (p->comb_index != UINT16_MAX && p->comb_index >= 0x8000) continue;
      if ((c >= 0x1161 && c <= 0x1175) || (c >= 0x11A8 && c <= 0x11C2)) continue;
      if (p->decomp_seqindex != UINT16_MAX && p->decomp_type == 0) {
        // Canonically decomposable: safe only if NFC gives it back (not a
        // singleton, an exclusion or a non-starter decomposition).
        uint8_t buf[4];
        const auto len = utf8proc_encode_char(c, buf);
        utf8proc_uint8_t* dst = nullptr;
        const auto r = utf8proc_map(buf, len, &dst, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
        const bool same = r == len && std::memcmp(dst, buf, static_cast<size_t>(len)) == 0;
        std::free(dst);
        if (!same) continue;
      }
      bits[static_cast<size_t>(c) >> 6] |= 1ull << (c & 63);
    }
  }
  bool safe(uint32_t c) const { return (bits[c >> 6] >> (c & 63)) & 1; }
};

const NfcBoundaries& nfc_boundaries() {
  static const NfcBoundaries b;
  return b;
}

void nfc_region(std::string& out, std::string_view s) {
  utf8proc_uint8_t* dst = nullptr;
  const utf8proc_ssize_t r =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()), static_cast<utf8proc_ssize_t>(s.size()),
                   &dst, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (r < 0) fail("NFC normalization failed: ", utf8proc_errmsg(r));
  out.append(reinterpret_cast<const char*>(dst), static_cast<size_t>(r));
  std::free(dst);
}

}  // namespace

void utf8_nfc_append(std::string& out, std::string_view s) {
  // Lead bytes below 0xCC only start code points below U+0300, all of which
  // are NFC boundaries: the common case needs no look at the table.
  size_t i = 0;
  const size_t n = s.size();
  while (i < n && static_cast<uint8_t>(s[i]) < 0xCC) ++i;
  if (i == n) {
    out.append(s);
    return;
  }
  // Only the runs of non-boundary characters, with the character before each
  // (it may compose with them), go through utf8proc.
  const NfcBoundaries& nb = nfc_boundaries();
  size_t done = 0;                       // s[0, done) is in out
  size_t region = std::string_view::npos;  // start of a run that needs utf8proc
  size_t prev = 0;                       // start of the previous character
  i = 0;
  while (i < n) {
    const size_t start = i;
    const uint32_t c = utf8_next(s, i);
    if (nb.safe(c)) {
      if (region != std::string_view::npos) {
        nfc_region(out, s.substr(region, start - region));
        done = start;
        region = std::string_view::npos;
      }
    } else if (region == std::string_view::npos) {
      region = start > 0 ? prev : 0;
      out.append(s, done, region - done);
      done = region;
    }
    prev = start;
  }
  if (region != std::string_view::npos) nfc_region(out, s.substr(region));
  else out.append(s, done, n - done);
}

std::string utf8_nfc(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  utf8_nfc_append(out, s);
  return out;
}

uint32_t gpt2_byte_char(uint8_t b) { return gpt2_map().byte_to_cp[b]; }

int gpt2_char_byte(uint32_t cp) {
  const auto& m = gpt2_map();
  return cp < m.cp_to_byte.size() ? m.cp_to_byte[cp] : -1;
}

std::string gpt2_encode_bytes(std::string_view raw) {
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char b : raw) utf8_append(out, gpt2_byte_char(b));
  return out;
}

bool gpt2_decode_text(std::string_view text, std::string& out) {
  out.clear();
  if (!utf8_is_valid(text)) return false;
  size_t i = 0;
  while (i < text.size()) {
    const int b = gpt2_char_byte(utf8_next(text, i));
    if (b < 0) return false;
    out += static_cast<char>(b);
  }
  return true;
}

}  // namespace dllm
