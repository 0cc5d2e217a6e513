#include "model/model.h"

#include <sstream>

#include "util/error.h"

namespace dllm {

// Binds tensors by name, checking shapes and types, and collects every
// problem so that the user sees them all at once.
class ModelBinder {
 public:
  ModelBinder(Model& m) : m_(m), f_(*m.file_) {}

  const GgufTensorInfo* find(const std::string& name) const { return f_.find_tensor(name); }

  // A matrix [ne0, ne1] (or [ne0, ne1, ne2] stack). Returns nullptr if missing/bad.
  const GgufTensorInfo* check(const std::string& name, std::vector<int64_t> ne, bool required) {
    const GgufTensorInfo* t = f_.find_tensor(name);
    if (!t) {
      if (required) errors_.push_back("missing tensor " + name);
      return nullptr;
    }
    // Trailing 1-dims are equivalent ({E} == {E,1}).
    bool ok = true;
    for (int d = 0; d < 4; ++d) {
      const int64_t want = d < int(ne.size()) ? ne[d] : 1;
      if (t->ne[d] != want) ok = false;
    }
    if (!ok) {
      errors_.push_back(str_cat("tensor ", name, " has shape ", shape_str(t->ne, t->n_dims), ", expected ",
                                shape_str(ne.data(), int(ne.size()))));
      return nullptr;
    }
    return t;
  }

  WeightView matrix(const std::string& name, int64_t cols, int64_t rows, bool required = true) {
    const GgufTensorInfo* t = check(name, {cols, rows}, required);
    if (!t) return {};
    return view(*t, name);
  }

  ExpertWeights experts(const std::string& name, int64_t cols, int64_t rows, int64_t n_expert, bool required) {
    const GgufTensorInfo* t = check(name, {cols, rows, n_expert}, required);
    if (!t) return {};
    ExpertWeights e;
    e.first = view(*t, name);
    e.first.rows = rows;
    e.expert_stride = e.first.row_stride * size_t(rows);
    return e;
  }

  // A 1-D (or [n, k] small) f32 vector; converted to f32 when stored otherwise.
  const float* vec(const std::string& name, std::vector<int64_t> ne, bool required = true) {
    const GgufTensorInfo* t = check(name, ne, required);
    if (!t) return nullptr;
    const GgmlType type = t->ggml_type();
    if (type == GgmlType::F32) return reinterpret_cast<const float*>(f_.tensor_data(*t));
    if (!can_dequantize(type)) {
      errors_.push_back(str_cat("tensor ", name, ": type ", type_label(t->type), " is not supported yet"));
      return nullptr;
    }
    auto& buf = m_.owned_.emplace_back(size_t(t->n_elements()));
    const int64_t rows = t->n_elements() / t->ne[0];
    const size_t rb = row_bytes(type, t->ne[0]);
    for (int64_t r = 0; r < rows; ++r)
      dequantize_row(type, f_.tensor_data(*t) + r * rb, buf.data() + r * t->ne[0], t->ne[0]);
    return buf.data();
  }

  void finish() const {
    if (errors_.empty()) return;
    std::ostringstream os;
    os << f_.path() << ": " << errors_.size() << " tensor problem" << (errors_.size() > 1 ? "s" : "") << ": ";
    for (size_t i = 0; i < errors_.size(); ++i) os << (i ? "; " : "") << errors_[i];
    throw Error(os.str());
  }

 private:
  WeightView view(const GgufTensorInfo& t, const std::string& name) {
    WeightView w;
    w.type = t.ggml_type();
    w.cols = t.ne[0];
    w.rows = t.ne[1];
    w.data = f_.tensor_data(t);
    w.row_stride = row_bytes(w.type, t.ne[0]);
    if (!matmul_supported(w.type)) errors_.push_back(str_cat("tensor ", name, ": type ", type_label(t.type), " is not supported yet"));
    return w;
  }
  static std::string shape_str(const int64_t* ne, int n) {
    std::string s = "{";
    for (int i = 0; i < n; ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
    return s + "}";
  }
  Model& m_;
  const GgufFile& f_;
  std::vector<std::string> errors_;
};

std::unique_ptr<Model> Model::load(const std::string& path) { return from_file(GgufFile::open(path)); }

std::unique_ptr<Model> Model::from_file(std::unique_ptr<GgufFile> file) {
  std::unique_ptr<Model> m(new Model());
  m->file_ = std::move(file);
  const GgufFile& f = *m->file_;
  if (f.tensors().empty()) fail(f.path(), ": the file has no weights (a vocab-only file?)");
  HParams& hp = m->hp_;
  hp = load_hparams(f);
  const int64_t E = hp.n_embd, D = hp.head_dim, V_guess = 0;
  (void)V_guess;
  ModelBinder b(*m);

  // token_embd defines the vocabulary size.
  const GgufTensorInfo* te = f.find_tensor("token_embd.weight");
  if (!te) fail(f.path(), ": missing tensor token_embd.weight");
  hp.n_vocab = te->ne[1];
  if (auto vs = f.get_u32(hp.arch_str + ".vocab_size"); vs && int64_t(*vs) != hp.n_vocab)
    fail(f.path(), ": ", hp.arch_str, ".vocab_size (", *vs, ") differs from the rows of token_embd.weight (", hp.n_vocab, ")");
  if (const GgufValue* toks = f.find("tokenizer.ggml.tokens"); toks && toks->type == GgufType::ARRAY &&
                                                                  int64_t(toks->items.size()) > hp.n_vocab)
    fail(f.path(), ": tokenizer.ggml.tokens has ", toks->items.size(), " tokens but token_embd.weight only ", hp.n_vocab, " rows");
  const int64_t V = hp.n_vocab;
  m->token_embd_ = b.matrix("token_embd.weight", E, V);
  m->output_norm_ = b.vec("output_norm.weight", {E});
  if (f.find_tensor("output.weight")) {
    m->output_ = b.matrix("output.weight", E, V);
  } else {
    m->output_ = m->token_embd_;
    m->tied_ = true;
  }

  const int64_t KD = hp.ssm_key_dim(), VD = hp.ssm_inner, CD = hp.ssm_conv_dim();
  const int Hv = hp.ssm_hv, dv = hp.ssm_dv(), Kc = hp.ssm_conv_kernel;
  const int64_t qdim = int64_t(hp.n_head) * D, kvdim = int64_t(hp.n_head_kv) * D;
  m->layers_.resize(hp.n_layer);
  for (int il = 0; il < hp.n_layer; ++il) {
    LayerWeights& L = m->layers_[il];
    const std::string p = "blk." + std::to_string(il) + ".";
    const bool mtp = il >= hp.n_layer_main;
    L.attn_norm = b.vec(p + "attn_norm.weight", {E});
    L.post_attention_norm = b.vec(p + "post_attention_norm.weight", {E});
    if (hp.is_recurrent(il)) {
      if (b.find(p + "attn_qkv.weight") && b.find(p + "attn_gate.weight")) {
        L.wqkv = b.matrix(p + "attn_qkv.weight", E, CD);
        L.wgate = b.matrix(p + "attn_gate.weight", E, VD);
      } else if (hp.arch == Arch::Qwen3Next && b.find(p + "ssm_in.weight")) {
        L.fused_qkvz = true;
        L.ssm_in = b.matrix(p + "ssm_in.weight", E, 2 * KD + 2 * VD);
      } else {
        L.wqkv = b.matrix(p + "attn_qkv.weight", E, CD);
        L.wgate = b.matrix(p + "attn_gate.weight", E, VD);
      }
      if (b.find(p + "ssm_ba.weight")) {
        L.fused_ba = true;
        L.head_map = HeadMap::Grouped;
        L.ssm_ba = b.matrix(p + "ssm_ba.weight", E, 2 * Hv);
      } else {
        L.head_map = HeadMap::Tiled;
        L.ssm_beta = b.matrix(p + "ssm_beta.weight", E, Hv);
        L.ssm_alpha = b.matrix(p + "ssm_alpha.weight", E, Hv);
      }
      L.conv1d = b.vec(p + "ssm_conv1d.weight", {Kc, CD});
      L.dt_bias = b.vec(p + "ssm_dt.bias", {Hv});
      L.ssm_a = b.vec(p + "ssm_a", {Hv});
      L.ssm_norm = b.vec(p + "ssm_norm.weight", {dv});
      L.ssm_out = b.matrix(p + "ssm_out.weight", VD, E);
    } else {
      // Full attention (also the MTP layers). qwen35 MTP layers may lack attn_q
      // and then reuse the last main layer's (models.md §2.6).
      const bool q_optional = mtp && hp.arch == Arch::Qwen35;
      L.wq = b.matrix(p + "attn_q.weight", E, 2 * qdim, !q_optional);
      if (!L.wq.data && q_optional && hp.n_layer_main > 0) L.wq = m->layers_[hp.n_layer_main - 1].wq;
      L.wk = b.matrix(p + "attn_k.weight", E, kvdim);
      L.wv = b.matrix(p + "attn_v.weight", E, kvdim);
      L.wo = b.matrix(p + "attn_output.weight", qdim, E);
      L.q_norm = b.vec(p + "attn_q_norm.weight", {D});
      L.k_norm = b.vec(p + "attn_k_norm.weight", {D});
    }
    // FFN: MoE where the architecture (or, for qwen3next, the layer) has a router.
    const bool has_router = b.find(p + "ffn_gate_inp.weight") != nullptr;
    const bool moe = hp.arch == Arch::Qwen35Moe || (hp.arch == Arch::Qwen3Next && has_router);
    if (moe) {
      if (hp.n_expert == 0) fail(f.path(), ": ", p, "ffn_gate_inp.weight present but ", hp.arch_str, ".expert_count is 0");
      const int64_t X = hp.n_expert, Fe = hp.n_ff_exp, Fs = hp.n_ff_shexp;
      L.moe = true;
      L.gate_inp = b.matrix(p + "ffn_gate_inp.weight", E, X);
      if (b.find(p + "ffn_gate_up_exps.weight")) {
        L.fused_gate_up = true;
        L.gate_up_exps = b.experts(p + "ffn_gate_up_exps.weight", E, 2 * Fe, X, true);
      } else {
        L.gate_exps = b.experts(p + "ffn_gate_exps.weight", E, Fe, X, true);
        L.up_exps = b.experts(p + "ffn_up_exps.weight", E, Fe, X, true);
      }
      L.down_exps = b.experts(p + "ffn_down_exps.weight", Fe, E, X, true);
      const bool shexp_required = hp.arch == Arch::Qwen35Moe;
      if (shexp_required || b.find(p + "ffn_gate_inp_shexp.weight")) {
        L.has_shared_expert = true;
        L.gate_inp_shexp = b.vec(p + "ffn_gate_inp_shexp.weight", {E});
        L.gate_shexp = b.matrix(p + "ffn_gate_shexp.weight", E, Fs);
        L.up_shexp = b.matrix(p + "ffn_up_shexp.weight", E, Fs);
        L.down_shexp = b.matrix(p + "ffn_down_shexp.weight", Fs, E);
      }
    } else {
      // qwen35 MTP layers may have no FFN at all.
      const bool optional = mtp && !b.find(p + "ffn_gate.weight");
      if (!optional) {
        L.ffn_gate = b.matrix(p + "ffn_gate.weight", E, hp.n_ff);
        L.ffn_up = b.matrix(p + "ffn_up.weight", E, hp.n_ff);
        L.ffn_down = b.matrix(p + "ffn_down.weight", hp.n_ff, E);
      }
    }
    if (mtp) {
      L.nextn_eh_proj = b.matrix(p + "nextn.eh_proj.weight", 2 * E, E, false);
      L.nextn_enorm = b.vec(p + "nextn.enorm.weight", {E});
      L.nextn_hnorm = b.vec(p + "nextn.hnorm.weight", {E});
      L.nextn_shared_head_norm = b.vec(p + "nextn.shared_head_norm.weight", {E}, false);
    }
  }
  b.finish();
  return m;
}

namespace {
uint64_t view_bytes(const WeightView& w) { return w.data ? uint64_t(w.row_stride) * uint64_t(w.rows) : 0; }
}  // namespace

uint64_t Model::bytes_per_token() const {
  uint64_t total = view_bytes(output_) + token_embd_.row_stride;
  for (int il = 0; il < hp_.n_layer_main; ++il) {
    const LayerWeights& L = layers_[il];
    for (const WeightView* w : {&L.wq, &L.wk, &L.wv, &L.wo, &L.ssm_in, &L.wqkv, &L.wgate, &L.ssm_ba, &L.ssm_beta,
                                &L.ssm_alpha, &L.ssm_out, &L.ffn_gate, &L.ffn_up, &L.ffn_down, &L.gate_inp,
                                &L.gate_shexp, &L.up_shexp, &L.down_shexp})
      total += view_bytes(*w);
    // Experts: only the K used of X are read per token.
    for (const ExpertWeights* e : {&L.gate_exps, &L.up_exps, &L.gate_up_exps, &L.down_exps})
      if (e->present()) total += uint64_t(e->expert_stride) * uint64_t(hp_.n_expert_used);
  }
  return total;
}

uint64_t Model::weight_bytes() const {
  uint64_t total = 0;
  for (const auto& t : file_->tensors()) total += t.nbytes;
  return total;
}

std::string Model::describe() const {
  return str_cat(hp_.arch_str, ": ", hp_.n_layer_main, " layers (", hp_.n_recurrent_layers(), " Gated DeltaNet, ",
                 hp_.n_attention_layers(), " attention", hp_.n_layer_mtp ? str_cat(", +", hp_.n_layer_mtp, " MTP") : "",
                 "), n_embd ", hp_.n_embd, ", n_vocab ", hp_.n_vocab,
                 hp_.n_expert ? str_cat(", ", hp_.n_expert, " experts (", hp_.n_expert_used, " used)") : "",
                 tied_ ? ", tied output" : "", ", ", (weight_bytes() + (1 << 19)) >> 20, " MiB of weights");
}

}  // namespace dllm
