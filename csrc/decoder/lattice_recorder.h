// LatticeRecorder: what a word lattice is made of, recorded during the search.
//
// Kaldi's lattice-faster-decoder keeps, besides the best path, every arc the search took between
// tokens that survived: a state-level lattice whose paths are all the paths the beam kept. Here
// the search reports each arc it offers a token (accepted or not, as long as the token lives on)
// and the recorder keeps those that can lie within lattice_beam of the best complete path:
//  - at the end of each step (a frame's tokens after the epsilon closure), an arc whose cost
//    exceeds its target token's best by more than lattice_beam is dropped (every path through it
//    is that much worse than the best path through the token);
//  - at the end, a backward pass gives each token its cheapest way to the end, and an arc is kept
//    when the cheapest complete path through it is within lattice_beam of the best one.
// A node is a token of a step: (step, slot); step 0 is the start's epsilon closure, step t + 1
// follows frame t. Where tokens of a state differ in word history or boost node (n-best,
// boosting), a token replaced by another history is a different node: its arcs are dropped.
//
// Memory grows with the utterance (a node per surviving token and step, the arcs near the best
// into each; EndStep refuses more than options.lattice_max_arcs): decode long audio in pieces,
// or stream it with endpoints.
#pragma once

#include <cstdint>
#include <vector>

#include "decoder/decode_result.h"

namespace pywfst {

class LatticeRecorder {
 public:
  void Clear();
  // The next step's tokens start at slot 0.
  void BeginStep();
  // An arc offered to token `to_slot` of this step from token `from_slot`: of the previous step
  // for an emitting arc (ilabel != 0, negated for a self-loop), of this step for an epsilon arc.
  // `graph` holds everything but the frame's acoustic cost (LM weight, insertion penalty and
  // boost applied).
  void Offer(int32_t from_slot, int32_t to_slot, Label ilabel, Label olabel, float graph,
             float acoustic);
  // The token of `slot` (this step) was replaced by one of another word history or boost node.
  void Replace(int32_t slot);
  // Ends the step; `costs` are its tokens' costs by slot, final for the step. Throws InputError
  // when more than `max_arcs` arcs are kept.
  void EndStep(const std::vector<double>& costs, double lattice_beam, int64_t max_arcs);
  // The lattice within `lattice_beam` of the best path, given each last-step token's cost to the
  // end (final weight and what else the search adds there; +inf: not an end).
  RawLattice Prune(const std::vector<double>& end_costs, double lattice_beam) const;

 private:
  struct PendingArc {
    int32_t from_slot, to_slot;
    Label ilabel, olabel;
    float graph, acoustic;
    uint32_t from_version, to_version;  // versions of the two slots when offered
    bool Emitting() const { return ilabel != 0; }  // from the previous step
  };
  uint32_t& VersionOf(int32_t slot);
  // Each node's cheapest cost to the end, given those of the last step's tokens.
  std::vector<double> CostsToEnd(const std::vector<double>& end_costs) const;

  std::vector<PendingArc> pending_;      // this step's
  std::vector<uint32_t> slot_versions_;  // this step's; a slot's token replaced: + 1
  std::vector<double> forward_;          // per node: its token's cost
  std::vector<int32_t> step_begin_;      // per step: its first node (and one past the last)
  std::vector<LatticeArc> arcs_;         // kept arcs, by step (nodes numbered globally)
  std::vector<size_t> step_arcs_begin_;  // per step: its first arc
};

}  // namespace pywfst
