// deltallm: one executable, many subcommands (tools/cmd_*.cpp).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <map>
#include <string>

#include "command.h"
#include "util/error.h"

namespace dllm::cli {
namespace {
struct Entry {
  const char* summary;
  CommandFn fn;
};
std::map<std::string, Entry>& registry() {
  static std::map<std::string, Entry> r;
  return r;
}
}  // namespace

Command::Command(const char* name, const char* summary, CommandFn fn) { registry()[name] = {summary, fn}; }

}  // namespace dllm::cli

static void print_usage(FILE* out) {
  std::fprintf(out,
               "deltallm - inference engine for hybrid Gated-DeltaNet models (qwen35, qwen35moe, qwen3next)\n\n"
               "usage: deltallm <command> [options]   (deltallm <command> --help for its options)\n\ncommands:\n");
  for (const auto& [name, e] : dllm::cli::registry()) std::fprintf(out, "  %-18s %s\n", name.c_str(), e.summary);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    print_usage(stderr);
    std::fprintf(stderr, "deltallm: error: no command given\n");
    return 1;
  }
  const std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    print_usage(stdout);
    return 0;
  }
  auto& reg = dllm::cli::registry();
  auto it = reg.find(cmd);
  if (it == reg.end()) {
    std::fprintf(stderr, "deltallm: error: unknown command '%s' (see deltallm --help)\n", cmd.c_str());
    return 1;
  }
  try {
    return it->second.fn(argc - 1, argv + 1);
  } catch (const std::exception& e) {
    std::string msg = e.what();
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    std::fflush(stdout);
    std::fprintf(stderr, "deltallm: error: %s\n", msg.c_str());
    return 1;
  }
}
