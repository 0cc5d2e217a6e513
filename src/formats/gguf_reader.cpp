// GgufFile: maps a GGUF file read-only and validates all of it before anyone
// sees it (kernels.md §1). Every read goes through Parser::need(), which
// checks the remaining length first, so no input makes us read outside the
// mapping; every count is checked against the bytes left before anything is
// allocated for it.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <unordered_map>

#include "formats/gguf.h"
#include "formats/gguf_keys.h"
#include "util/error.h"

static_assert(std::endian::native == std::endian::little, "the GGUF reader assumes a little-endian host");

namespace dllm {

struct GgufFile::Index {
  std::unordered_map<std::string, size_t> keys;     // key -> position in kv_
  std::unordered_map<std::string, size_t> tensors;  // name -> position in tensors_
};

namespace {

const std::string& shard_name_of(const GgufFile& f, int shard) { return f.shard(size_t(shard)).path(); }

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr uint64_t kTensorCountOffset = 8;
// Nested arrays recurse; a file must not be able to exhaust the stack.
constexpr int kMaxArrayDepth = 16;
// Each metadata value costs ~100 bytes in memory, so a file of N bytes could
// ask for ~100·N bytes of values. Real files hold < 1.5M values (a 262k-token
// vocabulary with its types, scores and merges); this bounds the worst case.
constexpr uint64_t kMaxMetadataValues = uint64_t{1} << 23;
// Smallest encodings, used to bound counts by the bytes that are left.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;              // key length, type, 1-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // name length, n_dims, 1 dim, type, offset

// A name or key for a message: quoted, non-printable bytes escaped, and cut
// short so that a hostile 1 GB key does not become a 1 GB message.
std::string quote(std::string_view s) {
  constexpr size_t kMax = 96;
  std::string r = "\"";
  for (size_t i = 0; i < s.size() && i < kMax; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      r += '\\';
      r += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {  // control bytes and non-ASCII (maybe not UTF-8)
      static const char hex[] = "0123456789abcdef";
      r += "\\x";
      r += hex[c >> 4];
      r += hex[c & 15];
    } else {
      r += static_cast<char>(c);
    }
  }
  if (s.size() > kMax) r += str_cat("...\" (", s.size(), " bytes)");
  else r += '"';
  return r;
}

size_t fixed_size(GgufType t) {
  switch (t) {
    case GgufType::UINT8: case GgufType::INT8: case GgufType::BOOL: return 1;
    case GgufType::UINT16: case GgufType::INT16: return 2;
    case GgufType::UINT32: case GgufType::INT32: case GgufType::FLOAT32: return 4;
    case GgufType::UINT64: case GgufType::INT64: case GgufType::FLOAT64: return 8;
    case GgufType::STRING: case GgufType::ARRAY: return 0;
  }
  return 0;
}

// Bytes the smallest value of type t takes in the file.
uint64_t min_value_bytes(GgufType t) {
  if (t == GgufType::STRING) return 8;
  if (t == GgufType::ARRAY) return 4 + 8;
  return fixed_size(t);
}

bool valid_type_id(uint32_t id) { return id <= static_cast<uint32_t>(GgufType::FLOAT64); }

}  // namespace

class GgufParser {
 public:
  explicit GgufParser(GgufFile& f) : f_(f), p_(f.base_), size_(f.size_) {}

  void parse() {
    parse_header();
    parse_metadata();
    check_well_known_keys();
    parse_tensor_infos();
    // Data section: after the tensor infos, padded to the alignment.
    f_.data_offset_ = (pos_ + f_.alignment_ - 1) / f_.alignment_ * f_.alignment_;
    check_tensor_data();
  }

 private:
  template <class... Args>
  [[noreturn]] void fail_at(uint64_t offset, const Args&... args) {
    fail(f_.path_, ": offset ", offset, ": ", args...);
  }

  uint64_t left() const { return size_ - pos_; }

  void need(uint64_t n, const char* what) {
    if (n > left())
      fail_at(pos_, "truncated file: ", what, " needs ", n, " bytes, only ", left(), " left (file size ", size_, ")");
  }

  template <class T>
  T read(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, p_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  std::string read_string(const char* what) {
    uint64_t at = pos_;
    uint64_t n = read<uint64_t>(what);
    if (n > left())
      fail_at(at, "truncated file or bad length: ", what, " of length ", n, " runs past the end of the file (",
              left(), " bytes left)");
    std::string s(reinterpret_cast<const char*>(p_ + pos_), n);
    pos_ += n;
    return s;
  }

  void parse_header() {
    uint32_t magic = read<uint32_t>("the GGUF magic");
    if (magic != kMagic) {
      fail_at(0, "bad magic ", quote(std::string_view(reinterpret_cast<const char*>(p_), 4)),
              " (expected \"GGUF\"): not a GGUF file");
    }
    uint32_t version = read<uint32_t>("the version");
    if (version != 2 && version != 3) {
      // A big-endian file has its small version number in the high bytes.
      if ((version & 0xffff) == 0 && version != 0)
        fail_at(4, "big-endian GGUF file (version field 0x", std::hex, version, std::dec,
                ") is not supported");
      fail_at(4, "unsupported GGUF version ", version, " (only versions 2 and 3 are readable)");
    }
    f_.version_ = version;
    n_tensors_ = read<uint64_t>("the tensor count");
    uint64_t kv_at = pos_;
    n_kv_ = read<uint64_t>("the metadata count");
    // Counts are checked against the bytes left before anything is reserved
    // (the tensor count once the metadata has been read).
    if (n_kv_ > left() / kMinKvBytes)
      fail_at(kv_at, "truncated file or bad count: ", n_kv_, " metadata entries need at least ", kMinKvBytes,
              " bytes each, only ", left(), " bytes left");
  }

  GgufValue read_value(GgufType t, const std::string& key, int depth) {
    GgufValue v;
    v.type = t;
    uint64_t at = pos_;
    switch (t) {
      case GgufType::UINT8: v.u = read<uint8_t>("a UINT8 value"); break;
      case GgufType::UINT16: v.u = read<uint16_t>("a UINT16 value"); break;
      case GgufType::UINT32: v.u = read<uint32_t>("a UINT32 value"); break;
      case GgufType::UINT64: v.u = read<uint64_t>("a UINT64 value"); break;
      case GgufType::INT8: v.i = read<int8_t>("an INT8 value"); break;
      case GgufType::INT16: v.i = read<int16_t>("an INT16 value"); break;
      case GgufType::INT32: v.i = read<int32_t>("an INT32 value"); break;
      case GgufType::INT64: v.i = read<int64_t>("an INT64 value"); break;
      case GgufType::FLOAT32: v.f = read<float>("a FLOAT32 value"); break;
      case GgufType::FLOAT64: v.f = read<double>("a FLOAT64 value"); break;
      case GgufType::BOOL:
        v.u = read<uint8_t>("a BOOL value");
        if (v.u > 1) fail_at(at, "BOOL value ", v.u, " of key ", quote(key), " is not 0 or 1");
        break;
      case GgufType::STRING: v.s = read_string("a string value"); break;
      case GgufType::ARRAY: read_array(v, key, depth + 1); break;
    }
    return v;
  }

  void read_array(GgufValue& v, const std::string& key, int depth) {
    uint64_t at = pos_;
    if (depth > kMaxArrayDepth)
      fail_at(at, "arrays nested deeper than ", kMaxArrayDepth, " levels in key ", quote(key));
    uint32_t elem = read<uint32_t>("an array element type");
    if (!valid_type_id(elem)) fail_at(at, "unknown array element type id ", elem, " in key ", quote(key));
    v.elem_type = static_cast<GgufType>(elem);
    uint64_t count_at = pos_;
    uint64_t count = read<uint64_t>("an array count");
    if (count > left() / min_value_bytes(v.elem_type))
      fail_at(count_at, "truncated file or bad count: array of ", count, " ", gguf_type_name(v.elem_type),
              " items in key ", quote(key), " needs at least ", min_value_bytes(v.elem_type),
              " bytes each, only ", left(), " bytes left");
    if (count > kMaxMetadataValues - n_values_)
      fail_at(count_at, "array count ", count, " of key ", quote(key), " exceeds the limit of ",
              kMaxMetadataValues, " metadata values in all");
    n_values_ += count;
    v.items.reserve(count);
    for (uint64_t i = 0; i < count; ++i) v.items.push_back(read_value(v.elem_type, key, depth));
  }

  void parse_metadata() {
    f_.kv_.reserve(n_kv_);
    kv_offsets_.reserve(n_kv_);
    for (uint64_t k = 0; k < n_kv_; ++k) {
      uint64_t at = pos_;
      std::string key = read_string("a metadata key");
      uint64_t type_at = pos_;
      uint32_t type = read<uint32_t>("a value type");
      if (!valid_type_id(type)) fail_at(type_at, "unknown value type id ", type, " for key ", quote(key));
      GgufValue value = read_value(static_cast<GgufType>(type), key, 0);
      auto [it, fresh] = f_.index_->keys.emplace(key, f_.kv_.size());
      if (!fresh) fail_at(at, "duplicate key ", quote(key), " (first at offset ", kv_offsets_[it->second], ")");
      f_.kv_.push_back({std::move(key), std::move(value)});
      kv_offsets_.push_back(at);
    }
  }

  void check_well_known_keys() {
    std::string arch;
    if (const GgufValue* a = f_.find("general.architecture"); a && a->type == GgufType::STRING) arch = a->s;
    for (size_t k = 0; k < f_.kv_.size(); ++k) {
      const GgufKV& kv = f_.kv_[k];
      std::string expected = gguf_expected_type(kv.key, kv.value, arch);
      if (!expected.empty())
        fail_at(kv_offsets_[k], "key ", quote(kv.key), " has type ", gguf_type_label(kv.value), ", expected ",
                expected);
    }
    if (const GgufValue* a = f_.find("general.alignment")) {
      size_t k = f_.index_->keys.at("general.alignment");
      if (a->u == 0 || !std::has_single_bit(a->u))
        fail_at(kv_offsets_[k], "general.alignment ", a->u, " is not a non-zero power of two");
      f_.alignment_ = a->u;
    }
  }

  void parse_tensor_infos() {
    if (n_tensors_ > left() / kMinTensorInfoBytes)
      fail_at(kTensorCountOffset, "truncated file or bad count: ", n_tensors_, " tensor infos need at least ",
              kMinTensorInfoBytes, " bytes each, only ", left(), " bytes left");
    f_.tensors_.reserve(n_tensors_);
    for (uint64_t k = 0; k < n_tensors_; ++k) {
      GgufTensorInfo t;
      t.info_offset = pos_;
      t.name = read_string("a tensor name");
      std::string q = quote(t.name);
      uint64_t dims_at = pos_;
      uint32_t n_dims = read<uint32_t>("a tensor dimension count");
      if (n_dims == 0 || n_dims > 4)
        fail_at(dims_at, "tensor ", q, " has ", n_dims, " dimensions (must be 1 to 4)");
      t.n_dims = static_cast<int>(n_dims);
      uint64_t ne_at = pos_;
      uint64_t ne[4] = {1, 1, 1, 1};
      for (uint32_t d = 0; d < n_dims; ++d) ne[d] = read<uint64_t>("a tensor dimension");
      uint64_t type_at = pos_;
      t.type = read<uint32_t>("a tensor type");
      uint64_t off_at = pos_;
      t.offset = read<uint64_t>("a tensor data offset");

      std::string shape = "{";
      for (uint32_t d = 0; d < n_dims; ++d) shape += str_cat(d ? ", " : "", ne[d]);
      shape += "}";
      for (uint32_t d = 0; d < n_dims; ++d) {
        if (ne[d] == 0) fail_at(ne_at, "tensor ", q, " has a zero dimension ne[", d, "] in shape ", shape);
      }
      int64_t n = 1;
      for (uint32_t d = 0; d < 4; ++d) {
        if (ne[d] > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
            __builtin_mul_overflow(n, static_cast<int64_t>(ne[d]), &n))
          fail_at(ne_at, "tensor ", q, " shape ", shape, " overflows: the element count exceeds 2^63");
        t.ne[d] = static_cast<int64_t>(ne[d]);
      }
      const TypeTraits* tt = type_traits(t.type);
      if (!tt) fail_at(type_at, "tensor ", q, " has unknown type id ", t.type);
      // Some table entries are names only (ids whose layout the spec does not
      // give): their size cannot be computed, so the file cannot be checked.
      if (tt->block_elems <= 0 || tt->block_bytes <= 0)
        fail_at(type_at, "tensor ", q, " has type ", type_label(t.type), " whose block layout is unknown");
      if (t.ne[0] % tt->block_elems != 0)
        fail_at(ne_at, "tensor ", q, " of type ", tt->name, " has ne0 = ", t.ne[0],
                ", not a multiple of its block size ", tt->block_elems);
      // bytes = (row header + blocks per row · block bytes) · rows
      uint64_t row = 0, bytes = 0;
      uint64_t rows = static_cast<uint64_t>(t.ne[1] * t.ne[2] * t.ne[3]);  // no overflow: checked above
      if (__builtin_mul_overflow(static_cast<uint64_t>(t.ne[0] / tt->block_elems),
                                 static_cast<uint64_t>(tt->block_bytes), &row) ||
          __builtin_add_overflow(row, static_cast<uint64_t>(tt->row_meta_bytes), &row) ||
          __builtin_mul_overflow(row, rows, &bytes))
        fail_at(ne_at, "tensor ", q, " shape ", shape, " in type ", tt->name, " overflows the byte size");
      t.nbytes = bytes;
      if (t.offset % f_.alignment_ != 0)
        fail_at(off_at, "tensor ", q, " data offset ", t.offset, " is misaligned: not a multiple of the alignment ",
                f_.alignment_);
      auto [it, fresh] = f_.index_->tensors.emplace(t.name, f_.tensors_.size());
      if (!fresh)
        fail_at(t.info_offset, "duplicate tensor name ", q, " (first at offset ",
                f_.tensors_[it->second].info_offset, ")");
      f_.tensors_.push_back(std::move(t));
    }
  }

  void check_tensor_data() {
    uint64_t data_bytes = size_ >= f_.data_offset_ ? size_ - f_.data_offset_ : 0;
    for (const GgufTensorInfo& t : f_.tensors_) {
      if (t.offset > data_bytes || t.nbytes > data_bytes - t.offset)
        fail_at(t.info_offset, "tensor ", quote(t.name), " data (offset ", t.offset, ", ", t.nbytes,
                " bytes) runs past the end of the file: the data section at ", f_.data_offset_, " holds ",
                data_bytes, " bytes");
    }
    std::vector<const GgufTensorInfo*> by_offset;
    by_offset.reserve(f_.tensors_.size());
    for (const GgufTensorInfo& t : f_.tensors_) by_offset.push_back(&t);
    std::stable_sort(by_offset.begin(), by_offset.end(),
                     [](const GgufTensorInfo* a, const GgufTensorInfo* b) { return a->offset < b->offset; });
    for (size_t k = 1; k < by_offset.size(); ++k) {
      const GgufTensorInfo& a = *by_offset[k - 1];
      const GgufTensorInfo& b = *by_offset[k];
      if (a.offset + a.nbytes > b.offset)  // no overflow: both are inside the file
        fail_at(b.info_offset, "tensor ", quote(b.name), " data [", b.offset, ", ", b.offset + b.nbytes,
                ") overlaps tensor ", quote(a.name), " data [", a.offset, ", ", a.offset + a.nbytes, ")");
    }
  }

  GgufFile& f_;
  const uint8_t* p_;
  uint64_t size_;
  uint64_t pos_ = 0;
  uint64_t n_tensors_ = 0;
  uint64_t n_kv_ = 0;
  uint64_t n_values_ = 0;             // array items so far (bounded by kMaxMetadataValues)
  std::vector<uint64_t> kv_offsets_;  // file offset of each KV entry, for messages
};

std::unique_ptr<GgufFile> GgufFile::open(const std::string& path) {
  std::unique_ptr<GgufFile> f = open_one(path);
  f->open_split_shards();
  return f;
}

// Copies shard `s`'s tensor infos into this file's list (marked with their
// shard), refusing a name that an earlier file already has.
void GgufFile::adopt_shard_tensors(GgufFile& s, int shard) {
  for (GgufTensorInfo& t : s.tensors_) {
    auto [it, fresh] = index_->tensors.emplace(t.name, tensors_.size());
    if (!fresh)
      fail(s.path_, ": tensor ", quote(t.name), " is also in ", shard_name_of(*this, tensors_[it->second].shard));
    t.shard = shard;
    tensors_.push_back(t);
  }
}

std::unique_ptr<GgufFile> GgufFile::open_one(const std::string& path) {
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->path_ = path;
  f->index_ = std::make_unique<Index>();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, ": cannot open: ", std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    fail(path, ": cannot stat: ", std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(path, ": not a regular file");
  }
  f->size_ = static_cast<uint64_t>(st.st_size);
  if (f->size_ > 0) {
    void* m = mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
      int e = errno;
      ::close(fd);
      fail(path, ": cannot map ", f->size_, " bytes: ", std::strerror(e));
    }
    f->base_ = static_cast<const uint8_t*>(m);
  }
  // The mapping keeps the file alive; copy_tensors_to_memory() reads through
  // the descriptor.
  f->fd_ = fd;
  GgufParser(*f).parse();  // on a throw, ~GgufFile unmaps
  return f;
}

uint64_t GgufFile::total_file_size() const {
  uint64_t n = size_;
  for (const auto& s : shards_) n += s->size_;
  return n;
}

size_t GgufFile::shard_tensor_count(size_t i) const {
  return size_t(std::count_if(tensors_.begin(), tensors_.end(),
                              [i](const GgufTensorInfo& t) { return size_t(t.shard) == i; }));
}

GgufFile::~GgufFile() {
  if (base_) munmap(const_cast<uint8_t*>(base_), size_);
  if (mem_map_) munmap(mem_map_, mem_map_bytes_);
  if (fd_ >= 0) ::close(fd_);
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = index_->keys.find(std::string(key));
  return it == index_->keys.end() ? nullptr : &kv_[it->second].value;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = index_->tensors.find(std::string(name));
  return it == index_->tensors.end() ? nullptr : &tensors_[it->second];
}

namespace {
[[noreturn]] void wrong_type(const std::string& path, std::string_view key, const GgufValue& v,
                             const char* expected) {
  fail(path, ": key ", quote(key), " has type ", gguf_type_label(v), ", expected ", expected);
}
}  // namespace

std::optional<uint32_t> GgufFile::get_u32(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_int()) wrong_type(path_, key, *v, "an integer");
  std::optional<int64_t> x = v->as_int();
  if (!x || *x < 0 || *x > static_cast<int64_t>(std::numeric_limits<uint32_t>::max())) {
    fail(path_, ": key ", quote(key), " value ",
         v->type == GgufType::UINT64 ? str_cat(v->u) : str_cat(v->as_int().value_or(0)),
         " does not fit an unsigned 32-bit integer");
  }
  return static_cast<uint32_t>(*x);
}

uint32_t GgufFile::require_u32(std::string_view key) const {
  std::optional<uint32_t> v = get_u32(key);
  if (!v) fail(path_, ": missing key ", quote(key));
  return *v;
}

std::optional<float> GgufFile::get_f32(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_float()) wrong_type(path_, key, *v, "FLOAT32 or FLOAT64");
  return static_cast<float>(v->f);
}

std::optional<std::string> GgufFile::get_str(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != GgufType::STRING) wrong_type(path_, key, *v, "STRING");
  return v->s;
}

std::optional<bool> GgufFile::get_bool(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != GgufType::BOOL) wrong_type(path_, key, *v, "BOOL");
  return v->u != 0;
}

const GgufValue* GgufFile::get_array(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v && v->type != GgufType::ARRAY) wrong_type(path_, key, *v, "ARRAY");
  return v;
}

}  // namespace dllm
