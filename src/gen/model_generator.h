// Random-weight model generator (issue 3 item 8): writes GGUF files of the
// three architectures with the real tensor names, shapes and metadata
// (models.md §1–2), a small byte-level BPE vocabulary and weight scales that
// keep activations finite. No weights can be downloaded here, so every test
// that needs a model builds one with this.
//
// Determinism: every row of every tensor has its own random stream, seeded by
// (seed, tensor name, row), so the bytes of a tensor do not depend on thread
// count, on tensor order or on which other tensors a variant adds. Variants
// that only re-layout weights use the same streams, so they describe the SAME
// model:
//   - qwen3next `--qwen3next-input fused`: the rows of ssm_in are exactly the
//     rows of the split attn_qkv / attn_gate, arranged per §2.4.1;
//   - `--fused-gate-up`: expert e of ffn_gate_up_exps is the rows of expert e
//     of ffn_gate_exps followed by those of ffn_up_exps;
//   - `--mtp N` leaves every main tensor unchanged.
// So a fused file and a split file (same seed) must give identical logits.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "formats/ggml_type.h"
#include "formats/gguf.h"

namespace dllm {
class ThreadPool;
}

namespace dllm::gen {

enum class Arch { Qwen35, Qwen35Moe, Qwen3Next };
const char* arch_name(Arch a);  // "qwen35", "qwen35moe", "qwen3next"
// Throws dllm::Error "unknown architecture 'x' (expected qwen35, qwen35moe or qwen3next)".
Arch parse_arch(const std::string& name);

// Hyperparameters of a generated model (symbols of models.md §0.2).
struct ModelShape {
  uint32_t n_vocab = 1024;      // V, token_embd rows (the vocabulary is padded to it)
  uint32_t n_embd = 256;        // E
  uint32_t n_layer = 4;         // L_main (MTP layers come on top)
  uint32_t n_ff = 512;          // F (dense FFN; also written for MoE archs)
  uint32_t n_head = 4;          // Hq
  uint32_t n_head_kv = 2;       // Hkv
  uint32_t head_dim = 64;       // D = key_length = value_length
  uint32_t n_rot = 16;          // rope.dimension_count
  int32_t rope_sections[4] = {3, 3, 2, 0};
  float rope_freq_base = 1e7f;
  float rms_eps = 1e-6f;
  uint32_t context_length = 4096;
  uint32_t full_attn_interval = 4;  // layer i is attention iff (i+1) % interval == 0
  uint32_t ssm_conv_kernel = 4;  // Kc
  uint32_t ssm_d_state = 64;     // dk (ssm.state_size)
  uint32_t ssm_n_group = 2;      // Hk (ssm.group_count)
  uint32_t ssm_dt_rank = 4;      // Hv (ssm.time_step_rank)
  uint32_t ssm_head_v_dim = 64;  // dv; ssm.inner_size = Hv * dv
  // MoE (qwen35moe, qwen3next); ignored for qwen35.
  uint32_t n_expert = 8;        // X
  uint32_t n_expert_used = 2;   // K
  uint32_t n_ff_exp = 256;      // Fe
  uint32_t n_ff_shexp = 256;    // Fs
  bool tied = false;            // no output.weight

  uint32_t ssm_inner() const { return ssm_dt_rank * ssm_head_v_dim; }
  bool is_recurrent(uint32_t il) const { return (il + 1) % full_attn_interval != 0; }
};

// Preset shapes: "tiny" and "small" are exactly the shapes of
// ../shared/testdata/README.md ("small" with the MoE settings of "tiny" for the
// MoE archs); "qwen35-0.8b" is Qwen3.5-0.8B (models.md §6), qwen35 only.
// Throws dllm::Error for an unknown preset or a preset the arch cannot have.
ModelShape preset_shape(Arch arch, const std::string& preset);

struct GenOptions {
  std::string arch = "qwen35";        // qwen35 | qwen35moe | qwen3next
  std::string preset = "tiny";        // tiny | small | qwen35-0.8b
  GgmlType dtype = GgmlType::F32;     // 2-D/3-D weights, token_embd, output
  uint64_t seed = 0;
  int mtp = 0;                        // MTP (nextn) layers; qwen35/qwen35moe only
  bool tied = false;                  // force a tied head (presets small/0.8b are tied anyway)
  bool fused_gate_up = false;         // ffn_gate_up_exps; MoE archs only
  // qwen3next only: "split" (attn_qkv + attn_gate, the default, like the test
  // data) or "fused" (ssm_in); "" = default. Set for another arch: an error.
  std::string qwen3next_input;
  // Scales: std of the input projections / of the residual-writing projections
  // (attn_output, ssm_out, ffn_down*), as in the test data.
  float weight_std = 0.02f;
  float residual_std = 0.004f;
  int n_threads = 0;                  // <= 0: all hardware threads
  // Optional: replace the preset's shape (tests that want e.g. 8 layers).
  bool use_custom_shape = false;
  ModelShape custom_shape;
};

// How the values of a tensor are drawn (per row, before conversion to its type).
enum class Init {
  Normal,       // mean a, std b (approximately normal, |z| <= 3.46)
  Uniform,      // [a, b)
  NegExp,       // -exp(U[a, b)): ssm_a = -exp(A_log)
};

struct TensorPlan {
  std::string name;
  GgmlType type = GgmlType::F32;
  std::vector<int64_t> ne;  // GGUF order
  Init init = Init::Normal;
  float a = 0, b = 0;
  // Row remapping for fused tensors: rows [i*block, (i+1)*block) of this tensor
  // come from rows [src_row, src_row + block) of source `src`. Empty: each row
  // r is row r of the stream named `name`.
  struct Segment {
    std::string src;
    int64_t src_row;
    int64_t n_rows;
  };
  std::vector<Segment> segments;

  int64_t n_rows() const;   // ne1 * ne2 * ne3
  size_t nbytes() const;
};

// Everything the file will contain, before any random number is drawn.
struct ModelPlan {
  Arch arch = Arch::Qwen35;
  ModelShape shape;
  int n_mtp = 0;
  std::vector<GgufKV> metadata;     // file order
  std::vector<TensorPlan> tensors;  // file order
};

// Validates the options (one clear dllm::Error for a bad combination) and lays
// out the metadata and tensors.
ModelPlan plan_model(const GenOptions& opt);

// The bytes of one tensor (deterministic for the seed). pool may be null.
std::vector<uint8_t> generate_tensor(const TensorPlan& t, uint64_t seed, ThreadPool* pool = nullptr);

// Fills a GgufWriter with the whole model.
void fill_writer(const ModelPlan& plan, uint64_t seed, GgufWriter& w, ThreadPool* pool = nullptr);

// plan_model + fill_writer + write. Throws dllm::Error on bad options or I/O.
void generate_model(const GenOptions& opt, const std::string& out_path);

// llama.cpp's general.file_type (llama_ftype) for a file whose weights are all
// of type t: F32 0, F16 1, Q4_0 2, Q4_1 3, Q8_0 7, Q5_0 8, Q5_1 9, Q2_K 10,
// Q3_K 12, Q4_K 15, Q5_K 17, Q6_K 18, IQ4_NL 25, IQ4_XS 30, BF16 32.
// Throws dllm::Error for a type without an ftype.
uint32_t file_type_for(GgmlType t);

}  // namespace dllm::gen
