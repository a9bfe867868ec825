// What the harnesses that load graphs from fuzzed bytes (fst_reader, mapped_graph) share: the
// bytes as a file, and the invariants of a loaded CsrGraph that the search relies on (a broken
// one aborts: a finding).
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fst/csr_graph.h"
#include "fst/nonterminal.h"

namespace fuzz {

// The readers take a path, so the bytes go to an in-memory file (memfd) read through
// /proc/self/fd: a regular file, as on disk. Close the returned descriptor when done.
inline int MemoryFile(const uint8_t* data, size_t size, std::string* path) {
  const int fd = memfd_create("graph", 0);
  if (fd < 0) std::abort();
  size_t written = 0;
  while (written < size) {
    const ssize_t n = write(fd, data + written, size - written);
    if (n <= 0) std::abort();
    written += static_cast<size_t>(n);
  }
  *path = "/proc/self/fd/" + std::to_string(fd);
  return fd;
}

inline void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzzer: broken invariant: %s\n", what);
    std::abort();
  }
}

inline void CheckGraph(const pywfst::CsrGraph& graph) {
  using pywfst::GraphArc;
  const pywfst::StateId n = graph.NumStates();
  Require(n > 0, "a loaded graph has states");
  Require(graph.Start() >= 0 && graph.Start() < n, "the start state is a state");
  int64_t emitting = 0, epsilon = 0, nonterminal = 0;
  pywfst::Label max_ilabel = 0;
  for (pywfst::StateId s = 0; s < n; ++s) {
    const float final_weight = graph.Final(s);
    Require(!std::isnan(final_weight) && final_weight != -INFINITY, "final weights are valid");
    for (const GraphArc& arc : graph.EmittingArcs(s)) {
      Require(arc.ilabel > 0 && !pywfst::IsNonterminal(arc.ilabel), "emitting arcs have tokens");
      Require(arc.nextstate >= 0 && arc.nextstate < n, "arcs go to states");
      Require(!std::isnan(arc.weight), "arc weights are numbers");
      max_ilabel = std::max(max_ilabel, arc.ilabel);
      ++emitting;
    }
    for (const GraphArc& arc : graph.EpsilonArcs(s)) {
      Require(arc.ilabel == 0, "epsilon arcs have ilabel 0");
      Require(arc.nextstate >= 0 && arc.nextstate < n, "arcs go to states");
      ++epsilon;
    }
    for (const GraphArc& arc : graph.NonterminalArcs(s)) {
      Require(pywfst::IsNonterminal(arc.ilabel), "nonterminal arcs have nonterminal labels");
      Require(arc.nextstate >= 0 && arc.nextstate < n, "arcs go to states");
      Require(graph.HasNonterminalArcs(s) && graph.HasEpsilonArcs(s), "nonterminal bits are set");
      ++nonterminal;
    }
    if (graph.EpsilonArcs(s).size() > 0) Require(graph.HasEpsilonArcs(s), "epsilon bit is set");
    graph.ReturnArc(s, 0);
  }
  Require(emitting == graph.NumEmittingArcs(), "emitting arc count");
  Require(epsilon == graph.NumEpsilonArcs(), "epsilon arc count");
  Require(nonterminal == graph.NumNonterminalArcs(), "nonterminal arc count");
  Require(max_ilabel == graph.MaxInputLabel(), "largest input label");
}

}  // namespace fuzz
