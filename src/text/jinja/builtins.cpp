// The global functions a chat template can call: Jinja2's defaults (range,
// dict, namespace; cycler, joiner and lipsum are refused) and the two that
// Hugging Face adds (raise_exception, strftime_now).
#include <sys/time.h>

#include <cstdio>
#include <ctime>

#include "text/jinja/args.h"
#include "text/jinja/interpreter.h"
#include "text/jinja/py_format.h"
#include "text/jinja/template_error.h"

namespace dllm::jinja {

namespace {

// dict(*args, **kwargs) as Python builds it: a mapping or an iterable of
// pairs, then keyword arguments.
DictData build_dict(const char* fn, const CallArgs& a) {
  DictData d;
  if (a.pos.size() > 1) fail_runtime(fn, " expected at most 1 argument, got ", a.pos.size());
  if (!a.pos.empty()) {
    const Value& src = a.pos[0];
    if (src.is_dict()) {
      d = src.dict();
    } else {
      for (const Value& item : iterate(src)) {
        std::vector<Value> kv = iterate(item);
        if (kv.size() != 2) fail_runtime("dictionary update sequence element has length ", kv.size(), "; 2 is required");
        d.set(kv[0], kv[1]);
      }
    }
  }
  for (const auto& [k, v] : a.kw) d.set(Value::string(k), v);
  return d;
}

Value fn_range(Interpreter&, CallArgs& a) {
  if (!a.kw.empty()) fail_runtime("range() takes no keyword arguments");
  if (a.pos.empty() || a.pos.size() > 3) fail_runtime("range expected 1 to 3 arguments, got ", a.pos.size());
  for (const auto& v : a.pos)
    if (!(v.is_int() || v.is_bool())) fail_runtime("'", py_type_name(v), "' object cannot be interpreted as an integer");
  int64_t start = 0, stop, step = 1;
  if (a.pos.size() == 1) {
    stop = a.pos[0].i();
  } else {
    start = a.pos[0].i();
    stop = a.pos[1].i();
    if (a.pos.size() == 3) step = a.pos[2].i();
  }
  if (step == 0) fail_runtime("range() arg 3 must not be zero");
  std::vector<Value> items;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
    // The sandbox's MAX_RANGE.
    if (items.size() >= 100000) fail_runtime("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
    items.push_back(Value::integer(i));
  }
  return Value::list(std::move(items), ListKind::kRange);
}

Value fn_dict(Interpreter&, CallArgs& a) { return Value::dict(build_dict("dict", a)); }

Value fn_namespace(Interpreter& in, CallArgs& a) {
  auto ns = std::make_shared<Namespace>();
  in.track(ns);
  ns->set_all(build_dict("namespace", a));
  return Value::object(ns);
}

Value fn_raise_exception(Interpreter&, CallArgs& a) {
  Args args("raise_exception", a, {"message"}, 1);
  throw TemplateError(ErrorKind::kRaised, py_str(args.get(0)));
}

Value fn_strftime_now(Interpreter& in, CallArgs& a) {
  Args args("strftime_now", a, {"format"}, 1);
  Value f = args.get(0);
  if (!f.is_string()) fail_runtime("strftime() argument 1 must be str, not ", py_type_name(f));
  std::time_t t;
  long usec = 0;
  if (in.env().now) {
    t = in.env().now();
  } else {
    timeval tv{};
    gettimeofday(&tv, nullptr);
    t = tv.tv_sec;
    usec = tv.tv_usec;
  }
  std::tm tm{};
  localtime_r(&t, &tm);
  // Python expands %f (microseconds) itself; the rest is the C library's.
  std::string fmt;
  const std::string& src = f.s();
  for (size_t i = 0; i < src.size(); ++i) {
    if (src[i] == '%' && i + 1 < src.size()) {
      if (src[i + 1] == 'f') {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%06ld", usec);
        fmt += buf;
        ++i;
        continue;
      }
      fmt += src[i];
      fmt += src[++i];
      continue;
    }
    fmt += src[i];
  }
  if (fmt.empty()) return Value::string("");
  std::vector<char> buf(256 + fmt.size() * 16);
  size_t n = std::strftime(buf.data(), buf.size(), fmt.c_str(), &tm);
  if (n == 0) fail_unsupported("strftime_now format '", src, "'");
  return Value::string(std::string(buf.data(), n));
}

Value fn_unsupported(const char* name) {
  return Value::object(std::make_shared<BuiltinFunction>(name, [name](Interpreter&, CallArgs&) -> Value {
    fail_unsupported("the global function ", name, "()");
  }));
}

}  // namespace

std::vector<std::pair<std::string, Value>> builtin_globals() {
  auto fn = [](const char* name, BuiltinFunction::Fn f) {
    return std::make_pair(std::string(name), Value::object(std::make_shared<BuiltinFunction>(name, std::move(f))));
  };
  return {
      fn("range", fn_range),
      fn("dict", fn_dict),
      fn("namespace", fn_namespace),
      fn("raise_exception", fn_raise_exception),
      fn("strftime_now", fn_strftime_now),
      {"cycler", fn_unsupported("cycler")},
      {"joiner", fn_unsupported("joiner")},
      {"lipsum", fn_unsupported("lipsum")},
  };
}

}  // namespace dllm::jinja
