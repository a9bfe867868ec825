// Minimization of a deterministic weighted transducer, as Kaldi's fstminimizeencoded does it:
// every weight is first quantized to a multiple of `delta` (OpenFst's Quantize), then each arc's
// (input label, output label, weight) is read as one letter and a state's final weight as part
// of what it accepts, and the minimal automaton of that acceptor is built. Two states merge when
// they have the same final weight and, letter by letter, arcs to states that merge. No weight or
// label is moved, so the result accepts the same weighted paths as the input.
//
// The partition refinement is Valmari and Lehtinen's (2008) for automata with partial transition
// functions: O(m log n) in states n and arcs m, on flat arrays. It gives the same minimal graph as
// OpenFst's AcceptorMinimize (what Kaldi and kaldifst run), whose cyclic algorithm builds a heap
// and per-class lists; on a CMUdict LG it takes a fraction of the time (benchmarks/graph_build).
// States of the result are numbered breadth-first from the start, each keeping its arcs in the
// order of the state it stands for.
#pragma once

#include <memory>
#include <string>

#include "common/errors.h"
#include "fst/csr_graph.h"

namespace pywfst {

// The minimal graph of `graph`; states that are not reachable from the start or cannot reach a
// final state are dropped. Throws InputError naming `source` when a state has two arcs with the
// same letter (the input must be deterministic, as determinization leaves it), when the graph
// accepts nothing or has 2^31 arcs or more; Interrupted when `interrupted` says so.
std::shared_ptr<const CsrGraph> MinimizeEncoded(const CsrGraph& graph, float delta,
                                                const std::string& source,
                                                const InterruptCheck& interrupted = {});

}  // namespace pywfst
