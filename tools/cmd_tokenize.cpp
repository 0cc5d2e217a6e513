// deltallm tokenize: text -> token ids through a GGUF file's own tokenizer.
// Uses only the C API (the file is loaded vocab-only, so no weights are read).
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "api_util.h"
#include "cli_util.h"
#include "command.h"
#include "text/unicode.h"
#include "util/error.h"

namespace dllm::cli {
namespace {

std::string read_all(std::istream& in) {
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A piece as shown between quotes: printable UTF-8 as is; quote, backslash
// and control characters escaped; bytes that are not (yet) a whole UTF-8
// character as \xNN, so that every token stays on its own line.
std::string show_piece(const std::string& p) {
  std::string out;
  size_t i = 0;
  while (i < p.size()) {
    const uint8_t c = static_cast<uint8_t>(p[i]);
    const int len = utf8_seq_len(c);
    if (c >= 0x80 && len > 0 && i + len <= p.size() && utf8_is_valid(std::string_view(p).substr(i, len))) {
      out.append(p, i, len);
      i += len;
      continue;
    }
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\\': out += "\\\\"; break;
      case '\'': out += "\\'"; break;
      default:
        if (c < 0x20 || c >= 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02X", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  return out;
}

void print_ids(const std::vector<int32_t>& ids, const char* sep) {
  std::string line = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) line += sep;
    line += std::to_string(ids[i]);
  }
  line += "]\n";
  std::fwrite(line.data(), 1, line.size(), stdout);
}

int cmd_tokenize(int argc, char** argv) {
  CLI::App app{
      "Tokenize text with the tokenizer of a GGUF file (a model or a vocab-only file). Input: TEXT, -f FILE "
      "(bytes read verbatim) or stdin. Output: one 'id -> 'piece'' per line (special tokens shown; quote, "
      "backslash, control characters and partial UTF-8 bytes escaped), or [id, id, ...] with --ids-only. "
      "BOS/EOS are added when the file says so (tokenizer.ggml.add_bos_token / add_eos_token).",
      "deltallm tokenize"};
  std::string model_path, file_path, text;
  bool ids_only = false, no_parse_special = false, jsonl = false, stats = false;
  app.add_option("-m,--model", model_path, "GGUF file")->required();
  app.add_option("-f,--file", file_path, "read the text from this file (verbatim, to end of file)");
  app.add_flag("--ids-only", ids_only, "print only [id, id, ...] on one line");
  app.add_flag("--no-parse-special", no_parse_special,
               "treat control-token texts in the input as plain text (user-defined tokens still match)");
  app.add_flag("--jsonl", jsonl, "input lines are JSON strings; print one JSON array of ids per line");
  app.add_flag("--stats", stats, "print load time, bytes, tokens and MB/s to stderr");
  auto* text_opt = app.add_option("text", text, "text to tokenize");
  if (!parse_args(app, argc, argv)) return 0;

  std::string input;
  if (*text_opt && !file_path.empty()) fail("give either TEXT or -f FILE, not both");
  if (*text_opt) {
    input = text;
  } else if (!file_path.empty()) {
    std::ifstream in(file_path, std::ios::binary);
    if (!in) fail("cannot open ", file_path);
    input = read_all(in);
  } else {
    std::ios::sync_with_stdio(false);
    input = read_all(std::cin);
  }

  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  // Quiet: stderr carries only the one error line (or --stats). A tokenizer
  // that cannot be built is reported by the call that needs it, not warned
  // about at load.
  check(deltallm_set_log_level(DELTALLM_LOG_ERROR));
  const ModelPtr model = load_model(model_path, /*vocab_only=*/true);
  // ADD_SPECIAL: BOS/EOS as the file asks (tokenizer.ggml.add_bos_token ...).
  const uint32_t flags = DELTALLM_TOKENIZE_ADD_SPECIAL | (no_parse_special ? 0u : DELTALLM_TOKENIZE_PARSE_SPECIAL);
  const auto t1 = Clock::now();
  const std::clock_t c1 = std::clock();
  size_t n_tokens = 0;
  auto report = [&] {
    if (!stats) return;
    const double load = std::chrono::duration<double>(t1 - t0).count();
    const double enc = std::chrono::duration<double>(Clock::now() - t1).count();
    const double cpu = double(std::clock() - c1) / CLOCKS_PER_SEC;
    std::fprintf(stderr,
                 "load %.3f s; %zu bytes -> %zu tokens (%.2f bytes/token) in %.3f s wall, %.3f s CPU: %.1f MB/s "
                 "wall, %.1f MB/s CPU\n",
                 load, input.size(), n_tokens, n_tokens ? double(input.size()) / n_tokens : 0.0, enc, cpu,
                 enc > 0 ? input.size() / enc / 1e6 : 0.0, cpu > 0 ? input.size() / cpu / 1e6 : 0.0);
  };

  if (jsonl) {
    size_t line_no = 0, pos = 0;
    std::string out;
    while (pos < input.size()) {
      size_t end = input.find('\n', pos);
      if (end == std::string::npos) end = input.size();
      std::string_view line(input.data() + pos, end - pos);
      pos = end + 1;
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception& e) {
        fail("--jsonl input line ", line_no, " is not JSON: ", e.what());
      }
      if (!j.is_string()) fail("--jsonl input line ", line_no, " is not a JSON string");
      std::vector<int32_t> ids;
      try {
        ids = tokenize(model.get(), j.get_ref<const std::string&>(), flags);
      } catch (const Error& e) {
        fail("--jsonl input line ", line_no, ": ", e.what());
      }
      n_tokens += ids.size();
      out += '[';
      for (size_t i = 0; i < ids.size(); ++i) {
        if (i) out += ',';
        out += std::to_string(ids[i]);
      }
      out += "]\n";
      if (out.size() > (1 << 16)) {
        std::fwrite(out.data(), 1, out.size(), stdout);
        out.clear();
      }
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    report();
    return 0;
  }

  const std::vector<int32_t> ids = tokenize(model.get(), input, flags);
  n_tokens = ids.size();
  report();
  if (ids_only || ids.empty()) {
    print_ids(ids, ", ");
    return 0;
  }
  std::string out;
  for (int32_t id : ids) {
    out += std::to_string(id);
    out += " -> '";
    out += show_piece(token_piece(model.get(), id, DELTALLM_DETOKENIZE_RENDER_SPECIAL));
    out += "'\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

const Command reg("tokenize", "print the token ids of a text (the file's own tokenizer)", &cmd_tokenize);

}  // namespace
}  // namespace dllm::cli
