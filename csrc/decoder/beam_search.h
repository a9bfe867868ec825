// BeamSearch: token-passing Viterbi beam search over a CsrGraph (one utterance at a time).
//
// The pruning follows Kaldi's FasterDecoder (src/decoder/faster-decoder.cc) step for step, so
// that both find the same best path on the same graph and scores: a cutoff of best + beam,
// tightened when more than max_active tokens survive and widened to keep min_active (found with
// nth_element), a first bound for the next frame from the best token's arcs, and an epsilon
// closure with a LIFO queue after every frame.
//
// N-best: with options.nbest = n > 1 each state keeps up to n tokens with distinct word
// histories (Schwartz & Chow 1990, "word-dependent N-best"). Without pruning this is exact: a
// word sequence outside the n best histories at some state on its path is beaten by n others
// that share its continuation. With n = 1 it is plain Viterbi, identical to FasterDecoder.
//
// Memory layout: tokens live in two flat arrays (this frame, next frame) reached through a
// state -> first-token map (a hash table sized to the frame's states, emptied per frame:
// state_slot_map.h); the traceback is a per-utterance arena of path records, written once per
// surviving token and frame and compacted when it grows, so steady-state decoding allocates
// nothing. A call without n-best, lattice or filled class slots relaxes through RelaxSimple (a
// token per state, or per boost node), which writes tokens in place; the others through Relax.
//
// Phrase boosting: Decode() may take a PhraseBoost. A token then also carries its automaton node,
// its cost includes the bonuses so far, and a state keeps up to options.boost_nodes_per_state
// tokens with different nodes (nbest each), so a partial match does not lose to an unboosted path
// before it can complete. At the end the pending bonus of each token is taken back.
//
// Lattices: with options.lattice, every arc offered to a token that lives on is reported to a
// LatticeRecorder (lattice_recorder.h), which gives DecodeResult::lattice at the end.
//
// Class slots: Decode() may take the run-time sub-graphs of the graph's class slots
// (class_graph.h, fst/nonterminal.h). A token then lives either in the main graph or in one
// sub-graph (`graph`), where it also remembers the main-graph state to return through
// (`return_state`); tokens of a sub-graph state with different return states never recombine.
// Entering and leaving happen in the epsilon closure.
//
// Ownership: a BeamSearch holds a shared_ptr to its graph, so the graph lives as long as any
// search using it. One BeamSearch serves one Decode() at a time: a second thread entering it
// meanwhile gets a UsageError (its state is never shared); create one per thread (they are
// cheap, and share the graph).
//
// Interruption: Decode() may take a check that it calls every kInterruptInterval frames; when the
// check returns true the search stops and throws Interrupted (Ctrl-C from Python, or a batch whose
// other utterance failed).
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "common/errors.h"
#include "decoder/class_graph.h"
#include "decoder/decode_result.h"
#include "decoder/decoder_options.h"
#include "decoder/frame_scores.h"
#include "decoder/lattice_recorder.h"
#include "decoder/phrase_boost.h"
#include "decoder/state_slot_map.h"
#include "fst/csr_graph.h"

namespace pywfst {

class BeamSearch {
 public:
  // Frames decoded between two calls of the interrupt check.
  static constexpr int64_t kInterruptInterval = 16;

  BeamSearch(std::shared_ptr<const CsrGraph> graph, const DecoderOptions& options);
  const DecoderOptions& Options() const { return options_; }

  // Decodes all frames, with `boost` (may be null; used only during the call) applied to the
  // words and `classes` (may be null; element i, when not null, fills the graph's class slot i)
  // entered where the graph has class slots. Throws InputError when the scores have fewer
  // columns than the graph's (or a class's) largest input label, or hold NaN / +inf; throws
  // Interrupted when `interrupted` (may be empty) returns true, and UsageError when another
  // thread is inside a call of this object.
  DecodeResult Decode(const ScoreSource& scores, const PhraseBoost* boost = nullptr,
                      const ClassGraphs* classes = nullptr,
                      const InterruptCheck& interrupted = {});

  // The same search over several calls (streaming): Start(), then Advance() as frames arrive,
  // then Finish(), which gives what Decode() of all the frames gives. `boost` and `classes`
  // must stay alive until Finish() (or the next Start()).
  void Start(int64_t num_columns, const PhraseBoost* boost = nullptr,
             const ClassGraphs* classes = nullptr);
  // Decodes the frames of `scores` not decoded yet (all NumFramesReady()).
  void Advance(const ScoreSource& scores, const InterruptCheck& interrupted = {});
  DecodeResult Finish();
  int64_t FramesDecoded() const { return frames_decoded_; }
  // The words of the cheapest path so far (no final weights), without its alignment.
  std::vector<Label> PartialWords() const;
  // What endpoint rules look at (Kaldi's online endpointing): the frames at the end of the
  // cheapest path that read only `silence` input labels (sorted), whether it read any other
  // label, and the best final cost minus the best cost (+inf when no final state is reached).
  struct EndpointState {
    int64_t trailing_silence_frames = 0;
    bool contains_nonsilence = false;
    double relative_cost = 0.0;
  };
  EndpointState Endpoint(const std::vector<Label>& silence) const;

 private:
  struct Token {
    StateId state;
    int32_t record;        // last path record of the token's path, -1 for none
    double cost;           // total cost so far (its acoustic part is summed at traceback)
    uint64_t history;      // hash of the word sequence so far
    PhraseBoost::Node boost_node;  // phrase-boost automaton node (0 without boosting)
    int32_t next;          // next token of the same state (n-best), -1 for none
    // This frame's step, not yet in the record arena (a record per surviving token is written
    // at the end of the frame, not one per relaxation): ilabel (negated for a self-loop) and
    // olabel, both 0 when there is none.
    Label pending_ilabel;
    Label pending_olabel;
    int32_t graph;         // 0: the main graph; c + 1: the sub-graph of class slot c
    StateId return_state;  // in a sub-graph: the main-graph state to leave through; else -1
  };
  // One step of a path that consumed a frame (ilabel != 0) or output a word (olabel > 0).
  // ilabel is negated when the arc was a self-loop: the frame continues the previous token.
  struct PathRecord {
    int32_t previous;
    Label ilabel;
    Label olabel;
    float acoustic;  // the frame's acoustic cost (0 without ilabel): no frame is read twice
  };

  void InitDecoding();
  const CsrGraph& GraphOf(int32_t graph) const {
    return graph == 0 ? *graph_ : (*classes_)[graph - 1]->Graph();
  }
  // The state -> first-token map of the main graph (0) or of a class sub-graph (c + 1).
  int32_t& SlotOf(int32_t graph, StateId state) {
    return graph == 0 ? slot_of_state_[state] : class_slots_[graph - 1][state];
  }
  // A word output on a path: extends its history (n-best) and phrase-boost node and cost.
  void StepWord(Label word, uint64_t* history, PhraseBoost::Node* boost_node, double* cost) const;
  // The epsilon-closure moves into a class sub-graph (through a nonterminal arc of the main
  // graph) and out of one (when `token` is where an entry ends); queue what they relax.
  void EnterClass(Token token, const GraphArc& arc, double cutoff);
  void LeaveClass(Token token, const ClassGraph::Exit& exit, double cutoff);
  // Kaldi's GetCutoff over previous_tokens_: the pruning threshold and the beam that goes with it.
  double Cutoff(float* adaptive_beam, int32_t* best_slot);
  // Expands the emitting arcs of the previous frame's tokens into tokens_; returns the cutoff
  // for the epsilon closure.
  double ProcessEmitting(const std::vector<float>& costs);
  // Which Relax the loops call: RelaxSimple where a call has no n-best, lattice or filled class
  // slot (with or without a boost), Relax otherwise.
  enum class SearchPath { kGeneral, kViterbi, kBoosted };
  template <bool kWeighted, SearchPath kPath>
  double ExpandEmitting(const std::vector<float>& costs);
  // Epsilon closure of tokens_ under `cutoff`.
  void ProcessNonemitting(double cutoff);
  template <bool kWeighted, SearchPath kPath>
  void CloseEpsilon(double cutoff);
  // Offers `from` extended by `arc` (null for the start token) to `arc`'s state in tokens_: it
  // replaces the token with the same word history when cheaper, else takes a free place (fewer
  // than nbest tokens) or the place of the costliest one. Returns the slot used, or -1.
  // `from_slot`: `from`'s slot (in previous_tokens_ for an emitting arc, else in tokens_; -1:
  // none), `acoustic`: the frame's acoustic cost in `cost`; both for the lattice only.
  int32_t Relax(const Token& from, const GraphArc* arc, double cost, bool self_loop,
                int32_t from_slot = -1, float acoustic = 0.0f);
  // Reports to the lattice, when there is one, that `from` offered `cost` to the token in
  // `to_slot` through `arc` (its ilabel negated for a self-loop, as in path records). Inline:
  // without a lattice it is one branch in the hot loop.
  void OfferToLattice(const Token& from, int32_t from_slot, const GraphArc* arc, double cost,
                      float acoustic, bool self_loop, int32_t to_slot) {
    if (options_.lattice && from_slot >= 0 && arc != nullptr)
      RecordOffer(from, from_slot, *arc, cost, acoustic, self_loop, to_slot);
  }
  // Where a token of `cost` with this word history, boost node and return state goes among the
  // tokens of a state (from `head`): the same one's place if it is cheaper (kept when not: then
  // `slot` is that token's, for the lattice), else a free place (slot -1, fewer than `capacity`
  // others) or the costliest other's (`evicts`); rejected beyond lattice_beam of the cheapest,
  // or, in another boost node, beyond the catch-up margin from it.
  struct Place {
    int32_t slot;
    bool rejected;
    bool evicts;
  };
  Place PlaceAmong(int32_t head, uint64_t history, PhraseBoost::Node boost_node,
                   StateId return_state, double cost, int32_t capacity) const;
  // Relax() where every token is in the main graph and a state keeps one token (kBoosted: one
  // per boost node, as Relax() keeps them), written in place; `from` steps to `arc`'s state with
  // `pending_ilabel` as its step's input. Returns the slot used, or -1.
  template <bool kBoosted>
  int32_t RelaxSimple(const Token& from, const GraphArc& arc, double cost, Label pending_ilabel);
  void RecordOffer(const Token& from, int32_t from_slot, const GraphArc& arc, double cost,
                   float acoustic, bool self_loop, int32_t to_slot);
  // Ends a lattice step with tokens_ as they stand.
  void EndLatticeStep();
  // An arc's graph cost as the options weigh it: lm_weight times its weight, plus the word
  // insertion penalty when it outputs a word. Without weights (the defaults) the weight itself:
  // the hot loops are instantiated for both, so that the defaults cost nothing.
  template <bool kWeighted = true>
  double ArcCost(const GraphArc& arc) const {
    if constexpr (!kWeighted) return arc.weight;
    return static_cast<double>(options_.lm_weight) * arc.weight +
           (arc.olabel != 0 ? options_.word_insertion_penalty : 0.0);
  }
  bool Weighted() const {
    return options_.lm_weight != 1.0f || options_.word_insertion_penalty != 0.0f;
  }
  double FinalCost(StateId state) const {
    return static_cast<double>(options_.lm_weight) * graph_->Final(state);
  }
  // Writes `token`'s pending step as a path record; `costs` are the acoustic costs of the frame
  // the step read (this frame's unless said otherwise).
  void Commit(Token* token, const float* costs);
  void Commit(Token* token) { Commit(token, frame_costs_.data()); }
  // Drops path records no live token reaches (the arena otherwise grows with the utterance).
  void CompactRecords();
  // Refuses a second thread while one is inside a call (UsageError); released on return.
  class ExclusiveUse {
   public:
    explicit ExclusiveUse(BeamSearch* search);
    ~ExclusiveUse();

   private:
    BeamSearch* search_;
  };
  void Begin(int64_t num_columns, const PhraseBoost* boost, const ClassGraphs* classes);
  void AdvanceFrames(const ScoreSource& scores, const InterruptCheck& interrupted);
  // The best distinct word sequences among the last frame's tokens (ends the utterance).
  DecodeResult Hypotheses();
  Hypothesis Traceback(const Token& token, double total_cost) const;
  // Slot of the cheapest token (pending boost taken back), -1 when there is none.
  int32_t BestSlot() const;

  std::shared_ptr<const CsrGraph> graph_;
  DecoderOptions options_;
  const PhraseBoost* boost_ = nullptr;  // during Decode() only
  const ClassGraphs* classes_ = nullptr;  // during Decode() only
  bool has_class_slots_ = false;  // the graph has nonterminal arcs (spares a bitset lookup)
  SearchPath path_ = SearchPath::kGeneral;  // this call's

  std::vector<Token> tokens_;           // current frame
  std::vector<Token> previous_tokens_;  // frame being expanded
  StateSlotMap slot_of_state_;  // first token of a state in tokens_, -1 for none
  std::vector<std::vector<int32_t>> class_slots_;  // the same per class sub-graph
  std::vector<PathRecord> records_;
  LatticeRecorder lattice_;  // with options_.lattice
  std::vector<int32_t> queue_;
  std::vector<int32_t> survivors_;      // slots of previous_tokens_ within the cutoff
  std::vector<double> lattice_costs_;   // the token costs the lattice prunes with
  std::vector<float> rounded_costs_;    // for nth_element in Cutoff(), as Kaldi rounds them
  std::vector<float> frame_costs_;           // this frame's, by input label
  std::vector<float> previous_frame_costs_;  // the previous frame's (for its tokens' records)
  std::vector<int32_t> compaction_scratch_;
  size_t records_after_compaction_ = 0;
  int64_t frames_decoded_ = 0;
  std::atomic<bool> in_use_{false};  // a Decode() is running
};

}  // namespace pywfst
