#include "text/jinja/value.h"

#include <algorithm>

#include "text/jinja/template_error.h"
#include "text/jinja/ustring.h"

namespace dllm::jinja {

Value Object::get_attr(std::string_view name) const {
  return Value::undefined(str_cat("'", type_name(), " object' has no attribute '", name, "'"));
}

Value Object::call(Interpreter&, CallArgs&) const { fail_runtime("'", type_name(), "' object is not callable"); }

Value Value::undefined(std::string hint) {
  Value v;
  if (!hint.empty()) v.p_ = std::make_shared<const std::string>(std::move(hint));
  return v;
}
Value Value::none() {
  Value v;
  v.kind_ = Kind::kNone;
  return v;
}
Value Value::boolean(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.b_ = b;
  return v;
}
Value Value::integer(int64_t i) {
  Value v;
  v.kind_ = Kind::kInt;
  v.i_ = i;
  return v;
}
Value Value::number(double f) {
  Value v;
  v.kind_ = Kind::kFloat;
  v.f_ = f;
  return v;
}
Value Value::string(std::string s, bool markup) {
  Value v;
  v.kind_ = Kind::kString;
  v.markup_ = markup;
  v.p_ = std::make_shared<const std::string>(std::move(s));
  return v;
}
static uint32_t checked_depth(uint32_t deepest_item) {
  if (deepest_item + 1 > kMaxValueDepth)
    fail_unsupported("values nested more than ", kMaxValueDepth, " levels deep");
  return deepest_item + 1;
}

uint32_t Value::depth() const {
  switch (kind_) {
    case Kind::kList: return list().depth;
    case Kind::kDict: return dict().depth;
    case Kind::kObject: return obj().depth();
    default: return 0;
  }
}

Value Value::list(std::vector<Value> items, ListKind kind) {
  Value v;
  v.kind_ = Kind::kList;
  auto d = std::make_shared<ListData>();
  uint32_t deepest = 0;
  for (const auto& x : items) deepest = std::max(deepest, x.depth());
  d->depth = checked_depth(deepest);
  d->items = std::move(items);
  d->kind = kind;
  v.p_ = std::move(d);
  return v;
}
Value Value::dict(DictData d) {
  Value v;
  v.kind_ = Kind::kDict;
  uint32_t deepest = 0;
  for (const auto& [k, x] : d.items) deepest = std::max({deepest, k.depth(), x.depth()});
  d.depth = checked_depth(deepest);
  v.p_ = std::make_shared<const DictData>(std::move(d));
  return v;
}
Value Value::object(std::shared_ptr<Object> o) {
  Value v;
  v.kind_ = Kind::kObject;
  v.p_ = std::move(o);
  return v;
}

std::string Value::undefined_hint() const {
  if (kind_ == Kind::kUndefined && p_) return *static_cast<const std::string*>(p_.get());
  return "value is undefined";
}

const Value* DictData::find(const Value& key) const {
  if (key.is_string()) return find(std::string_view(key.s()));
  for (const auto& [k, v] : items)
    if (py_eq(k, key)) return &v;
  return nullptr;
}

const Value* DictData::find(std::string_view key) const {
  for (const auto& [k, v] : items)
    if (k.is_string() && k.s() == key) return &v;
  return nullptr;
}

void DictData::set(Value key, Value value) {
  for (auto& [k, v] : items) {
    if (py_eq(k, key)) {
      v = std::move(value);
      return;
    }
  }
  items.emplace_back(std::move(key), std::move(value));
}

[[noreturn]] void fail_undefined(const Value& v) { fail_runtime(v.undefined_hint()); }

bool truthy(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNone: return false;
    case Value::Kind::kBool: return v.b();
    case Value::Kind::kInt: return v.i() != 0;
    case Value::Kind::kFloat: return v.f() != 0.0;
    case Value::Kind::kString: return !v.s().empty();
    case Value::Kind::kList:
      // A generator object is always true in Python, whatever it would yield.
      return v.list().kind == ListKind::kGenerator || !v.list().items.empty();
    case Value::Kind::kDict: return !v.dict().items.empty();
    case Value::Kind::kObject: return true;
  }
  return false;
}

bool py_eq(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.f() == b.f();
    return a.i() == b.i();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNone: return true;
    case Value::Kind::kString: return a.s() == b.s();
    case Value::Kind::kList: {
      const auto& x = a.list();
      const auto& y = b.list();
      if (x.kind == ListKind::kGenerator || y.kind == ListKind::kGenerator) return &x == &y;
      if (x.kind != y.kind || x.items.size() != y.items.size()) return false;
      for (size_t i = 0; i < x.items.size(); ++i)
        if (!py_eq(x.items[i], y.items[i])) return false;
      return true;
    }
    case Value::Kind::kDict: {
      const auto& x = a.dict();
      const auto& y = b.dict();
      if (x.items.size() != y.items.size()) return false;
      for (const auto& [k, v] : x.items) {
        const Value* o = y.find(k);
        if (!o || !py_eq(v, *o)) return false;
      }
      return true;
    }
    case Value::Kind::kObject: return &a.obj() == &b.obj();
    default: return false;
  }
}

bool py_less(const Value& a, const Value& b) {
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.f() < b.f();
    return a.i() < b.i();
  }
  if (a.is_string() && b.is_string()) return a.s() < b.s();  // UTF-8 byte order == code point order
  if (a.is_list() && b.is_list() && a.list().kind == b.list().kind &&
      (a.list().kind == ListKind::kList || a.list().kind == ListKind::kTuple)) {
    const auto& x = a.list().items;
    const auto& y = b.list().items;
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (!py_eq(x[i], y[i])) return py_less(x[i], y[i]);
    }
    return x.size() < y.size();
  }
  fail_runtime("'<' not supported between instances of '", py_type_name(a), "' and '", py_type_name(b), "'");
}

std::string py_type_name(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined: return "Undefined";
    case Value::Kind::kNone: return "NoneType";
    case Value::Kind::kBool: return "bool";
    case Value::Kind::kInt: return "int";
    case Value::Kind::kFloat: return "float";
    case Value::Kind::kString: return v.markup() ? "Markup" : "str";
    case Value::Kind::kList:
      switch (v.list().kind) {
        case ListKind::kList: return "list";
        case ListKind::kTuple: return "tuple";
        case ListKind::kKeys: return "dict_keys";
        case ListKind::kValues: return "dict_values";
        case ListKind::kItems: return "dict_items";
        case ListKind::kGenerator: return "generator";
        case ListKind::kRange: return "range";
      }
      return "list";
    case Value::Kind::kDict: return "dict";
    case Value::Kind::kObject: return v.obj().type_name();
  }
  return "object";
}

std::vector<Value> iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined: return {};
    case Value::Kind::kString: {
      std::vector<Value> out;
      const std::string& s = v.s();
      for (size_t i = 0; i < s.size();) {
        size_t j = i + 1;
        while (j < s.size() && (static_cast<unsigned char>(s[j]) & 0xC0) == 0x80) ++j;
        out.push_back(Value::string(s.substr(i, j - i)));  // iterating a Markup yields plain str
        i = j;
      }
      return out;
    }
    case Value::Kind::kList: {
      const ListData& l = v.list();
      if (l.kind == ListKind::kGenerator) {
        // Python generators yield once; a second pass would be empty there.
        // Refuse rather than guess which of the two passes the author meant.
        if (l.consumed) fail_unsupported("iterating a generator (from select/map/reverse/items ...) a second time");
        l.consumed = true;
      }
      return l.items;
    }
    case Value::Kind::kDict: {
      std::vector<Value> out;
      out.reserve(v.dict().items.size());
      for (const auto& kv : v.dict().items) out.push_back(kv.first);
      return out;
    }
    default: fail_runtime("'", py_type_name(v), "' object is not iterable");
  }
}

int64_t py_len(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined: return 0;
    case Value::Kind::kString: return static_cast<int64_t>(cp_count(v.s()));
    case Value::Kind::kList:
      if (v.list().kind == ListKind::kGenerator) fail_runtime("object of type 'generator' has no len()");
      return static_cast<int64_t>(v.list().items.size());
    case Value::Kind::kDict: return static_cast<int64_t>(v.dict().items.size());
    default: fail_runtime("object of type '", py_type_name(v), "' has no len()");
  }
}

}  // namespace dllm::jinja
