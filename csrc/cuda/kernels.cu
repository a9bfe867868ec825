// The batched search's steps as CUDA kernels: one grid per step, lanes on grid.y, items on
// threads (grid-stride), each thread running the step's body (frame_steps.h).
#include <cuda_runtime.h>

#include "cuda/kernels.h"

namespace pywfst {
namespace {

constexpr int kThreads = 256;

template <typename Body>
__global__ void StepKernel(Body body, steps::Pass pass, int32_t items) {
  const int32_t lane = static_cast<int32_t>(blockIdx.y);
  for (int32_t item = blockIdx.x * blockDim.x + threadIdx.x; item < items;
       item += gridDim.x * blockDim.x)
    body(pass, lane, item);
}

}  // namespace

void LaunchStep(steps::Step step, const steps::Pass& pass, int32_t num_lanes, int32_t items,
                void* stream) {
  const int32_t blocks = (items + kThreads - 1) / kThreads < 1024 ? (items + kThreads - 1) / kThreads
                                                                  : 1024;
  const dim3 grid(blocks, static_cast<unsigned>(num_lanes));
  steps::Dispatch(step, [&](auto body) {
    StepKernel<<<grid, kThreads, 0, static_cast<cudaStream_t>(stream)>>>(body, pass, items);
  });
}

}  // namespace pywfst
