#include "decoder/class_graph.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "common/errors.h"
#include "fst/nonterminal.h"

namespace pywfst {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();
constexpr Label kBoundaryEdge = 0;  // tree edge between two words of an entry (reads nothing)

// The entries' token sequences as a prefix tree; edges are labelled token id + 1, or
// kBoundaryEdge where one word of an entry ends and the next begins. Built from the sorted
// sequences, each sharing its common prefix with the one before it: no lookups, and nodes come
// in depth-first order (children after their parents).
struct PrefixTree {
  struct Edge {
    int32_t from;
    Label label;
    int32_t to;
  };
  std::vector<int32_t> parent{-1};
  std::vector<double> accept_cost{kInfinity};
  std::vector<int32_t> accept_entry{-1};
  std::vector<Edge> edges;

  int32_t AddChild(int32_t node, Label label) {
    const int32_t child = NumNodes();
    parent.push_back(node);
    accept_cost.push_back(kInfinity);
    accept_entry.push_back(-1);
    edges.push_back({node, label, child});
    return child;
  }
  int32_t NumNodes() const { return static_cast<int32_t>(parent.size()); }

  // Per node, the cheapest entry at or below it (children are created after their parents).
  std::vector<double> Potentials() const {
    std::vector<double> potential = accept_cost;
    for (int32_t n = NumNodes() - 1; n > 0; --n)
      potential[parent[n]] = std::min(potential[parent[n]], potential[n]);
    return potential;
  }
};

}  // namespace

ClassCompiler::ClassCompiler(const CsrGraph& topology, const std::vector<int32_t>& contexts,
                             Label optional_token)
    : optional_token_(optional_token) {
  const StateId num_states = topology.NumStates();
  if (num_states > kMaxContexts)
    throw InputError(Concat("topology: ", num_states, " states; class slots allow at most ",
                            kMaxContexts));
  is_context_.assign(static_cast<size_t>(num_states), false);
  for (int32_t context : contexts) {
    if (context < 0 || context >= num_states)
      throw InputError(Concat("contexts: ", context, " is not a state of the ", num_states,
                              "-state topology"));
    is_context_[context] = true;
  }
  contexts_.assign(contexts.begin(), contexts.end());
  state_begin_.push_back(0);
  for (StateId t = 0; t < num_states; ++t) {
    const size_t first = arcs_.size();
    for (const ArcRange& range : {topology.EmittingArcs(t), topology.EpsilonArcs(t)})
      for (const GraphArc& arc : range) arcs_.push_back({arc.ilabel, arc.olabel, arc.weight, arc.nextstate});
    std::stable_sort(arcs_.begin() + static_cast<int64_t>(first), arcs_.end(),
                     [](const TopologyArc& a, const TopologyArc& b) { return a.olabel < b.olabel; });
    state_begin_.push_back(static_cast<int64_t>(arcs_.size()));
  }
  if (arcs_.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    throw InputError(Concat("topology: ", arcs_.size(), " arcs are too many"));
  for (const TopologyArc& arc : arcs_) {
    max_token_label_ = std::max(max_token_label_, arc.olabel);
    if (arc.ilabel == 0 && arc.olabel != 0) frameless_labels_.push_back(arc.olabel);
  }
  std::sort(frameless_labels_.begin(), frameless_labels_.end());
  frameless_labels_.erase(std::unique(frameless_labels_.begin(), frameless_labels_.end()),
                          frameless_labels_.end());
  if (optional_token_ < -1 || optional_token_ + 1 > max_token_label_)
    throw InputError(Concat("optional_token: ", optional_token_, " is not a token of the topology"));
  if (optional_token_ >= 0 && ReadWithoutFrame(optional_token_))
    throw InputError(Concat("optional_token: the topology reads token ", optional_token_,
                            " without a frame (an arc with input label 0)"));
}

std::pair<const ClassCompiler::TopologyArc*, const ClassCompiler::TopologyArc*>
ClassCompiler::ArcsOf(StateId t, Label olabel) const {
  const TopologyArc* first = arcs_.data() + state_begin_[t];
  const TopologyArc* last = arcs_.data() + state_begin_[t + 1];
  first = std::lower_bound(first, last, olabel,
                           [](const TopologyArc& arc, Label label) { return arc.olabel < label; });
  last = std::upper_bound(first, last, olabel,
                          [](Label label, const TopologyArc& arc) { return label < arc.olabel; });
  return {first, last};
}

bool ClassCompiler::ReadWithoutFrame(Label token) const {
  return std::binary_search(frameless_labels_.begin(), frameless_labels_.end(), token + 1);
}

std::shared_ptr<const ClassGraph> ClassCompiler::Compile(const std::vector<ClassWord>& words,
                                                         const std::vector<ClassEntry>& entries) const {
  if (entries.empty()) throw InputError("class entries: none given");
  for (size_t w = 0; w < words.size(); ++w) {
    if (words[w].label <= 0)
      throw InputError(Concat("class word ", w, ": output label ", words[w].label, " is not > 0"));
    if (words[w].pronunciations.empty())
      throw InputError(Concat("class word ", w, ": no pronunciation"));
    for (const std::vector<Label>& tokens : words[w].pronunciations) {
      if (tokens.empty()) throw InputError(Concat("class word ", w, ": an empty pronunciation"));
      for (Label token : tokens) {
        if (token < 0 || token + 1 > max_token_label_)
          throw InputError(Concat("class word ", w, ": token ", token,
                                  " is not a token of the graph's topology"));
        if (ReadWithoutFrame(token))
          throw InputError(Concat("class word ", w, ": the topology reads token ", token,
                                  " without a frame (an arc with input label 0)"));
      }
    }
  }
  auto result = std::make_shared<ClassGraph>();
  // 1. Every path of every entry (one per choice of its words' pronunciations) as labels, and
  // each entry's output words.
  struct Path {
    int64_t begin, end;
    int32_t entry;
  };
  std::vector<Label> labels;
  std::vector<Path> paths;
  std::vector<std::vector<Label>> partial, extended;
  result->word_offsets_.push_back(0);
  for (size_t e = 0; e < entries.size(); ++e) {
    const ClassEntry& entry = entries[e];
    if (entry.words.empty()) throw InputError(Concat("class entry ", e, ": no words"));
    for (int32_t w : entry.words)
      if (w < 0 || static_cast<size_t>(w) >= words.size())
        throw InputError(Concat("class entry ", e, ": word index ", w, " is not one of the ",
                                words.size(), " words"));
    if (!std::isfinite(entry.cost))
      throw InputError(Concat("class entry ", e, ": cost ", entry.cost, " is not finite"));
    partial.assign(1, {});
    for (size_t position = 0; position < entry.words.size(); ++position) {
      extended.clear();
      for (const std::vector<Label>& head : partial) {
        for (const std::vector<Label>& tokens : words[entry.words[position]].pronunciations) {
          extended.push_back(head);
          if (position > 0) extended.back().push_back(kBoundaryEdge);
          for (Label token : tokens) extended.back().push_back(token + 1);
        }
      }
      partial.swap(extended);
    }
    for (const std::vector<Label>& path : partial) {
      paths.push_back({static_cast<int64_t>(labels.size()),
                       static_cast<int64_t>(labels.size() + path.size()), static_cast<int32_t>(e)});
      labels.insert(labels.end(), path.begin(), path.end());
    }
    for (int32_t w : entry.words) result->entry_words_.push_back(words[w].label);
    result->word_offsets_.push_back(static_cast<int64_t>(result->entry_words_.size()));
  }
  std::sort(paths.begin(), paths.end(), [&labels](const Path& a, const Path& b) {
    return std::lexicographical_compare(labels.begin() + a.begin, labels.begin() + a.end,
                                        labels.begin() + b.begin, labels.begin() + b.end);
  });
  PrefixTree tree;
  std::vector<int32_t> path_nodes;  // the previous path's node at each depth (the root first)
  const Label* previous = nullptr;
  size_t previous_length = 0;
  for (const Path& path : paths) {
    const Label* sequence = labels.data() + path.begin;
    const size_t length = static_cast<size_t>(path.end - path.begin);
    size_t common = 0;
    while (common < std::min(length, previous_length) && sequence[common] == previous[common])
      ++common;
    path_nodes.resize(common + 1, 0);
    for (size_t depth = common; depth < length; ++depth)
      path_nodes.push_back(tree.AddChild(path_nodes.back(), sequence[depth]));
    const int32_t node = path_nodes.back();
    const double cost = entries[path.entry].cost;
    // Homophones: the cheapest entry, the first one on ties.
    if (cost < tree.accept_cost[node] ||
        (cost == tree.accept_cost[node] && path.entry < tree.accept_entry[node])) {
      tree.accept_cost[node] = cost;
      tree.accept_entry[node] = path.entry;
    }
    previous = sequence;
    previous_length = length;
  }
  std::vector<double> potential = tree.Potentials();
  potential[0] = 0.0;  // nothing is paid on entering: the root's children pay the entry's cost
  // Edges grouped by their source node (counting sort; creation order kept within a node).
  std::vector<int64_t> edge_offsets(static_cast<size_t>(tree.NumNodes()) + 1, 0);
  for (const PrefixTree::Edge& edge : tree.edges) ++edge_offsets[edge.from + 1];
  for (size_t n = 1; n < edge_offsets.size(); ++n) edge_offsets[n] += edge_offsets[n - 1];
  std::vector<PrefixTree::Edge> edges(tree.edges.size());
  {
    std::vector<int64_t> fill(edge_offsets.begin(), edge_offsets.end() - 1);
    for (const PrefixTree::Edge& edge : tree.edges) edges[fill[edge.from]++] = edge;
  }
  std::vector<bool> after_boundary(static_cast<size_t>(tree.NumNodes()), false);
  for (const PrefixTree::Edge& edge : edges)
    if (edge.label == kBoundaryEdge) after_boundary[edge.to] = true;

  // 2. T composed with the tree, from every context at the root (states numbered as found, so
  // the arcs come out grouped by state).
  // A tree node has few states (for CTC: after its token, and after a blank), found through a
  // short chain per node rather than a hash table over all of them.
  struct NodeState {
    StateId t, state;
    int32_t next;
  };
  std::vector<int32_t> chain_of_node(static_cast<size_t>(tree.NumNodes()), -1);
  std::vector<NodeState> node_states;
  std::vector<std::pair<StateId, int32_t>> states;  // (T state, tree node)
  auto find_state = [&](StateId t, int32_t node) {
    for (int32_t i = chain_of_node[node]; i >= 0; i = node_states[i].next)
      if (node_states[i].t == t) return node_states[i].state;
    const StateId state = static_cast<StateId>(states.size());
    states.emplace_back(t, node);
    node_states.push_back({t, state, chain_of_node[node]});
    chain_of_node[node] = static_cast<int32_t>(node_states.size()) - 1;
    return state;
  };
  result->entry_state_.assign(is_context_.size(), -1);
  for (StateId context : contexts_) result->entry_state_[context] = find_state(context, 0);
  std::vector<GraphArc> arcs;
  std::vector<int64_t> offsets{0};
  states.reserve(2 * static_cast<size_t>(tree.NumNodes()));
  arcs.reserve(6 * static_cast<size_t>(tree.NumNodes()));
  offsets.reserve(2 * static_cast<size_t>(tree.NumNodes()) + 1);
  for (size_t s = 0; s < states.size(); ++s) {
    const auto [t, node] = states[s];
    const auto [unlabelled_first, unlabelled_last] = ArcsOf(t, 0);
    for (const TopologyArc* arc = unlabelled_first; arc != unlabelled_last; ++arc)
      arcs.push_back({arc->ilabel, 0, arc->weight, find_state(arc->nextstate, node)});
    for (int64_t i = edge_offsets[node]; i < edge_offsets[node + 1]; ++i) {
      const PrefixTree::Edge& edge = edges[i];
      const float push = static_cast<float>(potential[edge.to] - potential[node]);
      if (edge.label == kBoundaryEdge) {
        arcs.push_back({0, 0, push, find_state(t, edge.to)});
        continue;
      }
      const auto [first, last] = ArcsOf(t, edge.label);
      for (const TopologyArc* arc = first; arc != last; ++arc)
        arcs.push_back({arc->ilabel, 0, arc->weight + push, find_state(arc->nextstate, edge.to)});
    }
    if (after_boundary[node] && optional_token_ >= 0) {
      const auto [first, last] = ArcsOf(t, optional_token_ + 1);
      for (const TopologyArc* arc = first; arc != last; ++arc)
        arcs.push_back({arc->ilabel, 0, arc->weight, find_state(arc->nextstate, node)});
    }
    offsets.push_back(static_cast<int64_t>(arcs.size()));
  }
  result->exit_of_state_.assign(states.size(), -1);
  for (size_t s = 0; s < states.size(); ++s) {
    const auto [t, node] = states[s];
    if (tree.accept_entry[node] < 0 || !is_context_[t]) continue;
    result->exit_of_state_[s] = static_cast<int32_t>(result->exits_.size());
    result->exits_.push_back({t, static_cast<float>(tree.accept_cost[node] - potential[node]),
                              tree.accept_entry[node]});
  }
  std::vector<float> finals(states.size(), std::numeric_limits<float>::infinity());
  result->graph_ = std::make_unique<CsrGraph>(0, std::move(finals), arcs, offsets,
                                              "class sub-graph");
  if (!result->graph_->NegativeEpsilonCycle().empty())
    throw InputError(result->graph_->NegativeEpsilonCycle());
  return result;
}

}  // namespace pywfst
