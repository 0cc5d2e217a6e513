// Chooses the token-mixing kernel set once, from CPUID (DELTALLM_ISA caps it
// as for matmul). The ISA files only define their sets; whether the CPU can
// run them is decided here.
#include "ops/elementwise.h"
#include "ops/mixer_kernels.h"
#include "util/cpu.h"

namespace dllm {

namespace mixer {
extern const MixerKernels kAvx2;    // mixer_avx2.cpp
extern const MixerKernels kAvx512;  // mixer_avx512.cpp
}  // namespace mixer

namespace {

void delta_net_portable(const DeltaNetHeadArgs& a) { delta_net_recurrent_ref(a, 0, a.dv); }
void delta_net_chunked_portable(const DeltaNetHeadArgs& a, int chunk) { delta_net_chunked_ref(a, chunk, 0, a.dv); }

void silu_mul_portable(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) gate[i] = silu(gate[i]) * up[i];
}
void silu_inplace_portable(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = silu(x[i]);
}
void mul_silu_portable(float* o, const float* z, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] *= silu(z[i]);
}
void mul_sigmoid_portable(float* o, const float* g, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] *= sigmoid(g[i]);
}
void exp_shifted_portable(float* x, int64_t n, float shift) {
  for (int64_t i = 0; i < n; ++i) x[i] = exp_fast(x[i] - shift);
}

const MixerKernels kPortable{"portable",           &delta_net_portable,   &delta_net_chunked_portable,
                             &conv1d_causal_ref,   &attention_one_ref,    &silu_mul_portable,
                             &silu_inplace_portable, &mul_silu_portable,  &mul_sigmoid_portable,
                             &exp_shifted_portable};

}  // namespace

const MixerKernels& mixer_kernels_portable() { return kPortable; }

const MixerKernels* mixer_kernels_avx2() { return cpu_features().avx2 ? &mixer::kAvx2 : nullptr; }

// Same condition as matmul's AVX-512 set: the file is compiled with VNNI/BF16
// flags too, so only a CPU with all of them may run it.
const MixerKernels* mixer_kernels_avx512() {
  const CpuFeatures& f = cpu_features();
  return f.avx512 && f.avx512_vnni ? &mixer::kAvx512 : nullptr;
}

const MixerKernels& mixer_kernels() {
  static const MixerKernels* best = [] {
    if (const MixerKernels* k = mixer_kernels_avx512()) return k;
    if (const MixerKernels* k = mixer_kernels_avx2()) return k;
    return &kPortable;
  }();
  return *best;
}

void silu_mul(float* gate, const float* up, int64_t n) { mixer_kernels().silu_mul(gate, up, n); }
void silu_inplace(float* x, int64_t n) { mixer_kernels().silu_inplace(x, n); }
void mul_silu(float* o, const float* z, int64_t n) { mixer_kernels().mul_silu(o, z, n); }
void mul_sigmoid(float* o, const float* g, int64_t n) { mixer_kernels().mul_sigmoid(o, g, n); }
void exp_shifted(float* x, int64_t n, float shift) { mixer_kernels().exp_shifted(x, n, shift); }

}  // namespace dllm
