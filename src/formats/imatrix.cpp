#include "formats/imatrix.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "formats/gguf.h"
#include "util/error.h"

namespace dllm {

static_assert(std::endian::native == std::endian::little, "imatrix files are little-endian");

namespace {

// Generous bounds that still refuse garbage before it allocates.
constexpr int64_t kMaxNameLen = 4096;
constexpr uint64_t kMaxValues = uint64_t(1) << 32;

void check_count(const std::string& path, const std::string& name, double c) {
  if (!std::isfinite(c) || c < 0) fail(path, ": entry '", name, "' has count ", c, " (counts are >= 0)");
}

void check_values(const std::string& path, const std::string& name, const std::vector<float>& v) {
  for (size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i]) || v[i] < 0)
      fail(path, ": entry '", name, "' value ", i, " is ", v[i], " (sums of squares are finite and >= 0)");
}

// Legacy format: a cursor over the whole file with bounds-checked reads.
struct DatReader {
  const std::string& path;
  std::vector<char> buf;
  size_t pos = 0;
  size_t left() const { return buf.size() - pos; }
  int32_t i32(const char* what) {
    if (left() < 4) fail(path, ": truncated: ", buf.size(), " bytes, ends inside ", what, " at offset ", pos);
    int32_t v;
    std::memcpy(&v, buf.data() + pos, 4);
    pos += 4;
    return v;
  }
  void bytes(void* out, size_t n, const char* what) {
    if (left() < n) fail(path, ": truncated: ", buf.size(), " bytes, ", what, " at offset ", pos, " needs ", n);
    std::memcpy(out, buf.data() + pos, n);
    pos += n;
  }
};

Imatrix read_dat(const std::string& path, std::vector<char> buf) {
  DatReader r{path, std::move(buf)};
  Imatrix m;
  m.format = ImatrixFormat::Dat;
  const int32_t n = r.i32("the entry count");
  // Each entry takes at least 16 bytes (three ints and one value).
  if (n < 1 || uint64_t(n) * 16 > r.buf.size())
    fail(path, ": not an imatrix file: entry count ", n, " (file of ", r.buf.size(), " bytes)");
  for (int32_t e = 0; e < n; ++e) {
    const int32_t len = r.i32("a name length");
    if (len < 1 || len > kMaxNameLen || size_t(len) > r.left())
      fail(path, ": entry ", e, ": bad name length ", len, " at offset ", r.pos - 4);
    std::string name(size_t(len), '\0');
    r.bytes(name.data(), size_t(len), "a name");
    const int32_t ncall = r.i32("a call count");
    if (ncall < 0) fail(path, ": entry '", name, "' has a negative call count ", ncall);
    const int32_t nval = r.i32("a value count");
    if (nval < 1) fail(path, ": entry '", name, "': bad value count ", nval);
    if (uint64_t(nval) * 4 > r.left())
      fail(path, ": entry '", name, "': value count ", nval, " needs ", uint64_t(nval) * 4, " bytes, ", r.left(),
           " left in the file (truncated or corrupt)");
    ImatrixEntry en;
    en.counts = {float(ncall)};
    en.values.resize(size_t(nval));
    r.bytes(en.values.data(), size_t(nval) * 4, "the values");
    check_values(path, name, en.values);
    if (!m.entries.emplace(name, std::move(en)).second) fail(path, ": entry '", name, "' appears twice");
  }
  // The trailer (absent in files of old llama.cpp versions).
  if (r.left() > 0) {
    const int32_t last = r.i32("the chunk count");
    if (last < 0) fail(path, ": negative chunk count ", last);
    m.chunk_count = last;
    const int32_t dlen = r.i32("the dataset name length");
    if (dlen < 0 || size_t(dlen) > r.left())
      fail(path, ": bad dataset name length ", dlen, " (", r.left(), " bytes left in the file)");
    std::string ds(size_t(dlen), '\0');
    r.bytes(ds.data(), size_t(dlen), "the dataset name");
    m.datasets.push_back(std::move(ds));
    if (r.left() > 0) fail(path, ": ", r.left(), " bytes after the end of the imatrix data");
  }
  return m;
}

// One F32 tensor of a GGUF imatrix, as [ne0, ne1] (trailing dims must be 1).
std::vector<float> f32_tensor(const GgufFile& f, const GgufTensorInfo& t, int64_t& ne0, int64_t& ne1) {
  if (t.ggml_type() != GgmlType::F32)
    fail(f.path(), ": tensor '", t.name, "' has type ", t.type, ", an imatrix holds F32 tensors");
  if (t.n_dims > 2 && (t.ne[2] != 1 || t.ne[3] != 1))
    fail(f.path(), ": tensor '", t.name, "' has more than 2 dimensions");
  ne0 = t.ne[0];
  ne1 = t.ne[1];
  if (uint64_t(t.n_elements()) > kMaxValues) fail(f.path(), ": tensor '", t.name, "' is absurdly large");
  std::vector<float> v(size_t(t.n_elements()));
  std::memcpy(v.data(), f.tensor_data(t), v.size() * 4);
  return v;
}

Imatrix read_gguf(const std::string& path) {
  std::unique_ptr<GgufFile> f = GgufFile::open(path);
  const std::optional<std::string> type = f->get_str("general.type");
  if (type != "imatrix")
    fail(path, ": a GGUF file but not an imatrix (general.type is ", type ? "'" + *type + "'" : "absent",
         ", expected 'imatrix')");
  Imatrix m;
  m.format = ImatrixFormat::Gguf;
  const auto chunks = f->get_u32("imatrix.chunk_count"), size = f->get_u32("imatrix.chunk_size");
  if (chunks && *chunks > uint32_t(INT32_MAX)) fail(path, ": imatrix.chunk_count ", *chunks, " is out of range");
  if (size && *size > uint32_t(INT32_MAX)) fail(path, ": imatrix.chunk_size ", *size, " is out of range");
  m.chunk_count = chunks ? int32_t(*chunks) : 0;
  m.chunk_size = size ? int32_t(*size) : 0;
  if (const GgufValue* ds = f->get_array("imatrix.datasets")) {
    if (ds->elem_type != GgufType::STRING) fail(path, ": imatrix.datasets is not an array of strings");
    for (const GgufValue& v : ds->items) m.datasets.push_back(v.s);
  }
  // Pair each `<name>.in_sum2` with its `<name>.counts`.
  std::map<std::string, const GgufTensorInfo*> sums, counts;
  const auto ends = [](const std::string& s, const std::string& suf, std::string& stem) {
    if (s.size() <= suf.size() || s.compare(s.size() - suf.size(), suf.size(), suf) != 0) return false;
    stem = s.substr(0, s.size() - suf.size());
    return true;
  };
  for (const GgufTensorInfo& t : f->tensors()) {
    std::string stem;
    if (ends(t.name, ".in_sum2", stem)) sums[stem] = &t;
    else if (ends(t.name, ".counts", stem)) counts[stem] = &t;
    else if (ends(t.name, ".in_sum", stem)) continue;
    else fail(path, ": unexpected tensor '", t.name, "' in an imatrix (expected <name>.in_sum2 / .counts)");
  }
  for (const auto& [name, st] : sums) {
    const auto c = counts.find(name);
    if (c == counts.end()) fail(path, ": '", name, ".in_sum2' has no '", name, ".counts'");
    int64_t s0, s1, c0, c1;
    ImatrixEntry en;
    en.values = f32_tensor(*f, *st, s0, s1);
    en.counts = f32_tensor(*f, *c->second, c0, c1);
    if (c0 != 1 || c1 != s1)
      fail(path, ": '", name, ".counts' has shape [", c0, ", ", c1, "], expected [1, ", s1, "] for '", name,
           ".in_sum2' [", s0, ", ", s1, "]");
    for (float x : en.counts) check_count(path, name, x);
    check_values(path, name, en.values);
    m.entries.emplace(name, std::move(en));
  }
  for (const auto& [name, ct] : counts)
    if (!sums.count(name)) fail(path, ": '", name, ".counts' has no '", name, ".in_sum2'");
  if (m.entries.empty()) fail(path, ": an imatrix GGUF without entries");
  return m;
}

void put_i32(std::ostream& o, int32_t v) { o.write(reinterpret_cast<const char*>(&v), 4); }

}  // namespace

std::vector<float> ImatrixEntry::mean_squares() const {
  std::vector<float> out(values.size());
  const int64_t nc = n_cols();
  for (size_t i = 0; i < values.size(); ++i) {
    const float c = counts[size_t(int64_t(i) / nc)];
    out[i] = c > 0 ? values[i] / c : 1.0f;
  }
  return out;
}

Imatrix read_imatrix(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open ", path);
  char magic[4] = {};
  in.read(magic, 4);
  if (in.gcount() == 4 && std::memcmp(magic, "GGUF", 4) == 0) return read_gguf(path);
  in.clear();
  in.seekg(0);
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string s = ss.str();
  if (s.empty()) fail(path, ": empty file, not an imatrix");
  return read_dat(path, std::vector<char>(s.begin(), s.end()));
}

void write_imatrix_dat(const Imatrix& m, const std::string& path) {
  std::ostringstream o;
  put_i32(o, int32_t(m.entries.size()));
  for (const auto& [name, e] : m.entries) {
    if (e.counts.size() != 1) fail("imatrix ", name, ": the dat format holds one count per entry");
    put_i32(o, int32_t(name.size()));
    o.write(name.data(), std::streamsize(name.size()));
    put_i32(o, int32_t(e.counts[0]));
    put_i32(o, int32_t(e.values.size()));
    o.write(reinterpret_cast<const char*>(e.values.data()), std::streamsize(e.values.size() * 4));
  }
  put_i32(o, m.chunk_count);
  const std::string ds = m.datasets.empty() ? std::string() : m.datasets.back();
  put_i32(o, int32_t(ds.size()));
  o.write(ds.data(), std::streamsize(ds.size()));
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  const std::string bytes = o.str();
  if (!out || !out.write(bytes.data(), std::streamsize(bytes.size())) || !out.flush())
    fail("cannot write ", path);
}

void write_imatrix_gguf(const Imatrix& m, const std::string& path) {
  GgufWriter w;
  w.set("general.type", GgufValue::str("imatrix"));
  w.set("imatrix.datasets", GgufValue::str_array(m.datasets));
  w.set("imatrix.chunk_count", GgufValue::u32(uint32_t(m.chunk_count)));
  w.set("imatrix.chunk_size", GgufValue::u32(uint32_t(m.chunk_size)));
  for (const auto& [name, e] : m.entries) {
    const int64_t nmat = e.n_mat(), ncols = e.n_cols();
    if (nmat < 1 || int64_t(e.values.size()) != nmat * ncols) fail("imatrix ", name, ": values do not fill its matrices");
    // ggml writes the dimensions up to the last one above 1
    const std::vector<int64_t> ne_s = nmat > 1 ? std::vector<int64_t>{ncols, nmat} : std::vector<int64_t>{ncols};
    const std::vector<int64_t> ne_c = nmat > 1 ? std::vector<int64_t>{1, nmat} : std::vector<int64_t>{1};
    w.add_tensor(name + ".in_sum2", GgmlType::F32, ne_s, e.values.data(), e.values.size() * 4);
    w.add_tensor(name + ".counts", GgmlType::F32, ne_c, e.counts.data(), e.counts.size() * 4);
  }
  w.write(path);
}

}  // namespace dllm
