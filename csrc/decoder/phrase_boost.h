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
#include <unordered_map>
#include <utility>
#include <vector>

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
  std::pair<Node, double> Step(Node node, Label word) const;
  // Cost that takes back the pending bonus of `node` (at the end of an utterance).
  double TakeBack(Node node) const { return -pending_[node]; }
  // The cost change of a whole word sequence, end included (what a path with these words got).
  double SequenceCost(const std::vector<Label>& words) const;

  int32_t NumPhrases() const { return num_phrases_; }
  int32_t NumNodes() const { return static_cast<int32_t>(fail_.size()); }

 private:
  Node Child(Node node, Label word) const;

  // Per node, all in cost units (negated bonuses): what arriving along the trie costs, what
  // completing a phrase here costs on top, the pending (not yet banked) cost once here, and the
  // whole cost of reading the node's words from the root.
  std::vector<double> arrive_cost_;
  std::vector<double> complete_cost_;
  std::vector<double> pending_;
  std::vector<double> path_cost_;
  std::vector<bool> is_end_;
  std::vector<Node> fail_;
  std::unordered_map<uint64_t, Node> children_;  // (node << 32 | word) -> child
  int32_t num_phrases_ = 0;
};

}  // namespace pywfst
