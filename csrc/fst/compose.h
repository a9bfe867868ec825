// Composition of two graphs, natively: L ∘ G (a lexicon and a grammar, before determinization)
// and HCLG = T ∘ LG (a token topology and the minimized LG). Each state (a, b) has the left
// graph's arcs that read nothing from the right one (output epsilon: blanks, repeats, a
// pronunciation's phones after its word), the right graph's arcs that read nothing from the left
// one (input epsilon), and the matches of the left graph's other arcs with the right graph's arcs
// on the same label. OpenFst's sequence filter keeps any path from being made twice (the left
// graph's moves alone before the right one's), so the result has the states and arcs of
// OpenFst's composition. States are numbered breadth-first from the start, so arcs are appended
// state by state straight into the CSR layout.
//
// Matches are found from whichever side has fewer arcs at the pair (a binary search into the
// other), so a pair of a lexicon state with a hundred thousand words and a grammar state with a
// few costs a few lookups; the arcs come out in the same order either way (by label, then the
// right graph's order).
//
// Against OpenFst's general composition (kaldifst.compose) on a CMUdict graph
// (benchmarks/graph_build): the same states and arcs in a fraction of the time and memory.
#pragma once

#include <memory>
#include <string>

#include "common/errors.h"
#include "fst/csr_graph.h"

namespace pywfst {

// left ∘ right. `source` names the result in error messages. Throws InputError when the result
// would exceed 2^31 states or the left graph has 2^30 states or more; Interrupted when
// `interrupted` says so (checked every few thousand states).
std::shared_ptr<const CsrGraph> Compose(const CsrGraph& left, const CsrGraph& right,
                                        const std::string& source,
                                        const InterruptCheck& interrupted = {});

}  // namespace pywfst
