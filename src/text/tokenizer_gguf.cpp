// Tokenizer keys of a GGUF file (kernels.md §6.1) -> VocabSpec -> Tokenizer.
#include "formats/gguf.h"
#include "text/tokenizer.h"
#include "util/error.h"

namespace dllm {
namespace {

std::vector<std::string> string_array(const GgufFile& f, std::string_view key) {
  std::vector<std::string> out;
  const GgufValue* v = f.get_array(key);
  if (!v) return out;
  if (v->elem_type != GgufType::STRING) {
    fail(f.path(), ": key ", key, " is an array of ", gguf_type_name(v->elem_type), ", expected STRING");
  }
  out.reserve(v->items.size());
  for (const GgufValue& it : v->items) out.push_back(it.s);
  return out;
}

std::vector<int32_t> int_array(const GgufFile& f, std::string_view key) {
  std::vector<int32_t> out;
  const GgufValue* v = f.get_array(key);
  if (!v) return out;
  out.reserve(v->items.size());
  for (size_t i = 0; i < v->items.size(); ++i) {
    const auto x = v->items[i].as_int();
    if (!x || *x < INT32_MIN || *x > INT32_MAX) {
      fail(f.path(), ": key ", key, " element ", i, " is not a 32-bit integer (array of ",
           gguf_type_name(v->elem_type), ")");
    }
    out.push_back(static_cast<int32_t>(*x));
  }
  return out;
}

int32_t opt_id(const GgufFile& f, std::string_view key) {
  const auto v = f.get_u32(key);
  if (!v) return -1;
  // Some converters write 0xFFFFFFFF (-1 as uint32) for "none".
  if (*v > static_cast<uint32_t>(INT32_MAX)) return -1;
  return static_cast<int32_t>(*v);
}

}  // namespace

VocabSpec vocab_spec_from_gguf(const GgufFile& f) {
  VocabSpec s;
  const auto model = f.get_str("tokenizer.ggml.model");
  if (!model) fail(f.path(), ": the file has no tokenizer (missing key tokenizer.ggml.model)");
  s.model = *model;
  s.pre = f.get_str("tokenizer.ggml.pre").value_or("");
  s.tokens = string_array(f, "tokenizer.ggml.tokens");
  if (s.tokens.empty()) fail(f.path(), ": missing or empty key tokenizer.ggml.tokens");
  s.types = int_array(f, "tokenizer.ggml.token_type");
  s.merges = string_array(f, "tokenizer.ggml.merges");
  s.bos = opt_id(f, "tokenizer.ggml.bos_token_id");
  s.eos = opt_id(f, "tokenizer.ggml.eos_token_id");
  s.eot = opt_id(f, "tokenizer.ggml.eot_token_id");
  s.eom = opt_id(f, "tokenizer.ggml.eom_token_id");
  s.pad = opt_id(f, "tokenizer.ggml.padding_token_id");
  s.unk = opt_id(f, "tokenizer.ggml.unknown_token_id");
  s.sep = opt_id(f, "tokenizer.ggml.seperator_token_id");
  for (const char* k : {"tokenizer.ggml.fim_pad_token_id", "tokenizer.ggml.fim_rep_token_id",
                        "tokenizer.ggml.fim_sep_token_id"}) {
    const int32_t id = opt_id(f, k);
    if (id >= 0) s.fim_ids.push_back(id);
  }
  if (auto b = f.get_bool("tokenizer.ggml.add_bos_token")) s.add_bos = *b;
  if (auto b = f.get_bool("tokenizer.ggml.add_eos_token")) s.add_eos = *b;
  return s;
}

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const GgufFile& f) {
  try {
    return from_spec(vocab_spec_from_gguf(f));
  } catch (const Error& e) {
    const std::string msg = e.what();
    if (msg.rfind(f.path(), 0) == 0) throw;
    fail(f.path(), ": ", msg);
  }
}

}  // namespace dllm
