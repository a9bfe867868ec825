#include "python/score_arrays.h"

#include <chrono>

#include "common/errors.h"

namespace py = pybind11;

namespace pywfst {

ScoreMatrix ViewScores(const py::array& array, const std::string& what) {
  // An equivalent dtype, not the same object: an array unpickled (sent to a worker process) has
  // a float32 dtype of its own.
  if (!py::array_t<float>::check_(array))
    throw InputError(Concat(what, ": dtype must be float32, got ", std::string(py::str(array.dtype()))));
  if (array.ndim() != 2)
    throw InputError(Concat(what, ": expected a 2-D [frames, columns] array, got ", array.ndim(),
                            " dimensions"));
  const auto item = static_cast<int64_t>(sizeof(float));
  if (array.strides(0) % item != 0 || array.strides(1) % item != 0)
    throw InputError(Concat(what, ": strides must be multiples of 4 bytes"));
  ScoreMatrix view;
  view.data = static_cast<const float*>(array.data());
  view.num_frames = array.shape(0);
  view.num_columns = array.shape(1);
  view.frame_stride = array.strides(0) / item;
  view.column_stride = array.strides(1) / item;
  return view;
}

ScoreTransform MakeTransform(const DecoderOptions& options, bool log_softmax,
                             const std::optional<py::array_t<float, py::array::c_style>>& priors,
                             const LabelColumns& label_columns, int64_t num_columns,
                             const std::string& what) {
  ScoreTransform transform;
  transform.acoustic_scale = options.acoustic_scale;
  transform.log_softmax = log_softmax;
  if (priors) {
    if (priors->ndim() != 1 || priors->shape(0) != num_columns)
      throw InputError(Concat("log_priors: expected ", num_columns, " values (the columns of ",
                              what, "), got shape of ", priors->size(), " values"));
    transform.log_priors = priors->data();
  }
  if (label_columns) {
    if (label_columns->ndim() != 1 || label_columns->shape(0) < 1)
      throw InputError("label_columns: expected a 1-d array (entry 0 unused)");
    const int32_t* columns = label_columns->data();
    for (py::ssize_t l = 1; l < label_columns->shape(0); ++l)
      if (columns[l] < 0 || columns[l] >= num_columns)
        throw InputError(Concat("label_columns: input label ", l, " reads column ", columns[l],
                                ", but ", what, " has ", num_columns, " columns"));
    transform.label_columns = columns;
    transform.num_labels = label_columns->shape(0) - 1;
  }
  return transform;
}

InterruptCheck SignalCheck() {
  const auto main_thread = py::module_::import("threading").attr("main_thread")().attr("ident");
  if (main_thread.cast<unsigned long>() != PyThread_get_thread_ident()) return {};
  using Clock = std::chrono::steady_clock;
  return [last = Clock::now()]() mutable {
    const Clock::time_point now = Clock::now();
    if (now - last < std::chrono::milliseconds(20)) return false;
    last = now;
    py::gil_scoped_acquire gil;
    return PyErr_CheckSignals() != 0;
  };
}

}  // namespace pywfst
