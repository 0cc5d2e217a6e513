// Byte-level BPE over token ids (kernels.md §6.4). Symbols start as the
// tokens of single bytes; a merge table keyed by the (left id, right id) pair
// gives the rank and the merged id, so no strings are built while merging.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <memory>
#include <vector>

#include "text/tokenizer_index.h"

namespace dllm {

class BpeModel {
 public:
  // raw[i]: the bytes of token i; only tokens with mergeable[i] (NORMAL ones)
  // take part. `raw` must outlive the model (ignore_merges looks words up in
  // it). merges: (left id, right id, merged id), index = rank; a pair
  // listed twice keeps its first (lowest) rank.
  struct Merge {
    int32_t left, right, result;
  };
  BpeModel(const std::vector<std::string>& raw, const std::vector<bool>& mergeable,
           const std::vector<Merge>& merges, bool ignore_merges);

  // Appends the ids of one pre-token (raw bytes). Throws dllm::Error when a
  // byte has no token.
  void encode_word(std::string_view word, std::vector<int32_t>& out) const;

 private:
  struct Slot {
    uint64_t key;  // left << 32 | right; kEmpty when unused
    int32_t rank;
    int32_t result;
  };
  static constexpr uint64_t kEmpty = ~0ull;
  const Slot* find(int32_t left, int32_t right) const {
    const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
    size_t h = static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_);
    for (;;) {
      const Slot& s = slots_[h];
      if (s.key == key) return &s;
      if (s.key == kEmpty) return nullptr;
      h = (h + 1) & mask_;
    }
  }

  std::vector<Slot> slots_;  // open addressing, linear probing, load <= 5/8
  size_t mask_ = 0;
  int shift_ = 64;
  int32_t byte_id_[256];  // token of each single byte, -1 if none
  bool ignore_merges_;
  std::unique_ptr<TextIndex> whole_;  // raw bytes -> id (ignore_merges only)
};

}  // namespace dllm
