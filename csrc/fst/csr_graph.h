// CsrGraph: a read-only decoding graph in compressed-sparse-row form, the layout the decoders use.
//
// Arcs of each state are split into emitting arcs (ilabel > 0, consume one frame) and epsilon arcs
// (ilabel == 0), each kind contiguous (like Kaldi's CudaFst): one arc array holds every state's
// emitting arcs followed by its epsilon arcs, and one 16-byte entry per state gives both ranges,
// so the search finds either kind of a state with a single cache line. Class-slot nonterminal arcs
// (ilabel >= kNonterminalBase, fst/nonterminal.h) are few and consume no frame: they are kept
// aside, sorted by state and label, and HasEpsilonArcs() is true for their states. Input labels follow
// the project convention: token_id + 1, 0 is epsilon. Weights are tropical costs (-log prob); a
// state that is not final has Final(s) == +infinity.
//
// A CsrGraph never changes after construction, so one instance may be shared (std::shared_ptr) by
// any number of decoders and threads (its one mutable part, a memo of the weighted epsilon-cycle
// checks, is guarded by a mutex). Its arrays are either its own (built from an OpenFst file) or
// views into a mapped graph file (fst/mapped_graph.h); either way the graph holds a shared
// reference to their memory, so they live as long as the graph does, and every accessor reads
// them the same way.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/array_view.h"

namespace pywfst {

using StateId = int32_t;
using Label = int32_t;

struct GraphArc {
  Label ilabel;
  Label olabel;
  float weight;
  StateId nextstate;
};

// One state's arcs as a half-open range, usable in range-for.
struct ArcRange {
  const GraphArc* first;
  const GraphArc* last;
  const GraphArc* begin() const { return first; }
  const GraphArc* end() const { return last; }
  size_t size() const { return static_cast<size_t>(last - first); }
};

// Where a state's arcs lie in the arc array: [begin, epsilon_begin) emitting,
// [epsilon_begin, next state's begin) epsilon.
struct StateRange {
  int64_t begin;          // first arc of the state (its emitting arcs come first)
  int64_t epsilon_begin;  // first epsilon arc; the state's arcs end at the next state's begin
};

class CsrGraph {
 public:
  // A graph's arrays, laid out as the accessors read them, and the owner of their memory.
  struct Arrays {
    ArrayView<float> finals;              // NumStates(); +inf: not final
    ArrayView<StateRange> ranges;         // NumStates() + 1; the last one is {arcs, arcs}
    ArrayView<GraphArc> arcs;             // each state's emitting, then its epsilon arcs
    ArrayView<GraphArc> nonterminal_arcs;  // sorted by (source state, ilabel)
    ArrayView<StateId> nonterminal_sources;  // the source state of each nonterminal arc
    // Empty, or a rank per state such that every epsilon arc goes to a higher rank: a proof
    // (checked with the arcs) that the epsilon arcs form no cycle, so that the search for a
    // negative one is skipped (the mapped file stores one when there is no epsilon cycle).
    ArrayView<int32_t> epsilon_order;
    std::shared_ptr<const void> owner;    // keeps the memory of the views alive
  };

  // Builds from per-state data. `arcs_by_state[s]` may hold emitting and epsilon arcs in any
  // order; `finals[s]` is +inf for non-final states. Validates labels, states and weights and
  // throws InputError naming `source` (a file name or description) on the first problem.
  CsrGraph(StateId start, std::vector<float> finals,
           const std::vector<std::vector<GraphArc>>& arcs_by_state, const std::string& source);

  // Builds directly from flat arrays already grouped by state: arcs of state s are
  // arcs[offsets[s] .. offsets[s+1]). Used by the binary readers to avoid a per-state copy.
  // The arcs are rearranged in their own array: pass it with std::move where the caller is done
  // with it (no copy: a large graph's peak memory is then one arc array, not two).
  CsrGraph(StateId start, std::vector<float> finals, std::vector<GraphArc> arcs,
           const std::vector<int64_t>& offsets, const std::string& source);

  // Adopts arrays already in the layout above, which live in memory the graph does not own
  // (fst/mapped_graph.h maps them from a file; `arrays.owner` keeps the mapping alive). Checks
  // every property the accessors and decoders rely on (ranges monotone and within the arcs,
  // each arc's kind, labels, next state and weight, nonterminal arcs sorted) and throws
  // InputError naming `source` on the first one broken (also for an epsilon order that does
  // not order the epsilon arcs).
  CsrGraph(StateId start, Arrays arrays, const std::string& source);

  CsrGraph(const CsrGraph&) = delete;
  CsrGraph& operator=(const CsrGraph&) = delete;

  StateId NumStates() const { return static_cast<StateId>(data_.finals.size()); }
  StateId Start() const { return start_; }
  float Final(StateId s) const { return data_.finals[s]; }
  ArcRange EmittingArcs(StateId s) const {
    return {Arc(data_.ranges[s].begin), Arc(data_.ranges[s].epsilon_begin)};
  }
  ArcRange EpsilonArcs(StateId s) const {
    return {Arc(data_.ranges[s].epsilon_begin), Arc(data_.ranges[s + 1].begin)};
  }
  // The arc array behind EmittingArcs/EpsilonArcs: state s's arcs are
  // [ArcBegin(s), EpsilonBegin(s)) emitting and [EpsilonBegin(s), ArcBegin(s + 1)) epsilon, so an
  // arc has one index (what the device graph and its traceback records use).
  const GraphArc* ArcData() const { return data_.arcs.data(); }
  int64_t ArcBegin(StateId s) const { return data_.ranges[s].begin; }
  int64_t EpsilonBegin(StateId s) const { return data_.ranges[s].epsilon_begin; }
  // Cache hints for the search, which visits states in no useful order: the first brings a
  // state's arc offsets in, the others (once those are in) its first emitting arcs (two cache
  // lines: word-end states have many) or epsilon arcs.
  void PrefetchOffsets(StateId s) const {
    __builtin_prefetch(&data_.ranges[s]);
    // Where its epsilon arcs end: the next line for one state in four (ranges are 16 bytes).
    __builtin_prefetch(&data_.ranges[s + 1]);
  }
  void PrefetchEmittingArcs(StateId s) const {
    // The second line's address as an integer: the arcs may end (or be absent) before it.
    const auto first = reinterpret_cast<uintptr_t>(Arc(data_.ranges[s].begin));
    __builtin_prefetch(reinterpret_cast<const void*>(first));
    __builtin_prefetch(reinterpret_cast<const void*>(first + 64));
  }
  void PrefetchEpsilonArcs(StateId s) const {
    __builtin_prefetch(Arc(data_.ranges[s].epsilon_begin));
  }
  // From a bitset (one bit per state, small enough to stay in cache), not from the ranges.
  // True also for a state that has only nonterminal arcs.
  bool HasEpsilonArcs(StateId s) const { return (has_epsilon_[s >> 6] >> (s & 63)) & 1; }
  bool HasNonterminalArcs(StateId s) const { return (has_nonterminal_[s >> 6] >> (s & 63)) & 1; }
  // Nonterminal arcs of `s`, sorted by input label (empty for almost every state).
  ArcRange NonterminalArcs(StateId s) const;
  // The arc of `s` with input label ReturnLabel(context), or null when there is none.
  const GraphArc* ReturnArc(StateId s, int32_t context) const;
  int64_t NumNonterminalArcs() const {
    return static_cast<int64_t>(data_.nonterminal_arcs.size());
  }
  int64_t NumEmittingArcs() const { return num_emitting_arcs_; }
  int64_t NumEpsilonArcs() const {
    return static_cast<int64_t>(data_.arcs.size()) - num_emitting_arcs_;
  }
  // Largest input label on any arc but nonterminals (0 when there is none); emissions need
  // > MaxInputLabel()-1 columns.
  Label MaxInputLabel() const { return max_ilabel_; }
  Label MaxOutputLabel() const { return max_olabel_; }
  // Empty, or "<source>: ..." describing an epsilon cycle of negative cost (epsilon_cycles.h),
  // on which a search would never end: decoders refuse such a graph.
  const std::string& NegativeEpsilonCycle() const { return negative_epsilon_cycle_; }
  // DescribeNegativeEpsilonCycle(*this, lm_weight, word_insertion_penalty) (epsilon_cycles.h),
  // computed on the first call for each pair and kept: it walks the whole graph (0.3 s on a
  // 9 M-arc graph), and a search is made per decode_batch call and per stream. Thread-safe.
  std::string WeightedNegativeEpsilonCycle(double lm_weight, double word_insertion_penalty) const;
  // The distinct output labels > 0 on any arc, ascending (to check a words.txt against).
  std::vector<Label> OutputLabels() const;
  // Bytes held by the arrays (for memory reports; for a mapped graph, most lie in the mapping,
  // shared with every process that maps the same file).
  size_t MemoryBytes() const;
  // The arrays, for writing the graph out (fst/mapped_graph.h).
  const Arrays& Data() const { return data_; }
  // True when the arrays live in a file mapping rather than in memory of the graph's own.
  bool Mapped() const { return mapped_; }

 private:
  const GraphArc* Arc(int64_t index) const { return data_.arcs.data() + index; }
  // Validates OpenFst-style input and builds the arrays the graph owns.
  void Split(std::vector<float> finals, std::vector<GraphArc> arcs,
             const std::vector<int64_t>& offsets, const std::string& source);
  // Validates adopted arrays and computes the counts and largest labels.
  void CheckAdopted(const std::string& source);
  // Throws the InputError that names the first bad arc of state `s` (adopted arrays).
  [[noreturn]] void DescribeBadArc(StateId s, const std::string& source) const;
  // The per-state bitsets and the negative epsilon cycle check, from the arrays.
  void Finish(const std::string& source);

  StateId start_;
  Arrays data_;
  bool mapped_ = false;
  std::vector<uint64_t> has_epsilon_;  // bit s: state s has epsilon or nonterminal arcs
  std::vector<uint64_t> has_nonterminal_;  // bit s: state s has nonterminal arcs
  int64_t num_emitting_arcs_ = 0;
  Label max_ilabel_ = 0, max_olabel_ = 0;
  std::string negative_epsilon_cycle_;
  mutable std::mutex weighted_cycles_mutex_;
  mutable std::map<std::pair<double, double>, std::string> weighted_cycles_;
};

// Calls visit(arc) for every arc of state `s`: its emitting, epsilon, then nonterminal arcs (the
// order the OpenFst writer keeps).
template <typename Visit>
void ForEachArc(const CsrGraph& graph, StateId s, Visit&& visit) {
  for (const GraphArc& arc : graph.EmittingArcs(s)) visit(arc);
  for (const GraphArc& arc : graph.EpsilonArcs(s)) visit(arc);
  if (graph.HasNonterminalArcs(s))
    for (const GraphArc& arc : graph.NonterminalArcs(s)) visit(arc);
}

}  // namespace pywfst
