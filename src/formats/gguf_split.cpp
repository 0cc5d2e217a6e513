// Models split into several GGUF files (kernels.md §1.7), as large uploads
// come: NAME-00001-of-0000N.gguf .. NAME-0000N-of-0000N.gguf, each a complete
// GGUF file holding some of the tensors, with split.no (0-based), split.count
// and, in the first, split.tensors.count. The model is opened from its first
// file; the others are found by name, validated like any file, and their
// tensors listed after the first file's.
#include <cstdio>
#include <string>

#include "formats/gguf.h"
#include "util/error.h"

namespace dllm {

namespace {

constexpr int64_t kMaxShards = 99999;  // five digits in the file names

// An integer key of a split file, or -1 when absent; refuses a non-integer.
int64_t split_key(const GgufFile& f, const char* key) {
  const GgufValue* v = f.find(key);
  if (!v) return -1;
  const std::optional<int64_t> n = v->as_int();
  if (!n || *n < 0) fail(f.path(), ": key ", key, " is not a non-negative integer");
  return *n;
}

std::string shard_suffix(int64_t no, int64_t count) {
  char b[32];
  std::snprintf(b, sizeof b, "-%05lld-of-%05lld.gguf", (long long)no, (long long)count);
  return b;
}

}  // namespace

void GgufFile::open_split_shards() {
  const int64_t count = split_key(*this, "split.count");
  if (count <= 1) return;  // absent, or a "split" of one file
  if (count > kMaxShards) fail(path_, ": split.count ", count, " is more files than a split model can have");
  const int64_t no = split_key(*this, "split.no");
  if (no < 0) fail(path_, ": split.count is ", count, " but split.no is missing");
  const std::string first_suffix = shard_suffix(1, count);
  const bool named = path_.size() > first_suffix.size() &&
                     path_.compare(path_.size() - first_suffix.size(), first_suffix.size(), first_suffix) == 0;
  if (no != 0) {
    fail(path_, ": this is file ", no + 1, " of a model split into ", count,
         " files; open the first one (the file whose name ends in ", first_suffix, ")");
  }
  if (!named) {
    fail(path_, ": this is the first file of a model split into ", count,
         " files, but its name does not end in ", first_suffix, ", so the others cannot be found");
  }
  const std::string prefix = path_.substr(0, path_.size() - first_suffix.size());
  for (int64_t i = 1; i < count; ++i) {
    std::unique_ptr<GgufFile> s = open_one(prefix + shard_suffix(i + 1, count));
    const int64_t s_no = split_key(*s, "split.no"), s_count = split_key(*s, "split.count");
    if (s_count != count)
      fail(s->path_, ": split.count is ", s_count, " but the first file's is ", count);
    if (s_no != i) fail(s->path_, ": split.no is ", s_no, ", expected ", i, " for file ", i + 1, " of ", count);
    adopt_shard_tensors(*s, int(i));
    shards_.push_back(std::move(s));
  }
  const int64_t expected = split_key(*this, "split.tensors.count");
  if (expected >= 0 && uint64_t(expected) != tensors_.size())
    fail(path_, ": split.tensors.count is ", expected, " but the ", count, " files hold ", tensors_.size(),
         " tensors");
}

}  // namespace dllm
