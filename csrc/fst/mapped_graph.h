// The mapped graph file: a CsrGraph's arrays as they lie in memory, which decoders map (mmap)
// instead of parsing HCLG.fst, so that processes on one machine share one copy of the graph in
// the page cache and loading costs a read-only scan instead of a parse.
//
// HCLG.fst stays the interchange format; the mapped file is derived from it and records the
// size and modification time (ns) of the file it was made from, so a reader can tell when it is
// stale. It is only valid on a machine with the writer's byte order and type sizes. Layout
// (host byte order; every section starts at a multiple of 64 bytes, zero padding between):
//
//   header (192 bytes): magic "pywfstG\n", format version, byte-order mark 0x01020304, the
//     header's, an arc's and a state range's sizes, start state, numbers of states, arcs and
//     nonterminal arcs, the source's size and mtime, the file's size, a checksum of every byte
//     after the header, (offset, bytes) of each section, flags, zero-filled to its end
//   finals               float[states]
//   ranges               StateRange[states + 1]   (int64 begin, int64 epsilon_begin)
//   arcs                 GraphArc[arcs]           (int32 ilabel, int32 olabel, float weight,
//                                                  int32 nextstate)
//   nonterminal arcs     GraphArc[nonterminal arcs]
//   nonterminal sources  int32[nonterminal arcs]
//   epsilon order        int32[states], when the flag says so: a rank per state, every epsilon
//                        arc going to a higher one (CsrGraph::Arrays::epsilon_order); written
//                        when the epsilon arcs form no cycle, so that mapping checks that in one
//                        pass instead of searching for a negative cycle
//
// Every field is checked when the file is mapped: the header, sizes and section offsets against
// the file's size, the checksum, then the arrays as CsrGraph's adopting constructor does (ranges
// monotone and in bounds, arc kinds, labels, next states, weights). A corrupt or truncated file
// is an InputError, never a crash. The file is read through a shared read-only mapping, so its
// pages stay shared between processes; it must never be changed in place while mapped (the
// writer writes a new file and renames it over the old one).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/errors.h"
#include "fst/csr_graph.h"

namespace pywfst {

// Identifies the version of the file (HCLG.fst) a mapped graph was written from.
struct SourceStamp {
  int64_t size = 0;
  int64_t mtime_ns = 0;
  bool operator==(const SourceStamp& o) const { return size == o.size && mtime_ns == o.mtime_ns; }
};

// A mapped graph file that is well-formed but was written from another source than the one
// expected, or by another format version or byte order: write it again from the source.
class StaleGraphError : public InputError {
 public:
  using InputError::InputError;
};

// Writes `graph` to `path` as a mapped graph file recording `source`: to a temporary file beside
// it, then renamed over `path`, so a reader never sees a partial file and processes that mapped
// an older one keep theirs. Throws IoError naming the file when it cannot be written.
void WriteMappedGraph(const CsrGraph& graph, const std::string& path, const SourceStamp& source);

// Maps the graph file at `path` and checks it (above). With `expected_source`, a file written
// from another source is a StaleGraphError. The graph keeps the mapping alive. Throws IoError
// when the file cannot be opened or mapped, InputError naming `path` when it is corrupt.
std::shared_ptr<const CsrGraph> MapGraphFile(const std::string& path,
                                             const SourceStamp* expected_source = nullptr);

// Stores in the header of the `size`-byte file image at `file` the checksum of the bytes after
// the header (nothing when `size` is smaller than the header): for tools that make files with
// chosen contents (the fuzz harness, which would otherwise only ever reach the checksum test).
void SealMappedGraph(void* file, size_t size);

}  // namespace pywfst
