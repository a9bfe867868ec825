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
  StateSlotMap() : entries_(size_t{1} << kInitialBits) { SetShape(); }

  // The slot of `state`'s first token (-1: none yet), to read and to write. The reference lasts
  // until the next call (a new state may move the entries).
  int32_t& operator[](int32_t state) {
    Entry* entries = entries_.data();
    size_t i = Home(state);
    for (; entries[i].epoch == epoch_; i = (i + 1) & mask_)
      if (entries[i].state == state) return entries[i].slot;
    if (size_ >= max_size_) {
      Grow();
      return (*this)[state];
    }
    entries[i] = {state, -1, epoch_};
    ++size_;
    return entries[i].slot;
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
                                0x9E3779B97F4A7C15ULL) >> shift_);
  }

  void Grow() {
    std::vector<Entry> old(size_t{1} << (bits_ + 1));
    old.swap(entries_);
    ++bits_;
    SetShape();
    for (const Entry& entry : old) {
      if (entry.epoch != epoch_) continue;
      size_t i = Home(entry.state);
      while (entries_[i].epoch == epoch_) i = (i + 1) & mask_;
      entries_[i] = entry;
    }
  }
  // What a lookup needs of the table's size, kept at hand (the hot path reads no vector size).
  void SetShape() {
    mask_ = (size_t{1} << bits_) - 1;
    shift_ = 64 - bits_;
    max_size_ = size_t{1} << (bits_ - 1);  // at most half full: probes stay short
  }

  std::vector<Entry> entries_;
  int bits_ = kInitialBits;
  size_t mask_ = 0, max_size_ = 0;
  int shift_ = 0;
  size_t size_ = 0;      // entries of this epoch
  uint32_t epoch_ = 1;
};

}  // namespace pywfst
