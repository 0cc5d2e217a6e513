#include "text/jinja/template.h"

#include "text/jinja/parser.h"

namespace dllm::jinja {

Template::Template(std::string_view source) : prog_(std::make_shared<const Program>(parse_template(source))) {}

std::string Template::render(const std::vector<std::pair<std::string, Value>>& vars, const RenderEnv& env) const {
  Interpreter in(*prog_, env);
  return in.render(vars);
}

}  // namespace dllm::jinja
