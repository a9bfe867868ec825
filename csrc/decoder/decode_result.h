// The outcome of decoding one utterance: the best word sequence and its costs.
#pragma once

#include <cstdint>
#include <vector>

#include "fst/csr_graph.h"

namespace pywfst {

struct DecodedWord {
  Label word;       // output label of the graph (word id)
  int32_t frame;    // frame being consumed when the search took the arc that output the word
};

struct DecodeResult {
  std::vector<DecodedWord> words;
  std::vector<Label> alignment;  // input label (emission column + 1) of the best path per frame
  std::vector<bool> continues_token;  // per frame: the path took a self-loop (same token goes on)
  double total_cost = 0.0;     // graph + acoustic cost of the best path (final weight included)
  double acoustic_cost = 0.0;  // sum of the acoustic costs along the best path
  bool reached_final = false;  // false: no final state survived, the best partial path is given
  int64_t num_frames = 0;
  double graph_cost() const { return total_cost - acoustic_cost; }
};

}  // namespace pywfst
