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

// What a graph built from an OpenFst file owns: its Arrays' views point into these vectors.
struct OwnedArrays {
  std::vector<float> finals;
  std::vector<StateRange> ranges;
  std::vector<GraphArc> arcs;
  std::vector<GraphArc> nonterminal_arcs;
  std::vector<StateId> nonterminal_sources;
};

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

const float kNegInf = -std::numeric_limits<float>::infinity();

// The checks of the states and the final weights, whatever the graph came from.
void CheckStates(StateId start, ArrayView<float> finals, const std::string& source) {
  const size_t num_states = finals.size();
  if (num_states == 0) {
    throw InputError(Concat(source, ": the FST has no states; an empty graph cannot decode"));
  }
  if (num_states > static_cast<size_t>(std::numeric_limits<StateId>::max())) {
    throw InputError(Concat(source, ": ", num_states, " states exceed the limit of ",
                            std::numeric_limits<StateId>::max()));
  }
  const StateId n = static_cast<StateId>(num_states);
  if (start < 0 || start >= n) {
    throw InputError(Concat(source, ": start state ", start, start < 0 ? " (none)" : "",
                            " is not a state of the ", n, "-state FST"));
  }
  for (StateId s = 0; s < n; ++s) {
    const float f = finals[s];
    if (std::isnan(f) || f == kNegInf) {
      throw InputError(Concat(source, ": state ", s, " has final weight ", f,
                              "; final weights must be finite or +inf (not final)"));
    }
  }
}

// The checks of one arc (arc `index` of state `s`, `what` saying which of its arcs are counted),
// whatever the graph came from: labels >= 0, a next state of the graph, a weight that is a number
// and not -inf.
inline void CheckArc(const GraphArc& arc, StateId s, int64_t index, const char* what, StateId n,
                     const std::string& source) {
  if (arc.ilabel < 0 || arc.olabel < 0) {
    throw InputError(Concat(source, ": ", what, index, " of state ", s,
                            " has a negative label (ilabel ", arc.ilabel, ", olabel ",
                            arc.olabel, ")"));
  }
  if (arc.nextstate < 0 || arc.nextstate >= n) {
    throw InputError(Concat(source, ": ", what, index, " of state ", s, " goes to state ",
                            arc.nextstate, ", outside the ", n, "-state FST"));
  }
  if (std::isnan(arc.weight) || arc.weight == kNegInf) {
    throw InputError(Concat(source, ": ", what, index, " of state ", s, " has weight ",
                            arc.weight, "; arc weights must not be NaN or -inf"));
  }
}

// What CheckArc checks, as one branch-free test: labels >= 0, a next state of the graph, a
// weight above -inf (which is false for NaN too).
inline bool ArcIsValid(const GraphArc& arc, StateId n) {
  return ((arc.ilabel | arc.olabel) >= 0) &
         (static_cast<uint32_t>(arc.nextstate) < static_cast<uint32_t>(n)) & (arc.weight > kNegInf);
}

}  // namespace

CsrGraph::CsrGraph(StateId start, std::vector<float> finals,
                   const std::vector<std::vector<GraphArc>>& arcs_by_state,
                   const std::string& source)
    : start_(start) {
  if (arcs_by_state.size() != finals.size()) {
    throw InputError(Concat(source, ": ", finals.size(), " final weights but arcs for ",
                            arcs_by_state.size(), " states"));
  }
  std::vector<GraphArc> arcs;
  std::vector<int64_t> offsets;
  Flatten(arcs_by_state, &arcs, &offsets);
  Split(std::move(finals), std::move(arcs), offsets, source);
}

CsrGraph::CsrGraph(StateId start, std::vector<float> finals, std::vector<GraphArc> arcs,
                   const std::vector<int64_t>& offsets, const std::string& source)
    : start_(start) {
  Split(std::move(finals), std::move(arcs), offsets, source);
}

CsrGraph::CsrGraph(StateId start, Arrays arrays, const std::string& source)
    : start_(start), data_(std::move(arrays)), mapped_(true) {
  CheckAdopted(source);
  Finish(source);
}

void CsrGraph::Split(std::vector<float> finals, std::vector<GraphArc> arcs,
                     const std::vector<int64_t>& offsets, const std::string& source) {
  auto owned = std::make_shared<OwnedArrays>();
  owned->finals = std::move(finals);
  CheckStates(start_, ArrayView<float>(owned->finals), source);
  const size_t num_states = owned->finals.size();
  const StateId n = static_cast<StateId>(num_states);
  if (offsets.size() != num_states + 1 || offsets.front() != 0 ||
      offsets.back() != static_cast<int64_t>(arcs.size())) {
    throw InputError(Concat(source, ": arc offsets do not cover the ", arcs.size(), " arcs of ",
                            num_states, " states"));
  }

  // Pass 1: validate every arc and count emitting/epsilon arcs per state.
  std::vector<StateRange>& ranges = owned->ranges;
  std::vector<GraphArc>& nonterminal_arcs = owned->nonterminal_arcs;
  std::vector<StateId>& nonterminal_sources = owned->nonterminal_sources;
  ranges.assign(num_states + 1, StateRange{0, 0});
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
      CheckArc(arc, s, a - begin, "arc ", n, source);
      if (arc.olabel > max_olabel_) max_olabel_ = arc.olabel;
      if (IsNonterminal(arc.ilabel)) {
        nonterminal_arcs.push_back(arc);
        nonterminal_sources.push_back(s);
        continue;
      }
      if (arc.ilabel > max_ilabel_) max_ilabel_ = arc.ilabel;
      if (arc.ilabel > 0) ++num_emitting;
    }
    ranges[s] = {begin, begin + num_emitting};
    num_emitting_arcs_ += num_emitting;
  }
  // Arc ranges exclude the nonterminal arcs: shift every state's start back by those before it.
  int64_t removed = 0;
  size_t next_nonterminal = 0;
  for (StateId s = 0; s < n; ++s) {
    const int64_t epsilon_begin = ranges[s].epsilon_begin - removed;
    ranges[s].begin -= removed;
    ranges[s].epsilon_begin = epsilon_begin;
    while (next_nonterminal < nonterminal_sources.size() &&
           nonterminal_sources[next_nonterminal] == s) {
      ++removed;
      ++next_nonterminal;
    }
  }
  ranges[n] = {offsets[n] - removed, offsets[n] - removed};
  // Sorted by label within each state (the sources are already in order), for ReturnArc().
  std::vector<size_t> order(nonterminal_arcs.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return nonterminal_sources[a] != nonterminal_sources[b]
               ? nonterminal_sources[a] < nonterminal_sources[b]
               : nonterminal_arcs[a].ilabel < nonterminal_arcs[b].ilabel;
  });
  std::vector<GraphArc> sorted_arcs;
  sorted_arcs.reserve(order.size());
  for (size_t i : order) sorted_arcs.push_back(nonterminal_arcs[i]);
  nonterminal_arcs = std::move(sorted_arcs);

  // Pass 2, in place: each state's emitting, then epsilon arcs, each kind in file order, moved
  // down over the nonterminal arcs taken out. A state's new place never starts after its old
  // one, so its arcs are gathered first and no later state's arcs are overwritten.
  std::vector<GraphArc> state_arcs;
  for (StateId s = 0; s < n; ++s) {
    state_arcs.clear();
    for (int64_t a = offsets[s]; a < offsets[s + 1]; ++a)
      if (arcs[a].ilabel > 0 && !IsNonterminal(arcs[a].ilabel)) state_arcs.push_back(arcs[a]);
    for (int64_t a = offsets[s]; a < offsets[s + 1]; ++a)
      if (arcs[a].ilabel == 0) state_arcs.push_back(arcs[a]);
    std::copy(state_arcs.begin(), state_arcs.end(), arcs.begin() + ranges[s].begin);
  }
  arcs.resize(arcs.size() - nonterminal_arcs.size());
  owned->arcs = std::move(arcs);
  data_ = {ArrayView<float>(owned->finals), ArrayView<StateRange>(owned->ranges),
           ArrayView<GraphArc>(owned->arcs), ArrayView<GraphArc>(owned->nonterminal_arcs),
           ArrayView<StateId>(owned->nonterminal_sources), ArrayView<int32_t>(), owned};
  Finish(source);
}

void CsrGraph::CheckAdopted(const std::string& source) {
  CheckStates(start_, data_.finals, source);
  const StateId n = NumStates();
  const ArrayView<StateRange>& ranges = data_.ranges;
  const int64_t num_arcs = static_cast<int64_t>(data_.arcs.size());
  if (ranges.size() != data_.finals.size() + 1 || ranges[0].begin != 0 ||
      ranges[n].begin != num_arcs || ranges[n].epsilon_begin != num_arcs) {
    throw InputError(Concat(source, ": the arc ranges do not cover the ", num_arcs, " arcs of ",
                            n, " states"));
  }
  const ArrayView<int32_t>& order = data_.epsilon_order;
  if (!order.empty() && order.size() != data_.finals.size()) {
    throw InputError(Concat(source, ": an epsilon order of ", order.size(), " states for ", n));
  }
  num_emitting_arcs_ = 0;
  Label max_ilabel = 0, max_olabel = 0;
  for (StateId s = 0; s < n; ++s) {
    const int64_t begin = ranges[s].begin, epsilon_begin = ranges[s].epsilon_begin,
                  end = ranges[s + 1].begin;
    // With ranges[0].begin == 0, this keeps every range inside the arc array.
    if (!(begin <= epsilon_begin && epsilon_begin <= end && end <= num_arcs)) {
      throw InputError(Concat(source, ": the arc ranges of state ", s, " (", begin, ", ",
                              epsilon_begin, ", ", end, ") are out of order or beyond the ",
                              num_arcs, " arcs"));
    }
    // One branch-free pass over the state's arcs; when any fails, DescribeBadArc names it.
    bool ok = true;
    for (int64_t a = begin; a < epsilon_begin; ++a) {
      const GraphArc& arc = data_.arcs[a];
      const bool valid = ArcIsValid(arc, n);
      ok &= valid & (arc.ilabel > 0) & (arc.ilabel < kNonterminalBase);  // IsNonterminal
      max_ilabel = std::max(max_ilabel, arc.ilabel);
      max_olabel = std::max(max_olabel, arc.olabel);
    }
    for (int64_t a = epsilon_begin; a < end; ++a) {
      const GraphArc& arc = data_.arcs[a];
      ok &= ArcIsValid(arc, n) && arc.ilabel == 0 &&
            (order.empty() || order[s] < order[arc.nextstate]);
      max_olabel = std::max(max_olabel, arc.olabel);
    }
    if (!ok) DescribeBadArc(s, source);
    num_emitting_arcs_ += epsilon_begin - begin;
  }
  max_ilabel_ = max_ilabel;
  max_olabel_ = max_olabel;
  const ArrayView<GraphArc>& nonterminal_arcs = data_.nonterminal_arcs;
  const ArrayView<StateId>& sources = data_.nonterminal_sources;
  if (sources.size() != nonterminal_arcs.size()) {
    throw InputError(Concat(source, ": ", nonterminal_arcs.size(), " nonterminal arcs but ",
                            sources.size(), " source states"));
  }
  for (size_t i = 0; i < nonterminal_arcs.size(); ++i) {
    const GraphArc& arc = nonterminal_arcs[i];
    const StateId s = sources[i];
    const bool same_state = i > 0 && sources[i - 1] == s;
    if (s < 0 || s >= n || (i > 0 && sources[i - 1] > s)) {
      throw InputError(Concat(source, ": nonterminal arc ", i, " has source state ", s,
                              " (states of ", n, ", in order)"));
    }
    CheckArc(arc, s, static_cast<int64_t>(i), "nonterminal arc ", n, source);
    if (!IsNonterminal(arc.ilabel) || (same_state && nonterminal_arcs[i - 1].ilabel > arc.ilabel)) {
      throw InputError(Concat(source, ": nonterminal arc ", i, " of state ", s,
                              " has input label ", arc.ilabel,
                              " (nonterminal labels, ascending within a state)"));
    }
    if (arc.olabel > max_olabel_) max_olabel_ = arc.olabel;
  }
}

void CsrGraph::DescribeBadArc(StateId s, const std::string& source) const {
  const ArrayView<int32_t>& order = data_.epsilon_order;
  const int64_t epsilon_begin = data_.ranges[s].epsilon_begin;
  for (int64_t a = data_.ranges[s].begin; a < data_.ranges[s + 1].begin; ++a) {
    const GraphArc& arc = data_.arcs[a];
    const bool emitting = a < epsilon_begin;
    const int64_t index = emitting ? a - data_.ranges[s].begin : a - epsilon_begin;
    const char* what = emitting ? "emitting arc " : "epsilon arc ";
    CheckArc(arc, s, index, what, NumStates(), source);
    if (emitting ? arc.ilabel == 0 || IsNonterminal(arc.ilabel) : arc.ilabel != 0) {
      throw InputError(Concat(source, ": ", what, index, " of state ", s, " has input label ",
                              arc.ilabel));
    }
    if (!emitting && !order.empty() && order[s] >= order[arc.nextstate]) {
      throw InputError(Concat(source, ": the epsilon order does not order ", what, index,
                              " of state ", s, " (to state ", arc.nextstate, ")"));
    }
  }
  throw InputError(Concat(source, ": state ", s, " has an invalid arc"));  // not reached
}

void CsrGraph::Finish(const std::string& source) {
  const StateId n = NumStates();
  has_epsilon_.assign((static_cast<size_t>(n) + 63) / 64, 0);
  for (StateId s = 0; s < n; ++s)
    if (data_.ranges[s].epsilon_begin != data_.ranges[s + 1].begin)
      has_epsilon_[s >> 6] |= uint64_t{1} << (s & 63);
  has_nonterminal_.assign(has_epsilon_.size(), 0);
  for (StateId s : data_.nonterminal_sources) {
    has_epsilon_[s >> 6] |= uint64_t{1} << (s & 63);
    has_nonterminal_[s >> 6] |= uint64_t{1} << (s & 63);
  }
  if (!data_.epsilon_order.empty()) return;  // checked: the epsilon arcs form no cycle
  const std::string cycle = DescribeNegativeEpsilonCycle(*this);
  if (!cycle.empty()) negative_epsilon_cycle_ = Concat(source, ": ", cycle);
}

ArcRange CsrGraph::NonterminalArcs(StateId s) const {
  const ArrayView<StateId>& sources = data_.nonterminal_sources;
  const auto [first, last] = std::equal_range(sources.begin(), sources.end(), s);
  const GraphArc* base = data_.nonterminal_arcs.data();
  return {base + (first - sources.begin()), base + (last - sources.begin())};
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
  const std::initializer_list<const ArrayView<GraphArc>*> all = {&data_.arcs,
                                                                  &data_.nonterminal_arcs};
  std::vector<Label> labels;
  const size_t num_arcs = data_.arcs.size() + data_.nonterminal_arcs.size();
  if (static_cast<size_t>(max_olabel_) / 8 > num_arcs) {  // sparse labels: sort them
    for (const ArrayView<GraphArc>* arcs : all)
      for (const GraphArc& arc : *arcs)
        if (arc.olabel != 0) labels.push_back(arc.olabel);
    std::sort(labels.begin(), labels.end());
    labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
    return labels;
  }
  // One bit per label up to the largest (no larger than the arcs): a pass instead of a sort.
  std::vector<uint64_t> seen(static_cast<size_t>(max_olabel_) / 64 + 1, 0);
  for (const ArrayView<GraphArc>* arcs : all)
    for (const GraphArc& arc : *arcs) seen[arc.olabel >> 6] |= uint64_t{1} << (arc.olabel & 63);
  for (Label label = 1; label <= max_olabel_; ++label)
    if ((seen[label >> 6] >> (label & 63)) & 1) labels.push_back(label);
  return labels;
}

size_t CsrGraph::MemoryBytes() const {
  return sizeof(*this) + data_.finals.bytes() + data_.ranges.bytes() + data_.arcs.bytes() +
         data_.nonterminal_arcs.bytes() + data_.nonterminal_sources.bytes() +
         data_.epsilon_order.bytes() +
         (has_epsilon_.capacity() + has_nonterminal_.capacity()) * sizeof(uint64_t);
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
