// HCLG = T ∘ LG, composed natively: T is a token topology (small: a state per token or HMM
// state), LG = min(det(L ∘ G)) has no input epsilons (determinization removed them). Then every
// pair state (t, s) has T's arcs that read nothing from LG (output epsilon: blanks, repeats) and
// the matches of its other arcs with LG's arcs on the same label, and no epsilon filter is needed:
// no path of the result can be made in two ways. States are numbered breadth-first from the
// start pair, so arcs are appended state by state straight into the CSR layout.
//
// Measured against OpenFst's general composition (kaldifst.compose) on a CMUdict graph
// (benchmarks/graph_build): the same states and arcs, in a fraction of the time and memory.
#pragma once

#include <memory>
#include <string>

#include "common/errors.h"
#include "fst/csr_graph.h"

namespace pywfst {

// T ∘ LG. `source` names the result in error messages. Throws InputError when `graph` has an
// arc with input epsilon (not an LG from determinization) or the result would exceed 2^31
// states; Interrupted when `interrupted` says so (checked every few thousand states).
std::shared_ptr<const CsrGraph> ComposeTopology(const CsrGraph& topology, const CsrGraph& graph,
                                                const std::string& source,
                                                const InterruptCheck& interrupted = {});

}  // namespace pywfst
