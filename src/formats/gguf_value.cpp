// GgufValue: constructors, type names and numeric views of metadata values.
#include <cstring>
#include <limits>

#include "formats/gguf.h"

namespace dllm {

const char* gguf_type_name(GgufType t) {
  switch (t) {
    case GgufType::UINT8: return "UINT8";
    case GgufType::INT8: return "INT8";
    case GgufType::UINT16: return "UINT16";
    case GgufType::INT16: return "INT16";
    case GgufType::UINT32: return "UINT32";
    case GgufType::INT32: return "INT32";
    case GgufType::FLOAT32: return "FLOAT32";
    case GgufType::BOOL: return "BOOL";
    case GgufType::STRING: return "STRING";
    case GgufType::ARRAY: return "ARRAY";
    case GgufType::UINT64: return "UINT64";
    case GgufType::INT64: return "INT64";
    case GgufType::FLOAT64: return "FLOAT64";
  }
  return "?";
}

namespace {
GgufValue unsigned_value(GgufType t, uint64_t v) {
  GgufValue r;
  r.type = t;
  r.u = v;
  return r;
}
GgufValue signed_value(GgufType t, int64_t v) {
  GgufValue r;
  r.type = t;
  r.i = v;
  return r;
}
GgufValue float_value(GgufType t, double v) {
  GgufValue r;
  r.type = t;
  r.f = v;
  return r;
}
}  // namespace

GgufValue GgufValue::u8(uint8_t v) { return unsigned_value(GgufType::UINT8, v); }
GgufValue GgufValue::u16(uint16_t v) { return unsigned_value(GgufType::UINT16, v); }
GgufValue GgufValue::u32(uint32_t v) { return unsigned_value(GgufType::UINT32, v); }
GgufValue GgufValue::u64(uint64_t v) { return unsigned_value(GgufType::UINT64, v); }
GgufValue GgufValue::boolean(bool v) { return unsigned_value(GgufType::BOOL, v ? 1 : 0); }
GgufValue GgufValue::i8(int8_t v) { return signed_value(GgufType::INT8, v); }
GgufValue GgufValue::i16(int16_t v) { return signed_value(GgufType::INT16, v); }
GgufValue GgufValue::i32(int32_t v) { return signed_value(GgufType::INT32, v); }
GgufValue GgufValue::i64(int64_t v) { return signed_value(GgufType::INT64, v); }
GgufValue GgufValue::f32(float v) { return float_value(GgufType::FLOAT32, v); }
GgufValue GgufValue::f64(double v) { return float_value(GgufType::FLOAT64, v); }

GgufValue GgufValue::str(std::string v) {
  GgufValue r;
  r.type = GgufType::STRING;
  r.s = std::move(v);
  return r;
}

GgufValue GgufValue::array(GgufType elem_type, std::vector<GgufValue> items) {
  GgufValue r;
  r.type = GgufType::ARRAY;
  r.elem_type = elem_type;
  r.items = std::move(items);
  return r;
}

GgufValue GgufValue::str_array(const std::vector<std::string>& v) {
  std::vector<GgufValue> items;
  items.reserve(v.size());
  for (const auto& s : v) items.push_back(str(s));
  return array(GgufType::STRING, std::move(items));
}

GgufValue GgufValue::i32_array(const std::vector<int32_t>& v) {
  std::vector<GgufValue> items;
  items.reserve(v.size());
  for (int32_t x : v) items.push_back(i32(x));
  return array(GgufType::INT32, std::move(items));
}

GgufValue GgufValue::f32_array(const std::vector<float>& v) {
  std::vector<GgufValue> items;
  items.reserve(v.size());
  for (float x : v) items.push_back(f32(x));
  return array(GgufType::FLOAT32, std::move(items));
}

namespace {
bool is_unsigned(GgufType t) {
  return t == GgufType::UINT8 || t == GgufType::UINT16 || t == GgufType::UINT32 || t == GgufType::UINT64;
}
bool is_signed(GgufType t) {
  return t == GgufType::INT8 || t == GgufType::INT16 || t == GgufType::INT32 || t == GgufType::INT64;
}
}  // namespace

bool GgufValue::is_int() const { return is_unsigned(type) || is_signed(type); }
bool GgufValue::is_float() const { return type == GgufType::FLOAT32 || type == GgufType::FLOAT64; }

std::optional<int64_t> GgufValue::as_int() const {
  if (is_signed(type)) return i;
  if (is_unsigned(type)) {
    // A UINT64 above INT64_MAX has no int64 value.
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  return std::nullopt;
}

std::optional<double> GgufValue::as_number() const {
  if (is_signed(type)) return static_cast<double>(i);
  if (is_unsigned(type)) return static_cast<double>(u);
  if (is_float()) return f;
  return std::nullopt;
}

// Equality of the meaningful field. Floats compare by bits, so a value read
// back from a file equals what was written even for NaN (and -0 != +0).
bool GgufValue::operator==(const GgufValue& o) const {
  if (type != o.type) return false;
  switch (type) {
    case GgufType::UINT8:
    case GgufType::UINT16:
    case GgufType::UINT32:
    case GgufType::UINT64:
    case GgufType::BOOL:
      return u == o.u;
    case GgufType::INT8:
    case GgufType::INT16:
    case GgufType::INT32:
    case GgufType::INT64:
      return i == o.i;
    case GgufType::FLOAT32:
    case GgufType::FLOAT64:
      return std::memcmp(&f, &o.f, sizeof f) == 0;
    case GgufType::STRING:
      return s == o.s;
    case GgufType::ARRAY:
      return elem_type == o.elem_type && items == o.items;
  }
  return false;
}

}  // namespace dllm
