#include "fst/determinize_star.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <utility>
#include <vector>

#include "common/pair_map.h"

namespace pywfst {
namespace {

constexpr float kZero = std::numeric_limits<float>::infinity();  // the tropical zero: no path

// Tropical operations as OpenFst's TropicalWeight computes them, so that every weight is Kaldi's
// to the bit.
float Plus(float a, float b) { return a < b ? a : b; }
float Times(float a, float b) { return a == kZero ? a : b == kZero ? b : a + b; }
float Divide(float a, float b) { return a == kZero ? a : a - b; }
bool ApproxEqual(float a, float b, float delta) { return a <= b + delta && b <= a + delta; }

using StringId = int32_t;

// The output strings not yet emitted, as nodes of a trie: node 0 is the empty string and every
// other node is its parent's string followed by one label, so equal strings have equal ids.
class StringTrie {
 public:
  StringTrie() { nodes_.push_back({-1, 0, 0}); }

  StringId Append(StringId s, Label label) {
    const auto [child, added] =
        children_.FindOrInsert(s, label, static_cast<StringId>(nodes_.size()));
    if (added) nodes_.push_back({s, label, nodes_[s].length + 1});
    return child;
  }

  int32_t Length(StringId s) const { return nodes_[s].length; }

  // The longest common prefix of `a` and `b`: their lowest common ancestor.
  StringId CommonPrefix(StringId a, StringId b) const {
    while (nodes_[a].length > nodes_[b].length) a = nodes_[a].parent;
    while (nodes_[b].length > nodes_[a].length) b = nodes_[b].parent;
    while (a != b) {
      a = nodes_[a].parent;
      b = nodes_[b].parent;
    }
    return a;
  }

  // `s` without its first `n` labels.
  StringId DropPrefix(StringId s, int32_t n) {
    if (n == 0) return s;
    Labels(s, &scratch_);
    StringId rest = 0;
    for (size_t i = static_cast<size_t>(n); i < scratch_.size(); ++i)
      rest = Append(rest, scratch_[i]);
    return rest;
  }

  void Labels(StringId s, std::vector<Label>* labels) const {
    labels->clear();
    for (; s != 0; s = nodes_[s].parent) labels->push_back(nodes_[s].label);
    std::reverse(labels->begin(), labels->end());
  }

  std::string Describe(StringId s) const {
    std::vector<Label> labels;
    Labels(s, &labels);
    std::string text = "[";
    for (size_t i = 0; i < labels.size(); ++i) text += (i ? " " : "") + std::to_string(labels[i]);
    return text + "]";
  }

 private:
  struct Node {
    StringId parent;
    Label label;
    int32_t length;
  };
  std::vector<Node> nodes_;
  PairMap children_;  // (parent, label) -> node
  std::vector<Label> scratch_;
};

// A state of the input reached with an output string still to be emitted and a residual weight.
struct Element {
  StateId state;
  StringId string;
  float weight;
};

[[noreturn]] void NotFunctional(const std::string& source, StateId state, const StringTrie& strings,
                                StringId a, StringId b) {
  throw InputError(Concat(source, ": not functional, so it cannot be determinized: paths with the "
                          "same input reach state ", state, " with outputs ", strings.Describe(a),
                          " and ", strings.Describe(b),
                          " (a lexicon needs disambiguation symbols for homophones)"));
}

// The subsets found so far, each a state of the result: their elements in one flat array, found
// by an open-addressing table on a hash of their states and strings (not weights: subsets whose
// weights differ by at most `delta` are the same state).
class SubsetTable {
 public:
  explicit SubsetTable(float delta) : delta_(delta), begin_{0}, slots_(1024, -1) {}

  int32_t Size() const { return static_cast<int32_t>(hash_.size()); }

  // The id of the stored subset equal to `subset` (sorted by state); `*added` says whether it
  // was stored just now.
  int32_t FindOrAdd(const std::vector<Element>& subset, bool* added) {
    const uint32_t hash = Hash(subset);
    const size_t mask = slots_.size() - 1;
    size_t slot = hash & mask;
    for (; slots_[slot] >= 0; slot = (slot + 1) & mask) {
      const int32_t id = slots_[slot];
      if (hash_[id] == hash && Equal(id, subset)) {
        *added = false;
        return id;
      }
    }
    const int32_t id = Size();
    slots_[slot] = id;
    hash_.push_back(hash);
    elements_.insert(elements_.end(), subset.begin(), subset.end());
    begin_.push_back(static_cast<int64_t>(elements_.size()));
    if (2 * hash_.size() > slots_.size()) Grow();
    *added = true;
    return id;
  }

  void Get(int32_t id, std::vector<Element>* subset) const {
    subset->assign(elements_.begin() + begin_[id], elements_.begin() + begin_[id + 1]);
  }

  void Release() {
    std::vector<Element>().swap(elements_);
    std::vector<int64_t>().swap(begin_);
    std::vector<uint32_t>().swap(hash_);
    std::vector<int32_t>().swap(slots_);
  }

 private:
  static uint32_t Hash(const std::vector<Element>& subset) {
    uint64_t hash = subset.size();
    for (const Element& e : subset) {
      hash = (hash ^ ((static_cast<uint64_t>(static_cast<uint32_t>(e.state)) << 32) |
                      static_cast<uint32_t>(e.string))) *
             0x9E3779B97F4A7C15ULL;
      hash ^= hash >> 29;
    }
    return static_cast<uint32_t>(hash >> 32);
  }

  bool Equal(int32_t id, const std::vector<Element>& subset) const {
    const int64_t begin = begin_[id];
    if (begin_[id + 1] - begin != static_cast<int64_t>(subset.size())) return false;
    for (size_t i = 0; i < subset.size(); ++i) {
      const Element& e = elements_[begin + static_cast<int64_t>(i)];
      if (e.state != subset[i].state || e.string != subset[i].string ||
          !ApproxEqual(e.weight, subset[i].weight, delta_)) {
        return false;
      }
    }
    return true;
  }

  void Grow() {
    std::vector<int32_t> slots(2 * slots_.size(), -1);
    const size_t mask = slots.size() - 1;
    for (int32_t id = 0; id < Size(); ++id) {
      size_t slot = hash_[id] & mask;
      while (slots[slot] >= 0) slot = (slot + 1) & mask;
      slots[slot] = id;
    }
    slots_.swap(slots);
  }

  float delta_;
  std::vector<Element> elements_;
  std::vector<int64_t> begin_;  // subset i: elements_[begin_[i], begin_[i + 1])
  std::vector<uint32_t> hash_;  // per subset
  std::vector<int32_t> slots_;  // subset ids, -1: empty; a power of two, at most half full
};

// Follows epsilon arcs from a subset, with Kaldi's propagation rule: an element's weight goes on
// along its epsilon arcs again only when it improved by more than `delta`.
class EpsilonClosure {
 public:
  EpsilonClosure(const CsrGraph& graph, StringTrie* strings, float delta,
                 const std::string& source)
      : graph_(graph), strings_(*strings), delta_(delta), source_(source) {}

  // Replaces `subset` (sorted by state) by its closure, sorted by state.
  void Close(std::vector<Element>* subset) {
    if (graph_.NumEpsilonArcs() == 0) return;
    // First the elements' own epsilon arcs: most subsets have none, and stay as they are.
    first_reached_.clear();
    for (const Element& e : *subset) Expand(e.state, e.string, e.weight, &first_reached_);
    if (first_reached_.empty()) return;
    if (index_of_.empty()) index_of_.assign(static_cast<size_t>(graph_.NumStates()), -1);
    entries_.clear();
    for (const Element& e : *subset) {
      index_of_[e.state] = static_cast<int32_t>(entries_.size());
      entries_.push_back({{e.state, e.string, kZero}, e.weight, false});  // already expanded
    }
    for (const Element& e : first_reached_) Reach(e.state, e.string, e.weight);
    while (!queue_.empty()) {
      Entry& entry = entries_[index_of_[queue_.front()]];
      queue_.pop_front();
      const float unexpanded = entry.pending;
      entry.element.weight = Plus(entry.element.weight, unexpanded);
      entry.pending = kZero;
      entry.queued = false;
      const Element e = entry.element;  // Expand may move the entries
      Expand(e.state, e.string, unexpanded, nullptr);
    }
    std::sort(entries_.begin(), entries_.end(),
              [](const Entry& a, const Entry& b) { return a.element.state < b.element.state; });
    subset->clear();
    for (Entry& entry : entries_) {
      if (entry.pending != kZero) entry.element.weight = Plus(entry.element.weight, entry.pending);
      subset->push_back(entry.element);
    }
  }

 private:
  struct Entry {
    Element element;  // the weight expanded so far
    float pending;    // reached since, not expanded yet
    bool queued;
  };

  // Sends `weight` along the epsilon arcs of `state`: into `out` when given, else into Reach.
  void Expand(StateId state, StringId string, float weight, std::vector<Element>* out) {
    for (const GraphArc& arc : graph_.EpsilonArcs(state)) {
      const StringId next = arc.olabel == 0 ? string : strings_.Append(string, arc.olabel);
      const float next_weight = Times(weight, arc.weight);
      if (out) {
        out->push_back({arc.nextstate, next, next_weight});
      } else {
        Reach(arc.nextstate, next, next_weight);
      }
    }
  }

  void Reach(StateId state, StringId string, float weight) {
    const int32_t index = index_of_[state];
    if (index < 0 || index >= static_cast<int32_t>(entries_.size()) ||
        entries_[index].element.state != state) {  // index_of_ keeps stale indices
      index_of_[state] = static_cast<int32_t>(entries_.size());
      entries_.push_back({{state, string, kZero}, weight, true});
      queue_.push_back(state);
      return;
    }
    Entry& entry = entries_[index];
    if (entry.element.string != string) {
      NotFunctional(source_, state, strings_, entry.element.string, string);
    }
    entry.pending = Plus(entry.pending, weight);
    if (!entry.queued &&
        !ApproxEqual(Plus(entry.element.weight, entry.pending), entry.element.weight, delta_)) {
      entry.queued = true;
      queue_.push_back(state);
    }
  }

  const CsrGraph& graph_;
  StringTrie& strings_;
  float delta_;
  const std::string& source_;
  std::vector<int32_t> index_of_;  // per input state, into entries_
  std::vector<Entry> entries_;
  std::deque<StateId> queue_;
  std::vector<Element> first_reached_;
};

class Determinizer {
 public:
  Determinizer(const CsrGraph& graph, float delta, const std::string& source,
               const InterruptCheck& interrupted)
      : graph_(graph),
        source_(source),
        interrupted_(interrupted),
        subsets_(delta),
        closure_(graph, &strings_, delta, source) {}

  std::shared_ptr<const CsrGraph> Run() {
    StateOf({{graph_.Start(), 0, 0.0F}});
    for (int64_t expanded = 0; !stack_.empty(); ++expanded) {
      if ((expanded & 1023) == 0 && interrupted_ && interrupted_()) throw Interrupted();
      const int32_t id = stack_.back();
      stack_.pop_back();
      Expand(id);
    }
    return Output();
  }

 private:
  // An arc of the result with its whole output string; kFinal as next state: the final weight.
  struct PendingArc {
    Label ilabel;
    StringId output;
    StateId nextstate;
    float weight;
  };
  static constexpr StateId kFinal = -1;

  void Expand(int32_t id) {
    subsets_.Get(id, &closed_);
    closure_.Close(&closed_);
    arcs_begin_[id] = static_cast<int64_t>(arcs_.size());
    AddFinal();
    AddTransitions();
    arcs_count_[id] = static_cast<int32_t>(static_cast<int64_t>(arcs_.size()) - arcs_begin_[id]);
  }

  void AddFinal() {
    bool final = false;
    PendingArc arc{0, 0, kFinal, 0.0F};
    for (const Element& e : closed_) {
      const float final_weight = graph_.Final(e.state);
      if (final_weight == kZero) continue;
      if (!final) {
        arc.output = e.string;
        arc.weight = Times(e.weight, final_weight);
        final = true;
      } else {
        if (arc.output != e.string) NotFunctional(source_, e.state, strings_, arc.output, e.string);
        arc.weight = Plus(arc.weight, Times(e.weight, final_weight));
      }
    }
    if (final) arcs_.push_back(arc);
  }

  // One arc per input label leaving the subset (epsilon arcs were followed by the closure).
  void AddTransitions() {
    moves_.clear();
    const auto add = [&](const Element& e, const GraphArc& arc) {
      const StringId string = arc.olabel == 0 ? e.string : strings_.Append(e.string, arc.olabel);
      moves_.push_back({arc.ilabel, {arc.nextstate, string, Times(e.weight, arc.weight)}});
    };
    for (const Element& e : closed_) {
      for (const GraphArc& arc : graph_.EmittingArcs(e.state)) add(e, arc);
      if (graph_.HasNonterminalArcs(e.state)) {
        for (const GraphArc& arc : graph_.NonterminalArcs(e.state)) add(e, arc);
      }
    }
    std::sort(moves_.begin(), moves_.end(), [](const Move& a, const Move& b) {
      return a.first != b.first ? a.first < b.first : a.second.state < b.second.state;
    });
    for (size_t i = 0; i < moves_.size();) {
      const Label ilabel = moves_[i].first;
      targets_.clear();
      for (; i < moves_.size() && moves_[i].first == ilabel; ++i)
        targets_.push_back(moves_[i].second);
      AddTransition(ilabel);
    }
  }

  // The arc on `ilabel` to the subset `targets_` reach, with their common output prefix and
  // least weight taken out of the elements and put on the arc.
  void AddTransition(Label ilabel) {
    size_t kept = 0;  // merge the elements of one state (sorted together)
    for (size_t i = 0; i < targets_.size(); ++i) {
      if (kept > 0 && targets_[kept - 1].state == targets_[i].state) {
        Element& e = targets_[kept - 1];
        if (e.string != targets_[i].string) {
          NotFunctional(source_, e.state, strings_, e.string, targets_[i].string);
        }
        e.weight = Plus(e.weight, targets_[i].weight);
      } else {
        targets_[kept++] = targets_[i];
      }
    }
    targets_.resize(kept);
    StringId common = targets_[0].string;
    for (size_t i = 1; i < kept && strings_.Length(common) > 0; ++i) {
      common = strings_.CommonPrefix(common, targets_[i].string);
    }
    float total = targets_[0].weight;
    for (size_t i = 1; i < kept; ++i) total = Plus(total, targets_[i].weight);
    const int32_t prefix = strings_.Length(common);
    for (Element& e : targets_) {
      e.weight = Divide(e.weight, total);
      e.string = strings_.DropPrefix(e.string, prefix);
    }
    arcs_.push_back({ilabel, common, StateOf(targets_), total});
  }

  // The state of `subset`, made (and queued for expansion) when it is new.
  StateId StateOf(const std::vector<Element>& subset) {
    bool added = false;
    const int32_t id = subsets_.FindOrAdd(subset, &added);
    if (added) {
      if (id == std::numeric_limits<int32_t>::max() - 1) {
        throw InputError(Concat(source_, ": determinization exceeds 2^31 states"));
      }
      stack_.push_back(id);
      arcs_begin_.push_back(0);
      arcs_count_.push_back(0);
    }
    return id;
  }

  // The graph, the output strings spelled out: an arc's first label stays on it, the others on
  // a chain of new states; a final output leads to a new final state by input epsilon arcs.
  std::shared_ptr<const CsrGraph> Output() {
    const StateId num_subsets = subsets_.Size();
    subsets_.Release();
    std::vector<float> finals(static_cast<size_t>(num_subsets), kZero);
    std::vector<GraphArc> arcs;
    arcs.reserve(arcs_.size());
    std::vector<int64_t> offsets{0};
    offsets.reserve(static_cast<size_t>(num_subsets) + 1);
    std::vector<GraphArc> chain_arcs;  // of the chains' states, one arc or none each
    std::vector<Label> labels;
    const auto new_state = [&]() {
      finals.push_back(kZero);
      chain_arcs.push_back({0, 0, 0.0F, kFinal});
      return static_cast<StateId>(finals.size() - 1);
    };
    for (StateId s = 0; s < num_subsets; ++s) {
      for (int64_t a = arcs_begin_[s]; a < arcs_begin_[s] + arcs_count_[s]; ++a) {
        const PendingArc& pending = arcs_[static_cast<size_t>(a)];
        strings_.Labels(pending.output, &labels);
        const size_t n = labels.size();
        StateId from = s;
        const auto place = [&](const GraphArc& arc) {
          if (from == s) {
            arcs.push_back(arc);
          } else {
            chain_arcs[static_cast<size_t>(from - num_subsets)] = arc;
          }
        };
        // Label i of the output, to a new state; the input label and weight go on the first.
        const auto emit = [&](size_t i) {
          const StateId to = new_state();
          place({i == 0 ? pending.ilabel : 0, labels[i], i == 0 ? pending.weight : 0.0F, to});
          from = to;
        };
        if (pending.nextstate == kFinal) {
          for (size_t i = 0; i < n; ++i) emit(i);
          finals[static_cast<size_t>(from)] = n == 0 ? pending.weight : 0.0F;
        } else if (n <= 1) {
          place({pending.ilabel, n == 0 ? 0 : labels[0], pending.weight, pending.nextstate});
        } else {
          for (size_t i = 0; i + 1 < n; ++i) emit(i);
          place({0, labels[n - 1], 0.0F, pending.nextstate});
        }
      }
      offsets.push_back(static_cast<int64_t>(arcs.size()));
    }
    std::vector<PendingArc>().swap(arcs_);
    for (const GraphArc& arc : chain_arcs) {
      if (arc.nextstate != kFinal) arcs.push_back(arc);
      offsets.push_back(static_cast<int64_t>(arcs.size()));
    }
    return std::make_shared<const CsrGraph>(0, std::move(finals), std::move(arcs), offsets,
                                            source_);
  }

  using Move = std::pair<Label, Element>;

  const CsrGraph& graph_;
  const std::string& source_;
  const InterruptCheck& interrupted_;
  StringTrie strings_;
  SubsetTable subsets_;
  EpsilonClosure closure_;
  std::vector<int32_t> stack_;  // subsets to expand, the last found first (Kaldi's order)
  std::vector<PendingArc> arcs_;  // state s's: arcs_[arcs_begin_[s] .. + arcs_count_[s])
  std::vector<int64_t> arcs_begin_;
  std::vector<int32_t> arcs_count_;
  std::vector<Element> closed_;
  std::vector<Move> moves_;
  std::vector<Element> targets_;
};

}  // namespace

std::shared_ptr<const CsrGraph> DeterminizeStar(const CsrGraph& graph, float delta,
                                                const std::string& source,
                                                const InterruptCheck& interrupted) {
  if (graph.NumStates() == 0) throw InputError(Concat(source, ": the graph has no states"));
  if (!(delta > 0.0F) || !std::isfinite(delta)) {
    throw InputError(Concat("delta must be a finite number > 0, got ", delta));
  }
  return Determinizer(graph, delta, source, interrupted).Run();
}

}  // namespace pywfst
