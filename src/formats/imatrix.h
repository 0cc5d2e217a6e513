// Importance matrices (per-input-column statistics of the activations that
// enter each weight matrix, for quantization), in the two file formats of the
// llama.cpp family, read with full validation and written:
//
// Legacy `imatrix.dat` (ik_llama.cpp's llama-imatrix and quantizer; mainline's
// --output-format dat). All integers int32 little-endian, no padding:
//   n_entries (>= 1)
//   n_entries x { name_len, name bytes (no NUL), ncall, nval, float32[nval] }
//   last_call, dataset_len, dataset bytes           (optional trailer)
// Each value is the per-column mean of x^2 times ncall; ncall is the number
// of matmul calls that fed the tensor. A stacked MoE tensor has
// n_expert * n_cols values (expert-major), each expert's mean over the rows
// routed to it.
//
// GGUF (mainline llama.cpp's default since 2025): general.type = "imatrix",
// imatrix.datasets (string array), imatrix.chunk_count and imatrix.chunk_size
// (u32); per weight `<name>.in_sum2` (F32 [n_cols, n_mat]: the sums of x^2)
// and `<name>.counts` (F32 [1, n_mat]: the activation rows per matrix), and
// optionally `<name>.in_sum` (the sums of x; read and ignored here).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dllm {

enum class ImatrixFormat { Dat, Gguf };

struct ImatrixEntry {
  // n_mat * n_cols floats (n_mat: experts of a stacked MoE tensor, else 1).
  // Dat: as stored (per-column mean of x^2 times ncall). Gguf: in_sum2.
  std::vector<float> values;
  // Dat: one value, ncall. Gguf: `counts`, rows per matrix (n_mat values).
  std::vector<float> counts;
  int64_t n_mat() const { return int64_t(counts.size()); }
  int64_t n_cols() const { return counts.empty() ? 0 : int64_t(values.size()) / n_mat(); }
  // The per-column mean of x^2 (what a quantizer weighs errors with): values
  // divided by the matrix's count (Dat: ncall, which undoes the scaling).
  // A matrix with count 0 gives 1s (no data: uniform weights).
  std::vector<float> mean_squares() const;
  bool operator==(const ImatrixEntry&) const = default;
};

struct Imatrix {
  ImatrixFormat format = ImatrixFormat::Dat;
  std::map<std::string, ImatrixEntry> entries;  // by tensor name ("blk.0.ffn_up.weight")
  int32_t chunk_count = 0;  // Dat: last_call (the largest ncall); Gguf: imatrix.chunk_count
  int32_t chunk_size = 0;   // Gguf only: imatrix.chunk_size (0 in Dat)
  std::vector<std::string> datasets;  // Dat: at most one (the trailer's name)
  bool operator==(const Imatrix&) const = default;
};

// Reads either format (a GGUF file starts with "GGUF"). Throws dllm::Error
// naming the file and what is wrong: truncated, sizes beyond the file,
// negative or non-finite counts and values, duplicate names, missing pairs.
Imatrix read_imatrix(const std::string& path);

// Writes the legacy format (entries with exactly one count each) or GGUF.
// Entries are written in name order. Throws dllm::Error on I/O errors.
void write_imatrix_dat(const Imatrix& m, const std::string& path);
void write_imatrix_gguf(const Imatrix& m, const std::string& path);

}  // namespace dllm
