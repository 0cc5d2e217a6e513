/*
 * deltallm.h — the C API of deltallm, a CPU inference engine for the GGUF
 * architectures qwen35, qwen35moe and qwen3next (hybrid Gated DeltaNet).
 *
 * Plain C11 (also valid C++); every symbol starts with deltallm_ / DELTALLM_.
 *
 * ---------------------------------------------------------------------------
 * Conventions that hold for every function below unless its comment says
 * otherwise:
 *
 * Errors. Every call that can fail returns a deltallm_status; DELTALLM_OK is
 *   0. On failure, deltallm_last_error() returns one line saying what was
 *   wrong. No call aborts or exits on bad input: NULL handles, NULL output
 *   pointers, structs with a wrong `size`, out-of-range ids and the like give
 *   DELTALLM_ERR_INVALID_ARGUMENT. Output parameters are left untouched on
 *   failure unless the comment says otherwise (buffer queries report the size
 *   they need).
 *
 * Structs with a leading `size`. Parameter structs (deltallm_*_params,
 *   deltallm_batch) are obtained from their deltallm_*_default_params()
 *   function, which sets `size` to the size this header knows; change the
 *   fields you need and pass a pointer. Information structs
 *   (deltallm_*_info) are filled by the library: set `size = sizeof(info)`
 *   before the call. New fields are only ever appended: a newer library
 *   accepts the sizes of older headers; an older library rejects params
 *   structs larger than it knows (INVALID_ARGUMENT) and leaves the fields of
 *   info structs it does not know untouched.
 *
 * Strings. Input strings are UTF-8 and NUL-terminated unless a length is
 *   given. Returned `const char*` are owned by the object named in the
 *   comment and stay valid as long as it says; never free them.
 *
 * Buffers. Functions that write text or arrays take (buf, buf_size, *len):
 *   *len receives the full length (bytes or elements, without the NUL); if
 *   it does not fit, the call returns DELTALLM_ERR_BUFFER_TOO_SMALL, writes
 *   nothing useful to buf and still sets *len, so you can call with
 *   buf = NULL, buf_size = 0 to ask for the size. Text buffers are
 *   NUL-terminated when they fit, so text needs buf_size >= *len + 1.
 *
 * Threads. A deltallm_model is immutable after loading: any number of
 *   threads may use one model at once (tokenize, detokenize, templates,
 *   info, creating contexts). A deltallm_context, deltallm_sampler or
 *   deltallm_detokenizer must be used by one thread at a time (different
 *   objects may be used from different threads concurrently). The last
 *   error message is per thread. The log callback and log level are global.
 *
 * Lifetimes. A model must outlive every context, sampler and detokenizer
 *   made from it. The *_free functions accept NULL.
 * ---------------------------------------------------------------------------
 */
#ifndef DELTALLM_H
#define DELTALLM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define DELTALLM_API
#elif defined(__GNUC__) || defined(__clang__)
#define DELTALLM_API __attribute__((visibility("default")))
#else
#define DELTALLM_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ========================================================================
 * Version, status codes, errors, capabilities, logging
 * ======================================================================== */

#define DELTALLM_VERSION_MAJOR 0
#define DELTALLM_VERSION_MINOR 1
#define DELTALLM_VERSION_PATCH 0

typedef enum deltallm_status {
  DELTALLM_OK = 0,
  DELTALLM_ERR_INVALID_ARGUMENT = 1, /* NULL handle/pointer, wrong size, bad id, bad value */
  DELTALLM_ERR_IO = 2,               /* a file cannot be opened, read or written */
  DELTALLM_ERR_FORMAT = 3,           /* a file's contents are bad or unsupported */
  DELTALLM_ERR_OUT_OF_MEMORY = 4,
  DELTALLM_ERR_CANCELLED = 5,        /* the progress callback asked to stop */
  DELTALLM_ERR_ABORTED = 6,          /* the abort callback asked to stop */
  DELTALLM_ERR_BUFFER_TOO_SMALL = 7, /* *len says how much is needed */
  DELTALLM_ERR_NOT_AVAILABLE = 8,    /* no such thing here: no tokenizer, no template, no key, vocab-only model */
  DELTALLM_ERR_CONTEXT_FULL = 9,     /* a position would not fit in the context */
  DELTALLM_ERR_INTERNAL = 10         /* a bug: please report the message */
} deltallm_status;

/* The binary interface's version: bumped on any change that breaks a caller
 * built against an older header (a struct's layout, a function's signature
 * or meaning). Bindings compare deltallm_abi_version() of the library they
 * load with the DELTALLM_ABI_VERSION they were written for and refuse a
 * mismatch with a clear error. */
#define DELTALLM_ABI_VERSION 1

/* "0.1.0". Static string. Thread-safe. Never fails. */
DELTALLM_API const char* deltallm_version(void);

/* DELTALLM_ABI_VERSION of the library itself. Thread-safe. Never fails. */
DELTALLM_API int32_t deltallm_abi_version(void);

/* A short English name of a status ("invalid argument", ...). Static string;
 * an unknown value gives "unknown status". Thread-safe. Never fails. */
DELTALLM_API const char* deltallm_status_string(deltallm_status status);

/* The message of the last failed call on this thread: one line that starts
 * with the failed function's name and ": " ("deltallm_model_load: cannot
 * open ..."), "" when the last call that returns a status succeeded (every
 * such call resets it).
 * Owned by the library, valid until the next deltallm_ call on this thread.
 * Thread-safe (per-thread). Never fails, never NULL. */
DELTALLM_API const char* deltallm_last_error(void);

/* Capability queries: facts about this build and this machine, never about a
 * model. */
typedef enum deltallm_capability {
  DELTALLM_CAP_HARDWARE_THREADS = 1, /* threads a context uses by default */
  DELTALLM_CAP_AVX2 = 2,             /* 1 when AVX2+FMA kernels are in use */
  DELTALLM_CAP_AVX512 = 3,           /* 1 when AVX-512 kernels are in use */
  DELTALLM_CAP_AVX512_VNNI = 4,
  DELTALLM_CAP_AVX512_BF16 = 5,
  DELTALLM_CAP_MMAP = 6,             /* 1: weights are memory-mapped, not copied */
  DELTALLM_CAP_CHAT_TEMPLATES = 7,   /* 1: deltallm_chat_apply_template works */
  DELTALLM_CAP_STATE_FILES = 8,      /* 1: sequence snapshots can go to files */
  DELTALLM_CAP_MAX_SEQUENCES = 9,    /* largest n_seq of a context */
  DELTALLM_CAP_GPU = 10              /* 0: CPU only */
} deltallm_capability;

/* The value of a capability (0/1 for yes/no ones, a number otherwise), or -1
 * for a value this library does not know. Thread-safe. Never fails. */
DELTALLM_API int64_t deltallm_capability_value(deltallm_capability cap);

/* The model architectures this build runs, comma-separated
 * ("qwen35,qwen35moe,qwen3next"). Static string. Thread-safe. Never fails. */
DELTALLM_API const char* deltallm_supported_architectures(void);

typedef enum deltallm_log_level {
  DELTALLM_LOG_DEBUG = 0,
  DELTALLM_LOG_INFO = 1,
  DELTALLM_LOG_WARN = 2,
  DELTALLM_LOG_ERROR = 3
} deltallm_log_level;

/* Receives each log message (level is a deltallm_log_level; text is one or
 * more lines, owned by the library and valid only during the call). May be
 * called from any thread that calls into the library, one call at a time.
 * The callback may call into the library (a call that logs re-enters the
 * callback on the same thread, so guard against endless recursion); the last
 * error a failing call reports is set when that call returns, so calls made
 * inside the callback never replace it. Replacing the callback from another
 * thread waits for a call in progress to return. */
typedef void (*deltallm_log_callback)(int level, const char* text, void* user_data);

/* Sends log messages to `callback` (NULL: back to stderr, the default).
 * Global; thread-safe. Never fails. */
DELTALLM_API void deltallm_set_log_callback(deltallm_log_callback callback, void* user_data);

/* Drops messages below `level` (default DELTALLM_LOG_INFO). Global;
 * thread-safe. Errors: INVALID_ARGUMENT for an unknown level. */
DELTALLM_API deltallm_status deltallm_set_log_level(deltallm_log_level level);

/* ========================================================================
 * Model
 * ======================================================================== */

typedef struct deltallm_model deltallm_model;
typedef struct deltallm_context deltallm_context;
typedef struct deltallm_sampler deltallm_sampler;
typedef struct deltallm_detokenizer deltallm_detokenizer;

/* Called during loading with progress in [0, 1]; return false to cancel the
 * load (deltallm_model_load then returns DELTALLM_ERR_CANCELLED). Called on
 * the loading thread. */
typedef bool (*deltallm_progress_callback)(float progress, void* user_data);

/* Where the weights live once loaded. */
typedef enum deltallm_weight_memory {
  /* COPY when the kernel offers transparent huge pages and the weights fit in
   * 80% of the memory available at load time; MMAP otherwise. */
  DELTALLM_WEIGHTS_AUTO = 0,
  /* Map the file: loads at once, pages are shared with the page cache and
   * faulted in on first use (4 KiB pages: decode runs ~10% slower). */
  DELTALLM_WEIGHTS_MMAP = 1,
  /* Read the weights into anonymous memory on 2 MiB pages where the kernel
   * offers them (decode reads every weight once per token: fewer TLB misses).
   * An untied model's token embedding stays mapped (only gathered by row). */
  DELTALLM_WEIGHTS_COPY = 2
} deltallm_weight_memory;

typedef struct deltallm_model_params {
  size_t size;                                  /* set by deltallm_model_default_params() */
  deltallm_progress_callback progress_callback; /* NULL: none. With one, progress follows the reading of
                                                   the weights (mapped weights are read once while loading
                                                   so that progress is real; without a callback, mapped
                                                   pages are faulted in on first use). */
  void* progress_user_data;
  bool vocab_only;       /* load only metadata, tokenizer and template (no weights needed; no contexts) */
  int32_t weight_memory; /* a deltallm_weight_memory value */
} deltallm_model_params;

/* Defaults: no progress callback, vocab_only false, weight_memory AUTO.
 * Thread-safe. */
DELTALLM_API deltallm_model_params deltallm_model_default_params(void);

/* Loads a GGUF file (memory-mapped, weights copied or mapped as
 * params->weight_memory says). params may be NULL (defaults).
 * On success *out owns a model; free it with deltallm_model_free.
 * A file without a tokenizer loads; tokenizer calls then report
 * NOT_AVAILABLE. A vocab-only file (no tensors) needs vocab_only = true.
 * Errors: INVALID_ARGUMENT (NULL path/out, bad params), IO (cannot open or
 * read), FORMAT (not GGUF, bad or unsupported contents: the message names the
 * problem), CANCELLED, OUT_OF_MEMORY. Thread-safe. */
DELTALLM_API deltallm_status deltallm_model_load(const char* path, const deltallm_model_params* params,
                                                 deltallm_model** out);

/* Lets go of a model (NULL is fine). Contexts, samplers and detokenizers
 * made from it keep it alive: the model's memory is freed when the last of
 * them and this call have let go, so freeing the model first is safe (its
 * handles keep working). Not thread-safe with other uses of this handle. */
DELTALLM_API void deltallm_model_free(deltallm_model* model);

typedef struct deltallm_model_info {
  size_t size;               /* set by the caller: sizeof(deltallm_model_info) */
  const char* architecture;  /* general.architecture ("qwen35", ...); owned by the model */
  const char* name;          /* general.name, "" when absent; owned by the model */
  const char* description;   /* one line: arch, layers, sizes; owned by the model */
  bool vocab_only;           /* loaded without weights */
  int32_t n_vocab;           /* rows of the embedding = length of a logits row (0 when vocab-only) */
  int64_t n_ctx_train;       /* trained context length */
  int64_t n_embd;
  int32_t n_layer;           /* main layers (MTP layers excluded) */
  int32_t n_layer_mtp;       /* multi-token-prediction layers in the file */
  int32_t n_recurrent_layers;/* Gated DeltaNet layers */
  int32_t n_attention_layers;/* full-attention layers */
  int32_t n_head;
  int32_t n_head_kv;
  int32_t head_dim;
  int32_t n_expert;          /* 0 for dense models */
  int32_t n_expert_used;
  uint64_t n_params;         /* elements of all tensors */
  uint64_t weight_bytes;     /* bytes of all tensor data */
  uint64_t bytes_per_token;  /* weight bytes read per generated token (MoE: active experts only) */
  uint64_t file_size;
} deltallm_model_info;

/* Fills *info (set info->size first). Strings are owned by the model.
 * Errors: INVALID_ARGUMENT (NULL, size too small). Thread-safe. */
DELTALLM_API deltallm_status deltallm_model_get_info(const deltallm_model* model, deltallm_model_info* info);

/* Number of GGUF metadata keys. Errors: INVALID_ARGUMENT. Thread-safe. */
DELTALLM_API deltallm_status deltallm_model_meta_count(const deltallm_model* model, int32_t* count);

/* The i-th metadata key (file order). *key is owned by the model.
 * Errors: INVALID_ARGUMENT (NULL, i out of range). Thread-safe. */
DELTALLM_API deltallm_status deltallm_model_meta_key(const deltallm_model* model, int32_t i, const char** key);

/* The value of a metadata key as text: strings as they are, numbers in
 * decimal, booleans as true/false, arrays as JSON. Buffer convention above.
 * Errors: INVALID_ARGUMENT, NOT_AVAILABLE (no such key), BUFFER_TOO_SMALL.
 * Thread-safe. */
DELTALLM_API deltallm_status deltallm_model_meta_value(const deltallm_model* model, const char* key, char* buf,
                                                       size_t buf_size, size_t* len);

/* Memory a context with these parameters would allocate (params NULL:
 * defaults), without creating it. Errors: INVALID_ARGUMENT (bad params),
 * NOT_AVAILABLE (vocab-only model). Thread-safe. */
typedef struct deltallm_memory_info {
  size_t size;              /* set by the caller: sizeof(deltallm_memory_info) */
  uint64_t weights;         /* mapped weight bytes (shared by all contexts, not allocated) */
  uint64_t kv_cache;        /* attention K/V cache for all sequences */
  uint64_t recurrent_state; /* Gated DeltaNet conv + delta-rule state for all sequences */
  uint64_t workspace;       /* forward scratch for one micro-batch */
  uint64_t total;           /* kv_cache + recurrent_state + checkpoints + workspace: what the context allocates */
  uint64_t state_per_seq;   /* KV (full context) + recurrent bytes (+ checkpoints) of one sequence */
  uint64_t checkpoints;     /* per-step recurrent states for deltallm_seq_rollback, all sequences */
} deltallm_memory_info;

typedef struct deltallm_context_params deltallm_context_params;

DELTALLM_API deltallm_status deltallm_model_memory_needed(const deltallm_model* model,
                                                          const deltallm_context_params* params,
                                                          deltallm_memory_info* info);

/* ========================================================================
 * Vocabulary, special tokens, tokenization
 * ======================================================================== */

typedef enum deltallm_token_type {
  DELTALLM_TOKEN_UNDEFINED = 0,
  DELTALLM_TOKEN_NORMAL = 1,
  DELTALLM_TOKEN_UNKNOWN = 2,
  DELTALLM_TOKEN_CONTROL = 3,
  DELTALLM_TOKEN_USER_DEFINED = 4,
  DELTALLM_TOKEN_UNUSED = 5, /* padding; never sampled */
  DELTALLM_TOKEN_BYTE = 6
} deltallm_token_type;

typedef struct deltallm_vocab_info {
  size_t size;               /* set by the caller: sizeof(deltallm_vocab_info) */
  int32_t n_tokens;          /* entries of the vocabulary (may be below the model's n_vocab) */
  int32_t bos;               /* -1 when the file names none */
  int32_t eos;
  int32_t eot;
  int32_t pad;
  int32_t newline;           /* the token of "\n", -1 if it takes several */
  bool add_bos;              /* DELTALLM_TOKENIZE_ADD_SPECIAL prepends bos */
  bool add_eos;              /* ... and appends eos */
  const char* tokenizer_model; /* tokenizer.ggml.model ("gpt2"); owned by the model */
  const char* pre_type;        /* tokenizer.ggml.pre ("qwen35", ...); owned by the model */
} deltallm_vocab_info;

/* Fills *info. Errors: INVALID_ARGUMENT, NOT_AVAILABLE (no tokenizer in the
 * file). Thread-safe. */
DELTALLM_API deltallm_status deltallm_model_get_vocab_info(const deltallm_model* model, deltallm_vocab_info* info);

/* A token's text as stored in the GGUF file (NORMAL tokens in GPT-2
 * byte-encoded form, e.g. "Ġthe"); owned by the model.
 * Errors: INVALID_ARGUMENT (bad id), NOT_AVAILABLE (no tokenizer). Thread-safe. */
DELTALLM_API deltallm_status deltallm_token_get_text(const deltallm_model* model, int32_t token, const char** text);

/* Errors: INVALID_ARGUMENT (bad id), NOT_AVAILABLE (no tokenizer). Thread-safe. */
DELTALLM_API deltallm_status deltallm_token_get_type(const deltallm_model* model, int32_t token,
                                                     deltallm_token_type* type);

/* *is_eog = whether `token` ends generation (eos, eot, eom, FIM ids and known
 * end markers such as <|im_end|>). Errors: INVALID_ARGUMENT (bad id),
 * NOT_AVAILABLE (no tokenizer). Thread-safe. */
DELTALLM_API deltallm_status deltallm_token_is_eog(const deltallm_model* model, int32_t token, bool* is_eog);

/* Flags of deltallm_tokenize. */
#define DELTALLM_TOKENIZE_ADD_SPECIAL 1u   /* prepend BOS / append EOS when the model asks for them */
#define DELTALLM_TOKENIZE_PARSE_SPECIAL 2u /* control-token texts in the input become their ids */

/* Token ids of text[0, text_len) (UTF-8; NUL bytes allowed). Writes up to
 * max_tokens ids to tokens and sets *n_tokens to the full count; if more are
 * needed: BUFFER_TOO_SMALL (call again with a bigger array; tokens may be
 * NULL when max_tokens is 0). Empty text gives 0 tokens.
 * Errors: INVALID_ARGUMENT (NULL, invalid UTF-8 — the message names the byte
 * offset — or unknown flags), NOT_AVAILABLE (no tokenizer), BUFFER_TOO_SMALL.
 * Thread-safe. */
DELTALLM_API deltallm_status deltallm_tokenize(const deltallm_model* model, const char* text, size_t text_len,
                                               uint32_t flags, int32_t* tokens, size_t max_tokens,
                                               size_t* n_tokens);

/* Flags of the detokenizing functions. */
#define DELTALLM_DETOKENIZE_RENDER_SPECIAL 1u /* CONTROL tokens give their text instead of "" */

/* The bytes of one token. They may be part of a UTF-8 character (use a
 * deltallm_detokenizer for streaming text). Buffer convention above.
 * Errors: INVALID_ARGUMENT, NOT_AVAILABLE, BUFFER_TOO_SMALL. Thread-safe. */
DELTALLM_API deltallm_status deltallm_token_to_piece(const deltallm_model* model, int32_t token, uint32_t flags,
                                                     char* buf, size_t buf_size, size_t* len);

/* The text of a token sequence; an ill-formed UTF-8 result has its bad parts
 * replaced by U+FFFD. Buffer convention above.
 * Errors: INVALID_ARGUMENT (NULL, bad id), NOT_AVAILABLE, BUFFER_TOO_SMALL.
 * Thread-safe. */
DELTALLM_API deltallm_status deltallm_detokenize(const deltallm_model* model, const int32_t* tokens,
                                                 size_t n_tokens, uint32_t flags, char* buf, size_t buf_size,
                                                 size_t* len);

/* A streaming detokenizer: push tokens one by one and get only whole UTF-8
 * characters back; an incomplete tail waits for the next token.
 * Errors: INVALID_ARGUMENT, NOT_AVAILABLE (no tokenizer). The model is
 * shared, the detokenizer is used by one thread at a time. */
DELTALLM_API deltallm_status deltallm_detokenizer_create(const deltallm_model* model, uint32_t flags,
                                                         deltallm_detokenizer** out);

/* Adds a token. *text / *len receive the text that became complete (possibly
 * empty; NUL-terminated, though a token may itself hold a NUL byte, so use
 * *len), owned by the detokenizer and valid until its next call.
 * Errors: INVALID_ARGUMENT (NULL, bad id). */
DELTALLM_API deltallm_status deltallm_detokenizer_push(deltallm_detokenizer* dt, int32_t token, const char** text,
                                                       size_t* len);

/* Returns what is left (an incomplete character as U+FFFD) and starts over.
 * Same ownership as push. Errors: INVALID_ARGUMENT. */
DELTALLM_API deltallm_status deltallm_detokenizer_flush(deltallm_detokenizer* dt, const char** text, size_t* len);

/* Frees a detokenizer (NULL is fine). */
DELTALLM_API void deltallm_detokenizer_free(deltallm_detokenizer* dt);

/* ========================================================================
 * Chat templates
 * ======================================================================== */

/* The model's chat template (name NULL: tokenizer.chat_template; otherwise
 * tokenizer.chat_template.<name>). Owned by the model.
 * Errors: INVALID_ARGUMENT, NOT_AVAILABLE (the file has none). Thread-safe. */
DELTALLM_API deltallm_status deltallm_model_chat_template(const deltallm_model* model, const char* name,
                                                          const char** tmpl);

typedef struct deltallm_chat_message {
  const char* role;    /* "system", "user", "assistant", "tool" */
  const char* content; /* NULL: null content */
} deltallm_chat_message;

typedef struct deltallm_chat_params {
  size_t size;                /* set by deltallm_chat_default_params() */
  bool add_generation_prompt; /* default true */
  int32_t enable_thinking;    /* -1 (default): undefined in the template; 0 false; 1 true */
  const char* tools_json;     /* NULL (default): no `tools`; else a JSON array of tool definitions */
  const char* template_text;  /* NULL (default): the model's template; else this Jinja text */
  const char* template_kwargs_json; /* NULL (default): none; else a JSON object of further template
                                       variables (Hugging Face's chat_template_kwargs, e.g.
                                       {"reasoning_effort": "low"}). It may not name messages, tools,
                                       add_generation_prompt, bos_token or eos_token; an
                                       enable_thinking in it is used when the field above is -1. */
} deltallm_chat_params;

/* Defaults as in the comments above. Thread-safe. */
DELTALLM_API deltallm_chat_params deltallm_chat_default_params(void);

/* Renders messages through the chat template (Jinja, set up like Hugging
 * Face's apply_chat_template; bos_token / eos_token are the texts of the
 * model's ids or ""). params may be NULL. Buffer convention above.
 * Errors: INVALID_ARGUMENT (NULL, bad params, bad tools JSON), NOT_AVAILABLE
 * (no template in the model and none given), FORMAT (the template uses
 * something unsupported or raises an exception: the message says what),
 * BUFFER_TOO_SMALL. Thread-safe. */
DELTALLM_API deltallm_status deltallm_chat_apply_template(const deltallm_model* model,
                                                          const deltallm_chat_message* messages, size_t n_messages,
                                                          const deltallm_chat_params* params, char* buf,
                                                          size_t buf_size, size_t* len);

/* Same, with the messages as a JSON array of OpenAI-style message objects
 * (content string or null, reasoning_content, tool_calls with arguments as
 * object or string, tool_call_id, ...). Errors as above, INVALID_ARGUMENT
 * for bad JSON. Thread-safe. */
DELTALLM_API deltallm_status deltallm_chat_apply_template_json(const deltallm_model* model,
                                                               const char* messages_json,
                                                               const deltallm_chat_params* params, char* buf,
                                                               size_t buf_size, size_t* len);

/* ========================================================================
 * Context: batches, logits, sequences, state
 * ======================================================================== */

typedef enum deltallm_kv_type { DELTALLM_KV_F16 = 0, DELTALLM_KV_F32 = 1 } deltallm_kv_type;

/* Checked during a decode (before each micro-batch and between layers);
 * return true to abort it. Called on the thread that called deltallm_decode. */
typedef bool (*deltallm_abort_callback)(void* user_data);

struct deltallm_context_params {
  size_t size;       /* set by deltallm_context_default_params() */
  int64_t n_ctx;     /* positions per sequence; 0 (default): min(trained context, 4096) */
  int32_t n_seq;     /* sequence slots, 1..DELTALLM_CAP_MAX_SEQUENCES; default 1 */
  int32_t n_batch;   /* largest micro-batch; bigger batches are split; default 512 */
  int32_t n_threads; /* 0 (default): DELTALLM_CAP_HARDWARE_THREADS */
  deltallm_kv_type kv_type; /* default DELTALLM_KV_F16 */
  deltallm_abort_callback abort_callback; /* default NULL */
  void* abort_user_data;
  int32_t n_rollback; /* 0 (default): off. Else keep the recurrent state after each token of a
                         sequence's last batch when it brought at most n_rollback tokens, so that
                         deltallm_seq_rollback can drop them (speculative decoding); costs
                         n_rollback recurrent states per sequence. At most n_batch. */
};

/* Defaults as in the comments above. Thread-safe. */
DELTALLM_API deltallm_context_params deltallm_context_default_params(void);

/* Creates a context (KV cache, recurrent state, workspace, thread pool) over
 * a model; params may be NULL. The model must outlive it.
 * Errors: INVALID_ARGUMENT (NULL, bad params), NOT_AVAILABLE (vocab-only
 * model), OUT_OF_MEMORY. Thread-safe (the model is shared). */
DELTALLM_API deltallm_status deltallm_context_create(const deltallm_model* model,
                                                     const deltallm_context_params* params,
                                                     deltallm_context** out);

/* Frees a context (NULL is fine); stops its threads. */
DELTALLM_API void deltallm_context_free(deltallm_context* ctx);

typedef struct deltallm_context_info {
  size_t size; /* set by the caller: sizeof(deltallm_context_info) */
  int64_t n_ctx;
  int32_t n_seq;
  int32_t n_batch;
  int32_t n_threads;
  deltallm_kv_type kv_type;
  int32_t n_vocab; /* length of a logits row */
  int32_t n_rollback;
} deltallm_context_info;

/* Errors: INVALID_ARGUMENT. */
DELTALLM_API deltallm_status deltallm_context_get_info(const deltallm_context* ctx, deltallm_context_info* info);

/* The context's actual memory use. Errors: INVALID_ARGUMENT. */
DELTALLM_API deltallm_status deltallm_context_get_memory(const deltallm_context* ctx, deltallm_memory_info* info);

/* The memory plan as text lines (weights, KV, recurrent state, workspace),
 * owned by the context and valid until it is freed. Errors: INVALID_ARGUMENT. */
DELTALLM_API deltallm_status deltallm_context_memory_plan(const deltallm_context* ctx, const char** text);

/* Replaces the abort callback (NULL: none). Errors: INVALID_ARGUMENT. */
DELTALLM_API deltallm_status deltallm_context_set_abort_callback(deltallm_context* ctx,
                                                                 deltallm_abort_callback callback,
                                                                 void* user_data);

/* Receives the activation rows that enter one weight matrix multiplication
 * during a decode (importance matrices, activation statistics): tensor_name
 * is the weight's GGUF name ("blk.0.attn_qkv.weight", "blk.3.ffn_down.weight";
 * "output.weight" — or "token_embd.weight" when tied — for the output head,
 * which sees only the rows that asked for logits). For a stacked MoE expert
 * tensor ("blk.N.ffn_gate_exps.weight" ...) expert is the expert's index and
 * rows are only the tokens routed to it (one call per expert with tokens);
 * else expert is -1. rows: [n_rows][n_cols] floats, contiguous, valid during
 * the call only; n_cols is the weight's input width. Called on the thread that
 * called deltallm_decode, once per weight per micro-batch (of at most n_batch
 * tokens), in the order of the forward pass. It must not call into the
 * context. */
typedef void (*deltallm_activation_callback)(void* user_data, const char* tensor_name, int32_t expert,
                                             const float* rows, int32_t n_rows, int32_t n_cols);

/* Sets (callback NULL: removes) the activation observer of later decodes.
 * Without one, decoding pays nothing for it. Errors: INVALID_ARGUMENT. */
DELTALLM_API deltallm_status deltallm_context_set_activation_callback(deltallm_context* ctx,
                                                                      deltallm_activation_callback callback,
                                                                      void* user_data);

/* A batch of tokens to evaluate. The arrays are read during deltallm_decode
 * only (the caller keeps ownership). */
typedef struct deltallm_batch {
  size_t size;            /* set by deltallm_batch_default_params() */
  int32_t n_tokens;
  const int32_t* tokens;  /* [n_tokens] token ids */
  const int64_t* pos;     /* [n_tokens] positions, or NULL: each token continues its sequence */
  const int32_t* seq_ids; /* [n_tokens] sequence ids, or NULL: all in sequence 0 */
  const int8_t* logits;   /* [n_tokens] non-zero where logits are wanted, or NULL: the last token only */
} deltallm_batch;

/* An empty batch with `size` set. Thread-safe. */
DELTALLM_API deltallm_batch deltallm_batch_default_params(void);

/* Evaluates a batch. Within one sequence, positions must be consecutive in
 * batch order and start at the sequence's current length (see
 * deltallm_seq_length), or at 0, which restarts the sequence. Tokens of
 * several sequences may be mixed. The whole batch is checked before anything
 * changes: a bad batch changes nothing.
 * Afterwards deltallm_get_logits reads the rows that asked for logits.
 * Errors: INVALID_ARGUMENT (NULL, bad size, token or sequence id out of range,
 * wrong position), CONTEXT_FULL (a position >= n_ctx; nothing changed),
 * ABORTED (the abort callback said stop; no logits are available and the
 * context stays usable: micro-batches completed before the stop stay done,
 * the sequences of an interrupted micro-batch are emptied — see
 * deltallm_seq_length; to be able to go back, snapshot or copy a sequence
 * before a long decode), OUT_OF_MEMORY.
 * One thread at a time per context. */
DELTALLM_API deltallm_status deltallm_decode(deltallm_context* ctx, const deltallm_batch* batch);

/* Logits of the i-th token (in batch order) that asked for them in the last
 * decode; i = -1: the last such row. *logits points to n_vocab floats owned
 * by the context, valid until the next decode or seq call on it.
 * Errors: INVALID_ARGUMENT (NULL, i out of range, no logits). */
DELTALLM_API deltallm_status deltallm_get_logits(const deltallm_context* ctx, int32_t i, const float** logits);

/* Number of logits rows of the last decode. Errors: INVALID_ARGUMENT. */
DELTALLM_API deltallm_status deltallm_get_n_logits(const deltallm_context* ctx, int32_t* n);

/* The number of positions a sequence holds (= the next position).
 * Errors: INVALID_ARGUMENT (NULL, seq out of range). */
DELTALLM_API deltallm_status deltallm_seq_length(const deltallm_context* ctx, int32_t seq, int64_t* len);

/* Empties a sequence (-1: every sequence). Errors: INVALID_ARGUMENT. */
DELTALLM_API deltallm_status deltallm_seq_clear(deltallm_context* ctx, int32_t seq);

/* Makes dst an exact copy of src (recurrent state and KV rows); src == dst
 * does nothing. Errors: INVALID_ARGUMENT. */
DELTALLM_API deltallm_status deltallm_seq_copy(deltallm_context* ctx, int32_t src, int32_t dst);

/* Empties every sequence except `seq`. Errors: INVALID_ARGUMENT. */
DELTALLM_API deltallm_status deltallm_seq_keep(deltallm_context* ctx, int32_t seq);

/* Shortens sequence `seq` to its first `len` positions, as if the later
 * tokens had never been decoded (the next decode continues at position
 * len). The Gated DeltaNet state cannot be recomputed backwards, so this
 * works only back into the sequence's last batch, from the checkpoints kept
 * with n_rollback > 0: len may be any length from (first position of that
 * batch) + 1 to the current length; len 0 empties the sequence, len equal to
 * the current length does nothing. Speculative decoding: decode the last
 * accepted token plus k drafts in one batch (k + 1 <= n_rollback), then roll
 * back to just after the last accepted draft.
 * Errors: INVALID_ARGUMENT (NULL, seq out of range, len < 0 or above the
 * length), NOT_AVAILABLE (no checkpoint for len: the message names the
 * lengths that are possible); on error nothing changes. */
DELTALLM_API deltallm_status deltallm_seq_rollback(deltallm_context* ctx, int32_t seq, int64_t len);

/* Bytes of a snapshot of the sequence as it is now. Errors: INVALID_ARGUMENT. */
DELTALLM_API deltallm_status deltallm_seq_state_size(const deltallm_context* ctx, int32_t seq, size_t* size);

/* Writes a snapshot of a sequence (its recurrent state and KV rows, tagged
 * with the model and KV type) to buf. *len receives its size (buffer
 * convention above, without a NUL). Errors: INVALID_ARGUMENT,
 * BUFFER_TOO_SMALL. */
DELTALLM_API deltallm_status deltallm_seq_state_save(const deltallm_context* ctx, int32_t seq, void* buf,
                                                     size_t buf_size, size_t* len);

/* Replaces sequence `seq` with a snapshot from deltallm_seq_state_save of
 * any context over the same model with the same KV type (another sequence,
 * another context; n_ctx must hold it). Decoding then continues exactly as
 * it would have in the original. Errors: INVALID_ARGUMENT (NULL, seq out of
 * range), FORMAT (not a snapshot, another model, another KV type, truncated,
 * longer than n_ctx); on error the sequence is unchanged. */
DELTALLM_API deltallm_status deltallm_seq_state_load(deltallm_context* ctx, int32_t seq, const void* buf,
                                                     size_t size);

/* The same snapshot written to / read from a file (written to a temporary
 * and renamed, so a failed save leaves no partial file). Errors as above,
 * plus IO. */
DELTALLM_API deltallm_status deltallm_seq_state_save_file(const deltallm_context* ctx, int32_t seq,
                                                          const char* path);
DELTALLM_API deltallm_status deltallm_seq_state_load_file(deltallm_context* ctx, int32_t seq, const char* path);

/* Prompt-cache checkpoints: the recurrent + conv state of one sequence at
 * its current length, without the KV rows (those stay in the context). A
 * checkpoint is small and of the same size at every length, so a server can
 * keep several per conversation and go back to any of them: restoring one
 * that was taken at length L onto a sequence that still holds at least L
 * positions with the same first L tokens truncates the KV rows to L and puts
 * the recurrent state back, bit-identical to having decoded only those L
 * tokens. Whether the first L tokens are the same is the caller's business
 * (the library does not keep tokens).
 *
 * Bytes of one checkpoint (the same for every sequence and length).
 * Errors: INVALID_ARGUMENT. */
DELTALLM_API deltallm_status deltallm_seq_checkpoint_size(const deltallm_context* ctx, size_t* size);

/* Writes a checkpoint of sequence `seq` (tagged with the model and the
 * length it was taken at) to buf; *len receives its size (buffer convention
 * above, without a NUL). Errors: INVALID_ARGUMENT, BUFFER_TOO_SMALL. */
DELTALLM_API deltallm_status deltallm_seq_checkpoint_save(const deltallm_context* ctx, int32_t seq, void* buf,
                                                          size_t buf_size, size_t* len);

/* The length (position count) a checkpoint was taken at.
 * Errors: INVALID_ARGUMENT (NULL), FORMAT (not a checkpoint). */
DELTALLM_API deltallm_status deltallm_seq_checkpoint_length(const void* buf, size_t size, int64_t* len);

/* Truncates sequence `seq` to the checkpoint's length L (its KV rows [0, L)
 * are kept) and restores the recurrent state from it; decoding continues at
 * position L. A checkpoint of any sequence of any context over the same
 * model works. Errors: INVALID_ARGUMENT (NULL, seq out of range, the
 * sequence holds fewer than L positions), FORMAT (not a checkpoint, another
 * model, wrong size); on error the sequence is unchanged. */
DELTALLM_API deltallm_status deltallm_seq_checkpoint_restore(deltallm_context* ctx, int32_t seq, const void* buf,
                                                             size_t size);

/* ========================================================================
 * Sampling (kernels.md §7.1: logit bias -> penalties -> top_k -> top_p ->
 * min_p -> temperature -> dist; temp 0: greedy; temp < 0: the top token).
 * Tokens of type UNUSED, and ids beyond the vocabulary, are never sampled.
 * ======================================================================== */

#define DELTALLM_SEED_RANDOM 0xFFFFFFFFu

typedef struct deltallm_logit_bias {
  int32_t token;
  float bias; /* added to the token's logit; -INFINITY bans it */
} deltallm_logit_bias;

typedef struct deltallm_sampler_params {
  size_t size;            /* set by deltallm_sampler_default_params() */
  uint32_t seed;          /* DELTALLM_SEED_RANDOM (default): drawn at creation */
  float temp;             /* 0.8; 0: greedy; < 0: softmax + top token */
  int32_t top_k;          /* 40; <= 0: off */
  float top_p;            /* 0.95; >= 1: off */
  float min_p;            /* 0.05; <= 0: off */
  int32_t min_keep;       /* 0; every truncation keeps at least max(1, min_keep) tokens */
  int32_t penalty_last_n; /* 64: window of accepted tokens; 0: off; -1: all since reset */
  float penalty_repeat;   /* 1.0 (off) */
  float penalty_freq;     /* 0.0 (off) */
  float penalty_present;  /* 0.0 (off) */
  bool penalize_nl;       /* false: the newline token is exempt from penalties */
  const deltallm_logit_bias* logit_bias; /* NULL; copied at creation */
  size_t n_logit_bias;
} deltallm_sampler_params;

/* Defaults as in the comments above (those of kernels.md §7.1). Thread-safe. */
DELTALLM_API deltallm_sampler_params deltallm_sampler_default_params(void);

/* The standard chain built from params (NULL: defaults) for this model's
 * vocabulary. Errors: INVALID_ARGUMENT (NULL, bad params), NOT_AVAILABLE
 * (vocab-only model). The sampler is used by one thread at a time. */
DELTALLM_API deltallm_status deltallm_sampler_create(const deltallm_model* model,
                                                     const deltallm_sampler_params* params,
                                                     deltallm_sampler** out);

/* An empty chain; add stages with deltallm_sampler_add_*. They run in the
 * order added; greedy and dist select the token and end the chain (a chain
 * without one ends with dist). Errors: INVALID_ARGUMENT, NOT_AVAILABLE. */
DELTALLM_API deltallm_status deltallm_sampler_chain_create(const deltallm_model* model, uint32_t seed,
                                                           deltallm_sampler** out);

/* Stages. Errors: INVALID_ARGUMENT (NULL, bad value, token out of range, a
 * stage after greedy/dist). */
DELTALLM_API deltallm_status deltallm_sampler_add_logit_bias(deltallm_sampler* s, const deltallm_logit_bias* bias,
                                                             size_t n_bias);
DELTALLM_API deltallm_status deltallm_sampler_add_penalties(deltallm_sampler* s, int32_t last_n, float repeat,
                                                            float freq, float present, bool penalize_nl);
DELTALLM_API deltallm_status deltallm_sampler_add_top_k(deltallm_sampler* s, int32_t k);
DELTALLM_API deltallm_status deltallm_sampler_add_top_p(deltallm_sampler* s, float p);
DELTALLM_API deltallm_status deltallm_sampler_add_min_p(deltallm_sampler* s, float p);
DELTALLM_API deltallm_status deltallm_sampler_add_temperature(deltallm_sampler* s, float temp);
DELTALLM_API deltallm_status deltallm_sampler_add_greedy(deltallm_sampler* s);
DELTALLM_API deltallm_status deltallm_sampler_add_dist(deltallm_sampler* s);
/* Every truncation stage keeps at least max(1, min_keep) tokens. */
DELTALLM_API deltallm_status deltallm_sampler_set_min_keep(deltallm_sampler* s, int32_t min_keep);

/* Samples from logits row i of the context's last decode (-1: the last row).
 * Does not accept the token. Errors: INVALID_ARGUMENT (NULL, bad row, a
 * context over a model with another vocabulary size). */
DELTALLM_API deltallm_status deltallm_sampler_sample(deltallm_sampler* s, const deltallm_context* ctx, int32_t i,
                                                     int32_t* token);

/* Samples from a caller's logits row of n_vocab floats.
 * Errors: INVALID_ARGUMENT (NULL, n_logits != the model's n_vocab). */
DELTALLM_API deltallm_status deltallm_sampler_sample_logits(deltallm_sampler* s, const float* logits,
                                                            size_t n_logits, int32_t* token);

/* deltallm_sampler_sample, then deltallm_sampler_accept of the token it
 * returns: one generation step's sampling in one call. */
DELTALLM_API deltallm_status deltallm_sampler_sample_accept(deltallm_sampler* s, const deltallm_context* ctx,
                                                            int32_t i, int32_t* token);

/* Records a token (sampled, or from the prompt) for the penalty window.
 * Errors: INVALID_ARGUMENT (NULL, bad id). */
DELTALLM_API deltallm_status deltallm_sampler_accept(deltallm_sampler* s, int32_t token);

/* Records n tokens in order (a prompt, for the penalties to see it). All or
 * nothing: a bad id anywhere leaves the sampler as it was.
 * Errors: INVALID_ARGUMENT (NULL with n > 0, bad id). */
DELTALLM_API deltallm_status deltallm_sampler_accept_tokens(deltallm_sampler* s, const int32_t* tokens, size_t n);

/* Forgets accepted tokens and restarts the random stream from the seed, so
 * the same logits give the same tokens again. Errors: INVALID_ARGUMENT. */
DELTALLM_API deltallm_status deltallm_sampler_reset(deltallm_sampler* s);

/* The seed in use (the drawn one when created with DELTALLM_SEED_RANDOM).
 * Errors: INVALID_ARGUMENT. */
DELTALLM_API deltallm_status deltallm_sampler_get_seed(const deltallm_sampler* s, uint32_t* seed);

/* Frees a sampler (NULL is fine). */
DELTALLM_API void deltallm_sampler_free(deltallm_sampler* s);

#ifdef __cplusplus
}
#endif

#endif /* DELTALLM_H */
