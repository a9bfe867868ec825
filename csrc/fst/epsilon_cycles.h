// A check that a graph's epsilon arcs form no cycle of negative total cost.
//
// The search's epsilon closure relaxes a state again whenever it becomes cheaper, so a cycle of
// epsilon arcs whose costs sum below zero would lower its states' costs forever: decoding would
// never end. Such a cycle is found once, when the graph is loaded (the decoders refuse a graph
// that has one; the graph itself stays readable): strongly connected components
// of the epsilon arcs (Tarjan 1972, iteratively), then Bellman-Ford inside each component that
// has a negative arc (components without one cannot hold a negative cycle).
#pragma once

#include <string>

#include "fst/csr_graph.h"

namespace pywfst {

// Empty when the epsilon arcs form no cycle of negative cost; else says which: a state on the
// cycle, the cycle's cost and its first states. Arc costs as the search weighs them: lm_weight
// times the weight, plus word_insertion_penalty on arcs with an output word (a negative penalty
// can make a cycle of word arcs negative).
std::string DescribeNegativeEpsilonCycle(const CsrGraph& graph, double lm_weight = 1.0,
                                        double word_insertion_penalty = 0.0);

}  // namespace pywfst
