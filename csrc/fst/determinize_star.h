// Epsilon removal and determinization in one pass, as Kaldi's fstdeterminizestar does it
// (DeterminizeStar: Mohri's weighted subset construction over (state, pending output string,
// residual weight) elements, tropical weights): the same states, numbered the same way, and the
// same arcs in the same order, so L ∘ G determinized here is the graph kaldifst gives, to the bit.
//
// What differs is the memory: the input is a CsrGraph (16 bytes an arc) instead of an OpenFst
// VectorFst (a heap vector per state), subsets lie in one flat array found through an
// open-addressing table, pending output strings are nodes of a trie (the common prefix of two is
// their lowest common ancestor), and a state's arcs are appended to one flat array. On a CMUdict
// L ∘ G that is a fraction of kaldifst's peak (benchmarks/graph_build).
//
// The result: a state per subset, numbered in the order the subsets are found (the last found is
// expanded first, as Kaldi's queue does), each with its final weight and its arcs in ascending
// input label; an arc whose output is longer than one label becomes a chain through new states
// (input label and weight on the first arc), and so does a final output that is not empty (input
// epsilon arcs to a new final state), new states numbered after the subsets in the order Kaldi's
// Output() makes them. Weights of elements that reach one state by epsilon paths are propagated
// again only when they change by more than `delta` (Kaldi's rule), and subsets whose weights differ
// by at most `delta` are one state.
#pragma once

#include <memory>
#include <string>

#include "common/errors.h"
#include "fst/csr_graph.h"

namespace pywfst {

// The determinized graph of `graph`, which must be functional (one output string per input
// string, as disambiguation symbols make L ∘ G). Throws InputError naming `source` when it is not
// (two paths with the same input reach one state or a final state with different output), when
// the result would exceed 2^31 states or for a bad `delta`; Interrupted when `interrupted` says so
// (checked every thousand states: a graph that cannot be determinized never ends otherwise).
std::shared_ptr<const CsrGraph> DeterminizeStar(const CsrGraph& graph, float delta,
                                                const std::string& source,
                                                const InterruptCheck& interrupted = {});

}  // namespace pywfst
