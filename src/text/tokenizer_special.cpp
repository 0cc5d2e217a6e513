#include "text/tokenizer_special.h"

#include <algorithm>

namespace dllm {

int32_t SpecialMatcher::child(int32_t node, uint8_t b) const {
  const auto& kids = nodes_[node].kids;
  auto it = std::lower_bound(kids.begin(), kids.end(), b,
                             [](const std::pair<uint8_t, int32_t>& k, uint8_t v) { return k.first < v; });
  return it != kids.end() && it->first == b ? it->second : -1;
}

void SpecialMatcher::add(std::string_view text, int32_t id, bool user_defined) {
  if (text.empty()) return;
  int32_t node = 0;
  for (unsigned char b : text) {
    int32_t c = child(node, b);
    if (c < 0) {
      c = static_cast<int32_t>(nodes_.size());
      nodes_.emplace_back();
      auto& kids = nodes_[node].kids;
      auto it = std::lower_bound(kids.begin(), kids.end(), b,
                                 [](const std::pair<uint8_t, int32_t>& k, uint8_t v) { return k.first < v; });
      kids.insert(it, {b, c});
    }
    node = c;
  }
  first_[static_cast<uint8_t>(text[0])] = true;
  Node& n = nodes_[node];
  if (n.id_any < 0) n.id_any = id;
  if (user_defined && n.id_user < 0) n.id_user = id;
}

bool SpecialMatcher::find(std::string_view text, size_t from, bool parse_special, Hit& hit) const {
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  for (size_t i = from; i < n; ++i) {
    if (!first_[p[i]]) continue;
    int32_t node = 0;
    int32_t best = -1;
    size_t best_end = 0;
    for (size_t j = i; j < n; ++j) {
      node = child(node, p[j]);
      if (node < 0) break;
      const int32_t id = parse_special ? nodes_[node].id_any : nodes_[node].id_user;
      if (id >= 0) {
        best = id;
        best_end = j + 1;
      }
    }
    if (best >= 0) {
      hit = Hit{i, best_end, best};
      return true;
    }
  }
  return false;
}

}  // namespace dllm
