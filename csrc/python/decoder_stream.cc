// Python binding of DecoderStream (csrc/decoder/decoder_stream.h): streaming decoding.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "decoder/decoder_stream.h"
#include "python/bindings.h"
#include "python/score_arrays.h"

namespace py = pybind11;

namespace pywfst {

void BindDecoderStream(py::module_& m) {
  py::class_<DecoderStream>(m, "DecoderStream", R"doc(
Decodes utterance after utterance as score chunks arrive; finish() gives exactly what
BeamSearch.decode of the whole utterance gives, then starts the next one. Holds the graph, boost
and class sub-graphs. One call at a time (RuntimeError from a second thread).
)doc")
      .def(py::init([](std::shared_ptr<CsrGraph> graph, const DecoderOptions& options,
                       int64_t num_columns, bool log_softmax,
                       const std::optional<py::array_t<float, py::array::c_style>>& log_priors,
                       const LabelColumns& label_columns,
                       std::shared_ptr<const PhraseBoost> boost, const ClassGraphs& classes,
                       const std::string& what) {
             const ScoreTransform transform = MakeTransform(options, log_softmax, log_priors,
                                                            label_columns, num_columns, what);
             return std::make_unique<DecoderStream>(std::move(graph), options, num_columns,
                                                    transform, std::move(boost), classes, what);
           }),
           py::arg("graph"), py::arg("options"), py::arg("num_columns"),
           py::arg("log_softmax") = false,
           py::arg("log_priors") = py::none(), py::arg("label_columns") = py::none(),
           py::arg("boost") = py::none(), py::arg("classes") = ClassGraphs{},
           py::arg("what") = "chunk")
      .def(
          "accept",
          [](DecoderStream& stream, const py::array& chunk, const std::string& what) {
            const ScoreMatrix view = ViewScores(chunk, what);
            const InterruptCheck interrupted = SignalCheck();
            py::gil_scoped_release release;
            stream.Accept(view, interrupted);
          },
          py::arg("chunk"), py::arg("what") = "chunk",
          "Append a float32 [t, V] chunk and decode it (the GIL is released).")
      .def("partial_words", &DecoderStream::PartialWords,
           "Word ids of the cheapest path so far (no final weights).")
      .def(
          "endpoint",
          [](const DecoderStream& stream, std::vector<Label> silence) {
            std::sort(silence.begin(), silence.end());
            const BeamSearch::EndpointState state = stream.Endpoint(silence);
            return py::make_tuple(state.trailing_silence_frames, state.contains_nonsilence,
                                  state.relative_cost);
          },
          py::arg("silence"),
          "(trailing frames reading only `silence` input labels, whether the path read any\n"
          "other, best final cost - best cost) of the cheapest path so far.")
      .def_property_readonly("frames_decoded", &DecoderStream::FramesDecoded,
                             "Frames of the current utterance decoded so far.")
      .def(
          "finish",
          [](DecoderStream& stream) {
            py::gil_scoped_release release;
            return stream.Finish();
          },
          "The utterance's DecodeResult; the stream then starts the next utterance.");
}

}  // namespace pywfst
