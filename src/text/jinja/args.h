// Binds call arguments to a Python-style parameter list for the builtin
// filters, tests, methods and functions, with Python's errors for too many,
// duplicated or unknown arguments.
#pragma once
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "text/jinja/template_error.h"
#include "text/jinja/value.h"

namespace dllm::jinja {

class Args {
 public:
  // `names` are the parameters after the implicit first one (the filtered
  // value or the receiver); the first `required` must be given.
  Args(std::string_view fn, const CallArgs& a, std::initializer_list<std::string_view> names, size_t required = 0)
      : vals_(names.size()) {
    std::vector<std::string_view> n(names);
    if (a.pos.size() > n.size())
      fail_runtime(fn, "() takes at most ", n.size(), " argument(s) (", a.pos.size(), " given)");
    for (size_t i = 0; i < a.pos.size(); ++i) vals_[i] = a.pos[i];
    for (const auto& [k, v] : a.kw) {
      size_t i = 0;
      while (i < n.size() && n[i] != k) ++i;
      if (i == n.size()) fail_runtime(fn, "() got an unexpected keyword argument '", k, "'");
      if (vals_[i]) fail_runtime(fn, "() got multiple values for argument '", k, "'");
      vals_[i] = v;
    }
    for (size_t i = 0; i < required; ++i)
      if (!vals_[i]) fail_runtime(fn, "() missing required argument '", n[i], "'");
  }
  bool has(size_t i) const { return vals_[i].has_value(); }
  Value get(size_t i) const { return vals_[i] ? *vals_[i] : Value(); }
  Value get_or(size_t i, Value def) const { return vals_[i] ? *vals_[i] : def; }

 private:
  std::vector<std::optional<Value>> vals_;
};

}  // namespace dllm::jinja
