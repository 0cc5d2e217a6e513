// The prompt cache's checkpoints: recurrent + conv state of one slot's
// sequence at one position (deltallm_seq_checkpoint_save), in one pool with a
// byte budget. Eviction drops the least recently used checkpoint, those of
// idle slots first. Used by the inference thread only (no locking).
#pragma once
#include <cstdint>
#include <functional>
#include <list>
#include <string>
#include <vector>

namespace dllm::serve {

class CheckpointPool {
 public:
  explicit CheckpointPool(uint64_t budget_bytes) : budget_(budget_bytes) {}

  struct Entry {
    int slot;
    int64_t pos;
    std::vector<uint8_t> bytes;
    uint64_t last_used;
  };

  // Stores a checkpoint of `slot` at `pos` (replacing one at the same
  // position). `is_idle(slot)` tells eviction which slots are idle. Returns
  // false when it cannot fit even after evicting everything else.
  bool add(int slot, int64_t pos, std::vector<uint8_t> bytes, const std::function<bool(int)>& is_idle);
  // The newest checkpoint of `slot` at or before `pos` (marked as used), or nullptr.
  const Entry* find(int slot, int64_t pos);
  bool has(int slot, int64_t pos) const;
  // Drops the checkpoints of `slot` after `pos` (they belong to tokens it no longer holds).
  void drop_after(int slot, int64_t pos);
  // Positions of `slot`'s checkpoints evicted for space since it was last reset.
  const std::vector<int64_t>& evicted(int slot) const;
  void reset_evicted(int slot);

  uint64_t bytes() const { return used_; }
  uint64_t budget() const { return budget_; }
  size_t count() const { return entries_.size(); }
  uint64_t evictions() const { return evictions_; }
  size_t count(int slot) const;

 private:
  void evict_one(const std::function<bool(int)>& is_idle);
  uint64_t budget_;
  uint64_t used_ = 0;
  uint64_t tick_ = 0;
  uint64_t evictions_ = 0;
  std::list<Entry> entries_;
  std::vector<std::vector<int64_t>> evicted_;  // [slot]
};

}  // namespace dllm::serve
