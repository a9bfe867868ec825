// CsrGraph construction: validation of states, labels and weights, and the emitting/epsilon split.
//
// Weight policy (what a decoder may rely on after construction):
//   - arc weights are never NaN and never -inf; +inf is kept as it is (such an arc can never lie
//     on a finite-cost path, and the beam prunes it; dropping it would make arcs(s) disagree with
//     the file);
//   - final weights are never NaN and never -inf; +inf means "not final";
//   - negative finite costs are allowed (they are common in Kaldi graphs after weight pushing).
#include "fst/csr_graph.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "common/errors.h"
#include "fst/epsilon_cycles.h"
#include "fst/nonterminal.h"

namespace pywfst {

namespace {

// Builds the flat arc array and the offsets of the per-state constructor's input.
void Flatten(const std::vector<std::vector<GraphArc>>& arcs_by_state, std::vector<GraphArc>* arcs,
             std::vector<int64_t>* offsets) {
  size_t total = 0;
  for (const auto& v : arcs_by_state) total += v.size();
  arcs->reserve(total);
  offsets->reserve(arcs_by_state.size() + 1);
  offsets->push_back(0);
  for (const auto& v : arcs_by_state) {
    arcs->insert(arcs->end(), v.begin(), v.end());
    offsets->push_back(static_cast<int64_t>(arcs->size()));
  }
}

}  // namespace

CsrGraph::CsrGraph(StateId start, std::vector<float> finals,
                   const std::vector<std::vector<GraphArc>>& arcs_by_state,
                   const std::string& source)
    : start_(start), finals_(std::move(finals)) {
  if (arcs_by_state.size() != finals_.size()) {
    throw InputError(Concat(source, ": ", finals_.size(), " final weights but arcs for ",
                            arcs_by_state.size(), " states"));
  }
  std::vector<GraphArc> arcs;
  std::vector<int64_t> offsets;
  Flatten(arcs_by_state, &arcs, &offsets);
  Split(arcs, offsets, source);
}

CsrGraph::CsrGraph(StateId start, std::vector<float> finals, const std::vector<GraphArc>& arcs,
                   const std::vector<int64_t>& offsets, const std::string& source)
    : start_(start), finals_(std::move(finals)) {
  Split(arcs, offsets, source);
}

void CsrGraph::Split(const std::vector<GraphArc>& arcs, const std::vector<int64_t>& offsets,
                     const std::string& source) {
  const size_t num_states = finals_.size();
  if (num_states == 0) {
    throw InputError(Concat(source, ": the FST has no states; an empty graph cannot decode"));
  }
  if (num_states > static_cast<size_t>(std::numeric_limits<StateId>::max())) {
    throw InputError(Concat(source, ": ", num_states, " states exceed the limit of ",
                            std::numeric_limits<StateId>::max()));
  }
  const StateId n = static_cast<StateId>(num_states);
  if (offsets.size() != num_states + 1 || offsets.front() != 0 ||
      offsets.back() != static_cast<int64_t>(arcs.size())) {
    throw InputError(Concat(source, ": arc offsets do not cover the ", arcs.size(), " arcs of ",
                            num_states, " states"));
  }
  if (start_ < 0 || start_ >= n) {
    throw InputError(Concat(source, ": start state ", start_,
                            start_ < 0 ? " (none)" : "", " is not a state of the ", n,
                            "-state FST"));
  }
  const float kNegInf = -std::numeric_limits<float>::infinity();
  for (StateId s = 0; s < n; ++s) {
    const float f = finals_[s];
    if (std::isnan(f) || f == kNegInf) {
      throw InputError(Concat(source, ": state ", s, " has final weight ", f,
                              "; final weights must be finite or +inf (not final)"));
    }
  }

  // Pass 1: validate every arc and count emitting/epsilon arcs per state.
  ranges_.assign(num_states + 1, StateRange{0, 0});
  num_emitting_arcs_ = 0;
  max_ilabel_ = 0;
  max_olabel_ = 0;
  for (StateId s = 0; s < n; ++s) {
    const int64_t begin = offsets[s], end = offsets[s + 1];
    if (begin > end) {
      throw InputError(Concat(source, ": arc offsets of state ", s, " decrease"));
    }
    int64_t num_emitting = 0;
    for (int64_t a = begin; a < end; ++a) {
      const GraphArc& arc = arcs[a];
      if (arc.ilabel < 0 || arc.olabel < 0) {
        throw InputError(Concat(source, ": arc ", a - begin, " of state ", s,
                                " has a negative label (ilabel ", arc.ilabel, ", olabel ",
                                arc.olabel, ")"));
      }
      if (arc.nextstate < 0 || arc.nextstate >= n) {
        throw InputError(Concat(source, ": arc ", a - begin, " of state ", s,
                                " goes to state ", arc.nextstate, ", outside the ", n,
                                "-state FST"));
      }
      if (std::isnan(arc.weight) || arc.weight == kNegInf) {
        throw InputError(Concat(source, ": arc ", a - begin, " of state ", s, " has weight ",
                                arc.weight, "; arc weights must not be NaN or -inf"));
      }
      if (arc.olabel > max_olabel_) max_olabel_ = arc.olabel;
      if (IsNonterminal(arc.ilabel)) {
        nonterminal_arcs_.push_back(arc);
        nonterminal_sources_.push_back(s);
        continue;
      }
      if (arc.ilabel > max_ilabel_) max_ilabel_ = arc.ilabel;
      if (arc.ilabel > 0) ++num_emitting;
    }
    ranges_[s] = {begin, begin + num_emitting};
    num_emitting_arcs_ += num_emitting;
  }
  // Arc ranges exclude the nonterminal arcs: shift every state's start back by those before it.
  int64_t removed = 0;
  size_t next_nonterminal = 0;
  for (StateId s = 0; s < n; ++s) {
    const int64_t epsilon_begin = ranges_[s].epsilon_begin - removed;
    ranges_[s].begin -= removed;
    ranges_[s].epsilon_begin = epsilon_begin;
    while (next_nonterminal < nonterminal_sources_.size() &&
           nonterminal_sources_[next_nonterminal] == s) {
      ++removed;
      ++next_nonterminal;
    }
  }
  ranges_[n] = {offsets[n] - removed, offsets[n] - removed};
  has_epsilon_.assign((num_states + 63) / 64, 0);
  for (StateId s = 0; s < n; ++s)
    if (ranges_[s].epsilon_begin != ranges_[s + 1].begin)
      has_epsilon_[s >> 6] |= uint64_t{1} << (s & 63);
  has_nonterminal_.assign(has_epsilon_.size(), 0);
  for (StateId s : nonterminal_sources_) {
    has_epsilon_[s >> 6] |= uint64_t{1} << (s & 63);
    has_nonterminal_[s >> 6] |= uint64_t{1} << (s & 63);
  }
  // Sorted by label within each state (the sources are already in order), for ReturnArc().
  std::vector<size_t> order(nonterminal_arcs_.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [this](size_t a, size_t b) {
    return nonterminal_sources_[a] != nonterminal_sources_[b]
               ? nonterminal_sources_[a] < nonterminal_sources_[b]
               : nonterminal_arcs_[a].ilabel < nonterminal_arcs_[b].ilabel;
  });
  std::vector<GraphArc> sorted_arcs;
  sorted_arcs.reserve(order.size());
  for (size_t i : order) sorted_arcs.push_back(nonterminal_arcs_[i]);
  nonterminal_arcs_ = std::move(sorted_arcs);

  // Pass 2: copy into an exactly sized array, each kind of arc in file order within its state.
  arcs_.resize(arcs.size() - nonterminal_arcs_.size());
  for (StateId s = 0; s < n; ++s) {
    GraphArc* emit = arcs_.data() + ranges_[s].begin;
    GraphArc* eps = arcs_.data() + ranges_[s].epsilon_begin;
    for (int64_t a = offsets[s]; a < offsets[s + 1]; ++a) {
      if (IsNonterminal(arcs[a].ilabel)) continue;
      if (arcs[a].ilabel > 0) {
        *emit++ = arcs[a];
      } else {
        *eps++ = arcs[a];
      }
    }
  }
  const std::string cycle = DescribeNegativeEpsilonCycle(*this);
  if (!cycle.empty()) negative_epsilon_cycle_ = Concat(source, ": ", cycle);
}

ArcRange CsrGraph::NonterminalArcs(StateId s) const {
  const auto [first, last] =
      std::equal_range(nonterminal_sources_.begin(), nonterminal_sources_.end(), s);
  const GraphArc* base = nonterminal_arcs_.data();
  return {base + (first - nonterminal_sources_.begin()), base + (last - nonterminal_sources_.begin())};
}

const GraphArc* CsrGraph::ReturnArc(StateId s, int32_t context) const {
  const ArcRange arcs = NonterminalArcs(s);
  const Label label = ReturnLabel(context);
  const GraphArc* found = std::lower_bound(
      arcs.begin(), arcs.end(), label,
      [](const GraphArc& arc, Label wanted) { return arc.ilabel < wanted; });
  return found != arcs.end() && found->ilabel == label ? found : nullptr;
}

std::vector<Label> CsrGraph::OutputLabels() const {
  std::vector<Label> labels;
  for (const std::vector<GraphArc>* arcs : {&arcs_, &nonterminal_arcs_})
    for (const GraphArc& arc : *arcs)
      if (arc.olabel != 0) labels.push_back(arc.olabel);
  std::sort(labels.begin(), labels.end());
  labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
  return labels;
}

size_t CsrGraph::MemoryBytes() const {
  return sizeof(*this) + finals_.capacity() * sizeof(float) +
         ranges_.capacity() * sizeof(StateRange) + arcs_.capacity() * sizeof(GraphArc) +
         (has_epsilon_.capacity() + has_nonterminal_.capacity()) * sizeof(uint64_t) +
         nonterminal_arcs_.capacity() * sizeof(GraphArc) +
         nonterminal_sources_.capacity() * sizeof(StateId);
}

std::string CsrGraph::WeightedNegativeEpsilonCycle(double lm_weight,
                                                   double word_insertion_penalty) const {
  const std::pair<double, double> key(lm_weight, word_insertion_penalty);
  {
    std::lock_guard<std::mutex> lock(weighted_cycles_mutex_);
    const auto found = weighted_cycles_.find(key);
    if (found != weighted_cycles_.end()) return found->second;
  }
  // Outside the lock: two threads may both compute it, to the same answer.
  std::string cycle = DescribeNegativeEpsilonCycle(*this, lm_weight, word_insertion_penalty);
  std::lock_guard<std::mutex> lock(weighted_cycles_mutex_);
  weighted_cycles_.emplace(key, cycle);
  return cycle;
}

}  // namespace pywfst
