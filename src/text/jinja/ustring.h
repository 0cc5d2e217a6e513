// Python str semantics over UTF-8: templates index, slice, strip and case-map
// strings by code point, and Python's notion of whitespace and printable
// characters decides what strip() removes and what repr() escapes.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace dllm::jinja {

// Strings inside the interpreter are always valid UTF-8 (inputs are checked
// where they enter), so these helpers do not re-validate.
bool utf8_valid(std::string_view s);
std::u32string to_u32(std::string_view s);
std::string to_utf8(std::u32string_view s);
void append_utf8(std::string& out, char32_t cp);
size_t cp_count(std::string_view s);

// Python str.isspace() for one code point (bidi WS/B/S or category Zs).
bool py_isspace(char32_t c);
// Python str.isprintable() for one code point.
bool py_isprintable(char32_t c);
bool py_isalpha(char32_t c);
bool py_isdecimal(char32_t c);  // category Nd
bool py_isdigit(char32_t c);    // Nd and the other Numeric_Type=Digit characters (superscripts ...)
bool py_isnumeric(char32_t c);  // N* (CJK ideographic numerals are not included)
bool py_isalnum(char32_t c);
bool py_iscased(char32_t c);   // Lu, Ll, Lt
bool py_islower_cp(char32_t c);
bool py_isupper_cp(char32_t c);

// Python str.upper()/lower()/title()/capitalize()/swapcase. Characters whose
// full case mapping differs from the simple one are mapped by a table where we
// have it and are otherwise an error naming the character (never a silently
// different string).
std::string py_upper(std::string_view s);
std::string py_lower(std::string_view s);
std::string py_title(std::string_view s);       // str.title()
std::string py_capitalize(std::string_view s);  // str.capitalize()

// strip family; `chars` null means whitespace (py_isspace).
enum class StripSide { kLeft, kRight, kBoth };
std::string py_strip(std::string_view s, const std::string* chars, StripSide side);

}  // namespace dllm::jinja
