// What the C API's implementation files share: the handle structs behind the
// opaque types of deltallm.h, and the error boundary (every entry point runs
// its body through guard(), which turns exceptions into status codes and the
// thread-local last-error message; nothing escapes into C).
#pragma once
#include <atomic>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "deltallm.h"
#include "formats/gguf.h"
#include "model/model.h"
#include "runtime/context.h"
#include "runtime/sampling.h"
#include "text/tokenizer.h"
#include "util/error.h"

struct deltallm_model {
  std::unique_ptr<dllm::GgufFile> own_file;  // vocab-only loads keep the file here
  std::unique_ptr<dllm::Model> model;        // null when vocab-only
  const dllm::GgufFile* file = nullptr;      // own_file or model->file()
  std::unique_ptr<dllm::Tokenizer> tok;      // null when the file has none (or a bad one)
  std::string tok_error;                     // why tok is null
  std::string arch, name, description, tok_model, pre;
  int32_t n_vocab = 0;                       // logits row length (0 when vocab-only)
  std::vector<uint8_t> blocked;              // [n_vocab]: never sampled (UNUSED or beyond the vocabulary)
  int32_t nl_token = -1;
  uint64_t fingerprint = 0;                  // identifies the model in sequence snapshots
  uint64_t n_params = 0;
  // deltallm_model_free's hold plus one per context, sampler and detokenizer
  // made from it: whichever lets go last frees the model.
  mutable std::atomic<int> holds{1};
};

namespace dllm::api {

// Frees the model when this was the last hold on it.
inline void release_model(const deltallm_model* m) {
  if (m && m->holds.fetch_sub(1, std::memory_order_acq_rel) == 1) delete m;
}

// A handle's hold on its model (the handle's first member, so that it is
// destroyed last: the handle's other parts may use the model until then).
class ModelHold {
 public:
  ModelHold() = default;
  ModelHold(const ModelHold&) = delete;
  ModelHold& operator=(const ModelHold&) = delete;
  ~ModelHold() { release_model(m_); }
  ModelHold& operator=(const deltallm_model* m) {
    if (m) m->holds.fetch_add(1, std::memory_order_relaxed);
    release_model(m_);
    m_ = m;
    return *this;
  }
  operator const deltallm_model*() const { return m_; }
  const deltallm_model* operator->() const { return m_; }
  const deltallm_model& operator*() const { return *m_; }

 private:
  const deltallm_model* m_ = nullptr;
};

}  // namespace dllm::api

struct deltallm_context {
  dllm::api::ModelHold model;
  std::unique_ptr<dllm::Context> ctx;
  dllm::KvType kv = dllm::KvType::F16;
  int32_t n_threads = 0;
  std::string plan;                          // memory plan text
  std::vector<dllm::BatchEntry> entries;     // decode scratch, reused
  std::vector<int64_t> next_pos;             // [n_seq] decode scratch
};

struct deltallm_sampler {
  dllm::api::ModelHold model;
  std::optional<dllm::Sampler> s;
};

struct deltallm_detokenizer {
  dllm::api::ModelHold model;
  std::optional<dllm::StreamDecoder> dec;
  std::string out;  // text handed out by the last push/flush
};

namespace dllm::api {

// Thrown inside API bodies to return a specific status.
class ApiError : public std::exception {
 public:
  ApiError(deltallm_status st, std::string msg) : status_(st), msg_(std::move(msg)) {}
  const char* what() const noexcept override { return msg_.c_str(); }
  deltallm_status status() const { return status_; }

 private:
  deltallm_status status_;
  std::string msg_;
};

template <class... Args>
[[noreturn]] void raise(deltallm_status st, const Args&... args) {
  throw ApiError(st, str_cat(args...));
}

std::string& last_error();  // this thread's message

// Runs body(); maps ApiError to its status, dllm::Error to `on_error`,
// bad_alloc to OUT_OF_MEMORY, anything else to INTERNAL. The message is
// prefixed with the function name.
template <class F>
deltallm_status guard(const char* fn, deltallm_status on_error, F&& body) noexcept {
  std::string& err = last_error();
  err.clear();
  deltallm_status st = DELTALLM_OK;
  try {
    body();
    return DELTALLM_OK;
  } catch (const ApiError& e) {
    st = e.status();
    err = e.what();
  } catch (const dllm::Error& e) {
    st = on_error;
    err = e.what();
  } catch (const std::bad_alloc&) {
    st = DELTALLM_ERR_OUT_OF_MEMORY;
    err = "out of memory";
  } catch (const std::exception& e) {
    st = DELTALLM_ERR_INTERNAL;
    err = std::string("internal error: ") + e.what();
  } catch (...) {
    st = DELTALLM_ERR_INTERNAL;
    err = "internal error: unknown exception";
  }
  try {
    err = std::string(fn) + ": " + err;
  } catch (...) {
  }
  return st;
}

template <class T>
void require(const T* p, const char* what) {
  if (!p) raise(DELTALLM_ERR_INVALID_ARGUMENT, what, " is NULL");
}

// A params struct from the caller: NULL gives the defaults; `size` must be
// one this library knows (in 0.1 only the full size). Never reads beyond the
// size the library knows.
template <class T>
T read_params(const T* p, const T& defaults, const char* what) {
  if (!p) return defaults;
  if (p->size != sizeof(T)) {
    if (p->size > sizeof(T))
      raise(DELTALLM_ERR_INVALID_ARGUMENT, what, " has size ", p->size, ", larger than this library knows (",
            sizeof(T), "): deltallm.h is newer than the library");
    raise(DELTALLM_ERR_INVALID_ARGUMENT, what, " has size ", p->size, ", expected ", sizeof(T),
          " (use the *_default_params() function)");
  }
  return *p;
}

// An info struct to fill: its size must be at least what this library
// writes; larger (a newer header) is fine, the extra fields are left alone.
template <class T>
void write_info(T* out, T value, const char* what) {
  require(out, what);
  if (out->size < sizeof(T))
    raise(DELTALLM_ERR_INVALID_ARGUMENT, what, "->size is ", out->size, ", expected at least ", sizeof(T),
          " (set it to sizeof the struct)");
  const size_t caller_size = out->size;
  value.size = caller_size;
  std::memcpy(static_cast<void*>(out), &value, sizeof(T));
}

// Buffer convention of deltallm.h for text: *len = size, NUL-terminated copy
// when it fits, BUFFER_TOO_SMALL otherwise.
void copy_text(const std::string& s, char* buf, size_t buf_size, size_t* len);
// For binary blobs (no NUL).
void copy_bytes(const std::vector<uint8_t>& b, void* buf, size_t buf_size, size_t* len);

// The int behind a C enum argument or field. C callers may pass any int; in
// C++ loading an enum outside its declared values is undefined (UBSan's
// -fsanitize=enum flags it), so the bytes are read as an int instead.
template <class E>
int enum_value(const E& e) {
  static_assert(sizeof(E) == sizeof(int), "C enums are int-sized");
  int v;
  std::memcpy(&v, &e, sizeof v);
  return v;
}

const deltallm_model& model_ref(const deltallm_model* m);
const Tokenizer& tokenizer_ref(const deltallm_model* m);
void check_token(const deltallm_model& m, int32_t token);  // against the tokenizer's vocabulary

// Validated engine parameters (INVALID_ARGUMENT naming the bad field).
ContextParams to_context_params(const deltallm_context_params& p);
// What a context with these parameters allocates.
deltallm_memory_info memory_for(const Model& m, const ContextParams& cp);
// Whether the chat template engine is built in.
bool chat_templates_available();

}  // namespace dllm::api
