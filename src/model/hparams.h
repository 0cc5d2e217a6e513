// Hyper-parameters of a qwen35 / qwen35moe / qwen3next model, read from GGUF
// metadata (models.md §1) and validated.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dllm {

class GgufFile;

enum class Arch { Qwen35, Qwen35Moe, Qwen3Next };
const char* arch_name(Arch a);

struct HParams {
  Arch arch = Arch::Qwen35;
  std::string arch_str;     // GGUF general.architecture
  int64_t n_vocab = 0;      // V: rows of token_embd
  int64_t n_ctx_train = 0;  // context_length
  int64_t n_embd = 0;       // E
  int n_layer = 0;          // L: block_count (includes MTP layers)
  int n_layer_mtp = 0;      // nextn_predict_layers
  int n_layer_main = 0;     // L - L_mtp
  int64_t n_ff = 0;         // F (dense FFN)
  int n_head = 0;           // Hq
  int n_head_kv = 0;        // Hkv
  int head_dim = 0;         // D (key_length == value_length)
  int n_rot = 0;            // rope.dimension_count
  float rope_freq_base = 10000.0f;
  float rope_freq_scale = 1.0f;
  float eps = 1e-6f;        // layer_norm_rms_epsilon
  // MoE
  int n_expert = 0;         // X
  int n_expert_used = 0;    // K
  int64_t n_ff_exp = 0;     // Fe
  int64_t n_ff_shexp = 0;   // Fs
  // Gated DeltaNet
  int ssm_conv_kernel = 0;  // Kc
  int64_t ssm_inner = 0;    // VD = Hv * dv
  int ssm_dk = 0;           // dk (state_size)
  int ssm_hv = 0;           // Hv (time_step_rank)
  int ssm_hk = 0;           // Hk (group_count)
  int full_attn_interval = 4;
  std::vector<bool> recurrent;  // per main layer: true = Gated DeltaNet

  int ssm_dv() const { return ssm_hv ? int(ssm_inner / ssm_hv) : 0; }
  int64_t ssm_key_dim() const { return int64_t(ssm_hk) * ssm_dk; }          // KD
  int64_t ssm_conv_dim() const { return 2 * ssm_key_dim() + ssm_inner; }    // CD
  bool is_recurrent(int il) const { return il < n_layer_main && recurrent[il]; }
  int n_recurrent_layers() const;
  int n_attention_layers() const;
};

// Reads and validates; throws dllm::Error naming the missing or contradictory
// key. `n_vocab` comes from the token_embd rows (checked against vocab_size).
HParams load_hparams(const GgufFile& f);

}  // namespace dllm
