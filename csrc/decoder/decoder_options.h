// Options of the CPU beam search, with the defaults of Kaldi's lattice decoders. The acoustic
// scale belongs to the scores (frame_scores.h), as in Kaldi's decodables.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "common/errors.h"

namespace pywfst {

struct DecoderOptions {
  // Tokens whose cost exceeds best + beam are pruned (costs are -log probabilities).
  float beam = 16.0f;
  // At most this many tokens survive a frame (the beam tightens adaptively beyond it).
  int32_t max_active = 7000;
  // At least this many tokens survive a frame when they exist (the beam widens for them).
  int32_t min_active = 200;
  // Added to an adaptive beam so that it is not exactly at a token's cost.
  float beam_delta = 0.5f;
  // Distinct word sequences to return; each state keeps this many word histories.
  int32_t nbest = 1;
  // With nbest > 1: a state keeps another word history only if it costs at most this much more
  // than the state's best token, and hypotheses costlier than the best by more are not returned
  // (Kaldi's lattice_beam plays this part in its lattices).
  float lattice_beam = 10.0f;
  // With phrase boosting: tokens a state keeps (per word history) in different boost-automaton
  // nodes, so that a partial match is not recombined away by a cheaper path before it completes.
  // 1 is fastest (a state keeps its cheapest token, whatever its node).
  int32_t boost_nodes_per_state = 4;

  void Check() const {
    if (!(beam > 0.0f) || !std::isfinite(beam))
      throw InputError(Concat("beam: must be a finite number > 0, got ", beam));
    if (max_active < 1) throw InputError(Concat("max_active: must be >= 1, got ", max_active));
    if (min_active < 0 || min_active > max_active)
      throw InputError(Concat("min_active: must be in [0, max_active=", max_active, "], got ",
                              min_active));
    if (nbest < 1 || nbest > 1000) throw InputError(Concat("nbest: must be in [1, 1000], got ", nbest));
    if (!(lattice_beam > 0.0f))
      throw InputError(Concat("lattice_beam: must be a number > 0, got ", lattice_beam));
    if (boost_nodes_per_state < 1 || boost_nodes_per_state > 64)
      throw InputError(Concat("boost_nodes_per_state: must be in [1, 64], got ",
                              boost_nodes_per_state));
    if (!(beam_delta >= 0.0f) || !std::isfinite(beam_delta))
      throw InputError(Concat("beam_delta: must be a finite number >= 0, got ", beam_delta));
  }
};

}  // namespace pywfst
