#include "fst/minimize.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <unordered_map>
#include <vector>

namespace pywfst {
namespace {

// A partition of 0..n-1 into sets, refined by marking elements and then splitting every set that
// holds both marked and unmarked ones (Valmari and Lehtinen's refinable partition). The elements
// of set s lie at positions [first_[s], end_[s]) of elements_, its marked ones first.
class RefinablePartition {
 public:
  // Elements with the same group (0 .. num_groups - 1, none empty) start in one set, set k
  // holding group k.
  RefinablePartition(const std::vector<int32_t>& group, int32_t num_groups)
      : elements_(group.size()), where_(group.size()), sets_(num_groups, Set{0, 0, 0}) {
    for (int32_t g : group) ++sets_[g].end;
    int32_t position = 0;
    for (Set& set : sets_) {
      set.first = position;
      position += set.end;
      set.end = set.first;
    }
    for (int32_t e = 0; e < static_cast<int32_t>(group.size()); ++e) {
      const int32_t at = sets_[group[e]].end++;
      where_[e] = {group[e], at};
      elements_[at] = e;
    }
  }

  int32_t NumSets() const { return static_cast<int32_t>(sets_.size()); }
  int32_t First(int32_t s) const { return sets_[s].first; }
  int32_t End(int32_t s) const { return sets_[s].end; }
  int32_t At(int32_t position) const { return elements_[position]; }
  int32_t SetOf(int32_t e) const { return where_[e].set; }

  // Marks `e`; false when it was marked already.
  bool Mark(int32_t e) {
    const Where where = where_[e];
    Set& set = sets_[where.set];
    const int32_t boundary = set.first + set.marked;
    if (where.position < boundary) return false;
    const int32_t other = elements_[boundary];
    elements_[where.position] = other;
    where_[other].position = where.position;
    elements_[boundary] = e;
    where_[e].position = boundary;
    if (set.marked++ == 0) touched_.push_back(where.set);
    return true;
  }

  // Splits each set with marked elements: the smaller of its marked and unmarked parts becomes a
  // new set, numbered after all others (so a loop over the sets reaches it later); a set whose
  // elements are all marked stays as it is. Clears every mark.
  void Split() {
    for (int32_t s : touched_) {
      Set& set = sets_[s];
      const int32_t boundary = set.first + set.marked;
      set.marked = 0;
      if (boundary == set.end) continue;
      Set fresh{boundary, set.end, 0};
      if (boundary - set.first <= set.end - boundary) {
        fresh = {set.first, boundary, 0};
        set.first = boundary;
      } else {
        set.end = boundary;
      }
      const int32_t id = NumSets();
      sets_.push_back(fresh);  // (`set` may dangle from here on)
      for (int32_t i = fresh.first; i < fresh.end; ++i) where_[elements_[i]].set = id;
    }
    touched_.clear();
  }

 private:
  struct Where {
    int32_t set, position;
  };
  struct Set {
    int32_t first, end, marked;
  };
  std::vector<int32_t> elements_;
  std::vector<Where> where_;
  std::vector<Set> sets_;
  std::vector<int32_t> touched_;
};

// OpenFst's TropicalWeight::Quantize, in the same float arithmetic.
float Quantize(float weight, float delta) {
  return std::isfinite(weight) ? std::floor(weight / delta + 0.5F) * delta : weight;
}

uint32_t Bits(float weight) {
  weight += 0.0F;  // -0 and +0 are one weight
  uint32_t bits;
  std::memcpy(&bits, &weight, sizeof bits);
  return bits;
}

// Group ids 0, 1, ... of `keys`, numbered in ascending key order.
std::vector<int32_t> GroupsOf(const std::vector<uint32_t>& keys, int32_t* num_groups) {
  std::vector<uint32_t> distinct(keys);
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  std::unordered_map<uint32_t, int32_t> group_of;
  for (size_t g = 0; g < distinct.size(); ++g) group_of[distinct[g]] = static_cast<int32_t>(g);
  std::vector<int32_t> groups(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) groups[i] = group_of[keys[i]];
  *num_groups = static_cast<int32_t>(distinct.size());
  return groups;
}

}  // namespace

std::shared_ptr<const CsrGraph> MinimizeEncoded(const CsrGraph& graph, float delta,
                                                const std::string& source,
                                                const InterruptCheck& interrupted) {
  const StateId n = graph.NumStates();
  const int64_t total =
      graph.NumEmittingArcs() + graph.NumEpsilonArcs() + graph.NumNonterminalArcs();
  if (n == 0) throw InputError(Concat(source, ": the graph has no states"));
  if (total >= std::numeric_limits<int32_t>::max()) {
    throw InputError(Concat(source, ": ", total, " arcs, more than minimization handles (2^31)"));
  }
  if (!(delta > 0.0F) || !std::isfinite(delta)) {
    throw InputError(Concat("delta must be a finite number > 0, got ", delta));
  }
  const int32_t m = static_cast<int32_t>(total);

  // Transitions, numbered in letter order so that each cord starts as a run of them.
  std::vector<StateId> tail(m), head(m);
  std::vector<int32_t> cord_of(m);
  int32_t num_cords = 0;
  {
    struct Transition {
      Label ilabel, olabel;
      uint32_t weight;
      StateId tail, head;
      bool operator<(const Transition& o) const {
        return ilabel != o.ilabel ? ilabel < o.ilabel
             : olabel != o.olabel ? olabel < o.olabel
             : weight < o.weight;
      }
      bool SameLetter(const Transition& o) const {
        return ilabel == o.ilabel && olabel == o.olabel && weight == o.weight;
      }
    };
    std::vector<Transition> transitions;
    transitions.reserve(m);
    for (StateId s = 0; s < n; ++s) {
      ForEachArc(graph, s, [&](const GraphArc& a) {
        transitions.push_back({a.ilabel, a.olabel, Bits(Quantize(a.weight, delta)), s,
                               a.nextstate});
      });
    }
    std::sort(transitions.begin(), transitions.end());
    for (int32_t t = 0; t < m; ++t) {
      if (t > 0 && !transitions[t].SameLetter(transitions[t - 1])) ++num_cords;
      cord_of[t] = num_cords;
      tail[t] = transitions[t].tail;
      head[t] = transitions[t].head;
    }
    if (m > 0) ++num_cords;
  }
  // Incoming transitions of each state.
  std::vector<int32_t> in_begin(static_cast<size_t>(n) + 1, 0), incoming(m);
  for (int32_t t = 0; t < m; ++t) ++in_begin[head[t] + 1];
  for (StateId s = 0; s < n; ++s) in_begin[s + 1] += in_begin[s];
  {
    std::vector<int32_t> next(in_begin.begin(), in_begin.end() - 1);
    for (int32_t t = 0; t < m; ++t) incoming[next[head[t]]++] = t;
  }
  std::vector<uint32_t> final_keys(n);
  for (StateId s = 0; s < n; ++s) final_keys[s] = Bits(Quantize(graph.Final(s), delta));
  int32_t num_final_classes = 0;
  std::vector<int32_t> final_class = GroupsOf(final_keys, &num_final_classes);
  RefinablePartition blocks(final_class, num_final_classes);
  final_keys = {};
  RefinablePartition cords(cord_of, num_cords);
  cord_of = {};

  // Refine: each cord (the transitions of one letter into one block) splits the blocks into
  // states with and without such a transition; each new block splits the cords into
  // transitions into it and the others. Block 0 never serves as a splitter: splitting by every
  // other block and by the whole set (the first cords) implies it.
  int32_t b = 1;
  for (int32_t c = 0; c < cords.NumSets(); ++c) {
    if ((c & 1023) == 0 && interrupted && interrupted()) throw Interrupted();
    for (int32_t i = cords.First(c); i < cords.End(c); ++i) {
      const int32_t t = cords.At(i);
      if (!blocks.Mark(tail[t])) {
        throw InputError(Concat(source, ": state ", tail[t], " has two arcs with the same "
                                "labels and weight; minimization needs a deterministic graph"));
      }
    }
    blocks.Split();
    for (; b < blocks.NumSets(); ++b) {
      for (int32_t i = blocks.First(b); i < blocks.End(b); ++i) {
        const StateId s = blocks.At(i);
        for (int32_t j = in_begin[s]; j < in_begin[s + 1]; ++j) cords.Mark(incoming[j]);
      }
      cords.Split();
    }
  }

  // States that reach a final state; the others (and arcs into them) are left out of the
  // result, as OpenFst's minimization connects its result (after merging, so a graph that was
  // not trim comes out as Kaldi's does).
  std::vector<bool> coaccessible(n, false);
  {
    std::vector<StateId> stack;
    for (StateId s = 0; s < n; ++s) {
      if (std::isfinite(graph.Final(s))) {
        coaccessible[s] = true;
        stack.push_back(s);
      }
    }
    while (!stack.empty()) {
      const StateId s = stack.back();
      stack.pop_back();
      for (int32_t j = in_begin[s]; j < in_begin[s + 1]; ++j) {
        const StateId from = tail[incoming[j]];
        if (!coaccessible[from]) {
          coaccessible[from] = true;
          stack.push_back(from);
        }
      }
    }
  }
  if (!coaccessible[graph.Start()]) {
    throw InputError(Concat(source, ": no path from the start reaches a final state"));
  }

  // The quotient, breadth-first from the start's block; each block is its first state.
  std::vector<StateId> id_of_block(blocks.NumSets(), -1), order;
  std::vector<float> finals;
  std::vector<GraphArc> arcs;
  std::vector<int64_t> offsets{0};
  id_of_block[blocks.SetOf(graph.Start())] = 0;
  order.push_back(blocks.SetOf(graph.Start()));
  for (size_t k = 0; k < order.size(); ++k) {
    const StateId s = blocks.At(blocks.First(order[k]));
    finals.push_back(Quantize(graph.Final(s), delta));
    ForEachArc(graph, s, [&](const GraphArc& a) {
      if (!coaccessible[a.nextstate]) return;
      StateId& next = id_of_block[blocks.SetOf(a.nextstate)];
      if (next < 0) {
        next = static_cast<StateId>(order.size());
        order.push_back(blocks.SetOf(a.nextstate));
      }
      arcs.push_back({a.ilabel, a.olabel, Quantize(a.weight, delta), next});
    });
    offsets.push_back(static_cast<int64_t>(arcs.size()));
  }
  return std::make_shared<const CsrGraph>(0, std::move(finals), std::move(arcs), offsets,
                                          source);
}

}  // namespace pywfst
