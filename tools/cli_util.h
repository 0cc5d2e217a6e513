// Shared CLI11 handling for subcommands: --help goes to stdout with exit 0,
// a parse error becomes a dllm::Error (one line, exit 1).
#pragma once
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "util/error.h"

namespace dllm::cli {

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

}  // namespace dllm::cli
