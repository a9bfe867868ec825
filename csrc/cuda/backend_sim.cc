// The "cuda-sim" backend: host memory, and every step of the batched search as a plain loop over
// lanes and items, one after another (so the bodies' atomics are plain reads and writes).
#include <cstdlib>
#include <cstring>
#include <new>

#include "common/errors.h"
#include "cuda/backend.h"

namespace pywfst {
namespace {

class SimBackend : public Backend {
 public:
  std::string Name() const override { return "cuda-sim"; }
  void* Allocate(size_t bytes) override {
    void* pointer = std::malloc(bytes);
    if (pointer == nullptr) throw std::bad_alloc();
    return pointer;
  }
  void Free(void* pointer) noexcept override { std::free(pointer); }
  void Upload(void* device, const void* host, size_t bytes) override {
    if (bytes) std::memcpy(device, host, bytes);
  }
  void Download(void* host, const void* device, size_t bytes) override {
    if (bytes) std::memcpy(host, device, bytes);
  }
  void CopyOnDevice(void* to, const void* from, size_t bytes) override {
    if (bytes) std::memcpy(to, from, bytes);
  }
  void Fill(void* device, int byte, size_t bytes) override {
    if (bytes) std::memset(device, byte, bytes);
  }
  void Run(steps::Step step, const steps::Pass& pass, int32_t num_lanes, int32_t items) override {
    steps::Dispatch(step, [&](auto body) {
      for (int32_t lane = 0; lane < num_lanes; ++lane)
        for (int32_t item = 0; item < items; ++item) body(pass, lane, item);
    });
  }
  bool SeparateMemory() const override { return false; }
};

}  // namespace

std::unique_ptr<Backend> MakeSimBackend() { return std::make_unique<SimBackend>(); }

}  // namespace pywfst
