// StateSlotMap: the search's map from a graph state to the slot of its first token this frame.
//
// An array over all states would be the simplest map, but a search touches a few hundred to a few
// thousand states a frame spread over the whole graph, so each lookup in it (16 MB for a 4 M-state
// graph) was a cache miss, and every search (stream, thread) held that much memory. This is an
// open-addressing table (linear probing) sized to the states looked up in the frame, so it stays
// in cache; Clear() empties it in O(1) by moving to the next epoch (an entry of an older epoch is
// a free one).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace pywfst {

class StateSlotMap {
 public:
  StateSlotMap() : entries_(size_t{1} << kInitialBits) {}

  // The slot of `state`'s first token (-1: none yet), to read and to write. The reference lasts
  // until the next call (a new state may move the entries).
  int32_t& operator[](int32_t state) {
    const size_t mask = entries_.size() - 1;
    size_t i = Home(state);
    for (; entries_[i].epoch == epoch_; i = (i + 1) & mask)
      if (entries_[i].state == state) return entries_[i].slot;
    if (2 * (size_ + 1) > entries_.size()) {
      Grow();
      return (*this)[state];
    }
    entries_[i] = {state, -1, epoch_};
    ++size_;
    return entries_[i].slot;
  }

  void Clear() {
    size_ = 0;
    if (++epoch_ == 0) {  // after 2^32 frames: make every entry free again
      for (Entry& entry : entries_) entry.epoch = 0;
      epoch_ = 1;
    }
  }

 private:
  struct Entry {
    int32_t state = 0;
    int32_t slot = -1;
    uint32_t epoch = 0;  // 0: never used
  };
  static constexpr int kInitialBits = 10;

  size_t Home(int32_t state) const {
    return static_cast<size_t>((static_cast<uint64_t>(static_cast<uint32_t>(state)) *
                                0x9E3779B97F4A7C15ULL) >> (64 - bits_));
  }

  void Grow() {
    std::vector<Entry> old(size_t{1} << (bits_ + 1));
    old.swap(entries_);
    ++bits_;
    const size_t mask = entries_.size() - 1;
    for (const Entry& entry : old) {
      if (entry.epoch != epoch_) continue;
      size_t i = Home(entry.state);
      while (entries_[i].epoch == epoch_) i = (i + 1) & mask;
      entries_[i] = entry;
    }
  }

  std::vector<Entry> entries_;
  int bits_ = kInitialBits;
  size_t size_ = 0;      // entries of this epoch
  uint32_t epoch_ = 1;
};

}  // namespace pywfst
