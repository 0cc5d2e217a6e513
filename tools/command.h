// Subcommands of the deltallm executable register themselves here with a
// static Command object in their own file (tools/cmd_*.cpp).
#pragma once
#include <string>
#include <vector>

namespace dllm::cli {

// argv[0] is the subcommand name. Returns the exit status. Throws
// dllm::Error (or any std::exception) for an error: main() prints it as
// "deltallm: error: <what>" and exits 1.
using CommandFn = int (*)(int argc, char** argv);

struct Command {
  Command(const char* name, const char* summary, CommandFn fn);
};

}  // namespace dllm::cli
