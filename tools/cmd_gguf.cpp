// deltallm gguf FILE [--json]: validates a GGUF file and prints its metadata,
// tensor table and a summary (or, with --json, the document of
// src/formats/gguf_json.h, arrays in full).
#include <charconv>
#include <cstdio>
#include <map>
#include <string>

#include "cli_util.h"
#include "command.h"
#include "formats/gguf.h"
#include "formats/gguf_json.h"

namespace dllm::cli {
namespace {

constexpr size_t kArrayItemsShown = 8;
constexpr size_t kStringBytesShown = 160;

std::string format_float(double v, bool single) {
  char buf[64];
  auto r = single ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(v))
                  : std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// A string for one line of output: valid UTF-8, control characters escaped,
// long text cut with its length noted.
std::string display_string(const std::string& raw) {
  std::string s = utf8_sanitize(raw);
  std::string out = "\"";
  size_t i = 0;
  for (; i < s.size() && i < kStringBytesShown; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      out += b;
    } else {
      out += static_cast<char>(c);
    }
  }
  // Do not cut a UTF-8 sequence in half.
  while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) out += s[i++];
  out += '"';
  if (i < s.size()) out += " ... (" + std::to_string(raw.size()) + " bytes)";
  return out;
}

std::string display_value(const GgufValue& v) {
  switch (v.type) {
    case GgufType::UINT8:
    case GgufType::UINT16:
    case GgufType::UINT32:
    case GgufType::UINT64:
      return std::to_string(v.u);
    case GgufType::INT8:
    case GgufType::INT16:
    case GgufType::INT32:
    case GgufType::INT64:
      return std::to_string(v.i);
    case GgufType::FLOAT32:
      return format_float(v.f, true);
    case GgufType::FLOAT64:
      return format_float(v.f, false);
    case GgufType::BOOL:
      return v.u ? "true" : "false";
    case GgufType::STRING:
      return display_string(v.s);
    case GgufType::ARRAY: {
      std::string out = "[";
      for (size_t k = 0; k < v.items.size() && k < kArrayItemsShown; ++k) {
        if (k) out += ", ";
        out += display_value(v.items[k]);
      }
      if (v.items.size() > kArrayItemsShown) out += ", ...";
      out += "]";
      return out;
    }
  }
  return "?";
}

std::string type_column(const GgufValue& v) {
  if (v.type != GgufType::ARRAY) return gguf_type_name(v.type);
  return std::string("ARRAY[") + gguf_type_name(v.elem_type) + " x " + std::to_string(v.items.size()) + "]";
}

std::string shape(const GgufTensorInfo& t) {
  std::string s = "{";
  for (int d = 0; d < t.n_dims; ++d) s += (d ? ", " : "") + std::to_string(t.ne[d]);
  return s + "}";
}

std::string human_count(double n) {
  const char* units[] = {"", "K", "M", "G", "T"};
  int u = 0;
  while (n >= 1000 && u < 4) {
    n /= 1000;
    ++u;
  }
  char b[32];
  std::snprintf(b, sizeof b, u ? "%.2f%s" : "%.0f%s", n, units[u]);
  return b;
}

void print_human(const GgufFile& f) {
  std::printf("%s: GGUF v%u, %llu bytes, alignment %llu, data offset %llu\n", f.path().c_str(), f.version(),
              (unsigned long long)f.file_size(), (unsigned long long)f.alignment(),
              (unsigned long long)f.data_offset());
  if (f.shard_count() > 1) {
    std::printf("split into %zu files, %llu bytes in all:\n", f.shard_count(),
                (unsigned long long)f.total_file_size());
    for (size_t i = 0; i < f.shard_count(); ++i)
      std::printf("  %zu  %s: %llu bytes, %zu tensors\n", i + 1, f.shard(i).path().c_str(),
                  (unsigned long long)f.shard(i).file_size(), f.shard_tensor_count(i));
  }

  std::printf("\nmetadata (%zu keys):\n", f.metadata().size());
  size_t key_w = 20;
  for (const GgufKV& kv : f.metadata()) key_w = std::max(key_w, std::min<size_t>(kv.key.size(), 60));
  for (const GgufKV& kv : f.metadata()) {
    std::string key = utf8_sanitize(kv.key);
    std::printf("  %-*s  %-22s %s\n", (int)key_w, key.c_str(), type_column(kv.value).c_str(),
                display_value(kv.value).c_str());
  }

  std::printf("\ntensors (%zu):\n", f.tensors().size());
  size_t name_w = 4;
  for (const GgufTensorInfo& t : f.tensors()) name_w = std::max(name_w, std::min<size_t>(t.name.size(), 60));
  std::printf("  %-*s  %-8s %-24s %14s\n", (int)name_w, "name", "type", "shape", "bytes");
  uint64_t n_params = 0, total = 0;
  std::map<uint32_t, uint64_t> by_type;  // ordered by type id
  for (const GgufTensorInfo& t : f.tensors()) {
    std::string name = utf8_sanitize(t.name);
    std::printf("  %-*s  %-8s %-24s %14llu\n", (int)name_w, name.c_str(), type_traits(t.type)->name,
                shape(t).c_str(), (unsigned long long)t.nbytes);
    n_params += static_cast<uint64_t>(t.n_elements());
    total += t.nbytes;
    by_type[t.type] += t.nbytes;
  }

  std::printf("\nsummary:\n");
  const GgufValue* arch = f.find("general.architecture");
  std::printf("  architecture   %s\n", arch ? utf8_sanitize(arch->s).c_str() : "(none)");
  std::printf("  parameters     %llu (%s)\n", (unsigned long long)n_params, human_count((double)n_params).c_str());
  std::printf("  tensor bytes   %llu (%.2f MiB)\n", (unsigned long long)total, (double)total / (1 << 20));
  std::printf("  bytes by type ");
  const char* sep = " ";
  for (const auto& [id, bytes] : by_type) {
    std::printf("%s%s %llu", sep, type_traits(id)->name, (unsigned long long)bytes);
    sep = ", ";
  }
  std::printf("\n");
}

int cmd_gguf(int argc, char** argv) {
  CLI::App app{"Validate a GGUF file and print its metadata, tensors and a summary"};
  std::string path;
  bool json = false;
  app.add_option("FILE", path, "GGUF file")->required();
  app.add_flag("--json", json, "print everything as one JSON document (arrays in full)");
  if (!parse_args(app, argc, argv)) return 0;

  std::unique_ptr<GgufFile> f = GgufFile::open(path);
  if (json) {
    std::string out = gguf_to_json(*f).dump();
    out += '\n';
    std::fwrite(out.data(), 1, out.size(), stdout);
  } else {
    print_human(*f);
  }
  if (std::fflush(stdout) != 0) fail("cannot write to stdout");
  return 0;
}

const Command reg("gguf", "validate a GGUF file and print its metadata, tensors and summary", &cmd_gguf);

}  // namespace
}  // namespace dllm::cli
