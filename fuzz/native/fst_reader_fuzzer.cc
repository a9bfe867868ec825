// libFuzzer harness for the OpenFst binary reader (csrc/fst/fst_reader.cc): any bytes, read as
// an FST file.
//
// The reader takes a path, so the bytes go to an in-memory file (memfd) read through
// /proc/self/fd: a regular file, as on disk. InputError and IoError are the answers to bad
// input; any other exception, a sanitizer report or a crash is a finding. A graph that loads must
// also keep the CsrGraph invariants the search relies on (checked below, trap when broken).
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/errors.h"
#include "fst/csr_graph.h"
#include "fst/fst_reader.h"
#include "fst/nonterminal.h"

namespace {

void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fst_reader_fuzzer: broken invariant: %s\n", what);
    std::abort();
  }
}

void CheckGraph(const pywfst::CsrGraph& graph) {
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const int fd = memfd_create("fst", 0);
  if (fd < 0) std::abort();
  size_t written = 0;
  while (written < size) {
    const ssize_t n = write(fd, data + written, size - written);
    if (n <= 0) std::abort();
    written += static_cast<size_t>(n);
  }
  try {
    CheckGraph(*pywfst::ReadFstFile("/proc/self/fd/" + std::to_string(fd)));
  } catch (const pywfst::InputError&) {
  } catch (const pywfst::IoError&) {
  }
  close(fd);
  return 0;
}
