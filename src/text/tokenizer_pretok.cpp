#define PCRE2_CODE_UNIT_WIDTH 8
#include "text/tokenizer_pretok.h"

#include <pcre2.h>
#include <utf8proc.h>

#include <vector>

#include "text/unicode.h"

#include "util/error.h"

namespace dllm {
namespace {

// Unicode White_Space (PropList.txt), the meaning of \s in Oniguruma's Unicode
// mode: TAB..CR, SPACE, NEL, NBSP, OGHAM SPACE MARK, EN QUAD..HAIR SPACE,
// LINE/PARAGRAPH SEPARATOR, NNBSP, MMSP, IDEOGRAPHIC SPACE.
constexpr const char* kWhiteSpaceMembers =
    "\\t-\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}";

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  if (pcre2_get_error_message(code, buf, sizeof buf) < 0) return str_cat("PCRE2 error ", code);
  return reinterpret_cast<const char*>(buf);
}

// Per-thread match state: match data for one ovector pair and a JIT stack
// large enough for long runs of one character class (32 KiB start, 4 MiB max).
struct ThreadMatch {
  pcre2_match_data* md = nullptr;
  pcre2_jit_stack* stack = nullptr;
  pcre2_match_context* ctx = nullptr;
  ThreadMatch() {
    md = pcre2_match_data_create(1, nullptr);
    stack = pcre2_jit_stack_create(32 * 1024, 4 * 1024 * 1024, nullptr);
    ctx = pcre2_match_context_create(nullptr);
    if (!md || !stack || !ctx) fail("out of memory creating PCRE2 match state");
    pcre2_jit_stack_assign(ctx, nullptr, stack);
  }
  ~ThreadMatch() {
    pcre2_match_context_free(ctx);
    pcre2_jit_stack_free(stack);
    pcre2_match_data_free(md);
  }
};

ThreadMatch& thread_match() {
  thread_local ThreadMatch tm;
  return tm;
}

// Code points that utf8proc puts in a general category (L, N or M) but the
// installed PCRE2's \p{..} does not: characters assigned in Unicode versions
// newer than PCRE2's tables (Debian's PCRE2 10.42 has Unicode 14, utf8proc
// 2.8 has 15.0, e.g. CJK Extension H and the Kawi digits). Hugging Face's
// Oniguruma knows them, so the patterns get them added as explicit ranges.
struct CategoryExtras {
  std::string L, N, M;  // "\x{A}-\x{B}..." members, possibly empty
};

// Appends to `out` the members ("\\x{A}-\\x{B}...") of `cps` (ascending)
// that PCRE2's \p{prop} does not match.
void add_unknown(const char* prop, const std::vector<int32_t>& cps, std::string& out) {
  // Possessive and anchored: one call walks a whole run of characters and
  // stops at the first one PCRE2 does not put in the category.
  const std::string pat = str_cat("\\p{", prop, "}*+");
  int err = 0;
  PCRE2_SIZE off = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pat.data()), pat.size(),
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_ANCHORED, &err, &off, nullptr);
  if (!code) fail("cannot compile ", pat, ": ", pcre2_message(err));
  const bool jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  pcre2_match_data* md = pcre2_match_data_create(1, nullptr);
  int64_t run_start = -1, run_end = -1;  // current range of unknown code points
  auto add = [&](int64_t c) {
    if (run_start >= 0 && run_end == c - 1) {
      run_end = c;
      return;
    }
    if (run_start >= 0) {
      out += str_cat("\\x{", std::hex, run_start, "}");
      if (run_end > run_start) out += str_cat("-\\x{", std::hex, run_end, "}");
    }
    run_start = run_end = c;
  };
  std::string text;
  for (int32_t c : cps) {
    uint8_t buf[4];
    text.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(utf8proc_encode_char(c, buf)));
  }
  PCRE2_SIZE pos = 0;
  size_t k = 0;  // index in cps of the character at byte `pos`
  while (pos < text.size()) {
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    const int rc = jit ? pcre2_jit_match(code, subject, text.size(), pos, 0, md, nullptr)
                       : pcre2_match(code, subject, text.size(), pos, 0, md, nullptr);
    if (rc < 0) fail("PCRE2 failed while checking \\p{", prop, "}: ", pcre2_message(rc));
    const PCRE2_SIZE end = pcre2_get_ovector_pointer(md)[1];
    while (pos < end) pos += static_cast<PCRE2_SIZE>(utf8_seq_len(static_cast<uint8_t>(text[pos]))), ++k;
    if (pos >= text.size()) break;
    add(cps[k]);  // PCRE2 stopped here: a character it does not know
    pos += static_cast<PCRE2_SIZE>(utf8_seq_len(static_cast<uint8_t>(text[pos])));
    ++k;
  }
  add(-2);  // flush
  pcre2_match_data_free(md);
  pcre2_code_free(code);
}

const CategoryExtras& category_extras() {
  static const CategoryExtras extras = [] {
    // One pass over the planes that hold letters, marks and digits (0-3 and
    // the variation selectors of plane 14; the others are unassigned or
    // private use).
    std::vector<int32_t> l, n, m;
    auto visit = [&](int32_t lo, int32_t hi) {
      for (int32_t c = lo; c < hi; ++c) {
        if (c >= 0xD800 && c <= 0xDFFF) continue;
        switch (utf8proc_category(c)) {
          case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
          case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: l.push_back(c); break;
          case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO: n.push_back(c); break;
          case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: m.push_back(c); break;
          default: break;
        }
      }
    };
    visit(0x80, 0x40000);
    visit(0xE0000, 0xE1000);
    CategoryExtras e;
    add_unknown("L", l, e.L);
    add_unknown("N", n, e.N);
    add_unknown("M", m, e.M);
    return e;
  }();
  return extras;
}

}  // namespace

std::string rewrite_unicode_classes(const std::string& p) {
  std::string out;
  out.reserve(p.size() + 256);
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char e = p[i + 1];
      ++i;
      if (e == 's') {
        if (in_class) out += kWhiteSpaceMembers;
        else out += str_cat("[", kWhiteSpaceMembers, "]");
      } else if (e == 'p' && i + 3 < p.size() && p[i + 1] == '{' && p[i + 3] == '}' &&
                 (p[i + 2] == 'L' || p[i + 2] == 'N' || p[i + 2] == 'M')) {
        const CategoryExtras& ex = category_extras();
        const std::string& extra = p[i + 2] == 'L' ? ex.L : p[i + 2] == 'N' ? ex.N : ex.M;
        const std::string members = str_cat("\\p{", p[i + 2], "}", extra);
        i += 3;
        if (in_class || extra.empty()) out += members;
        else out += str_cat("[", members, "]");
      } else if (e == 'S') {
        if (in_class) fail("pre-tokenizer pattern uses \\S inside a character class, which is not supported");
        out += str_cat("[^", kWhiteSpaceMembers, "]");
      } else {
        out += c;
        out += e;
      }
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal member, not the end.
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];
      continue;
    }
    if (in_class && c == ']') in_class = false;
    out += c;
  }
  return out;
}

RegexSplitter::RegexSplitter(const std::string& hf_pattern) : pattern_(rewrite_unicode_classes(hf_pattern)) {
  int err = 0;
  PCRE2_SIZE err_off = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern_.data()), pattern_.size(),
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &err, &err_off, nullptr);
  if (!code) fail("pre-tokenizer regex does not compile at offset ", err_off, ": ", pcre2_message(err));
  const int jr = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  if (jr != 0) {
    pcre2_code_free(code);
    fail("PCRE2 JIT compilation of the pre-tokenizer regex failed: ", pcre2_message(jr));
  }
  code_ = code;
}

RegexSplitter::~RegexSplitter() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

void RegexSplitter::split(std::string_view text, std::vector<Piece>& out) const {
  auto* code = static_cast<pcre2_code*>(code_);
  ThreadMatch& tm = thread_match();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  const PCRE2_SIZE n = text.size();
  PCRE2_SIZE pos = 0;   // where the next search starts
  PCRE2_SIZE done = 0;  // end of the last emitted piece
  while (pos < n) {
    const int rc = pcre2_jit_match(code, subject, n, pos, PCRE2_NO_UTF_CHECK, tm.md, tm.ctx);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) fail("pre-tokenizer regex match failed at byte ", pos, ": ", pcre2_message(rc));
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(tm.md);
    const PCRE2_SIZE b = ov[0], e = ov[1];
    if (b > done) out.push_back({static_cast<uint32_t>(done), static_cast<uint32_t>(b)});
    done = b;
    if (e > b) {
      out.push_back({static_cast<uint32_t>(b), static_cast<uint32_t>(e)});
      done = pos = e;
    } else {
      // An empty match: step over one character so the search moves on (the
      // character then belongs to the next gap).
      pos = e + 1;
      while (pos < n && (static_cast<uint8_t>(text[pos]) & 0xC0) == 0x80) ++pos;
    }
  }
  if (done < n) out.push_back({static_cast<uint32_t>(done), static_cast<uint32_t>(n)});
}

}  // namespace dllm
