// The inference commands use only the C API (include/deltallm.h); this is
// their thin C++ convenience layer: owning handles and status checks that
// turn an error into a dllm::Error with the library's message.
#pragma once
#include <deltallm.h>

#include <memory>
#include <string>
#include <vector>

#include "util/error.h"

namespace dllm::cli {

// The library's message without its leading "deltallm_<function>: ": a
// command's user asked for a model or a text, not for a C function.
inline std::string api_error_text() {
  const std::string msg = deltallm_last_error();
  const size_t colon = msg.find(": ");
  if (msg.rfind("deltallm_", 0) == 0 && colon != std::string::npos &&
      msg.find_first_of(" '\"") == colon + 1)
    return msg.substr(colon + 2);
  return msg;
}

inline void check(deltallm_status st) {
  if (st != DELTALLM_OK) throw Error(api_error_text());
}

struct ModelDeleter {
  void operator()(deltallm_model* m) const { deltallm_model_free(m); }
};
struct ContextDeleter {
  void operator()(deltallm_context* c) const { deltallm_context_free(c); }
};
struct SamplerDeleter {
  void operator()(deltallm_sampler* s) const { deltallm_sampler_free(s); }
};
struct DetokenizerDeleter {
  void operator()(deltallm_detokenizer* d) const { deltallm_detokenizer_free(d); }
};
using ModelPtr = std::unique_ptr<deltallm_model, ModelDeleter>;
using ContextPtr = std::unique_ptr<deltallm_context, ContextDeleter>;
using SamplerPtr = std::unique_ptr<deltallm_sampler, SamplerDeleter>;
using DetokenizerPtr = std::unique_ptr<deltallm_detokenizer, DetokenizerDeleter>;

inline ModelPtr load_model(const std::string& path, bool vocab_only = false,
                           int32_t weight_memory = DELTALLM_WEIGHTS_AUTO) {
  deltallm_model_params p = deltallm_model_default_params();
  p.vocab_only = vocab_only;
  p.weight_memory = weight_memory;
  deltallm_model* m = nullptr;
  check(deltallm_model_load(path.c_str(), &p, &m));
  return ModelPtr(m);
}

inline deltallm_model_info model_info(const deltallm_model* m) {
  deltallm_model_info info{};
  info.size = sizeof info;
  check(deltallm_model_get_info(m, &info));
  return info;
}

inline deltallm_vocab_info vocab_info(const deltallm_model* m) {
  deltallm_vocab_info info{};
  info.size = sizeof info;
  check(deltallm_model_get_vocab_info(m, &info));
  return info;
}

// Tokenizes into *ids (grown and retried once when the first guess is too
// small) and returns the status, so callers choose how an error is reported.
inline deltallm_status try_tokenize(const deltallm_model* m, const std::string& text, uint32_t flags,
                                    std::vector<int32_t>* ids) {
  size_t n = 0;
  ids->assign(text.size() + 8, 0);
  deltallm_status st = deltallm_tokenize(m, text.data(), text.size(), flags, ids->data(), ids->size(), &n);
  if (st == DELTALLM_ERR_BUFFER_TOO_SMALL) {
    ids->resize(n);
    st = deltallm_tokenize(m, text.data(), text.size(), flags, ids->data(), ids->size(), &n);
  }
  ids->resize(st == DELTALLM_OK ? n : 0);
  return st;
}

inline std::vector<int32_t> tokenize(const deltallm_model* m, const std::string& text, uint32_t flags) {
  std::vector<int32_t> ids;
  check(try_tokenize(m, text, flags, &ids));
  return ids;
}

// Renders a JSON array of messages through the model's chat template.
inline std::string apply_chat_template(const deltallm_model* m, const std::string& messages_json,
                                       const deltallm_chat_params& params) {
  size_t len = 0;
  deltallm_status st = deltallm_chat_apply_template_json(m, messages_json.c_str(), &params, nullptr, 0, &len);
  if (st != DELTALLM_ERR_BUFFER_TOO_SMALL) check(st);
  std::string out(len + 1, '\0');
  check(deltallm_chat_apply_template_json(m, messages_json.c_str(), &params, out.data(), out.size(), &len));
  out.resize(len);
  return out;
}

// A token's piece (RENDER_SPECIAL in flags shows control tokens' texts).
inline std::string token_piece(const deltallm_model* m, int32_t token, uint32_t flags) {
  char small[64];
  size_t len = 0;
  deltallm_status st = deltallm_token_to_piece(m, token, flags, small, sizeof small, &len);
  if (st == DELTALLM_OK) return std::string(small, len);
  if (st != DELTALLM_ERR_BUFFER_TOO_SMALL) check(st);
  std::string out(len + 1, '\0');
  check(deltallm_token_to_piece(m, token, flags, out.data(), out.size(), &len));
  out.resize(len);
  return out;
}

inline std::string memory_plan(const deltallm_context* c) {
  const char* text = nullptr;
  check(deltallm_context_memory_plan(c, &text));
  return text;
}

// Evaluates tokens of sequence 0 at positions [pos0, pos0 + n), logits for the last only.
// Returns false when the abort callback stopped it.
inline bool decode_run(deltallm_context* c, const int32_t* tokens, size_t n, int64_t pos0) {
  std::vector<int64_t> pos(n);
  for (size_t i = 0; i < n; ++i) pos[i] = pos0 + int64_t(i);
  deltallm_batch b = deltallm_batch_default_params();
  b.n_tokens = int32_t(n);
  b.tokens = tokens;
  b.pos = pos.data();
  const deltallm_status st = deltallm_decode(c, &b);
  if (st == DELTALLM_ERR_ABORTED) return false;
  check(st);
  return true;
}

}  // namespace dllm::cli
