// Python binding of the class-slot sub-graphs (csrc/decoder/class_graph.h) and of the label
// scheme of class-slot nonterminals (csrc/fst/nonterminal.h), which the graph builder writes.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <vector>

#include "decoder/class_graph.h"
#include "fst/nonterminal.h"
#include "python/bindings.h"

namespace py = pybind11;

namespace pywfst {

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
      .def(py::init([](std::shared_ptr<CsrGraph> topology, const std::vector<int32_t>& contexts,
                       Label optional_token) {
             return std::make_shared<ClassCompiler>(std::move(topology), contexts, optional_token);
           }),
           py::arg("topology"), py::arg("contexts"), py::arg("optional_token") = -1)
      .def(
          "compile",
          [](const ClassCompiler& compiler, const py::list& entries) {
            // (output labels, per-word pronunciation alternatives, cost) per entry.
            std::vector<ClassEntry> converted;
            converted.reserve(entries.size());
            for (const py::handle& item : entries) {
              const auto [words, pronunciations, cost] =
                  item.cast<std::tuple<std::vector<Label>,
                                       std::vector<std::vector<std::vector<Label>>>, double>>();
              converted.push_back({words, pronunciations, cost});
            }
            py::gil_scoped_release release;
            return std::const_pointer_cast<ClassGraph>(compiler.Compile(converted));
          },
          py::arg("entries"), R"doc(
Compiles entries, each ``(word_labels, pronunciations, cost)``: the output labels of the
entry's words (> 0), per word a list of token-id sequences, and -log of the entry's share of
the class.
Raises ValueError naming the entry index for malformed entries.
)doc");
}

}  // namespace pywfst
