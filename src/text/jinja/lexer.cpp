#include "text/jinja/lexer.h"

#include <cstdio>

#include "text/jinja/template_error.h"
#include "text/jinja/ustring.h"

namespace dllm::jinja {

namespace {

[[noreturn]] void syntax_error(int line, const std::string& msg) {
  throw TemplateError(ErrorKind::kSyntax, msg, line);
}

// Jinja2 splits the source on \r\n, \r and \n, joins with \n and (unless
// keep_trailing_newline) drops one final line break.
std::string normalize_newlines(std::string_view src, bool keep_trailing) {
  std::string out;
  out.reserve(src.size());
  for (size_t i = 0; i < src.size(); ++i) {
    if (src[i] == '\r') {
      out += '\n';
      if (i + 1 < src.size() && src[i + 1] == '\n') ++i;
    } else {
      out += src[i];
    }
  }
  if (!keep_trailing && !out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// Python's \s on str: any code point for which str.isspace() is true.
// Returns the byte length of the whitespace code point at s[i], or 0.
size_t space_len(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return py_isspace(c) ? 1 : 0;
  size_t len = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  if (i + len > s.size()) return 0;
  std::u32string u = to_u32(s.substr(i, len));
  return !u.empty() && py_isspace(u[0]) ? len : 0;
}

size_t skip_spaces(std::string_view s, size_t i) {
  while (i < s.size()) {
    size_t n = space_len(s, i);
    if (!n) break;
    i += n;
  }
  return i;
}

bool all_space(std::string_view s) {
  if (s.empty()) return false;
  return skip_spaces(s, 0) == s.size();
}

size_t count_nl(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// (\d+_)*\d+ at s[i]; returns the end or npos.
size_t match_digits(std::string_view s, size_t i) {
  if (i >= s.size() || !is_digit(s[i])) return std::string_view::npos;
  size_t j = i;
  while (true) {
    while (j < s.size() && is_digit(s[j])) ++j;
    if (j + 1 < s.size() && s[j] == '_' && is_digit(s[j + 1])) {
      ++j;
      continue;
    }
    return j;
  }
}

// Jinja2's float_re; returns the length matched or 0.
size_t match_float(std::string_view s, size_t i) {
  if (i > 0 && s[i - 1] == '.') return 0;
  size_t j = match_digits(s, i);
  if (j == std::string_view::npos) return 0;
  auto exponent = [&](size_t k) -> size_t {
    if (k < s.size() && (s[k] == 'e' || s[k] == 'E')) {
      ++k;
      if (k < s.size() && (s[k] == '+' || s[k] == '-')) ++k;
      size_t e = match_digits(s, k);
      if (e != std::string_view::npos) return e;
    }
    return std::string_view::npos;
  };
  if (j < s.size() && s[j] == '.') {
    size_t f = match_digits(s, j + 1);
    if (f != std::string_view::npos) {
      size_t e = exponent(f);
      return (e != std::string_view::npos ? e : f) - i;
    }
  }
  size_t e = exponent(j);
  return e != std::string_view::npos ? e - i : 0;
}

bool in_base(char c, int base) {
  if (base == 2) return c == '0' || c == '1';
  if (base == 8) return c >= '0' && c <= '7';
  if (base == 16) return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  return is_digit(c);
}

// Jinja2's integer_re; returns the length matched or 0.
size_t match_int(std::string_view s, size_t i) {
  if (i >= s.size() || !is_digit(s[i])) return 0;
  auto run = [&](size_t j, int base, bool first_needed) -> size_t {
    // (_?[digit])+ or (_?[digit])*
    size_t k = j;
    bool any = false;
    while (true) {
      if (k < s.size() && in_base(s[k], base)) {
        ++k;
        any = true;
      } else if (k + 1 < s.size() && s[k] == '_' && in_base(s[k + 1], base)) {
        k += 2;
        any = true;
      } else {
        break;
      }
    }
    if (first_needed && !any) return std::string_view::npos;
    return k;
  };
  if (s[i] == '0' && i + 1 < s.size()) {
    char p = static_cast<char>(s[i + 1] | 0x20);
    int base = p == 'b' ? 2 : p == 'o' ? 8 : p == 'x' ? 16 : 0;
    if (base) {
      size_t e = run(i + 2, base, true);
      if (e != std::string_view::npos) return e - i;
    }
  }
  if (s[i] == '0') {
    size_t k = i + 1;
    while (true) {
      if (k < s.size() && s[k] == '0') ++k;
      else if (k + 1 < s.size() && s[k] == '_' && s[k + 1] == '0') k += 2;
      else break;
    }
    return k - i;
  }
  return run(i + 1, 10, false) - i;
}

int64_t parse_int_literal(std::string_view text, int line) {
  std::string digits;
  for (char c : text)
    if (c != '_') digits += c;
  int base = 10;
  size_t start = 0;
  if (digits.size() > 2 && digits[0] == '0') {
    char p = static_cast<char>(digits[1] | 0x20);
    if (p == 'b') base = 2;
    if (p == 'o') base = 8;
    if (p == 'x') base = 16;
    if (base != 10) start = 2;
  }
  unsigned __int128 v = 0;
  for (size_t i = start; i < digits.size(); ++i) {
    char c = digits[i];
    int d = is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
    v = v * base + d;
    if (v > static_cast<unsigned __int128>(INT64_MAX))
      throw TemplateError(ErrorKind::kUnsupported, str_cat("integer literal ", text, " beyond 64 bits"), line);
  }
  return static_cast<int64_t>(v);
}

int hexval(char c) {
  if (is_digit(c)) return c - '0';
  c = static_cast<char>(c | 0x20);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Python's "unicode-escape" decoding of a string literal body, as Jinja2 does
// it (after encoding non-ASCII characters with backslashreplace).
std::string unescape(std::string_view body, int line) {
  std::string out;
  for (size_t i = 0; i < body.size();) {
    char c = body[i];
    if (c != '\\') {
      out += c;
      ++i;
      continue;
    }
    if (i + 1 >= body.size()) syntax_error(line, "\\ at end of string");
    char e = body[i + 1];
    i += 2;
    auto read_hex = [&](int n, const char* what) -> char32_t {
      char32_t v = 0;
      for (int k = 0; k < n; ++k) {
        int h = i + k < body.size() ? hexval(body[i + k]) : -1;
        if (h < 0) syntax_error(line, str_cat("truncated ", what, " escape"));
        v = v * 16 + static_cast<char32_t>(h);
      }
      i += static_cast<size_t>(n);
      return v;
    };
    switch (e) {
      case '\n': break;  // line continuation
      case '\\': out += '\\'; break;
      case '\'': out += '\''; break;
      case '"': out += '"'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case 'x': append_utf8(out, read_hex(2, "\\xXX")); break;
      case 'u': {
        char32_t v = read_hex(4, "\\uXXXX");
        if (v >= 0xD800 && v <= 0xDFFF)
          throw TemplateError(ErrorKind::kUnsupported, "surrogate code point in a string literal", line);
        append_utf8(out, v);
        break;
      }
      case 'U': {
        char32_t v = read_hex(8, "\\UXXXXXXXX");
        if (v > 0x10FFFF) syntax_error(line, "illegal Unicode character");
        if (v >= 0xD800 && v <= 0xDFFF)
          throw TemplateError(ErrorKind::kUnsupported, "surrogate code point in a string literal", line);
        append_utf8(out, v);
        break;
      }
      case 'N': throw TemplateError(ErrorKind::kUnsupported, "\\N{...} escape in a string literal", line);
      default:
        if (e >= '0' && e <= '7') {
          char32_t v = static_cast<char32_t>(e - '0');
          for (int k = 0; k < 2 && i < body.size() && body[i] >= '0' && body[i] <= '7'; ++k) v = v * 8 + (body[i++] - '0');
          append_utf8(out, v);
        } else if (static_cast<unsigned char>(e) >= 0x80) {
          // Jinja2 first turns the non-ASCII character into \xNN / \uNNNN /
          // \UNNNNNNNN; the backslash before it then escapes that backslash.
          size_t start = i - 1;
          size_t len = static_cast<unsigned char>(e) < 0xE0 ? 2 : static_cast<unsigned char>(e) < 0xF0 ? 3 : 4;
          std::u32string u = to_u32(body.substr(start, len));
          i = start + len;
          char buf[16];
          if (u[0] < 0x100) std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(u[0]));
          else if (u[0] < 0x10000) std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(u[0]));
          else std::snprintf(buf, sizeof buf, "\\U%08x", static_cast<unsigned>(u[0]));
          out += buf;
        } else {
          out += '\\';  // unknown escapes stay as written
          out += e;
        }
    }
  }
  return out;
}

const char* const kOperators[] = {"**", "//", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]",
                                  "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";"};

class Lexer {
 public:
  Lexer(std::string src, const LexOptions& opt) : s_(std::move(src)), opt_(opt) {}

  std::vector<Token> run() {
    while (pos_ < s_.size()) root();
    push(Tok::kEof, "");
    return std::move(out_);
  }

 private:
  std::string s_;
  LexOptions opt_;
  size_t pos_ = 0;
  int line_ = 1;
  bool line_starting_ = true;
  std::vector<Token> out_;

  void push(Tok t, std::string text) {
    Token tok;
    tok.type = t;
    tok.text = std::move(text);
    tok.line = line_;
    out_.push_back(std::move(tok));
  }

  // Applies {%- / lstrip_blocks to the text before a tag and emits it.
  void emit_text(std::string_view text, char sign, bool is_variable) {
    size_t nl = count_nl(text);
    if (sign == '-') {
      text = text.substr(0, rstrip_len(text));
    } else if (sign != '+' && opt_.lstrip_blocks && !is_variable) {
      size_t l_pos = text.rfind('\n');
      l_pos = l_pos == std::string_view::npos ? 0 : l_pos + 1;
      if ((l_pos > 0 || line_starting_) && all_space(text.substr(l_pos))) text = text.substr(0, l_pos);
    }
    if (!text.empty()) push(Tok::kData, std::string(text));
    line_ += static_cast<int>(nl);
  }

  static size_t rstrip_len(std::string_view text) {
    // Python str.rstrip(): strip trailing whitespace code points.
    std::u32string u = to_u32(text);
    size_t n = u.size();
    while (n > 0 && py_isspace(u[n - 1])) --n;
    return to_utf8(std::u32string_view(u).substr(0, n)).size();
  }

  // `{% raw %}` at p (with optional signs); returns the end of the opening tag or npos.
  size_t match_raw_begin(size_t p, char& sign) {
    size_t i = p + 2;
    sign = 0;
    if (i < s_.size() && (s_[i] == '-' || s_[i] == '+')) sign = s_[i++];
    i = skip_spaces(s_, i);
    if (s_.compare(i, 3, "raw") != 0) return std::string::npos;
    i = skip_spaces(s_, i + 3);
    if (s_.compare(i, 3, "-%}") == 0) return skip_spaces(s_, i + 3);
    if (s_.compare(i, 2, "%}") == 0) return i + 2;
    return std::string::npos;
  }

  void root() {
    size_t p = pos_;
    while (true) {
      p = s_.find('{', p);
      if (p == std::string::npos || p + 1 >= s_.size()) {
        emit_text(std::string_view(s_).substr(pos_), 0, true);
        pos_ = s_.size();
        return;
      }
      char k = s_[p + 1];
      if (k == '{' || k == '%' || k == '#') break;
      ++p;
    }
    char kind = s_[p + 1];
    char sign = 0;
    if (kind == '%') {
      size_t raw_end = match_raw_begin(p, sign);
      if (raw_end != std::string::npos) {
        emit_text(std::string_view(s_).substr(pos_, p - pos_), sign, false);
        std::string_view tag = std::string_view(s_).substr(p, raw_end - p);
        line_ += static_cast<int>(count_nl(tag));
        line_starting_ = !tag.empty() && tag.back() == '\n';
        pos_ = raw_end;
        raw_body();
        return;
      }
    }
    if (p + 2 < s_.size() && (s_[p + 2] == '-' || s_[p + 2] == '+')) sign = s_[p + 2];
    emit_text(std::string_view(s_).substr(pos_, p - pos_), sign, kind == '{');
    pos_ = p + 2 + (sign ? 1 : 0);
    line_starting_ = false;
    if (kind == '#') {
      comment();
    } else {
      tag(kind == '%');
    }
  }

  void comment() {
    for (size_t i = pos_; i + 1 < s_.size(); ++i) {
      size_t end = std::string::npos;
      if (s_.compare(i, 3, "+#}") == 0) {
        end = i + 3;
      } else if (s_.compare(i, 3, "-#}") == 0) {
        end = skip_spaces(s_, i + 3);
      } else if (s_.compare(i, 2, "#}") == 0) {
        end = i + 2;
        if (opt_.trim_blocks && end < s_.size() && s_[end] == '\n') ++end;
      }
      if (end != std::string::npos) {
        std::string_view m = std::string_view(s_).substr(pos_, end - pos_);
        line_ += static_cast<int>(count_nl(m));
        line_starting_ = !m.empty() && m.back() == '\n';
        pos_ = end;
        return;
      }
    }
    syntax_error(line_, "Missing end of comment tag");
  }

  void raw_body() {
    for (size_t i = pos_; i + 1 < s_.size(); ++i) {
      if (s_[i] != '{' || s_[i + 1] != '%') continue;
      size_t j = i + 2;
      char sign = 0;
      if (j < s_.size() && (s_[j] == '-' || s_[j] == '+')) sign = s_[j++];
      j = skip_spaces(s_, j);
      if (s_.compare(j, 6, "endraw") != 0) continue;
      j = skip_spaces(s_, j + 6);
      size_t end = std::string::npos;
      if (s_.compare(j, 3, "+%}") == 0) {
        end = j + 3;
      } else if (s_.compare(j, 3, "-%}") == 0) {
        end = skip_spaces(s_, j + 3);
      } else if (s_.compare(j, 2, "%}") == 0) {
        end = j + 2;
        if (opt_.trim_blocks && end < s_.size() && s_[end] == '\n') ++end;
      }
      if (end == std::string::npos) continue;
      emit_text(std::string_view(s_).substr(pos_, i - pos_), sign, false);
      std::string_view tag = std::string_view(s_).substr(i, end - i);
      line_ += static_cast<int>(count_nl(tag));
      line_starting_ = !tag.empty() && tag.back() == '\n';
      pos_ = end;
      return;
    }
    syntax_error(line_, "Missing end of raw directive");
  }

  // Tokens of a {% ... %} (block) or {{ ... }} (variable) tag.
  void tag(bool block) {
    push(block ? Tok::kBlockBegin : Tok::kVarBegin, "");
    std::string balance;
    while (true) {
      if (pos_ >= s_.size()) syntax_error(line_, block ? "unexpected end of template, expected '%}'" : "unexpected end of template, expected '}}'");
      if (balance.empty()) {
        size_t end = std::string::npos;
        if (block) {
          if (s_.compare(pos_, 3, "+%}") == 0) {
            end = pos_ + 3;
          } else if (s_.compare(pos_, 3, "-%}") == 0) {
            end = skip_spaces(s_, pos_ + 3);
          } else if (s_.compare(pos_, 2, "%}") == 0) {
            end = pos_ + 2;
            if (opt_.trim_blocks && end < s_.size() && s_[end] == '\n') ++end;
          }
        } else {
          if (s_.compare(pos_, 3, "-}}") == 0) end = skip_spaces(s_, pos_ + 3);
          else if (s_.compare(pos_, 2, "}}") == 0) end = pos_ + 2;
        }
        if (end != std::string::npos) {
          push(block ? Tok::kBlockEnd : Tok::kVarEnd, "");
          std::string_view m = std::string_view(s_).substr(pos_, end - pos_);
          line_ += static_cast<int>(count_nl(m));
          line_starting_ = !m.empty() && m.back() == '\n';
          pos_ = end;
          return;
        }
      }
      size_t start = pos_;
      size_t ws = skip_spaces(s_, pos_);
      if (ws > pos_) {
        line_ += static_cast<int>(count_nl(std::string_view(s_).substr(pos_, ws - pos_)));
        pos_ = ws;
      } else if (size_t n = match_float(s_, pos_)) {
        std::string text;
        for (size_t i = pos_; i < pos_ + n; ++i)
          if (s_[i] != '_') text += s_[i];
        Token t;
        t.type = Tok::kFloat;
        t.fval = std::strtod(text.c_str(), nullptr);
        t.text = text;
        t.line = line_;
        out_.push_back(std::move(t));
        pos_ += n;
      } else if (size_t n2 = match_int(s_, pos_)) {
        Token t;
        t.type = Tok::kInt;
        t.text = s_.substr(pos_, n2);
        t.ival = parse_int_literal(t.text, line_);
        t.line = line_;
        out_.push_back(std::move(t));
        pos_ += n2;
      } else if (is_name_start(s_[pos_])) {
        size_t j = pos_ + 1;
        while (j < s_.size() && is_name_char(s_[j])) ++j;
        if (j < s_.size() && static_cast<unsigned char>(s_[j]) >= 0x80)
          throw TemplateError(ErrorKind::kUnsupported, "non-ASCII identifier", line_);
        push(Tok::kName, s_.substr(pos_, j - pos_));
        pos_ = j;
      } else if (s_[pos_] == '\'' || s_[pos_] == '"') {
        char q = s_[pos_];
        size_t j = pos_ + 1;
        while (j < s_.size() && s_[j] != q) j += s_[j] == '\\' ? 2 : 1;
        if (j >= s_.size()) syntax_error(line_, "unexpected end of string");
        std::string_view body = std::string_view(s_).substr(pos_ + 1, j - pos_ - 1);
        push(Tok::kString, unescape(body, line_));
        line_ += static_cast<int>(count_nl(body));
        pos_ = j + 1;
      } else {
        const char* op = nullptr;
        for (const char* o : kOperators) {
          if (s_.compare(pos_, std::char_traits<char>::length(o), o) == 0) {
            op = o;
            break;
          }
        }
        if (!op) {
          if (static_cast<unsigned char>(s_[pos_]) >= 0x80)
            throw TemplateError(ErrorKind::kUnsupported, "non-ASCII character inside a tag", line_);
          syntax_error(line_, str_cat("unexpected char '", s_[pos_], "'"));
        }
        std::string o(op);
        if (o == "(" || o == "[" || o == "{") {
          balance += o == "(" ? ')' : o == "[" ? ']' : '}';
        } else if (o == ")" || o == "]" || o == "}") {
          if (balance.empty()) syntax_error(line_, str_cat("unexpected '", o, "'"));
          if (balance.back() != o[0]) syntax_error(line_, str_cat("unexpected '", o, "', expected '", balance.back(), "'"));
          balance.pop_back();
        }
        push(Tok::kOp, o);
        pos_ += o.size();
      }
      line_starting_ = pos_ > start && s_[pos_ - 1] == '\n';
    }
  }

  static bool is_name_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  }
  static bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }
};

}  // namespace

std::vector<Token> tokenize(std::string_view source, const LexOptions& opt) {
  if (!utf8_valid(source)) throw TemplateError(ErrorKind::kSyntax, "template is not valid UTF-8");
  Lexer lx(normalize_newlines(source, opt.keep_trailing_newline), opt);
  return lx.run();
}

}  // namespace dllm::jinja
