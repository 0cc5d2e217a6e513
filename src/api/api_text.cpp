// Vocabulary and tokenizer calls: vocab info, token text/type/eog, tokenize,
// pieces, detokenize, streaming detokenizer.
#include <algorithm>

#include "api/api_internal.h"

using namespace dllm;
using namespace dllm::api;

namespace {

void check_flags(uint32_t flags, uint32_t known) {
  if (flags & ~known) raise(DELTALLM_ERR_INVALID_ARGUMENT, "unknown flag bits ", flags & ~known, " (known: ", known, ")");
}

void check_tok_id(const Tokenizer& t, int32_t token) {
  if (token < 0 || token >= t.n_vocab())
    raise(DELTALLM_ERR_INVALID_ARGUMENT, "token id ", token, " is out of range [0, ", t.n_vocab(), ")");
}

}  // namespace

extern "C" {

deltallm_status deltallm_model_get_vocab_info(const deltallm_model* model, deltallm_vocab_info* info) {
  return guard("deltallm_model_get_vocab_info", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    const Tokenizer& t = tokenizer_ref(model);
    deltallm_vocab_info v;
    std::memset(&v, 0, sizeof v);
    v.n_tokens = t.n_vocab();
    v.bos = t.bos();
    v.eos = t.eos();
    v.eot = t.eot();
    v.pad = t.pad();
    v.newline = model->nl_token;
    v.add_bos = t.add_bos();
    v.add_eos = t.add_eos();
    v.tokenizer_model = model->tok_model.c_str();
    v.pre_type = model->pre.c_str();
    write_info(info, v, "info");
  });
}

deltallm_status deltallm_token_get_text(const deltallm_model* model, int32_t token, const char** text) {
  return guard("deltallm_token_get_text", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    const Tokenizer& t = tokenizer_ref(model);
    require(text, "text");
    check_tok_id(t, token);
    *text = t.token_text(token).c_str();
  });
}

deltallm_status deltallm_token_get_type(const deltallm_model* model, int32_t token, deltallm_token_type* type) {
  return guard("deltallm_token_get_type", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    const Tokenizer& t = tokenizer_ref(model);
    require(type, "type");
    check_tok_id(t, token);
    *type = deltallm_token_type(int(t.token_type(token)));
  });
}

deltallm_status deltallm_token_is_eog(const deltallm_model* model, int32_t token, bool* is_eog) {
  return guard("deltallm_token_is_eog", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    const Tokenizer& t = tokenizer_ref(model);
    require(is_eog, "is_eog");
    check_tok_id(t, token);
    *is_eog = t.is_eog(token);
  });
}

deltallm_status deltallm_tokenize(const deltallm_model* model, const char* text, size_t text_len, uint32_t flags,
                                  int32_t* tokens, size_t max_tokens, size_t* n_tokens) {
  return guard("deltallm_tokenize", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    const Tokenizer& t = tokenizer_ref(model);
    require(n_tokens, "n_tokens");
    if (!text && text_len) raise(DELTALLM_ERR_INVALID_ARGUMENT, "text is NULL but text_len is ", text_len);
    if (!tokens && max_tokens) raise(DELTALLM_ERR_INVALID_ARGUMENT, "tokens is NULL but max_tokens is ", max_tokens);
    check_flags(flags, DELTALLM_TOKENIZE_ADD_SPECIAL | DELTALLM_TOKENIZE_PARSE_SPECIAL);
    const std::string_view sv(text ? text : "", text_len);
    const bool parse = flags & DELTALLM_TOKENIZE_PARSE_SPECIAL;
    const std::vector<int32_t> ids =
        (flags & DELTALLM_TOKENIZE_ADD_SPECIAL) ? t.encode_prompt(sv, parse) : t.encode(sv, parse);
    *n_tokens = ids.size();
    if (ids.size() > max_tokens)
      raise(DELTALLM_ERR_BUFFER_TOO_SMALL, "the text gives ", ids.size(), " tokens, the array holds ", max_tokens);
    std::copy(ids.begin(), ids.end(), tokens);
  });
}

deltallm_status deltallm_token_to_piece(const deltallm_model* model, int32_t token, uint32_t flags, char* buf,
                                        size_t buf_size, size_t* len) {
  return guard("deltallm_token_to_piece", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    const Tokenizer& t = tokenizer_ref(model);
    require(len, "len");
    check_flags(flags, DELTALLM_DETOKENIZE_RENDER_SPECIAL);
    check_tok_id(t, token);
    copy_text(t.token_to_piece(token, flags & DELTALLM_DETOKENIZE_RENDER_SPECIAL), buf, buf_size, len);
  });
}

deltallm_status deltallm_detokenize(const deltallm_model* model, const int32_t* tokens, size_t n_tokens,
                                    uint32_t flags, char* buf, size_t buf_size, size_t* len) {
  return guard("deltallm_detokenize", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    const Tokenizer& t = tokenizer_ref(model);
    require(len, "len");
    if (!tokens && n_tokens) raise(DELTALLM_ERR_INVALID_ARGUMENT, "tokens is NULL but n_tokens is ", n_tokens);
    check_flags(flags, DELTALLM_DETOKENIZE_RENDER_SPECIAL);
    for (size_t i = 0; i < n_tokens; ++i) check_tok_id(t, tokens[i]);
    const std::span<const int32_t> ids(tokens ? tokens : static_cast<const int32_t*>(nullptr), n_tokens);
    copy_text(t.decode(ids, flags & DELTALLM_DETOKENIZE_RENDER_SPECIAL), buf, buf_size, len);
  });
}

deltallm_status deltallm_detokenizer_create(const deltallm_model* model, uint32_t flags, deltallm_detokenizer** out) {
  return guard("deltallm_detokenizer_create", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    const Tokenizer& t = tokenizer_ref(model);
    require(out, "out");
    check_flags(flags, DELTALLM_DETOKENIZE_RENDER_SPECIAL);
    auto d = std::make_unique<deltallm_detokenizer>();
    d->model = model;
    d->dec.emplace(t, (flags & DELTALLM_DETOKENIZE_RENDER_SPECIAL) != 0);
    *out = d.release();
  });
}

deltallm_status deltallm_detokenizer_push(deltallm_detokenizer* dt, int32_t token, const char** text, size_t* len) {
  return guard("deltallm_detokenizer_push", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    require(dt, "dt");
    require(text, "text");
    require(len, "len");
    check_tok_id(*dt->model->tok, token);
    dt->out = dt->dec->push(token);
    *text = dt->out.c_str();
    *len = dt->out.size();
  });
}

deltallm_status deltallm_detokenizer_flush(deltallm_detokenizer* dt, const char** text, size_t* len) {
  return guard("deltallm_detokenizer_flush", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    require(dt, "dt");
    require(text, "text");
    require(len, "len");
    dt->out = dt->dec->flush();
    *text = dt->out.c_str();
    *len = dt->out.size();
  });
}

void deltallm_detokenizer_free(deltallm_detokenizer* dt) { delete dt; }

}  // extern "C"
