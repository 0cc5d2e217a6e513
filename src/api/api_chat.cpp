// Chat template calls: the model's template text and rendering messages
// through it (text/chat_template.h does the Jinja work).
#include "api/api_internal.h"
#include "text/chat_template.h"
#include "text/jinja/template_error.h"

using namespace dllm;
using namespace dllm::api;

namespace dllm::api {
bool chat_templates_available() { return true; }
}  // namespace dllm::api

namespace {

using Json = nlohmann::ordered_json;

// The text of the token named by `id_key` (tokenizer.ggml.bos_token_id ...),
// or "" when the file has no such id or it is out of range.
std::string token_text(const GgufFile& f, const char* id_key) {
  const std::optional<uint32_t> id = f.get_u32(id_key);
  const GgufValue* tokens = f.get_array("tokenizer.ggml.tokens");
  if (!id || !tokens || *id >= tokens->items.size()) return "";
  const GgufValue& t = tokens->items[*id];
  return t.type == GgufType::STRING ? t.s : "";
}

// The caller's template variables: a JSON object that does not redefine
// what render() itself passes.
Json template_kwargs(const char* text) {
  Json kwargs;
  try {
    kwargs = Json::parse(text);
  } catch (const std::exception& e) {
    raise(DELTALLM_ERR_INVALID_ARGUMENT, "template_kwargs_json is not valid JSON: ", e.what());
  }
  if (!kwargs.is_object())
    raise(DELTALLM_ERR_INVALID_ARGUMENT, "template_kwargs_json must be a JSON object, got ", kwargs.type_name());
  for (const char* reserved : {"messages", "tools", "add_generation_prompt", "bos_token", "eos_token"})
    if (kwargs.contains(reserved))
      raise(DELTALLM_ERR_INVALID_ARGUMENT, "template_kwargs_json may not set '", reserved,
            "' (it has its own parameter)");
  return kwargs;
}

std::string render(const deltallm_model* model, Json messages, const deltallm_chat_params* params) {
  const deltallm_model& m = model_ref(model);
  const deltallm_chat_params p = read_params(params, deltallm_chat_default_params(), "params");
  if (p.enable_thinking < -1 || p.enable_thinking > 1)
    raise(DELTALLM_ERR_INVALID_ARGUMENT, "enable_thinking must be -1, 0 or 1 (got ", p.enable_thinking, ")");
  std::string source;
  if (p.template_text) {
    source = p.template_text;
  } else {
    const std::optional<std::string> t = m.file->get_str("tokenizer.chat_template");
    if (!t) raise(DELTALLM_ERR_NOT_AVAILABLE, "the model has no chat template (tokenizer.chat_template)");
    source = *t;
  }
  ChatTemplateInput in;
  in.messages = std::move(messages);
  if (p.tools_json) {
    try {
      in.tools = Json::parse(p.tools_json);
    } catch (const std::exception& e) {
      raise(DELTALLM_ERR_INVALID_ARGUMENT, "tools_json is not valid JSON: ", e.what());
    }
  }
  in.add_generation_prompt = p.add_generation_prompt;
  if (p.template_kwargs_json) in.extra_vars = template_kwargs(p.template_kwargs_json);
  if (p.enable_thinking >= 0) {
    in.extra_vars.erase("enable_thinking");  // the explicit field wins
    in.enable_thinking = p.enable_thinking == 1;
  }
  // Straight from the metadata, so that a file whose tokenizer cannot be
  // built (an unknown pre type, say) still renders its template.
  in.bos_token = token_text(*m.file, "tokenizer.ggml.bos_token_id");
  in.eos_token = token_text(*m.file, "tokenizer.ggml.eos_token_id");
  try {
    const ChatTemplate tmpl(source);
    return tmpl.apply(in);
  } catch (const jinja::TemplateError& e) {
    // The template itself: a syntax error, an unsupported feature or its
    // own raise_exception().
    raise(DELTALLM_ERR_FORMAT, e.what());  // already says "chat template ..."
  }
}

}  // namespace

extern "C" {

deltallm_status deltallm_model_chat_template(const deltallm_model* model, const char* name, const char** tmpl) {
  return guard("deltallm_model_chat_template", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    const deltallm_model& m = model_ref(model);
    require(tmpl, "tmpl");
    const std::string key = name ? std::string("tokenizer.chat_template.") + name : "tokenizer.chat_template";
    const GgufValue* v = m.file->find(key);
    if (!v) raise(DELTALLM_ERR_NOT_AVAILABLE, "the model has no chat template '", key, "'");
    if (v->type != GgufType::STRING) raise(DELTALLM_ERR_FORMAT, key, " is not a string");
    *tmpl = v->s.c_str();
  });
}

deltallm_chat_params deltallm_chat_default_params(void) {
  deltallm_chat_params p;
  std::memset(&p, 0, sizeof p);
  p.size = sizeof p;
  p.add_generation_prompt = true;
  p.enable_thinking = -1;
  p.tools_json = nullptr;
  p.template_text = nullptr;
  p.template_kwargs_json = nullptr;
  return p;
}

deltallm_status deltallm_chat_apply_template(const deltallm_model* model, const deltallm_chat_message* messages,
                                             size_t n_messages, const deltallm_chat_params* params, char* buf,
                                             size_t buf_size, size_t* len) {
  return guard("deltallm_chat_apply_template", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    model_ref(model);
    require(len, "len");
    if (!messages && n_messages) raise(DELTALLM_ERR_INVALID_ARGUMENT, "messages is NULL but n_messages is ", n_messages);
    Json msgs = Json::array();
    for (size_t i = 0; i < n_messages; ++i) {
      if (!messages[i].role) raise(DELTALLM_ERR_INVALID_ARGUMENT, "message ", i, " has a NULL role");
      Json m = Json::object();
      m["role"] = messages[i].role;
      m["content"] = messages[i].content ? Json(messages[i].content) : Json(nullptr);
      msgs.push_back(std::move(m));
    }
    copy_text(render(model, std::move(msgs), params), buf, buf_size, len);
  });
}

deltallm_status deltallm_chat_apply_template_json(const deltallm_model* model, const char* messages_json,
                                                  const deltallm_chat_params* params, char* buf, size_t buf_size,
                                                  size_t* len) {
  return guard("deltallm_chat_apply_template_json", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    model_ref(model);
    require(messages_json, "messages_json");
    require(len, "len");
    Json msgs;
    try {
      msgs = Json::parse(messages_json);
    } catch (const std::exception& e) {
      raise(DELTALLM_ERR_INVALID_ARGUMENT, "messages_json is not valid JSON: ", e.what());
    }
    copy_text(render(model, std::move(msgs), params), buf, buf_size, len);
  });
}

}  // extern "C"
