// Input labels of class-slot nonterminals in a decoding graph, and output labels of class words.
//
// A graph built with class slots (pywfst build-graph --class-slot NAME) holds, where G would
// emit a word of the class, arcs that enter the class's run-time sub-graph: one per topology
// context k (the T state the search is in: for CTC, the last token read), labelled
// EnterLabel(class, k), all leading to a return state. From the return state, ReturnLabel(k)
// arcs lead back into the graph in context k: the search leaves a sub-graph through the one of
// the context the class entry ended in, so a CTC repeat across the boundary still needs its
// blank, exactly as in a graph with the words compiled in (cf. Kaldi's GrammarFst, which does the
// same for phone contexts).
//
// Labels at or above kNonterminalBase are never emission columns. A word a class sub-graph
// outputs that the main graph does not know gets the label (class + 1) * kClassWordStride + i,
// above every word id of the main graph (pywfst/class_slots.py makes these labels).
#pragma once

#include <cstdint>

#include "fst/csr_graph.h"

namespace pywfst {

constexpr Label kNonterminalBase = Label{1} << 28;
constexpr int32_t kMaxContexts = int32_t{1} << 16;
constexpr int32_t kMaxClasses = 100;
constexpr Label kClassWordStride = Label{1} << 24;  // main-graph word ids must stay below this

inline bool IsNonterminal(Label ilabel) { return ilabel >= kNonterminalBase; }
inline Label ReturnLabel(int32_t context) { return kNonterminalBase + context; }
inline Label EnterLabel(int32_t class_index, int32_t context) {
  return kNonterminalBase + (class_index + 1) * kMaxContexts + context;
}
inline bool IsReturnLabel(Label ilabel) {
  return IsNonterminal(ilabel) && ilabel < kNonterminalBase + kMaxContexts;
}
// For an enter label: the class index; the context of any nonterminal label.
inline int32_t ClassOfLabel(Label ilabel) { return (ilabel - kNonterminalBase) / kMaxContexts - 1; }
inline int32_t ContextOfLabel(Label ilabel) { return (ilabel - kNonterminalBase) % kMaxContexts; }

}  // namespace pywfst
