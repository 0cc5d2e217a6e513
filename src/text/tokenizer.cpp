#include "text/tokenizer.h"

#include <algorithm>
#include <atomic>
#include <unordered_map>

#include "text/tokenizer_bpe.h"
#include "text/tokenizer_index.h"
#include "text/tokenizer_pretok.h"
#include "text/tokenizer_special.h"
#include "text/unicode.h"
#include "util/error.h"

namespace dllm {

// ---- pre-tokenizer types ----------------------------------------------------

namespace {

// Exactly as the Split pattern of each tokenizer.json (kernels.md §6.3; llama3
// from Meta-Llama-3 tokenizer.json, which differs from qwen2 only in \p{N}{1,3}).
const std::string kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const std::string kQwen35Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const std::string kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// Texts llama.cpp treats as end of generation whatever the ids say (§6.1).
const char* const kEogTexts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<end_of_turn>", "<|endoftext|>",
    "<|eom_id|>", "<EOT>", "_<EOT>", "<|end_of_text|>", "<end_of_utterance>",
};
// Texts that make an end-of-turn token when the file names none.
const char* const kEotTexts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>", "_<EOT>",
};

}  // namespace

const char* pre_type_name(PreType t) {
  switch (t) {
    case PreType::Qwen2: return "qwen2";
    case PreType::Qwen35: return "qwen35";
    case PreType::Llama3: return "llama3";
  }
  return "?";
}

std::optional<PreType> pre_type_from_name(std::string_view name) {
  if (name == "qwen2") return PreType::Qwen2;
  if (name == "qwen35") return PreType::Qwen35;
  if (name == "llama3" || name == "llama-bpe") return PreType::Llama3;
  return std::nullopt;
}

const std::string& pre_type_hf_regex(PreType t) {
  switch (t) {
    case PreType::Qwen2: return kQwen2Regex;
    case PreType::Qwen35: return kQwen35Regex;
    case PreType::Llama3: return kLlama3Regex;
  }
  return kQwen2Regex;
}

bool pre_type_uses_nfc(PreType t) { return t == PreType::Qwen2 || t == PreType::Qwen35; }
bool pre_type_ignores_merges(PreType t) { return t == PreType::Llama3; }

// ---- the tokenizer ----------------------------------------------------------

struct Tokenizer::Impl {
  PreType pre = PreType::Qwen2;
  std::vector<std::string> text;   // [n_vocab] as stored in GGUF
  std::vector<TokenType> type;     // [n_vocab]
  std::vector<std::string> piece;  // [n_vocab] output bytes (§6.6)
  std::vector<bool> hidden;        // [n_vocab] piece shown only with render_special
  int32_t bos = -1, eos = -1, eot = -1, eom = -1, pad = -1;
  bool add_bos = false, add_eos = false;
  std::vector<int32_t> eog;  // sorted
  std::vector<bool> is_eog;  // [n_vocab]
  SpecialMatcher special;
  std::unique_ptr<RegexSplitter> splitter;
  std::unique_ptr<BpeModel> bpe;
  uint64_t uid = 0;  // tells the per-thread word caches of tokenizers apart

  int32_t n() const { return static_cast<int32_t>(text.size()); }
  void check_id(int32_t id) const {
    if (id < 0 || id >= n()) fail("token id ", id, " is out of range (vocabulary has ", n(), " tokens)");
  }
  // Pre-tokenizes and BPE-encodes one fragment that holds no special token.
  void encode_fragment(std::string_view frag, std::vector<int32_t>& out) const;
};

namespace {

int32_t parse_byte_token(const std::string& t) {
  // "<0xAB>"
  if (t.size() != 6 || t[0] != '<' || t[1] != '0' || t[2] != 'x' || t[5] != '>') return -1;
  auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  const int h = hex(t[3]), l = hex(t[4]);
  return h < 0 || l < 0 ? -1 : h * 16 + l;
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::from_spec(const VocabSpec& spec) {
  auto im = std::make_unique<Impl>();
  if (spec.model != "gpt2") {
    fail("tokenizer model '", spec.model, "' is not supported (only byte-level BPE, tokenizer.ggml.model = gpt2)");
  }
  if (spec.pre.empty()) fail("the file has no tokenizer.ggml.pre (supported: qwen2, qwen35, llama3)");
  const auto pre = pre_type_from_name(spec.pre);
  if (!pre) fail("tokenizer.ggml.pre '", spec.pre, "' is not supported (supported: qwen2, qwen35, llama3)");
  im->pre = *pre;
  const size_t n = spec.tokens.size();
  if (n == 0) fail("the vocabulary is empty");
  if (n > static_cast<size_t>(INT32_MAX)) fail("the vocabulary has too many tokens (", n, ")");
  if (!spec.types.empty() && spec.types.size() != n) {
    fail("tokenizer.ggml.token_type has ", spec.types.size(), " entries but there are ", n, " tokens");
  }
  im->text = spec.tokens;
  im->type.resize(n, TokenType::Normal);
  for (size_t i = 0; i < spec.types.size(); ++i) {
    const int32_t t = spec.types[i];
    if (t < 0 || t > 6) fail("token ", i, " has type ", t, ", which is not a token type (0..6)");
    im->type[i] = static_cast<TokenType>(t == 0 ? 1 : t);  // undefined -> normal, as llama.cpp
  }

  auto check_opt_id = [&](int32_t id, const char* what) {
    if (id >= static_cast<int32_t>(n)) fail(what, " token id ", id, " is out of range (vocabulary has ", n, " tokens)");
    return id < 0 ? -1 : id;
  };
  im->bos = check_opt_id(spec.bos, "BOS");
  im->eos = check_opt_id(spec.eos, "EOS");
  im->eot = check_opt_id(spec.eot, "EOT");
  im->eom = check_opt_id(spec.eom, "EOM");
  im->pad = check_opt_id(spec.pad, "padding");
  check_opt_id(spec.unk, "unknown");
  check_opt_id(spec.sep, "separator");
  // llama.cpp's default for llama3 vocabularies is to add BOS; Qwen's is not.
  im->add_bos = spec.add_bos.value_or(im->pre == PreType::Llama3);
  im->add_eos = spec.add_eos.value_or(false);
  if (im->add_bos && im->bos < 0) fail("the tokenizer adds BOS but has no tokenizer.ggml.bos_token_id");
  if (im->add_eos && im->eos < 0) fail("the tokenizer adds EOS but has no tokenizer.ggml.eos_token_id");

  // End of generation (§6.1). Known end texts that are USER_DEFINED become
  // CONTROL, as llama.cpp does, so they are hidden and need parse_special.
  std::vector<int32_t> eog;
  for (int32_t id : {im->eos, im->eot, im->eom}) {
    if (id >= 0) eog.push_back(id);
  }
  for (int32_t id : spec.fim_ids) {
    if (id >= 0 && id < static_cast<int32_t>(n)) eog.push_back(id);
  }
  for (size_t i = 0; i < n; ++i) {
    const TokenType t = im->type[i];
    if (t == TokenType::Normal || t == TokenType::Unused || t == TokenType::Byte) continue;
    for (const char* e : kEogTexts) {
      if (im->text[i] == e) {
        eog.push_back(static_cast<int32_t>(i));
        if (t == TokenType::UserDefined) im->type[i] = TokenType::Control;
      }
    }
  }
  if (im->eot < 0) {
    for (const char* e : kEotTexts) {
      for (size_t i = 0; i < n && im->eot < 0; ++i) {
        if (im->type[i] == TokenType::Control && im->text[i] == e) im->eot = static_cast<int32_t>(i);
      }
      if (im->eot >= 0) break;
    }
  }
  std::sort(eog.begin(), eog.end());
  eog.erase(std::unique(eog.begin(), eog.end()), eog.end());
  im->eog = eog;
  im->is_eog.assign(n, false);
  for (int32_t id : eog) im->is_eog[id] = true;

  // Pieces, the byte-level alphabet and the special-token matcher.
  im->piece.resize(n);
  im->hidden.assign(n, false);
  std::vector<bool> mergeable(n, false);
  std::string raw;
  for (size_t i = 0; i < n; ++i) {
    const std::string& t = im->text[i];
    switch (im->type[i]) {
      case TokenType::Normal:
      case TokenType::Undefined:
        if (gpt2_decode_text(t, raw)) {
          im->piece[i] = raw;
          mergeable[i] = true;
        } else {
          im->piece[i] = t;  // not in the byte alphabet: cannot come out of BPE
        }
        break;
      case TokenType::Byte: {
        const int b = parse_byte_token(t);
        im->piece[i] = b >= 0 ? std::string(1, static_cast<char>(b)) : t;
        break;
      }
      case TokenType::UserDefined:
        im->piece[i] = t;
        if (utf8_is_valid(t)) im->special.add(t, static_cast<int32_t>(i), /*user_defined=*/true);
        break;
      case TokenType::Control:
      case TokenType::Unknown:
        im->piece[i] = t;
        im->hidden[i] = true;
        if (utf8_is_valid(t)) im->special.add(t, static_cast<int32_t>(i), /*user_defined=*/false);
        break;
      case TokenType::Unused:
        im->piece[i] = t;
        im->hidden[i] = true;
        break;
    }
  }

  // Merges: "left right", split at the first space after position 0.
  const TextIndex normal_by_text(im->text, mergeable);
  std::vector<BpeModel::Merge> merges;
  merges.reserve(spec.merges.size());
  std::string joined;
  for (size_t r = 0; r < spec.merges.size(); ++r) {
    const std::string& m = spec.merges[r];
    const size_t sp = m.size() > 1 ? m.find(' ', 1) : std::string::npos;
    if (sp == std::string::npos) fail("merge ", r, " '", m, "' is not of the form 'left right'");
    const std::string_view left(m.data(), sp), right(m.data() + sp + 1, m.size() - sp - 1);
    joined.assign(left);
    joined.append(right);
    const int32_t l = normal_by_text.find(left), rt = normal_by_text.find(right), j = normal_by_text.find(joined);
    if (l < 0 || rt < 0 || j < 0) fail("merge ", r, " '", m, "' uses or makes a token that is not in the vocabulary");
    merges.push_back({l, rt, j});
  }
  im->splitter = std::make_unique<RegexSplitter>(pre_type_hf_regex(im->pre));
  im->bpe = std::make_unique<BpeModel>(im->piece, mergeable, merges, pre_type_ignores_merges(im->pre));
  static std::atomic<uint64_t> next_uid{1};
  im->uid = next_uid.fetch_add(1);
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(im)));
}

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

namespace {

// Pre-token -> ids, per thread and per tokenizer (BPE of a word is a pure
// function of its bytes; natural text repeats words, as Hugging Face's BPE
// cache exploits). Ids live in one arena; the whole cache is dropped when it
// grows past its limits.
struct WordCache {
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  static constexpr size_t kMaxWordBytes = 48;
  static constexpr size_t kMaxWords = 1 << 16;
  uint64_t owner = 0;
  std::unordered_map<std::string, std::pair<uint32_t, uint32_t>, Hash, std::equal_to<>> index;  // -> (offset, count)
  std::vector<int32_t> ids;
  void reset(uint64_t uid) {
    owner = uid;
    index.clear();
    ids.clear();
  }
};

}  // namespace

void Tokenizer::Impl::encode_fragment(std::string_view frag, std::vector<int32_t>& out) const {
  if (frag.empty()) return;
  thread_local std::string normalized;
  thread_local std::vector<RegexSplitter::Piece> pieces;
  thread_local WordCache cache;
  if (cache.owner != uid || cache.index.size() >= WordCache::kMaxWords) cache.reset(uid);
  std::string_view s = frag;
  if (pre_type_uses_nfc(pre)) {
    normalized.clear();
    utf8_nfc_append(normalized, frag);
    s = normalized;
  }
  pieces.clear();
  splitter->split(s, pieces);
  for (const auto& p : pieces) {
    const std::string_view word = s.substr(p.begin, p.end - p.begin);
    if (word.size() > WordCache::kMaxWordBytes) {
      bpe->encode_word(word, out);
      continue;
    }
    auto it = cache.index.find(word);
    if (it != cache.index.end()) {
      out.insert(out.end(), cache.ids.begin() + it->second.first,
                 cache.ids.begin() + it->second.first + it->second.second);
      continue;
    }
    const size_t before = out.size();
    bpe->encode_word(word, out);
    const auto off = static_cast<uint32_t>(cache.ids.size());
    cache.ids.insert(cache.ids.end(), out.begin() + static_cast<ptrdiff_t>(before), out.end());
    cache.index.emplace(std::string(word), std::make_pair(off, static_cast<uint32_t>(out.size() - before)));
  }
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool parse_special) const {
  utf8_require_valid(text, "the text to tokenize");
  if (text.size() >= UINT32_MAX) fail("the text to tokenize is too long (", text.size(), " bytes; the limit is 4 GiB)");
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  const Impl& im = *impl_;
  size_t pos = 0;
  SpecialMatcher::Hit hit{};
  while (!im.special.empty() && im.special.find(text, pos, parse_special, hit)) {
    im.encode_fragment(text.substr(pos, hit.begin - pos), out);
    out.push_back(hit.id);
    pos = hit.end;
  }
  im.encode_fragment(text.substr(pos), out);
  return out;
}

std::vector<int32_t> Tokenizer::encode_prompt(std::string_view text, bool parse_special) const {
  std::vector<int32_t> ids = encode(text, parse_special);
  if (impl_->add_bos) ids.insert(ids.begin(), impl_->bos);
  if (impl_->add_eos) ids.push_back(impl_->eos);
  return ids;
}

std::string Tokenizer::token_to_piece(int32_t id, bool render_special) const {
  impl_->check_id(id);
  if (impl_->hidden[id] && !render_special) return {};
  return impl_->piece[id];
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool render_special) const {
  std::string bytes;
  for (int32_t id : ids) {
    impl_->check_id(id);
    if (!impl_->hidden[id] || render_special) bytes += impl_->piece[id];
  }
  if (utf8_is_valid(bytes)) return bytes;
  std::string out;
  utf8_append_lossy(out, bytes);
  return out;
}

int32_t Tokenizer::n_vocab() const { return impl_->n(); }
TokenType Tokenizer::token_type(int32_t id) const {
  impl_->check_id(id);
  return impl_->type[id];
}
const std::string& Tokenizer::token_text(int32_t id) const {
  impl_->check_id(id);
  return impl_->text[id];
}
PreType Tokenizer::pre_type() const { return impl_->pre; }
int32_t Tokenizer::bos() const { return impl_->bos; }
int32_t Tokenizer::eos() const { return impl_->eos; }
int32_t Tokenizer::eot() const { return impl_->eot; }
int32_t Tokenizer::pad() const { return impl_->pad; }
bool Tokenizer::add_bos() const { return impl_->add_bos; }
bool Tokenizer::add_eos() const { return impl_->add_eos; }
bool Tokenizer::is_eog(int32_t id) const { return id >= 0 && id < impl_->n() && impl_->is_eog[id]; }
const std::vector<int32_t>& Tokenizer::eog_ids() const { return impl_->eog; }

// ---- streaming --------------------------------------------------------------

std::string StreamDecoder::push(int32_t id) {
  pending_ += tok_.token_to_piece(id, render_special_);
  std::string out;
  pending_.erase(0, utf8_append_complete(out, pending_));
  return out;
}

std::string StreamDecoder::flush() {
  std::string out;
  utf8_append_lossy(out, pending_);
  pending_.clear();
  return out;
}

}  // namespace dllm
