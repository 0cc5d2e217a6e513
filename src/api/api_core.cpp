// Library-level calls: version, status strings, the per-thread last error,
// capabilities, logging; and the helpers every API file uses.
#include "api/api_internal.h"
#include "util/cpu.h"
#include "util/log.h"
#include "util/thread_pool.h"

namespace dllm::api {

std::string& last_error() {
  thread_local std::string msg;
  return msg;
}

void copy_text(const std::string& s, char* buf, size_t buf_size, size_t* len) {
  require(len, "len");
  if (!buf && buf_size) raise(DELTALLM_ERR_INVALID_ARGUMENT, "buf is NULL but buf_size is ", buf_size);
  *len = s.size();
  if (buf_size < s.size() + 1)
    raise(DELTALLM_ERR_BUFFER_TOO_SMALL, "the text needs ", s.size() + 1, " bytes with its NUL, the buffer has ",
          buf_size);
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
}

void copy_bytes(const std::vector<uint8_t>& b, void* buf, size_t buf_size, size_t* len) {
  require(len, "len");
  if (!buf && buf_size) raise(DELTALLM_ERR_INVALID_ARGUMENT, "buf is NULL but buf_size is ", buf_size);
  *len = b.size();
  if (buf_size < b.size())
    raise(DELTALLM_ERR_BUFFER_TOO_SMALL, "the data needs ", b.size(), " bytes, the buffer has ", buf_size);
  if (!b.empty()) std::memcpy(buf, b.data(), b.size());
}

const deltallm_model& model_ref(const deltallm_model* m) {
  require(m, "model");
  return *m;
}

const Tokenizer& tokenizer_ref(const deltallm_model* m) {
  const deltallm_model& mm = model_ref(m);
  if (!mm.tok) {
    if (mm.tok_error.empty()) raise(DELTALLM_ERR_NOT_AVAILABLE, "the model file has no tokenizer");
    raise(DELTALLM_ERR_NOT_AVAILABLE, "the model's tokenizer could not be loaded: ", mm.tok_error);
  }
  return *mm.tok;
}

void check_token(const deltallm_model& m, int32_t token) {
  const int32_t n = m.tok ? m.tok->n_vocab() : m.n_vocab;
  if (token < 0 || token >= n)
    raise(DELTALLM_ERR_INVALID_ARGUMENT, "token id ", token, " is out of range [0, ", n, ")");
}

}  // namespace dllm::api

using namespace dllm::api;

extern "C" {

const char* deltallm_version(void) { return "0.1.0"; }

int32_t deltallm_abi_version(void) { return DELTALLM_ABI_VERSION; }

const char* deltallm_status_string(deltallm_status status) {
  switch (enum_value(status)) {
    case DELTALLM_OK: return "ok";
    case DELTALLM_ERR_INVALID_ARGUMENT: return "invalid argument";
    case DELTALLM_ERR_IO: return "I/O error";
    case DELTALLM_ERR_FORMAT: return "bad or unsupported file contents";
    case DELTALLM_ERR_OUT_OF_MEMORY: return "out of memory";
    case DELTALLM_ERR_CANCELLED: return "cancelled";
    case DELTALLM_ERR_ABORTED: return "aborted";
    case DELTALLM_ERR_BUFFER_TOO_SMALL: return "buffer too small";
    case DELTALLM_ERR_NOT_AVAILABLE: return "not available";
    case DELTALLM_ERR_CONTEXT_FULL: return "context full";
    case DELTALLM_ERR_INTERNAL: return "internal error";
  }
  return "unknown status";
}

const char* deltallm_last_error(void) { return last_error().c_str(); }

int64_t deltallm_capability_value(deltallm_capability cap) {
  const dllm::CpuFeatures& f = dllm::cpu_features();
  switch (enum_value(cap)) {
    case DELTALLM_CAP_HARDWARE_THREADS: return dllm::ThreadPool::default_threads();
    case DELTALLM_CAP_AVX2: return f.avx2 ? 1 : 0;
    case DELTALLM_CAP_AVX512: return f.avx512 ? 1 : 0;
    case DELTALLM_CAP_AVX512_VNNI: return f.avx512_vnni ? 1 : 0;
    case DELTALLM_CAP_AVX512_BF16: return f.avx512_bf16 ? 1 : 0;
    case DELTALLM_CAP_MMAP: return 1;
    case DELTALLM_CAP_CHAT_TEMPLATES: return dllm::api::chat_templates_available() ? 1 : 0;
    case DELTALLM_CAP_STATE_FILES: return 1;
    case DELTALLM_CAP_MAX_SEQUENCES: return 256;  // Context's limit
    case DELTALLM_CAP_GPU: return 0;
  }
  return -1;
}

const char* deltallm_supported_architectures(void) { return "qwen35,qwen35moe,qwen3next"; }

void deltallm_set_log_callback(deltallm_log_callback callback, void* user_data) {
  // The C callback type is the engine's own (int level, text, user_data).
  dllm::set_log_callback(callback, user_data);
}

deltallm_status deltallm_set_log_level(deltallm_log_level level) {
  return guard("deltallm_set_log_level", DELTALLM_ERR_INVALID_ARGUMENT, [&] {
    const int l = enum_value(level);
    if (l < DELTALLM_LOG_DEBUG || l > DELTALLM_LOG_ERROR)
      raise(DELTALLM_ERR_INVALID_ARGUMENT, "unknown log level ", l, " (expected 0..3)");
    dllm::set_log_level(dllm::LogLevel(l));
  });
}

}  // extern "C"
