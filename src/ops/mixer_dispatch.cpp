// Chooses the token-mixing kernel set once, from CPUID (DELTALLM_ISA caps it
// as for matmul). The ISA files only define their sets; whether the CPU can
// run them is decided here.
#include "ops/mixer_kernels.h"
#include "util/cpu.h"

namespace dllm {

namespace mixer {
extern const MixerKernels kAvx2;    // mixer_avx2.cpp
extern const MixerKernels kAvx512;  // mixer_avx512.cpp
}  // namespace mixer

namespace {

void delta_net_portable(const DeltaNetHeadArgs& a) { delta_net_recurrent_ref(a, 0, a.dv); }

const MixerKernels kPortable{"portable", &delta_net_portable, &conv1d_causal_ref, &attention_one_ref};

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

}  // namespace dllm
