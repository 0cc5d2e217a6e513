// Errors inside the engine are exceptions of type dllm::Error carrying one
// human-readable line; they stop at the C API and at the CLI's main().
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace dllm {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Concatenates anything streamable: str_cat("bad dim ", i, " in ", name).
template <class... Args>
std::string str_cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

template <class... Args>
[[noreturn]] void fail(const Args&... args) {
  throw Error(str_cat(args...));
}

}  // namespace dllm
