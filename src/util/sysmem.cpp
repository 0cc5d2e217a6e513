#include "util/sysmem.h"

#include <fstream>
#include <sstream>
#include <string>

namespace dllm {

bool transparent_huge_pages_offered() {
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  if (!std::getline(f, line)) return false;
  // The active choice is the bracketed one: "always [madvise] never".
  return line.find("[always]") != std::string::npos || line.find("[madvise]") != std::string::npos;
}

uint64_t mem_available_bytes() {
  std::ifstream f("/proc/meminfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("MemAvailable:", 0) != 0) continue;
    std::istringstream is(line.substr(13));
    uint64_t kib = 0;
    std::string unit;
    if (is >> kib >> unit && unit == "kB") return kib * 1024;
    return 0;
  }
  return 0;
}

}  // namespace dllm
