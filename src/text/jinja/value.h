// The value model of the template interpreter: the Python objects a Jinja2
// chat template sees (None, bool, int, float, str, list/tuple, dict, and a few
// objects such as namespace(), loop and macros). Containers are immutable and
// shared (Hugging Face renders in an ImmutableSandboxedEnvironment, so a
// template can never mutate a list or dict); only namespace objects change.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dllm::jinja {

class Value;
class Interpreter;

// Arguments of a call: positional then keyword, as written.
struct CallArgs {
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> kw;
};

// Python has several list-like types that print differently; they all behave
// as a sequence here, and `kind` keeps what repr() and a few operations need.
enum class ListKind : uint8_t {
  kList,
  kTuple,
  kKeys,       // dict_keys([...])
  kValues,     // dict_values([...])
  kItems,      // dict_items([(k, v), ...])
  kGenerator,  // what select/map/reverse/items return: iterable once, no len()
  kRange,      // range(...)
};

struct ListData {
  std::vector<Value> items;
  ListKind kind = ListKind::kList;
  mutable bool consumed = false;  // generators only
  uint32_t depth = 1;             // nesting depth (set by Value::list)
};

// Insertion-ordered mapping (Python dicts keep insertion order; JSON objects
// from the caller keep theirs).
struct DictData {
  std::vector<std::pair<Value, Value>> items;
  const Value* find(const Value& key) const;
  const Value* find(std::string_view key) const;
  // Inserts or replaces (keeping the original position, as Python does).
  void set(Value key, Value value);
  uint32_t depth = 1;  // nesting depth (set by Value::dict)
};

// Containers nest at most this deep: printing, tojson and destruction recurse
// over the nesting, so a template (or input) cannot exhaust the stack.
constexpr uint32_t kMaxValueDepth = 512;

// Objects with behaviour: namespace(), loop, macros, builtin functions, bound
// methods of str/dict/list.
class Object {
 public:
  virtual ~Object() = default;
  // Python type name for messages ("Namespace", "LoopContext", "Macro", ...).
  virtual std::string type_name() const = 0;
  // Attribute lookup; an undefined Value when absent.
  virtual Value get_attr(std::string_view name) const;
  virtual bool callable() const { return false; }
  virtual Value call(Interpreter& in, CallArgs& args) const;
  // Python str(); nullopt when the text would depend on memory addresses
  // (Python prints "<function ... at 0x...>"), which is refused instead.
  virtual std::optional<std::string> str() const { return std::nullopt; }
  // Nesting depth of the values it holds (namespaces).
  virtual uint32_t depth() const { return 1; }
};

class Value {
 public:
  enum class Kind : uint8_t { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kObject };

  Value() : kind_(Kind::kUndefined) {}
  static Value undefined(std::string hint = {});
  static Value none();
  static Value boolean(bool b);
  static Value integer(int64_t i);
  static Value number(double f);
  static Value string(std::string s, bool markup = false);
  static Value list(std::vector<Value> items, ListKind kind = ListKind::kList);
  static Value dict(DictData d);
  static Value object(std::shared_ptr<Object> o);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_float() const { return kind_ == Kind::kFloat; }
  // int, float or bool: Python's bool is an int.
  bool is_number() const { return kind_ == Kind::kInt || kind_ == Kind::kFloat || kind_ == Kind::kBool; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_dict() const { return kind_ == Kind::kDict; }
  bool is_object() const { return kind_ == Kind::kObject; }

  bool b() const { return b_; }
  int64_t i() const { return kind_ == Kind::kBool ? (b_ ? 1 : 0) : i_; }  // int or bool
  double f() const { return kind_ == Kind::kFloat ? f_ : static_cast<double>(i()); }
  const std::string& s() const { return *static_cast<const std::string*>(p_.get()); }
  bool markup() const { return markup_; }  // a markupsafe.Markup string (from |safe)
  const ListData& list() const { return *static_cast<const ListData*>(p_.get()); }
  const DictData& dict() const { return *static_cast<const DictData*>(p_.get()); }
  Object& obj() const { return *static_cast<Object*>(const_cast<void*>(p_.get())); }
  std::shared_ptr<Object> obj_ptr() const {
    return std::static_pointer_cast<Object>(std::const_pointer_cast<void>(p_));
  }
  // Nesting depth: 0 for scalars, 1 + the deepest item for containers.
  uint32_t depth() const;
  // Why it is undefined, e.g. "'x' is undefined" or "'dict object' has no attribute 'y'".
  std::string undefined_hint() const;

 private:
  Kind kind_;
  bool markup_ = false;
  union {
    bool b_;
    int64_t i_ = 0;
    double f_;
  };
  std::shared_ptr<const void> p_;
};

// Python semantics used all over the interpreter.
bool truthy(const Value& v);
bool py_eq(const Value& a, const Value& b);
// a < b with Python rules (numbers, strings, sequences); throws for others.
bool py_less(const Value& a, const Value& b);
// Python type name: 'str', 'int', 'dict', 'NoneType', 'Undefined' ...
std::string py_type_name(const Value& v);
// The items of an iterable (str: characters, dict: keys, undefined: none);
// throws "'int' object is not iterable" etc.
std::vector<Value> iterate(const Value& v);
// len(); throws for objects without one.
int64_t py_len(const Value& v);
// Throws the UndefinedError of an undefined value (used where Jinja2's
// Undefined refuses an operation).
[[noreturn]] void fail_undefined(const Value& v);

}  // namespace dllm::jinja
