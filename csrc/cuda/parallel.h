// The thin layer that lets one kernel body run on a GPU or as a plain CPU loop (device
// "cuda-sim"): a host/device qualifier, the atomics the bodies use, and the order-preserving
// packing of costs into integers that makes a 64-bit atomic min pick the cheapest candidate.
//
// On the CPU the bodies run one after another (kernels_sim.cc), so each atomic is a plain read
// and write; under nvcc they are CUDA's atomics. The same code therefore decides the same way on
// both, except where GPU threads race to equal keys (the callers say where that can matter).
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define PYWFST_HD __host__ __device__
#else
#define PYWFST_HD
#endif

namespace pywfst {
namespace parallel {

// Costs as unsigned integers in the same order as the floats (IEEE 754: flip every bit of a
// negative number, set the sign bit of a positive one), so integer min is float min.
PYWFST_HD inline uint32_t OrderedBits(float cost) {
  uint32_t bits;
#if defined(__CUDA_ARCH__)
  bits = __float_as_uint(cost);
#else
  std::memcpy(&bits, &cost, sizeof(bits));
#endif
  return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}

PYWFST_HD inline float FromOrderedBits(uint32_t ordered) {
  const uint32_t bits = (ordered & 0x80000000u) ? (ordered & 0x7FFFFFFFu) : ~ordered;
#if defined(__CUDA_ARCH__)
  return __uint_as_float(bits);
#else
  float cost;
  std::memcpy(&cost, &bits, sizeof(cost));
  return cost;
#endif
}

// (cost, tie-breaker) in one word: the min is the cheapest, then the smallest tie-breaker, so
// the winner does not depend on which thread came first.
PYWFST_HD inline uint64_t Pack(float cost, uint32_t tie_breaker) {
  return (static_cast<uint64_t>(OrderedBits(cost)) << 32) | tie_breaker;
}
PYWFST_HD inline float PackedCost(uint64_t packed) {
  return FromOrderedBits(static_cast<uint32_t>(packed >> 32));
}
PYWFST_HD inline uint32_t PackedTieBreaker(uint64_t packed) {
  return static_cast<uint32_t>(packed);
}
constexpr uint64_t kEmptyPacked = ~uint64_t{0};

// Each returns the old value.
PYWFST_HD inline uint64_t AtomicMin(uint64_t* address, uint64_t value) {
#if defined(__CUDA_ARCH__)
  return atomicMin(reinterpret_cast<unsigned long long*>(address),
                   static_cast<unsigned long long>(value));
#else
  const uint64_t old = *address;
  if (value < old) *address = value;
  return old;
#endif
}

PYWFST_HD inline uint32_t AtomicMin(uint32_t* address, uint32_t value) {
#if defined(__CUDA_ARCH__)
  return atomicMin(address, value);
#else
  const uint32_t old = *address;
  if (value < old) *address = value;
  return old;
#endif
}

PYWFST_HD inline uint64_t AtomicCas(uint64_t* address, uint64_t expected, uint64_t desired) {
#if defined(__CUDA_ARCH__)
  return atomicCAS(reinterpret_cast<unsigned long long*>(address),
                   static_cast<unsigned long long>(expected),
                   static_cast<unsigned long long>(desired));
#else
  const uint64_t old = *address;
  if (old == expected) *address = desired;
  return old;
#endif
}

PYWFST_HD inline int32_t AtomicCas(int32_t* address, int32_t expected, int32_t desired) {
#if defined(__CUDA_ARCH__)
  return atomicCAS(address, expected, desired);
#else
  const int32_t old = *address;
  if (old == expected) *address = desired;
  return old;
#endif
}

PYWFST_HD inline int32_t AtomicAdd(int32_t* address, int32_t value) {
#if defined(__CUDA_ARCH__)
  return atomicAdd(address, value);
#else
  const int32_t old = *address;
  *address = old + value;
  return old;
#endif
}

PYWFST_HD inline int32_t AtomicExchange(int32_t* address, int32_t value) {
#if defined(__CUDA_ARCH__)
  return atomicExch(address, value);
#else
  const int32_t old = *address;
  *address = value;
  return old;
#endif
}

}  // namespace parallel
}  // namespace pywfst
