#include "fst/topology_compose.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "common/pair_map.h"

namespace pywfst {

namespace {

constexpr float kNotFinal = std::numeric_limits<float>::infinity();

// T's arcs per state: first those with output epsilon, which move T alone, then the others
// sorted by output label, which LG's arcs with that input label match.
class TopologyArcs {
 public:
  explicit TopologyArcs(const CsrGraph& topology) {
    const StateId n = topology.NumStates();
    begin_.reserve(n + 1);
    match_begin_.reserve(n);
    for (StateId t = 0; t < n; ++t) {
      begin_.push_back(static_cast<int64_t>(arcs_.size()));
      ForEachArc(topology, t, [&](const GraphArc& arc) {
        if (arc.olabel == 0) arcs_.push_back(arc);
      });
      match_begin_.push_back(static_cast<int64_t>(arcs_.size()));
      ForEachArc(topology, t, [&](const GraphArc& arc) {
        if (arc.olabel != 0) arcs_.push_back(arc);
      });
      std::stable_sort(arcs_.begin() + match_begin_.back(), arcs_.end(),
                [](const GraphArc& a, const GraphArc& b) { return a.olabel < b.olabel; });
    }
    begin_.push_back(static_cast<int64_t>(arcs_.size()));
  }

  ArcRange OutputEpsilon(StateId t) const { return Range(begin_[t], match_begin_[t]); }
  bool AllOutputEpsilon(StateId t) const { return match_begin_[t] == begin_[t + 1]; }

  // T's arcs of state `t` with output label `label`.
  ArcRange Matching(StateId t, Label label) const {
    const ArcRange all = Range(match_begin_[t], begin_[t + 1]);
    const auto found = std::equal_range(
        all.first, all.last, GraphArc{0, label, 0.0f, 0},
        [](const GraphArc& a, const GraphArc& b) { return a.olabel < b.olabel; });
    return {found.first, found.second};
  }

 private:
  ArcRange Range(int64_t first, int64_t last) const {
    return {arcs_.data() + first, arcs_.data() + last};
  }

  std::vector<GraphArc> arcs_;
  std::vector<int64_t> begin_, match_begin_;
};

}  // namespace

std::shared_ptr<const CsrGraph> ComposeTopology(const CsrGraph& topology, const CsrGraph& graph,
                                                const std::string& source,
                                                const InterruptCheck& interrupted) {
  const TopologyArcs topology_arcs(topology);
  std::vector<float> finals;
  std::vector<GraphArc> arcs;
  std::vector<int64_t> offsets{0};
  {
    // Composition states (t, s, filter) in the order they are found; a state's id is its index
    // here. The filter is OpenFst's sequence filter, so that no path is made twice: T's moves
    // alone (output epsilon) come before LG's moves alone (input epsilon), filter 1 marking that
    // one of LG's was made. Only a final output of determinization is such an arc of LG.
    struct Pair {
      StateId t, s;
      int32_t filter;
    };
    std::vector<Pair> pairs;
    PairMap ids(static_cast<size_t>(graph.NumStates()));
    const auto id_of = [&](StateId t, StateId s, int32_t filter) {
      const auto [id, fresh] =
          ids.FindOrInsert(2 * t + filter, s, static_cast<int32_t>(pairs.size()));
      if (fresh) {
        if (pairs.size() == static_cast<size_t>(std::numeric_limits<StateId>::max())) {
          throw InputError(Concat(source, ": more than ", pairs.size(), " states"));
        }
        pairs.push_back({t, s, filter});
      }
      return id;
    };
    id_of(topology.Start(), graph.Start(), 0);
    for (size_t i = 0; i < pairs.size(); ++i) {
      if ((i & 4095) == 0 && interrupted && interrupted()) throw Interrupted();
      const Pair pair = pairs[i];  // a copy: id_of may grow `pairs`
      const StateId t = pair.t, s = pair.s;
      finals.push_back(topology.Final(t) + graph.Final(s));
      if (pair.filter == 0) {
        for (const GraphArc& a : topology_arcs.OutputEpsilon(t)) {  // self-loops: no lookup
          const StateId next = a.nextstate == t ? static_cast<StateId>(i) : id_of(a.nextstate, s, 0);
          arcs.push_back({a.ilabel, 0, a.weight, next});
        }
      }
      ForEachArc(graph, s, [&](const GraphArc& b) {
        if (b.ilabel == 0) {  // LG moves alone, unless T could only move alone here
          if (topology_arcs.AllOutputEpsilon(t) && topology.Final(t) == kNotFinal) return;
          const int32_t filter = topology_arcs.OutputEpsilon(t).size() == 0 ? 0 : 1;
          arcs.push_back({0, b.olabel, b.weight, id_of(t, b.nextstate, filter)});
          return;
        }
        for (const GraphArc& a : topology_arcs.Matching(t, b.ilabel)) {
          arcs.push_back({a.ilabel, b.olabel, a.weight + b.weight,
                          id_of(a.nextstate, b.nextstate, 0)});
        }
      });
      offsets.push_back(static_cast<int64_t>(arcs.size()));
    }
  }
  return std::make_shared<const CsrGraph>(0, std::move(finals), std::move(arcs), offsets,
                                          source);
}

}  // namespace pywfst
