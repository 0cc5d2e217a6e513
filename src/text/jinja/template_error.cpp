#include "text/jinja/template_error.h"

namespace dllm::jinja {

static std::string format_message(ErrorKind kind, const std::string& detail, int line) {
  std::string where = line > 0 ? str_cat(" at line ", line) : std::string();
  switch (kind) {
    case ErrorKind::kSyntax: return str_cat("chat template syntax error", where, ": ", detail);
    case ErrorKind::kRuntime: return str_cat("chat template error", where, ": ", detail);
    case ErrorKind::kUnsupported: return str_cat("chat template uses an unsupported feature", where, ": ", detail);
    case ErrorKind::kRaised: return str_cat("chat template raised an exception", where, ": ", detail);
  }
  return detail;
}

TemplateError::TemplateError(ErrorKind kind, std::string detail, int line)
    : Error(format_message(kind, detail, line)), kind_(kind), detail_(std::move(detail)), line_(line) {}

}  // namespace dllm::jinja
