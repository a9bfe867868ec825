// Input relabeling of a decoding graph: every input label l > 0 becomes map[l].
//
// What makes a Kaldi HCLG.fst decodable from an acoustic model's pdf scores: its input labels are
// transition-ids, and each transition-id reads the score of one pdf (kaldi/transition_model.py
// builds the map, transition-id -> pdf-id + 1). The costs of a path depend only on the pdfs it
// reads, so searching the relabeled graph gives the same paths and costs as Kaldi's decodable
// lookup, with nothing extra in the per-frame loop.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "fst/csr_graph.h"

namespace pywfst {

// A new graph, `graph` with input label l > 0 replaced by map[l] (epsilons stay). Every map value
// used must be > 0 (an emitting arc stays emitting). Throws InputError naming `map_source` when an
// input label is outside the map or maps to a value <= 0, and when the graph has class-slot arcs.
std::shared_ptr<const CsrGraph> RelabelInputs(const CsrGraph& graph, const std::vector<Label>& map,
                                              const std::string& graph_source,
                                              const std::string& map_source);

}  // namespace pywfst
