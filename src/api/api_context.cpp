// Context calls: create, decode, logits, sequence operations and snapshots.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "api/api_internal.h"
#include "model/forward.h"
#include "util/log.h"
#include "util/thread_pool.h"

namespace dllm::api {
namespace {

// Snapshot layout (little-endian, as the machine): a 32-byte header, then
// the engine's sequence state (Context::seq_state).
constexpr char kSnapMagic[8] = {'D', 'L', 'L', 'M', 'S', 'E', 'Q', '\0'};
constexpr uint32_t kSnapVersion = 1;
constexpr size_t kSnapHeader = 32;  // magic[8] version u32, kv u32, fingerprint u64, payload bytes u64

int64_t effective_n_ctx(const HParams& hp, const ContextParams& cp) {
  return cp.n_ctx > 0 ? cp.n_ctx : std::min<int64_t>(hp.n_ctx_train, 4096);
}

// Per-sequence bytes, as the context lays them out (runtime/context.cpp):
// recurrent: per Gated DeltaNet layer (Kc-1)*CD conv floats + Hv*dk*dv state floats;
// KV: per attention layer K and V rows of n_head_kv*head_dim elements.
uint64_t recurrent_bytes_per_seq(const HParams& hp) {
  const uint64_t conv = uint64_t(hp.ssm_conv_kernel - 1) * uint64_t(hp.ssm_conv_dim());
  const uint64_t ssm = uint64_t(hp.ssm_hv) * uint64_t(hp.ssm_dk) * uint64_t(hp.ssm_dv());
  return uint64_t(hp.n_recurrent_layers()) * (conv + ssm) * 4;
}
uint64_t kv_bytes_per_seq(const HParams& hp, KvType kv, int64_t positions) {
  const uint64_t elem = kv == KvType::F16 ? 2 : 4;
  return uint64_t(hp.n_attention_layers()) * 2 * uint64_t(positions) * uint64_t(hp.n_head_kv) *
         uint64_t(hp.head_dim) * elem;
}

Context& ctx_ref(deltallm_context* c) {
  require(c, "ctx");
  return *c->ctx;
}
const Context& ctx_ref(const deltallm_context* c) {
  require(c, "ctx");
  return *c->ctx;
}

void check_seq(const Context& c, int32_t seq) {
  if (seq < 0 || seq >= c.n_seq())
    raise(DELTALLM_ERR_INVALID_ARGUMENT, "sequence id ", seq, " is out of range [0, ", c.n_seq(), ")");
}

std::vector<uint8_t> snapshot(const deltallm_context& c, int32_t seq) {
  check_seq(*c.ctx, seq);
  const std::vector<uint8_t> body = c.ctx->seq_state(seq);
  std::vector<uint8_t> out(kSnapHeader + body.size());
  const uint32_t kv = c.kv == KvType::F16 ? 0 : 1;
  const uint64_t payload = body.size();
  std::memcpy(out.data(), kSnapMagic, 8);
  std::memcpy(out.data() + 8, &kSnapVersion, 4);
  std::memcpy(out.data() + 12, &kv, 4);
  std::memcpy(out.data() + 16, &c.model->fingerprint, 8);
  std::memcpy(out.data() + 24, &payload, 8);
  std::memcpy(out.data() + kSnapHeader, body.data(), body.size());
  return out;
}

void restore(deltallm_context& c, int32_t seq, const uint8_t* data, size_t size) {
  check_seq(*c.ctx, seq);
  if (size < kSnapHeader || std::memcmp(data, kSnapMagic, 8) != 0)
    raise(DELTALLM_ERR_FORMAT, "not a deltallm sequence snapshot");
  uint32_t version, kv;
  uint64_t fp, payload;
  std::memcpy(&version, data + 8, 4);
  std::memcpy(&kv, data + 12, 4);
  std::memcpy(&fp, data + 16, 8);
  std::memcpy(&payload, data + 24, 8);
  if (version != kSnapVersion) raise(DELTALLM_ERR_FORMAT, "snapshot format version ", version, " is not supported");
  if (fp != c.model->fingerprint) raise(DELTALLM_ERR_FORMAT, "the snapshot was saved from another model");
  const uint32_t want_kv = c.kv == KvType::F16 ? 0 : 1;
  if (kv != want_kv)
    raise(DELTALLM_ERR_FORMAT, "the snapshot has a ", kv ? "f32" : "f16", " KV cache, this context ",
          want_kv ? "f32" : "f16");
  if (payload != size - kSnapHeader)
    raise(DELTALLM_ERR_FORMAT, "the snapshot is ", size, " bytes, its header says ", payload + kSnapHeader);
  c.ctx->seq_restore(seq, data + kSnapHeader, size_t(payload));  // checks length vs n_ctx and size
}

}  // namespace

ContextParams to_context_params(const deltallm_context_params& p) {
  ContextParams cp;
  if (p.n_ctx < 0 || p.n_ctx > (int64_t(1) << 24))
    raise(DELTALLM_ERR_INVALID_ARGUMENT, "n_ctx must be in 0..16777216 (got ", p.n_ctx, ")");
  if (p.n_seq < 1 || p.n_seq > 256) raise(DELTALLM_ERR_INVALID_ARGUMENT, "n_seq must be in 1..256 (got ", p.n_seq, ")");
  if (p.n_batch < 1) raise(DELTALLM_ERR_INVALID_ARGUMENT, "n_batch must be at least 1 (got ", p.n_batch, ")");
  if (p.n_threads < 0 || p.n_threads > 1024)
    raise(DELTALLM_ERR_INVALID_ARGUMENT, "n_threads must be in 0..1024 (got ", p.n_threads, ")");
  const int kv = enum_value(p.kv_type);
  if (kv != DELTALLM_KV_F16 && kv != DELTALLM_KV_F32)
    raise(DELTALLM_ERR_INVALID_ARGUMENT, "unknown kv_type ", kv);
  cp.n_ctx = p.n_ctx;
  cp.n_seq = p.n_seq;
  cp.n_batch = p.n_batch;
  cp.n_threads = p.n_threads;
  cp.kv_type = kv == DELTALLM_KV_F16 ? KvType::F16 : KvType::F32;
  if (p.n_rollback < 0 || p.n_rollback > p.n_batch)
    raise(DELTALLM_ERR_INVALID_ARGUMENT, "n_rollback must be in 0..n_batch (", p.n_batch, "), got ", p.n_rollback);
  cp.n_rollback = p.n_rollback;
  return cp;
}

deltallm_memory_info memory_for(const Model& m, const ContextParams& cp) {
  const HParams& hp = m.hparams();
  const int64_t n_ctx = effective_n_ctx(hp, cp);
  const int n_batch = int(std::min<int64_t>(cp.n_batch, n_ctx * cp.n_seq));
  const int threads = cp.n_threads > 0 ? cp.n_threads : ThreadPool::default_threads();
  deltallm_memory_info v;
  std::memset(&v, 0, sizeof v);
  v.weights = m.weight_bytes();
  v.kv_cache = kv_bytes_per_seq(hp, cp.kv_type, n_ctx) * uint64_t(cp.n_seq);
  v.recurrent_state = recurrent_bytes_per_seq(hp) * uint64_t(cp.n_seq);
  const uint64_t ckpt_per_seq = recurrent_bytes_per_seq(hp) * uint64_t(std::min(cp.n_rollback, n_batch));
  v.checkpoints = ckpt_per_seq * uint64_t(cp.n_seq);
  // The workspace's size depends on many shapes; build one to measure it.
  v.workspace = ForwardWorkspace(m, n_batch, n_ctx, threads).bytes();
  v.total = v.kv_cache + v.recurrent_state + v.checkpoints + v.workspace;
  v.state_per_seq = kv_bytes_per_seq(hp, cp.kv_type, n_ctx) + recurrent_bytes_per_seq(hp) + ckpt_per_seq;
  return v;
}

}  // namespace dllm::api

using namespace dllm;
using namespace dllm::api;

extern "C" {

deltallm_context_params deltallm_context_default_params(void) {
  deltallm_context_params p;
  std::memset(&p, 0, sizeof p);
  p.size = sizeof p;
  p.n_ctx = 0;
  p.n_seq = 1;
  p.n_batch = 512;
  p.n_threads = 0;
  p.kv_type = DELTALLM_KV_F16;
  p.abort_callback = nullptr;
  p.abort_user_data = nullptr;
  p.n_rollback = 0;
  return p;
}

deltallm_status deltallm_context_create(const deltallm_model* model, const deltallm_context_params* params,
                                        deltallm_context** out) {
  return guard("deltallm_context_create", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    const deltallm_model& m = model_ref(model);
    require(out, "out");
    const deltallm_context_params p = read_params(params, deltallm_context_default_params(), "params");
    if (!m.model) raise(DELTALLM_ERR_NOT_AVAILABLE, "the model was loaded vocab-only: no context can run it");
    const ContextParams cp = to_context_params(p);
    auto c = std::make_unique<deltallm_context>();
    c->model = &m;
    c->kv = cp.kv_type;
    c->ctx = std::make_unique<Context>(*m.model, cp);
    c->ctx->set_abort(p.abort_callback, p.abort_user_data);
    c->n_threads = c->ctx->n_threads();
    c->plan = c->ctx->memory_plan();
    log_msg(LogLevel::Debug, c->plan);
    c->entries.reserve(size_t(c->ctx->n_batch()));
    *out = c.release();
  });
}

void deltallm_context_free(deltallm_context* ctx) { delete ctx; }

deltallm_status deltallm_context_get_info(const deltallm_context* ctx, deltallm_context_info* info) {
  return guard("deltallm_context_get_info", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    const Context& c = ctx_ref(ctx);
    deltallm_context_info v;
    std::memset(&v, 0, sizeof v);
    v.n_ctx = c.n_ctx();
    v.n_seq = c.n_seq();
    v.n_batch = c.n_batch();
    v.n_threads = c.n_threads();
    v.kv_type = ctx->kv == KvType::F16 ? DELTALLM_KV_F16 : DELTALLM_KV_F32;
    v.n_vocab = ctx->model->n_vocab;
    v.n_rollback = c.n_rollback();
    write_info(info, v, "info");
  });
}

deltallm_status deltallm_context_get_memory(const deltallm_context* ctx, deltallm_memory_info* info) {
  return guard("deltallm_context_get_memory", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    const Context& c = ctx_ref(ctx);
    ContextParams cp;
    cp.n_ctx = c.n_ctx();
    cp.n_seq = c.n_seq();
    cp.n_batch = c.n_batch();
    cp.n_threads = c.n_threads();
    cp.kv_type = ctx->kv;
    cp.n_rollback = c.n_rollback();
    write_info(info, memory_for(*ctx->model->model, cp), "info");
  });
}

deltallm_status deltallm_context_memory_plan(const deltallm_context* ctx, const char** text) {
  return guard("deltallm_context_memory_plan", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    require(ctx, "ctx");
    require(text, "text");
    *text = ctx->plan.c_str();
  });
}

deltallm_status deltallm_context_set_abort_callback(deltallm_context* ctx, deltallm_abort_callback callback,
                                                    void* user_data) {
  return guard("deltallm_context_set_abort_callback", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    ctx_ref(ctx).set_abort(callback, user_data);
  });
}

deltallm_status deltallm_context_set_activation_callback(deltallm_context* ctx, deltallm_activation_callback callback,
                                                         void* user_data) {
  return guard("deltallm_context_set_activation_callback", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    dllm::ActivationObserver obs;
    obs.fn = callback;  // the same signature (int32_t is int here)
    obs.user = callback ? user_data : nullptr;
    ctx_ref(ctx).set_activation_observer(obs);
  });
}

deltallm_batch deltallm_batch_default_params(void) {
  deltallm_batch b;
  std::memset(&b, 0, sizeof b);
  b.size = sizeof b;
  return b;
}

deltallm_status deltallm_decode(deltallm_context* ctx, const deltallm_batch* batch) {
  return guard("deltallm_decode", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    Context& c = ctx_ref(ctx);
    require(batch, "batch");
    const deltallm_batch b = read_params(batch, deltallm_batch_default_params(), "batch");
    if (b.n_tokens <= 0) raise(DELTALLM_ERR_INVALID_ARGUMENT, "the batch has ", b.n_tokens, " tokens (need at least 1)");
    require(b.tokens, "batch->tokens");
    const int n = b.n_tokens;
    std::vector<BatchEntry>& e = ctx->entries;
    std::vector<int64_t>& next = ctx->next_pos;
    e.resize(size_t(n));
    next.assign(size_t(c.n_seq()), -1);
    for (int i = 0; i < n; ++i) {
      const int32_t seq = b.seq_ids ? b.seq_ids[i] : 0;
      if (seq < 0 || seq >= c.n_seq())
        raise(DELTALLM_ERR_INVALID_ARGUMENT, "sequence id ", seq, " at batch index ", i, " is out of range [0, ",
              c.n_seq(), ")");
      int64_t pos;
      if (b.pos) {
        pos = b.pos[i];
      } else {
        if (next[size_t(seq)] < 0) next[size_t(seq)] = c.seq_len(seq);
        pos = next[size_t(seq)]++;
      }
      if (pos < 0) raise(DELTALLM_ERR_INVALID_ARGUMENT, "position ", pos, " at batch index ", i, " is negative");
      if (pos >= c.n_ctx())
        raise(DELTALLM_ERR_CONTEXT_FULL, "position ", pos, " of sequence ", seq, " (batch index ", i,
              ") does not fit in the context (n_ctx ", c.n_ctx(), ")");
      e[size_t(i)] = BatchEntry{b.tokens[i], pos, seq, b.logits ? b.logits[i] != 0 : i == n - 1};
    }
    if (!c.decode(e)) raise(DELTALLM_ERR_ABORTED, "aborted by the abort callback");
  });
}

deltallm_status deltallm_get_logits(const deltallm_context* ctx, int32_t i, const float** logits) {
  return guard("deltallm_get_logits", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    const Context& c = ctx_ref(ctx);
    require(logits, "logits");
    if (c.n_logits() == 0) raise(DELTALLM_ERR_INVALID_ARGUMENT, "no logits: the last decode produced none");
    const int row = i == -1 ? c.n_logits() - 1 : i;
    if (row < 0 || row >= c.n_logits())
      raise(DELTALLM_ERR_INVALID_ARGUMENT, "logits row ", i, " is out of range [0, ", c.n_logits(), ")");
    *logits = c.logits(row);
  });
}

deltallm_status deltallm_get_n_logits(const deltallm_context* ctx, int32_t* n) {
  return guard("deltallm_get_n_logits", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    const Context& c = ctx_ref(ctx);
    require(n, "n");
    *n = c.n_logits();
  });
}

deltallm_status deltallm_seq_length(const deltallm_context* ctx, int32_t seq, int64_t* len) {
  return guard("deltallm_seq_length", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    const Context& c = ctx_ref(ctx);
    require(len, "len");
    check_seq(c, seq);
    *len = c.seq_len(seq);
  });
}

deltallm_status deltallm_seq_clear(deltallm_context* ctx, int32_t seq) {
  return guard("deltallm_seq_clear", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    Context& c = ctx_ref(ctx);
    if (seq != -1) check_seq(c, seq);
    c.seq_clear(seq);
  });
}

deltallm_status deltallm_seq_copy(deltallm_context* ctx, int32_t src, int32_t dst) {
  return guard("deltallm_seq_copy", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    Context& c = ctx_ref(ctx);
    check_seq(c, src);
    check_seq(c, dst);
    c.seq_copy(src, dst);
  });
}

deltallm_status deltallm_seq_keep(deltallm_context* ctx, int32_t seq) {
  return guard("deltallm_seq_keep", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    Context& c = ctx_ref(ctx);
    check_seq(c, seq);
    for (int s = 0; s < c.n_seq(); ++s)
      if (s != seq) c.seq_clear(s);
  });
}

deltallm_status deltallm_seq_rollback(deltallm_context* ctx, int32_t seq, int64_t len) {
  return guard("deltallm_seq_rollback", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    Context& c = ctx_ref(ctx);
    check_seq(c, seq);
    const int64_t cur = c.seq_len(seq);
    if (len < 0 || len > cur)
      raise(DELTALLM_ERR_INVALID_ARGUMENT, "sequence ", seq, " holds ", cur, " positions, cannot keep ", len);
    const auto [first, last] = c.rollback_range(seq);
    if (len != 0 && len != cur && (len < first || len > last)) {
      if (first > last)
        raise(DELTALLM_ERR_NOT_AVAILABLE, "sequence ", seq, " has no checkpoints to roll back to length ", len,
              " (n_rollback = ", c.n_rollback(), "; they cover the last batch when it brought at most that many ",
              "tokens of the sequence)");
      raise(DELTALLM_ERR_NOT_AVAILABLE, "sequence ", seq, " can be rolled back to lengths ", first, "..", last,
            " (or 0) only, not ", len);
    }
    c.seq_rollback(seq, len);
  });
}

deltallm_status deltallm_seq_state_size(const deltallm_context* ctx, int32_t seq, size_t* size) {
  return guard("deltallm_seq_state_size", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    const Context& c = ctx_ref(ctx);
    require(size, "size");
    check_seq(c, seq);
    const HParams& hp = ctx->model->model->hparams();
    // header + the engine's 8-byte length + recurrent + KV rows up to the length
    *size = kSnapHeader + 8 + size_t(recurrent_bytes_per_seq(hp) + kv_bytes_per_seq(hp, ctx->kv, c.seq_len(seq)));
  });
}

deltallm_status deltallm_seq_state_save(const deltallm_context* ctx, int32_t seq, void* buf, size_t buf_size,
                                        size_t* len) {
  return guard("deltallm_seq_state_save", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    ctx_ref(ctx);
    require(len, "len");
    copy_bytes(snapshot(*ctx, seq), buf, buf_size, len);
  });
}

deltallm_status deltallm_seq_state_load(deltallm_context* ctx, int32_t seq, const void* buf, size_t size) {
  return guard("deltallm_seq_state_load", DELTALLM_ERR_FORMAT, [&] {
    ctx_ref(ctx);
    require(buf, "buf");
    restore(*ctx, seq, static_cast<const uint8_t*>(buf), size);
  });
}

deltallm_status deltallm_seq_state_save_file(const deltallm_context* ctx, int32_t seq, const char* path) {
  return guard("deltallm_seq_state_save_file", DELTALLM_ERR_IO, [&] {
    ctx_ref(ctx);
    require(path, "path");
    const std::vector<uint8_t> data = snapshot(*ctx, seq);
    const std::string tmp = str_cat(path, ".tmp.", ::getpid());
    {
      std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
      if (!f) raise(DELTALLM_ERR_IO, "cannot create '", tmp, "': ", std::strerror(errno));
      f.write(reinterpret_cast<const char*>(data.data()), std::streamsize(data.size()));
      f.flush();
      if (!f) {
        std::remove(tmp.c_str());
        raise(DELTALLM_ERR_IO, "cannot write '", tmp, "'");
      }
    }
    if (std::rename(tmp.c_str(), path) != 0) {
      const int err = errno;
      std::remove(tmp.c_str());
      raise(DELTALLM_ERR_IO, "cannot rename '", tmp, "' to '", path, "': ", std::strerror(err));
    }
  });
}

deltallm_status deltallm_seq_state_load_file(deltallm_context* ctx, int32_t seq, const char* path) {
  return guard("deltallm_seq_state_load_file", DELTALLM_ERR_FORMAT, [&] {
    Context& c = ctx_ref(ctx);
    require(path, "path");
    check_seq(c, seq);
    std::ifstream f(path, std::ios::binary);
    if (!f) raise(DELTALLM_ERR_IO, "cannot open '", path, "': ", std::strerror(errno));
    std::vector<uint8_t> data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (f.bad()) raise(DELTALLM_ERR_IO, "cannot read '", path, "'");
    restore(*ctx, seq, data.data(), data.size());
  });
}

// Checkpoint layout: a 32-byte header (magic[8], version u32, reserved u32,
// model fingerprint u64, length u64), then the recurrent + conv floats.
namespace {
constexpr char kCkptMagic[8] = {'D', 'L', 'L', 'M', 'C', 'K', 'P', 'T'};
constexpr uint32_t kCkptVersion = 1;
constexpr size_t kCkptHeader = 32;

int64_t checkpoint_header(const uint8_t* data, size_t size, uint64_t* fingerprint) {
  if (size < kCkptHeader || std::memcmp(data, kCkptMagic, 8) != 0)
    raise(DELTALLM_ERR_FORMAT, "not a deltallm sequence checkpoint");
  uint32_t version;
  uint64_t len;
  std::memcpy(&version, data + 8, 4);
  std::memcpy(fingerprint, data + 16, 8);
  std::memcpy(&len, data + 24, 8);
  if (version != kCkptVersion) raise(DELTALLM_ERR_FORMAT, "checkpoint format version ", version, " is not supported");
  if (len > (uint64_t(1) << 40)) raise(DELTALLM_ERR_FORMAT, "checkpoint length ", len, " is not plausible");
  return int64_t(len);
}
}  // namespace

deltallm_status deltallm_seq_checkpoint_size(const deltallm_context* ctx, size_t* size) {
  return guard("deltallm_seq_checkpoint_size", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    const Context& c = ctx_ref(ctx);
    require(size, "size");
    *size = kCkptHeader + c.recurrent_state_bytes();
  });
}

deltallm_status deltallm_seq_checkpoint_save(const deltallm_context* ctx, int32_t seq, void* buf, size_t buf_size,
                                             size_t* len) {
  return guard("deltallm_seq_checkpoint_save", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    const Context& c = ctx_ref(ctx);
    require(len, "len");
    check_seq(c, seq);
    const size_t need = kCkptHeader + c.recurrent_state_bytes();
    *len = need;
    if (!buf || buf_size < need)
      raise(DELTALLM_ERR_BUFFER_TOO_SMALL, "the checkpoint needs ", need, " bytes, the buffer has ", buf_size);
    // Written in place: a server takes these in its token loop.
    uint8_t* out = static_cast<uint8_t*>(buf);
    const uint32_t reserved = 0;
    const uint64_t length = uint64_t(c.seq_len(seq));
    std::memcpy(out, kCkptMagic, 8);
    std::memcpy(out + 8, &kCkptVersion, 4);
    std::memcpy(out + 12, &reserved, 4);
    std::memcpy(out + 16, &ctx->model->fingerprint, 8);
    std::memcpy(out + 24, &length, 8);
    c.seq_save_recurrent(seq, out + kCkptHeader);
  });
}

deltallm_status deltallm_seq_checkpoint_length(const void* buf, size_t size, int64_t* len) {
  return guard("deltallm_seq_checkpoint_length", DELTALLM_ERR_FORMAT, [&] {
    require(buf, "buf");
    require(len, "len");
    uint64_t fp;
    *len = checkpoint_header(static_cast<const uint8_t*>(buf), size, &fp);
  });
}

deltallm_status deltallm_seq_checkpoint_restore(deltallm_context* ctx, int32_t seq, const void* buf, size_t size) {
  return guard("deltallm_seq_checkpoint_restore", DELTALLM_ERR_FORMAT, [&] {
    Context& c = ctx_ref(ctx);
    require(buf, "buf");
    check_seq(c, seq);
    const uint8_t* data = static_cast<const uint8_t*>(buf);
    uint64_t fp;
    const int64_t len = checkpoint_header(data, size, &fp);
    if (fp != ctx->model->fingerprint) raise(DELTALLM_ERR_FORMAT, "the checkpoint was taken from another model");
    if (size != kCkptHeader + c.recurrent_state_bytes())
      raise(DELTALLM_ERR_FORMAT, "the checkpoint is ", size, " bytes, this model's are ",
            kCkptHeader + c.recurrent_state_bytes());
    if (len > c.seq_len(seq))
      raise(DELTALLM_ERR_INVALID_ARGUMENT, "the checkpoint was taken at length ", len, ", sequence ", seq,
            " holds only ", c.seq_len(seq), " positions (its KV rows must still be there)");
    c.seq_restore_recurrent(seq, data + kCkptHeader, len);
  });
}

}  // extern "C"
