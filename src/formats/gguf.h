// GGUF container (kernels.md §1): a validating, memory-mapped reader and a
// writer. The reader never reads outside the mapping; every problem is one
// dllm::Error "FILE: offset N: problem".
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/ggml_type.h"

namespace dllm {

enum class GgufType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6,
  BOOL = 7, STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};
const char* gguf_type_name(GgufType t);  // "UINT32", "ARRAY", ...

// One metadata value. Exactly the field that matches `type` is meaningful;
// an ARRAY holds `elem_type` and `items` (which may be arrays themselves).
struct GgufValue {
  GgufType type = GgufType::UINT8;
  uint64_t u = 0;        // UINT8, UINT16, UINT32, UINT64, BOOL (0/1)
  int64_t i = 0;         // INT8, INT16, INT32, INT64
  double f = 0;          // FLOAT32, FLOAT64
  std::string s;         // STRING
  GgufType elem_type = GgufType::UINT8;  // ARRAY
  std::vector<GgufValue> items;          // ARRAY

  static GgufValue u8(uint8_t v);
  static GgufValue i8(int8_t v);
  static GgufValue u16(uint16_t v);
  static GgufValue i16(int16_t v);
  static GgufValue u32(uint32_t v);
  static GgufValue i32(int32_t v);
  static GgufValue u64(uint64_t v);
  static GgufValue i64(int64_t v);
  static GgufValue f32(float v);
  static GgufValue f64(double v);
  static GgufValue boolean(bool v);
  static GgufValue str(std::string v);
  static GgufValue array(GgufType elem_type, std::vector<GgufValue> items);
  static GgufValue str_array(const std::vector<std::string>& v);
  static GgufValue i32_array(const std::vector<int32_t>& v);
  static GgufValue f32_array(const std::vector<float>& v);

  bool is_int() const;    // any integer type (not BOOL)
  bool is_float() const;  // FLOAT32 / FLOAT64
  // Integer value of any integer type; nullopt otherwise.
  std::optional<int64_t> as_int() const;
  // Numeric value of any integer or float type; nullopt otherwise.
  std::optional<double> as_number() const;
  bool operator==(const GgufValue& o) const;
};

struct GgufKV {
  std::string key;
  GgufValue value;
};

struct GgufTensorInfo {
  std::string name;
  uint32_t type = 0;    // ggml type id (in the table of ggml_type.h)
  int n_dims = 0;       // 1..4
  int64_t ne[4] = {1, 1, 1, 1};  // GGUF order: ne[0] contiguous
  uint64_t offset = 0;  // relative to the data section
  uint64_t nbytes = 0;  // bytes of the tensor data
  uint64_t info_offset = 0;  // file offset of this tensor info entry (for messages)
  int64_t mem_offset = -1;   // where copy_tensors_to_memory() put it; -1: read from the mapping
  int shard = 0;             // the file of a split model that holds it (0: the first, opened one)
  int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
  GgmlType ggml_type() const { return static_cast<GgmlType>(type); }
};

class GgufFile {
 public:
  // Maps and validates the whole file; throws dllm::Error naming the file, the
  // byte offset and the problem. A model split into several files
  // (NAME-00001-of-0000N.gguf, keys split.*; kernels.md §1.7) is opened from
  // its first file: the others are found by name and validated too, and
  // tensors() lists the tensors of all of them.
  static std::unique_ptr<GgufFile> open(const std::string& path);
  ~GgufFile();
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  uint64_t file_size() const { return size_; }

  const std::vector<GgufKV>& metadata() const { return kv_; }  // file order
  const GgufValue* find(std::string_view key) const;          // nullptr if absent

  // Typed getters: throw dllm::Error "FILE: key K has type T, expected ..." on a
  // type mismatch and "FILE: missing key K" when required and absent. Integer
  // getters accept any integer type whose value fits.
  std::optional<uint32_t> get_u32(std::string_view key) const;
  uint32_t require_u32(std::string_view key) const;
  std::optional<float> get_f32(std::string_view key) const;  // FLOAT32/FLOAT64
  std::optional<std::string> get_str(std::string_view key) const;
  std::optional<bool> get_bool(std::string_view key) const;
  const GgufValue* get_array(std::string_view key) const;  // nullptr if absent; throws if not ARRAY

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }  // file order
  const GgufTensorInfo* find_tensor(std::string_view name) const;          // nullptr if absent
  const uint8_t* tensor_data(const GgufTensorInfo& t) const {
    if (t.mem_offset >= 0) return mem_ + t.mem_offset;
    const GgufFile& s = shard(size_t(t.shard));
    return s.base_ + s.data_offset_ + t.offset;
  }
  const uint8_t* base() const { return base_; }

  // The files of a split model (1 for an ordinary file); shard(0) is this one.
  // Each shard's own metadata and tensors() are its own; this file's are the model's.
  size_t shard_count() const { return 1 + shards_.size(); }
  const GgufFile& shard(size_t i) const { return i == 0 ? *this : *shards_[i - 1]; }
  uint64_t total_file_size() const;          // bytes of all the files
  size_t shard_tensor_count(size_t i) const;  // tensors held by file i

  // Reads the data of the tensors `select` picks into anonymous memory backed
  // by transparent huge pages where the kernel offers them (gguf_memory.cpp):
  // streaming the weights then crosses a page boundary every 2 MiB instead of
  // every 4 KiB (fewer TLB misses, and the hardware prefetchers, which stop at
  // page boundaries, keep running). tensor_data() then points into the copy.
  // `progress(done, total)` is called every few MiB; it may throw to cancel.
  // Throws dllm::Error on a failed read or allocation. Once per file.
  void copy_tensors_to_memory(const std::function<bool(const GgufTensorInfo&)>& select,
                              const std::function<void(uint64_t done, uint64_t total)>& progress);
  uint64_t copied_bytes() const { return mem_bytes_; }  // tensor bytes copied (0: all mapped)

 private:
  GgufFile() = default;
  friend class GgufParser;
  static std::unique_ptr<GgufFile> open_one(const std::string& path);
  void open_split_shards();  // gguf_split.cpp
  void adopt_shard_tensors(GgufFile& s, int shard);
  std::string path_;
  int fd_ = -1;
  const uint8_t* base_ = nullptr;
  uint64_t size_ = 0;
  uint8_t* mem_ = nullptr;     // copy_tensors_to_memory()'s block (mem_map_ aligned up to 2 MiB)
  void* mem_map_ = nullptr;
  uint64_t mem_map_bytes_ = 0;
  uint64_t mem_bytes_ = 0;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<GgufKV> kv_;
  std::vector<GgufTensorInfo> tensors_;
  std::vector<std::unique_ptr<GgufFile>> shards_;  // a split model's files after the first
  struct Index;
  std::unique_ptr<Index> index_;  // name -> position lookups
};

// Writes GGUF v3. Metadata is written in insertion order (set() on an existing
// key replaces its value in place); tensors in add order, each padded to the
// alignment.
class GgufWriter {
 public:
  explicit GgufWriter(uint32_t alignment = 32);
  void set(const std::string& key, GgufValue value);
  // Copies the bytes (nbytes must equal the size of `ne` in `type`).
  void add_tensor(const std::string& name, GgmlType type, const std::vector<int64_t>& ne,
                  const void* data, size_t nbytes);
  // Like add_tensor but takes the bytes by move (no copy).
  void add_tensor(const std::string& name, GgmlType type, const std::vector<int64_t>& ne,
                  std::vector<uint8_t>&& data);
  // Writes the file (to a temporary then renamed, so a failed write leaves no
  // half file). Throws dllm::Error on I/O errors.
  void write(const std::string& path) const;
  // Serialises to memory (tests).
  std::vector<uint8_t> to_bytes() const;

 private:
  struct Tensor {
    std::string name;
    GgmlType type;
    std::vector<int64_t> ne;
    std::vector<uint8_t> data;
  };
  uint32_t alignment_;
  std::vector<GgufKV> kv_;
  std::vector<Tensor> tensors_;
};

}  // namespace dllm
