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
// A CsrGraph owns its arrays and never changes after construction, so one instance may be shared
// (std::shared_ptr) by any number of decoders and threads (its one mutable part, a memo of the
// weighted epsilon-cycle checks, is guarded by a mutex).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

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

class CsrGraph {
 public:
  // Builds from per-state data. `arcs_by_state[s]` may hold emitting and epsilon arcs in any
  // order; `finals[s]` is +inf for non-final states. Validates labels, states and weights and
  // throws InputError naming `source` (a file name or description) on the first problem.
  CsrGraph(StateId start, std::vector<float> finals,
           const std::vector<std::vector<GraphArc>>& arcs_by_state, const std::string& source);

  // Builds directly from flat arrays already grouped by state: arcs of state s are
  // arcs[offsets[s] .. offsets[s+1]). Used by the binary readers to avoid a per-state copy.
  CsrGraph(StateId start, std::vector<float> finals, const std::vector<GraphArc>& arcs,
           const std::vector<int64_t>& offsets, const std::string& source);

  StateId NumStates() const { return static_cast<StateId>(finals_.size()); }
  StateId Start() const { return start_; }
  float Final(StateId s) const { return finals_[s]; }
  ArcRange EmittingArcs(StateId s) const {
    return {arcs_.data() + ranges_[s].begin, arcs_.data() + ranges_[s].epsilon_begin};
  }
  ArcRange EpsilonArcs(StateId s) const {
    return {arcs_.data() + ranges_[s].epsilon_begin, arcs_.data() + ranges_[s + 1].begin};
  }
  // The arc array behind EmittingArcs/EpsilonArcs: state s's arcs are
  // [ArcBegin(s), EpsilonBegin(s)) emitting and [EpsilonBegin(s), ArcBegin(s + 1)) epsilon, so an
  // arc has one index (what the device graph and its traceback records use).
  const GraphArc* ArcData() const { return arcs_.data(); }
  int64_t ArcBegin(StateId s) const { return ranges_[s].begin; }
  int64_t EpsilonBegin(StateId s) const { return ranges_[s].epsilon_begin; }
  // Cache hints for the search, which visits states in no useful order: the first brings a
  // state's arc offsets in, the second (once those are in) its first emitting arcs.
  void PrefetchOffsets(StateId s) const { __builtin_prefetch(ranges_.data() + s); }
  void PrefetchEmittingArcs(StateId s) const { __builtin_prefetch(arcs_.data() + ranges_[s].begin); }
  // From a bitset (one bit per state, small enough to stay in cache), not from the ranges.
  // True also for a state that has only nonterminal arcs.
  bool HasEpsilonArcs(StateId s) const { return (has_epsilon_[s >> 6] >> (s & 63)) & 1; }
  bool HasNonterminalArcs(StateId s) const { return (has_nonterminal_[s >> 6] >> (s & 63)) & 1; }
  // Nonterminal arcs of `s`, sorted by input label (empty for almost every state).
  ArcRange NonterminalArcs(StateId s) const;
  // The arc of `s` with input label ReturnLabel(context), or null when there is none.
  const GraphArc* ReturnArc(StateId s, int32_t context) const;
  int64_t NumNonterminalArcs() const { return static_cast<int64_t>(nonterminal_arcs_.size()); }
  int64_t NumEmittingArcs() const { return num_emitting_arcs_; }
  int64_t NumEpsilonArcs() const { return static_cast<int64_t>(arcs_.size()) - num_emitting_arcs_; }
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
  // Bytes held by the arrays (for memory reports).
  size_t MemoryBytes() const;

 private:
  void Split(const std::vector<GraphArc>& arcs, const std::vector<int64_t>& offsets,
             const std::string& source);

  StateId start_;
  std::vector<float> finals_;
  struct StateRange {
    int64_t begin;          // first arc of the state (its emitting arcs come first)
    int64_t epsilon_begin;  // first epsilon arc; the state's arcs end at the next state's begin
  };
  std::vector<StateRange> ranges_;  // size NumStates() + 1
  std::vector<GraphArc> arcs_;
  std::vector<uint64_t> has_epsilon_;  // bit s: state s has epsilon or nonterminal arcs
  std::vector<uint64_t> has_nonterminal_;  // bit s: state s has nonterminal arcs
  std::vector<GraphArc> nonterminal_arcs_;     // sorted by (source state, ilabel)
  std::vector<StateId> nonterminal_sources_;  // source state of each nonterminal arc
  int64_t num_emitting_arcs_ = 0;
  Label max_ilabel_ = 0, max_olabel_ = 0;
  std::string negative_epsilon_cycle_;
  mutable std::mutex weighted_cycles_mutex_;
  mutable std::map<std::pair<double, double>, std::string> weighted_cycles_;
};

}  // namespace pywfst
