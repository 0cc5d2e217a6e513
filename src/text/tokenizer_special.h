// Finds special-token texts (CONTROL, UNKNOWN, USER_DEFINED) in raw input:
// a byte trie scanned left to right, taking at the leftmost position where
// any token starts the longest one there (Hugging Face's added-token split).
// With parse_special off only USER_DEFINED tokens count (kernels.md §6.5).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dllm {

class SpecialMatcher {
 public:
  // Adds a token; `user_defined` marks one that is matched even without
  // parse_special. Empty texts are ignored; for a text added twice the first
  // id stays.
  void add(std::string_view text, int32_t id, bool user_defined);

  struct Hit {
    size_t begin, end;
    int32_t id;
  };
  // The next hit at or after `from`, or false.
  bool find(std::string_view text, size_t from, bool parse_special, Hit& hit) const;

  bool empty() const { return nodes_.size() <= 1; }

 private:
  struct Node {
    std::vector<std::pair<uint8_t, int32_t>> kids;  // sorted by byte
    int32_t id_any = -1;   // a token of any special type ends here
    int32_t id_user = -1;  // a USER_DEFINED token ends here
  };
  int32_t child(int32_t node, uint8_t b) const;
  std::vector<Node> nodes_{1};
  bool first_[256] = {};  // bytes some token starts with
};

}  // namespace dllm
