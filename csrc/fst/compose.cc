#include "fst/compose.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "common/pair_map.h"

namespace pywfst {

namespace {

constexpr float kNotFinal = std::numeric_limits<float>::infinity();

// The left graph's arcs per state: first those with output epsilon, which move it alone, then
// the others sorted by output label, which the right graph's arcs with that input label match.
class LeftArcs {
 public:
  explicit LeftArcs(const CsrGraph& left) {
    const StateId n = left.NumStates();
    begin_.reserve(n + 1);
    match_begin_.reserve(n);
    for (StateId a = 0; a < n; ++a) {
      begin_.push_back(static_cast<int64_t>(arcs_.size()));
      ForEachArc(left, a, [&](const GraphArc& arc) {
        if (arc.olabel == 0) arcs_.push_back(arc);
      });
      match_begin_.push_back(static_cast<int64_t>(arcs_.size()));
      ForEachArc(left, a, [&](const GraphArc& arc) {
        if (arc.olabel != 0) arcs_.push_back(arc);
      });
      std::stable_sort(arcs_.begin() + match_begin_.back(), arcs_.end(), ByOutput);
    }
    begin_.push_back(static_cast<int64_t>(arcs_.size()));
  }

  ArcRange OutputEpsilon(StateId a) const { return Range(begin_[a], match_begin_[a]); }
  bool AllOutputEpsilon(StateId a) const { return match_begin_[a] == begin_[a + 1]; }
  // The arcs of `a` that read from the right graph, by output label.
  ArcRange Matching(StateId a) const { return Range(match_begin_[a], begin_[a + 1]); }

  // The arcs of `a` with output label `label`.
  ArcRange Matching(StateId a, Label label) const {
    const ArcRange all = Matching(a);
    const auto found = std::equal_range(all.first, all.last, GraphArc{0, label, 0.0f, 0}, ByOutput);
    return {found.first, found.second};
  }

 private:
  static bool ByOutput(const GraphArc& x, const GraphArc& y) { return x.olabel < y.olabel; }
  ArcRange Range(int64_t first, int64_t last) const {
    return {arcs_.data() + first, arcs_.data() + last};
  }

  std::vector<GraphArc> arcs_;
  std::vector<int64_t> begin_, match_begin_;
};

// Whether every state's emitting arcs ascend by input label (as an ilabel-sorted file gives
// them): then matches can be looked up among them.
bool EmittingArcsSorted(const CsrGraph& graph) {
  for (StateId s = 0; s < graph.NumStates(); ++s) {
    const ArcRange arcs = graph.EmittingArcs(s);
    for (const GraphArc* arc = arcs.first; arc + 1 < arcs.last; ++arc)
      if (arc[0].ilabel > arc[1].ilabel) return false;
  }
  return true;
}

}  // namespace

std::shared_ptr<const CsrGraph> Compose(const CsrGraph& left, const CsrGraph& right,
                                        const std::string& source,
                                        const InterruptCheck& interrupted) {
  if (left.NumStates() >= (StateId{1} << 30)) {
    throw InputError(Concat(source, ": the left graph has ", left.NumStates(),
                            " states, more than composition handles (2^30)"));
  }
  const LeftArcs left_arcs(left);
  const bool right_sorted = EmittingArcsSorted(right);
  std::vector<float> finals;
  std::vector<GraphArc> arcs;
  std::vector<int64_t> offsets{0};
  {
    // Composition states (a, b, filter) in the order they are found; a state's id is its index
    // here. The filter is OpenFst's sequence filter, so that no path is made twice: the left
    // graph's moves alone (output epsilon) come before the right one's (input epsilon), filter 1
    // marking that one of the right one's was made.
    struct Pair {
      StateId a, b;
      int32_t filter;
    };
    std::vector<Pair> pairs;
    PairMap ids(static_cast<size_t>(right.NumStates()));
    const auto id_of = [&](StateId a, StateId b, int32_t filter) {
      const auto [id, fresh] =
          ids.FindOrInsert(2 * a + filter, b, static_cast<int32_t>(pairs.size()));
      if (fresh) {
        if (pairs.size() == static_cast<size_t>(std::numeric_limits<StateId>::max())) {
          throw InputError(Concat(source, ": more than ", pairs.size(), " states"));
        }
        pairs.push_back({a, b, filter});
      }
      return id;
    };
    const auto match = [&](const GraphArc& x, const GraphArc& y) {  // x left, y right
      arcs.push_back({x.ilabel, y.olabel, x.weight + y.weight, id_of(x.nextstate, y.nextstate, 0)});
    };
    id_of(left.Start(), right.Start(), 0);
    for (size_t i = 0; i < pairs.size(); ++i) {
      if ((i & 4095) == 0 && interrupted && interrupted()) throw Interrupted();
      const Pair pair = pairs[i];  // a copy: id_of may grow `pairs`
      const StateId a = pair.a, b = pair.b;
      finals.push_back(left.Final(a) + right.Final(b));
      if (pair.filter == 0) {
        for (const GraphArc& x : left_arcs.OutputEpsilon(a)) {  // self-loops: no lookup
          const StateId next =
              x.nextstate == a ? static_cast<StateId>(i) : id_of(x.nextstate, b, 0);
          arcs.push_back({x.ilabel, 0, x.weight, next});
        }
      }
      const ArcRange right_emitting = right.EmittingArcs(b);
      const ArcRange left_matching = left_arcs.Matching(a);
      if (right_sorted && left_matching.size() < right_emitting.size()) {
        // From the left side: each run of one output label, against the right arcs with it.
        for (const GraphArc* x = left_matching.first; x != left_matching.last;) {
          const GraphArc* run_end = x;
          while (run_end != left_matching.last && run_end->olabel == x->olabel) ++run_end;
          const auto [first, last] = std::equal_range(
              right_emitting.first, right_emitting.last, GraphArc{x->olabel, 0, 0.0f, 0},
              [](const GraphArc& p, const GraphArc& q) { return p.ilabel < q.ilabel; });
          for (const GraphArc* y = first; y != last; ++y)
            for (const GraphArc* z = x; z != run_end; ++z) match(*z, *y);
          x = run_end;
        }
      } else {
        for (const GraphArc& y : right_emitting)
          for (const GraphArc& x : left_arcs.Matching(a, y.ilabel)) match(x, y);
      }
      // The right graph moves alone, unless the left one could only move alone here.
      if (!left_arcs.AllOutputEpsilon(a) || left.Final(a) != kNotFinal) {
        const int32_t filter = left_arcs.OutputEpsilon(a).size() == 0 ? 0 : 1;
        for (const GraphArc& y : right.EpsilonArcs(b))
          arcs.push_back({0, y.olabel, y.weight, id_of(a, y.nextstate, filter)});
      }
      if (right.HasNonterminalArcs(b)) {
        for (const GraphArc& y : right.NonterminalArcs(b))
          for (const GraphArc& x : left_arcs.Matching(a, y.ilabel)) match(x, y);
      }
      offsets.push_back(static_cast<int64_t>(arcs.size()));
    }
  }
  return std::make_shared<const CsrGraph>(0, std::move(finals), std::move(arcs), offsets,
                                          source);
}

}  // namespace pywfst
