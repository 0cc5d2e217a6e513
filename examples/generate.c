/* Generate text with deltallm's C API: load a model, tokenize a prompt,
 * evaluate it, then sample and stream tokens until an end-of-generation
 * token or the token limit.
 *
 *   cc generate.c $(pkg-config --cflags --libs deltallm) -o generate
 *   ./generate MODEL.gguf "Once upon a time" 64
 *
 * (A model with random weights, such as `deltallm make-model` writes,
 * produces gibberish: the mechanics are the point.) */
#include <deltallm.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints the failing call and the library's message, then exits. */
static void check(deltallm_status st, const char* what) {
  if (st != DELTALLM_OK) {
    fprintf(stderr, "generate: %s: %s (%s)\n", what, deltallm_last_error(), deltallm_status_string(st));
    exit(1);
  }
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s MODEL.gguf PROMPT [N_TOKENS] [SEED]\n", argv[0]);
    return 2;
  }
  const char* path = argv[1];
  const char* prompt = argv[2];
  const int n_predict = argc > 3 ? atoi(argv[3]) : 32;
  const unsigned seed = argc > 4 ? (unsigned)strtoul(argv[4], NULL, 10) : 1u;

  deltallm_model* model = NULL;
  check(deltallm_model_load(path, NULL, &model), "load");

  /* Tokenize: ask for the count first, then fill. */
  size_t n_prompt = 0;
  deltallm_status st = deltallm_tokenize(model, prompt, strlen(prompt),
                                         DELTALLM_TOKENIZE_ADD_SPECIAL | DELTALLM_TOKENIZE_PARSE_SPECIAL, NULL, 0,
                                         &n_prompt);
  if (st != DELTALLM_ERR_BUFFER_TOO_SMALL) check(st, "tokenize");
  if (n_prompt == 0) {
    fprintf(stderr, "generate: the prompt gives no tokens\n");
    return 1;
  }
  int32_t* tokens = malloc(n_prompt * sizeof *tokens);
  if (!tokens) return 1;
  check(deltallm_tokenize(model, prompt, strlen(prompt),
                          DELTALLM_TOKENIZE_ADD_SPECIAL | DELTALLM_TOKENIZE_PARSE_SPECIAL, tokens, n_prompt,
                          &n_prompt),
        "tokenize");

  /* A context just big enough for the prompt and the answer. */
  deltallm_context_params cp = deltallm_context_default_params();
  cp.n_ctx = (int64_t)n_prompt + n_predict + 1;
  deltallm_context* ctx = NULL;
  check(deltallm_context_create(model, &cp, &ctx), "context");

  /* The standard sampler chain with a fixed seed (reproducible output). */
  deltallm_sampler_params sp = deltallm_sampler_default_params();
  sp.seed = seed;
  deltallm_sampler* sampler = NULL;
  check(deltallm_sampler_create(model, &sp, &sampler), "sampler");
  for (size_t i = 0; i < n_prompt; ++i) check(deltallm_sampler_accept(sampler, tokens[i]), "accept");

  deltallm_detokenizer* out = NULL;
  check(deltallm_detokenizer_create(model, 0, &out), "detokenizer");

  /* Evaluate the prompt in one batch (logits for its last token only). */
  deltallm_batch batch = deltallm_batch_default_params();
  batch.n_tokens = (int32_t)n_prompt;
  batch.tokens = tokens;
  check(deltallm_decode(ctx, &batch), "decode prompt");

  fputs(prompt, stdout);
  for (int i = 0; i < n_predict; ++i) {
    int32_t tok = 0;
    check(deltallm_sampler_sample(sampler, ctx, -1, &tok), "sample");
    check(deltallm_sampler_accept(sampler, tok), "accept");
    bool eog = false;
    check(deltallm_token_is_eog(model, tok, &eog), "is_eog");
    if (eog) break;
    const char* text = NULL;
    size_t len = 0;
    check(deltallm_detokenizer_push(out, tok, &text, &len), "detokenize");
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    /* Feed the token back: position and sequence follow on their own. */
    batch.n_tokens = 1;
    batch.tokens = &tok;
    check(deltallm_decode(ctx, &batch), "decode");
  }
  const char* tail = NULL;
  size_t tail_len = 0;
  check(deltallm_detokenizer_flush(out, &tail, &tail_len), "flush");
  fwrite(tail, 1, tail_len, stdout);
  fputc('\n', stdout);

  deltallm_detokenizer_free(out);
  deltallm_sampler_free(sampler);
  deltallm_context_free(ctx);
  deltallm_model_free(model);
  free(tokens);
  return 0;
}
