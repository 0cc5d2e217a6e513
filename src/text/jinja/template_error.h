// Errors of the template engine: one line naming the template line and the
// problem. `kind` lets callers (and the tests against Jinja2) tell a syntax
// error from a failure while rendering, a feature we do not implement, and a
// template's own raise_exception().
#pragma once
#include <string>

#include "util/error.h"

namespace dllm::jinja {

enum class ErrorKind {
  kSyntax,       // the template does not parse (Jinja2: TemplateSyntaxError)
  kRuntime,      // an operation failed while rendering (TypeError, UndefinedError ...)
  kUnsupported,  // valid Jinja that this engine does not implement
  kRaised,       // raise_exception(message) called by the template
};

class TemplateError : public Error {
 public:
  TemplateError(ErrorKind kind, std::string detail, int line = 0);
  ErrorKind kind() const { return kind_; }
  const std::string& detail() const { return detail_; }  // the message without location
  int line() const { return line_; }                      // 0 when unknown
  TemplateError with_line(int line) const { return TemplateError(kind_, detail_, line); }

 private:
  ErrorKind kind_;
  std::string detail_;
  int line_;
};

template <class... Args>
[[noreturn]] void fail_runtime(const Args&... args) {
  throw TemplateError(ErrorKind::kRuntime, str_cat(args...));
}
template <class... Args>
[[noreturn]] void fail_unsupported(const Args&... args) {
  throw TemplateError(ErrorKind::kUnsupported, str_cat(args...));
}

}  // namespace dllm::jinja
