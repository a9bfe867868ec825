// The mapped graph file (fst/mapped_graph.h): writer, header checks and the mapping.
#include "fst/mapped_graph.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "common/atomic_file.h"

namespace pywfst {

namespace {

constexpr char kMagic[8] = {'p', 'y', 'w', 'f', 's', 't', 'G', '\n'};
constexpr uint32_t kFormatVersion = 1;
constexpr uint32_t kByteOrderMark = 0x01020304;
constexpr int64_t kAlignment = 64;

enum Section {
  kFinals,
  kRanges,
  kArcs,
  kNonterminalArcs,
  kNonterminalSources,
  kEpsilonOrder,
  kNumSections
};
const char* const kSectionNames[kNumSections] = {"finals", "ranges", "arcs", "nonterminal arcs",
                                                  "nonterminal sources", "epsilon order"};
constexpr uint32_t kHasEpsilonOrder = 1;  // Header::flags

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t byte_order;
  uint32_t header_bytes;
  uint32_t arc_bytes;
  uint32_t range_bytes;
  int32_t start;
  int64_t num_states;
  int64_t num_arcs;  // emitting and epsilon
  int64_t num_nonterminal_arcs;
  int64_t source_size;
  int64_t source_mtime_ns;
  int64_t file_size;
  uint64_t checksum;  // of the file_size - sizeof(Header) bytes after the header
  struct {
    int64_t offset, bytes;
  } sections[kNumSections];
  uint32_t flags;  // kHasEpsilonOrder
  char reserved[4];  // zero
};
static_assert(sizeof(Header) == 192 && sizeof(Header) % kAlignment == 0, "header layout");
static_assert(std::is_trivially_copyable<Header>::value, "the header is written as bytes");
static_assert(sizeof(GraphArc) == 16 && sizeof(StateRange) == 16 && sizeof(float) == 4 &&
                  sizeof(StateId) == 4,
              "the file's element sizes");

int64_t AlignUp(int64_t offset) { return (offset + kAlignment - 1) / kAlignment * kAlignment; }

// The only layout a file of these counts may have: each section at the next multiple of 64
// bytes after the previous one, the file ending with the last. The caller has bounded the counts
// (by the file's size), so nothing overflows.
void SetLayout(Header* h) {
  const int64_t bytes[kNumSections] = {
      h->num_states * 4,           h->num_states * 16 + 16,     h->num_arcs * 16,
      h->num_nonterminal_arcs * 16, h->num_nonterminal_arcs * 4,
      h->flags & kHasEpsilonOrder ? h->num_states * 4 : 0};
  int64_t end = sizeof(Header);
  for (int i = 0; i < kNumSections; ++i) {
    h->sections[i].offset = AlignUp(end);
    h->sections[i].bytes = bytes[i];
    end = h->sections[i].offset + bytes[i];
  }
  h->file_size = end;
}

// A position-dependent sum of a bijective mix of each 8-byte word (a last partial word is
// padded with zeros): any change of one word changes it, any other change does with
// probability 1 - 2^-64; the words are independent, so it runs at memory speed.
class Checksum {
 public:
  void Update(const void* data, size_t size) {
    const unsigned char* p = static_cast<const unsigned char*>(data);
    while (size > 0 && pending_ > 0) {  // complete a word begun by the previous call
      word_[pending_++] = *p++;
      --size;
      if (pending_ == 8) Flush();
    }
    uint64_t sum = sum_, index = index_;
    for (; size >= 8; p += 8, size -= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      sum += Mix(w ^ (index++ * 0x9E3779B97F4A7C15ULL));
    }
    sum_ = sum;
    index_ = index;
    while (size-- > 0) word_[pending_++] = *p++;
  }
  uint64_t Value() const {
    Checksum last = *this;
    if (last.pending_ > 0) {
      std::memset(last.word_ + last.pending_, 0, 8 - last.pending_);
      last.Flush();
    }
    return last.sum_;
  }

 private:
  static uint64_t Mix(uint64_t x) {
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 31;
    x *= 0x94D049BB133111EBULL;
    return x ^ (x >> 29);
  }
  void Flush() {
    uint64_t w;
    std::memcpy(&w, word_, 8);
    sum_ += Mix(w ^ (index_++ * 0x9E3779B97F4A7C15ULL));
    pending_ = 0;
  }
  uint64_t sum_ = 0, index_ = 0;
  unsigned char word_[8] = {};
  size_t pending_ = 0;
};

// A file descriptor closed when it goes out of scope.
struct FileDescriptor {
  int fd = -1;
  ~FileDescriptor() {
    if (fd >= 0) close(fd);
  }
};

// A whole file mapped read-only and shared, unmapped with the last reference.
class FileMapping {
 public:
  FileMapping(int fd, size_t size, const std::string& path) : size_(size) {
    data_ = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    if (data_ == MAP_FAILED) {
      throw IoError(Concat("cannot map graph file '", path, "': ", std::strerror(errno)));
    }
    // The search reads the graph at random: with 2 MB pages (where the kernel maps files so)
    // far fewer of its reads miss the TLB (measured: beam 8 decodes 5-10 % faster).
    madvise(data_, size, MADV_HUGEPAGE);
    // Start reading the pages in now: the check below reads every one of them.
    madvise(data_, size, MADV_WILLNEED);
  }
  ~FileMapping() { munmap(data_, size_); }
  FileMapping(const FileMapping&) = delete;
  FileMapping& operator=(const FileMapping&) = delete;
  const char* data() const { return static_cast<const char*>(data_); }

 private:
  void* data_;
  size_t size_;
};

template <typename T>
ArrayView<T> SectionView(const FileMapping& mapping, const Header& h, Section section) {
  return ArrayView<T>(reinterpret_cast<const T*>(mapping.data() + h.sections[section].offset),
                      static_cast<size_t>(h.sections[section].bytes) / sizeof(T));
}

void CheckHeader(const Header& h, int64_t file_size, const std::string& path,
                 const SourceStamp* expected_source) {
  if (std::memcmp(h.magic, kMagic, sizeof(kMagic)) != 0) {
    throw InputError(Concat(path, ": not a pywfst mapped graph file (bad magic)"));
  }
  if (h.byte_order != kByteOrderMark) {
    if (h.byte_order == __builtin_bswap32(kByteOrderMark)) {
      throw StaleGraphError(Concat(path, ": mapped graph file written on a machine of the other "
                                         "byte order"));
    }
    throw InputError(Concat(path, ": corrupt mapped graph header: byte-order mark ",
                            h.byte_order));
  }
  if (h.version != kFormatVersion) {
    throw StaleGraphError(Concat(path, ": mapped graph format version ", h.version,
                                 "; this pywfst reads version ", kFormatVersion));
  }
  if (expected_source != nullptr &&
      !(SourceStamp{h.source_size, h.source_mtime_ns} == *expected_source)) {
    throw StaleGraphError(Concat(path, ": made from another version of its source (size ",
                                 h.source_size, ", mtime ", h.source_mtime_ns, " ns; the source "
                                 "now has size ", expected_source->size, ", mtime ",
                                 expected_source->mtime_ns, " ns)"));
  }
  if (h.header_bytes != sizeof(Header) || h.arc_bytes != sizeof(GraphArc) ||
      h.range_bytes != sizeof(StateRange)) {
    throw InputError(Concat(path, ": corrupt mapped graph header: element sizes ", h.header_bytes,
                            ", ", h.arc_bytes, ", ", h.range_bytes, " (expected ", sizeof(Header),
                            ", ", sizeof(GraphArc), ", ", sizeof(StateRange), ")"));
  }
  for (const char c : h.reserved) {
    if (c != 0) throw InputError(Concat(path, ": corrupt mapped graph header: reserved bytes"));
  }
  if ((h.flags & ~kHasEpsilonOrder) != 0) {
    throw InputError(Concat(path, ": corrupt mapped graph header: flags ", h.flags));
  }
  if (h.file_size != file_size) {
    throw InputError(Concat(path, h.file_size > file_size ? ": truncated" : ": corrupt",
                            " mapped graph file: the header says ", h.file_size,
                            " bytes, the file has ", file_size));
  }
  // Bounded by the file's size first, so that the layout's arithmetic cannot overflow.
  if (h.num_states < 1 || h.num_states > std::numeric_limits<StateId>::max() ||
      h.num_states > file_size / 20 || h.num_arcs < 0 || h.num_arcs > file_size / 16 ||
      h.num_nonterminal_arcs < 0 || h.num_nonterminal_arcs > file_size / 20) {
    throw InputError(Concat(path, ": impossible counts in the mapped graph header (",
                            h.num_states, " states, ", h.num_arcs, " arcs, ",
                            h.num_nonterminal_arcs, " nonterminal arcs) for a ", file_size,
                            "-byte file"));
  }
  Header expected = h;
  SetLayout(&expected);
  for (int i = 0; i < kNumSections; ++i) {
    if (h.sections[i].offset != expected.sections[i].offset ||
        h.sections[i].bytes != expected.sections[i].bytes) {
      throw InputError(Concat(path, ": corrupt mapped graph header: section ", kSectionNames[i],
                              " at (", h.sections[i].offset, ", ", h.sections[i].bytes,
                              " bytes), expected (", expected.sections[i].offset, ", ",
                              expected.sections[i].bytes, " bytes)"));
    }
  }
  if (expected.file_size != file_size) {
    throw InputError(Concat(path, ": corrupt mapped graph file: its sections end at byte ",
                            expected.file_size, ", the file has ", file_size, " bytes"));
  }
}

// A rank per state such that every epsilon arc goes to a higher rank (Kahn's topological sort
// of the epsilon arcs), or nothing when they form a cycle.
std::vector<int32_t> EpsilonOrder(const CsrGraph& graph) {
  const StateId n = graph.NumStates();
  std::vector<int32_t> incoming(n, 0);
  for (StateId s = 0; s < n; ++s)
    for (const GraphArc& arc : graph.EpsilonArcs(s)) ++incoming[arc.nextstate];
  std::vector<StateId> ready;
  for (StateId s = 0; s < n; ++s)
    if (incoming[s] == 0) ready.push_back(s);
  std::vector<int32_t> order(n);
  int32_t rank = 0;
  while (!ready.empty()) {
    const StateId s = ready.back();
    ready.pop_back();
    order[s] = rank++;
    for (const GraphArc& arc : graph.EpsilonArcs(s))
      if (--incoming[arc.nextstate] == 0) ready.push_back(arc.nextstate);
  }
  if (rank < n) order.clear();  // the states left over lie on or behind a cycle
  return order;
}

// The page cache holds a file just written in the small pages it was written through, and a
// mapping of cached pages takes them as they are: 4 KiB pages, whose misses in the TLB cost the
// search 5 % at beam 8 (2026-12-02). Written back and dropped, the file is read again by the
// first mapping, which asks for huge pages (FileMapping), in 2 MiB pages where the kernel and
// file system have them. Only a speed-up: a failure leaves the file as it is.
void DropCachedPages(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  if (fdatasync(fd) == 0) posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  close(fd);
}

}  // namespace

void WriteMappedGraph(const CsrGraph& graph, const std::string& path, const SourceStamp& source) {
  const CsrGraph::Arrays& data = graph.Data();
  const std::vector<int32_t> order = EpsilonOrder(graph);
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof(kMagic));
  h.version = kFormatVersion;
  h.byte_order = kByteOrderMark;
  h.header_bytes = sizeof(Header);
  h.arc_bytes = sizeof(GraphArc);
  h.range_bytes = sizeof(StateRange);
  h.start = graph.Start();
  h.num_states = graph.NumStates();
  h.num_arcs = static_cast<int64_t>(data.arcs.size());
  h.num_nonterminal_arcs = static_cast<int64_t>(data.nonterminal_arcs.size());
  h.source_size = source.size;
  h.source_mtime_ns = source.mtime_ns;
  h.flags = order.empty() ? 0 : kHasEpsilonOrder;
  SetLayout(&h);
  const struct {
    const void* data;
    size_t bytes;
  } sections[kNumSections] = {
      {data.finals.data(), data.finals.bytes()},
      {data.ranges.data(), data.ranges.bytes()},
      {data.arcs.data(), data.arcs.bytes()},
      {data.nonterminal_arcs.data(), data.nonterminal_arcs.bytes()},
      {data.nonterminal_sources.data(), data.nonterminal_sources.bytes()},
      {order.data(), order.size() * sizeof(int32_t)}};

  AtomicFile file(path, "mapped graph file");
  Checksum checksum;
  const char zeros[kAlignment] = {};
  file.Write(&h, sizeof(h));  // the checksum is filled in last
  int64_t offset = sizeof(h);
  for (int i = 0; i < kNumSections; ++i) {
    const size_t padding = static_cast<size_t>(h.sections[i].offset - offset);
    checksum.Update(zeros, padding);
    file.Write(zeros, padding);
    checksum.Update(sections[i].data, sections[i].bytes);
    file.Write(sections[i].data, sections[i].bytes);
    offset = h.sections[i].offset + h.sections[i].bytes;
  }
  h.checksum = checksum.Value();
  file.WriteAt(&h, sizeof(h), 0);
  file.Commit();
  DropCachedPages(path);
}

std::shared_ptr<const CsrGraph> MapGraphFile(const std::string& path,
                                             const SourceStamp* expected_source) {
  FileDescriptor file;
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below).
  file.fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (file.fd < 0) {
    throw IoError(Concat("cannot open graph file '", path, "': ", std::strerror(errno)));
  }
  struct stat st;
  if (fstat(file.fd, &st) != 0) {
    throw IoError(Concat("cannot stat graph file '", path, "': ", std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    throw IoError(Concat("cannot map graph file '", path, "': ",
                         S_ISDIR(st.st_mode) ? "it is a directory" : "not a regular file"));
  }
  const int64_t file_size = static_cast<int64_t>(st.st_size);
  Header h{};
  const size_t wanted = static_cast<size_t>(std::min<int64_t>(file_size, sizeof(Header)));
  size_t got = 0;
  while (got < wanted) {
    const ssize_t n = pread(file.fd, reinterpret_cast<char*>(&h) + got, wanted - got,
                            static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      throw IoError(Concat("error reading graph file '", path, "': ", std::strerror(errno)));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got < sizeof(kMagic) || std::memcmp(h.magic, kMagic, sizeof(kMagic)) != 0) {
    throw InputError(Concat(path, ": not a pywfst mapped graph file (",
                            got < sizeof(kMagic) ? "too short" : "bad magic", ")"));
  }
  if (got < sizeof(Header)) {
    throw InputError(Concat(path, ": truncated mapped graph file (", file_size,
                            " bytes, shorter than its ", sizeof(Header), "-byte header)"));
  }
  CheckHeader(h, file_size, path, expected_source);

  auto mapping = std::make_shared<const FileMapping>(file.fd, static_cast<size_t>(file_size), path);
  Checksum checksum;
  checksum.Update(mapping->data() + sizeof(Header),
                  static_cast<size_t>(file_size) - sizeof(Header));
  if (checksum.Value() != h.checksum) {
    throw InputError(Concat(path, ": corrupt mapped graph file: its checksum does not match "
                                  "(the file changed after it was written)"));
  }
  int64_t end = sizeof(Header);  // the padding before each section is zero, as written
  for (int i = 0; i < kNumSections; ++i) {
    for (int64_t at = end; at < h.sections[i].offset; ++at) {
      if (mapping->data()[at] != 0) {
        throw InputError(Concat(path, ": corrupt mapped graph file: byte ", at,
                                " of the padding before section ", kSectionNames[i], " is not 0"));
      }
    }
    end = h.sections[i].offset + h.sections[i].bytes;
  }
  CsrGraph::Arrays arrays{SectionView<float>(*mapping, h, kFinals),
                          SectionView<StateRange>(*mapping, h, kRanges),
                          SectionView<GraphArc>(*mapping, h, kArcs),
                          SectionView<GraphArc>(*mapping, h, kNonterminalArcs),
                          SectionView<StateId>(*mapping, h, kNonterminalSources),
                          SectionView<int32_t>(*mapping, h, kEpsilonOrder), mapping};
  return std::make_shared<const CsrGraph>(h.start, std::move(arrays), path);
}

void SealMappedGraph(void* file, size_t size) {
  if (size < sizeof(Header)) return;
  Checksum checksum;
  checksum.Update(static_cast<const char*>(file) + sizeof(Header), size - sizeof(Header));
  const uint64_t value = checksum.Value();
  std::memcpy(static_cast<char*>(file) + offsetof(Header, checksum), &value, sizeof(value));
}

}  // namespace pywfst
