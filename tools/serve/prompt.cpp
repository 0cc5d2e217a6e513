#include "serve/prompt.h"

#include <algorithm>
#include <map>

#include "api_util.h"
#include "serve/api_error.h"

namespace dllm::serve {
namespace {

using ojson = nlohmann::ordered_json;

// Renders; false when the template rejects these messages (for prefixes of a
// conversation that is normal: "No user query found").
bool try_render(const deltallm_model* m, const ojson& messages, const ChatRequest& r, const TemplateOptions& t,
                bool gen, std::string* out, std::string* error) {
  deltallm_chat_params p = deltallm_chat_default_params();
  p.add_generation_prompt = gen;
  p.enable_thinking = r.enable_thinking;
  if (!r.tools_json.empty()) p.tools_json = r.tools_json.c_str();
  if (!t.template_text.empty()) p.template_text = t.template_text.c_str();
  if (!r.template_kwargs_json.empty()) p.template_kwargs_json = r.template_kwargs_json.c_str();
  const std::string js = messages.dump();
  size_t len = 0;
  deltallm_status st = deltallm_chat_apply_template_json(m, js.c_str(), &p, nullptr, 0, &len);
  if (st == DELTALLM_ERR_BUFFER_TOO_SMALL) {
    out->assign(len + 1, '\0');
    st = deltallm_chat_apply_template_json(m, js.c_str(), &p, out->data(), out->size(), &len);
  }
  if (st != DELTALLM_OK) {
    if (error) *error = cli::api_error_text();
    return false;
  }
  out->resize(len);
  return true;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

std::vector<int32_t> tokenize_text(const deltallm_model* m, const std::string& text, uint32_t flags) {
  std::vector<int32_t> ids;
  const deltallm_status st = cli::try_tokenize(m, text, flags, &ids);
  // Bad text (e.g. invalid UTF-8) is the client's fault; anything else is ours.
  if (st == DELTALLM_ERR_INVALID_ARGUMENT) throw ApiError(400, cli::api_error_text());
  cli::check(st);
  return ids;
}

std::string render_chat(const deltallm_model* m, const ChatRequest& r, const TemplateOptions& t,
                        bool add_generation_prompt) {
  std::string out, error;
  if (!try_render(m, r.messages, r, t, add_generation_prompt, &out, &error))
    throw ApiError(400, "the chat template rejected the messages: " + error, "messages");
  return out;
}

Prompt build_chat_prompt(const deltallm_model* m, const ChatRequest& r, const TemplateOptions& t) {
  Prompt p;
  p.text = render_chat(m, r, t, true);
  const size_t n = r.messages.size();
  // Cut points (byte offsets into p.text), each marked whether it is a hint.
  std::map<size_t, bool> cuts;
  std::string part;
  size_t last_start = std::string::npos, before_gen = std::string::npos;
  for (size_t k = 1; k <= n; ++k) {
    const ojson prefix(r.messages.begin(), r.messages.begin() + std::ptrdiff_t(k));
    if (try_render(m, prefix, r, t, false, &part, nullptr) && starts_with(p.text, part)) {
      cuts[part.size()] = false;
      if (k == n - 1) last_start = part.size();
      if (k == n) before_gen = part.size();
    }
    // The generation prompt that opened an assistant turn: where a cached
    // reply continues (ChatML renders the turn with the same opening).
    if (k < n && r.messages[k]["role"] == "assistant" && try_render(m, prefix, r, t, true, &part, nullptr) &&
        starts_with(p.text, part))
      cuts[part.size()] = false;
  }
  if (n == 1) last_start = 0;
  // Contents whose text would parse as control tokens are tokenized literally.
  std::vector<std::pair<size_t, size_t>> literal;  // [begin, end) byte ranges
  size_t search_from = 0;
  for (const auto& msg : r.messages) {
    if (!msg["content"].is_string()) continue;
    const std::string c = msg["content"].get<std::string>();
    if (c.empty()) continue;
    if (tokenize_text(m, c, DELTALLM_TOKENIZE_PARSE_SPECIAL) == tokenize_text(m, c, 0)) continue;
    const size_t at = p.text.find(c, search_from);
    if (at == std::string::npos) continue;
    literal.emplace_back(at, at + c.size());
    cuts[at] = false;
    cuts[at + c.size()] = false;
    search_from = at + c.size();
  }
  cuts.erase(0);
  cuts[p.text.size()] = false;
  size_t begin = 0;
  std::map<size_t, int64_t> token_at;  // byte offset -> token position
  token_at[0] = 0;
  for (const auto& [end, unused] : cuts) {
    if (end <= begin) continue;
    const bool lit = std::any_of(literal.begin(), literal.end(),
                                 [&](const auto& l) { return begin >= l.first && end <= l.second; });
    uint32_t flags = lit ? 0u : DELTALLM_TOKENIZE_PARSE_SPECIAL;
    if (begin == 0) flags |= DELTALLM_TOKENIZE_ADD_SPECIAL;
    const std::vector<int32_t> ids = tokenize_text(m, p.text.substr(begin, end - begin), flags);
    p.tokens.insert(p.tokens.end(), ids.begin(), ids.end());
    token_at[end] = int64_t(p.tokens.size());
    begin = end;
  }
  for (size_t at : {last_start, before_gen})
    if (at != std::string::npos && token_at.count(at) && token_at[at] > 0 &&
        token_at[at] < int64_t(p.tokens.size()))
      p.checkpoint_hints.push_back(token_at[at]);
  // Reasoning models' generation prompts end inside "<think>\n".
  const size_t last = p.text.find_last_not_of(" \n");
  p.starts_in_reasoning = last != std::string::npos && last + 1 >= 7 && p.text.compare(last + 1 - 7, 7, "<think>") == 0;
  p.tools_json = r.tools_json;
  return p;
}

Prompt build_completion_prompt(const deltallm_model* m, const CompletionRequest& r) {
  Prompt p;
  if (r.prompt_text) {
    p.text = *r.prompt_text;
    p.tokens = tokenize_text(m, p.text, DELTALLM_TOKENIZE_PARSE_SPECIAL | DELTALLM_TOKENIZE_ADD_SPECIAL);
  } else {
    p.tokens = r.prompt_tokens;
  }
  return p;
}

}  // namespace dllm::serve
