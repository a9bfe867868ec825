// Backend: where the batched search's memory lives and how its steps run. Two implement it: the
// CPU ("cuda-sim": host memory, each step a plain loop; backend_sim.cc) and CUDA (device memory,
// each step a kernel; backend_cuda.cc, built only when CMake finds a CUDA compiler). BatchSearch
// is written once against this interface, so the CPU run tests the GPU algorithm.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "cuda/frame_steps.h"

namespace pywfst {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string Name() const = 0;
  virtual void* Allocate(size_t bytes) = 0;
  virtual void Free(void* pointer) noexcept = 0;
  virtual void Upload(void* device, const void* host, size_t bytes) = 0;
  virtual void Download(void* host, const void* device, size_t bytes) = 0;
  virtual void CopyOnDevice(void* to, const void* from, size_t bytes) = 0;
  virtual void Fill(void* device, int byte, size_t bytes) = 0;
  // Runs `step` for lanes [0, num_lanes) x items [0, items); returns when it is done (the
  // CUDA backend synchronizes its stream before the host reads anything back).
  virtual void Run(steps::Step step, const steps::Pass& pass, int32_t num_lanes,
                   int32_t items) = 0;
  // Bytes of device memory free now (for sizing lanes); 0 when unknown.
  virtual size_t FreeMemory() const { return 0; }
  // True when Upload() must be used for host data (false: host pointers are readable as is).
  virtual bool SeparateMemory() const = 0;
};

std::unique_ptr<Backend> MakeSimBackend();
// Throws UsageError naming the device when this build has no CUDA or no GPU is usable.
std::unique_ptr<Backend> MakeCudaBackend(int device);
// Empty when MakeCudaBackend(device) would work, else why not.
std::string CudaUnavailableReason(int device);

// An array in a backend's memory, freed with it.
template <typename T>
class DeviceArray {
 public:
  DeviceArray() = default;
  DeviceArray(Backend* backend, size_t size)
      : backend_(backend), size_(size),
        data_(static_cast<T*>(size ? backend->Allocate(size * sizeof(T)) : nullptr)) {}
  DeviceArray(DeviceArray&& other) noexcept { *this = std::move(other); }
  DeviceArray& operator=(DeviceArray&& other) noexcept {
    std::swap(backend_, other.backend_);
    std::swap(size_, other.size_);
    std::swap(data_, other.data_);
    return *this;
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  ~DeviceArray() {
    if (data_ != nullptr) backend_->Free(data_);
  }
  T* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  Backend* backend_ = nullptr;
  size_t size_ = 0;
  T* data_ = nullptr;
};

}  // namespace pywfst
