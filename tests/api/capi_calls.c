/* The C API from C (compiled as C11, linked with the shared library): every
 * function of deltallm.h is called, with its error paths — bad files, bad
 * params, wrong struct sizes, NULL handles, ids out of range.
 *
 * Usage: test_capi_c MODEL.gguf   (a tiny qwen35 model from `deltallm make-model`) */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include "deltallm.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                                                        \
  do {                                                                                                     \
    ++checks;                                                                                              \
    if (!(cond)) {                                                                                         \
      fprintf(stderr, "%s:%d: CHECK failed: %s (last error: '%s')\n", __FILE__, __LINE__, #cond,          \
              deltallm_last_error());                                                                      \
      ++failures;                                                                                          \
    }                                                                                                      \
  } while (0)

#define CHECK_ST(expr, want)                                                                               \
  do {                                                                                                     \
    ++checks;                                                                                              \
    deltallm_status st_ = (expr);                                                                          \
    if (st_ != (want)) {                                                                                   \
      fprintf(stderr, "%s:%d: %s returned %d (%s), expected %s; last error: '%s'\n", __FILE__, __LINE__,  \
              #expr, (int)st_, deltallm_status_string(st_), #want, deltallm_last_error());                 \
      ++failures;                                                                                          \
    } else if (st_ != DELTALLM_OK && deltallm_last_error()[0] == '\0') {                                   \
      fprintf(stderr, "%s:%d: %s failed without a message\n", __FILE__, __LINE__, #expr);                  \
      ++failures;                                                                                          \
    }                                                                                                      \
  } while (0)

#define OK(expr) CHECK_ST(expr, DELTALLM_OK)
#define INVALID(expr) CHECK_ST(expr, DELTALLM_ERR_INVALID_ARGUMENT)

/* ---- callbacks ---- */

static int log_count = 0;
static void on_log(int level, const char* text, void* user_data) {
  (void)level;
  (void)text;
  *(int*)user_data += 1;
  ++log_count;
}

typedef struct {
  int calls;
  float last;
  int monotonic;
  int cancel_at; /* 0: never */
} progress_state;

static bool on_progress(float p, void* ud) {
  progress_state* s = (progress_state*)ud;
  if (s->calls > 0 && p < s->last) s->monotonic = 0;
  s->last = p;
  s->calls++;
  return s->cancel_at == 0 || s->calls < s->cancel_at;
}

static bool never_abort(void* ud) {
  (void)ud;
  return false;
}

/* ---- helpers ---- */

/* Counts the matmul inputs a decode reports; remembers the first name. */
typedef struct {
  int calls, rows_of_first;
  char first[64];
} activation_seen;
static void on_activation(void* ud, const char* name, int32_t expert, const float* rows, int32_t n_rows,
                          int32_t n_cols) {
  activation_seen* s = (activation_seen*)ud;
  if (s->calls++ == 0) {
    snprintf(s->first, sizeof s->first, "%s", name);
    s->rows_of_first = n_rows;
  }
  (void)expert;
  (void)rows;
  (void)n_cols;
}

static char tmpdir[256];

static void make_tmpdir(void) {
  strcpy(tmpdir, "/tmp/deltallm_capi_XXXXXX");
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    exit(2);
  }
}

static void tmp_path(char* out, size_t n, const char* name) { snprintf(out, n, "%s/%s", tmpdir, name); }

static void write_file(const char* path, const char* bytes) {
  FILE* f = fopen(path, "wb");
  if (!f) {
    perror(path);
    exit(2);
  }
  fputs(bytes, f);
  fclose(f);
}

/* ---- sections ---- */

static void library_calls(void) {
  char want[32];
  snprintf(want, sizeof want, "%d.%d.%d", DELTALLM_VERSION_MAJOR, DELTALLM_VERSION_MINOR, DELTALLM_VERSION_PATCH);
  CHECK(strcmp(deltallm_version(), want) == 0);
  CHECK(strcmp(deltallm_status_string(DELTALLM_OK), "ok") == 0);
  for (int s = 1; s <= DELTALLM_ERR_INTERNAL; ++s)
    CHECK(strcmp(deltallm_status_string((deltallm_status)s), "unknown status") != 0);
  CHECK(strcmp(deltallm_status_string((deltallm_status)1234), "unknown status") == 0);
  CHECK(deltallm_last_error() != NULL);
  CHECK(deltallm_capability_value(DELTALLM_CAP_HARDWARE_THREADS) >= 1);
  CHECK(deltallm_capability_value(DELTALLM_CAP_MMAP) == 1);
  CHECK(deltallm_capability_value(DELTALLM_CAP_CHAT_TEMPLATES) == 1);
  CHECK(deltallm_capability_value(DELTALLM_CAP_STATE_FILES) == 1);
  CHECK(deltallm_capability_value(DELTALLM_CAP_MAX_SEQUENCES) >= 1);
  CHECK(deltallm_capability_value(DELTALLM_CAP_GPU) == 0);
  for (int c = DELTALLM_CAP_AVX2; c <= DELTALLM_CAP_AVX512_BF16; ++c) {
    const int64_t v = deltallm_capability_value((deltallm_capability)c);
    CHECK(v == 0 || v == 1);
  }
  CHECK(deltallm_capability_value((deltallm_capability)999) == -1);
  CHECK(strstr(deltallm_supported_architectures(), "qwen35") != NULL);
  INVALID(deltallm_set_log_level((deltallm_log_level)7));
  OK(deltallm_set_log_level(DELTALLM_LOG_INFO));
}

static void load_errors(const char* model_path) {
  deltallm_model* m = (deltallm_model*)0x1;
  char path[512];
  INVALID(deltallm_model_load(NULL, NULL, &m));
  INVALID(deltallm_model_load(model_path, NULL, NULL));
  CHECK_ST(deltallm_model_load("/nonexistent/model.gguf", NULL, &m), DELTALLM_ERR_IO);
  CHECK(m == (deltallm_model*)0x1); /* untouched on failure */
  CHECK_ST(deltallm_model_load(tmpdir, NULL, &m), DELTALLM_ERR_IO);
  tmp_path(path, sizeof path, "garbage.gguf");
  write_file(path, "this is not a GGUF file at all, just text");
  CHECK_ST(deltallm_model_load(path, NULL, &m), DELTALLM_ERR_FORMAT);
  tmp_path(path, sizeof path, "empty.gguf");
  write_file(path, "");
  CHECK_ST(deltallm_model_load(path, NULL, &m), DELTALLM_ERR_FORMAT);
  /* wrong size */
  deltallm_model_params p = deltallm_model_default_params();
  CHECK(p.size == sizeof p && p.progress_callback == NULL && !p.vocab_only);
  CHECK(p.weight_memory == DELTALLM_WEIGHTS_AUTO);
  p.weight_memory = 3;
  INVALID(deltallm_model_load(model_path, &p, &m));
  p.weight_memory = -1;
  INVALID(deltallm_model_load(model_path, &p, &m));
  CHECK(m == (deltallm_model*)0x1);
  p = deltallm_model_default_params();
  p.size = 3;
  INVALID(deltallm_model_load(model_path, &p, &m));
  p.size = sizeof p + 8;
  INVALID(deltallm_model_load(model_path, &p, &m));
  /* cancel from the progress callback */
  progress_state ps = {0, 0.0f, 1, 2};
  p = deltallm_model_default_params();
  p.progress_callback = on_progress;
  p.progress_user_data = &ps;
  CHECK_ST(deltallm_model_load(model_path, &p, &m), DELTALLM_ERR_CANCELLED);
  CHECK(ps.calls == 2);
  CHECK(m == (deltallm_model*)0x1);
  /* freeing NULL is fine */
  deltallm_model_free(NULL);
  deltallm_context_free(NULL);
  deltallm_sampler_free(NULL);
  deltallm_detokenizer_free(NULL);
}

static deltallm_model* load_model(const char* model_path) {
  deltallm_model* m = NULL;
  progress_state ps = {0, 0.0f, 1, 0};
  deltallm_model_params p = deltallm_model_default_params();
  p.progress_callback = on_progress;
  p.progress_user_data = &ps;
  OK(deltallm_model_load(model_path, &p, &m));
  CHECK(m != NULL);
  CHECK(ps.calls >= 2 && ps.monotonic && ps.last == 1.0f);
  CHECK(deltallm_last_error()[0] == '\0');
  return m;
}

static void model_calls(const deltallm_model* m) {
  deltallm_model_info info;
  memset(&info, 0, sizeof info);
  INVALID(deltallm_model_get_info(m, &info)); /* size 0 */
  info.size = sizeof info;
  INVALID(deltallm_model_get_info(NULL, &info));
  INVALID(deltallm_model_get_info(m, NULL));
  OK(deltallm_model_get_info(m, &info));
  CHECK(info.size == sizeof info);
  CHECK(strcmp(info.architecture, "qwen35") == 0);
  CHECK(info.name != NULL && info.description != NULL && strstr(info.description, "qwen35") != NULL);
  CHECK(!info.vocab_only);
  CHECK(info.n_vocab == 1024 && info.n_layer == 4 && info.n_embd == 256);
  CHECK(info.n_recurrent_layers + info.n_attention_layers == info.n_layer);
  CHECK(info.n_head > 0 && info.n_head_kv > 0 && info.head_dim > 0 && info.n_expert == 0);
  CHECK(info.n_ctx_train > 0 && info.n_params > 0);
  CHECK(info.bytes_per_token > 0 && info.bytes_per_token <= info.weight_bytes);
  CHECK(info.file_size > info.weight_bytes);

  int32_t count = 0;
  INVALID(deltallm_model_meta_count(NULL, &count));
  INVALID(deltallm_model_meta_count(m, NULL));
  OK(deltallm_model_meta_count(m, &count));
  CHECK(count > 5);
  int found_arch = 0;
  for (int32_t i = 0; i < count; ++i) {
    const char* key = NULL;
    OK(deltallm_model_meta_key(m, i, &key));
    if (key && strcmp(key, "general.architecture") == 0) found_arch = 1;
  }
  CHECK(found_arch);
  const char* key = NULL;
  INVALID(deltallm_model_meta_key(m, -1, &key));
  INVALID(deltallm_model_meta_key(m, count, &key));
  INVALID(deltallm_model_meta_key(m, 0, NULL));
  char buf[64];
  size_t len = 0;
  OK(deltallm_model_meta_value(m, "general.architecture", buf, sizeof buf, &len));
  CHECK(strcmp(buf, "qwen35") == 0 && len == 6);
  CHECK_ST(deltallm_model_meta_value(m, "general.architecture", buf, 6, &len), DELTALLM_ERR_BUFFER_TOO_SMALL);
  CHECK(len == 6);
  CHECK_ST(deltallm_model_meta_value(m, "general.architecture", NULL, 0, &len), DELTALLM_ERR_BUFFER_TOO_SMALL);
  OK(deltallm_model_meta_value(m, "qwen35.block_count", buf, sizeof buf, &len));
  CHECK(strcmp(buf, "4") == 0);
  OK(deltallm_model_meta_value(m, "tokenizer.ggml.add_bos_token", buf, sizeof buf, &len));
  CHECK(strcmp(buf, "false") == 0);
  CHECK_ST(deltallm_model_meta_value(m, "no.such.key", buf, sizeof buf, &len), DELTALLM_ERR_NOT_AVAILABLE);
  INVALID(deltallm_model_meta_value(m, NULL, buf, sizeof buf, &len));
  INVALID(deltallm_model_meta_value(m, "general.architecture", buf, sizeof buf, NULL));
  INVALID(deltallm_model_meta_value(m, "general.architecture", NULL, 10, &len));

  deltallm_memory_info mem;
  mem.size = sizeof mem;
  deltallm_context_params cp = deltallm_context_default_params();
  cp.n_ctx = 128;
  OK(deltallm_model_memory_needed(m, &cp, &mem));
  CHECK(mem.total == mem.kv_cache + mem.recurrent_state + mem.workspace && mem.kv_cache > 0);
  CHECK(mem.recurrent_state > 0 && mem.weights == info.weight_bytes);
  OK(deltallm_model_memory_needed(m, NULL, &mem));
  cp.n_seq = 0;
  INVALID(deltallm_model_memory_needed(m, &cp, &mem));
  cp = deltallm_context_default_params();
  cp.size = 1;
  INVALID(deltallm_model_memory_needed(m, &cp, &mem));
  INVALID(deltallm_model_memory_needed(m, NULL, NULL));
  INVALID(deltallm_model_memory_needed(NULL, NULL, &mem));
}

static void vocab_calls(const deltallm_model* m) {
  deltallm_vocab_info v;
  v.size = sizeof v;
  INVALID(deltallm_model_get_vocab_info(NULL, &v));
  OK(deltallm_model_get_vocab_info(m, &v));
  CHECK(v.n_tokens > 256 && v.eos >= 0 && v.newline >= 0 && !v.add_bos);
  CHECK(strcmp(v.tokenizer_model, "gpt2") == 0 && strcmp(v.pre_type, "qwen35") == 0);
  v.size = 4;
  INVALID(deltallm_model_get_vocab_info(m, &v));
  v.size = sizeof v;
  OK(deltallm_model_get_vocab_info(m, &v));

  const char* text = NULL;
  OK(deltallm_token_get_text(m, v.eos, &text));
  CHECK(text && strcmp(text, "<|endoftext|>") == 0);
  INVALID(deltallm_token_get_text(m, -1, &text));
  INVALID(deltallm_token_get_text(m, v.n_tokens, &text));
  INVALID(deltallm_token_get_text(m, 0, NULL));
  deltallm_token_type type;
  OK(deltallm_token_get_type(m, v.eos, &type));
  CHECK(type == DELTALLM_TOKEN_CONTROL);
  OK(deltallm_token_get_type(m, v.n_tokens - 1, &type));
  CHECK(type == DELTALLM_TOKEN_UNUSED);
  INVALID(deltallm_token_get_type(m, 1 << 30, &type));
  INVALID(deltallm_token_get_type(NULL, 0, &type));
  bool eog = false;
  OK(deltallm_token_is_eog(m, v.eos, &eog));
  CHECK(eog);
  OK(deltallm_token_is_eog(m, v.newline, &eog));
  CHECK(!eog);
  INVALID(deltallm_token_is_eog(m, -5, &eog));
  INVALID(deltallm_token_is_eog(m, 0, NULL));

  /* tokenize / detokenize */
  const char* hello = "Hello world, hello <|im_end|>";
  int32_t ids[64];
  size_t n = 0;
  OK(deltallm_tokenize(m, hello, strlen(hello), DELTALLM_TOKENIZE_PARSE_SPECIAL, ids, 64, &n));
  CHECK(n > 2 && n < 30);
  size_t n2 = 0;
  CHECK_ST(deltallm_tokenize(m, hello, strlen(hello), DELTALLM_TOKENIZE_PARSE_SPECIAL, ids, 1, &n2),
           DELTALLM_ERR_BUFFER_TOO_SMALL);
  CHECK(n2 == n);
  CHECK_ST(deltallm_tokenize(m, hello, strlen(hello), DELTALLM_TOKENIZE_PARSE_SPECIAL, NULL, 0, &n2),
           DELTALLM_ERR_BUFFER_TOO_SMALL);
  INVALID(deltallm_tokenize(m, hello, strlen(hello), 0x80, ids, 64, &n2));
  INVALID(deltallm_tokenize(m, NULL, 5, 0, ids, 64, &n2));
  INVALID(deltallm_tokenize(m, hello, 5, 0, NULL, 64, &n2));
  INVALID(deltallm_tokenize(m, hello, 5, 0, ids, 64, NULL));
  INVALID(deltallm_tokenize(NULL, hello, 5, 0, ids, 64, &n2));
  INVALID(deltallm_tokenize(m, "\xc3\x28", 2, 0, ids, 64, &n2)); /* invalid UTF-8 */
  OK(deltallm_tokenize(m, "", 0, 0, NULL, 0, &n2));
  CHECK(n2 == 0);
  OK(deltallm_tokenize(m, NULL, 0, DELTALLM_TOKENIZE_ADD_SPECIAL, ids, 64, &n2));
  CHECK(n2 == 0); /* no BOS for this model */
  /* the special token is one id with PARSE_SPECIAL, several without */
  size_t n_plain = 0;
  int32_t plain[64];
  OK(deltallm_tokenize(m, hello, strlen(hello), 0, plain, 64, &n_plain));
  CHECK(n_plain > n);

  char out[128];
  size_t len = 0;
  OK(deltallm_detokenize(m, ids, n, DELTALLM_DETOKENIZE_RENDER_SPECIAL, out, sizeof out, &len));
  CHECK(strcmp(out, hello) == 0 && len == strlen(hello));
  OK(deltallm_detokenize(m, ids, n, 0, out, sizeof out, &len));
  CHECK(strcmp(out, "Hello world, hello ") == 0); /* control token rendered as "" */
  CHECK_ST(deltallm_detokenize(m, ids, n, 0, out, 4, &len), DELTALLM_ERR_BUFFER_TOO_SMALL);
  CHECK(len == strlen("Hello world, hello "));
  int32_t bad_ids[2] = {0, 99999};
  INVALID(deltallm_detokenize(m, bad_ids, 2, 0, out, sizeof out, &len));
  INVALID(deltallm_detokenize(m, NULL, 2, 0, out, sizeof out, &len));
  INVALID(deltallm_detokenize(m, ids, n, 0x10, out, sizeof out, &len));
  OK(deltallm_detokenize(m, NULL, 0, 0, out, sizeof out, &len));
  CHECK(len == 0 && out[0] == '\0');

  char piece[64];
  OK(deltallm_token_to_piece(m, ids[0], 0, piece, sizeof piece, &len));
  CHECK(len > 0 && strncmp(hello, piece, len) == 0);
  OK(deltallm_token_to_piece(m, v.eos, 0, piece, sizeof piece, &len));
  CHECK(len == 0);
  OK(deltallm_token_to_piece(m, v.eos, DELTALLM_DETOKENIZE_RENDER_SPECIAL, piece, sizeof piece, &len));
  CHECK(strcmp(piece, "<|endoftext|>") == 0);
  INVALID(deltallm_token_to_piece(m, -1, 0, piece, sizeof piece, &len));
  CHECK_ST(deltallm_token_to_piece(m, ids[0], 0, piece, 1, &len), DELTALLM_ERR_BUFFER_TOO_SMALL);

  /* streaming: "é" is two bytes; split across byte tokens it waits */
  deltallm_detokenizer* dt = NULL;
  INVALID(deltallm_detokenizer_create(NULL, 0, &dt));
  INVALID(deltallm_detokenizer_create(m, 0, NULL));
  INVALID(deltallm_detokenizer_create(m, 0x40, &dt));
  OK(deltallm_detokenizer_create(m, 0, &dt));
  const char* cafe = "caf\xc3\xa9!";
  int32_t cids[16];
  size_t nc = 0;
  OK(deltallm_tokenize(m, cafe, strlen(cafe), 0, cids, 16, &nc));
  char acc[64] = {0};
  size_t acc_len = 0;
  for (size_t i = 0; i < nc; ++i) {
    const char* t = NULL;
    size_t tl = 0;
    OK(deltallm_detokenizer_push(dt, cids[i], &t, &tl));
    /* never half a character */
    for (size_t k = 0; k < tl; ++k) CHECK(!(k + 1 == tl && ((unsigned char)t[k] & 0xE0) == 0xC0));
    memcpy(acc + acc_len, t, tl);
    acc_len += tl;
  }
  const char* t = NULL;
  size_t tl = 0;
  OK(deltallm_detokenizer_flush(dt, &t, &tl));
  memcpy(acc + acc_len, t, tl);
  acc_len += tl;
  CHECK(acc_len == strlen(cafe) && memcmp(acc, cafe, acc_len) == 0);
  INVALID(deltallm_detokenizer_push(dt, -3, &t, &tl));
  INVALID(deltallm_detokenizer_push(NULL, 0, &t, &tl));
  INVALID(deltallm_detokenizer_push(dt, 0, NULL, &tl));
  INVALID(deltallm_detokenizer_flush(NULL, &t, &tl));
  INVALID(deltallm_detokenizer_flush(dt, &t, NULL));
  deltallm_detokenizer_free(dt);
}

static void chat_calls(const deltallm_model* m) {
  const char* tmpl = NULL;
  OK(deltallm_model_chat_template(m, NULL, &tmpl));
  CHECK(tmpl && strstr(tmpl, "im_start") != NULL);
  CHECK_ST(deltallm_model_chat_template(m, "tool_use", &tmpl), DELTALLM_ERR_NOT_AVAILABLE);
  INVALID(deltallm_model_chat_template(NULL, NULL, &tmpl));
  INVALID(deltallm_model_chat_template(m, NULL, NULL));

  deltallm_chat_params p = deltallm_chat_default_params();
  CHECK(p.size == sizeof p && p.add_generation_prompt && p.enable_thinking == -1 && !p.tools_json &&
        !p.template_text && !p.template_kwargs_json);
  deltallm_chat_message msgs[2] = {{"system", "You are terse."}, {"user", "Hi!"}};
  char buf[512];
  size_t len = 0;
  OK(deltallm_chat_apply_template(m, msgs, 2, &p, buf, sizeof buf, &len));
  CHECK(strstr(buf, "<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n") != NULL);
  OK(deltallm_chat_apply_template(m, msgs, 2, NULL, buf, sizeof buf, &len));
  CHECK_ST(deltallm_chat_apply_template(m, msgs, 2, &p, buf, 10, &len), DELTALLM_ERR_BUFFER_TOO_SMALL);
  CHECK(len > 10);
  p.add_generation_prompt = false;
  OK(deltallm_chat_apply_template(m, msgs, 2, &p, buf, sizeof buf, &len));
  CHECK(strstr(buf, "assistant") == NULL);
  OK(deltallm_chat_apply_template_json(m, "[{\"role\":\"user\",\"content\":\"Hi!\"}]", &p, buf, sizeof buf, &len));
  CHECK(strstr(buf, "Hi!") != NULL);
  INVALID(deltallm_chat_apply_template_json(m, "not json", &p, buf, sizeof buf, &len));
  INVALID(deltallm_chat_apply_template_json(m, "{\"role\":1}", &p, buf, sizeof buf, &len));
  INVALID(deltallm_chat_apply_template_json(m, NULL, &p, buf, sizeof buf, &len));
  INVALID(deltallm_chat_apply_template(m, NULL, 2, &p, buf, sizeof buf, &len));
  deltallm_chat_message bad = {NULL, "x"};
  INVALID(deltallm_chat_apply_template(m, &bad, 1, &p, buf, sizeof buf, &len));
  p.enable_thinking = 5;
  INVALID(deltallm_chat_apply_template(m, msgs, 2, &p, buf, sizeof buf, &len));
  p = deltallm_chat_default_params();
  p.tools_json = "[{";
  INVALID(deltallm_chat_apply_template(m, msgs, 2, &p, buf, sizeof buf, &len));
  p = deltallm_chat_default_params();
  p.template_text = "{% if %}";
  CHECK_ST(deltallm_chat_apply_template(m, msgs, 2, &p, buf, sizeof buf, &len), DELTALLM_ERR_FORMAT);
  p.template_text = "{{ messages | length }}{% if enable_thinking is defined %}T{% endif %}";
  p.enable_thinking = 0;
  OK(deltallm_chat_apply_template(m, msgs, 2, &p, buf, sizeof buf, &len));
  CHECK(strcmp(buf, "2T") == 0);
  /* template kwargs reach the template; the explicit enable_thinking wins */
  p.template_text = "{{ effort }}{{ enable_thinking }}";
  p.template_kwargs_json = "{\"effort\": \"low\", \"enable_thinking\": true}";
  OK(deltallm_chat_apply_template(m, msgs, 2, &p, buf, sizeof buf, &len));
  CHECK(strcmp(buf, "lowFalse") == 0 || strcmp(buf, "lowfalse") == 0);
  p.enable_thinking = -1;
  OK(deltallm_chat_apply_template(m, msgs, 2, &p, buf, sizeof buf, &len));
  CHECK(strcmp(buf, "lowTrue") == 0 || strcmp(buf, "lowtrue") == 0);
  p.template_kwargs_json = "[1]";
  INVALID(deltallm_chat_apply_template(m, msgs, 2, &p, buf, sizeof buf, &len));
  p.template_kwargs_json = "{\"messages\": []}";
  INVALID(deltallm_chat_apply_template(m, msgs, 2, &p, buf, sizeof buf, &len));
  p.template_kwargs_json = "{";
  INVALID(deltallm_chat_apply_template(m, msgs, 2, &p, buf, sizeof buf, &len));
  p.template_kwargs_json = NULL;
  p.size = 0;
  INVALID(deltallm_chat_apply_template(m, msgs, 2, &p, buf, sizeof buf, &len));
}

static void context_calls(const deltallm_model* m, const char* model_path) {
  deltallm_context* c = NULL;
  deltallm_context_params p = deltallm_context_default_params();
  CHECK(p.size == sizeof p && p.n_ctx == 0 && p.n_seq == 1 && p.n_batch == 512 && p.n_threads == 0 &&
        p.kv_type == DELTALLM_KV_F16 && p.abort_callback == NULL);
  INVALID(deltallm_context_create(NULL, &p, &c));
  INVALID(deltallm_context_create(m, &p, NULL));
  p.n_seq = 0;
  INVALID(deltallm_context_create(m, &p, &c));
  p.n_seq = 1;
  p.n_ctx = -4;
  INVALID(deltallm_context_create(m, &p, &c));
  p.n_ctx = 64;
  p.n_batch = 0;
  INVALID(deltallm_context_create(m, &p, &c));
  p.n_batch = 16;
  p.kv_type = (deltallm_kv_type)9;
  INVALID(deltallm_context_create(m, &p, &c));
  p.kv_type = DELTALLM_KV_F16;
  p.n_threads = -1;
  INVALID(deltallm_context_create(m, &p, &c));
  p.n_threads = 2;
  p.size = sizeof p - 1;
  INVALID(deltallm_context_create(m, &p, &c));
  CHECK(c == NULL);
  p.size = sizeof p;
  p.n_seq = 2;
  p.abort_callback = never_abort;
  OK(deltallm_context_create(m, &p, &c));
  CHECK(c != NULL);
  if (!c) return;

  deltallm_context_info ci;
  ci.size = sizeof ci;
  OK(deltallm_context_get_info(c, &ci));
  CHECK(ci.n_ctx == 64 && ci.n_seq == 2 && ci.n_batch == 16 && ci.n_threads == 2 && ci.kv_type == DELTALLM_KV_F16 &&
        ci.n_vocab == 1024);
  INVALID(deltallm_context_get_info(NULL, &ci));
  ci.size = 0;
  INVALID(deltallm_context_get_info(c, &ci));
  deltallm_memory_info mem, need;
  mem.size = need.size = sizeof mem;
  OK(deltallm_context_get_memory(c, &mem));
  OK(deltallm_model_memory_needed(m, &p, &need));
  CHECK(mem.total == need.total && mem.kv_cache == need.kv_cache);
  INVALID(deltallm_context_get_memory(NULL, &mem));
  const char* plan = NULL;
  OK(deltallm_context_memory_plan(c, &plan));
  CHECK(plan && strstr(plan, "KV") != NULL);
  INVALID(deltallm_context_memory_plan(c, NULL));
  OK(deltallm_context_set_abort_callback(c, NULL, NULL));
  INVALID(deltallm_context_set_abort_callback(NULL, NULL, NULL));

  /* decode errors */
  deltallm_batch b = deltallm_batch_default_params();
  CHECK(b.size == sizeof b && b.n_tokens == 0 && b.tokens == NULL);
  int32_t toks[8] = {10, 20, 30, 40, 50, 60, 70, 80};
  INVALID(deltallm_decode(c, NULL));
  INVALID(deltallm_decode(NULL, &b));
  INVALID(deltallm_decode(c, &b)); /* empty */
  b.n_tokens = 8;
  INVALID(deltallm_decode(c, &b)); /* NULL tokens */
  b.tokens = toks;
  b.size = 8;
  INVALID(deltallm_decode(c, &b)); /* wrong size */
  b.size = sizeof b;
  int32_t bad_tok[1] = {5000};
  deltallm_batch bb = b;
  bb.n_tokens = 1;
  bb.tokens = bad_tok;
  INVALID(deltallm_decode(c, &bb));
  int32_t seqs[8] = {0, 0, 0, 0, 7, 0, 0, 0};
  bb = b;
  bb.seq_ids = seqs;
  INVALID(deltallm_decode(c, &bb));
  int64_t pos[8] = {0, 1, 2, 4, 5, 6, 7, 8}; /* gap */
  bb = b;
  bb.pos = pos;
  INVALID(deltallm_decode(c, &bb));
  int64_t far[1] = {64};
  bb = b;
  bb.n_tokens = 1;
  bb.pos = far;
  CHECK_ST(deltallm_decode(c, &bb), DELTALLM_ERR_CONTEXT_FULL);
  int64_t len = -1;
  OK(deltallm_seq_length(c, 0, &len));
  CHECK(len == 0); /* nothing changed */
  const float* logits = NULL;
  INVALID(deltallm_get_logits(c, -1, &logits)); /* no decode yet */

  /* good decodes: seq 0 gets 8 tokens with logits for all; seq 1 continues later */
  int8_t want_all[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  b.logits = want_all;
  activation_seen seen = {0, 0, {0}};
  OK(deltallm_context_set_activation_callback(c, on_activation, &seen));
  INVALID(deltallm_context_set_activation_callback(NULL, on_activation, &seen));
  OK(deltallm_decode(c, &b));
  CHECK(seen.calls > 0 && strncmp(seen.first, "blk.0.", 6) == 0 && seen.rows_of_first == 8);
  OK(deltallm_context_set_activation_callback(c, NULL, NULL));
  int32_t nl = 0;
  OK(deltallm_get_n_logits(c, &nl));
  CHECK(nl == 8);
  INVALID(deltallm_get_n_logits(c, NULL));
  OK(deltallm_get_logits(c, 0, &logits));
  const float* last = NULL;
  OK(deltallm_get_logits(c, -1, &last));
  const float* row7 = NULL;
  OK(deltallm_get_logits(c, 7, &row7));
  CHECK(last == row7 && logits != last);
  for (int i = 0; i < 1024; ++i) CHECK(isfinite(last[i]));
  INVALID(deltallm_get_logits(c, 8, &logits));
  INVALID(deltallm_get_logits(c, -2, &logits));
  INVALID(deltallm_get_logits(c, 0, NULL));
  OK(deltallm_seq_length(c, 0, &len));
  CHECK(len == 8);
  INVALID(deltallm_seq_length(c, 2, &len));
  INVALID(deltallm_seq_length(c, 0, NULL));

  /* copy / keep / clear */
  OK(deltallm_seq_copy(c, 0, 1));
  OK(deltallm_seq_length(c, 1, &len));
  CHECK(len == 8);
  INVALID(deltallm_seq_copy(c, 0, 2));
  INVALID(deltallm_seq_copy(c, -1, 1));
  OK(deltallm_seq_keep(c, 1));
  OK(deltallm_seq_length(c, 0, &len));
  CHECK(len == 0);
  OK(deltallm_seq_length(c, 1, &len));
  CHECK(len == 8);
  INVALID(deltallm_seq_keep(c, 5));
  INVALID(deltallm_seq_clear(c, 2));
  INVALID(deltallm_seq_clear(c, -2));
  INVALID(deltallm_seq_clear(NULL, 0));

  /* snapshots: seq 1 -> buffer -> seq 0; to a file and back */
  size_t size = 0, got = 0;
  OK(deltallm_seq_state_size(c, 1, &size));
  CHECK(size > 32);
  INVALID(deltallm_seq_state_size(c, 9, &size));
  INVALID(deltallm_seq_state_size(c, 1, NULL));
  void* snap = malloc(size);
  CHECK_ST(deltallm_seq_state_save(c, 1, snap, size - 1, &got), DELTALLM_ERR_BUFFER_TOO_SMALL);
  CHECK(got == size);
  OK(deltallm_seq_state_save(c, 1, snap, size, &got));
  INVALID(deltallm_seq_state_save(c, 3, snap, size, &got));
  INVALID(deltallm_seq_state_save(NULL, 1, snap, size, &got));
  OK(deltallm_seq_state_load(c, 0, snap, size));
  OK(deltallm_seq_length(c, 0, &len));
  CHECK(len == 8);
  CHECK_ST(deltallm_seq_state_load(c, 0, snap, 10), DELTALLM_ERR_FORMAT);
  INVALID(deltallm_seq_state_load(c, 0, NULL, size));
  INVALID(deltallm_seq_state_load(c, 4, snap, size));
  char path[512];
  tmp_path(path, sizeof path, "seq.state");
  OK(deltallm_seq_state_save_file(c, 1, path));
  OK(deltallm_seq_clear(c, -1));
  OK(deltallm_seq_length(c, 1, &len));
  CHECK(len == 0);
  OK(deltallm_seq_state_load_file(c, 1, path));
  OK(deltallm_seq_length(c, 1, &len));
  CHECK(len == 8);
  CHECK_ST(deltallm_seq_state_load_file(c, 1, "/nonexistent/seq.state"), DELTALLM_ERR_IO);
  tmp_path(path, sizeof path, "garbage.state");
  write_file(path, "garbage");
  CHECK_ST(deltallm_seq_state_load_file(c, 1, path), DELTALLM_ERR_FORMAT);
  CHECK_ST(deltallm_seq_state_save_file(c, 1, "/nonexistent/dir/seq.state"), DELTALLM_ERR_IO);
  INVALID(deltallm_seq_state_save_file(c, 1, NULL));
  INVALID(deltallm_seq_state_load_file(c, 1, NULL));
  free(snap);

  /* sampler */
  deltallm_sampler_params sp = deltallm_sampler_default_params();
  CHECK(sp.size == sizeof sp && sp.seed == DELTALLM_SEED_RANDOM && sp.temp == 0.8f && sp.top_k == 40 &&
        sp.top_p == 0.95f && sp.min_p == 0.05f && sp.penalty_last_n == 64 && sp.penalty_repeat == 1.0f &&
        sp.penalty_freq == 0.0f && sp.penalty_present == 0.0f && !sp.penalize_nl && sp.logit_bias == NULL);
  deltallm_sampler* s = NULL;
  INVALID(deltallm_sampler_create(NULL, &sp, &s));
  INVALID(deltallm_sampler_create(m, &sp, NULL));
  sp.size = 0;
  INVALID(deltallm_sampler_create(m, &sp, &s));
  sp = deltallm_sampler_default_params();
  deltallm_logit_bias bias[2] = {{20, -INFINITY}, {5000, 1.0f}};
  sp.logit_bias = bias;
  sp.n_logit_bias = 2;
  INVALID(deltallm_sampler_create(m, &sp, &s)); /* token 5000 out of range */
  sp.n_logit_bias = 1;
  sp.seed = 42;
  sp.penalty_repeat = 1.3f;
  OK(deltallm_sampler_create(m, &sp, &s));
  uint32_t seed = 0;
  OK(deltallm_sampler_get_seed(s, &seed));
  CHECK(seed == 42);
  INVALID(deltallm_sampler_get_seed(NULL, &seed));
  INVALID(deltallm_sampler_get_seed(s, NULL));
  int32_t tok = -1;
  OK(deltallm_sampler_sample(s, c, -1, &tok));
  CHECK(tok >= 0 && tok < 1024 && tok != 20);
  INVALID(deltallm_sampler_sample(s, c, 99, &tok));
  INVALID(deltallm_sampler_sample(s, NULL, -1, &tok));
  INVALID(deltallm_sampler_sample(NULL, c, -1, &tok));
  INVALID(deltallm_sampler_sample(s, c, -1, NULL));
  OK(deltallm_sampler_accept(s, tok));
  INVALID(deltallm_sampler_accept(s, -1));
  INVALID(deltallm_sampler_accept(s, 1024));
  INVALID(deltallm_sampler_accept(NULL, 1));
  float flat[1024];
  for (int i = 0; i < 1024; ++i) flat[i] = 0.0f;
  OK(deltallm_sampler_sample_logits(s, flat, 1024, &tok));
  INVALID(deltallm_sampler_sample_logits(s, flat, 1000, &tok));
  INVALID(deltallm_sampler_sample_logits(s, NULL, 1024, &tok));
  OK(deltallm_sampler_reset(s));
  INVALID(deltallm_sampler_reset(NULL));
  deltallm_sampler_free(s);

  /* a chain built by hand */
  s = NULL;
  INVALID(deltallm_sampler_chain_create(NULL, 1, &s));
  INVALID(deltallm_sampler_chain_create(m, 1, NULL));
  OK(deltallm_sampler_chain_create(m, 7, &s));
  OK(deltallm_sampler_add_logit_bias(s, bias, 1));
  INVALID(deltallm_sampler_add_logit_bias(s, bias, 2));
  INVALID(deltallm_sampler_add_logit_bias(s, NULL, 1));
  OK(deltallm_sampler_add_penalties(s, 32, 1.1f, 0.1f, 0.1f, false));
  INVALID(deltallm_sampler_add_penalties(s, -5, 1.1f, 0.0f, 0.0f, false));
  INVALID(deltallm_sampler_add_penalties(s, 32, 0.0f, 0.0f, 0.0f, false));
  OK(deltallm_sampler_add_top_k(s, 20));
  OK(deltallm_sampler_add_top_p(s, 0.9f));
  INVALID(deltallm_sampler_add_top_p(s, NAN));
  OK(deltallm_sampler_add_min_p(s, 0.1f));
  INVALID(deltallm_sampler_add_min_p(s, 2.0f));
  OK(deltallm_sampler_add_temperature(s, 0.7f));
  INVALID(deltallm_sampler_add_temperature(s, 0.0f));
  OK(deltallm_sampler_set_min_keep(s, 2));
  INVALID(deltallm_sampler_set_min_keep(s, -1));
  OK(deltallm_sampler_add_dist(s));
  INVALID(deltallm_sampler_add_top_k(s, 5)); /* after a selecting stage */
  INVALID(deltallm_sampler_add_greedy(s));
  INVALID(deltallm_sampler_add_dist(NULL));
  OK(deltallm_sampler_sample(s, c, -1, &tok));
  CHECK(tok != 20);
  deltallm_sampler_free(s);
  OK(deltallm_sampler_chain_create(m, 7, &s));
  OK(deltallm_sampler_add_greedy(s));
  OK(deltallm_sampler_sample(s, c, -1, &tok));
  int best = 0;
  for (int i = 1; i < 1024; ++i)
    if (last[i] > last[best]) best = i;
  deltallm_token_type bt;
  OK(deltallm_token_get_type(m, best, &bt));
  if (bt != DELTALLM_TOKEN_UNUSED) CHECK(tok == best);
  deltallm_sampler_free(s);

  /* a vocab-only model: text works, no context, no sampler */
  deltallm_model* vm = NULL;
  deltallm_model_params mp = deltallm_model_default_params();
  mp.vocab_only = true;
  OK(deltallm_model_load(model_path, &mp, &vm));
  if (vm) {
    deltallm_model_info info;
    info.size = sizeof info;
    OK(deltallm_model_get_info(vm, &info));
    CHECK(info.vocab_only && info.n_vocab == 0);
    size_t n = 0;
    CHECK_ST(deltallm_tokenize(vm, "Hi", 2, 0, NULL, 0, &n), DELTALLM_ERR_BUFFER_TOO_SMALL);
    CHECK(n > 0);
    deltallm_context* vc = NULL;
    CHECK_ST(deltallm_context_create(vm, NULL, &vc), DELTALLM_ERR_NOT_AVAILABLE);
    deltallm_sampler* vs = NULL;
    CHECK_ST(deltallm_sampler_create(vm, NULL, &vs), DELTALLM_ERR_NOT_AVAILABLE);
    deltallm_memory_info vmem;
    vmem.size = sizeof vmem;
    CHECK_ST(deltallm_model_memory_needed(vm, NULL, &vmem), DELTALLM_ERR_NOT_AVAILABLE);
    deltallm_model_free(vm);
  }
  deltallm_context_free(c);
}

/* A short greedy generation, streamed through a detokenizer. */
static void generate(const deltallm_model* m) {
  deltallm_context* c = NULL;
  deltallm_context_params p = deltallm_context_default_params();
  p.n_ctx = 128;
  p.n_threads = 1;
  OK(deltallm_context_create(m, &p, &c));
  deltallm_sampler* s = NULL;
  /* greedy: with the default random seed the first token is end-of-generation now and then */
  deltallm_sampler_params sp = deltallm_sampler_default_params();
  sp.temp = 0.0f;
  sp.seed = 1;
  OK(deltallm_sampler_create(m, &sp, &s));
  deltallm_detokenizer* dt = NULL;
  OK(deltallm_detokenizer_create(m, 0, &dt));
  if (!c || !s || !dt) return;
  const char* prompt = "Once upon a time";
  int32_t ids[64];
  size_t n = 0;
  OK(deltallm_tokenize(m, prompt, strlen(prompt), DELTALLM_TOKENIZE_ADD_SPECIAL, ids, 64, &n));
  deltallm_batch b = deltallm_batch_default_params();
  b.n_tokens = (int32_t)n;
  b.tokens = ids;
  OK(deltallm_decode(c, &b));
  for (size_t i = 0; i < n; ++i) OK(deltallm_sampler_accept(s, ids[i]));
  int produced = 0;
  for (int i = 0; i < 12; ++i) {
    int32_t tok = -1;
    OK(deltallm_sampler_sample(s, c, -1, &tok));
    OK(deltallm_sampler_accept(s, tok));
    bool eog = false;
    OK(deltallm_token_is_eog(m, tok, &eog));
    if (eog) break;
    const char* t = NULL;
    size_t tl = 0;
    OK(deltallm_detokenizer_push(dt, tok, &t, &tl));
    ++produced;
    b.n_tokens = 1;
    b.tokens = &tok;
    OK(deltallm_decode(c, &b));
  }
  CHECK(produced > 0);
  deltallm_detokenizer_free(dt);
  deltallm_sampler_free(s);
  deltallm_context_free(c);
}

/* Speculative-decoding rollback: 1 + 4 tokens in one batch, roll back to
 * keep 2 of them, continue; the logits equal those of a context that only
 * ever saw the kept tokens, bit for bit. */
static void rollback_calls(const deltallm_model* m) {
  deltallm_context_params p = deltallm_context_default_params();
  p.n_ctx = 64;
  p.n_threads = 1;
  p.n_batch = 8;
  p.n_rollback = 9;
  deltallm_context* c = NULL;
  INVALID(deltallm_context_create(m, &p, &c)); /* more than n_batch */
  p.n_rollback = -1;
  INVALID(deltallm_context_create(m, &p, &c));
  p.n_rollback = 5;
  deltallm_memory_info mi;
  memset(&mi, 0, sizeof mi);
  mi.size = sizeof mi;
  OK(deltallm_model_memory_needed(m, &p, &mi));
  CHECK(mi.checkpoints == 5 * mi.recurrent_state);
  OK(deltallm_context_create(m, &p, &c));
  deltallm_context* ref = NULL;
  p.n_rollback = 0;
  OK(deltallm_context_create(m, &p, &ref));
  if (!c || !ref) return;
  deltallm_context_info ci;
  memset(&ci, 0, sizeof ci);
  ci.size = sizeof ci;
  OK(deltallm_context_get_info(c, &ci));
  CHECK(ci.n_rollback == 5);

  const int32_t prompt[3] = {11, 12, 13}, drafts[5] = {21, 22, 23, 24, 25}, next = 31;
  deltallm_batch b = deltallm_batch_default_params();
  b.n_tokens = 3;
  b.tokens = prompt;
  OK(deltallm_decode(c, &b));
  OK(deltallm_decode(ref, &b));
  /* a context without n_rollback keeps no checkpoints */
  CHECK_ST(deltallm_seq_rollback(ref, 0, 2), DELTALLM_ERR_NOT_AVAILABLE);
  b.n_tokens = 5;
  b.tokens = drafts;
  OK(deltallm_decode(c, &b));
  int64_t len = 0;
  OK(deltallm_seq_length(c, 0, &len));
  CHECK(len == 8);
  CHECK_ST(deltallm_seq_rollback(c, 0, 3), DELTALLM_ERR_NOT_AVAILABLE); /* before the batch */
  INVALID(deltallm_seq_rollback(c, 0, 9));
  INVALID(deltallm_seq_rollback(c, 0, -1));
  INVALID(deltallm_seq_rollback(c, 1, 5));
  INVALID(deltallm_seq_rollback(NULL, 0, 5));
  OK(deltallm_seq_rollback(c, 0, 8)); /* nothing to do */
  OK(deltallm_seq_rollback(c, 0, 5)); /* keep drafts 21, 22 */
  OK(deltallm_seq_length(c, 0, &len));
  CHECK(len == 5);
  b.n_tokens = 1;
  b.tokens = &next;
  OK(deltallm_decode(c, &b));
  b.n_tokens = 2;
  b.tokens = drafts;
  OK(deltallm_decode(ref, &b));
  b.n_tokens = 1;
  b.tokens = &next;
  OK(deltallm_decode(ref, &b));
  const float* got = NULL;
  const float* want = NULL;
  OK(deltallm_get_logits(c, -1, &got));
  OK(deltallm_get_logits(ref, -1, &want));
  CHECK(got && want && memcmp(got, want, 1024 * sizeof(float)) == 0);
  OK(deltallm_seq_rollback(c, 0, 0)); /* empties it */
  OK(deltallm_seq_length(c, 0, &len));
  CHECK(len == 0);
  deltallm_context_free(ref);
  deltallm_context_free(c);
}

/* Last-position logits of 5 tokens decoded in a fresh context. */
static void logits_of(const deltallm_model* m, float* out, int32_t n_vocab) {
  deltallm_context_params p = deltallm_context_default_params();
  p.n_ctx = 16;
  p.n_threads = 2;
  deltallm_context* c = NULL;
  OK(deltallm_context_create(m, &p, &c));
  if (!c) return;
  const int32_t toks[5] = {3, 14, 15, 92, 65};
  deltallm_batch b = deltallm_batch_default_params();
  b.n_tokens = 5;
  b.tokens = toks;
  OK(deltallm_decode(c, &b));
  const float* l = NULL;
  OK(deltallm_get_logits(c, -1, &l));
  if (l) memcpy(out, l, (size_t)n_vocab * sizeof(float));
  deltallm_context_free(c);
}

/* The weights mapped or copied into memory: the same logits, bit for bit,
 * and the copy reports its progress. */
static void weight_memory_calls(const char* model_path) {
  float* want = NULL;
  int32_t n_vocab = 0;
  for (int mode = DELTALLM_WEIGHTS_AUTO; mode <= DELTALLM_WEIGHTS_COPY; ++mode) {
    deltallm_model_params p = deltallm_model_default_params();
    p.weight_memory = mode;
    progress_state ps = {0, 0.0f, 1, 0};
    p.progress_callback = on_progress;
    p.progress_user_data = &ps;
    deltallm_model* m = NULL;
    OK(deltallm_model_load(model_path, &p, &m));
    if (!m) return;
    CHECK(ps.calls >= 3 && ps.monotonic && ps.last == 1.0f);
    deltallm_model_info info;
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    OK(deltallm_model_get_info(m, &info));
    if (!want) {
      n_vocab = info.n_vocab;
      want = (float*)calloc((size_t)n_vocab, sizeof(float));
      if (want) logits_of(m, want, n_vocab);
    } else if (info.n_vocab == n_vocab) {
      float* got = (float*)calloc((size_t)n_vocab, sizeof(float));
      if (got) logits_of(m, got, n_vocab);
      CHECK(got && memcmp(got, want, (size_t)n_vocab * sizeof(float)) == 0);
      free(got);
    } else {
      CHECK(0);
    }
    deltallm_model_free(m);
  }
  free(want);
}

/* A log callback that calls back into the library (which logs again on the
 * same thread) and makes a call fail: no deadlock, and the caller's own
 * error is still the one deltallm_last_error reports afterwards. */
static int reentrant_logs = 0;
static void reentrant_log(int level, const char* text, void* user_data) {
  (void)level;
  (void)text;
  (void)user_data;
  ++reentrant_logs;
  if (reentrant_logs > 50) return;
  deltallm_set_log_level(DELTALLM_LOG_DEBUG);
  (void)deltallm_version();
  (void)deltallm_capability_value(DELTALLM_CAP_HARDWARE_THREADS);
  (void)deltallm_model_load(NULL, NULL, NULL); /* fails inside the callback */
}

static void log_callback_reentry(const deltallm_model* m, int* logs) {
  deltallm_set_log_callback(reentrant_log, NULL);
  OK(deltallm_set_log_level(DELTALLM_LOG_DEBUG));
  deltallm_context_params cp = deltallm_context_default_params();
  cp.n_ctx = 16;
  cp.n_threads = 1;
  deltallm_context* c = NULL;
  OK(deltallm_context_create(m, &cp, &c)); /* logs its memory plan at debug level */
  CHECK(reentrant_logs > 0);
  deltallm_context_free(c);
  cp.n_ctx = -5;
  INVALID(deltallm_context_create(m, &cp, &c));
  CHECK(strstr(deltallm_last_error(), "deltallm_context_create") != NULL);
  deltallm_set_log_callback(on_log, logs);
}

/* sample_accept == sample + accept; accept_tokens == accepts one by one, and
 * all or nothing. Penalties make the accepted history matter. */
static void sampler_variants(const deltallm_model* m) {
  CHECK(deltallm_abi_version() == DELTALLM_ABI_VERSION);
  deltallm_sampler_params sp = deltallm_sampler_default_params();
  sp.seed = 11;
  sp.penalty_repeat = 1.5f;
  sp.penalty_last_n = 64;
  deltallm_sampler *a = NULL, *b = NULL;
  OK(deltallm_sampler_create(m, &sp, &a));
  OK(deltallm_sampler_create(m, &sp, &b));
  if (!a || !b) return;
  const int32_t prompt[4] = {3, 9, 9, 27};
  const int32_t bad[3] = {3, 1 << 30, 9};
  INVALID(deltallm_sampler_accept_tokens(a, bad, 3));
  INVALID(deltallm_sampler_accept_tokens(a, NULL, 2));
  OK(deltallm_sampler_accept_tokens(a, NULL, 0));
  OK(deltallm_sampler_accept_tokens(a, prompt, 4));
  for (int k = 0; k < 4; ++k) OK(deltallm_sampler_accept(b, prompt[k]));
  float* logits = (float*)calloc(1024, sizeof(float));
  if (!logits) return;
  for (int step = 0; step < 6; ++step) {
    for (int v = 0; v < 1024; ++v) logits[v] = (float)((v * 37 + step * 11) % 101) / 25.0f;
    int32_t ta = -1, tb = -1;
    OK(deltallm_sampler_sample_logits(a, logits, 1024, &ta));
    OK(deltallm_sampler_accept(a, ta));
    OK(deltallm_sampler_sample_logits(b, logits, 1024, &tb));
    OK(deltallm_sampler_accept(b, tb));
    CHECK(ta == tb && ta >= 0);
  }
  free(logits);
  deltallm_sampler_free(a);
  deltallm_sampler_free(b);

  /* sample_accept against a context's logits */
  deltallm_context_params cp = deltallm_context_default_params();
  cp.n_ctx = 32;
  cp.n_threads = 1;
  deltallm_context* c = NULL;
  OK(deltallm_context_create(m, &cp, &c));
  OK(deltallm_sampler_create(m, &sp, &a));
  OK(deltallm_sampler_create(m, &sp, &b));
  if (!c || !a || !b) return;
  int32_t tok = 7;
  for (int step = 0; step < 5; ++step) {
    deltallm_batch batch = deltallm_batch_default_params();
    batch.n_tokens = 1;
    batch.tokens = &tok;
    OK(deltallm_decode(c, &batch));
    int32_t ta = -1, tb = -1;
    OK(deltallm_sampler_sample_accept(a, c, -1, &ta));
    OK(deltallm_sampler_sample(b, c, -1, &tb));
    OK(deltallm_sampler_accept(b, tb));
    CHECK(ta == tb);
    tok = ta;
  }
  INVALID(deltallm_sampler_sample_accept(a, c, 5, &tok));
  deltallm_sampler_free(a);
  deltallm_sampler_free(b);
  deltallm_context_free(c);
}

/* A context, sampler and detokenizer keep their model alive: the model is
 * freed first and they go on working (ASan checks nothing is used after free). */
static void model_freed_first(const char* model_path) {
  deltallm_model* m = NULL;
  OK(deltallm_model_load(model_path, NULL, &m));
  if (!m) return;
  deltallm_context_params cp = deltallm_context_default_params();
  cp.n_ctx = 16;
  cp.n_threads = 1;
  deltallm_context* c = NULL;
  deltallm_sampler* s = NULL;
  deltallm_detokenizer* d = NULL;
  OK(deltallm_context_create(m, &cp, &c));
  OK(deltallm_sampler_chain_create(m, 7, &s));
  OK(deltallm_sampler_add_greedy(s));
  OK(deltallm_detokenizer_create(m, 0, &d));
  deltallm_model_free(m);
  const int32_t toks[2] = {5, 6};
  deltallm_batch b = deltallm_batch_default_params();
  b.n_tokens = 2;
  b.tokens = toks;
  OK(deltallm_decode(c, &b));
  int32_t tok = -1;
  OK(deltallm_sampler_sample(s, c, -1, &tok));
  CHECK(tok >= 0);
  const char* text = NULL;
  size_t len = 0;
  OK(deltallm_detokenizer_push(d, tok, &text, &len));
  deltallm_sampler_free(s);
  deltallm_context_free(c);
  OK(deltallm_detokenizer_flush(d, &text, &len));
  deltallm_detokenizer_free(d);  /* the last hold: the model goes now */
}

/* Prompt-cache checkpoints: save at a length, move on, restore, continue. */
static void checkpoint_calls(const deltallm_model* m) {
  deltallm_context_params p = deltallm_context_default_params();
  p.n_ctx = 64;
  p.n_threads = 1;
  deltallm_context* c = NULL;
  OK(deltallm_context_create(m, &p, &c));
  if (!c) return;
  const int32_t prompt[3] = {11, 12, 13}, more[2] = {14, 15};
  deltallm_batch b = deltallm_batch_default_params();
  b.n_tokens = 3;
  b.tokens = prompt;
  OK(deltallm_decode(c, &b));
  size_t size = 0, len = 0;
  INVALID(deltallm_seq_checkpoint_size(NULL, &size));
  INVALID(deltallm_seq_checkpoint_size(c, NULL));
  OK(deltallm_seq_checkpoint_size(c, &size));
  CHECK_ST(deltallm_seq_checkpoint_save(c, 0, NULL, 0, &len), DELTALLM_ERR_BUFFER_TOO_SMALL);
  CHECK(len == size);
  INVALID(deltallm_seq_checkpoint_save(c, 1, NULL, 0, &len));
  unsigned char* buf = (unsigned char*)malloc(size);
  if (!buf) return;
  OK(deltallm_seq_checkpoint_save(c, 0, buf, size, &len));
  int64_t at = 0;
  OK(deltallm_seq_checkpoint_length(buf, size, &at));
  CHECK(at == 3);
  CHECK_ST(deltallm_seq_checkpoint_length(buf, 4, &at), DELTALLM_ERR_FORMAT);
  b.n_tokens = 2;
  b.tokens = more;
  OK(deltallm_decode(c, &b));
  INVALID(deltallm_seq_checkpoint_restore(NULL, 0, buf, size));
  CHECK_ST(deltallm_seq_checkpoint_restore(c, 0, buf, size - 1), DELTALLM_ERR_FORMAT);
  OK(deltallm_seq_checkpoint_restore(c, 0, buf, size));
  int64_t len2 = 0;
  OK(deltallm_seq_length(c, 0, &len2));
  CHECK(len2 == 3);
  OK(deltallm_seq_clear(c, 0));
  INVALID(deltallm_seq_checkpoint_restore(c, 0, buf, size)); /* its KV rows are gone */
  free(buf);
  deltallm_context_free(c);
}

/* The last error is per thread. */
static void* other_thread(void* arg) {
  char* seen = (char*)arg;
  strncpy(seen, deltallm_last_error(), 63);
  deltallm_context* c = NULL;
  deltallm_context_create(NULL, NULL, &c);
  strncpy(seen + 64, deltallm_last_error(), 63);
  return NULL;
}

static void thread_local_errors(void) {
  deltallm_model* m = NULL;
  CHECK_ST(deltallm_model_load("/nonexistent/a.gguf", NULL, &m), DELTALLM_ERR_IO);
  char mine[256];
  strncpy(mine, deltallm_last_error(), sizeof mine - 1);
  mine[sizeof mine - 1] = '\0';
  char seen[128];
  memset(seen, 0, sizeof seen);
  pthread_t th;
  CHECK(pthread_create(&th, NULL, other_thread, seen) == 0);
  pthread_join(th, NULL);
  CHECK(seen[0] == '\0');                                 /* nothing inherited */
  CHECK(strstr(seen + 64, "deltallm_context_create") != NULL); /* its own error */
  CHECK(strcmp(deltallm_last_error(), mine) == 0);        /* ours unchanged */
  CHECK(strstr(mine, "/nonexistent/a.gguf") != NULL);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s MODEL.gguf\n", argv[0]);
    return 2;
  }
  make_tmpdir();
  int logs = 0;
  deltallm_set_log_callback(on_log, &logs);
  library_calls();
  OK(deltallm_set_log_level(DELTALLM_LOG_DEBUG));
  load_errors(argv[1]);
  weight_memory_calls(argv[1]);
  model_freed_first(argv[1]);
  deltallm_model* m = load_model(argv[1]);
  if (m) {
    model_calls(m);
    vocab_calls(m);
    chat_calls(m);
    context_calls(m, argv[1]);
    generate(m);
    rollback_calls(m);
    sampler_variants(m);
    log_callback_reentry(m, &logs);
    checkpoint_calls(m);
    deltallm_model_free(m);
  }
  thread_local_errors();
  CHECK(logs > 0 && logs == log_count); /* at least the memory plans, at debug level */
  deltallm_set_log_callback(NULL, NULL);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  printf("%d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
