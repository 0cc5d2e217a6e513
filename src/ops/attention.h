// Causal softmax attention of one query token against one sequence's KV cache
// (models.md §3.3 step 6). K/V rows hold n_kv_heads * head_dim values, stored
// as f16 (the reference's default) or f32.
#pragma once
#include <cstdint>

namespace dllm {

struct KvRows {
  const void* k = nullptr;  // [n_kv][n_kv_heads * head_dim]
  const void* v = nullptr;  // [n_kv][n_kv_heads * head_dim]
  bool f16 = true;
};

// q [n_heads][head_dim] -> out [n_heads][head_dim], attending to cache rows
// [0, n_kv). Query head h uses kv head h / (n_heads / n_kv_heads).
// scores: scratch of n_kv floats. Heads [h_begin, h_end) only.
// Softmax without the division: scores[s] = exp(scores[s] - max) in place;
// returns 1 / their sum (summed in double). Shared by every kernel set.
float softmax_exp(float* scores, int64_t n);

// The fastest kernel this CPU has (F16C conversions, vectors along
// head_dim); attention_one_ref is the plain reference.
void attention_one(const float* q, int n_heads, int n_kv_heads, int head_dim, const KvRows& kv, int64_t n_kv,
                   float scale, float* out, float* scores, int h_begin, int h_end);
void attention_one_ref(const float* q, int n_heads, int n_kv_heads, int head_dim, const KvRows& kv, int64_t n_kv,
                       float scale, float* out, float* scores, int h_begin, int h_end);

}  // namespace dllm
