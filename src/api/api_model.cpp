// Model calls: load (with progress and cancel), info, metadata, memory needed.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "api/api_internal.h"
#include "formats/gguf_json.h"
#include "model/forward.h"
#include "util/log.h"
#include "util/sysmem.h"
#include "util/thread_pool.h"

namespace dllm::api {
namespace {

// FNV-1a: identifies a model in sequence snapshots.
struct Fnv {
  uint64_t h = 1469598103934665603ull;
  void add(const void* p, size_t n) {
    const uint8_t* b = static_cast<const uint8_t*>(p);
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  }
  void add(const std::string& s) {
    add(s.data(), s.size());
    add_u64(s.size());
  }
  void add_u64(uint64_t v) { add(&v, sizeof v); }
};

// Shapes, types and the first bytes of every tensor: two files with the same
// architecture but other weights (another seed, another quantization) differ.
uint64_t fingerprint(const GgufFile& f) {
  Fnv h;
  h.add(f.get_str("general.architecture").value_or(""));
  h.add_u64(f.tensors().size());
  for (const GgufTensorInfo& t : f.tensors()) {
    h.add(t.name);
    h.add_u64(t.type);
    for (int64_t d : t.ne) h.add_u64(uint64_t(d));
    h.add(f.tensor_data(t), size_t(std::min<uint64_t>(t.nbytes, 64)));
  }
  return h.h;
}

// Reads one byte per page of the tensor data so the progress callback sees
// real loading work; stops as soon as the callback says so.
void touch_weights(const GgufFile& f, const deltallm_model_params& p, float from, float to) {
  uint64_t total = 0, done = 0;  // tensor data bytes of all the files of a split model
  for (size_t i = 0; i < f.shard_count(); ++i)
    total += f.shard(i).file_size() - std::min(f.shard(i).file_size(), f.shard(i).data_offset());
  if (total == 0) return;
  const uint64_t step = 16ull << 20;  // call back every 16 MiB
  volatile uint8_t sink = 0;
  for (size_t i = 0; i < f.shard_count(); ++i) {
    const GgufFile& s = f.shard(i);
    const uint64_t begin = s.data_offset(), end = s.file_size();
    for (uint64_t off = begin; off < end; off += step) {
      const uint64_t stop = std::min(end, off + step);
      uint8_t acc = 0;
      for (uint64_t q = off; q < stop; q += 4096) acc ^= s.base()[q];
      sink = sink ^ acc;
      done += stop - off;
      const float frac = from + (to - from) * float(double(done) / double(total));
      if (!p.progress_callback(frac, p.progress_user_data))
        raise(DELTALLM_ERR_CANCELLED, "loading cancelled by the progress callback");
    }
  }
  (void)sink;
}

// The tensors read into memory: all but an untied token embedding, which
// only ever has single rows gathered from it.
bool copied_tensor(const GgufFile& f, const GgufTensorInfo& t) {
  return !(t.name == "token_embd.weight" && f.find_tensor("output.weight"));
}

bool copy_weights(const deltallm_model_params& p, const GgufFile& f) {
  if (p.weight_memory == DELTALLM_WEIGHTS_MMAP) return false;
  if (p.weight_memory == DELTALLM_WEIGHTS_COPY) return true;
  if (!transparent_huge_pages_offered()) return false;  // the copy would gain nothing
  uint64_t bytes = 0;
  for (const GgufTensorInfo& t : f.tensors())
    if (copied_tensor(f, t)) bytes += t.nbytes;
  const uint64_t avail = mem_available_bytes();
  if (avail == 0 || double(bytes) > 0.8 * double(avail)) {
    log_info(str_cat("weights: ", bytes >> 20, " MiB do not fit in 80% of the ", avail >> 20,
                     " MiB available; mapping the file instead of copying it (slower decode)"));
    return false;
  }
  return true;
}

void report(const deltallm_model_params& p, float frac) {
  if (p.progress_callback && !p.progress_callback(frac, p.progress_user_data))
    raise(DELTALLM_ERR_CANCELLED, "loading cancelled by the progress callback");
}

void check_readable(const char* path) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) raise(DELTALLM_ERR_IO, "cannot open '", path, "': ", std::strerror(errno));
  struct stat st {};
  const int rc = ::fstat(fd, &st);
  const int err = errno;
  ::close(fd);
  if (rc != 0) raise(DELTALLM_ERR_IO, "cannot stat '", path, "': ", std::strerror(err));
  if (S_ISDIR(st.st_mode)) raise(DELTALLM_ERR_IO, "'", path, "' is a directory");
}

void setup_vocab(deltallm_model& m) {
  const GgufFile& f = *m.file;
  if (f.find("tokenizer.ggml.model")) {
    try {
      m.tok = Tokenizer::from_gguf(f);
    } catch (const Error& e) {
      m.tok_error = e.what();
      log_warn(str_cat("tokenizer unavailable: ", e.what()));
    }
  }
  m.tok_model = f.get_str("tokenizer.ggml.model").value_or("");
  m.pre = f.get_str("tokenizer.ggml.pre").value_or("");
  if (m.n_vocab <= 0) return;
  m.blocked.assign(size_t(m.n_vocab), 0);
  if (m.tok) {
    for (int32_t i = 0; i < m.n_vocab; ++i)
      m.blocked[size_t(i)] = i >= m.tok->n_vocab() || m.tok->token_type(i) == TokenType::Unused;
    try {
      const std::vector<int32_t> nl = m.tok->encode("\n", false);
      if (nl.size() == 1) m.nl_token = nl[0];
    } catch (const Error&) {
    }
  } else if (const GgufValue* tt = f.find("tokenizer.ggml.token_type"); tt && tt->type == GgufType::ARRAY) {
    for (size_t i = 0; i < tt->items.size() && i < m.blocked.size(); ++i)
      m.blocked[i] = tt->items[i].as_int().value_or(0) == int64_t(TokenType::Unused);
  }
}

}  // namespace
}  // namespace dllm::api

using namespace dllm;
using namespace dllm::api;

extern "C" {

deltallm_model_params deltallm_model_default_params(void) {
  deltallm_model_params p;
  std::memset(&p, 0, sizeof p);
  p.size = sizeof p;
  p.progress_callback = nullptr;
  p.progress_user_data = nullptr;
  p.vocab_only = false;
  p.weight_memory = DELTALLM_WEIGHTS_AUTO;
  return p;
}

deltallm_status deltallm_model_load(const char* path, const deltallm_model_params* params, deltallm_model** out) {
  return guard("deltallm_model_load", DELTALLM_ERR_FORMAT, [&] {
    require(path, "path");
    require(out, "out");
    const deltallm_model_params p = read_params(params, deltallm_model_default_params(), "params");
    if (p.weight_memory < DELTALLM_WEIGHTS_AUTO || p.weight_memory > DELTALLM_WEIGHTS_COPY)
      raise(DELTALLM_ERR_INVALID_ARGUMENT, "params.weight_memory is ", p.weight_memory,
            ", expected 0 (AUTO), 1 (MMAP) or 2 (COPY)");
    check_readable(path);
    report(p, 0.0f);
    std::unique_ptr<GgufFile> file = GgufFile::open(path);
    report(p, 0.02f);
    auto m = std::make_unique<deltallm_model>();
    if (p.vocab_only) {
      m->own_file = std::move(file);
      m->file = m->own_file.get();
    } else {
      if (copy_weights(p, *file)) {
        const GgufFile& f = *file;
        try {
          file->copy_tensors_to_memory([&f](const GgufTensorInfo& t) { return copied_tensor(f, t); },
                                       [&p](uint64_t done, uint64_t total) {
                                         report(p, 0.02f + 0.93f * float(double(done) / double(total)));
                                       });
        } catch (const Error& e) {
          raise(DELTALLM_ERR_IO, e.what());
        }
      } else if (p.progress_callback) {
        touch_weights(*file, p, 0.02f, 0.95f);
      }
      m->model = Model::from_file(std::move(file));
      m->file = &m->model->file();
      m->n_vocab = int32_t(m->model->hparams().n_vocab);
    }
    const GgufFile& f = *m->file;
    m->arch = f.get_str("general.architecture").value_or("");
    m->name = f.get_str("general.name").value_or("");
    for (const GgufTensorInfo& t : f.tensors()) m->n_params += uint64_t(t.n_elements());
    m->fingerprint = fingerprint(f);
    setup_vocab(*m);
    if (m->model)
      m->description = m->model->describe();
    else
      m->description = str_cat("vocab only: ", m->arch.empty() ? "no architecture" : m->arch, ", ",
                               m->tok ? m->tok->n_vocab() : 0, " tokens");
    report(p, 1.0f);
    *out = m.release();
  });
}

void deltallm_model_free(deltallm_model* model) { release_model(model); }

deltallm_status deltallm_model_get_info(const deltallm_model* model, deltallm_model_info* info) {
  return guard("deltallm_model_get_info", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    const deltallm_model& m = model_ref(model);
    deltallm_model_info v;
    std::memset(&v, 0, sizeof v);
    v.architecture = m.arch.c_str();
    v.name = m.name.c_str();
    v.description = m.description.c_str();
    v.vocab_only = !m.model;
    v.n_params = m.n_params;
    v.file_size = m.file->total_file_size();
    if (m.model) {
      const HParams& hp = m.model->hparams();
      v.n_vocab = m.n_vocab;
      v.n_ctx_train = hp.n_ctx_train;
      v.n_embd = hp.n_embd;
      v.n_layer = hp.n_layer_main;
      v.n_layer_mtp = hp.n_layer_mtp;
      v.n_recurrent_layers = hp.n_recurrent_layers();
      v.n_attention_layers = hp.n_attention_layers();
      v.n_head = hp.n_head;
      v.n_head_kv = hp.n_head_kv;
      v.head_dim = hp.head_dim;
      v.n_expert = hp.n_expert;
      v.n_expert_used = hp.n_expert_used;
      v.weight_bytes = m.model->weight_bytes();
      v.bytes_per_token = m.model->bytes_per_token();
    }
    write_info(info, v, "info");
  });
}

deltallm_status deltallm_model_meta_count(const deltallm_model* model, int32_t* count) {
  return guard("deltallm_model_meta_count", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    const deltallm_model& m = model_ref(model);
    require(count, "count");
    *count = int32_t(m.file->metadata().size());
  });
}

deltallm_status deltallm_model_meta_key(const deltallm_model* model, int32_t i, const char** key) {
  return guard("deltallm_model_meta_key", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    const deltallm_model& m = model_ref(model);
    require(key, "key");
    const auto& kv = m.file->metadata();
    if (i < 0 || size_t(i) >= kv.size())
      raise(DELTALLM_ERR_INVALID_ARGUMENT, "index ", i, " is out of range [0, ", kv.size(), ")");
    *key = kv[size_t(i)].key.c_str();
  });
}

deltallm_status deltallm_model_meta_value(const deltallm_model* model, const char* key, char* buf, size_t buf_size,
                                          size_t* len) {
  return guard("deltallm_model_meta_value", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    const deltallm_model& m = model_ref(model);
    require(key, "key");
    require(len, "len");
    const GgufValue* v = m.file->find(key);
    if (!v) raise(DELTALLM_ERR_NOT_AVAILABLE, "no metadata key '", key, "'");
    std::string text;
    if (v->type == GgufType::STRING)
      text = v->s;
    else if (v->type == GgufType::BOOL)
      text = v->u ? "true" : "false";
    else
      text = gguf_value_json(*v).dump();
    copy_text(text, buf, buf_size, len);
  });
}

deltallm_status deltallm_model_memory_needed(const deltallm_model* model, const deltallm_context_params* params,
                                             deltallm_memory_info* info) {
  return guard("deltallm_model_memory_needed", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    const deltallm_model& m = model_ref(model);
    const deltallm_context_params p = read_params(params, deltallm_context_default_params(), "params");
    if (!m.model) raise(DELTALLM_ERR_NOT_AVAILABLE, "the model was loaded vocab-only");
    write_info(info, memory_for(*m.model, to_context_params(p)), "info");
  });
}

}  // extern "C"
