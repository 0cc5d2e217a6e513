#include "text/jinja/ustring.h"

#include <utf8proc.h>

#include "text/unicode.h"
#include "util/error.h"

namespace dllm::jinja {

bool utf8_valid(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  size_t i = 0, n = s.size();
  while (i < n) {
    uint8_t c = p[i];
    if (c < 0x80) { ++i; continue; }
    int len;
    uint32_t cp;
    if (c >= 0xC2 && c < 0xE0) { len = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c < 0xF0) { len = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c < 0xF5) { len = 4; cp = c & 0x07; }
    else return false;
    if (i + len > n) return false;
    for (int k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    // Overlong 3/4-byte forms, surrogates and values past U+10FFFF.
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

static char32_t next_cp(std::string_view s, size_t& i) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data()) + i;
  uint32_t c = p[0];
  if (c < 0x80) { i += 1; return c; }
  if (c < 0xE0) { i += 2; return ((c & 0x1F) << 6) | (p[1] & 0x3F); }
  if (c < 0xF0) { i += 3; return ((c & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F); }
  i += 4;
  return ((c & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F);
}

std::u32string to_u32(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) out.push_back(next_cp(s, i));
  return out;
}

// One UTF-8 encoder for the project: text/unicode.h.
void append_utf8(std::string& out, char32_t cp) { utf8_append(out, static_cast<uint32_t>(cp)); }

std::string to_utf8(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) append_utf8(out, c);
  return out;
}

size_t cp_count(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

static utf8proc_category_t cat(char32_t c) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(c));
}

bool py_isspace(char32_t c) {
  if (c <= 0x20) return c == 0x20 || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
  switch (c) {
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

bool py_isprintable(char32_t c) {
  if (c == ' ') return true;
  switch (cat(c)) {
    case UTF8PROC_CATEGORY_CN: case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS: case UTF8PROC_CATEGORY_CO: case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP:
      return false;
    default:
      return true;
  }
}

bool py_isalpha(char32_t c) {
  switch (cat(c)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
      return true;
    default:
      return false;
  }
}

bool py_isdecimal(char32_t c) { return cat(c) == UTF8PROC_CATEGORY_ND; }

bool py_isdigit(char32_t c) {
  if (py_isdecimal(c)) return true;
  // Numeric_Type=Digit outside Nd: superscripts, subscripts, circled and
  // parenthesised digits (UnicodeData.txt field 7 without field 6).
  static const char32_t kDigitRanges[][2] = {
      {0xB2, 0xB3},       {0xB9, 0xB9},       {0x1369, 0x1371},   {0x19DA, 0x19DA},   {0x2070, 0x2070},
      {0x2074, 0x2079},   {0x2080, 0x2089},   {0x2460, 0x2468},   {0x2474, 0x247C},   {0x2488, 0x2490},
      {0x24EA, 0x24EA},   {0x24F5, 0x24FD},   {0x24FF, 0x24FF},   {0x2776, 0x277E},   {0x2780, 0x2788},
      {0x278A, 0x2792},   {0x10A40, 0x10A43}, {0x10E60, 0x10E68}, {0x11052, 0x1105A}, {0x1F100, 0x1F10A}};
  for (const auto& r : kDigitRanges)
    if (c >= r[0] && c <= r[1]) return true;
  return false;
}

bool py_isnumeric(char32_t c) {
  auto k = cat(c);
  return k == UTF8PROC_CATEGORY_ND || k == UTF8PROC_CATEGORY_NL || k == UTF8PROC_CATEGORY_NO || py_isdigit(c);
}

bool py_isalnum(char32_t c) {
  auto k = cat(c);
  return py_isalpha(c) || k == UTF8PROC_CATEGORY_ND || k == UTF8PROC_CATEGORY_NL || k == UTF8PROC_CATEGORY_NO ||
         py_isdigit(c);
}

bool py_iscased(char32_t c) {
  auto k = cat(c);
  return k == UTF8PROC_CATEGORY_LU || k == UTF8PROC_CATEGORY_LL || k == UTF8PROC_CATEGORY_LT;
}
bool py_islower_cp(char32_t c) { return cat(c) == UTF8PROC_CATEGORY_LL; }
bool py_isupper_cp(char32_t c) { return cat(c) == UTF8PROC_CATEGORY_LU || cat(c) == UTF8PROC_CATEGORY_LT; }

namespace {

enum class Case { kUpper, kLower, kTitle };

// Full mappings (Unicode SpecialCasing.txt, unconditional part) for the
// characters people actually meet; the remaining special characters are
// refused below rather than mapped with the simple (different) mapping.
const char32_t* special_full(char32_t c, Case to) {
  if (to == Case::kLower) {
    if (c == 0x0130) return U"i\u0307";
    return nullptr;
  }
  const bool up = to == Case::kUpper;
  switch (c) {
    case 0x00DF: return up ? U"SS" : U"Ss";
    case 0xFB00: return up ? U"FF" : U"Ff";
    case 0xFB01: return up ? U"FI" : U"Fi";
    case 0xFB02: return up ? U"FL" : U"Fl";
    case 0xFB03: return up ? U"FFI" : U"Ffi";
    case 0xFB04: return up ? U"FFL" : U"Ffl";
    case 0xFB05: case 0xFB06: return up ? U"ST" : U"St";
    default: return nullptr;
  }
}

bool unsupported_special(char32_t c, Case to) {
  if (to == Case::kLower) return c == 0x03A3;  // final-sigma rule is contextual
  return c == 0x0149 || c == 0x01F0 || c == 0x0390 || c == 0x03B0 || c == 0x0587 ||
         (c >= 0x1E96 && c <= 0x1E9A) || (c >= 0x1F50 && c <= 0x1FFF) || (c >= 0xFB13 && c <= 0xFB17);
}

void map_cp(std::string& out, char32_t c, Case to) {
  if (c < 0x80) {
    if (to == Case::kLower) out += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    else out += static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
    return;
  }
  if (const char32_t* full = special_full(c, to)) {
    for (; *full; ++full) append_utf8(out, *full);
    return;
  }
  if (unsupported_special(c, to)) {
    fail("chat template: case mapping of U+", std::hex, static_cast<uint32_t>(c),
         " needs Unicode special casing (unsupported)");
  }
  auto cp = static_cast<utf8proc_int32_t>(c);
  utf8proc_int32_t m = to == Case::kLower ? utf8proc_tolower(cp)
                       : to == Case::kUpper ? utf8proc_toupper(cp) : utf8proc_totitle(cp);
  append_utf8(out, static_cast<char32_t>(m));
}

}  // namespace

std::string py_upper(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) map_cp(out, next_cp(s, i), Case::kUpper);
  return out;
}

std::string py_lower(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) map_cp(out, next_cp(s, i), Case::kLower);
  return out;
}

std::string py_title(std::string_view s) {
  std::string out;
  bool prev_cased = false;
  for (size_t i = 0; i < s.size();) {
    char32_t c = next_cp(s, i);
    map_cp(out, c, prev_cased ? Case::kLower : Case::kTitle);
    prev_cased = py_iscased(c);
  }
  return out;
}

std::string py_capitalize(std::string_view s) {
  std::string out;
  bool first = true;
  for (size_t i = 0; i < s.size();) {
    char32_t c = next_cp(s, i);
    map_cp(out, c, first ? Case::kTitle : Case::kLower);
    first = false;
  }
  return out;
}

std::string py_strip(std::string_view s, const std::string* chars, StripSide side) {
  std::u32string set;
  if (chars) set = to_u32(*chars);
  auto strip_it = [&](char32_t c) { return chars ? set.find(c) != std::u32string::npos : py_isspace(c); };
  std::u32string u = to_u32(s);
  size_t b = 0, e = u.size();
  if (side != StripSide::kRight)
    while (b < e && strip_it(u[b])) ++b;
  if (side != StripSide::kLeft)
    while (e > b && strip_it(u[e - 1])) --e;
  return to_utf8(std::u32string_view(u).substr(b, e - b));
}

}  // namespace dllm::jinja
