// GgufFile::copy_tensors_to_memory: the weights in anonymous memory on 2 MiB
// pages. Decode reads every weight once per token; from a file mapping (4 KiB
// page-cache pages, whatever madvise says once the file is cached) that is a
// TLB miss and a restart of the hardware prefetchers every 4 KiB. Measured on
// a 0.8B Q8_0 file, 2 threads: +10..15% tokens per second.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "formats/gguf.h"
#include "util/error.h"

namespace dllm {

namespace {

constexpr uint64_t kHugePage = 2ull << 20;
constexpr uint64_t kTensorAlign = 64;        // each tensor starts on a cache line
constexpr uint64_t kReadPiece = 16ull << 20;  // bytes per read() and per progress call

uint64_t round_up(uint64_t n, uint64_t a) { return (n + a - 1) / a * a; }

}  // namespace

void GgufFile::copy_tensors_to_memory(const std::function<bool(const GgufTensorInfo&)>& select,
                                      const std::function<void(uint64_t, uint64_t)>& progress) {
  if (mem_map_) fail(path_, ": the tensors were already copied");
  uint64_t total = 0, data = 0;  // bytes of the block (tensors aligned), of the tensors
  for (GgufTensorInfo& t : tensors_) {
    if (!select(t) || t.nbytes == 0) continue;
    t.mem_offset = int64_t(total);
    total = round_up(total + t.nbytes, kTensorAlign);
    data += t.nbytes;
  }
  if (total == 0) return;

  // One 2 MiB-aligned block, so that the kernel can back all of it with huge
  // pages (an unaligned start would leave the first and last 2 MiB split).
  mem_map_bytes_ = round_up(total, kHugePage) + kHugePage;
  void* m = mmap(nullptr, mem_map_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) {
    for (GgufTensorInfo& t : tensors_) t.mem_offset = -1;
    mem_map_bytes_ = 0;
    fail(path_, ": cannot allocate ", total, " bytes for the weights: ", std::strerror(errno));
  }
  mem_map_ = m;
  mem_ = reinterpret_cast<uint8_t*>(round_up(reinterpret_cast<uintptr_t>(m), kHugePage));
#ifdef MADV_HUGEPAGE
  madvise(mem_, round_up(total, kHugePage), MADV_HUGEPAGE);  // advice only: 4 KiB pages still work
#endif

  // Tensors are read in file order so the file is read front to back.
  uint64_t done = 0;
  for (const GgufTensorInfo& t : tensors_) {
    if (t.mem_offset < 0) continue;
    const GgufFile& from = shard(size_t(t.shard));
    const uint64_t file_off = from.data_offset_ + t.offset;
    for (uint64_t pos = 0; pos < t.nbytes;) {
      const uint64_t want = std::min(kReadPiece, t.nbytes - pos);
      const ssize_t got = pread(from.fd_, mem_ + t.mem_offset + pos, want, off_t(file_off + pos));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0)
        fail(from.path_, ": cannot read tensor '", t.name, "' at byte ", file_off + pos, ": ",
             got == 0 ? "unexpected end of file" : std::strerror(errno));
      pos += uint64_t(got);
      done += uint64_t(got);
      if (progress) progress(done, data);
    }
  }
  mem_bytes_ = data;
}

}  // namespace dllm
