#include "text/tokenizer_bpe.h"

#include <algorithm>

#include "util/error.h"

namespace dllm {
namespace {

// A candidate merge of the symbol at `pos` with its right neighbour, valid
// only while those two symbols still carry the ids it was made from.
struct Cand {
  int32_t rank;
  int32_t pos;
  int32_t left, right, result;
};
// std heap is a max-heap: "greater" puts the lowest rank, then the leftmost
// position, on top (kernels.md §6.4; Hugging Face orders its queue the same).
struct CandAfter {
  bool operator()(const Cand& a, const Cand& b) const {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
  }
};

struct Work {
  std::vector<int32_t> id;    // [n] symbol id, -1 once merged into its left neighbour
  std::vector<int32_t> prev;  // [n] previous live symbol or -1
  std::vector<int32_t> next;  // [n] next live symbol or -1
  std::vector<Cand> heap;
};

}  // namespace

BpeModel::BpeModel(const std::vector<std::string>& raw, const std::vector<bool>& mergeable,
                   const std::vector<Merge>& merges, bool ignore_merges)
    : ignore_merges_(ignore_merges) {
  std::fill(std::begin(byte_id_), std::end(byte_id_), -1);
  for (size_t i = 0; i < raw.size(); ++i) {
    if (!mergeable[i]) continue;
    if (raw[i].size() == 1) {
      int32_t& b = byte_id_[static_cast<uint8_t>(raw[i][0])];
      if (b < 0) b = static_cast<int32_t>(i);
    }
  }
  if (ignore_merges_) whole_ = std::make_unique<TextIndex>(raw, mergeable);
  size_t cap = 16;
  while (cap * 5 < merges.size() * 8 + 8) cap *= 2;  // load <= 5/8: a smaller table misses cache less
  slots_.assign(cap, Slot{kEmpty, 0, 0});
  mask_ = cap - 1;
  shift_ = 64 - __builtin_ctzll(cap);
  for (size_t r = 0; r < merges.size(); ++r) {
    const Merge& m = merges[r];
    const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(m.left)) << 32) | static_cast<uint32_t>(m.right);
    size_t h = static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_);
    while (slots_[h].key != kEmpty && slots_[h].key != key) h = (h + 1) & mask_;
    if (slots_[h].key == key) continue;  // duplicate pair: the first rank stays
    slots_[h] = Slot{key, static_cast<int32_t>(r), m.result};
  }
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  const size_t n = word.size();
  if (n == 0) return;
  auto byte_token = [&](size_t i) {
    const uint8_t b = static_cast<uint8_t>(word[i]);
    const int32_t id = byte_id_[b];
    if (id < 0) fail("the vocabulary has no token for byte 0x", std::hex, static_cast<int>(b));
    return id;
  };
  if (n == 1) {
    out.push_back(byte_token(0));
    return;
  }
  if (ignore_merges_) {
    const int32_t id = whole_->find(word);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  thread_local Work w;
  w.id.resize(n);
  w.prev.resize(n);
  w.next.resize(n);
  w.heap.clear();
  for (size_t i = 0; i < n; ++i) {
    w.id[i] = byte_token(i);
    w.prev[i] = static_cast<int32_t>(i) - 1;
    w.next[i] = i + 1 < n ? static_cast<int32_t>(i + 1) : -1;
  }
  auto consider = [&](int32_t pos) {
    const int32_t r = w.next[pos];
    if (r < 0) return;
    if (const Slot* s = find(w.id[pos], w.id[r])) {
      w.heap.push_back(Cand{s->rank, pos, w.id[pos], w.id[r], s->result});
      std::push_heap(w.heap.begin(), w.heap.end(), CandAfter{});
    }
  };
  for (size_t i = 0; i + 1 < n; ++i) consider(static_cast<int32_t>(i));
  while (!w.heap.empty()) {
    std::pop_heap(w.heap.begin(), w.heap.end(), CandAfter{});
    const Cand c = w.heap.back();
    w.heap.pop_back();
    const int32_t r = w.next[c.pos];
    if (w.id[c.pos] != c.left || r < 0 || w.id[r] != c.right) continue;  // stale
    w.id[c.pos] = c.result;
    w.id[r] = -1;
    const int32_t rr = w.next[r];
    w.next[c.pos] = rr;
    if (rr >= 0) w.prev[rr] = c.pos;
    if (w.prev[c.pos] >= 0) consider(w.prev[c.pos]);
    consider(c.pos);
  }
  for (int32_t i = 0; i >= 0; i = w.next[i]) out.push_back(w.id[i]);
}

}  // namespace dllm
