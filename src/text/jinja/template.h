// A compiled Jinja template (the subset chat templates use), rendered the way
// Hugging Face's apply_chat_template renders: sandboxed, trim_blocks and
// lstrip_blocks on, loop controls, tojson = json.dumps(ensure_ascii=False),
// raise_exception and strftime_now available.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "text/jinja/interpreter.h"
#include "text/jinja/template_error.h"
#include "text/jinja/value.h"

namespace dllm::jinja {

class Template {
 public:
  // Parses the whole template; throws TemplateError for a syntax error or a
  // feature (tag, filter, test) this engine does not implement.
  explicit Template(std::string_view source);

  // Renders with these context variables. Throws TemplateError.
  std::string render(const std::vector<std::pair<std::string, Value>>& vars, const RenderEnv& env = {}) const;

 private:
  std::shared_ptr<const Program> prog_;
};

}  // namespace dllm::jinja
