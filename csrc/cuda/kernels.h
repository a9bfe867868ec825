// Host-callable launcher of the batched search's steps on a GPU (defined in kernels.cu, the only
// file with __global__ code). Host code includes this header, never the kernels.
#pragma once

#include <cstdint>

#include "cuda/frame_steps.h"

namespace pywfst {

// Launches `step` over lanes x items on `stream` (a cudaStream_t) without waiting for it.
void LaunchStep(steps::Step step, const steps::Pass& pass, int32_t num_lanes, int32_t items,
                void* stream);

}  // namespace pywfst
