#include "decoder/phrase_boost.h"

#include <cmath>
#include <deque>

#include "common/errors.h"

namespace pywfst {
namespace {
uint64_t ChildKey(PhraseBoost::Node node, Label word) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(node)) << 32) | static_cast<uint32_t>(word);
}
}  // namespace

PhraseBoost::PhraseBoost(const std::vector<BoostPhrase>& phrases) {
  // The trie. A node shared by several phrases keeps the per-word bonus of the first phrase that
  // made it; each phrase's completion cost makes its own total exactly its weight.
  std::vector<double> trie_cost{0.0};  // sum of arrive costs from the root to the node
  arrive_cost_.push_back(0.0);
  complete_cost_.push_back(0.0);
  is_end_.push_back(false);
  std::vector<std::pair<Node, double>> ends;  // (node, completion cost), set after the trie
  for (size_t p = 0; p < phrases.size(); ++p) {
    const BoostPhrase& phrase = phrases[p];
    if (phrase.words.empty()) throw InputError(Concat("boost phrase ", p, ": no words"));
    if (!std::isfinite(phrase.weight))
      throw InputError(Concat("boost phrase ", p, ": weight must be finite"));
    const double step = -static_cast<double>(phrase.weight) / phrase.words.size();
    Node node = kRoot;
    for (Label word : phrase.words) {
      if (word <= 0) throw InputError(Concat("boost phrase ", p, ": word id ", word, " is not > 0"));
      Node child = Child(node, word);
      if (child < 0) {
        child = static_cast<Node>(arrive_cost_.size());
        children_.emplace(ChildKey(node, word), child);
        arrive_cost_.push_back(step);
        trie_cost.push_back(trie_cost[node] + step);
        complete_cost_.push_back(0.0);
        is_end_.push_back(false);
      }
      node = child;
    }
    if (!is_end_[node]) {  // a repeated phrase keeps its first weight
      is_end_[node] = true;
      complete_cost_[node] = -static_cast<double>(phrase.weight) - trie_cost[node];
      ++num_phrases_;
    }
  }
  // Breadth-first, so a node's parent and failure target are done before it.
  const size_t num_nodes = arrive_cost_.size();
  pending_.assign(num_nodes, 0.0);
  path_cost_.assign(num_nodes, 0.0);
  fail_.assign(num_nodes, kRoot);
  std::vector<std::vector<std::pair<Label, Node>>> edges(num_nodes);
  for (const auto& [key, child] : children_)
    edges[static_cast<size_t>(key >> 32)].emplace_back(static_cast<Label>(key & 0xffffffffu), child);
  std::deque<Node> queue{kRoot};
  while (!queue.empty()) {
    const Node node = queue.front();
    queue.pop_front();
    for (const auto& [word, child] : edges[node]) {
      const double arrive = arrive_cost_[child] + complete_cost_[child];
      path_cost_[child] = path_cost_[node] + arrive;
      pending_[child] = is_end_[child] ? 0.0 : pending_[node] + arrive_cost_[child];
      if (node != kRoot) {
        Node f = fail_[node];
        while (f != kRoot && Child(f, word) < 0) f = fail_[f];
        const Node next = Child(f, word);
        fail_[child] = next >= 0 ? next : kRoot;
      }
      queue.push_back(child);
    }
  }
}

PhraseBoost::Node PhraseBoost::Child(Node node, Label word) const {
  const auto it = children_.find(ChildKey(node, word));
  return it == children_.end() ? -1 : it->second;
}

std::pair<PhraseBoost::Node, double> PhraseBoost::Step(Node node, Label word) const {
  double cost = 0.0;
  while (true) {
    const Node child = Child(node, word);
    if (child >= 0) return {child, cost + arrive_cost_[child] + complete_cost_[child]};
    if (node == kRoot) return {kRoot, cost};
    // The partial match breaks: take its pending bonus back and credit the longest suffix's
    // words as if read from the root.
    const Node suffix = fail_[node];
    cost += path_cost_[suffix] - pending_[node];
    node = suffix;
  }
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
