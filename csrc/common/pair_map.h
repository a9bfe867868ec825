// PairMap: an open-addressing hash map (linear probing) from pairs of non-negative 32-bit ids to
// 32-bit ids, for the phrase-boosting trie's children and the pair states of a composition:
// std::unordered_map's node allocations and pointer chasing cost most of their time. A key and
// its id share one slot, so a lookup in a large map costs one cache miss.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace pywfst {

class PairMap {
 public:
  explicit PairMap(size_t expected = 0) { Resize(expected); }

  // The id stored for (a, b), or -1.
  int32_t Find(int32_t a, int32_t b) const {
    const uint64_t key = Key(a, b);
    for (size_t i = Slot(key); slots_[i].key != kEmpty; i = (i + 1) & mask_)
      if (slots_[i].key == key) return slots_[i].id;
    return -1;
  }

  // The id of (a, b), storing `id` first when the pair is new; second: whether it was new.
  std::pair<int32_t, bool> FindOrInsert(int32_t a, int32_t b, int32_t id) {
    if (2 * (size_ + 1) > slots_.size()) Resize(slots_.size());
    const uint64_t key = Key(a, b);
    size_t i = Slot(key);
    for (; slots_[i].key != kEmpty; i = (i + 1) & mask_)
      if (slots_[i].key == key) return {slots_[i].id, false};
    slots_[i] = {key, id};
    ++size_;
    return {id, true};
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};  // no pair of non-negative ids packs to it
  struct Entry {
    uint64_t key;
    int32_t id;
  };

  static uint64_t Key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  size_t Slot(uint64_t key) const {  // splitmix64's finaliser spreads the packed pairs
    key = (key ^ (key >> 30)) * 0xBF58476D1CE4E5B9ULL;
    key = (key ^ (key >> 27)) * 0x94D049BB133111EBULL;
    return static_cast<size_t>(key ^ (key >> 31)) & mask_;
  }
  void Resize(size_t expected) {  // to a power of two at least twice `expected`
    size_t capacity = 16;
    while (capacity < 2 * expected) capacity <<= 1;
    std::vector<Entry> old(capacity, Entry{kEmpty, -1});
    old.swap(slots_);
    mask_ = capacity - 1;
    size_ = 0;
    for (const Entry& entry : old)
      if (entry.key != kEmpty)
        FindOrInsert(static_cast<int32_t>(entry.key >> 32),
                     static_cast<int32_t>(entry.key & 0xffffffffu), entry.id);
  }

  std::vector<Entry> slots_;
  size_t mask_ = 0, size_ = 0;
};

}  // namespace pywfst
