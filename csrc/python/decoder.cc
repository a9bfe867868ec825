// Python binding of the CPU beam search (csrc/decoder/): options, results, one-utterance and
// batched decoding. Score arrays are read in place (any strides), with the GIL released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <cstdlib>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "common/errors.h"
#include "decoder/batch_decode.h"
#include "decoder/beam_search.h"
#include "python/bindings.h"
#include "python/score_arrays.h"

namespace py = pybind11;

namespace pywfst {
namespace {

// An option as a read-write attribute. An int32 one is set from any Python int: out-of-range
// values are a ValueError naming the option (pybind11 alone would say "incompatible function
// arguments").
template <typename T, T DecoderOptions::*Field>
void BindOption(py::class_<DecoderOptions>& options, const char* name, const char* doc) {
  if constexpr (std::is_same_v<T, int32_t>) {
    options.def_property(
        name, [](const DecoderOptions& o) { return o.*Field; },
        [name](DecoderOptions& o, const py::int_& value) {
          int overflow = 0;
          const long long v = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
          if (overflow != 0 || v < std::numeric_limits<int32_t>::min() ||
              v > std::numeric_limits<int32_t>::max())
            throw InputError(Concat(name, ": ", std::string(py::str(value)),
                                    " is out of range (at most ",
                                    std::numeric_limits<int32_t>::max(), ")"));
          o.*Field = static_cast<int32_t>(v);
        },
        doc);
  } else {
    options.def_readwrite(name, Field, doc);
  }
}

// A word-lattice arc's string as emission columns (input label - 1) and, per frame, whether a
// self-loop continued the token.
py::tuple Columns(const WordArc& arc) {
  py::tuple columns(arc.alignment.size()), continues(arc.alignment.size());
  for (size_t i = 0; i < arc.alignment.size(); ++i) {
    columns[i] = std::abs(arc.alignment[i]) - 1;
    continues[i] = py::bool_(arc.alignment[i] < 0);
  }
  return py::make_tuple(columns, continues);
}

}  // namespace

void BindDecoder(py::module_& m) {
  py::class_<DecoderOptions> options(m, "DecoderOptions",
                                     "Options of the decoder (csrc/decoder/decoder_options.h).");
#define PYWFST_BIND_OPTION(type, name, default_value, low, low_excluded, high, doc) \
  BindOption<type, &DecoderOptions::name>(options, #name, doc);
  PYWFST_DECODER_OPTIONS(PYWFST_BIND_OPTION)
#undef PYWFST_BIND_OPTION
  options.def(py::init<>())
      .def("check", &DecoderOptions::Check, "Raise ValueError naming the first invalid option.")
      .def_static(
          "specs",
          [] {
            py::list specs;
            for (const OptionSpec& spec : DecoderOptions::Specs())
              specs.append(py::dict(
                  py::arg("name") = spec.name, py::arg("type") = spec.type,
                  py::arg("default") = spec.default_value, py::arg("low") = spec.low,
                  py::arg("low_excluded") = spec.low_excluded, py::arg("high") = spec.high,
                  py::arg("doc") = spec.doc, py::arg("expected") = spec.Expected()));
            return specs;
          },
          "Each option as a dict: name, type ('int' or 'float'), default, low, low_excluded,\n"
          "high, doc and expected (the range in words).");

  py::class_<Hypothesis>(m, "Hypothesis", "One path: words, frame alignment and costs.")
      .def_property_readonly("words", [](const Hypothesis& h) {
        std::vector<Label> words;
        for (const DecodedWord& w : h.words) words.push_back(w.word);
        return words;
      }, "Word ids (graph output labels).")
      .def_property_readonly("word_frames", [](const Hypothesis& h) {
        std::vector<int32_t> frames;
        for (const DecodedWord& w : h.words) frames.push_back(w.frame);
        return frames;
      }, "Frame being consumed when the search output each word.")
      .def_property_readonly("alignment", [](const Hypothesis& h) {
        std::vector<Label> columns;
        for (Label label : h.alignment) columns.push_back(label - 1);
        return columns;
      }, "Emission column (token id) the path read at each frame.")
      .def_property_readonly("continues_token", [](const Hypothesis& h) {
        return std::vector<bool>(h.continues_token.begin(), h.continues_token.end());
      }, "Per frame: True when the path took a self-loop (the previous token goes on).")
      .def_readonly("total_cost", &Hypothesis::total_cost, "Graph + acoustic cost.")
      .def_readonly("acoustic_cost", &Hypothesis::acoustic_cost, "Acoustic part of the cost.")
      .def_readonly("boost_cost", &Hypothesis::boost_cost,
                    "Phrase-boost part of the cost (negative: bonuses of completed phrases).")
      .def_property_readonly("graph_cost", &Hypothesis::graph_cost, "Graph part of the cost.");

  py::class_<WordLattice>(m, "WordLattice", R"doc(
A determinized word lattice (Kaldi's CompactLattice); state 0 is the start. arcs: (source,
target, word id, graph cost, acoustic cost, emission columns, self-loop flags); finals: (state,
graph cost, acoustic cost, emission columns, self-loop flags); beam: every path within it of
the best one is in it.
)doc")
      .def_readonly("num_states", &WordLattice::num_states)
      .def_readonly("beam", &WordLattice::beam)
      .def_property_readonly("arcs", [](const WordLattice& l) {
        py::list arcs;
        for (const WordArc& a : l.arcs)
          arcs.append(py::make_tuple(a.from, a.to, a.word, a.graph, a.acoustic) + Columns(a));
        return arcs;
      })
      .def_property_readonly("finals", [](const WordLattice& l) {
        py::list finals;
        for (const WordArc& f : l.finals)
          finals.append(py::make_tuple(f.from, f.graph, f.acoustic) + Columns(f));
        return finals;
      });

  py::class_<DecodeResult>(m, "DecodeResult", "Hypotheses of one utterance, best first.")
      .def_readonly("hypotheses", &DecodeResult::hypotheses,
                    "Distinct word sequences, cheapest first (up to options.nbest).")
      .def_readonly("reached_final", &DecodeResult::reached_final,
                    "False when no final state survived (partial paths are returned).")
      .def_readonly("num_frames", &DecodeResult::num_frames, "Frames decoded.")
      .def_property_readonly("lattice", [](const DecodeResult& r) -> std::optional<WordLattice> {
        if (r.lattice.num_states == 0) return std::nullopt;
        return r.lattice;
      }, "The WordLattice with options.lattice, else None.");

  py::class_<PhraseBoost, std::shared_ptr<PhraseBoost>>(m, "PhraseBoost", R"doc(
Aho-Corasick automaton over word ids for run-time phrase boosting; immutable, shareable.
Each phrase is (word ids, weight): its weight is subtracted from the cost of a path that
completes it; partial matches are paid per word and taken back when abandoned.
)doc")
      .def(py::init([](const std::vector<std::pair<std::vector<Label>, float>>& phrases) {
             std::vector<BoostPhrase> converted;
             converted.reserve(phrases.size());
             for (const auto& [words, weight] : phrases) converted.push_back({words, weight});
             py::gil_scoped_release release;
             return std::make_shared<PhraseBoost>(converted);
           }),
           py::arg("phrases"))
      .def_property_readonly("num_phrases", &PhraseBoost::NumPhrases, "Distinct phrases.")
      .def_property_readonly("num_nodes", &PhraseBoost::NumNodes, "Automaton nodes (root included).")
      .def("sequence_cost", &PhraseBoost::SequenceCost, py::arg("words"),
           "Cost change a path outputting these word ids gets (end of utterance included).")
      .def("outcomes", &PhraseBoost::Outcomes, py::arg("words"),
           "(best, worst): the extremes of the cost change that the matches a path is in after "
           "these word ids can still bring (taken back, or completed); the search drops a "
           "token in another node than its state's cheapest once it trails by more than that "
           "one's worst minus its best.");

  py::class_<BeamSearch>(m, "BeamSearch", R"doc(
Token-passing Viterbi beam search over a CsrGraph with Kaldi FasterDecoder's pruning.
Holds the graph (shared ownership). One decode at a time: a call from a second thread while
another runs raises RuntimeError (make one BeamSearch per thread; they share the graph).
Ctrl-C stops a decode with KeyboardInterrupt.
)doc")
      .def(py::init([](std::shared_ptr<CsrGraph> graph, const DecoderOptions& options) {
             return std::make_unique<BeamSearch>(std::move(graph), options);
           }),
           py::arg("graph"), py::arg("options"))
      .def(
          "decode",
          [](BeamSearch& search, const py::array& scores, bool log_softmax,
             const std::optional<py::array_t<float, py::array::c_style>>& log_priors,
             const LabelColumns& label_columns, std::shared_ptr<const PhraseBoost> boost,
             const ClassGraphs& classes) {
            const ScoreMatrix view = ViewScores(scores, "emissions");
            const ScoreTransform transform = MakeTransform(
                search.Options(), log_softmax, log_priors, label_columns, view.num_columns,
                "emissions");
            const InterruptCheck interrupted = SignalCheck();
            // `boost` and `classes` are held by this frame until Decode returns.
            py::gil_scoped_release release;
            return search.Decode(FrameScores(view, transform, "emissions"), boost.get(), &classes,
                                 interrupted);
          },
          py::arg("scores"), py::arg("log_softmax") = false,
          py::arg("log_priors") = py::none(), py::arg("label_columns") = py::none(),
          py::arg("boost") = py::none(), py::arg("classes") = ClassGraphs{},
          "Decode one float32 [T, V] array (log-probs, or logits with log_softmax=True); `classes`\n"
          "fill the graph's class slots by index (None: empty slot); `label_columns[l]`: the\n"
          "column input label l reads (default l - 1).");

  m.def(
      "decode_batch",
      [](std::shared_ptr<CsrGraph> graph, const DecoderOptions& options,
         const std::vector<py::array>& batch, bool log_softmax,
         const std::optional<py::array_t<float, py::array::c_style>>& log_priors,
         const LabelColumns& label_columns, int num_threads,
         std::optional<std::vector<std::string>> utterance_names,
         std::shared_ptr<const PhraseBoost> boost, const ClassGraphs& classes) {
        std::vector<std::string> names;
        if (utterance_names && utterance_names->size() != batch.size())
          throw InputError(Concat("names: ", utterance_names->size(), " names for ", batch.size(),
                                  " utterances"));
        for (size_t i = 0; i < batch.size(); ++i)
          names.push_back(utterance_names ? (*utterance_names)[i] : Concat("emissions[", i, "]"));
        std::vector<FrameScores> utterances;
        for (size_t i = 0; i < batch.size(); ++i) {
          const ScoreMatrix view = ViewScores(batch[i], names[i]);
          utterances.emplace_back(view, MakeTransform(options, log_softmax, log_priors,
                                                      label_columns, view.num_columns, names[i]),
                                  names[i].c_str());
        }
        const InterruptCheck interrupted = SignalCheck();
        py::gil_scoped_release release;
        return DecodeBatch(graph, options, utterances, num_threads, boost.get(), &classes,
                           interrupted);
      },
      py::arg("graph"), py::arg("options"), py::arg("batch"),
      py::arg("log_softmax") = false, py::arg("log_priors") = py::none(),
      py::arg("label_columns") = py::none(), py::arg("num_threads") = 0, py::arg("names") = py::none(), py::arg("boost") = py::none(),
      py::arg("classes") = ClassGraphs{},
      "Decode a list of float32 [T, V] arrays on num_threads threads (0: all cores); errors name\n"
      "the utterance by `names` (default 'emissions[i]'). Ctrl-C stops every thread.");
}

}  // namespace pywfst
