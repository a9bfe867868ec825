// Python binding of the class-slot sub-graphs (csrc/decoder/class_graph.h) and of the label
// scheme of class-slot nonterminals (csrc/fst/nonterminal.h), which the graph builder writes.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <vector>

#include "common/errors.h"
#include "decoder/class_graph.h"
#include "fst/nonterminal.h"
#include "python/bindings.h"

namespace py = pybind11;

namespace pywfst {
namespace {

// Checks that `offsets` cut `size` items into consecutive slices (the flat form Python sends).
void CheckOffsets(const std::vector<int64_t>& offsets, size_t size, const char* what) {
  bool ok = !offsets.empty() && offsets.front() == 0 &&
            offsets.back() == static_cast<int64_t>(size);
  for (size_t i = 1; ok && i < offsets.size(); ++i) ok = offsets[i - 1] <= offsets[i];
  if (!ok) throw InputError(Concat(what, ": must rise from 0 to ", size));
}

}  // namespace

void BindClassGraph(py::module_& m) {
  m.attr("MAX_CLASSES") = kMaxClasses;
  m.attr("MAX_CONTEXTS") = kMaxContexts;
  m.attr("CLASS_WORD_STRIDE") = kClassWordStride;
  m.def("enter_label", &EnterLabel, py::arg("class_index"), py::arg("context"),
        "Input label of the arc entering class slot `class_index` from topology state `context`.");
  m.def("return_label", &ReturnLabel, py::arg("context"),
        "Input label of the arc returning from a class sub-graph into topology state `context`.");

  py::class_<ClassGraph, std::shared_ptr<ClassGraph>>(m, "ClassGraph", R"doc(
The compiled sub-graph of one class slot's entries (immutable; shareable by decoders and
threads). Made by ClassCompiler.compile.
)doc")
      .def_property_readonly("num_states", [](const ClassGraph& g) { return g.Graph().NumStates(); })
      .def_property_readonly("num_arcs", [](const ClassGraph& g) {
        return g.Graph().NumEmittingArcs() + g.Graph().NumEpsilonArcs();
      })
      .def_property_readonly("num_entries", &ClassGraph::NumEntries);

  py::class_<ClassCompiler, std::shared_ptr<ClassCompiler>>(m, "ClassCompiler", R"doc(
Compiles class entries into sub-graphs for one graph's topology: T (topology.fst of the graph
directory, as a CsrGraph), the T states in which words begin and end, and the optional
word-boundary token (-1 for none).
)doc")
      .def(py::init([](const CsrGraph& topology, const std::vector<int32_t>& contexts,
                       Label optional_token) {
             return std::make_shared<ClassCompiler>(topology, contexts, optional_token);
           }),
           py::arg("topology"), py::arg("contexts"), py::arg("optional_token") = -1)
      .def(
          "compile",
          [](const ClassCompiler& compiler, const std::vector<Label>& labels,
             const std::vector<int64_t>& pronunciation_offsets,
             const std::vector<int64_t>& token_offsets, const std::vector<Label>& tokens,
             const std::vector<int64_t>& entry_offsets, const std::vector<int32_t>& entry_words,
             const std::vector<double>& costs) {
            py::gil_scoped_release release;
            CheckOffsets(token_offsets, tokens.size(), "token_offsets");
            CheckOffsets(pronunciation_offsets, token_offsets.size() - 1, "pronunciation_offsets");
            CheckOffsets(entry_offsets, entry_words.size(), "entry_offsets");
            if (pronunciation_offsets.size() != labels.size() + 1 ||
                entry_offsets.size() != costs.size() + 1)
              throw InputError("compile: one pronunciation slice per label and one word slice per "
                               "cost are needed");
            std::vector<ClassWord> words(labels.size());
            for (size_t w = 0; w < labels.size(); ++w) {
              words[w].label = labels[w];
              for (int64_t p = pronunciation_offsets[w]; p < pronunciation_offsets[w + 1]; ++p)
                words[w].pronunciations.emplace_back(tokens.begin() + token_offsets[p],
                                                     tokens.begin() + token_offsets[p + 1]);
            }
            std::vector<ClassEntry> entries(costs.size());
            for (size_t e = 0; e < costs.size(); ++e) {
              entries[e].words.assign(entry_words.begin() + entry_offsets[e],
                                      entry_words.begin() + entry_offsets[e + 1]);
              entries[e].cost = costs[e];
            }
            return std::const_pointer_cast<ClassGraph>(compiler.Compile(words, entries));
          },
          py::arg("labels"), py::arg("pronunciation_offsets"), py::arg("token_offsets"),
          py::arg("tokens"), py::arg("entry_offsets"), py::arg("entry_words"), py::arg("costs"),
          R"doc(
Compiles a class, given flat (Python objects cost more than the compilation):
word w has output label ``labels[w]`` (> 0) and the pronunciations
``pronunciation_offsets[w] .. pronunciation_offsets[w+1]``; pronunciation p is
``tokens[token_offsets[p]:token_offsets[p+1]]`` (token ids); entry e is the words
``entry_words[entry_offsets[e]:entry_offsets[e+1]]`` (indices into the words) and costs
``costs[e]`` (-log of its share of the class). Raises ValueError naming the word or entry index.
)doc");
}

}  // namespace pywfst
