// Python binding of the batched (GPU-style) search (csrc/cuda/batch_search.h) on a CUDA GPU or
// on the CPU simulation ("cuda-sim").
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/errors.h"
#include "cuda/batch_search.h"
#include "python/bindings.h"
#include "python/score_arrays.h"

namespace py = pybind11;

namespace pywfst {
namespace {

constexpr int32_t kSimLanes = 8;
constexpr int32_t kMaxLanes = 1024;

// "cuda-sim" or "cuda:N" -> the backend.
std::shared_ptr<Backend> MakeBackend(const std::string& device) {
  if (device == "cuda-sim") return MakeSimBackend();
  if (device.rfind("cuda:", 0) == 0) {
    const std::string index = device.substr(5);
    if (!index.empty() && index.size() < 6 &&
        std::all_of(index.begin(), index.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return MakeCudaBackend(std::stoi(index));
  }
  throw InputError(Concat("device: expected 'cuda-sim' or 'cuda:N', got '", device, "'"));
}

// Lanes to use when the caller gave none: half the free GPU memory, at most kMaxLanes.
int32_t DefaultLanes(const Backend& backend, int32_t max_active) {
  const size_t free = backend.FreeMemory();
  if (free == 0) return kSimLanes;
  const size_t lanes = free / 2 / BatchSearch::LaneBytes(max_active);
  return static_cast<int32_t>(std::clamp<size_t>(lanes, 1, kMaxLanes));
}

// An utterance given as a numpy array (host memory) or as (pointer, frames, columns,
// frame stride, column stride) in elements of device memory (from __cuda_array_interface__).
LaneScores ToLaneScores(const py::handle& item, const std::string& name) {
  LaneScores scores;
  scores.name = name;
  if (py::isinstance<py::array>(item)) {
    scores.matrix = ViewScores(py::reinterpret_borrow<py::array>(item), name);
    return scores;
  }
  const auto fields = item.cast<std::tuple<uintptr_t, int64_t, int64_t, int64_t, int64_t>>();
  scores.matrix.data = reinterpret_cast<const float*>(std::get<0>(fields));
  scores.matrix.num_frames = std::get<1>(fields);
  scores.matrix.num_columns = std::get<2>(fields);
  scores.matrix.frame_stride = std::get<3>(fields);
  scores.matrix.column_stride = std::get<4>(fields);
  scores.on_device = true;
  if (scores.matrix.data == nullptr) throw InputError(Concat(name, ": null device pointer"));
  return scores;
}

}  // namespace

void BindBatchSearch(py::module_& m) {
  m.def("cuda_unavailable_reason", &CudaUnavailableReason, py::arg("device") = 0,
        "Empty when CUDA device `device` can decode, else why not (no GPU, no driver, a build "
        "without CUDA).");

  py::class_<DeviceGraph, std::shared_ptr<DeviceGraph>>(m, "DeviceGraph", R"doc(
A decoding graph uploaded to a device ('cuda:N', or host memory for 'cuda-sim'): made once per
graph and device and shared by every BatchSearch on it. Holds the CsrGraph.
)doc")
      .def(py::init([](std::shared_ptr<CsrGraph> graph, const std::string& device) {
             std::shared_ptr<Backend> backend = MakeBackend(device);
             py::gil_scoped_release release;
             return std::make_shared<DeviceGraph>(std::move(graph), std::move(backend));
           }),
           py::arg("graph"), py::arg("device"))
      .def_property_readonly("device", [](const DeviceGraph& g) { return g.GetBackend()->Name(); });

  py::class_<BatchSearch, std::shared_ptr<BatchSearch>>(m, "BatchSearch", R"doc(
The batched GPU search (lanes of utterances decoded side by side, frame-parallel relaxation with
atomic-min hash maps) over a DeviceGraph: on a CUDA device or simulated on the CPU ('cuda-sim',
for testing: the same algorithm, one thread). 1-best only; holds its graph. One call at a time
(RuntimeError from a second thread). Ctrl-C raises KeyboardInterrupt.
)doc")
      .def(py::init([](std::shared_ptr<DeviceGraph> graph, const DecoderOptions& options,
                       int32_t lanes) {
             if (lanes < 0 || lanes > kMaxLanes)
               throw InputError(Concat("lanes: must be in [1, ", kMaxLanes, "] (0: default), got ",
                                       lanes));
             const int32_t num_lanes =
                 lanes > 0 ? lanes : DefaultLanes(*graph->GetBackend(), options.max_active);
             py::gil_scoped_release release;
             return std::make_shared<BatchSearch>(std::move(graph), options, num_lanes);
           }),
           py::arg("graph"), py::arg("options"), py::arg("lanes") = 0)
      .def_property_readonly("lanes", &BatchSearch::NumLanes, "Utterances decoded side by side.")
      .def_property_readonly("capacity", &BatchSearch::Capacity,
                             "Tokens one lane can hold in a frame (a power of two >= 4 max_active).")
      .def(
          "decode_batch",
          [](BatchSearch& search, const py::list& batch, const std::vector<std::string>& names,
             bool log_softmax,
             const std::optional<py::array_t<float, py::array::c_style>>& log_priors) {
            if (names.size() != batch.size())
              throw InputError(Concat("names: ", names.size(), " names for ", batch.size(),
                                      " utterances"));
            std::vector<LaneScores> utterances;
            for (size_t i = 0; i < batch.size(); ++i) utterances.push_back(ToLaneScores(batch[i], names[i]));
            ScoreTransform transform = MakeTransform(search.Options(), log_softmax, std::nullopt, std::nullopt, 0, "");
            for (const LaneScores& u : utterances)  // the priors cover every utterance's columns
              transform = MakeTransform(search.Options(), log_softmax, log_priors, std::nullopt,
                                        u.matrix.num_columns, u.name);
            const InterruptCheck interrupted = SignalCheck();
            py::gil_scoped_release release;
            return search.Decode(utterances, transform, interrupted);
          },
          py::arg("batch"), py::arg("names"), py::arg("log_softmax") = false, py::arg("log_priors") = py::none(),
          "Decode a list of utterances: float32 [T, V] numpy arrays, or device arrays as\n"
          "(pointer, frames, columns, frame stride, column stride) tuples (elements). Results in\n"
          "order; errors name the utterance by `names`.");
}

}  // namespace pywfst
