#include "runtime/context.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "util/error.h"
#include "util/thread_pool.h"

namespace dllm {

// Per-sequence state: for each sequence slot one block holding, per Gated
// DeltaNet layer, the conv columns and the delta-rule state, and per attention
// layer the K and V rows of every position.
class Context::Memory : public SequenceMemory {
 public:
  Memory(const HParams& hp, int n_seq, int64_t n_ctx, KvType kv, int n_steps)
      : hp_(hp), n_ctx_(n_ctx), kv_(kv), n_steps_(n_steps) {
    conv_floats_ = int64_t(hp.ssm_conv_kernel - 1) * hp.ssm_conv_dim();
    ssm_floats_ = int64_t(hp.ssm_hv) * hp.ssm_dk * hp.ssm_dv();
    kv_row_ = int64_t(hp.n_head_kv) * hp.head_dim;
    elem_ = kv == KvType::F16 ? 2 : 4;
    layer_slot_.assign(hp.n_layer, -1);
    int nr = 0, na = 0;
    for (int il = 0; il < hp.n_layer_main; ++il) layer_slot_[il] = hp.recurrent[il] ? nr++ : na++;
    n_rec_ = nr;
    n_att_ = na;
    rec_.resize(n_seq);
    att_.resize(n_seq);
    ckpt_.resize(n_seq);
    for (int s = 0; s < n_seq; ++s) {
      rec_[s].assign(size_t(nr) * size_t(conv_floats_ + ssm_floats_), 0.0f);
      att_[s].assign(size_t(na) * 2 * size_t(n_ctx) * size_t(kv_row_) * elem_, 0);
      ckpt_[s].assign(size_t(nr) * size_t(n_steps) * size_t(conv_floats_ + ssm_floats_), 0.0f);
    }
  }

  RecurrentCheckpoints checkpoints(int layer, int seq) override {
    if (n_steps_ == 0) return {};
    const int64_t per = conv_floats_ + ssm_floats_;
    return {ckpt_[seq].data() + size_t(layer_slot_[layer]) * size_t(n_steps_) * size_t(per), per, n_steps_};
  }
  // Every recurrent layer of `seq` back to its state after step t.
  void restore_checkpoint(int seq, int t) {
    const size_t per = size_t(conv_floats_ + ssm_floats_);
    for (int l = 0; l < n_rec_; ++l)
      std::memcpy(rec_[seq].data() + size_t(l) * per, ckpt_[seq].data() + (size_t(l) * size_t(n_steps_) + size_t(t)) * per,
                  per * sizeof(float));
  }
  bool has_recurrent() const { return n_rec_ > 0; }
  uint64_t checkpoint_bytes() const {
    return uint64_t(n_rec_) * uint64_t(n_steps_) * uint64_t(conv_floats_ + ssm_floats_) * 4;
  }

  RecurrentStateView recurrent(int layer, int seq) override {
    float* base = rec_[seq].data() + size_t(layer_slot_[layer]) * size_t(conv_floats_ + ssm_floats_);
    return {base, base + conv_floats_};
  }
  KvView kv(int layer, int seq) override {
    uint8_t* base = att_[seq].data() + size_t(layer_slot_[layer]) * 2 * size_t(n_ctx_) * size_t(kv_row_) * elem_;
    return {base, base + size_t(n_ctx_) * size_t(kv_row_) * elem_, kv_ == KvType::F16};
  }
  void zero_recurrent(int seq) { std::fill(rec_[seq].begin(), rec_[seq].end(), 0.0f); }
  void copy(int src, int dst, int64_t len) {
    rec_[dst] = rec_[src];
    const size_t kv_bytes = size_t(len) * size_t(kv_row_) * elem_;
    for (int il = 0; il < hp_.n_layer_main; ++il) {
      if (hp_.recurrent[il]) continue;
      KvView a = kv(il, src), b = kv(il, dst);
      std::memcpy(b.k, a.k, kv_bytes);
      std::memcpy(b.v, a.v, kv_bytes);
    }
  }
  // Serialised: recurrent floats, then for each attention layer K and V rows [0, len).
  std::vector<uint8_t> save(int seq, int64_t len) {
    std::vector<uint8_t> out(rec_[seq].size() * sizeof(float) + size_t(n_att_) * 2 * size_t(len) * kv_row_ * elem_);
    uint8_t* p = out.data();
    std::memcpy(p, rec_[seq].data(), rec_[seq].size() * sizeof(float));
    p += rec_[seq].size() * sizeof(float);
    const size_t kv_bytes = size_t(len) * size_t(kv_row_) * elem_;
    for (int il = 0; il < hp_.n_layer_main; ++il) {
      if (hp_.recurrent[il]) continue;
      KvView a = kv(il, seq);
      std::memcpy(p, a.k, kv_bytes);
      p += kv_bytes;
      std::memcpy(p, a.v, kv_bytes);
      p += kv_bytes;
    }
    return out;
  }
  void load(int seq, const uint8_t* p, int64_t len) {
    std::memcpy(rec_[seq].data(), p, rec_[seq].size() * sizeof(float));
    p += rec_[seq].size() * sizeof(float);
    const size_t kv_bytes = size_t(len) * size_t(kv_row_) * elem_;
    for (int il = 0; il < hp_.n_layer_main; ++il) {
      if (hp_.recurrent[il]) continue;
      KvView a = kv(il, seq);
      std::memcpy(a.k, p, kv_bytes);
      p += kv_bytes;
      std::memcpy(a.v, p, kv_bytes);
      p += kv_bytes;
    }
  }
  // The recurrent + conv floats of one sequence alone (a prompt-cache checkpoint).
  size_t recurrent_size() const { return size_t(n_rec_) * size_t(conv_floats_ + ssm_floats_) * sizeof(float); }
  void save_recurrent(int seq, uint8_t* out) const { std::memcpy(out, rec_[seq].data(), recurrent_size()); }
  void load_recurrent(int seq, const uint8_t* in) { std::memcpy(rec_[seq].data(), in, recurrent_size()); }
  size_t state_size(int64_t len) const {
    return size_t(n_rec_) * size_t(conv_floats_ + ssm_floats_) * sizeof(float) +
           size_t(n_att_) * 2 * size_t(len) * size_t(kv_row_) * elem_;
  }
  uint64_t recurrent_bytes() const { return uint64_t(n_rec_) * uint64_t(conv_floats_ + ssm_floats_) * 4; }
  uint64_t kv_bytes() const { return uint64_t(n_att_) * 2 * uint64_t(n_ctx_) * uint64_t(kv_row_) * elem_; }

 private:
  const HParams& hp_;
  int64_t n_ctx_;
  KvType kv_;
  int n_steps_;  // checkpoints per sequence and layer
  int64_t conv_floats_, ssm_floats_, kv_row_;
  size_t elem_;
  std::vector<int> layer_slot_;
  int n_rec_ = 0, n_att_ = 0;
  std::vector<std::vector<float>> rec_;   // [n_seq][n_rec * (conv + ssm)]
  std::vector<std::vector<uint8_t>> att_; // [n_seq][n_att * 2 * n_ctx * kv_row * elem]
  std::vector<std::vector<float>> ckpt_;  // [n_seq][n_rec][n_steps][conv + ssm]
};

namespace {
std::string mib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f MiB", double(bytes) / (1024.0 * 1024.0));
  return buf;
}
}  // namespace

Context::Context(const Model& model, const ContextParams& params) : model_(model) {
  const HParams& hp = model.hparams();
  n_ctx_ = params.n_ctx > 0 ? params.n_ctx : std::min<int64_t>(hp.n_ctx_train, 4096);
  if (params.n_ctx < 0) fail("context size must not be negative (got ", params.n_ctx, ")");
  if (n_ctx_ > (int64_t(1) << 24)) fail("context size ", n_ctx_, " is too large (at most 16777216)");
  if (params.n_seq < 1 || params.n_seq > 256) fail("n_seq must be in 1..256 (got ", params.n_seq, ")");
  if (params.n_batch < 1) fail("n_batch must be at least 1 (got ", params.n_batch, ")");
  if (params.n_threads < 0 || params.n_threads > 1024) fail("threads must be in 0..1024 (got ", params.n_threads, ")");
  if (params.n_rollback < 0 || params.n_rollback > params.n_batch)
    fail("n_rollback must be in 0..n_batch (", params.n_batch, "), got ", params.n_rollback);
  n_seq_ = params.n_seq;
  n_batch_ = int(std::min<int64_t>(params.n_batch, n_ctx_ * n_seq_));
  n_rollback_ = std::min(params.n_rollback, n_batch_);
  kv_type_ = params.kv_type;
  pool_ = std::make_unique<ThreadPool>(params.n_threads);
  mem_ = std::make_unique<Memory>(hp, n_seq_, n_ctx_, kv_type_, n_rollback_);
  ws_ = std::make_unique<ForwardWorkspace>(model_, n_batch_, n_ctx_, pool_->size());
  seq_len_.assign(n_seq_, 0);
  ckpt_pos0_.assign(n_seq_, 0);
  ckpt_n_.assign(n_seq_, 0);
  order_.reserve(n_batch_);
}

Context::~Context() = default;

int Context::n_threads() const { return pool_->size(); }

uint64_t Context::state_bytes_per_seq() const {
  return mem_->recurrent_bytes() + mem_->kv_bytes() + mem_->checkpoint_bytes();
}

std::string Context::memory_plan() const {
  const HParams& hp = model_.hparams();
  std::string s;
  s += "memory plan: " + model_.describe() + "\n";
  const uint64_t copied = model_.file().copied_bytes();
  if (copied > 0) s += "  weights (in memory)     " + mib(copied) + "  (2 MiB pages where the kernel offers them)\n";
  if (model_.weight_bytes() > copied) s += "  weights (mmapped)       " + mib(model_.weight_bytes() - copied) + "\n";
  s += str_cat("  KV cache (", kv_type_ == KvType::F16 ? "f16" : "f32", ")          ", mib(mem_->kv_bytes() * n_seq_),
               "  (", hp.n_attention_layers(), " layers x ", n_ctx_, " positions x ", n_seq_, " seq)\n");
  s += str_cat("  recurrent state (f32)   ", mib(mem_->recurrent_bytes() * n_seq_), "  (", hp.n_recurrent_layers(),
               " layers x ", n_seq_, " seq)\n");
  if (n_rollback_ > 0)
    s += str_cat("  checkpoints (f32)       ", mib(mem_->checkpoint_bytes() * n_seq_), "  (", n_rollback_,
                 " steps x ", hp.n_recurrent_layers(), " layers x ", n_seq_, " seq)\n");
  s += str_cat("  workspace               ", mib(ws_->bytes()), "  (micro-batch ", n_batch_, " tokens, ",
               pool_->size(), " threads)\n");
  s += "  total (excl. weights)   " + mib(state_bytes_per_seq() * n_seq_ + ws_->bytes());
  return s;
}

void Context::check_seq(int seq, const char* what) const {
  if (seq < 0 || seq >= n_seq_) fail(what, ": sequence id ", seq, " is out of range (n_seq = ", n_seq_, ")");
}

int64_t Context::seq_len(int seq) const {
  check_seq(seq, "seq_len");
  return seq_len_[seq];
}

void Context::seq_clear(int seq) {
  if (seq == -1) {
    for (int s = 0; s < n_seq_; ++s) seq_clear(s);
    return;
  }
  check_seq(seq, "seq_clear");
  mem_->zero_recurrent(seq);
  seq_len_[seq] = 0;
  ckpt_n_[seq] = 0;
}

std::pair<int64_t, int64_t> Context::rollback_range(int seq) const {
  check_seq(seq, "rollback_range");
  const int64_t len = seq_len_[seq];
  if (!mem_->has_recurrent()) return {std::min<int64_t>(1, len), len};  // attention rows only: any length
  if (ckpt_n_[seq] == 0) return {len + 1, len};
  return {ckpt_pos0_[seq] + 1, ckpt_pos0_[seq] + ckpt_n_[seq]};
}

void Context::seq_rollback(int seq, int64_t len) {
  check_seq(seq, "seq_rollback");
  const int64_t cur = seq_len_[seq];
  if (len < 0 || len > cur) fail("seq_rollback: sequence ", seq, " holds ", cur, " positions, cannot keep ", len);
  if (len == cur) return;
  if (len == 0) {
    seq_clear(seq);
    return;
  }
  const auto [first, last] = rollback_range(seq);
  if (len < first || len > last) {
    if (first > last)
      fail("seq_rollback: sequence ", seq, " has no checkpoints (n_rollback = ", n_rollback_,
           "; they are kept for a batch of at most that many tokens of the sequence)");
    fail("seq_rollback: sequence ", seq, " can go back to lengths ", first, "..", last, " only (got ", len, ")");
  }
  if (mem_->has_recurrent()) {
    const int t = int(len - 1 - ckpt_pos0_[seq]);
    mem_->restore_checkpoint(seq, t);
    ckpt_n_[seq] = t + 1;
  }
  seq_len_[seq] = len;
}

void Context::seq_copy(int src, int dst) {
  check_seq(src, "seq_copy");
  check_seq(dst, "seq_copy");
  if (src == dst) return;
  mem_->copy(src, dst, seq_len_[src]);
  seq_len_[dst] = seq_len_[src];
  ckpt_n_[dst] = 0;  // checkpoints stay with the source
}

std::vector<uint8_t> Context::seq_state(int seq) const {
  check_seq(seq, "seq_state");
  std::vector<uint8_t> body = mem_->save(seq, seq_len_[seq]);
  std::vector<uint8_t> out(8 + body.size());
  const uint64_t len = uint64_t(seq_len_[seq]);
  std::memcpy(out.data(), &len, 8);
  std::memcpy(out.data() + 8, body.data(), body.size());
  return out;
}

void Context::seq_restore(int seq, const std::vector<uint8_t>& state) { seq_restore(seq, state.data(), state.size()); }

void Context::seq_restore(int seq, const uint8_t* data, size_t size) {
  check_seq(seq, "seq_restore");
  if (size < 8) fail("sequence state is too short (", size, " bytes)");
  uint64_t len;
  std::memcpy(&len, data, 8);
  if (len > uint64_t(n_ctx_)) fail("sequence state holds ", len, " positions, more than the context size ", n_ctx_);
  if (size != 8 + mem_->state_size(int64_t(len)))
    fail("sequence state has ", size, " bytes, expected ", 8 + mem_->state_size(int64_t(len)),
         " for this model and context");
  mem_->load(seq, data + 8, int64_t(len));
  seq_len_[seq] = int64_t(len);
  ckpt_n_[seq] = 0;
}

size_t Context::recurrent_state_bytes() const { return mem_->recurrent_size(); }

void Context::seq_save_recurrent(int seq, uint8_t* out) const {
  check_seq(seq, "seq_save_recurrent");
  mem_->save_recurrent(seq, out);
}

void Context::seq_restore_recurrent(int seq, const uint8_t* data, int64_t len) {
  check_seq(seq, "seq_restore_recurrent");
  if (len < 0 || len > seq_len_[seq])
    fail("seq_restore_recurrent: sequence ", seq, " holds ", seq_len_[seq], " positions, cannot go back to ", len);
  mem_->load_recurrent(seq, data);
  seq_len_[seq] = len;  // KV rows [0, len) stay; later rows are dead (overwritten by the next decode)
  ckpt_n_[seq] = 0;     // rollback checkpoints belonged to the dropped tokens
}

void Context::set_abort(AbortFn fn, void* user_data) {
  abort_fn_ = fn;
  abort_data_ = user_data;
}

void Context::set_activation_observer(const ActivationObserver& obs) { ws_->observer = obs; }

const float* Context::logits(int i) const {
  if (i < 0 || i >= n_out_) fail("logits row ", i, " is out of range (", n_out_, " rows)");
  return logits_.data() + size_t(i) * size_t(model_.hparams().n_vocab);
}

bool Context::decode(const std::vector<BatchEntry>& batch) {
  const HParams& hp = model_.hparams();
  const int n = int(batch.size());
  if (batch.empty()) fail("decode: empty batch");
  if (int64_t(batch.size()) > n_ctx_ * n_seq_)
    fail("decode: batch of ", batch.size(), " tokens is larger than the context (", n_ctx_, " x ", n_seq_, " seq)");
  // Validate everything first: nothing changes on a bad batch.
  std::vector<int64_t>& next = next_pos_;  // next expected position per sequence in this batch
  next.assign(n_seq_, -1);
  int n_out = 0;
  for (int i = 0; i < n; ++i) {
    const BatchEntry& b = batch[i];
    if (b.token < 0 || b.token >= hp.n_vocab)
      fail("decode: token id ", b.token, " at batch index ", i, " is out of range [0, ", hp.n_vocab, ")");
    if (b.seq < 0 || b.seq >= n_seq_)
      fail("decode: sequence id ", b.seq, " at batch index ", i, " is out of range [0, ", n_seq_, ")");
    int64_t expected = next[b.seq] >= 0 ? next[b.seq] : seq_len_[b.seq];
    const bool restart = next[b.seq] < 0 && b.pos == 0;
    if (b.pos != expected && !restart)
      fail("decode: sequence ", b.seq, " expects position ", expected, " at batch index ", i, ", got ", b.pos);
    if (b.pos >= n_ctx_)
      fail("decode: position ", b.pos, " of sequence ", b.seq, " is beyond the context size ", n_ctx_);
    next[b.seq] = b.pos + 1;
    n_out += b.logits ? 1 : 0;
  }
  // Restarts: a sequence whose first token in the batch is at position 0.
  std::vector<char>& seen = seen_;
  seen.assign(n_seq_, 0);
  for (const BatchEntry& b : batch) {
    if (seen[b.seq]) continue;
    seen[b.seq] = 1;
    if (b.pos == 0) seq_clear(b.seq);
  }
  if (logits_.size() < size_t(n_out) * size_t(hp.n_vocab)) logits_.resize(size_t(n_out) * size_t(hp.n_vocab));
  n_out_ = n_out;
  // Output slot of each entry (in batch order).
  std::vector<int>& out_slot = out_slot_;
  out_slot.assign(n, -1);
  for (int i = 0, k = 0; i < n; ++i)
    if (batch[i].logits) out_slot[i] = k++;

  // Group tokens of each sequence together (stable), then cut micro-batches.
  order_.resize(n);
  std::iota(order_.begin(), order_.end(), 0);
  std::stable_sort(order_.begin(), order_.end(), [&](int a, int b) { return batch[a].seq < batch[b].seq; });
  ub_tokens_.resize(std::min(n, n_batch_));
  for (int start = 0; start < n; start += n_batch_) {
    if (abort_fn_ && abort_fn_(abort_data_)) {
      n_out_ = 0;
      return false;
    }
    const int len = std::min(n_batch_, n - start);
    MicroBatch& ub = ub_;
    ub.segments.clear();
    ub.out_rows.clear();
    ub.out_logits.clear();
    ub.n = len;
    ub.tokens = ub_tokens_.data();
    for (int j = 0; j < len; ++j) {
      const BatchEntry& b = batch[order_[start + j]];
      ub_tokens_[j] = b.token;
      if (ub.segments.empty() || ub.segments.back().seq != b.seq)
        ub.segments.push_back(Segment{b.seq, j, 0, b.pos});
      ub.segments.back().len++;
      if (b.logits) {
        ub.out_rows.push_back(j);
        ub.out_logits.push_back(logits_.data() + size_t(out_slot[order_[start + j]]) * size_t(hp.n_vocab));
      }
    }
    if (!forward(model_, ub, *mem_, *ws_, *pool_, AbortCheck{abort_fn_, abort_data_})) {
      // The sequences of this micro-batch are half-updated: empty them.
      for (const Segment& s : ub.segments) seq_clear(s.seq);
      n_out_ = 0;
      return false;
    }
    for (const Segment& s : ub.segments) {
      seq_len_[s.seq] = s.pos0 + s.len;
      // gdn_layer kept the checkpoints of a segment this short
      const bool kept = s.len <= n_rollback_;
      ckpt_pos0_[s.seq] = s.pos0;
      ckpt_n_[s.seq] = kept ? s.len : 0;
    }
  }
  return true;
}

}  // namespace dllm
