// Determinizes the state-level lattice a search kept (RawLattice) into a word lattice with one
// path per word sequence: the cheapest path the search found for it, with graph and acoustic
// costs apart and its alignment in the arcs' strings (Kaldi's CompactLattice, as its
// determinize-lattice-pruned makes it).
//
// Subset construction over the raw lattice's word arcs. A word-lattice state is a set of raw
// nodes, each with what its cheapest path there still owes beyond what the arcs so far carried
// (residual graph and acoustic cost, residual alignment); arcs without a word are followed
// inside a state. An arc out of a state carries the weight of the cheapest element it leads to
// and the part of the alignment all of them share (Kaldi's common divisor); the elements keep
// the rest. Weights compare by total cost, then graph cost, then alignment, so the result does
// not depend on the order arcs come in.
//
// A word lattice can be exponentially larger than the raw one (where the LM states of different
// word sequences do not meet again, its states are their prefixes), so states are expanded
// cheapest first (by the best complete path through them), and an element whose best way to an
// end is beyond the beam is left out of a state (Kaldi's pruned determinization). At most
// max_states are expanded besides the best path's: when that stops it early, the states left unexpanded are dropped;
// every word sequence cheaper than the first of them is complete, and WordLattice::beam says how
// far that reaches. At the end, arcs that lie on no path within the beam go (Kaldi's lattice
// pruning: a path may still combine arcs into a costlier one, as in Kaldi's lattices).
#pragma once

#include <cstdint>

#include "decoder/decode_result.h"

namespace pywfst {

WordLattice DeterminizeLattice(const RawLattice& raw, double lattice_beam, int32_t max_states);

}  // namespace pywfst
