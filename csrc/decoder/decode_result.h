// The outcome of decoding one utterance: the best word sequences and their costs.
#pragma once

#include <cstdint>
#include <vector>

#include "fst/csr_graph.h"

namespace pywfst {

struct DecodedWord {
  Label word;       // output label of the graph (word id)
  int32_t frame;    // frame being consumed when the search took the arc that output the word
};

// One path through the graph.
struct Hypothesis {
  std::vector<DecodedWord> words;
  std::vector<Label> alignment;       // input label (emission column + 1) per frame
  std::vector<bool> continues_token;  // per frame: a self-loop (the same token goes on)
  double total_cost = 0.0;     // graph + acoustic (+ boost) cost (final weight included when final)
  double acoustic_cost = 0.0;  // sum of the acoustic costs along the path
  double boost_cost = 0.0;     // phrase-boost bonuses (negative) or penalties of the words
  double graph_cost() const { return total_cost - acoustic_cost - boost_cost; }
};

struct DecodeResult {
  // Best first; distinct word sequences. Empty only if every token was pruned.
  std::vector<Hypothesis> hypotheses;
  bool reached_final = false;  // false: no final state survived, partial paths are given
  int64_t num_frames = 0;
};

}  // namespace pywfst
