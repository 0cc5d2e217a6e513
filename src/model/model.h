// A loaded model: the mapped GGUF file, its hyper-parameters and every tensor
// the architecture needs, bound by name and checked for shape and type
// (models.md §2). Immutable after load; safe to share between threads.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "model/hparams.h"
#include "ops/matmul/matmul.h"

namespace dllm {

// A stack of per-expert matrices ([cols, rows, n_expert] in GGUF order).
struct ExpertWeights {
  WeightView first;         // expert 0
  size_t expert_stride = 0; // bytes between experts
  WeightView expert(int e) const {
    WeightView w = first;
    w.data += size_t(e) * expert_stride;
    return w;
  }
  bool present() const { return first.data != nullptr; }
};

// How value heads of a Gated DeltaNet layer map to key heads (models.md §2.4.2).
enum class HeadMap { Grouped /* h / r: ssm_ba present */, Tiled /* h % Hk: ssm_beta + ssm_alpha */ };

struct LayerWeights {
  const float* attn_norm = nullptr;           // [E]
  const float* post_attention_norm = nullptr;  // [E] (the FFN pre-norm)
  // Gated full attention
  WeightView wq;                   // [E] -> [2*Hq*D]: per head [q_h | gate_h]
  WeightView wk, wv;               // [E] -> [Hkv*D]
  WeightView wo;                   // [Hq*D] -> [E]
  const float* q_norm = nullptr;   // [D]
  const float* k_norm = nullptr;   // [D]
  // Gated DeltaNet
  bool fused_qkvz = false;         // ssm_in (qwen3next, old converters)
  WeightView ssm_in;               // [E] -> [2KD + 2VD], per key-head groups
  WeightView wqkv;                 // [E] -> [CD]
  WeightView wgate;                // [E] -> [VD] (z)
  bool fused_ba = false;           // ssm_ba (qwen3next)
  WeightView ssm_ba;               // [E] -> [2Hv], per key-head groups [b_g | a_g]
  WeightView ssm_beta, ssm_alpha;  // [E] -> [Hv]
  HeadMap head_map = HeadMap::Tiled;
  const float* conv1d = nullptr;   // [CD][Kc]
  const float* dt_bias = nullptr;  // [Hv]
  const float* ssm_a = nullptr;    // [Hv] (= -exp(A_log))
  const float* ssm_norm = nullptr; // [dv]
  WeightView ssm_out;              // [VD] -> [E]
  // Dense FFN
  WeightView ffn_gate, ffn_up;     // [E] -> [F]
  WeightView ffn_down;             // [F] -> [E]
  // MoE
  bool moe = false;
  WeightView gate_inp;             // [E] -> [X] router
  bool fused_gate_up = false;
  ExpertWeights gate_exps, up_exps;  // [E] -> [Fe] per expert
  ExpertWeights gate_up_exps;        // [E] -> [2Fe] per expert (gate rows first)
  ExpertWeights down_exps;           // [Fe] -> [E] per expert
  bool has_shared_expert = false;
  const float* gate_inp_shexp = nullptr;  // [E]
  WeightView gate_shexp, up_shexp;   // [E] -> [Fs]
  WeightView down_shexp;             // [Fs] -> [E]
  // MTP (nextn) layers only; loaded, not run yet.
  WeightView nextn_eh_proj;
  const float* nextn_enorm = nullptr;
  const float* nextn_hnorm = nullptr;
  const float* nextn_shared_head_norm = nullptr;
};

class Model {
 public:
  // Loads and validates; throws dllm::Error. Reports all missing or
  // mismatched tensors at once.
  static std::unique_ptr<Model> load(const std::string& path);
  static std::unique_ptr<Model> from_file(std::unique_ptr<GgufFile> file);

  const GgufFile& file() const { return *file_; }
  const HParams& hparams() const { return hp_; }
  const std::vector<LayerWeights>& layers() const { return layers_; }
  const WeightView& token_embd() const { return token_embd_; }
  const WeightView& output() const { return output_; }  // token_embd when tied
  bool tied_output() const { return tied_; }
  const float* output_norm() const { return output_norm_; }
  // Bytes of weights read per generated token: all weights of the main layers,
  // the output head and one embedding row; for MoE, only K of X experts.
  uint64_t bytes_per_token() const;
  uint64_t weight_bytes() const;  // all tensor data in the file
  std::string describe() const;   // one line: arch, layers, sizes

 private:
  Model() = default;
  std::unique_ptr<GgufFile> file_;
  HParams hp_;
  std::vector<LayerWeights> layers_;
  WeightView token_embd_, output_;
  bool tied_ = false;
  const float* output_norm_ = nullptr;
  std::vector<std::vector<float>> owned_;  // f32 copies of small non-F32 vectors
  friend class ModelBinder;
};

}  // namespace dllm
