#include "text/vocab_import.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "formats/gguf.h"
#include "text/unicode.h"
#include "util/error.h"

namespace dllm {
namespace {

using nlohmann::json;

json read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return json::parse(ss.str());
  } catch (const json::exception& e) {
    fail(path, ": not valid JSON: ", e.what());
  }
}

// convert_hf_to_gguf's does_token_look_special.
bool looks_special(const std::string& t) {
  auto starts = [&](const char* p) { return t.rfind(p, 0) == 0; };
  auto ends = [&](const std::string& s) { return t.size() >= s.size() && t.compare(t.size() - s.size(), s.size(), s) == 0; };
  if (t == "<pad>" || t == "<mask>" || t == "<2mass>" || t == "[@BOS@]") return true;
  if (starts("<|") && ends("|>")) return true;
  if (starts("<\xEF\xBD\x9C") && ends("\xEF\xBD\x9C>")) return true;  // <｜ ... ｜>
  if (starts("<start_of_") && ends(">")) return true;
  if (starts("<end_of_") && ends(">")) return true;
  return false;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  return s;
}

// Collects the Split regexes and notes whether a ByteLevel step is present.
void scan_pre_tokenizer(const json& pt, std::vector<std::string>& regexes, bool& byte_level, bool& odd_split) {
  if (!pt.is_object()) return;
  const std::string type = pt.value("type", "");
  if (type == "Sequence") {
    for (const auto& p : pt.value("pretokenizers", json::array())) scan_pre_tokenizer(p, regexes, byte_level, odd_split);
  } else if (type == "ByteLevel") {
    byte_level = true;
    if (pt.value("use_regex", false)) regexes.push_back("<ByteLevel use_regex: the GPT-2 regex>");
  } else if (type == "Split") {
    const json& pat = pt.value("pattern", json::object());
    if (pat.contains("Regex") && pat["Regex"].is_string()) {
      regexes.push_back(pat["Regex"].get<std::string>());
    } else {
      regexes.push_back("<Split on a plain string>");
    }
    if (pt.value("behavior", "Isolated") != "Isolated" || pt.value("invert", false)) odd_split = true;
  } else {
    regexes.push_back("<pre-tokenizer " + type + ">");
  }
}

bool normalizer_is_nfc(const json& n) {
  if (!n.is_object()) return false;
  const std::string type = n.value("type", "");
  if (type == "NFC") return true;
  if (type == "Sequence") {
    const json& list = n.value("normalizers", json::array());
    return list.size() == 1 && normalizer_is_nfc(list[0]);
  }
  return false;
}

// A token named in tokenizer_config.json: a string, {"content": ...} or null.
std::optional<std::string> config_token(const json& cfg, const char* key) {
  if (!cfg.is_object() || !cfg.contains(key)) return std::nullopt;
  const json& v = cfg[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return std::nullopt;
}

// Whether the post-processor's single-sequence template starts (at_end =
// false) or ends (at_end = true) with the special token `id`.
bool template_adds(const json& pp, const std::string& content, bool at_end) {
  if (!pp.is_object()) return false;
  const std::string type = pp.value("type", "");
  if (type == "Sequence") {
    for (const auto& p : pp.value("processors", json::array())) {
      if (template_adds(p, content, at_end)) return true;
    }
    return false;
  }
  if (type != "TemplateProcessing") return false;
  const json& single = pp.value("single", json::array());
  if (!single.is_array() || single.empty()) return false;
  const json& item = at_end ? single.back() : single.front();
  return item.contains("SpecialToken") && item["SpecialToken"].value("id", "") == content;
}

}  // namespace

std::string hf_config_beside(const std::string& tokenizer_json_path) {
  namespace fs = std::filesystem;
  const fs::path p = fs::path(tokenizer_json_path).parent_path() / "tokenizer_config.json";
  std::error_code ec;
  return fs::is_regular_file(p, ec) ? p.string() : std::string();
}

HfTokenizerImport import_hf_tokenizer(const std::string& path, const HfImportOptions& opt) {
  HfTokenizerImport imp;
  VocabSpec& spec = imp.spec;
  const json tj = read_json(path);
  if (!tj.is_object() || !tj.contains("model") || !tj["model"].is_object()) fail(path, ": no \"model\" object");
  const json& model = tj["model"];
  const std::string mtype = model.value("type", "BPE");
  if (mtype != "BPE") fail(path, ": model type '", mtype, "' is not supported (only byte-level BPE)");

  // Pre-tokenizer: recognise the pre type by its Split regex.
  std::vector<std::string> regexes;
  bool byte_level = false, odd_split = false;
  scan_pre_tokenizer(tj.value("pre_tokenizer", json()), regexes, byte_level, odd_split);
  if (!byte_level) fail(path, ": the pre-tokenizer has no ByteLevel step; only byte-level BPE is supported");
  std::optional<PreType> found;
  if (regexes.size() == 1 && !odd_split) {
    for (PreType t : {PreType::Qwen2, PreType::Qwen35, PreType::Llama3}) {
      if (regexes[0] == pre_type_hf_regex(t)) found = t;
    }
  }
  PreType pre;
  if (!opt.pre.empty()) {
    const auto named = pre_type_from_name(opt.pre);
    if (!named) fail("unknown pre type '", opt.pre, "' (known: qwen2, qwen35, llama3)");
    pre = *named;
    if (found != named) {
      imp.warnings.push_back(str_cat("the pre-tokenizer of ", path, " is not exactly the ", pre_type_name(pre),
                                     " regex; using ", pre_type_name(pre), " as asked"));
    }
  } else if (found) {
    pre = *found;
  } else {
    std::string what = regexes.empty() ? std::string("no Split regex") : regexes[0];
    if (regexes.size() > 1) what = str_cat(regexes.size(), " pre-tokenizer steps");
    if (odd_split) what += " (with a Split behavior other than Isolated)";
    fail(path, ": the pre-tokenizer (", what,
         ") is not one of the known ones (qwen2, qwen35, llama3); give --pre NAME to choose one");
  }
  spec.pre = pre_type_name(pre);
  spec.model = "gpt2";

  const bool nfc = normalizer_is_nfc(tj.value("normalizer", json()));
  const bool has_norm = tj.contains("normalizer") && !tj["normalizer"].is_null();
  if (pre_type_uses_nfc(pre) && !nfc) {
    imp.warnings.push_back(str_cat("the tokenizer has ", has_norm ? "a normalizer other than NFC" : "no normalizer",
                                   "; deltallm applies NFC for the ", spec.pre, " pre type"));
  } else if (!pre_type_uses_nfc(pre) && has_norm) {
    imp.warnings.push_back(str_cat("the tokenizer has a normalizer; deltallm applies none for the ", spec.pre,
                                   " pre type"));
  }
  if (model.value("ignore_merges", false) != pre_type_ignores_merges(pre)) {
    imp.warnings.push_back(str_cat("the tokenizer has ignore_merges = ", model.value("ignore_merges", false) ? "true" : "false",
                                   "; deltallm uses ", pre_type_ignores_merges(pre) ? "true" : "false", " for ", spec.pre));
  }
  if (model.value("byte_fallback", false)) imp.warnings.push_back("byte_fallback is ignored (byte-level BPE needs none)");

  // Vocabulary and added tokens.
  if (!model.contains("vocab") || !model["vocab"].is_object()) fail(path, ": model has no \"vocab\" object");
  std::map<int64_t, std::pair<std::string, TokenType>> by_id;
  for (const auto& [text, idv] : model["vocab"].items()) {
    if (!idv.is_number_integer()) fail(path, ": vocab entry '", text, "' has no integer id");
    const int64_t id = idv.get<int64_t>();
    if (id < 0 || id >= INT32_MAX) fail(path, ": vocab entry '", text, "' has id ", id, " out of range");
    if (!by_id.emplace(id, std::make_pair(text, TokenType::Normal)).second) {
      fail(path, ": vocab ids ", id, " is used by both '", by_id[id].first, "' and '", text, "'");
    }
  }
  std::unordered_map<std::string, int32_t> added_by_content;
  auto add_added = [&](int64_t id, const std::string& content, bool special, const json& t) {
    if (id < 0 || id >= INT32_MAX) fail(path, ": added token '", content, "' has id ", id, " out of range");
    TokenType type = TokenType::UserDefined;
    std::string text = content;
    if (special || looks_special(content)) {
      type = TokenType::Control;
    } else {
      text = replace_all(text, "\xE2\x96\x81", " ");  // U+2581 as written by SentencePiece converters
    }
    if (t.value("lstrip", false) || t.value("rstrip", false) || t.value("single_word", false)) {
      imp.warnings.push_back(str_cat("added token '", content, "': lstrip/rstrip/single_word are ignored"));
    }
    by_id[id] = {text, type};
    added_by_content.emplace(content, static_cast<int32_t>(id));
  };
  for (const auto& t : tj.value("added_tokens", json::array())) {
    if (!t.is_object() || !t.contains("id") || !t.contains("content") || !t["id"].is_number_integer() ||
        !t["content"].is_string()) {
      fail(path, ": an added_tokens entry lacks an integer id or a string content");
    }
    add_added(t["id"].get<int64_t>(), t["content"].get<std::string>(), t.value("special", false), t);
  }

  json cfg;
  if (!opt.config_path.empty()) {
    cfg = read_json(opt.config_path);
    // Tokens the config adds that tokenizer.json does not list.
    if (cfg.contains("added_tokens_decoder") && cfg["added_tokens_decoder"].is_object()) {
      for (const auto& [key, t] : cfg["added_tokens_decoder"].items()) {
        int64_t id = -1;
        try {
          id = std::stoll(key);
        } catch (const std::exception&) {
          fail(opt.config_path, ": added_tokens_decoder key '", key, "' is not an id");
        }
        if (!t.is_object() || !t.contains("content") || !t["content"].is_string()) continue;
        auto it = by_id.find(id);
        if (it != by_id.end() && it->second.second != TokenType::Normal) continue;  // tokenizer.json has it
        add_added(id, t["content"].get<std::string>(), t.value("special", false), t);
      }
    }
  }

  const int64_t n = by_id.empty() ? 0 : by_id.rbegin()->first + 1;
  if (n == 0) fail(path, ": the vocabulary is empty");
  spec.tokens.resize(n);
  spec.types.assign(n, static_cast<int32_t>(TokenType::Unused));
  for (int64_t i = 0; i < n; ++i) spec.tokens[i] = str_cat("[PAD", i, "]");
  for (const auto& [id, tt] : by_id) {
    spec.tokens[id] = tt.first;
    spec.types[id] = static_cast<int32_t>(tt.second);
  }
  if (opt.pad_to_multiple > 0) {
    const int64_t m = opt.pad_to_multiple;
    const int64_t padded = (n + m - 1) / m * m;
    for (int64_t i = n; i < padded; ++i) {
      spec.tokens.push_back(str_cat("[PAD", i, "]"));
      spec.types.push_back(static_cast<int32_t>(TokenType::Unused));
    }
  }

  // Merges: "a b" strings or ["a", "b"] pairs.
  if (!model.contains("merges") || !model["merges"].is_array()) fail(path, ": model has no \"merges\" array");
  const json& merges = model["merges"];
  spec.merges.reserve(merges.size());
  for (size_t r = 0; r < merges.size(); ++r) {
    const json& m = merges[r];
    if (m.is_string()) {
      spec.merges.push_back(m.get<std::string>());
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      const std::string a = m[0].get<std::string>(), b = m[1].get<std::string>();
      if (a.empty() || b.find(' ') != std::string::npos || a.find(' ') != std::string::npos) {
        fail(path, ": merge ", r, " has a part that is empty or holds a space");
      }
      spec.merges.push_back(a + " " + b);
    } else {
      fail(path, ": merge ", r, " is neither \"a b\" nor [\"a\", \"b\"]");
    }
  }

  // Special ids from the config.
  std::unordered_map<std::string, int32_t> vocab_by_text;
  auto lookup = [&](const std::string& content) -> int32_t {
    auto a = added_by_content.find(content);
    if (a != added_by_content.end()) return a->second;
    if (vocab_by_text.empty()) {
      for (const auto& [id, tt] : by_id) vocab_by_text.emplace(tt.first, static_cast<int32_t>(id));
    }
    auto v = vocab_by_text.find(gpt2_encode_bytes(content));
    return v != vocab_by_text.end() ? v->second : -1;
  };
  auto special_id = [&](const char* key, const char* what) -> int32_t {
    const auto content = config_token(cfg, key);
    if (!content) return -1;
    const int32_t id = lookup(*content);
    if (id < 0) fail(opt.config_path, ": ", what, " token '", *content, "' is not in the vocabulary");
    return id;
  };
  spec.bos = special_id("bos_token", "BOS");
  spec.eos = special_id("eos_token", "EOS");
  spec.pad = special_id("pad_token", "padding");
  spec.unk = special_id("unk_token", "unknown");
  const json& pp = tj.value("post_processor", json());
  if (cfg.is_object() && cfg.contains("add_bos_token") && cfg["add_bos_token"].is_boolean()) {
    spec.add_bos = cfg["add_bos_token"].get<bool>();
  } else {
    spec.add_bos = spec.bos >= 0 && template_adds(pp, *config_token(cfg, "bos_token"), false);
  }
  if (cfg.is_object() && cfg.contains("add_eos_token") && cfg["add_eos_token"].is_boolean()) {
    spec.add_eos = cfg["add_eos_token"].get<bool>();
  } else {
    spec.add_eos = spec.eos >= 0 && template_adds(pp, *config_token(cfg, "eos_token"), true);
  }
  if (*spec.add_bos && spec.bos < 0) fail(opt.config_path, ": add_bos_token is true but there is no bos_token");
  if (*spec.add_eos && spec.eos < 0) fail(opt.config_path, ": add_eos_token is true but there is no eos_token");

  // Chat template(s).
  if (cfg.is_object() && cfg.contains("chat_template")) {
    const json& ct = cfg["chat_template"];
    if (ct.is_string()) {
      imp.chat_template = ct.get<std::string>();
    } else if (ct.is_array()) {
      for (const auto& e : ct) {
        if (!e.is_object() || !e.contains("name") || !e.contains("template")) continue;
        const std::string name = e["name"].get<std::string>(), tmpl = e["template"].get<std::string>();
        if (name == "default") imp.chat_template = tmpl;
        else imp.named_templates.emplace_back(name, tmpl);
      }
    }
  }
  if (imp.chat_template.empty() && !opt.config_path.empty()) {
    // Newer Hugging Face repositories keep the template in its own file.
    namespace fs = std::filesystem;
    const fs::path jinja = fs::path(opt.config_path).parent_path() / "chat_template.jinja";
    std::error_code ec;
    if (fs::is_regular_file(jinja, ec)) {
      std::ifstream in(jinja, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      imp.chat_template = ss.str();
    }
  }

  try {
    Tokenizer::from_spec(spec);  // everything the engine will check at load
  } catch (const Error& e) {
    fail(path, ": ", e.what());
  }
  return imp;
}

void write_tokenizer_keys(GgufWriter& w, const HfTokenizerImport& imp) {
  const VocabSpec& s = imp.spec;
  w.set("tokenizer.ggml.model", GgufValue::str(s.model));
  w.set("tokenizer.ggml.pre", GgufValue::str(s.pre));
  w.set("tokenizer.ggml.tokens", GgufValue::str_array(s.tokens));
  w.set("tokenizer.ggml.token_type", GgufValue::i32_array(s.types));
  w.set("tokenizer.ggml.merges", GgufValue::str_array(s.merges));
  auto set_id = [&](const char* key, int32_t id) {
    if (id >= 0) w.set(key, GgufValue::u32(static_cast<uint32_t>(id)));
  };
  set_id("tokenizer.ggml.bos_token_id", s.bos);
  set_id("tokenizer.ggml.eos_token_id", s.eos);
  set_id("tokenizer.ggml.unknown_token_id", s.unk);
  set_id("tokenizer.ggml.padding_token_id", s.pad);
  w.set("tokenizer.ggml.add_bos_token", GgufValue::boolean(s.add_bos.value_or(false)));
  w.set("tokenizer.ggml.add_eos_token", GgufValue::boolean(s.add_eos.value_or(false)));
  if (!imp.chat_template.empty()) w.set("tokenizer.chat_template", GgufValue::str(imp.chat_template));
  for (const auto& [name, tmpl] : imp.named_templates) w.set("tokenizer.chat_template." + name, GgufValue::str(tmpl));
}

int64_t apply_hf_tokenizer(GgufWriter& w, const std::string& tokenizer_json_path, const std::string& config_path,
                           int64_t pad_to_multiple, const std::string& pre, std::vector<std::string>* warnings) {
  HfImportOptions opt;
  opt.config_path = config_path;
  opt.pre = pre;
  opt.pad_to_multiple = pad_to_multiple;
  HfTokenizerImport imp = import_hf_tokenizer(tokenizer_json_path, opt);
  write_tokenizer_keys(w, imp);
  if (warnings) warnings->insert(warnings->end(), imp.warnings.begin(), imp.warnings.end());
  return static_cast<int64_t>(imp.spec.tokens.size());
}

}  // namespace dllm
