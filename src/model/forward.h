// The eager forward pass over one micro-batch (models.md §3): a plain loop
// over layers calling gdn_layer / attention_layer / ffn_layer / moe_layer.
// The model knows nothing of sequence ids beyond asking SequenceMemory for
// the state of the sequence a segment of tokens belongs to.
#pragma once
#include <cstdint>
#include <vector>

#include "model/model.h"
#include "ops/matmul/matmul.h"

namespace dllm {

class ThreadPool;

// Recurrent state of one Gated DeltaNet layer for one sequence.
struct RecurrentStateView {
  float* conv = nullptr;  // [CD][Kc-1], oldest input first
  float* ssm = nullptr;   // [Hv][dk][dv], value index contiguous
};

// The KV cache rows of one attention layer for one sequence: row p holds
// position p, n_head_kv * head_dim values.
struct KvView {
  void* k = nullptr;
  void* v = nullptr;
  bool f16 = true;
};

// Per-step checkpoints of one Gated DeltaNet layer for one sequence
// (kernels.md §4.5): the layer's recurrent state (conv columns, then the
// delta-rule state, as in RecurrentStateView) after token t of a segment
// goes to base + t * stride. Written when the segment has at most
// max_steps tokens; base == nullptr: not kept.
struct RecurrentCheckpoints {
  float* base = nullptr;
  int64_t stride = 0;
  int max_steps = 0;
};

// Where the forward pass finds per-sequence state (implemented by the runtime).
class SequenceMemory {
 public:
  virtual ~SequenceMemory() = default;
  virtual RecurrentStateView recurrent(int layer, int seq) = 0;
  virtual KvView kv(int layer, int seq) = 0;
  virtual RecurrentCheckpoints checkpoints(int /*layer*/, int /*seq*/) { return {}; }
};

// Tokens of one sequence, contiguous in the micro-batch, at consecutive
// positions pos0, pos0+1, ...
struct Segment {
  int seq = 0;
  int start = 0;  // index of the first token in the micro-batch
  int len = 0;
  int64_t pos0 = 0;
};

struct MicroBatch {
  const int32_t* tokens = nullptr;  // [n]
  int n = 0;
  std::vector<Segment> segments;    // cover [0, n) in order
  // Rows whose logits are wanted, and where each goes ([n_vocab] floats).
  std::vector<int> out_rows;
  std::vector<float*> out_logits;
};

// A window of the workspace's shared arena (data() / size() / [] like the
// vector it replaces).
template <class T>
struct ArenaBuf {
  T* p = nullptr;
  size_t n = 0;
  T* data() const { return p; }
  size_t size() const { return n; }
  T& operator[](size_t i) const { return p[i]; }
};

// Sees the activation rows that enter each weight matmul (for importance
// matrices): `name` is the weight's GGUF tensor name ("blk.0.attn_qkv.weight",
// "output.weight"); expert >= 0 for one expert of a stacked MoE tensor, which
// sees only the rows routed to it; rows are [n_rows][n_cols], contiguous.
// Called on the forward pass's thread, between matmuls; unset (fn null): no cost.
struct ActivationObserver {
  void (*fn)(void* user, const char* name, int expert, const float* rows, int n_rows, int n_cols) = nullptr;
  void* user = nullptr;
};

// Scratch of the forward pass, sized once for a maximum micro-batch and
// context, then reused (no allocation in the token loop). The buffers of one
// layer kind (Gated DeltaNet, attention, FFN/MoE) are dead once the layer has
// written its output to y, so the three sets share one arena: it is as big as
// the largest set, not their sum.
class ForwardWorkspace {
 public:
  ForwardWorkspace(const Model& model, int max_tokens, int64_t max_ctx, int n_threads);
  // The windows point into arena_: never copied or moved.
  ForwardWorkspace(const ForwardWorkspace&) = delete;
  ForwardWorkspace& operator=(const ForwardWorkspace&) = delete;
  size_t bytes() const;
  int max_tokens() const { return max_tokens_; }

  // [max_tokens][n_embd] each (live across layers)
  std::vector<float> x, h, y;
  // Gated DeltaNet: projections and per-token intermediates (arena)
  ArenaBuf<float> proj;   // [T][2KD+2VD], only for files with a fused ssm_in (else empty)
  ArenaBuf<float> qkv;    // [T][CD] (rearranged from fused ssm_in); the conv + SiLU output
                          // replaces it in place, then q/k are normalised in place
  ArenaBuf<float> z;      // [T][VD]
  ArenaBuf<float> ba;     // [T][2Hv]
  ArenaBuf<float> beta;   // [T][Hv] raw beta
  ArenaBuf<float> gate;   // [T][Hv] log-decay
  ArenaBuf<float> o;      // [T][VD]
  // Attention (arena)
  ArenaBuf<float> qg;     // [T][2*Hq*D]
  ArenaBuf<float> q;      // [T][Hq*D]
  ArenaBuf<float> k, v;   // [T][Hkv*D]
  ArenaBuf<float> attn;   // [T][Hq*D]
  std::vector<float> scores; // [n_threads][max_ctx] softmax scratch per thread
  // FFN / MoE (arena)
  ArenaBuf<float> ff_gate, ff_up;  // [T][max(F, Fs, 2Fe)]
  ArenaBuf<float> router;          // [T][X]
  ArenaBuf<int> sel_expert;        // [T][K]
  ArenaBuf<float> sel_weight;      // [T][K]
  ArenaBuf<int> expert_rows;       // [T*K] token index per routed row
  ArenaBuf<float> expert_w;        // [T*K]
  ArenaBuf<float> xe, de;          // [T][E] gathered inputs / expert outputs
  ArenaBuf<float> sh_gate;         // [T] shared-expert gate
  std::vector<float> out_norm;     // [T][E]
  MatmulScratch mm;
  ActivationObserver observer;

 private:
  int max_tokens_;
  std::vector<uint8_t> arena_;
};

// Reports the input of a weight matmul to ws.observer when one is set: the
// tensor "blk.<layer>.<what>.weight" (layer < 0: "<what>.weight").
void observe_slow(ForwardWorkspace& ws, int layer, const char* what, int expert, const float* rows, int n_rows,
                  int64_t n_cols);
inline void observe(ForwardWorkspace& ws, int layer, const char* what, const float* rows, int n_rows, int64_t n_cols,
                    int expert = -1) {
  if (ws.observer.fn) observe_slow(ws, layer, what, expert, rows, n_rows, n_cols);
}

// Asked between layers whether to stop a long evaluation.
struct AbortCheck {
  bool (*fn)(void* user_data) = nullptr;
  void* user_data = nullptr;
  bool operator()() const { return fn && fn(user_data); }
};

// Runs the main layers over the micro-batch and writes the requested logits.
// Returns false when `abort` asked to stop (the state of the sequences in the
// micro-batch is then partly updated: the caller must clear them).
bool forward(const Model& model, const MicroBatch& ub, SequenceMemory& mem, ForwardWorkspace& ws, ThreadPool& pool,
             const AbortCheck& abort = {});

// Layers (one file each); x/h/y are [n][n_embd] rows of the micro-batch.
void gdn_layer(const Model& model, int il, const MicroBatch& ub, SequenceMemory& mem, ForwardWorkspace& ws,
               ThreadPool& pool);  // h -> y
void attention_layer(const Model& model, int il, const MicroBatch& ub, SequenceMemory& mem, ForwardWorkspace& ws,
                     ThreadPool& pool);  // h -> y
void ffn_layer(const Model& model, int il, int n, ForwardWorkspace& ws, ThreadPool& pool);  // h -> y
void moe_layer(const Model& model, int il, int n, ForwardWorkspace& ws, ThreadPool& pool);  // h -> y

}  // namespace dllm
