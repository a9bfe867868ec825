// PairMap: an open-addressing hash map (linear probing) from pairs of non-negative 32-bit ids to
// 32-bit ids, for the phrase-boosting trie's children: std::unordered_map's node allocations and
// pointer chasing cost most of a boosted search's extra time.
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
    for (size_t i = Slot(key); keys_[i] != kEmpty; i = (i + 1) & mask_)
      if (keys_[i] == key) return ids_[i];
    return -1;
  }

  // The id of (a, b), storing `id` first when the pair is new; second: whether it was new.
  std::pair<int32_t, bool> FindOrInsert(int32_t a, int32_t b, int32_t id) {
    if (2 * (size_ + 1) > keys_.size()) Resize(keys_.size());
    const uint64_t key = Key(a, b);
    size_t i = Slot(key);
    for (; keys_[i] != kEmpty; i = (i + 1) & mask_)
      if (keys_[i] == key) return {ids_[i], false};
    keys_[i] = key;
    ids_[i] = id;
    ++size_;
    return {id, true};
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};  // no pair of non-negative ids packs to it

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
    std::vector<uint64_t> old_keys(capacity, kEmpty);
    std::vector<int32_t> old_ids(capacity);
    old_keys.swap(keys_);
    old_ids.swap(ids_);
    mask_ = capacity - 1;
    size_ = 0;
    for (size_t i = 0; i < old_keys.size(); ++i)
      if (old_keys[i] != kEmpty)
        FindOrInsert(static_cast<int32_t>(old_keys[i] >> 32),
                     static_cast<int32_t>(old_keys[i] & 0xffffffffu), old_ids[i]);
  }

  std::vector<uint64_t> keys_;
  std::vector<int32_t> ids_;
  size_t mask_ = 0, size_ = 0;
};

}  // namespace pywfst
