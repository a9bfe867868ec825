// The CUDA backend: device memory through the CUDA runtime (linked statically, so importing the
// module needs no driver until a GPU decoder is made) and one stream per backend.
#include <cuda_runtime_api.h>

#include <new>

#include "common/errors.h"
#include "cuda/backend.h"
#include "cuda/kernels.h"

namespace pywfst {
namespace {

void Check(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw std::runtime_error(Concat("CUDA error in ", what, ": ", cudaGetErrorString(status)));
}

class CudaBackend : public Backend {
 public:
  explicit CudaBackend(int device) : device_(device) {
    Check(cudaSetDevice(device_), "cudaSetDevice");
    Check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
  }
  ~CudaBackend() override { cudaStreamDestroy(stream_); }
  std::string Name() const override { return Concat("cuda:", device_); }
  void* Allocate(size_t bytes) override {
    Select();
    void* pointer = nullptr;
    if (cudaMalloc(&pointer, bytes) != cudaSuccess) {
      cudaGetLastError();  // clear the sticky-free error state
      throw std::bad_alloc();
    }
    return pointer;
  }
  void Free(void* pointer) noexcept override { cudaFree(pointer); }
  void Upload(void* device, const void* host, size_t bytes) override {
    Check(cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice, stream_), "upload");
    Check(cudaStreamSynchronize(stream_), "upload");
  }
  void Download(void* host, const void* device, size_t bytes) override {
    Check(cudaMemcpyAsync(host, device, bytes, cudaMemcpyDeviceToHost, stream_), "download");
    Check(cudaStreamSynchronize(stream_), "download");
  }
  void CopyOnDevice(void* to, const void* from, size_t bytes) override {
    Check(cudaMemcpyAsync(to, from, bytes, cudaMemcpyDeviceToDevice, stream_), "copy");
  }
  void Fill(void* device, int byte, size_t bytes) override {
    Check(cudaMemsetAsync(device, byte, bytes, stream_), "memset");
  }
  void Run(steps::Step step, const steps::Pass& pass, int32_t num_lanes, int32_t items) override {
    Select();
    LaunchStep(step, pass, num_lanes, items, stream_);
    Check(cudaGetLastError(), "kernel launch");
  }
  size_t FreeMemory() const override {
    size_t free = 0, total = 0;
    return cudaMemGetInfo(&free, &total) == cudaSuccess ? free : 0;
  }
  bool SeparateMemory() const override { return true; }

 private:
  void Select() const { Check(cudaSetDevice(device_), "cudaSetDevice"); }
  int device_;
  cudaStream_t stream_ = nullptr;
};

}  // namespace

std::string CudaUnavailableReason(int device) {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();
    return Concat("no usable CUDA GPU: ", cudaGetErrorString(status));
  }
  if (device < 0 || device >= count)
    return Concat("cuda:", device, " does not exist (", count, " CUDA device(s))");
  return "";
}

std::unique_ptr<Backend> MakeCudaBackend(int device) {
  const std::string reason = CudaUnavailableReason(device);
  if (!reason.empty()) throw UsageError(reason);
  return std::make_unique<CudaBackend>(device);
}

}  // namespace pywfst
