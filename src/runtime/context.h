// A context runs batches for up to n_seq sequences over one model: it owns the
// KV cache of the attention layers, the recurrent state slots of the Gated
// DeltaNet layers, the forward workspace and the logits (models.md §4).
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model/forward.h"
#include "model/model.h"

namespace dllm {

class ThreadPool;

enum class KvType { F16, F32 };

struct ContextParams {
  int64_t n_ctx = 0;    // positions per sequence; 0 = min(trained context, 4096)
  int n_seq = 1;        // sequence slots
  int n_batch = 512;    // largest micro-batch (bigger batches are split)
  int n_threads = 0;    // 0 = hardware threads
  KvType kv_type = KvType::F16;
  // Keep the recurrent state after each token of a sequence's last batch
  // (when it brought at most n_rollback tokens), so that seq_rollback can
  // drop them again (speculative decoding). 0 = off; at most n_batch.
  int n_rollback = 0;
};

// One token of a batch.
struct BatchEntry {
  int32_t token = 0;
  int64_t pos = 0;
  int32_t seq = 0;
  bool logits = false;
};

// Returns true to abort a long evaluation (checked between layers).
using AbortFn = bool (*)(void* user_data);

class Context {
 public:
  // Throws dllm::Error for bad parameters.
  Context(const Model& model, const ContextParams& params);
  ~Context();

  const Model& model() const { return model_; }
  int64_t n_ctx() const { return n_ctx_; }
  int n_seq() const { return n_seq_; }
  int n_batch() const { return n_batch_; }
  int n_threads() const;

  // Evaluates a batch. Position rules per sequence: positions are consecutive
  // in batch order and start at the sequence's current length, or at 0, which
  // restarts the sequence. The whole batch is validated before any state
  // changes; a bad batch throws dllm::Error and leaves everything as it was.
  // Returns false when aborted by the abort callback (checked between layers);
  // micro-batches already done stay done, the sequences of the interrupted
  // one are emptied.
  bool decode(const std::vector<BatchEntry>& batch);
  // Logits of the i-th entry (in batch order) that asked for them: [n_vocab].
  const float* logits(int i) const;
  int n_logits() const { return n_out_; }

  int64_t seq_len(int seq) const;
  void seq_clear(int seq);  // -1: all sequences
  void seq_copy(int src, int dst);
  // Raw state of one sequence (recurrent rows + KV rows up to its length), for
  // snapshots; restore requires the same model and context sizes.
  std::vector<uint8_t> seq_state(int seq) const;
  void seq_restore(int seq, const std::vector<uint8_t>& state);
  void seq_restore(int seq, const uint8_t* data, size_t size);
  // Prompt-cache checkpoints: the recurrent + conv state of one sequence
  // alone (recurrent_state_bytes() bytes, no KV rows). Restoring one taken
  // at length len keeps the KV rows [0, len) (len <= the current length) and
  // drops the rest: the sequence is then as it was when the checkpoint was
  // taken, provided its first len tokens are the same ones.
  size_t recurrent_state_bytes() const;
  void seq_save_recurrent(int seq, uint8_t* out) const;
  void seq_restore_recurrent(int seq, const uint8_t* data, int64_t len);
  // Shortens a sequence to its first `len` positions. Attention rows need
  // nothing; the recurrent state is taken from the checkpoints of the last
  // batch, so len must lie in rollback_range(seq) (or be 0: cleared, or the
  // current length: nothing to do). Throws dllm::Error otherwise.
  void seq_rollback(int seq, int64_t len);
  // The lengths seq_rollback can reach: [first, last] (first > last: only 0
  // and the current length).
  std::pair<int64_t, int64_t> rollback_range(int seq) const;
  int n_rollback() const { return n_rollback_; }

  void set_abort(AbortFn fn, void* user_data);
  // Every weight matmul of later decodes reports its input rows to `obs`
  // (see ActivationObserver in model/forward.h); obs.fn null: none.
  void set_activation_observer(const ActivationObserver& obs);

  // The memory plan (weights, KV, recurrent state, workspace) as text lines.
  std::string memory_plan() const;
  uint64_t state_bytes_per_seq() const;

 private:
  class Memory;
  void check_seq(int seq, const char* what) const;
  const Model& model_;
  int64_t n_ctx_;
  int n_seq_;
  int n_batch_;
  KvType kv_type_;
  int n_rollback_ = 0;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<Memory> mem_;
  std::unique_ptr<ForwardWorkspace> ws_;
  std::vector<int64_t> seq_len_;
  // Checkpoints held per sequence: states after positions
  // [ckpt_pos0_, ckpt_pos0_ + ckpt_n_).
  std::vector<int64_t> ckpt_pos0_;
  std::vector<int> ckpt_n_;
  std::vector<float> logits_;  // [n_out][n_vocab]
  int n_out_ = 0;
  AbortFn abort_fn_ = nullptr;
  void* abort_data_ = nullptr;
  // per-decode scratch, kept between calls so that decoding does not allocate
  std::vector<int> order_;
  std::vector<int32_t> ub_tokens_;
  std::vector<int64_t> next_pos_;  // [n_seq]
  std::vector<char> seen_;         // [n_seq]
  std::vector<int> out_slot_;      // [batch size]
  MicroBatch ub_;
};

}  // namespace dllm
