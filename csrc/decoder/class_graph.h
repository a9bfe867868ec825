// ClassGraph: the run-time sub-graph of a class slot (fst/nonterminal.h), compiled from the class
// entries when they are set, without OpenFst and without touching the main graph.
//
// It is the topology T composed with a prefix tree of the entries' token sequences, built by a
// ClassCompiler that keeps T's arcs (the bare topology the main graph was built with, as written to
// topology.fst). A state of the sub-graph is a pair (T state, tree node), so the search inside
// it follows the same CTC (or HMM) rules as in the main graph; it is entered in the T state
// (context) the main graph was in and left, at the end of an entry, in the T state reached
// there. Between the words of a multi-word entry the optional word-boundary token may appear, as
// between words of the main graph. Each entry's cost (-log of its share of the class) is pushed
// towards the root: the arc into a tree node pays what the cheapest entry below it costs beyond
// its parent. The root's children pay it all, on the entry's first token, as the static graph
// pays a term's cost on its first arc; blanks before that token cost nothing more, so a path
// waits in the sub-graph as cheaply as before entering it (paying on entry instead loses paths
// to the beam that the static graph keeps).
//
// Output words are the entry's own words, output when the sub-graph is left: the main graph's
// word ids for words it knows, labels above kClassWordStride for new ones (fst/nonterminal.h;
// the caller chooses them).
//
// A ClassGraph is immutable once built: one may serve many searches and threads at once.
#pragma once

#include <memory>
#include <vector>

#include "fst/csr_graph.h"

namespace pywfst {

// A word of a class: its output label (> 0) and its pronunciation alternatives (token ids).
struct ClassWord {
  Label label;
  std::vector<std::vector<Label>> pronunciations;
};

// An entry of a class: its words, as indices into the class's words, and its cost.
struct ClassEntry {
  std::vector<int32_t> words;
  double cost = 0.0;  // -log of the entry's share of the class
};

class ClassGraph {
 public:
  struct Exit {
    int32_t context;  // T state the entry ends in: the main graph is re-entered there
    float cost;       // what the entry still costs when it ends here
    int32_t entry;
  };

  // The sub-graph state where a search in context `context` (a T state) enters, or -1.
  StateId EntryState(int32_t context) const {
    return context >= 0 && context < static_cast<int32_t>(entry_state_.size())
               ? entry_state_[context] : -1;
  }
  // The exit of sub-graph state `s`, or null when no entry ends there.
  const Exit* ExitOf(StateId s) const { return exit_of_state_[s] >= 0 ? &exits_[exit_of_state_[s]] : nullptr; }
  // Output labels of entry `entry`'s words, as [first, last).
  std::pair<const int32_t*, const int32_t*> EntryWords(int32_t entry) const {
    return {entry_words_.data() + word_offsets_[entry], entry_words_.data() + word_offsets_[entry + 1]};
  }
  const CsrGraph& Graph() const { return *graph_; }
  int32_t NumEntries() const { return static_cast<int32_t>(word_offsets_.size()) - 1; }

 private:
  friend class ClassCompiler;
  std::unique_ptr<CsrGraph> graph_;
  std::vector<StateId> entry_state_;   // per T state
  std::vector<int32_t> exit_of_state_;  // index into exits_, -1 for none
  std::vector<Exit> exits_;
  std::vector<int32_t> entry_words_;
  std::vector<int64_t> word_offsets_;
};

// A decoder's class sub-graphs, indexed by class slot (null: the slot is empty).
using ClassGraphs = std::vector<std::shared_ptr<const ClassGraph>>;

class ClassCompiler {
 public:
  // `topology`: T with input labels = emission column + 1 and output labels = token id + 1 (its
  // other arcs, such as disambiguation loops, are ignored); `contexts`: the T states in which a
  // word may begin and end (where the main graph's T reads word-level symbols);
  // `optional_token`: a token that may stand between words (-1 for none). Throws InputError when
  // the topology has more states than kMaxContexts or a context is not one of its states.
  ClassCompiler(const CsrGraph& topology, const std::vector<int32_t>& contexts,
                Label optional_token);

  // Throws InputError naming the word or entry (by index) for a label <= 0, a word without
  // pronunciations, an empty pronunciation, a token the topology cannot read or reads without a
  // frame (an entry could then be passed in no time, around a cycle), an entry without words or
  // with a word index out of range, or a cost that is not finite; and when the topology's
  // epsilon arcs form a cycle of negative cost.
  std::shared_ptr<const ClassGraph> Compile(const std::vector<ClassWord>& words,
                                            const std::vector<ClassEntry>& entries) const;

 private:
  struct TopologyArc {
    Label ilabel;
    Label olabel;  // token id + 1, or 0
    float weight;
    StateId nextstate;
  };
  // The topology's arcs of state `t` with output label `olabel` (0: those without one).
  std::pair<const TopologyArc*, const TopologyArc*> ArcsOf(StateId t, Label olabel) const;
  // Whether an arc reads token `token` (output label token + 1) with input label 0.
  bool ReadWithoutFrame(Label token) const;

  std::vector<TopologyArc> arcs_;  // sorted by (state, output label)
  std::vector<int64_t> state_begin_;  // state t's arcs are [state_begin_[t], state_begin_[t + 1])
  std::vector<Label> frameless_labels_;  // sorted output labels of arcs with input label 0
  std::vector<StateId> contexts_;
  std::vector<bool> is_context_;
  Label optional_token_;
  Label max_token_label_ = 0;
};

}  // namespace pywfst
