// PhraseBoost: run-time phrase boosting over the words a search outputs, as an Aho-Corasick
// automaton (Aho & Corasick 1975) over word ids with partial-match bonuses taken back.
//
// A phrase of k words with weight b (a bonus in cost units; negative b penalises) pays b/k for
// each word matched along its trie path and the rest of b when it completes. A path's bonus is
// always "banked" (completed phrases) plus "pending" (the partial match it is in). When the next
// word breaks the partial match, the automaton follows failure links to the longest matching
// suffix: the pending bonus is taken back and the suffix's words are credited as if read from the
// root (phrases completed within them are banked); at the end of the utterance the pending bonus
// is taken back. So boosting never pays for a prefix that is not completed, and each completed
// occurrence on the followed matches is paid once. (Like Aho-Corasick without output links, a
// phrase ending strictly inside another match that goes on is not paid.)
//
// Immutable once built: one PhraseBoost may serve many searches and threads at once.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "common/pair_map.h"
#include "fst/csr_graph.h"

namespace pywfst {

struct BoostPhrase {
  std::vector<Label> words;  // graph output labels (word ids), at least one
  float weight;              // bonus subtracted from the path cost on completion
};

class PhraseBoost {
 public:
  using Node = int32_t;
  static constexpr Node kRoot = 0;

  // Throws InputError for an empty phrase, a non-positive word id or a non-finite weight.
  explicit PhraseBoost(const std::vector<BoostPhrase>& phrases);

  // The node after reading `word` in `node`, and the cost change (negative: a bonus).
  std::pair<Node, double> Step(Node node, Label word) const {
    // Most steps read a word that starts no phrase outside any match: one bit says so.
    if (node == kRoot && !StartsPhrase(word)) return {kRoot, 0.0};
    return StepInMatch(node, word);
  }
  // Cost that takes back the pending bonus of `node` (at the end of an utterance).
  double TakeBack(Node node) const { return -nodes_[node].pending; }
  // The cost change of a whole word sequence, end included (what a path with these words got).
  double SequenceCost(const std::vector<Label>& words) const;
  // How far a path in `candidate` may trail one in `kept`, both about to read the same words,
  // and still end cheaper through the matches they are in: `kept`'s worst outcome (its pending
  // bonus taken back, or a penalty phrase completed) minus `candidate`'s best (a phrase below it
  // completed, or its pending penalty taken back). The root is in no match: outcomes 0. Phrases
  // either path starts later are left out, as they are open to both.
  double CatchUpMargin(Node kept, Node candidate) const {
    return nodes_[kept].worst_outcome - nodes_[candidate].best_outcome;
  }
  // The best and worst outcome of the matches a path is in after reading `words` from the root.
  std::pair<double, double> Outcomes(const std::vector<Label>& words) const;

  int32_t NumPhrases() const { return num_phrases_; }
  int32_t NumNodes() const { return static_cast<int32_t>(nodes_.size()); }

 private:
  // What a step needs of a node, in one place and 40 bytes (a step visits nodes in no useful
  // order, often out of cache). Costs are in cost units (negated bonuses). A step's cost is a
  // float; pending and path costs are sums of those in double, so that a match taken back
  // returns exactly what it was credited.
  struct NodeInfo {
    uint64_t child_bits = 0;  // bit WordBit(w) set for each child's word w: most misses stop here
    double pending = 0.0;     // the bonus not yet banked once here
    double path_cost = 0.0;   // the whole cost of reading the node's words from the root
    Node fail = kRoot;
    float step_cost = 0.0f;  // arriving here along the trie, completion of a phrase included
    // The extremes of this match's cost change from here on: taken back, or completed below.
    float best_outcome = 0.0f, worst_outcome = 0.0f;
  };
  // A child of the root with its step cost: a match starts without reading its node.
  struct RootChild {
    Node node = -1;
    float step_cost = 0.0f;
  };
  static int WordBit(Label word) {
    return static_cast<int>((static_cast<uint32_t>(word) * 0x9E3779B1u) >> 26);
  }
  bool StartsPhrase(Label word) const {
    const auto index = static_cast<size_t>(word);
    return index < root_children_.size() && ((first_words_[index / 64] >> (index % 64)) & 1);
  }
  std::pair<Node, double> StepInMatch(Node node, Label word) const;
  // The node and cost change of a step that reached `child` along the trie. A leaf is a
  // completed phrase nothing extends (pending 0): the next word breaks its match and credits its
  // longest suffix node. When that suffix has banked nothing (its pending bonus is all its path
  // credits), going there at once, crediting it now, is the same for every future: a later end
  // takes the credit back as it would have taken nothing from the leaf. Then the path recombines
  // with the paths already in that node (with the root: those in no match).
  std::pair<Node, double> Arrive(Node child, double cost) const {
    const NodeInfo& info = nodes_[child];
    cost += info.step_cost;
    if (info.child_bits != 0) return {child, cost};
    const NodeInfo& suffix = nodes_[info.fail];
    if (suffix.pending != suffix.path_cost) return {child, cost};
    return {info.fail, cost + suffix.path_cost};
  }
  Node Child(Node node, Label word) const;

  std::vector<NodeInfo> nodes_;
  // The root's children by word id (dense: every step that breaks a match ends there), and
  // every other node's by (node, word).
  std::vector<RootChild> root_children_;
  std::vector<uint64_t> first_words_;  // bit w: root_children_[w] is a node (an L1-sized set)
  PairMap children_;
  int32_t num_phrases_ = 0;
};

}  // namespace pywfst
