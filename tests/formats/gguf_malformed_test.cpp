// A corpus of malformed GGUF files, built byte by byte here (the writer
// refuses to make them), each rejected by GgufFile::open and by
// `deltallm gguf` with its own one-line error, exit status 1 and no sanitizer
// report; plus random mutations of a valid file that must never crash.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <optional>
#include <random>

#include "formats/gguf.h"
#include "support/test_support.h"
#include "util/error.h"

namespace dllm {
namespace {

// ---- little-endian encoders ------------------------------------------------

template <class T>
std::string le(T v) {
  std::string s(sizeof(T), '\0');
  std::memcpy(s.data(), &v, sizeof(T));
  return s;
}
std::string u32(uint32_t v) { return le(v); }
std::string u64(uint64_t v) { return le(v); }
std::string gstr(const std::string& s) { return u64(s.size()) + s; }

enum : uint32_t { T_UINT8 = 0, T_UINT32 = 4, T_INT32 = 5, T_FLOAT32 = 6, T_BOOL = 7, T_STRING = 8, T_ARRAY = 9,
                  T_UINT64 = 10 };
enum : uint32_t { G_F32 = 0, G_Q8_0 = 8 };

// Value payloads (what follows the u32 value type).
std::string arr(uint32_t elem, uint64_t count, const std::string& items) { return u32(elem) + u64(count) + items; }

struct RawKV {
  std::string key;
  uint32_t type;
  std::string payload;
};

struct RawTensor {
  std::string name;
  std::vector<uint64_t> ne;
  uint32_t type;
  uint64_t offset;
  std::optional<uint32_t> n_dims;  // overrides ne.size()
};

// A labelled file position, for truncation at section boundaries.
struct Mark {
  std::string label;
  size_t pos;
  std::string expect;  // error text when the file is cut here
};

// A GGUF file described field by field, so that any field can be made wrong.
struct RawFile {
  std::string magic = "GGUF";
  uint32_t version = 3;
  std::optional<uint64_t> n_tensors, n_kv;
  std::vector<RawKV> kvs;
  std::vector<RawTensor> tensors;
  uint64_t alignment = 32;  // used to place the data section
  uint64_t data_bytes = 0;  // size of the data section (zeros)

  // Marks record where a cut makes a distinct truncation; cutting anywhere
  // before the data section must say "truncated file" (a missing field, a
  // string that runs out, or a count the remaining bytes cannot hold), and
  // cutting into the data section must report tensor data past the end.
  std::string build(std::vector<Mark>* marks = nullptr) const {
    std::string o;
    const std::string trunc = "truncated file";
    auto mark = [&](const std::string& label) {
      if (marks) marks->push_back({label, o.size(), trunc});
    };
    mark("empty");
    o += magic.substr(0, 2);
    mark("mid magic");
    o += magic.substr(2);
    mark("after magic");
    o += u32(version);
    mark("after version");
    o += u64(n_tensors.value_or(tensors.size()));
    mark("after tensor count");
    o += u64(n_kv.value_or(kvs.size()));
    for (size_t k = 0; k < kvs.size(); ++k) {
      const RawKV& kv = kvs[k];
      std::string at = " of kv " + std::to_string(k);
      mark("kv start" + at);
      o += u32(static_cast<uint32_t>(kv.key.size()));
      mark("mid key length" + at);
      o += u32(0);
      mark("after key length" + at);
      o += kv.key;
      mark("after key" + at);
      o += u32(kv.type);
      mark("after value type" + at);
      o += kv.payload;
      if (kv.payload.size() > 1) {
        o.resize(o.size() - 1);
        mark("inside value" + at);
        o += kv.payload.back();
      }
    }
    for (size_t t = 0; t < tensors.size(); ++t) {
      const RawTensor& ti = tensors[t];
      std::string at = " of tensor " + std::to_string(t);
      mark("tensor start" + at);
      o += u64(ti.name.size());
      mark("after name length" + at);
      o += ti.name;
      mark("after name" + at);
      o += u32(ti.n_dims.value_or(static_cast<uint32_t>(ti.ne.size())));
      mark("after n_dims" + at);
      for (uint64_t d : ti.ne) o += u64(d);
      mark("after dims" + at);
      o += u32(ti.type);
      mark("after type" + at);
      o += u32(static_cast<uint32_t>(ti.offset));
      mark("mid offset" + at);
      o += u32(static_cast<uint32_t>(ti.offset >> 32));
    }
    const size_t infos_end = o.size();
    o.resize((o.size() + alignment - 1) / alignment * alignment, '\0');
    o.append(data_bytes, '\0');
    if (marks && !tensors.empty()) {
      const std::string past = "runs past the end of the file";
      marks->push_back({"end of tensor infos", infos_end, past});
      marks->push_back({"inside padding", infos_end + 1, past});
      marks->push_back({"data start", (infos_end + alignment - 1) / alignment * alignment, past});
      marks->push_back({"inside data", o.size() - data_bytes / 2, past});
    }
    return o;
  }
};

// The valid file every case starts from: 5 keys, 3 tensors (F32, Q8_0, F32).
RawFile base_file() {
  RawFile f;
  f.kvs = {
      {"general.architecture", T_STRING, gstr("qwen35")},
      {"qwen35.block_count", T_UINT32, u32(1)},
      {"general.name", T_STRING, gstr("tiny")},
      {"tokenizer.ggml.tokens", T_ARRAY, arr(T_STRING, 2, gstr("a") + gstr("b"))},
      {"t.flag", T_BOOL, std::string(1, '\1')},
  };
  f.tensors = {
      {"a", {8, 2}, G_F32, 0, {}},      // 64 bytes at 0
      {"b", {32, 2}, G_Q8_0, 64, {}},   // 68 bytes at 64 (padded to 96)
      {"c", {4}, G_F32, 160, {}},       // 16 bytes at 160
  };
  f.data_bytes = 192;
  return f;
}

struct Case {
  std::string name;
  std::string bytes;
  std::string expect;              // text the error must contain
  std::optional<uint64_t> offset;  // expected "offset N", when pinned
};

Case make(const std::string& name, const std::function<void(RawFile&)>& edit, const std::string& expect,
          std::optional<uint64_t> offset = std::nullopt) {
  RawFile f = base_file();
  edit(f);
  return {name, f.build(), expect, offset};
}

RawKV* kv(RawFile& f, const std::string& key) {
  for (RawKV& k : f.kvs)
    if (k.key == key) return &k;
  return nullptr;
}

std::vector<Case> corpus() {
  std::vector<Case> c;
  // Header.
  c.push_back(make("bad magic", [](RawFile& f) { f.magic = "GGUX"; }, "bad magic \"GGUX\"", 0));
  c.push_back(make("ggml magic", [](RawFile& f) { f.magic = "lmgg"; }, "not a GGUF file", 0));
  c.push_back(make("version 1", [](RawFile& f) { f.version = 1; }, "unsupported GGUF version 1", 4));
  c.push_back(make("version 4", [](RawFile& f) { f.version = 4; }, "unsupported GGUF version 4", 4));
  c.push_back(make("big-endian", [](RawFile& f) { f.version = 0x03000000; }, "big-endian GGUF file", 4));
  c.push_back(make("huge tensor count", [](RawFile& f) { f.n_tensors = 1ull << 60; },
                   "1152921504606846976 tensor infos need at least", 8));
  c.push_back(make("huge kv count", [](RawFile& f) { f.n_kv = ~0ull; },
                   "18446744073709551615 metadata entries need at least", 16));
  // The 4th info is read from the zero padding: an empty name with 0 dims.
  c.push_back(make("tensor count one too many", [](RawFile& f) { f.n_tensors = 4; },
                   "tensor \"\" has 0 dimensions"));
  // Metadata.
  {
    RawFile f = base_file();
    std::string b = f.build();
    std::memcpy(b.data() + 24, u64(1ull << 62).data(), 8);  // length of the first key
    c.push_back({"huge key length", b, "a metadata key of length 4611686018427387904 runs past the end", 24});
  }
  c.push_back(make("huge string value length",
                   [](RawFile& f) { f.kvs[2].payload = u64(~0ull - 3) + "tiny"; },
                   "a string value of length 18446744073709551612 runs past the end"));
  c.push_back(make("huge array count",
                   [](RawFile& f) { f.kvs[3].payload = arr(T_UINT32, 1ull << 61, u32(1)); },
                   "array of 2305843009213693952 UINT32 items in key \"tokenizer.ggml.tokens\""));
  c.push_back(make("array count just beyond the file",
                   [](RawFile& f) { f.kvs.push_back({"t.arr", T_ARRAY, arr(T_UINT64, 1000, u64(1) + u64(2))}); },
                   "truncated file or bad count: array of 1000 UINT64 items in key \"t.arr\""));
  c.push_back(make("huge nested array count",
                   [](RawFile& f) {
                     f.kvs.push_back({"t.nest", T_ARRAY, arr(T_ARRAY, 1, arr(T_STRING, 1ull << 40, ""))});
                   },
                   "array of 1099511627776 STRING items in key \"t.nest\""));
  c.push_back(make("unknown value type", [](RawFile& f) { f.kvs[1].type = 13; },
                   "unknown value type id 13 for key \"qwen35.block_count\""));
  c.push_back(make("unknown array element type",
                   [](RawFile& f) { f.kvs.push_back({"t.arr", T_ARRAY, arr(99, 1, u32(0))}); },
                   "unknown array element type id 99 in key \"t.arr\""));
  c.push_back(make("bool not 0 or 1", [](RawFile& f) { kv(f, "t.flag")->payload = std::string(1, '\2'); },
                   "BOOL value 2 of key \"t.flag\" is not 0 or 1"));
  c.push_back(make("bool array item 255",
                   [](RawFile& f) { f.kvs.push_back({"t.bools", T_ARRAY, arr(T_BOOL, 2, "\1\xff")}); },
                   "BOOL value 255 of key \"t.bools\""));
  c.push_back(make("arrays nested too deep",
                   [](RawFile& f) {
                     std::string p = arr(T_UINT8, 0, "");
                     for (int d = 0; d < 16; ++d) p = arr(T_ARRAY, 1, p);
                     f.kvs.push_back({"t.deep", T_ARRAY, p});
                   },
                   "arrays nested deeper than 16 levels in key \"t.deep\""));
  c.push_back(make("duplicate key", [](RawFile& f) { f.kvs.push_back({"general.name", T_STRING, gstr("x")}); },
                   "duplicate key \"general.name\" (first at offset"));
  // Well-known keys with the wrong type.
  c.push_back(make("architecture not a string",
                   [](RawFile& f) { f.kvs[0] = {"general.architecture", T_UINT32, u32(1)}; },
                   "key \"general.architecture\" has type UINT32, expected STRING"));
  c.push_back(make("name not a string", [](RawFile& f) { kv(f, "general.name")->type = T_UINT64;
                                                         kv(f, "general.name")->payload = u64(7); },
                   "key \"general.name\" has type UINT64, expected STRING"));
  c.push_back(make("alignment UINT64",
                   [](RawFile& f) { f.kvs.push_back({"general.alignment", T_UINT64, u64(32)}); },
                   "key \"general.alignment\" has type UINT64, expected UINT32"));
  c.push_back(make("tokens not strings",
                   [](RawFile& f) { kv(f, "tokenizer.ggml.tokens")->payload = arr(T_INT32, 1, u32(5)); },
                   "key \"tokenizer.ggml.tokens\" has type ARRAY of INT32, expected ARRAY of STRING"));
  c.push_back(make("token_type UINT32",
                   [](RawFile& f) {
                     f.kvs.push_back({"tokenizer.ggml.token_type", T_ARRAY, arr(T_UINT32, 1, u32(1))});
                   },
                   "key \"tokenizer.ggml.token_type\" has type ARRAY of UINT32, expected ARRAY of INT32"));
  c.push_back(make("bos id INT32",
                   [](RawFile& f) { f.kvs.push_back({"tokenizer.ggml.bos_token_id", T_INT32, u32(1)}); },
                   "key \"tokenizer.ggml.bos_token_id\" has type INT32, expected UINT32"));
  c.push_back(make("block_count FLOAT32",
                   [](RawFile& f) { kv(f, "qwen35.block_count")->type = T_FLOAT32; },
                   "key \"qwen35.block_count\" has type FLOAT32, expected UINT32"));
  c.push_back(make("file_type STRING",
                   [](RawFile& f) { f.kvs.push_back({"general.file_type", T_STRING, gstr("q8")}); },
                   "key \"general.file_type\" has type STRING, expected UINT32"));
  // Alignment.
  c.push_back(make("alignment 48",
                   [](RawFile& f) { f.kvs.push_back({"general.alignment", T_UINT32, u32(48)}); },
                   "general.alignment 48 is not a non-zero power of two"));
  c.push_back(make("alignment 0",
                   [](RawFile& f) { f.kvs.push_back({"general.alignment", T_UINT32, u32(0)}); },
                   "general.alignment 0 is not a non-zero power of two"));
  c.push_back(make("offset misaligned for alignment 64",
                   [](RawFile& f) {
                     f.kvs.push_back({"general.alignment", T_UINT32, u32(64)});
                     f.alignment = 64;
                   },
                   "tensor \"c\" data offset 160 is misaligned: not a multiple of the alignment 64"));
  // Tensor infos.
  c.push_back(make("0 dims", [](RawFile& f) { f.tensors[1].n_dims = 0; },
                   "tensor \"b\" has 0 dimensions (must be 1 to 4)"));
  c.push_back(make("5 dims",
                   [](RawFile& f) { f.tensors[2].ne = {4, 1, 1, 1, 1}; },
                   "tensor \"c\" has 5 dimensions (must be 1 to 4)"));
  c.push_back(make("huge n_dims", [](RawFile& f) { f.tensors[0].n_dims = 0xffffffffu; },
                   "tensor \"a\" has 4294967295 dimensions"));
  c.push_back(make("zero dim", [](RawFile& f) { f.tensors[0].ne = {8, 0}; },
                   "tensor \"a\" has a zero dimension ne[1] in shape {8, 0}"));
  c.push_back(make("element count overflows",
                   [](RawFile& f) { f.tensors[0].ne = {1ull << 32, 1ull << 32, 2}; },
                   "tensor \"a\" shape {4294967296, 4294967296, 2} overflows: the element count"));
  c.push_back(make("dim above int64",
                   [](RawFile& f) { f.tensors[0].ne = {1ull << 63}; }, "overflows: the element count exceeds 2^63"));
  c.push_back(make("byte size overflows",
                   [](RawFile& f) { f.tensors[0].ne = {1ull << 31, 1ull << 31}; },
                   "tensor \"a\" shape {2147483648, 2147483648} in type F32 overflows the byte size"));
  c.push_back(make("removed type id 4", [](RawFile& f) { f.tensors[1].type = 4; },
                   "tensor \"b\" has unknown type id 4"));
  c.push_back(make("type id 1000", [](RawFile& f) { f.tensors[1].type = 1000; },
                   "tensor \"b\" has unknown type id 1000"));
  c.push_back(make("ne0 not a block multiple", [](RawFile& f) { f.tensors[1].ne = {48, 2}; },
                   "tensor \"b\" of type Q8_0 has ne0 = 48, not a multiple of its block size 32"));
  c.push_back(make("duplicate tensor name", [](RawFile& f) { f.tensors[2].name = f.tensors[0].name; },
                   "duplicate tensor name \"a\" (first at offset"));
  // Tensor data.
  c.push_back(make("misaligned offset", [](RawFile& f) { f.tensors[1].offset = 72; },
                   "tensor \"b\" data offset 72 is misaligned"));
  c.push_back(make("offset far out of range", [](RawFile& f) { f.tensors[2].offset = 1ull << 62; },
                   "tensor \"c\" data (offset 4611686018427387904, 16 bytes) runs past the end of the file"));
  c.push_back(make("offset + size wraps around", [](RawFile& f) { f.tensors[2].offset = ~0ull - 31; },
                   "tensor \"c\" data (offset 18446744073709551584, 16 bytes) runs past the end of the file"));
  c.push_back(make("data one block short", [](RawFile& f) { f.data_bytes = 160; },
                   "tensor \"c\" data (offset 160, 16 bytes) runs past the end of the file"));
  c.push_back(make("tensor too large for the file", [](RawFile& f) { f.tensors[0].ne = {8, 200}; },
                   "tensor \"a\" data (offset 0, 6400 bytes) runs past the end"));
  c.push_back(make("overlapping tensors", [](RawFile& f) { f.tensors[1].offset = 32; },
                   "tensor \"b\" data [32, 100) overlaps tensor \"a\" data [0, 64)"));
  c.push_back(make("same offset", [](RawFile& f) { f.tensors[2].offset = 0; },
                   "overlaps tensor \"a\""));
  return c;
}

// Truncation of the base file at every section boundary (and inside fields).
std::vector<Case> truncations() {
  std::vector<Mark> marks;
  std::string full = base_file().build(&marks);
  // The base's last tensor "c" ends at data byte 176; the rest is padding,
  // which may be cut (the reader does not require trailing padding).
  const size_t data_start = full.size() - base_file().data_bytes;
  marks.push_back({"last tensor 1 byte short", data_start + 175, "tensor \"c\" data (offset 160, 16 bytes) runs past"});
  std::vector<Case> c;
  for (const Mark& m : marks) {
    if (m.pos >= full.size()) continue;
    c.push_back({"truncated at " + m.label + " (" + std::to_string(m.pos) + ")", full.substr(0, m.pos), m.expect,
                 std::nullopt});
  }
  return c;
}

std::string write_case(const Case& k, size_t i) {
  std::string path = test::temp_path("bad-" + std::to_string(i) + ".gguf");
  test::write_file(path, k.bytes);
  return path;
}

TEST(GgufMalformed, BaseFileIsValid) {
  std::vector<Mark> marks;
  std::string bytes = base_file().build(&marks);
  std::string path = test::temp_path("base.gguf");
  test::write_file(path, bytes);
  auto f = GgufFile::open(path);
  ASSERT_EQ(f->tensors().size(), 3u);
  EXPECT_EQ(f->tensors()[1].nbytes, 68u);
  EXPECT_EQ(f->data_offset() + 192, bytes.size());
  EXPECT_EQ(*f->get_str("general.architecture"), "qwen35");
  EXPECT_GE(marks.size(), 30u);
}

TEST(GgufMalformed, CorpusIsRejectedInProcess) {
  std::vector<Case> cases = corpus();
  for (const Case& k : truncations()) cases.push_back(k);
  EXPECT_GE(cases.size(), 60u);
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& k = cases[i];
    SCOPED_TRACE(k.name);
    std::string path = write_case(k, i);
    try {
      GgufFile::open(path);
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      std::string msg = e.what();
      EXPECT_EQ(msg.rfind(path + ": offset ", 0), 0u) << msg;
      EXPECT_NE(msg.find(k.expect), std::string::npos) << "expected '" << k.expect << "' in: " << msg;
      if (k.offset) {
        EXPECT_NE(msg.find(": offset " + std::to_string(*k.offset) + ": "), std::string::npos) << msg;
      }
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
  }
}

// Through the CLI: exit status 1, nothing on stdout, exactly one stderr line
// "deltallm: error: PATH: offset N: ..." with the expected text (so no
// sanitizer report either, which would add lines).
TEST(GgufMalformed, CorpusIsRejectedByCli) {
  std::vector<Case> cases = corpus();
  for (const Case& k : truncations()) cases.push_back(k);
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& k = cases[i];
    SCOPED_TRACE(k.name);
    std::string path = write_case(k, 1000 + i);
    for (bool json : {false, true}) {
      if (json && i % 4 != 0) continue;  // --json takes the same path; a sample keeps the test fast
      std::vector<std::string> args{"gguf", path};
      if (json) args.push_back("--json");
      test::CmdResult r = test::run_deltallm(args);
      EXPECT_EQ(r.status, 1) << r.err;
      EXPECT_EQ(r.out, "");
      ASSERT_FALSE(r.err.empty());
      EXPECT_EQ(r.err.back(), '\n');
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
      EXPECT_EQ(r.err.rfind("deltallm: error: " + path + ": offset ", 0), 0u) << r.err;
      size_t at = r.err.find(": offset ");
      size_t digits = at == std::string::npos ? 0 : r.err.find_first_not_of("0123456789", at + 9);
      EXPECT_TRUE(at != std::string::npos && digits > at + 9 && r.err.compare(digits, 2, ": ") == 0) << r.err;
      EXPECT_NE(r.err.find(k.expect), std::string::npos) << "expected '" << k.expect << "' in: " << r.err;
      EXPECT_EQ(r.err.find("Sanitizer"), std::string::npos) << r.err;
      EXPECT_EQ(r.err.find("runtime error"), std::string::npos) << r.err;
    }
  }
}

TEST(GgufMalformed, TooManyMetadataValues) {
  // A UINT8 array one item over the limit of 2^23 values, with all its bytes
  // present: rejected before anything is allocated for it.
  const uint64_t n = (1ull << 23) + 1;
  RawFile f = base_file();
  f.kvs.push_back({"t.big", T_ARRAY, arr(T_UINT8, n, std::string(n, '\0'))});
  std::string path = test::temp_path("too-many-values.gguf");
  test::write_file(path, f.build());
  test::CmdResult r = test::run_deltallm({"gguf", path});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("exceeds the limit of 8388608 metadata values"), std::string::npos) << r.err;
}

TEST(GgufMalformed, NotAFile) {
  test::CmdResult r = test::run_deltallm({"gguf", test::temp_dir()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("not a regular file"), std::string::npos) << r.err;
  r = test::run_deltallm({"gguf", test::temp_path("does-not-exist.gguf")});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("cannot open"), std::string::npos) << r.err;
}

TEST(GgufMalformed, TrailingPaddingMayBeCut) {
  std::string full = base_file().build();
  std::string path = test::temp_path("cut-padding.gguf");
  test::write_file(path, full.substr(0, full.size() - 16));
  EXPECT_EQ(GgufFile::open(path)->tensors().size(), 3u);
}

TEST(GgufMalformed, NestingAtTheLimitIsAccepted) {
  RawFile f = base_file();
  std::string p = arr(T_UINT8, 1, "\7");
  for (int d = 0; d < 15; ++d) p = arr(T_ARRAY, 1, p);  // 16 levels of arrays
  f.kvs.push_back({"t.deep", T_ARRAY, p});
  std::string path = test::temp_path("deep16.gguf");
  test::write_file(path, f.build());
  auto g = GgufFile::open(path);
  const GgufValue* v = g->find("t.deep");
  ASSERT_NE(v, nullptr);
  int depth = 0;
  while (v->type == GgufType::ARRAY && !v->items.empty()) {
    ++depth;
    v = &v->items[0];
  }
  EXPECT_EQ(depth, 16);
  EXPECT_EQ(v->u, 7u);
}

TEST(GgufMalformed, NoTensorsNoPaddingIsValid) {
  // A vocab-only file whose writer did not pad after the (empty) tensor infos.
  RawFile f = base_file();
  f.tensors.clear();
  f.data_bytes = 0;
  std::string bytes = f.build();
  std::string path = test::temp_path("vocab-nopad.gguf");
  size_t unpadded = bytes.size();
  while (unpadded > 0 && bytes[unpadded - 1] == '\0') --unpadded;  // the last field is the BOOL 1
  test::write_file(path, bytes.substr(0, unpadded));
  auto g = GgufFile::open(path);
  EXPECT_TRUE(g->tensors().empty());
  EXPECT_EQ(g->metadata().size(), 5u);
}

// Random corruption of a valid file: open() either succeeds or throws one
// dllm::Error naming the file and an offset; it never crashes, and what it
// accepts is consistent.
TEST(GgufMalformed, RandomMutationsNeverCrash) {
  std::string base = base_file().build();
  std::mt19937_64 rng(12345);
  const uint64_t specials[] = {0, 1, 2, 3, 4, 5, 8, 9, 12, 13, 31, 32, 33, 64, 255, 256, 0xffffffffull,
                               1ull << 32, 1ull << 62, ~0ull, ~0ull - 31};
  int accepted = 0, rejected = 0;
  for (int iter = 0; iter < 400; ++iter) {
    std::string b = base;
    int n_mut = 1 + static_cast<int>(rng() % 3);
    for (int m = 0; m < n_mut; ++m) {
      size_t at = rng() % b.size();
      switch (rng() % 4) {
        case 0: b[at] = static_cast<char>(rng()); break;
        case 1: {  // a boundary value over a u32 or u64 field
          uint64_t v = specials[rng() % std::size(specials)];
          size_t w = rng() % 2 ? 8 : 4;
          if (at + w <= b.size()) std::memcpy(b.data() + at, &v, w);
          break;
        }
        case 2: b.resize(at); break;
        default: b[at] ^= static_cast<char>(1u << (rng() % 8)); break;
      }
      if (b.empty()) break;
    }
    std::string path = test::temp_path("fuzz.gguf");
    test::write_file(path, b);
    try {
      auto f = GgufFile::open(path);
      ++accepted;
      for (const GgufTensorInfo& t : f->tensors()) {
        ASSERT_LE(f->data_offset() + t.offset + t.nbytes, f->file_size());
        ASSERT_EQ(t.offset % f->alignment(), 0u);
      }
    } catch (const Error& e) {
      ++rejected;
      std::string msg = e.what();
      ASSERT_EQ(msg.rfind(path + ": offset ", 0), 0u) << msg;
    }
  }
  EXPECT_GT(rejected, 100);
  EXPECT_GT(accepted, 0);
}

}  // namespace
}  // namespace dllm
