// Internal: the kernel sets behind matmul() (one per ISA) and what they share.
#pragma once
#include <cstddef>
#include <cstdint>

#include "ops/matmul/matmul.h"
#include "ops/quant_act.h"

namespace dllm::mm {

struct Task {
  const WeightView* W;
  const ActRows* A;
  float* Y;  // Y[m * ldy + n]
  int64_t ldy;
};

// Computes Y for weight rows [n0, n1) and activation rows [m0, m1). `tmp` is
// this thread's scratch, 64-byte aligned, thread_tmp_bytes(K) long.
using RowsFn = void (*)(const Task& t, int64_t n0, int64_t n1, int64_t m0, int64_t m1, uint8_t* tmp);

// Per-thread scratch every kernel set may use for a weight of K columns.
size_t thread_tmp_bytes(int64_t K);

// nullptr where the set has no kernel of its own for the type (the caller
// then takes the next set down; the portable set covers every type that
// matmul_supported() accepts).
RowsFn portable_rows(GgmlType t);
RowsFn avx2_rows(GgmlType t);
RowsFn avx512_rows(GgmlType t);

// The row unpacker (unpack.h's common form) that a kernel set uses for type
// t, nullptr where it has none. For the tests, which hold each to the
// portable unpacker's bytes.
using UnpackRowFn = void (*)(const uint8_t* w, int64_t K, int8_t* q, float* dw, int16_t* s16, float* mw16);
UnpackRowFn avx2_unpacker(GgmlType t);
UnpackRowFn avx512_unpacker(GgmlType t);

}  // namespace dllm::mm
