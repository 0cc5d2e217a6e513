// GGUF -> JSON (see gguf_json.h for the document and its choices).
#include "formats/gguf_json.h"

#include <cmath>

namespace dllm {

namespace {
bool in(unsigned char c, unsigned char lo, unsigned char hi) { return c >= lo && c <= hi; }
}  // namespace

// Well-formed sequences (Unicode Table 3-7): the lead byte fixes the length and
// the allowed range of the second byte; later bytes are 80..BF. On a bad byte
// the bytes accepted so far (at least one) become one U+FFFD and decoding
// resumes at the bad byte.
std::string utf8_sanitize(std::string_view s) {
  static const char kReplacement[] = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    int len;
    unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
    if (in(c, 0xC2, 0xDF)) len = 2;
    else if (c == 0xE0) { len = 3; lo = 0xA0; }
    else if (in(c, 0xE1, 0xEC) || in(c, 0xEE, 0xEF)) len = 3;
    else if (c == 0xED) { len = 3; hi = 0x9F; }  // no surrogates
    else if (c == 0xF0) { len = 4; lo = 0x90; }
    else if (in(c, 0xF1, 0xF3)) len = 4;
    else if (c == 0xF4) { len = 4; hi = 0x8F; }  // nothing above U+10FFFF
    else {
      out += kReplacement;
      ++i;
      continue;
    }
    int k = 1;
    while (k < len && i + k < n) {
      unsigned char b = static_cast<unsigned char>(s[i + k]);
      bool ok = k == 1 ? in(b, lo, hi) : in(b, 0x80, 0xBF);
      if (!ok) break;
      ++k;
    }
    if (k == len) out.append(s.substr(i, len));
    else out += kReplacement;
    i += k;
  }
  return out;
}

nlohmann::ordered_json gguf_value_json(const GgufValue& v) {
  using J = nlohmann::ordered_json;
  switch (v.type) {
    case GgufType::UINT8:
    case GgufType::UINT16:
    case GgufType::UINT32:
    case GgufType::UINT64:
      return J(v.u);
    case GgufType::INT8:
    case GgufType::INT16:
    case GgufType::INT32:
    case GgufType::INT64:
      return J(v.i);
    case GgufType::FLOAT32:
    case GgufType::FLOAT64:
      if (std::isnan(v.f)) return J("NaN");
      if (std::isinf(v.f)) return J(v.f > 0 ? "Infinity" : "-Infinity");
      return J(v.f);
    case GgufType::BOOL:
      return J(v.u != 0);
    case GgufType::STRING:
      return J(utf8_sanitize(v.s));
    case GgufType::ARRAY: {
      J a = J::array();
      for (const GgufValue& item : v.items) a.push_back(gguf_value_json(item));
      return a;
    }
  }
  return J();
}

nlohmann::ordered_json gguf_to_json(const GgufFile& f) {
  using J = nlohmann::ordered_json;
  J doc = J::object();
  doc["version"] = f.version();
  doc["alignment"] = f.alignment();
  doc["data_offset"] = f.data_offset();

  J meta = J::object();
  for (const GgufKV& kv : f.metadata()) {
    J entry = J::object();
    entry["type"] = gguf_type_name(kv.value.type);
    if (kv.value.type == GgufType::ARRAY) entry["elem_type"] = gguf_type_name(kv.value.elem_type);
    entry["value"] = gguf_value_json(kv.value);
    meta[utf8_sanitize(kv.key)] = std::move(entry);
  }
  doc["metadata"] = std::move(meta);

  J tensors = J::array();
  uint64_t n_params = 0;
  J bytes_by_type = J::object();  // first appearance order
  for (const GgufTensorInfo& t : f.tensors()) {
    const char* type = type_traits(t.type)->name;  // the reader checked the id
    J ne = J::array();
    for (int d = 0; d < t.n_dims; ++d) ne.push_back(t.ne[d]);
    J entry = J{{"name", utf8_sanitize(t.name)}, {"type", type}, {"ne", std::move(ne)}, {"offset", t.offset},
                {"bytes", t.nbytes}};
    if (f.shard_count() > 1) entry["file"] = t.shard;  // index into "files"
    tensors.push_back(std::move(entry));
    n_params += static_cast<uint64_t>(t.n_elements());
    if (!bytes_by_type.contains(type)) bytes_by_type[type] = uint64_t{0};
    bytes_by_type[type] = bytes_by_type[type].get<uint64_t>() + t.nbytes;
  }
  doc["tensors"] = std::move(tensors);
  if (f.shard_count() > 1) {
    J files = J::array();
    for (size_t i = 0; i < f.shard_count(); ++i)
      files.push_back(J{{"path", utf8_sanitize(f.shard(i).path())}, {"bytes", f.shard(i).file_size()},
                        {"tensors", f.shard_tensor_count(i)}});
    doc["files"] = std::move(files);
  }

  J summary = J::object();
  const GgufValue* arch = f.find("general.architecture");
  summary["architecture"] = arch && arch->type == GgufType::STRING ? J(utf8_sanitize(arch->s)) : J();
  summary["n_params"] = n_params;
  summary["bytes_by_type"] = std::move(bytes_by_type);
  doc["summary"] = std::move(summary);
  return doc;
}

}  // namespace dllm
