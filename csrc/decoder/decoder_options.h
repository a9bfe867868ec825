// Options of the decoder, each written once, in PYWFST_DECODER_OPTIONS below: its type, name,
// default, range and doc. The struct's members, Check(), the Python binding (attributes and
// DecoderOptions.specs()), Decoder's keyword arguments, its docstring and the CLI flags all come
// from that list. Defaults of the search are Kaldi's lattice decoders'.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "common/errors.h"

namespace pywfst {

// X(type, name, default, low, low_excluded, high, doc): a valid value is a number, not NaN, in
// [low, high] ((low, high] when low_excluded); +inf is valid only where high is +inf, and a float
// option's value must fit a float (a larger one becomes inf).
#define PYWFST_DECODER_OPTIONS(X)                                                               \
  X(float, beam, 16.0, 0.0, true, kAnyFinite,                                                   \
    "Prune hypotheses costlier than the best one by more than this (costs are -log probs).")     \
  X(int32_t, max_active, 7000, 1, false, kAnyInt32,                                             \
    "At most this many hypotheses survive a frame (the beam tightens adaptively beyond it).")   \
  X(int32_t, min_active, 200, 0, false, kAnyInt32,                                              \
    "At least this many hypotheses survive a frame when they exist (the beam widens for "       \
    "them); at most max_active.")                                                               \
  X(float, beam_delta, 0.5, 0.0, false, kAnyFinite,                                             \
    "Slack added to an adaptive beam, so that it is not exactly at a hypothesis' cost.")        \
  X(float, acoustic_scale, 1.0, 0.0, true, kAnyFinite,                                          \
    "Multiplies the scores before they are added to graph costs (applied to the scores, not "   \
    "by the search).")                                                                          \
  X(float, lm_weight, 1.0, 0.0, true, kAnyFinite,                                              \
    "Multiplies every graph cost (the LM's, and the lexicon's and class slots' weights) in the " \
    "search, without a rebuild: Kaldi's LMWT when acoustic_scale is 1.")                        \
  X(float, word_insertion_penalty, 0.0, -kAnyFinite, false, kAnyFinite,                        \
    "Added to the cost of every word the search outputs (positive: fewer words; Kaldi's WIP; "  \
    "flashlight's word_score is its negative).")                                                \
  X(int32_t, nbest, 1, 1, false, 1000,                                                          \
    "Distinct word sequences to return in Result.nbest (each state then keeps this many word "  \
    "histories, so decoding costs up to nbest times more).")                                    \
  X(bool, lattice, false, 0, false, 1,                                                          \
    "Keep every path within lattice_beam of the best (Kaldi's lattice decoder) for "           \
    "Result.lattice, determinized: one path per word sequence. Memory grows with the length.")  \
  X(float, lattice_beam, 10.0, 0.0, true, kUnbounded,                                            \
    "With lattice: paths costlier than the best by more are not kept. With nbest > 1: a state " \
    "keeps another word history only within this cost of its best one, and alternatives "      \
    "costlier than the best by more are not returned (lower: faster n-best).")                 \
  X(int32_t, lattice_max_states, 10000, 1, false, kAnyInt32,                                    \
    "With lattice: at most this many lattice states, made cheapest paths first (a lattice "     \
    "of many word sequences can be exponential); Result.lattice.beam tells how far it reaches.") \
  X(int32_t, lattice_max_arcs, 50000000, 1, false, kAnyInt32,                                  \
    "With lattice: at most this many arcs kept while decoding one utterance (24 bytes each; "   \
    "they grow with its length): beyond, the decode stops with an error instead of exhausting " \
    "memory. Decode long audio in segments.")                                                   \
  X(int32_t, boost_nodes_per_state, 4, 1, false, 64,                                            \
    "With phrase boosting: hypotheses a graph state keeps in different phrase-automaton nodes "  \
    "(1: fastest; a partial match may then be recombined away by a cheaper path).")

constexpr double kAnyFinite = std::numeric_limits<double>::max();
constexpr double kUnbounded = std::numeric_limits<double>::infinity();
constexpr double kAnyInt32 = std::numeric_limits<int32_t>::max();

// One option as the list gives it, for the bindings and the Python layer.
struct OptionSpec {
  std::string name;
  std::string type;  // "bool", "int" or "float"
  double default_value;
  double low;
  bool low_excluded;
  double high;
  std::string doc;

  bool Accepts(double value) const {
    return !std::isnan(value) && (low_excluded ? value > low : value >= low) && value <= high;
  }
  // "a finite number > 0", "an integer in [1, 1000]", ...
  std::string Expected() const;
};

struct DecoderOptions {
#define PYWFST_DECLARE_OPTION(type, name, default_value, low, low_excluded, high, doc) \
  type name = static_cast<type>(default_value);
  PYWFST_DECODER_OPTIONS(PYWFST_DECLARE_OPTION)
#undef PYWFST_DECLARE_OPTION

  // Every option in the list's order.
  static const std::vector<OptionSpec>& Specs();

  // Throws InputError naming the first option out of its range ("beam: must be a finite number
  // > 0, got nan"), or min_active above max_active.
  void Check() const;
};

}  // namespace pywfst
