// Shared CLI11 handling for subcommands: --help goes to stdout with exit 0,
// a parse error becomes a dllm::Error (one line, exit 1).
#pragma once
#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include <deltallm.h>
#include "util/error.h"

namespace dllm::cli {

// The whole of a text file; `what` names it in the error ("the text file").
inline std::string read_text_file(const std::string& path, const char* what) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("cannot open ", what, " '", path, "': ", std::strerror(errno));
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Parses; returns false when --help was printed (the command should return 0).
inline bool parse_args(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return false;
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    return false;
  } catch (const CLI::ParseError& e) {
    fail(e.what());
  }
  return true;
}

// --mmap / --no-mmap (llama.cpp's names): where the weights live
// (deltallm_weight_memory; neither flag: AUTO).
struct WeightMemoryFlags {
  bool mmap = false, no_mmap = false;
  void add(CLI::App& app) {
    CLI::Option* m = app.add_flag("--mmap", mmap,
                                  "map the weights from the file (starts at once, shares the page cache; decode "
                                  "about 10% slower)");
    CLI::Option* c = app.add_flag("--no-mmap", no_mmap,
                                  "read the weights into memory on 2 MiB pages (the default when the kernel "
                                  "offers transparent huge pages and the weights fit in 80% of free memory)");
    m->excludes(c);
  }
  int32_t value() const {
    return mmap ? DELTALLM_WEIGHTS_MMAP : no_mmap ? DELTALLM_WEIGHTS_COPY : DELTALLM_WEIGHTS_AUTO;
  }
};

}  // namespace dllm::cli
