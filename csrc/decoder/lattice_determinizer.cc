#include "decoder/lattice_determinizer.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <queue>
#include <string>
#include <unordered_map>
#include <utility>

namespace pywfst {
namespace {
constexpr double kInfinity = std::numeric_limits<double>::infinity();
// Residual costs closer than this make the same state (Kaldi's determinization delta).
constexpr double kDelta = 1.0 / 1024;
constexpr double kTolerance = 1e-3;

// Alignment strings, shared: a string is its last label and the string before it (an index
// here; kEmpty for none), so extending one by a label costs one entry, not a copy.
class Strings {
 public:
  static constexpr int32_t kEmpty = -1;
  int32_t Extend(int32_t string, Label label) {
    entries_.push_back({string, label});
    return static_cast<int32_t>(entries_.size()) - 1;
  }
  std::vector<Label> Labels(int32_t string) const {
    std::vector<Label> labels;
    for (; string != kEmpty; string = entries_[string].first) labels.push_back(entries_[string].second);
    std::reverse(labels.begin(), labels.end());
    return labels;
  }
  int32_t Make(std::vector<Label>::const_iterator begin, std::vector<Label>::const_iterator end) {
    int32_t string = kEmpty;
    for (auto label = begin; label != end; ++label) string = Extend(string, *label);
    return string;
  }

 private:
  std::vector<std::pair<int32_t, Label>> entries_;
};

// A raw node in a word-lattice state, with what its cheapest path there still owes.
struct Element {
  int32_t node;
  double graph, acoustic;
  int32_t alignment;  // in Strings
};
using Subset = std::vector<Element>;  // sorted by node

// Cheaper by total cost, then graph cost; equal ones by the string made first (the order the
// raw lattice gives, which is the search's).
bool Cheaper(const Element& a, const Element& b) {
  const double total_a = a.graph + a.acoustic, total_b = b.graph + b.acoustic;
  if (total_a != total_b) return total_a < total_b;
  if (a.graph != b.graph) return a.graph < b.graph;
  return a.alignment < b.alignment;
}

template <typename T>
void Append(std::string* out, T value) {
  out->append(reinterpret_cast<const char*>(&value), sizeof(value));
}

// What identifies a state: its nodes and their residuals (costs rounded to kDelta).
std::string KeyOf(const Subset& subset, const Strings& strings) {
  std::string key;
  for (const Element& e : subset) {
    Append(&key, e.node);
    Append(&key, static_cast<int64_t>(std::llround(e.graph / kDelta)));
    Append(&key, static_cast<int64_t>(std::llround(e.acoustic / kDelta)));
    const std::vector<Label> labels = strings.Labels(e.alignment);
    Append(&key, static_cast<uint32_t>(labels.size()));
    key.append(reinterpret_cast<const char*>(labels.data()), labels.size() * sizeof(Label));
  }
  return key;
}

class Determinizer {
 public:
  explicit Determinizer(const RawLattice& raw);
  WordLattice Run(double lattice_beam, int32_t max_states);

 private:
  struct State {
    Subset subset;  // moved out when expanded
    double forward;  // cheapest cost of the arcs from the start
    bool expanded = false;
  };
  // `seeds` followed along arcs without a word; kept: the nodes with a word arc or an end.
  // Nodes are numbered in topological order, so taking the lowest first settles each one
  // before it is expanded. An element whose cheapest way to an end costs more than `budget`
  // is left out (Kaldi's pruned determinization): a word sequence within the beam never needs
  // it, since its best path's elements cost at most what that path costs from here.
  Subset Closure(const std::vector<Element>& seeds, double budget);
  // The cheapest complete path through a state, from the state on.
  double CostToEnd(const Subset& subset) const;
  // Takes the common weight out of `subset` and gives it as an arc from `from` (target unset).
  WordArc Divide(int32_t from, Label word, Subset* subset);
  // Keeps the arcs and ends that lie on a path within `limit` (not those of the states left
  // unexpanded), Kaldi's lattice pruning, and numbers the states kept in order.
  static WordLattice Pruned(int32_t num_states, std::vector<WordArc> arcs,
                            std::vector<WordArc> finals, double limit);

  const RawLattice& raw_;
  std::vector<size_t> arcs_begin_;  // per node: its first arc; one more at the end
  std::vector<double> end_cost_;    // per node: its cost to the end, +inf when not an end
  std::vector<double> to_end_;      // per node: its cheapest way to an end
  std::vector<bool> has_word_arc_;
  Strings strings_;
  std::vector<int32_t> position_;  // Closure's: node -> index in its elements, -1 for none
};

Determinizer::Determinizer(const RawLattice& raw)
    : raw_(raw),
      arcs_begin_(raw.num_nodes + 1, 0),
      end_cost_(raw.num_nodes, kInfinity),
      to_end_(raw.num_nodes, kInfinity),
      has_word_arc_(raw.num_nodes, false),
      position_(raw.num_nodes, -1) {
  for (const LatticeArc& arc : raw.arcs) {
    ++arcs_begin_[arc.from + 1];
    if (arc.olabel != 0) has_word_arc_[arc.from] = true;
  }
  for (int32_t node = 0; node < raw.num_nodes; ++node) arcs_begin_[node + 1] += arcs_begin_[node];
  for (const auto& [node, cost] : raw.finals) end_cost_[node] = cost;
  for (int32_t node = raw.num_nodes - 1; node >= 0; --node) {
    double cost = end_cost_[node];
    for (size_t a = arcs_begin_[node]; a < arcs_begin_[node + 1]; ++a) {
      const LatticeArc& arc = raw.arcs[a];
      cost = std::min(cost, arc.graph + arc.acoustic + to_end_[arc.to]);
    }
    to_end_[node] = cost;
  }
}

Subset Determinizer::Closure(const std::vector<Element>& seeds, double budget) {
  std::vector<Element> elements;
  std::priority_queue<int32_t, std::vector<int32_t>, std::greater<int32_t>> ready;
  auto offer = [&](const Element& element) {
    if (element.graph + element.acoustic + to_end_[element.node] > budget) return;
    int32_t& at = position_[element.node];
    if (at < 0) {
      at = static_cast<int32_t>(elements.size());
      ready.push(element.node);
      elements.push_back(element);
    } else if (Cheaper(element, elements[at])) {
      elements[at] = element;
    }
  };
  for (const Element& seed : seeds) offer(seed);
  while (!ready.empty()) {
    const int32_t node = ready.top();
    ready.pop();
    const Element current = elements[position_[node]];
    for (size_t a = arcs_begin_[node]; a < arcs_begin_[node + 1]; ++a) {
      const LatticeArc& arc = raw_.arcs[a];
      if (arc.olabel != 0) continue;
      offer({arc.to, current.graph + arc.graph, current.acoustic + arc.acoustic,
             arc.ilabel != 0 ? strings_.Extend(current.alignment, arc.ilabel) : current.alignment});
    }
  }
  Subset kept;
  for (const Element& element : elements) {
    position_[element.node] = -1;
    if (has_word_arc_[element.node] || end_cost_[element.node] < kInfinity) kept.push_back(element);
  }
  std::sort(kept.begin(), kept.end(),
            [](const Element& a, const Element& b) { return a.node < b.node; });
  return kept;
}

double Determinizer::CostToEnd(const Subset& subset) const {
  double cost = kInfinity;
  for (const Element& e : subset) cost = std::min(cost, e.graph + e.acoustic + to_end_[e.node]);
  return cost;
}

WordArc Determinizer::Divide(int32_t from, Label word, Subset* subset) {
  const Element cheapest = *std::min_element(subset->begin(), subset->end(), Cheaper);
  const std::vector<Label> first = strings_.Labels(cheapest.alignment);
  std::vector<std::vector<Label>> labels;
  size_t shared = first.size();
  for (const Element& e : *subset) {
    labels.push_back(strings_.Labels(e.alignment));
    const size_t end = std::min(shared, labels.back().size());
    shared = 0;
    while (shared < end && labels.back()[shared] == first[shared]) ++shared;
  }
  for (size_t i = 0; i < subset->size(); ++i) {
    Element& e = (*subset)[i];
    e.graph -= cheapest.graph;
    e.acoustic -= cheapest.acoustic;
    e.alignment = strings_.Make(labels[i].begin() + shared, labels[i].end());
  }
  return {from, -1, word, cheapest.graph, cheapest.acoustic,
          std::vector<Label>(first.begin(), first.begin() + shared)};
}

WordLattice Determinizer::Run(double lattice_beam, int32_t max_states) {
  WordLattice none;
  if (raw_.num_nodes == 0 || !(to_end_[0] < kInfinity)) return none;
  const double best = to_end_[0];
  const double limit = best + lattice_beam + kTolerance;
  std::vector<State> states;
  std::unordered_map<std::string, int32_t> index;
  using Entry = std::pair<double, int32_t>;  // (cost of the best path through it, state)
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> queue;
  {
    Subset start = Closure({Element{0, 0.0, 0.0, Strings::kEmpty}}, limit);
    index.emplace(KeyOf(start, strings_), 0);
    queue.emplace(CostToEnd(start), 0);
    states.push_back({std::move(start), 0.0});
  }
  std::vector<WordArc> arcs, finals;
  double reach = kInfinity;  // the cheapest path through a state left unexpanded
  int32_t expanded = 0;
  while (!queue.empty()) {
    const auto [through, state] = queue.top();
    if (states[state].expanded) {
      queue.pop();
      continue;
    }
    // The best path's states do not count: it is always whole.
    if ((expanded >= max_states && through > best + kTolerance) || through > limit) {
      reach = through;
      break;
    }
    queue.pop();
    states[state].expanded = true;
    ++expanded;
    const Subset subset = std::move(states[state].subset);
    const double forward = states[state].forward;
    const Element* end = nullptr;
    Element ended;
    std::map<Label, std::vector<Element>> by_word;  // ordered: arcs come out sorted by word
    for (const Element& e : subset) {
      if (end_cost_[e.node] < kInfinity) {
        const Element candidate{e.node, e.graph + end_cost_[e.node], e.acoustic, e.alignment};
        if (end == nullptr || Cheaper(candidate, ended)) {
          ended = candidate;
          end = &ended;
        }
      }
      for (size_t a = arcs_begin_[e.node]; a < arcs_begin_[e.node + 1]; ++a) {
        const LatticeArc& arc = raw_.arcs[a];
        if (arc.olabel == 0) continue;
        by_word[arc.olabel].push_back(
            {arc.to, e.graph + arc.graph, e.acoustic + arc.acoustic,
             arc.ilabel != 0 ? strings_.Extend(e.alignment, arc.ilabel) : e.alignment});
      }
    }
    if (end != nullptr)
      finals.push_back({state, -1, 0, ended.graph, ended.acoustic, strings_.Labels(ended.alignment)});
    for (auto& [word, seeds] : by_word) {
      Subset closed = Closure(seeds, limit - forward);
      if (closed.empty()) continue;
      WordArc arc = Divide(state, word, &closed);
      const double next_forward = forward + arc.graph + arc.acoustic;
      const auto [it, inserted] =
          index.emplace(KeyOf(closed, strings_), static_cast<int32_t>(states.size()));
      arc.to = it->second;
      if (inserted) {
        queue.emplace(next_forward + CostToEnd(closed), arc.to);
        states.push_back({std::move(closed), next_forward});
      } else if (!states[arc.to].expanded && next_forward < states[arc.to].forward) {
        states[arc.to].forward = next_forward;
        queue.emplace(next_forward + CostToEnd(states[arc.to].subset), arc.to);
      }
      arcs.push_back(std::move(arc));
    }
  }
  WordLattice lattice = Pruned(static_cast<int32_t>(states.size()), std::move(arcs),
                               std::move(finals), limit);
  lattice.beam = std::min(lattice_beam, reach - best);
  return lattice;
}

WordLattice Determinizer::Pruned(int32_t num_states, std::vector<WordArc> arcs,
                                 std::vector<WordArc> finals, double limit) {
  // States in a topological order (Kahn's algorithm), then each one's cheapest cost from the
  // start and to an end (+inf for the states left unexpanded: they reach none).
  std::vector<std::vector<size_t>> out(num_states);
  std::vector<int32_t> in_degree(num_states, 0);
  for (size_t a = 0; a < arcs.size(); ++a) {
    out[arcs[a].from].push_back(a);
    ++in_degree[arcs[a].to];
  }
  std::vector<int32_t> order = {0};
  for (size_t i = 0; i < order.size(); ++i)
    for (size_t a : out[order[i]])
      if (--in_degree[arcs[a].to] == 0) order.push_back(arcs[a].to);
  std::vector<double> from_start(num_states, kInfinity), to_end(num_states, kInfinity);
  from_start[0] = 0.0;
  for (int32_t state : order)
    for (size_t a : out[state])
      from_start[arcs[a].to] = std::min(from_start[arcs[a].to],
                                        from_start[state] + arcs[a].graph + arcs[a].acoustic);
  for (const WordArc& f : finals) to_end[f.from] = f.graph + f.acoustic;
  for (auto state = order.rbegin(); state != order.rend(); ++state)
    for (size_t a : out[*state])
      to_end[*state] = std::min(to_end[*state],
                                arcs[a].graph + arcs[a].acoustic + to_end[arcs[a].to]);
  // Kept: what lies on a path within the limit; states numbered in the order they were made.
  auto within = [&](const WordArc& arc) {
    return from_start[arc.from] + arc.graph + arc.acoustic + to_end[arc.to] <= limit;
  };
  WordLattice lattice;
  if (!(from_start[0] + to_end[0] <= limit)) return lattice;  // not even the best path is whole
  std::vector<bool> kept(num_states, false);
  kept[0] = true;
  for (const WordArc& arc : arcs)
    if (within(arc)) kept[arc.to] = true;
  std::vector<int32_t> new_id(num_states, -1);
  for (int32_t state = 0; state < num_states; ++state)
    if (kept[state]) new_id[state] = lattice.num_states++;
  for (WordArc& arc : arcs) {
    if (!within(arc)) continue;
    arc.from = new_id[arc.from];
    arc.to = new_id[arc.to];
    lattice.arcs.push_back(std::move(arc));
  }
  std::stable_sort(lattice.arcs.begin(), lattice.arcs.end(),
                   [](const WordArc& a, const WordArc& b) { return a.from < b.from; });
  for (WordArc& f : finals) {
    if (new_id[f.from] < 0 || from_start[f.from] + f.graph + f.acoustic > limit) continue;
    f.from = new_id[f.from];
    lattice.finals.push_back(std::move(f));
  }
  return lattice;
}

}  // namespace

WordLattice DeterminizeLattice(const RawLattice& raw, double lattice_beam, int32_t max_states) {
  return Determinizer(raw).Run(lattice_beam, max_states);
}

}  // namespace pywfst
