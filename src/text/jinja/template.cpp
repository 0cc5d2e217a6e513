#include "text/jinja/template.h"

#include "text/jinja/optimizer.h"
#include "text/jinja/parser.h"

namespace dllm::jinja {

static std::shared_ptr<const Program> compile(std::string_view source) {
  auto prog = std::make_shared<Program>(parse_template(source));
  fold_constants(*prog);
  return prog;
}

Template::Template(std::string_view source) : prog_(compile(source)) {}

std::string Template::render(const std::vector<std::pair<std::string, Value>>& vars, const RenderEnv& env) const {
  Interpreter in(*prog_, env);
  return in.render(vars);
}

}  // namespace dllm::jinja
