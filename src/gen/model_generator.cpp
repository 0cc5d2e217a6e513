// Draws the tensors of a planned model row by row (each row converted to its
// type right away, so no f32 copy of a quantized model is ever held) and
// hands them to the GGUF writer.
#include "gen/model_generator.h"

#include <cstring>
#include <memory>

#include "gen/random_rows.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace dllm::gen {

std::vector<uint8_t> generate_tensor(const TensorPlan& t, uint64_t seed, ThreadPool* pool) {
  const int64_t ne0 = t.ne[0], n_rows = t.n_rows();
  const size_t rb = row_bytes(t.type, ne0);
  std::vector<uint8_t> out(rb * size_t(n_rows));

  // Row r of the file tensor -> (stream, row of that stream).
  std::vector<uint64_t> seg_hash;
  for (const auto& s : t.segments) seg_hash.push_back(name_hash(s.src));
  const uint64_t own_hash = name_hash(t.name);
  auto source_of = [&](int64_t r, uint64_t* hash, int64_t* row) {
    if (t.segments.empty()) {
      *hash = own_hash, *row = r;
      return;
    }
    for (size_t k = 0; k < t.segments.size(); ++k) {
      if (r < t.segments[k].n_rows) {
        *hash = seg_hash[k], *row = t.segments[k].src_row + r;
        return;
      }
      r -= t.segments[k].n_rows;
    }
    fail("internal: segments of ", t.name, " cover fewer rows than the tensor");
  };

  auto work = [&](int64_t begin, int64_t end) {
    std::vector<float> buf(static_cast<size_t>(ne0));  // [ne0]
    for (int64_t r = begin; r < end; ++r) {
      uint64_t h;
      int64_t src_row;
      source_of(r, &h, &src_row);
      fill_random_row(t.init, t.a, t.b, row_seed(seed, h, src_row), buf.data(), ne0);
      uint8_t* dst = out.data() + size_t(r) * rb;
      if (t.type == GgmlType::F32) std::memcpy(dst, buf.data(), rb);
      else quantize_row(t.type, buf.data(), dst, ne0);
    }
  };
  if (pool && pool->size() > 1 && int64_t(n_rows) * ne0 >= (1 << 16)) pool->parallel_for(n_rows, work);
  else work(0, n_rows);
  return out;
}

void fill_writer(const ModelPlan& plan, uint64_t seed, GgufWriter& w, ThreadPool* pool) {
  for (const GgufKV& kv : plan.metadata) w.set(kv.key, kv.value);
  for (const TensorPlan& t : plan.tensors) w.add_tensor(t.name, t.type, t.ne, generate_tensor(t, seed, pool));
}

void generate_model(const GenOptions& opt, const std::string& out_path) {
  const ModelPlan plan = plan_model(opt);
  ThreadPool pool(opt.n_threads);
  GgufWriter w;
  fill_writer(plan, opt.seed, w, &pool);
  w.write(out_path);
}

}  // namespace dllm::gen
