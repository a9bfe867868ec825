// Built instead of backend_cuda.cc when CMake found no CUDA compiler: device="cuda" then says
// why it cannot work, and everything else (the CPU search, "cuda-sim") is unaffected.
#include "common/errors.h"
#include "cuda/backend.h"

namespace pywfst {

std::string CudaUnavailableReason(int) {
  return "this pywfst was built without CUDA (no CUDA compiler was found when it was built; "
         "install the CUDA toolkit and rebuild, e.g. pip install --no-binary pywfst pywfst)";
}

std::unique_ptr<Backend> MakeCudaBackend(int device) {
  throw UsageError(CudaUnavailableReason(device));
}

}  // namespace pywfst
