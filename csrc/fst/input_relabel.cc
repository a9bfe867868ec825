#include "fst/input_relabel.h"

#include "common/errors.h"

namespace pywfst {

std::shared_ptr<const CsrGraph> RelabelInputs(const CsrGraph& graph, const std::vector<Label>& map,
                                              const std::string& graph_source,
                                              const std::string& map_source) {
  if (graph.NumNonterminalArcs() > 0) {
    throw InputError(Concat(graph_source, ": has class-slot arcs; only a graph without them can "
                            "be relabeled with ", map_source));
  }
  const StateId num_states = graph.NumStates();
  std::vector<float> finals(num_states);
  std::vector<int64_t> offsets(num_states + 1);
  const int64_t num_arcs = graph.ArcBegin(num_states);
  std::vector<GraphArc> arcs(graph.ArcData(), graph.ArcData() + num_arcs);
  for (StateId s = 0; s <= num_states; ++s) offsets[s] = graph.ArcBegin(s);
  for (StateId s = 0; s < num_states; ++s) finals[s] = graph.Final(s);
  for (GraphArc& arc : arcs) {
    if (arc.ilabel == 0) continue;
    if (static_cast<size_t>(arc.ilabel) >= map.size()) {
      throw InputError(Concat(graph_source, ": input label ", arc.ilabel, " is not in ",
                              map_source, " (", map.empty() ? 0 : map.size() - 1,
                              " labels); the graph and the model do not belong together"));
    }
    const Label to = map[arc.ilabel];
    if (to <= 0) {
      throw InputError(Concat(map_source, ": input label ", arc.ilabel, " of ", graph_source,
                              " maps to ", to, "; it must map to a label > 0"));
    }
    arc.ilabel = to;
  }
  return std::make_shared<const CsrGraph>(graph.Start(), std::move(finals), arcs, offsets,
                                          graph_source);
}

}  // namespace pywfst
