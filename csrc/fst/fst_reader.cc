// OpenFst binary reader. Layout of the files read here (all integers in host byte order):
//
//   header:  int32 magic (2125659606), string fst_type, string arc_type, int32 version,
//            int32 flags, uint64 properties, int64 start, int64 num_states, int64 num_arcs
//            (a string is an int32 length followed by that many bytes)
//   flags:   1 = an input symbol table follows, 2 = an output symbol table follows,
//            4 = arrays are aligned (ConstFst only; ConstFst version 1 implies it)
//   symbol table (each present one, input first):
//            int32 magic (2125658996), string name, int64 available_key, int64 size,
//            size x (string symbol, int64 key)
//   vector (version 2): per state: float final, int64 num_arcs,
//            num_arcs x (int32 ilabel, int32 olabel, float weight, int32 nextstate);
//            num_states == -1 in the header means "read states until the end of the file"
//   const (version 1 or 2): [pad to 16 bytes] num_states x (float final, uint32 pos,
//            uint32 num_arcs, uint32 num_input_eps, uint32 num_output_eps)
//            [pad to 16 bytes] num_arcs x arc (same 16-byte layout as above);
//            padding is relative to the start of the file and present only when aligned.
#include "fst/fst_reader.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>
#include <vector>

#include "common/errors.h"

namespace pywfst {

namespace {

constexpr int32_t kFstMagic = 2125659606;
constexpr int32_t kSymbolTableMagic = 2125658996;
constexpr int32_t kHasInputSymbols = 1;
constexpr int32_t kHasOutputSymbols = 2;
constexpr int32_t kIsAligned = 4;
constexpr int64_t kAlignment = 16;
constexpr int32_t kMaxHeaderString = 4096;

// The on-disk arc is read straight into GraphArc: the two layouts must agree.
static_assert(sizeof(GraphArc) == 16, "GraphArc must match the 16-byte OpenFst standard arc");
static_assert(offsetof(GraphArc, ilabel) == 0 && offsetof(GraphArc, olabel) == 4 &&
                  offsetof(GraphArc, weight) == 8 && offsetof(GraphArc, nextstate) == 12,
              "GraphArc field order must be ilabel, olabel, weight, nextstate");

// ConstFst<StdArc, uint32>'s state record as OpenFst writes it (raw struct memory).
struct ConstState {
  float final_weight;
  uint32_t pos;
  uint32_t num_arcs;
  uint32_t num_input_eps;
  uint32_t num_output_eps;
};
static_assert(sizeof(ConstState) == 20, "ConstFst state record is 20 bytes");

int32_t ByteSwap32(int32_t v) {
  uint32_t u = static_cast<uint32_t>(v);
  u = (u >> 24) | ((u >> 8) & 0xff00u) | ((u << 8) & 0xff0000u) | (u << 24);
  return static_cast<int32_t>(u);
}

// A header string for an error message: printable ASCII as is, other bytes as \xNN, so that a
// corrupt file never puts invalid UTF-8 into a message.
std::string Printable(const std::string& s) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && u != '\\') {
      out += c;
    } else {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

// A sequential reader over one file with its own read-ahead buffer. Small fields come from the
// buffer; large arrays are read straight into their destination. Every failure names the file.
class BinaryFile {
 public:
  explicit BinaryFile(const std::string& path) : path_(path) {
    file_ = std::fopen(path.c_str(), "rb");
    if (file_ == nullptr) {
      throw IoError(Concat("cannot open FST file '", path, "': ", std::strerror(errno)));
    }
    struct stat st;
    if (fstat(fileno(file_), &st) != 0) {
      const int err = errno;
      std::fclose(file_);
      throw IoError(Concat("cannot stat FST file '", path, "': ", std::strerror(err)));
    }
    if (S_ISDIR(st.st_mode)) {
      std::fclose(file_);
      throw IoError(Concat("cannot read FST file '", path, "': it is a directory"));
    }
    size_ = S_ISREG(st.st_mode) ? static_cast<int64_t>(st.st_size) : -1;
    buffer_.resize(kBufferSize);
  }
  ~BinaryFile() { std::fclose(file_); }
  BinaryFile(const BinaryFile&) = delete;
  BinaryFile& operator=(const BinaryFile&) = delete;

  const std::string& path() const { return path_; }
  int64_t Offset() const { return offset_; }
  // Bytes left in a regular file; "unlimited" for a pipe or device.
  int64_t Remaining() const {
    return size_ < 0 ? std::numeric_limits<int64_t>::max() : size_ - offset_;
  }

  // Reads exactly `n` bytes; `what` names the field for the truncation message.
  void Read(void* dst, size_t n, const char* what) {
    if (n == 0) return;  // an empty array's data() may be null, which memcpy must not get
    char* out = static_cast<char*>(dst);
    const size_t buffered = std::min(n, end_ - pos_);
    std::memcpy(out, buffer_.data() + pos_, buffered);
    pos_ += buffered;
    out += buffered;
    size_t left = n - buffered;
    if (left >= kBufferSize) {  // large array: bypass the buffer
      const size_t got = std::fread(out, 1, left, file_);
      CheckRead(got, left, n, what);
      left = 0;
    } else if (left > 0) {
      Fill();
      if (end_ < left) CheckRead(end_, left, n, what);
      std::memcpy(out, buffer_.data(), left);
      pos_ = left;
    }
    offset_ += static_cast<int64_t>(n);
  }

  template <typename T>
  T Get(const char* what) {
    T value;
    Read(&value, sizeof(T), what);
    return value;
  }

  std::string GetString(const char* what) {
    const int32_t length = Get<int32_t>(what);
    if (length < 0 || length > kMaxHeaderString || length > Remaining()) {
      throw InputError(Concat(path_, ": corrupt OpenFst file: ", what, " has length ", length,
                              " at byte ", offset_ - 4));
    }
    std::string s(static_cast<size_t>(length), '\0');
    Read(&s[0], s.size(), what);
    return s;
  }

  // Skips `n` bytes (n >= 0, already checked against Remaining() by the caller when it matters).
  void Skip(int64_t n, const char* what) {
    char scratch[4096];
    while (n > 0) {
      const size_t chunk = static_cast<size_t>(std::min<int64_t>(n, sizeof(scratch)));
      Read(scratch, chunk, what);
      n -= static_cast<int64_t>(chunk);
    }
  }

  // Skips the padding OpenFst inserts so that the next array starts at a multiple of `alignment`
  // bytes from the start of the file.
  void Align(int64_t alignment, const char* what) {
    const int64_t rem = offset_ % alignment;
    if (rem != 0) Skip(alignment - rem, what);
  }

  // True when every byte has been consumed (always true for a non-regular file at EOF).
  bool AtEnd() {
    if (pos_ < end_) return false;
    if (size_ >= 0) return offset_ >= size_;
    Fill();
    return end_ == 0;
  }

 private:
  static constexpr size_t kBufferSize = size_t{1} << 20;

  void Fill() {
    end_ = std::fread(buffer_.data(), 1, buffer_.size(), file_);
    pos_ = 0;
    if (end_ < buffer_.size() && std::ferror(file_)) {
      throw IoError(Concat("error reading FST file '", path_, "': ", std::strerror(errno)));
    }
  }

  void CheckRead(size_t got, size_t wanted, size_t field_size, const char* what) {
    if (got == wanted) return;
    if (std::ferror(file_)) {
      throw IoError(Concat("error reading FST file '", path_, "': ", std::strerror(errno)));
    }
    throw InputError(Concat(path_, ": truncated OpenFst file: ", what, " (", field_size,
                            " bytes at byte ", offset_, ") runs past the end of the file"));
  }

  std::string path_;
  std::FILE* file_ = nullptr;
  int64_t size_ = -1;
  int64_t offset_ = 0;  // bytes consumed by the caller so far
  std::vector<char> buffer_;
  size_t pos_ = 0, end_ = 0;  // unread part of buffer_ is [pos_, end_)
};

struct FstHeader {
  std::string fst_type, arc_type;
  int32_t version = 0, flags = 0;
  uint64_t properties = 0;
  int64_t start = -1, num_states = -1, num_arcs = -1;
};

FstHeader ReadHeader(BinaryFile* in) {
  FstHeader h;
  int32_t magic = 0;
  if (in->Remaining() < 4) {
    throw InputError(Concat(in->path(), ": not an OpenFst binary file (",
                            in->Remaining(), " bytes, too short for a header)"));
  }
  magic = in->Get<int32_t>("magic number");
  if (magic == ByteSwap32(kFstMagic)) {
    throw InputError(Concat(in->path(), ": OpenFst file written on a machine of the other byte "
                                        "order; only native (little-endian) files are supported"));
  }
  if (magic != kFstMagic) {
    throw InputError(Concat(in->path(), ": not an OpenFst binary file (bad magic number ", magic,
                            ", expected ", kFstMagic, ")"));
  }
  h.fst_type = in->GetString("FST type");
  h.arc_type = in->GetString("arc type");
  h.version = in->Get<int32_t>("header version");
  h.flags = in->Get<int32_t>("header flags");
  h.properties = in->Get<uint64_t>("header properties");
  h.start = in->Get<int64_t>("start state");
  h.num_states = in->Get<int64_t>("number of states");
  h.num_arcs = in->Get<int64_t>("number of arcs");
  return h;
}

// Skips one binary symbol table, checking its structure.
void SkipSymbolTable(BinaryFile* in, const char* which) {
  const int64_t at = in->Offset();
  const int32_t magic = in->Get<int32_t>(which);
  if (magic != kSymbolTableMagic) {
    throw InputError(Concat(in->path(), ": corrupt OpenFst file: the header announces an ", which,
                            " but byte ", at, " does not start one (magic ", magic, ")"));
  }
  const int32_t name_length = in->Get<int32_t>(which);
  if (name_length < 0 || name_length > in->Remaining()) {
    throw InputError(Concat(in->path(), ": corrupt ", which, ": name length ", name_length));
  }
  in->Skip(name_length, which);
  in->Get<int64_t>(which);  // available key
  const int64_t size = in->Get<int64_t>(which);
  // Each entry takes at least 12 bytes (an empty string and a key).
  if (size < 0 || size > in->Remaining() / 12) {
    throw InputError(Concat(in->path(), ": corrupt ", which, ": ", size, " symbols"));
  }
  for (int64_t i = 0; i < size; ++i) {
    const int32_t length = in->Get<int32_t>(which);
    if (length < 0 || length > in->Remaining()) {
      throw InputError(Concat(in->path(), ": corrupt ", which, ": symbol ", i, " has length ",
                              length));
    }
    in->Skip(length, which);
    in->Get<int64_t>(which);  // key
  }
}

void CheckStart(const FstHeader& h, const std::string& path) {
  if (h.start < -1 || h.start > std::numeric_limits<StateId>::max()) {
    throw InputError(Concat(path, ": corrupt OpenFst header: start state ", h.start));
  }
}

std::shared_ptr<const CsrGraph> ReadVector(BinaryFile* in, const FstHeader& h) {
  const std::string& path = in->path();
  if (h.version < 2) {
    throw InputError(Concat(path, ": unsupported vector FST version ", h.version,
                            " (OpenFst writes version 2)"));
  }
  // num_states == -1: OpenFst could not seek back to patch the count; states run to the end.
  constexpr int64_t kMinStateBytes = 12;  // float final + int64 arc count
  if (h.num_states < -1 || h.num_states > std::numeric_limits<StateId>::max() ||
      h.num_states > in->Remaining() / kMinStateBytes) {
    throw InputError(Concat(path, ": impossible number of states ", h.num_states, " for a ",
                            in->Offset() + in->Remaining(), "-byte file"));
  }
  CheckStart(h, path);
  const bool count_known = h.num_states >= 0;

  std::vector<float> finals;
  std::vector<int64_t> offsets;
  std::vector<GraphArc> arcs;
  if (count_known) {
    finals.reserve(static_cast<size_t>(h.num_states));
    offsets.reserve(static_cast<size_t>(h.num_states) + 1);
    // Every byte left after the state records is arcs: reserve once, exactly, so the flat
    // array never doubles (these graphs can be hundreds of MB).
    const int64_t arc_bytes = in->Remaining() - h.num_states * kMinStateBytes;
    if (in->Remaining() != std::numeric_limits<int64_t>::max() && arc_bytes > 0) {
      arcs.reserve(static_cast<size_t>(arc_bytes / static_cast<int64_t>(sizeof(GraphArc))));
    }
  }
  offsets.push_back(0);
  for (int64_t s = 0; !count_known || s < h.num_states; ++s) {
    if (!count_known) {
      if (in->AtEnd()) break;
      if (s >= std::numeric_limits<StateId>::max()) {
        throw InputError(Concat(path, ": more than ", std::numeric_limits<StateId>::max(),
                                " states"));
      }
    }
    finals.push_back(in->Get<float>("final weight"));
    const int64_t num_arcs = in->Get<int64_t>("arc count");
    if (num_arcs < 0 ||
        num_arcs > in->Remaining() / static_cast<int64_t>(sizeof(GraphArc))) {
      throw InputError(Concat(path, ": impossible arc count ", num_arcs, " for state ", s,
                              " at byte ", in->Offset() - 8, " (",
                              in->Remaining(), " bytes left)"));
    }
    const size_t old_size = arcs.size();
    arcs.resize(old_size + static_cast<size_t>(num_arcs));
    in->Read(arcs.data() + old_size, static_cast<size_t>(num_arcs) * sizeof(GraphArc), "arcs");
    offsets.push_back(static_cast<int64_t>(arcs.size()));
  }
  if (!in->AtEnd()) {
    throw InputError(Concat(path, ": unexpected data after the last state at byte ", in->Offset(),
                            " (corrupt file or wrong state count)"));
  }
  return std::make_shared<const CsrGraph>(static_cast<StateId>(h.start), std::move(finals), arcs,
                                          offsets, path);
}

std::shared_ptr<const CsrGraph> ReadConst(BinaryFile* in, const FstHeader& h) {
  const std::string& path = in->path();
  if (h.version != 1 && h.version != 2) {
    throw InputError(Concat(path, ": unsupported const FST version ", h.version,
                            " (OpenFst writes 1 or 2)"));
  }
  const bool aligned = (h.flags & kIsAligned) != 0 || h.version == 1;
  const int64_t remaining = in->Remaining();
  const int64_t max_states = std::numeric_limits<StateId>::max();
  if (h.num_states < 0 || h.num_states > max_states ||
      h.num_states > remaining / static_cast<int64_t>(sizeof(ConstState))) {
    throw InputError(Concat(path, ": impossible number of states ", h.num_states, " for a ",
                            in->Offset() + remaining, "-byte file"));
  }
  if (h.num_arcs < 0 || h.num_arcs > std::numeric_limits<uint32_t>::max() ||
      h.num_arcs > (remaining - h.num_states * static_cast<int64_t>(sizeof(ConstState))) /
                       static_cast<int64_t>(sizeof(GraphArc))) {
    throw InputError(Concat(path, ": impossible number of arcs ", h.num_arcs, " for a ",
                            in->Offset() + remaining, "-byte file"));
  }
  CheckStart(h, path);
  const size_t num_states = static_cast<size_t>(h.num_states);
  const size_t num_arcs = static_cast<size_t>(h.num_arcs);

  if (aligned) in->Align(kAlignment, "alignment padding");
  std::vector<ConstState> states(num_states);
  in->Read(states.data(), num_states * sizeof(ConstState), "state array");
  if (aligned) in->Align(kAlignment, "alignment padding");
  std::vector<GraphArc> arcs(num_arcs);
  in->Read(arcs.data(), num_arcs * sizeof(GraphArc), "arc array");
  if (!in->AtEnd()) {
    throw InputError(Concat(path, ": unexpected data after the arc array at byte ", in->Offset(),
                            " (corrupt file or wrong counts)"));
  }

  std::vector<float> finals(num_states);
  std::vector<int64_t> offsets(num_states + 1);
  bool contiguous = true;  // OpenFst writes each state's arcs right after the previous state's
  for (size_t s = 0; s < num_states; ++s) {
    const ConstState& st = states[s];
    if (static_cast<uint64_t>(st.pos) + st.num_arcs > num_arcs) {
      throw InputError(Concat(path, ": state ", s, " has arcs [", st.pos, ", ",
                              static_cast<uint64_t>(st.pos) + st.num_arcs,
                              ") outside the arc array of ", num_arcs, " arcs"));
    }
    finals[s] = st.final_weight;
    if (static_cast<int64_t>(st.pos) != offsets[s]) contiguous = false;
    offsets[s + 1] = offsets[s] + st.num_arcs;
  }
  if (offsets[num_states] != static_cast<int64_t>(num_arcs)) contiguous = false;
  if (contiguous) {
    states = std::vector<ConstState>();  // release before CsrGraph makes its copy
    return std::make_shared<const CsrGraph>(static_cast<StateId>(h.start), std::move(finals), arcs,
                                            offsets, path);
  }
  // States share or skip parts of the arc array: gather each state's arcs in state order.
  std::vector<GraphArc> gathered;
  gathered.reserve(static_cast<size_t>(offsets[num_states]));
  for (size_t s = 0; s < num_states; ++s) {
    const GraphArc* first = arcs.data() + states[s].pos;
    gathered.insert(gathered.end(), first, first + states[s].num_arcs);
  }
  arcs.clear();
  arcs.shrink_to_fit();
  return std::make_shared<const CsrGraph>(static_cast<StateId>(h.start), std::move(finals),
                                          gathered, offsets, path);
}

}  // namespace

std::shared_ptr<const CsrGraph> ReadFstFile(const std::string& path) {
  BinaryFile in(path);
  const FstHeader h = ReadHeader(&in);
  const bool is_vector = h.fst_type == "vector";
  const bool is_const = h.fst_type == "const";
  if (!is_vector && !is_const) {
    throw InputError(Concat(path, ": unsupported FST type '", Printable(h.fst_type),
                            "'; only 'vector' and 'const' FSTs can be read (convert with "
                            "`fstconvert --fst_type=const` or pywrapfst.convert)"));
  }
  if (h.arc_type != "standard") {
    throw InputError(Concat(path, ": unsupported arc type '", Printable(h.arc_type),
                            "'; only standard (tropical, float weight) arcs are supported"));
  }
  if (h.flags & kHasInputSymbols) SkipSymbolTable(&in, "input symbol table");
  if (h.flags & kHasOutputSymbols) SkipSymbolTable(&in, "output symbol table");
  try {
    return is_vector ? ReadVector(&in, h) : ReadConst(&in, h);
  } catch (const std::bad_alloc&) {
    // Regular files have their counts checked against the file size first; this catches the
    // counts a corrupt stream (pipe, device) claims, or a genuinely too large graph.
    throw InputError(Concat(path, ": out of memory while reading the FST (", h.num_states,
                            " states, ", h.num_arcs, " arcs in the header)"));
  } catch (const std::length_error&) {
    throw InputError(Concat(path, ": impossible counts in the FST (", h.num_states,
                            " states, ", h.num_arcs, " arcs in the header)"));
  }
}

}  // namespace pywfst
