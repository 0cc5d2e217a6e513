#include "serve/checkpoint_pool.h"

namespace dllm::serve {

bool CheckpointPool::add(int slot, int64_t pos, std::vector<uint8_t> bytes, const std::function<bool(int)>& is_idle) {
  drop_after(slot, pos - 1);  // replaces one at pos, and any later ones: they describe other tokens now
  if (bytes.size() > budget_) return false;
  while (used_ + bytes.size() > budget_ && !entries_.empty()) evict_one(is_idle);
  used_ += bytes.size();
  entries_.push_back({slot, pos, std::move(bytes), ++tick_});
  return true;
}

void CheckpointPool::evict_one(const std::function<bool(int)>& is_idle) {
  // Least recently used, preferring idle slots: a running request's prefill
  // checkpoints are what its conversation's next turn will need.
  auto victim = entries_.end();
  for (int pass = 0; pass < 2 && victim == entries_.end(); ++pass)
    for (auto it = entries_.begin(); it != entries_.end(); ++it)
      if ((pass == 1 || is_idle(it->slot)) && (victim == entries_.end() || it->last_used < victim->last_used))
        victim = it;
  if (victim == entries_.end()) return;
  if (size_t(victim->slot) >= evicted_.size()) evicted_.resize(size_t(victim->slot) + 1);
  evicted_[size_t(victim->slot)].push_back(victim->pos);
  used_ -= victim->bytes.size();
  ++evictions_;
  entries_.erase(victim);
}

const CheckpointPool::Entry* CheckpointPool::find(int slot, int64_t pos) {
  Entry* best = nullptr;
  for (Entry& e : entries_)
    if (e.slot == slot && e.pos <= pos && (!best || e.pos > best->pos)) best = &e;
  if (best) best->last_used = ++tick_;
  return best;
}

bool CheckpointPool::has(int slot, int64_t pos) const {
  for (const Entry& e : entries_)
    if (e.slot == slot && e.pos == pos) return true;
  return false;
}

void CheckpointPool::drop_after(int slot, int64_t pos) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->slot == slot && it->pos > pos) {
      used_ -= it->bytes.size();
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

const std::vector<int64_t>& CheckpointPool::evicted(int slot) const {
  static const std::vector<int64_t> none;
  return size_t(slot) < evicted_.size() ? evicted_[size_t(slot)] : none;
}

void CheckpointPool::reset_evicted(int slot) {
  if (size_t(slot) < evicted_.size()) evicted_[size_t(slot)].clear();
}

size_t CheckpointPool::count(int slot) const {
  size_t n = 0;
  for (const Entry& e : entries_) n += e.slot == slot;
  return n;
}

}  // namespace dllm::serve
