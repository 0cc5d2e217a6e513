// The eager forward pass over one micro-batch (models.md §3): a plain loop
// over layers calling gdn_layer / attention_layer / ffn_layer / moe_layer.
// The model knows nothing of sequence ids beyond asking SequenceMemory for
// the state of the sequence a segment of tokens belongs to.
#pragma once
#include <cstdint>
#include <vector>

#include "model/model.h"
#include "ops/matmul.h"

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

// Scratch of the forward pass, sized once for a maximum micro-batch and
// context, then reused (no allocation in the token loop).
class ForwardWorkspace {
 public:
  ForwardWorkspace(const HParams& hp, int max_tokens, int64_t max_ctx, int n_threads);
  size_t bytes() const;
  int max_tokens() const { return max_tokens_; }

  // [max_tokens][n_embd] each
  std::vector<float> x, h, y;
  // Gated DeltaNet: projections and per-token intermediates
  std::vector<float> proj;   // [T][max(CD, 2KD+2VD)]
  std::vector<float> qkv;    // [T][CD] (rearranged from fused ssm_in)
  std::vector<float> z;      // [T][VD]
  std::vector<float> ba;     // [T][2Hv]
  std::vector<float> beta;   // [T][Hv] raw beta
  std::vector<float> gate;   // [T][Hv] log-decay
  std::vector<float> conv;   // [T][CD] conv + SiLU output, q/k normalised in place
  std::vector<float> o;      // [T][VD]
  // Attention
  std::vector<float> qg;     // [T][2*Hq*D]
  std::vector<float> q;      // [T][Hq*D]
  std::vector<float> k, v;   // [T][Hkv*D]
  std::vector<float> attn;   // [T][Hq*D]
  std::vector<float> scores; // [n_threads][max_ctx] softmax scratch per thread
  // FFN / MoE
  std::vector<float> ff_gate, ff_up;  // [T][max(F, Fs, 2Fe)]
  std::vector<float> router;          // [T][X]
  std::vector<int> sel_expert;        // [T][K]
  std::vector<float> sel_weight;      // [T][K]
  std::vector<int> expert_rows;       // [T*K] token index per routed row
  std::vector<float> expert_w;        // [T*K]
  std::vector<float> xe, de;          // [T][E] gathered inputs / expert outputs
  std::vector<float> sh_gate;         // [T] shared-expert gate
  std::vector<float> out_norm;        // [T][E]
  MatmulScratch mm;

 private:
  int max_tokens_;
};

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
