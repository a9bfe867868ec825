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

// An arc of a state-level lattice (LatticeRecorder): what the search took from token `from` to
// token `to`; ilabel 0 for an epsilon arc (negated for a self-loop), olabel 0 for no word.
struct LatticeArc {
  int32_t from, to;
  Label ilabel, olabel;
  float graph;     // graph cost as the search weighed it (LM weight, penalty, boost)
  float acoustic;  // the frame's acoustic cost (0 without ilabel)
};

// The paths the search kept within lattice_beam of the best one (LatticeRecorder).
struct RawLattice {
  int32_t num_nodes = 0;  // node 0 is the start; every arc goes to a higher node
  std::vector<LatticeArc> arcs;  // by source node
  std::vector<std::pair<int32_t, double>> finals;  // end nodes and their cost to the end
};

// A determinized word lattice (lattice_determinizer.h): Kaldi's CompactLattice.
struct WordArc {
  int32_t from, to;
  Label word;
  double graph, acoustic;
  // input labels (emission column + 1, negated where a self-loop continued the token), this
  // arc's part of the path's alignment
  std::vector<Label> alignment;
};
struct WordLattice {
  int32_t num_states = 0;  // 0: none; state 0 is the start
  std::vector<WordArc> arcs;  // by source state
  std::vector<WordArc> finals;  // per final state (`from`): the weight and string at its end
  double beam = 0.0;  // every path within this cost of the best one is in the lattice
};

struct DecodeResult {
  // Best first; distinct word sequences. Empty only if every token was pruned.
  std::vector<Hypothesis> hypotheses;
  bool reached_final = false;  // false: no final state survived, partial paths are given
  int64_t num_frames = 0;
  WordLattice lattice;  // with options.lattice
};

}  // namespace pywfst
