// Text -> token id lookup for loading vocabularies (internal to src/text).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dllm {

// Text -> id of the selected tokens (the first id for a repeated text): open
// addressing over ids, 64-bit FNV-1a with the high half kept in the slot, so
// building and probing touch one flat array (a node-based map made this the
// slowest part of loading a 150k-token vocabulary).
class TextIndex {
 public:
  TextIndex(const std::vector<std::string>& texts, const std::vector<bool>& selected) : texts_(texts) {
    size_t cap = 16;
    while (cap < 2 * texts.size()) cap *= 2;
    slots_.assign(cap, 0);
    mask_ = cap - 1;
    for (size_t i = 0; i < texts.size(); ++i) {
      if (!selected[i]) continue;
      const uint64_t h = hash(texts[i]);
      size_t p = h & mask_;
      bool dup = false;
      while (slots_[p] != 0) {
        const uint32_t id = static_cast<uint32_t>(slots_[p]) - 1;
        if ((slots_[p] >> 32) == (h >> 32) && texts_[id] == texts[i]) {
          dup = true;
          break;
        }
        p = (p + 1) & mask_;
      }
      if (!dup) slots_[p] = (h & 0xFFFFFFFF00000000ull) | (i + 1);
    }
  }
  int32_t find(std::string_view t) const {
    const uint64_t h = hash(t);
    for (size_t p = h & mask_; slots_[p] != 0; p = (p + 1) & mask_) {
      const uint32_t id = static_cast<uint32_t>(slots_[p]) - 1;
      if ((slots_[p] >> 32) == (h >> 32) && texts_[id] == t) return static_cast<int32_t>(id);
    }
    return -1;
  }

 private:
  static uint64_t hash(std::string_view t) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : t) h = (h ^ c) * 0x100000001b3ull;
    return h ^ (h >> 29);
  }
  const std::vector<std::string>& texts_;
  std::vector<uint64_t> slots_;  // (hash >> 32) << 32 | (id + 1); 0 = empty
  size_t mask_ = 0;
};

}  // namespace dllm
