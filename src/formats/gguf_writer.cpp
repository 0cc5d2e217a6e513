// GgufWriter: GGUF v3 in insertion order. Everything is validated when it is
// added (and the well-known key types when writing, once the architecture is
// known), so the writer never produces a file our reader would reject.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <bit>
#include <cerrno>
#include <cstring>
#include <functional>
#include <limits>
#include <vector>

#include "formats/gguf.h"
#include "formats/gguf_keys.h"
#include "util/error.h"

namespace dllm {

namespace {

// ggml keeps tensor names in a 64-byte buffer with a terminating NUL.
constexpr size_t kMaxTensorName = 63;

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

void check_value(const std::string& key, const GgufValue& v) {
  if (static_cast<uint32_t>(v.type) > static_cast<uint32_t>(GgufType::FLOAT64))
    fail("gguf writer: key ", key, ": invalid value type ", static_cast<uint32_t>(v.type));
  if (v.type == GgufType::BOOL && v.u > 1) fail("gguf writer: key ", key, ": BOOL value ", v.u, " is not 0 or 1");
  if (v.type != GgufType::ARRAY) return;
  if (static_cast<uint32_t>(v.elem_type) > static_cast<uint32_t>(GgufType::FLOAT64))
    fail("gguf writer: key ", key, ": invalid array element type ", static_cast<uint32_t>(v.elem_type));
  for (const GgufValue& item : v.items) {
    if (item.type != v.elem_type)
      fail("gguf writer: key ", key, ": array of ", gguf_type_name(v.elem_type), " holds a ",
           gguf_type_name(item.type), " item");
    check_value(key, item);
  }
}

class ByteBuf {
 public:
  std::vector<uint8_t> b;
  // resize + memcpy rather than insert(): GCC 12 warns falsely
  // (-Wstringop-overflow) about insert() of a few bytes.
  void put_bytes(const void* p, size_t n) {
    if (n == 0) return;
    size_t at = b.size();
    b.resize(at + n);
    std::memcpy(b.data() + at, p, n);
  }
  template <class T>
  void put(T v) {
    put_bytes(&v, sizeof(T));
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    put_bytes(s.data(), s.size());
  }
  void put_value(const GgufValue& v) {
    switch (v.type) {
      case GgufType::UINT8: put<uint8_t>(static_cast<uint8_t>(v.u)); break;
      case GgufType::UINT16: put<uint16_t>(static_cast<uint16_t>(v.u)); break;
      case GgufType::UINT32: put<uint32_t>(static_cast<uint32_t>(v.u)); break;
      case GgufType::UINT64: put<uint64_t>(v.u); break;
      case GgufType::BOOL: put<uint8_t>(static_cast<uint8_t>(v.u)); break;
      case GgufType::INT8: put<int8_t>(static_cast<int8_t>(v.i)); break;
      case GgufType::INT16: put<int16_t>(static_cast<int16_t>(v.i)); break;
      case GgufType::INT32: put<int32_t>(static_cast<int32_t>(v.i)); break;
      case GgufType::INT64: put<int64_t>(v.i); break;
      case GgufType::FLOAT32: put<float>(static_cast<float>(v.f)); break;
      case GgufType::FLOAT64: put<double>(v.f); break;
      case GgufType::STRING: put_string(v.s); break;
      case GgufType::ARRAY:
        put<uint32_t>(static_cast<uint32_t>(v.elem_type));
        put<uint64_t>(v.items.size());
        for (const GgufValue& item : v.items) put_value(item);
        break;
    }
  }
};

}  // namespace

GgufWriter::GgufWriter(uint32_t alignment) : alignment_(alignment) {
  if (alignment == 0 || !std::has_single_bit(alignment))
    fail("gguf writer: alignment ", alignment, " is not a non-zero power of two");
  // Readers assume 32 unless the file says otherwise.
  if (alignment != 32) set("general.alignment", GgufValue::u32(alignment));
}

void GgufWriter::set(const std::string& key, GgufValue value) {
  if (key.empty()) fail("gguf writer: empty metadata key");
  check_value(key, value);
  if (key == "general.alignment") {
    if (value.type != GgufType::UINT32) fail("gguf writer: general.alignment must be UINT32");
    if (value.u == 0 || !std::has_single_bit(value.u))
      fail("gguf writer: general.alignment ", value.u, " is not a non-zero power of two");
    alignment_ = static_cast<uint32_t>(value.u);
  }
  for (GgufKV& kv : kv_) {
    if (kv.key == key) {
      kv.value = std::move(value);
      return;
    }
  }
  kv_.push_back({key, std::move(value)});
}

void GgufWriter::add_tensor(const std::string& name, GgmlType type, const std::vector<int64_t>& ne,
                            const void* data, size_t nbytes) {
  const auto* p = static_cast<const uint8_t*>(data);
  std::vector<uint8_t> copy;
  if (nbytes > 0 && p) copy.assign(p, p + nbytes);
  else copy.resize(nbytes);  // data == nullptr: caller wants zeros
  add_tensor(name, type, ne, std::move(copy));
}

void GgufWriter::add_tensor(const std::string& name, GgmlType type, const std::vector<int64_t>& ne,
                            std::vector<uint8_t>&& data) {
  if (name.empty()) fail("gguf writer: empty tensor name");
  if (name.size() > kMaxTensorName)
    fail("gguf writer: tensor name ", name, " is longer than ", kMaxTensorName, " bytes");
  for (const Tensor& t : tensors_)
    if (t.name == name) fail("gguf writer: duplicate tensor ", name);
  const TypeTraits* tt = type_traits(type);
  if (!tt) fail("gguf writer: tensor ", name, ": unknown type id ", static_cast<uint32_t>(type));
  if (tt->block_elems <= 0 || tt->block_bytes <= 0)
    fail("gguf writer: tensor ", name, ": type ", tt->name, " has an unknown block layout");
  if (ne.empty() || ne.size() > 4) fail("gguf writer: tensor ", name, " has ", ne.size(), " dimensions (1 to 4)");
  int64_t n = 1;
  for (int64_t d : ne) {
    if (d <= 0) fail("gguf writer: tensor ", name, " has a dimension ", d, " (must be > 0)");
    if (__builtin_mul_overflow(n, d, &n)) fail("gguf writer: tensor ", name, " element count overflows");
  }
  if (ne[0] % tt->block_elems != 0)
    fail("gguf writer: tensor ", name, " of type ", tt->name, " has ne0 = ", ne[0],
         ", not a multiple of its block size ", tt->block_elems);
  uint64_t rows = static_cast<uint64_t>(n / ne[0]);
  uint64_t row = 0, expect = 0;
  if (__builtin_mul_overflow(static_cast<uint64_t>(ne[0] / tt->block_elems), static_cast<uint64_t>(tt->block_bytes),
                             &row) ||
      __builtin_add_overflow(row, static_cast<uint64_t>(tt->row_meta_bytes), &row) ||
      __builtin_mul_overflow(row, rows, &expect))
    fail("gguf writer: tensor ", name, " byte size overflows");
  if (data.size() != expect)
    fail("gguf writer: tensor ", name, " has ", data.size(), " bytes of data, its shape in ", tt->name, " needs ",
         expect);
  tensors_.push_back({name, type, ne, std::move(data)});
}

namespace {

struct TensorRef {
  const std::string& name;
  GgmlType type;
  const std::vector<int64_t>& ne;
  const std::vector<uint8_t>& data;
};

// Serialises through `sink` so that write() streams the tensor bytes to disk
// without building the whole file in memory.
void serialize(uint32_t alignment, const std::vector<GgufKV>& kvs, const std::vector<TensorRef>& tensors,
               const std::function<void(const uint8_t*, size_t)>& sink) {
  std::string arch;
  for (const GgufKV& kv : kvs)
    if (kv.key == "general.architecture" && kv.value.type == GgufType::STRING) arch = kv.value.s;
  for (const GgufKV& kv : kvs) {
    std::string expected = gguf_expected_type(kv.key, kv.value, arch);
    if (!expected.empty())
      fail("gguf writer: key ", kv.key, " has type ", gguf_type_label(kv.value), ", expected ", expected);
  }
  ByteBuf h;
  h.put<uint32_t>(0x46554747);  // "GGUF"
  h.put<uint32_t>(3);
  h.put<uint64_t>(tensors.size());
  h.put<uint64_t>(kvs.size());
  for (const GgufKV& kv : kvs) {
    h.put_string(kv.key);
    h.put<uint32_t>(static_cast<uint32_t>(kv.value.type));
    h.put_value(kv.value);
  }
  // Tensors in add order, each padded to the alignment.
  uint64_t offset = 0;
  for (const TensorRef& t : tensors) {
    h.put_string(t.name);
    h.put<uint32_t>(static_cast<uint32_t>(t.ne.size()));
    for (int64_t d : t.ne) h.put<uint64_t>(static_cast<uint64_t>(d));
    h.put<uint32_t>(static_cast<uint32_t>(t.type));
    h.put<uint64_t>(offset);
    offset += align_up(t.data.size(), alignment);
  }
  h.b.resize(align_up(h.b.size(), alignment), 0);
  sink(h.b.data(), h.b.size());

  static const uint8_t zeros[256] = {};
  for (const TensorRef& t : tensors) {
    sink(t.data.data(), t.data.size());
    size_t pad = align_up(t.data.size(), alignment) - t.data.size();
    while (pad > 0) {
      size_t n = std::min(pad, sizeof zeros);
      sink(zeros, n);
      pad -= n;
    }
  }
}

}  // namespace

std::vector<uint8_t> GgufWriter::to_bytes() const {
  std::vector<TensorRef> refs;
  for (const Tensor& t : tensors_) refs.push_back({t.name, t.type, t.ne, t.data});
  std::vector<uint8_t> out;
  serialize(alignment_, kv_, refs, [&out](const uint8_t* p, size_t n) { out.insert(out.end(), p, p + n); });
  return out;
}

void GgufWriter::write(const std::string& path) const {
  std::vector<TensorRef> refs;
  for (const Tensor& t : tensors_) refs.push_back({t.name, t.type, t.ne, t.data});
  // A unique temporary beside the target (same file system, so the rename is
  // atomic and a failed write leaves no half file under `path`); O_EXCL so two
  // writers never share one. No fsync: we promise atomicity, not durability.
  static std::atomic<unsigned> counter{0};
  std::string tmp = str_cat(path, ".tmp.", getpid(), ".", counter++);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) fail(path, ": cannot create ", tmp, ": ", std::strerror(errno));
  try {
    std::vector<uint8_t> buf;
    buf.reserve(1 << 20);
    auto flush = [&] {
      size_t done = 0;
      while (done < buf.size()) {
        ssize_t w = ::write(fd, buf.data() + done, buf.size() - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) fail(path, ": write failed: ", std::strerror(errno));
        done += static_cast<size_t>(w);
      }
      buf.clear();
    };
    serialize(alignment_, kv_, refs, [&](const uint8_t* p, size_t n) {
      while (n > 0) {
        size_t k = std::min(n, buf.capacity() - buf.size());
        buf.insert(buf.end(), p, p + k);
        p += k;
        n -= k;
        if (buf.size() == buf.capacity()) flush();
      }
    });
    flush();
    int rc = ::close(fd);
    fd = -1;
    if (rc != 0) fail(path, ": close failed: ", std::strerror(errno));
    if (::rename(tmp.c_str(), path.c_str()) != 0) fail(path, ": cannot rename ", tmp, ": ", std::strerror(errno));
  } catch (...) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
}

}  // namespace dllm
