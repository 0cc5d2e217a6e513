// Counter-based random rows for the generator: each (seed, stream name, row)
// has its own splitmix64 stream, so rows can be drawn in any order, on any
// thread, and a fused tensor can reuse the rows of the tensors it fuses.
#pragma once
#include <cstdint>
#include <string_view>

#include "gen/model_generator.h"

namespace dllm::gen {

// splitmix64 finaliser: a bijective 64-bit mix.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// FNV-1a of a stream (tensor) name.
inline uint64_t name_hash(std::string_view s) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (char c : s) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001B3ull;
  return h;
}

// Seed of one row of one stream.
inline uint64_t row_seed(uint64_t seed, uint64_t stream_hash, int64_t row) {
  return mix64(mix64(seed ^ mix64(stream_hash)) + static_cast<uint64_t>(row) * 0x9E3779B97F4A7C15ull);
}

// Fills out[0..n) with values drawn per `init` (a, b as in TensorPlan) from
// the stream that starts at `state`.
void fill_random_row(Init init, float a, float b, uint64_t state, float* out, int64_t n);

}  // namespace dllm::gen
