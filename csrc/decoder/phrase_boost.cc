#include "decoder/phrase_boost.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>

#include "common/errors.h"
#include "fst/nonterminal.h"

namespace pywfst {
namespace {
constexpr double kNoEnd = std::numeric_limits<double>::infinity();
}  // namespace

PhraseBoost::PhraseBoost(const std::vector<BoostPhrase>& phrases) {
  // The trie. A node shared by several phrases keeps the per-word bonus of the first phrase that
  // made it; each phrase's completion cost makes its own total exactly its weight.
  std::vector<double> arrive_cost{0.0}, complete_cost{0.0};
  std::vector<double> trie_cost{0.0};  // sum of arrive costs from the root to the node
  std::vector<bool> is_end{false};
  struct Edge {
    Node from;
    Label word;
    Node to;
  };
  std::vector<Edge> trie_edges;
  nodes_.emplace_back();
  for (size_t p = 0; p < phrases.size(); ++p) {
    const BoostPhrase& phrase = phrases[p];
    if (phrase.words.empty()) throw InputError(Concat("boost phrase ", p, ": no words"));
    if (!std::isfinite(phrase.weight))
      throw InputError(Concat("boost phrase ", p, ": weight must be finite"));
    const double step = -static_cast<double>(phrase.weight) / phrase.words.size();
    Node node = kRoot;
    for (Label word : phrase.words) {
      if (word <= 0 || word >= kClassWordStride)
        throw InputError(Concat("boost phrase ", p, ": word id ", word, " is not in [1, ",
                                kClassWordStride, ")"));
      Node child = Child(node, word);
      if (child < 0) {
        child = static_cast<Node>(nodes_.size());
        nodes_.emplace_back();
        if (node == kRoot) {
          const auto index = static_cast<size_t>(word);
          if (index >= root_children_.size()) {
            root_children_.resize(index + 1);
            first_words_.resize(index / 64 + 1, 0);
          }
          root_children_[index].node = child;
          first_words_[index / 64] |= uint64_t{1} << (index % 64);
        } else {
          children_.FindOrInsert(node, word, child);
          nodes_[node].child_bits |= uint64_t{1} << WordBit(word);
        }
        trie_edges.push_back({node, word, child});
        arrive_cost.push_back(step);
        trie_cost.push_back(trie_cost[node] + step);
        complete_cost.push_back(0.0);
        is_end.push_back(false);
      }
      node = child;
    }
    if (!is_end[node]) {  // a repeated phrase keeps its first weight
      is_end[node] = true;
      complete_cost[node] = -static_cast<double>(phrase.weight) - trie_cost[node];
      ++num_phrases_;
    }
  }
  // Breadth-first, so a node's parent and failure target are done before it.
  std::vector<std::vector<std::pair<Label, Node>>> edges(nodes_.size());
  for (const Edge& edge : trie_edges) edges[edge.from].emplace_back(edge.word, edge.to);
  std::vector<Node> order;  // breadth-first
  std::deque<Node> queue{kRoot};
  while (!queue.empty()) {
    const Node node = queue.front();
    queue.pop_front();
    order.push_back(node);
    for (const auto& [word, child] : edges[node]) {
      NodeInfo& info = nodes_[child];
      info.step_cost = static_cast<float>(arrive_cost[child] + complete_cost[child]);
      info.path_cost = nodes_[node].path_cost + info.step_cost;
      info.pending = is_end[child] ? 0.0 : nodes_[node].pending + info.step_cost;
      if (node == kRoot) {
        root_children_[word].step_cost = info.step_cost;
      } else {
        Node f = nodes_[node].fail;
        while (f != kRoot && Child(f, word) < 0) f = nodes_[f].fail;
        const Node next = Child(f, word);
        info.fail = next >= 0 ? next : kRoot;
      }
      queue.push_back(child);
    }
  }
  // A step from the root goes where Arrive() says (a completed phrase nothing extends: on to
  // the root, its suffix, crediting nothing); Child() and the failure targets above needed the
  // trie itself.
  for (RootChild& child : root_children_)
    if (child.node >= 0) child.node = Arrive(child.node, 0.0).first;
  // Outcomes. First, children before parents, the cheapest and costliest path_cost of a phrase
  // end strictly below each node; then, parents and failure targets first, the extremes of
  // completing one or breaking: the pending bonus taken back, the suffix credited, and the
  // suffix's own outcomes.
  std::vector<double> lowest_end(nodes_.size(), kNoEnd), highest_end(nodes_.size(), -kNoEnd);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    for (const auto& [word, child] : edges[*it]) {
      const double end = nodes_[child].path_cost;
      lowest_end[*it] =
          std::min({lowest_end[*it], lowest_end[child], is_end[child] ? end : kNoEnd});
      highest_end[*it] =
          std::max({highest_end[*it], highest_end[child], is_end[child] ? end : -kNoEnd});
    }
  }
  std::vector<double> best(nodes_.size(), 0.0), worst(nodes_.size(), 0.0);
  for (const Node node : order) {
    if (node == kRoot) continue;
    const Node suffix = nodes_[node].fail;
    const double broken = -nodes_[node].pending + nodes_[suffix].path_cost;
    best[node] = broken + best[suffix];
    worst[node] = broken + worst[suffix];
    if (lowest_end[node] != kNoEnd) {
      best[node] = std::min(best[node], lowest_end[node] - nodes_[node].path_cost);
      worst[node] = std::max(worst[node], highest_end[node] - nodes_[node].path_cost);
    }
    nodes_[node].best_outcome = static_cast<float>(best[node]);
    nodes_[node].worst_outcome = static_cast<float>(worst[node]);
  }
}

PhraseBoost::Node PhraseBoost::Child(Node node, Label word) const {
  if (node == kRoot)
    return static_cast<size_t>(word) < root_children_.size() ? root_children_[word].node : -1;
  if (!((nodes_[node].child_bits >> WordBit(word)) & 1)) return -1;
  return children_.Find(node, word);
}

std::pair<PhraseBoost::Node, double> PhraseBoost::StepInMatch(Node node, Label word) const {
  double cost = 0.0;
  while (true) {
    if (node == kRoot) {
      if (!StartsPhrase(word)) return {kRoot, cost};
      const RootChild& child = root_children_[word];
      return {child.node, cost + child.step_cost};
    }
    const Node child = Child(node, word);
    if (child >= 0) return Arrive(child, cost);
    // The partial match breaks: take its pending bonus back and credit the longest suffix's
    // words as if read from the root.
    const Node suffix = nodes_[node].fail;
    cost += nodes_[suffix].path_cost - nodes_[node].pending;
    node = suffix;
  }
}

std::pair<double, double> PhraseBoost::Outcomes(const std::vector<Label>& words) const {
  Node node = kRoot;
  for (Label word : words) node = Step(node, word).first;
  return {nodes_[node].best_outcome, nodes_[node].worst_outcome};
}

double PhraseBoost::SequenceCost(const std::vector<Label>& words) const {
  Node node = kRoot;
  double cost = 0.0;
  for (Label word : words) {
    const auto [next, step] = Step(node, word);
    node = next;
    cost += step;
  }
  return cost + TakeBack(node);
}

}  // namespace pywfst
