// What the operating system offers for memory, read from /sys and /proc
// (Linux; elsewhere the answers are "no" and "unknown").
#pragma once
#include <cstdint>

namespace dllm {

// Whether anonymous memory can get transparent huge pages when asked with
// madvise (the kernel's setting is "always" or "madvise").
bool transparent_huge_pages_offered();

// MemAvailable in bytes; 0 when unknown.
uint64_t mem_available_bytes();

}  // namespace dllm
