// Well-known key types (see gguf_keys.h for the list and why).
#include "formats/gguf_keys.h"

namespace dllm {

namespace {

struct Expect {
  GgufType type;
  GgufType elem = GgufType::UINT8;  // for ARRAY
};

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

bool expectation(std::string_view key, std::string_view arch, Expect* out) {
  struct Fixed {
    const char* key;
    Expect e;
  };
  static const Fixed fixed[] = {
      {"general.architecture", {GgufType::STRING}},
      {"general.name", {GgufType::STRING}},
      {"general.type", {GgufType::STRING}},
      {"general.alignment", {GgufType::UINT32}},
      {"general.quantization_version", {GgufType::UINT32}},
      {"general.file_type", {GgufType::UINT32}},
      {"tokenizer.ggml.model", {GgufType::STRING}},
      {"tokenizer.ggml.pre", {GgufType::STRING}},
      {"tokenizer.chat_template", {GgufType::STRING}},
      {"tokenizer.ggml.add_bos_token", {GgufType::BOOL}},
      {"tokenizer.ggml.add_eos_token", {GgufType::BOOL}},
      {"tokenizer.ggml.tokens", {GgufType::ARRAY, GgufType::STRING}},
      {"tokenizer.ggml.merges", {GgufType::ARRAY, GgufType::STRING}},
      {"tokenizer.ggml.token_type", {GgufType::ARRAY, GgufType::INT32}},
      {"tokenizer.ggml.scores", {GgufType::ARRAY, GgufType::FLOAT32}},
      {"split.no", {GgufType::UINT16}},
      {"split.count", {GgufType::UINT16}},
      {"split.tensors.count", {GgufType::INT32}},
  };
  for (const auto& f : fixed) {
    if (key == f.key) {
      *out = f.e;
      return true;
    }
  }
  if (starts_with(key, "tokenizer.ggml.") && ends_with(key, "_token_id")) {
    *out = {GgufType::UINT32};
    return true;
  }
  if (!arch.empty() && key.size() > arch.size() + 1 && starts_with(key, arch) && key[arch.size()] == '.') {
    std::string_view rest = key.substr(arch.size() + 1);
    static const char* per_arch_u32[] = {"block_count", "context_length", "embedding_length", "expert_count",
                                         "expert_used_count"};
    for (const char* k : per_arch_u32) {
      if (rest == k) {
        *out = {GgufType::UINT32};
        return true;
      }
    }
  }
  return false;
}

std::string label(GgufType type, GgufType elem) {
  std::string s = gguf_type_name(type);
  if (type == GgufType::ARRAY) s += std::string(" of ") + gguf_type_name(elem);
  return s;
}

}  // namespace

std::string gguf_type_label(const GgufValue& value) { return label(value.type, value.elem_type); }

std::string gguf_expected_type(std::string_view key, const GgufValue& value, std::string_view arch) {
  Expect e;
  if (!expectation(key, arch, &e)) return "";
  if (value.type != e.type) return label(e.type, e.elem);
  if (e.type == GgufType::ARRAY && value.elem_type != e.elem) return label(e.type, e.elem);
  return "";
}

}  // namespace dllm
