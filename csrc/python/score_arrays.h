// What the decoders' bindings share: numpy score arrays as ScoreMatrix views, the score
// transform with its priors, and the Ctrl-C check for native loops.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <optional>
#include <string>

#include "decoder/beam_search.h"
#include "decoder/frame_scores.h"

namespace pywfst {

// A view of a float32 [T, V] numpy array (any strides). The caller keeps the array alive while
// the view is used. InputError naming `what` for another dtype, ndim or odd strides.
ScoreMatrix ViewScores(const pybind11::array& array, const std::string& what);

using LabelColumns = std::optional<pybind11::array_t<int32_t, pybind11::array::c_style>>;

// options.acoustic_scale, log-softmax, priors (which must have `num_columns` values) and the
// label-to-column map (entry 0 unused, every other in [0, num_columns)). The caller keeps the
// arrays alive while the transform is used.
ScoreTransform MakeTransform(
    const DecoderOptions& options, bool log_softmax,
    const std::optional<pybind11::array_t<float, pybind11::array::c_style>>& priors,
    const LabelColumns& label_columns, int64_t num_columns, const std::string& what);

// The interrupt check for native loops that run with the GIL released: Python's signal handlers
// (Ctrl-C's KeyboardInterrupt) run only on the main thread, so a call from another thread gets
// none. On the main thread it runs them at most every 20 ms, since each check must take the GIL;
// true when one raised: the exception stays set and is raised when the call returns (module.cc).
// Call with the GIL held.
InterruptCheck SignalCheck();

}  // namespace pywfst
