// Python binding of CsrGraph (csrc/fst/csr_graph.h), its OpenFst reader (csrc/fst/fst_reader.h)
// and its mapped file (csrc/fst/mapped_graph.h).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <cerrno>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "common/errors.h"
#include "fst/compose.h"
#include "fst/csr_graph.h"
#include "fst/determinize_star.h"
#include "fst/fst_reader.h"
#include "fst/fst_writer.h"
#include "fst/mapped_graph.h"
#include "fst/minimize.h"
#include "python/bindings.h"
#include "python/score_arrays.h"

namespace py = pybind11;

namespace pywfst {

namespace {

StateId CheckState(const CsrGraph& g, int64_t s) {
  if (s < 0 || s >= g.NumStates()) {
    throw py::index_error(Concat("state ", s, " is out of range [0, ", g.NumStates(), ")"));
  }
  return static_cast<StateId>(s);
}

// FileNotFoundError (an OSError) with errno and filename set, as open() raises, when `path` does
// not exist.
void RaiseIfMissing(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && !ec) {
    errno = ENOENT;
    PyErr_SetFromErrnoWithFilename(PyExc_OSError, path.string().c_str());
    throw py::error_already_set();
  }
}

// (size, mtime in ns) as Python passes a source stamp.
using Stamp = std::pair<int64_t, int64_t>;

// Python sees a const graph as mutable; safe: the Python type exposes const methods only.
std::shared_ptr<CsrGraph> ForPython(std::shared_ptr<const CsrGraph> graph) {
  return std::const_pointer_cast<CsrGraph>(std::move(graph));
}

}  // namespace

void BindGraph(py::module_& m) {
  // Python holds CsrGraph through std::shared_ptr, so a decoder that copies the pointer keeps the
  // graph alive after Python drops it. Only const methods are bound: the object never changes.
  py::class_<CsrGraph, std::shared_ptr<CsrGraph>>(m, "CsrGraph", R"doc(
A read-only decoding graph in compressed-sparse-row form.

Arcs of each state are split into emitting arcs (input label > 0; input label = token id + 1)
and epsilon arcs (input label 0). Weights are tropical costs (-log prob); a non-final state has
final weight +inf. Build one with ``CsrGraph.load(path)``.
)doc")
      .def_static(
          "load",
          [](const std::filesystem::path& path) {
            RaiseIfMissing(path);
            py::gil_scoped_release release;
            return ForPython(ReadFstFile(path.string()));
          },
          py::arg("path"), R"doc(
Reads an OpenFst binary file: FST type "vector" or "const", arc type "standard" (tropical,
float weights), with or without symbol tables (they are ignored). Kaldi's HCLG.fst loads.
The GIL is released while the file is read.

Raises FileNotFoundError / OSError when the file cannot be read, and ValueError (naming the
file) when it is not a supported, well-formed OpenFst file: wrong magic number, other FST or arc
type, truncated data, impossible counts, NaN or -inf weights, arcs to missing states, no states.
A graph with an epsilon cycle of negative cost loads, but decoders refuse it
(``negative_epsilon_cycle`` says where it is).
)doc")
      .def_static(
          "map",
          [](const std::filesystem::path& path, std::optional<Stamp> source) {
            RaiseIfMissing(path);
            const SourceStamp stamp{source ? source->first : 0, source ? source->second : 0};
            py::gil_scoped_release release;
            return ForPython(MapGraphFile(path.string(), source ? &stamp : nullptr));
          },
          py::arg("path"), py::arg("source") = py::none(), R"doc(
Maps a graph file written by ``write_mapped`` into memory (shared, read-only): processes that
map the same file share one copy of the graph. Every field is checked first (header, sizes,
checksum, ranges, labels, next states, weights), as ``load`` checks an OpenFst file. The GIL is
released meanwhile.

``source``, a ``(size, mtime_ns)`` pair: the file must have been written from a source with
that size and modification time (``os.stat``'s ``st_size``, ``st_mtime_ns``), else
``StaleGraphError`` (a ValueError); so it is too when the file is of another format version or
byte order. Raises FileNotFoundError / OSError when the file cannot be read or mapped, and
ValueError naming the file when it is corrupt or truncated.
)doc")
      .def(
          "write_mapped",
          [](const CsrGraph& g, const std::filesystem::path& path, Stamp source) {
            py::gil_scoped_release release;
            WriteMappedGraph(g, path.string(), SourceStamp{source.first, source.second});
          },
          py::arg("path"), py::arg("source"), R"doc(
Writes the graph as a file that ``CsrGraph.map`` maps, recording ``source``, the
``(size, mtime_ns)`` of the file the graph was read from. Written to a temporary file beside
``path`` and renamed over it, so readers never see a partial file. OSError when it cannot be
written. The GIL is released meanwhile.
)doc")
      .def(
          "write_fst",
          [](const CsrGraph& g, const std::filesystem::path& path) {
            py::gil_scoped_release release;
            WriteFstFile(g, path.string());
          },
          py::arg("path"), R"doc(
Writes the graph as an OpenFst binary file (a "vector" FST of "standard" arcs, no symbol
tables), which ``load``, OpenFst, pywrapfst, kaldifst and Kaldi's tools read. Each state's
arcs are written emitting first, then epsilon. Atomic (written beside ``path`` and renamed).
OSError when it cannot be written. The GIL is released meanwhile.
)doc")
      .def_property_readonly("mapped", &CsrGraph::Mapped,
                             "True when the arrays live in a mapped graph file (shared between "
                             "processes), False when the graph holds them in memory of its own.")
      .def_property_readonly("num_states", &CsrGraph::NumStates, "Number of states.")
      .def_property_readonly("start", &CsrGraph::Start, "The start state.")
      .def_property_readonly("num_emitting_arcs", &CsrGraph::NumEmittingArcs,
                             "Number of arcs with an input label > 0.")
      .def_property_readonly("num_epsilon_arcs", &CsrGraph::NumEpsilonArcs,
                             "Number of arcs with input label 0.")
      .def_property_readonly("num_nonterminal_arcs", &CsrGraph::NumNonterminalArcs,
                             "Number of class-slot arcs (input label >= 2**28).")
      .def_property_readonly("num_arcs",
                             [](const CsrGraph& g) {
                               return g.NumEmittingArcs() + g.NumEpsilonArcs() +
                                      g.NumNonterminalArcs();
                             },
                             "Total number of arcs.")
      .def_property_readonly("max_input_label", &CsrGraph::MaxInputLabel,
                             "Largest input label (0 if there is none). Emissions need at least "
                             "this many columns (input label = token id + 1).")
      .def_property_readonly("max_output_label", &CsrGraph::MaxOutputLabel,
                             "Largest output label (0 if there is none).")
      .def_property_readonly("negative_epsilon_cycle", &CsrGraph::NegativeEpsilonCycle,
                             "Empty, or where an epsilon cycle of negative cost is (decoders "
                             "refuse such a graph: the search would never end).")
      .def("output_labels",
           [](const CsrGraph& g) {
             const std::vector<Label> labels = g.OutputLabels();
             return py::array_t<Label>(static_cast<py::ssize_t>(labels.size()), labels.data());
           },
           "The distinct output labels (word ids) > 0 on any arc, ascending, as an int32 array.")
      .def_property_readonly("memory_bytes", &CsrGraph::MemoryBytes,
                             "Bytes held by the graph's arrays.")
      .def(
          "final",
          [](const CsrGraph& g, int64_t s) { return g.Final(CheckState(g, s)); }, py::arg("state"),
          "Final weight of ``state`` (+inf when not final). IndexError when out of range.")
      .def(
          "arcs",
          [](const CsrGraph& g, int64_t s) {
            const StateId state = CheckState(g, s);
            const ArcRange emitting = g.EmittingArcs(state), epsilon = g.EpsilonArcs(state),
                           nonterminal = g.NonterminalArcs(state);
            py::list out(emitting.size() + epsilon.size() + nonterminal.size());
            size_t i = 0;
            for (const ArcRange& range : {emitting, epsilon, nonterminal}) {
              for (const GraphArc& a : range) {
                out[i++] = py::make_tuple(a.ilabel, a.olabel, a.weight, a.nextstate);
              }
            }
            return out;
          },
          py::arg("state"), R"doc(
Arcs leaving ``state`` as ``(ilabel, olabel, weight, nextstate)`` tuples: emitting arcs first,
then epsilon arcs, each group in file order, then class-slot arcs by label. IndexError when
``state`` is out of range.
)doc")
      .def("__repr__", [](const CsrGraph& g) {
        return Concat("<pywfst._core.CsrGraph: ", g.NumStates(), " states, ", g.NumEmittingArcs(),
                      " emitting + ", g.NumEpsilonArcs(), " epsilon arcs, start ", g.Start(), ">");
      });

  m.def(
      "compose",
      [](std::shared_ptr<CsrGraph> left, std::shared_ptr<CsrGraph> right) {
        const InterruptCheck interrupted = SignalCheck();
        py::gil_scoped_release release;
        return ForPython(Compose(*left, *right, "composition", interrupted));
      },
      py::arg("left"), py::arg("right"), R"doc(
``left`` ∘ ``right`` (L ∘ G, T ∘ LG) as a new in-memory graph: the states and arcs OpenFst's
composition (with its sequence filter) gives, numbered breadth-first (csrc/fst/compose.h). The
GIL is released meanwhile; Ctrl-C raises KeyboardInterrupt.
)doc");

  m.def(
      "determinize_star",
      [](std::shared_ptr<CsrGraph> graph, float delta) {
        const InterruptCheck interrupted = SignalCheck();
        py::gil_scoped_release release;
        return ForPython(DeterminizeStar(*graph, delta, "determinized graph", interrupted));
      },
      py::arg("graph"), py::arg("delta"), R"doc(
Epsilon removal and determinization of a functional ``graph`` in one pass, as Kaldi's
``fstdeterminizestar`` does it (csrc/fst/determinize_star.h): the same states, numbered the same
way, and the same arcs; subsets whose weights differ by at most ``delta`` are one state.
ValueError when ``graph`` is not functional. The GIL is released meanwhile; Ctrl-C raises
KeyboardInterrupt (a graph that cannot be determinized never ends otherwise).
)doc");

  m.def(
      "minimize_encoded",
      [](std::shared_ptr<CsrGraph> graph, float delta) {
        const InterruptCheck interrupted = SignalCheck();
        py::gil_scoped_release release;
        return ForPython(MinimizeEncoded(*graph, delta, "minimized graph", interrupted));
      },
      py::arg("graph"), py::arg("delta"), R"doc(
The minimal graph of a deterministic ``graph`` as Kaldi's ``fstminimizeencoded`` makes it:
weights quantized to multiples of ``delta``, then each arc's (input, output, weight) read as one
letter and each state's final weight as part of what it accepts (csrc/fst/minimize.h). States
are numbered breadth-first from the start. ValueError when a state has two arcs with the same
letter. The GIL is released meanwhile; Ctrl-C raises KeyboardInterrupt.
)doc");
}

}  // namespace pywfst
