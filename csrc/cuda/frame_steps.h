// The per-frame steps of the batched search, as bodies that run for one (lane, item): on the GPU
// each is a kernel over lanes x items (kernels.cu), on the CPU a plain double loop
// (kernels_sim.cc). A body does nothing for a lane the view's mask does not select, or for an
// item past the lane's count, so one launch can cover lanes of different sizes.
//
// One frame (BatchSearch::Step in batch_search.cc runs them in this order):
//   FrameCosts, BeginFrame   per lane: acoustic costs; cutoff and adaptive beam from the previous
//                            frame's best token and cost histogram (Kaldi's beam, max_active and
//                            min_active, with a 256-bin histogram instead of nth_element)
//   Bound                    per lane: the best token's emitting arcs bound the candidates
//   Expand                   per previous token: emitting arcs into the current map, keeping per
//                            state the packed min of (cost, arc index): ties go to the smaller arc
//   BeginClosure, InitFrontier, then rounds of Epsilon and AdvanceFrontier until no lane changes:
//                            epsilon arcs relaxed from the tokens a round starts with (their cost
//                            when queued), a state replaced only when strictly cheaper (so equal-
//                            cost epsilon cycles leave no cycle in the back-pointers)
//   ResetStats, Records, Histogram, Final
//                            a path record per token, the best token and histogram for the next
//                            frame, the best final token when the utterance ends here
//   Clear, EndFrame          the previous map is emptied for reuse
#pragma once

#include <cmath>
#include <limits>

#include "cuda/batch_view.h"
#include "cuda/parallel.h"

namespace pywfst {
namespace steps {

using parallel::Pack;
using parallel::PackedCost;
using parallel::PackedTieBreaker;

enum LaneMask : int32_t { kActive = 0, kStarting = 1, kFinishing = 2 };
constexpr float kInfinity = std::numeric_limits<float>::infinity();
// Items per token in the arc loops: a state's arcs are shared by this many threads (a warp), so
// a state with thousands of arcs (a CTC blank state, an LM's unigram state) does not leave one
// thread working alone.
constexpr int32_t kArcThreads = 32;

// The view of one pass: which lanes it is for and which map is the current one.
struct Pass {
  BatchView view;
  int32_t mask;  // LaneMask
  PYWFST_HD int32_t Current() const { return 1 - view.previous; }
  PYWFST_HD bool Selected(int32_t lane) const {
    const LaneControl& c = view.control[lane];
    return mask == kActive ? c.active != 0 : mask == kStarting ? c.starting != 0 : c.finishing != 0;
  }
  PYWFST_HD int64_t Offset(int32_t lane) const { return int64_t{lane} * view.capacity; }
  // The lane's acoustic costs of this frame, by input label (FrameCosts writes them).
  PYWFST_HD float* AcousticCosts(int32_t lane) const {
    return view.frame_costs + int64_t{lane} * (view.num_columns + 1);
  }
};

PYWFST_HD inline float CostOf(uint64_t packed) {
  return packed == parallel::kEmptyPacked ? kInfinity : PackedCost(packed);
}

// The slot of `state` in lane `lane`'s map `map`, inserting it (as a new token) when absent;
// -1 when the probe limit is reached (the lane is marked as overflowing).
PYWFST_HD inline int32_t FindOrInsert(const Pass& pass, int32_t map, int32_t lane, int32_t state) {
  const BatchView& v = pass.view;
  const int64_t base = pass.Offset(lane);
  int32_t* keys = v.keys[map] + base;
  const uint32_t mask = static_cast<uint32_t>(v.capacity - 1);
  uint32_t slot = (static_cast<uint32_t>(state) * 2654435761u) & mask;
  for (int32_t probe = 0; probe < v.probe_limit; ++probe, slot = (slot + 1) & mask) {
    int32_t key = keys[slot];
    if (key == kEmptyKey) {
      key = parallel::AtomicCas(&keys[slot], kEmptyKey, state);
      if (key == kEmptyKey) {  // inserted: the slot becomes the map's next token
        const int32_t token = parallel::AtomicAdd(&v.token_count[map][lane], 1);
        v.token_slot[map][base + token] = static_cast<int32_t>(slot);
        v.slot_token[map][base + slot] = token;
        return static_cast<int32_t>(slot);
      }
    }
    if (key == state) return static_cast<int32_t>(slot);
  }
  v.control[lane].overflow = 1;
  return -1;
}

// The token of `state` in the map, or -1.
PYWFST_HD inline int32_t Lookup(const Pass& pass, int32_t map, int32_t lane, int32_t state) {
  const BatchView& v = pass.view;
  const int64_t base = pass.Offset(lane);
  const int32_t* keys = v.keys[map] + base;
  const uint32_t mask = static_cast<uint32_t>(v.capacity - 1);
  uint32_t slot = (static_cast<uint32_t>(state) * 2654435761u) & mask;
  for (int32_t probe = 0; probe < v.probe_limit; ++probe, slot = (slot + 1) & mask) {
    if (keys[slot] == state) return v.slot_token[map][base + slot];
    if (keys[slot] == kEmptyKey) return -1;
  }
  return -1;
}

// Replaces the slot's value when `cost` is strictly cheaper; true when it did.
PYWFST_HD inline bool StrictlyImprove(uint64_t* packed, float cost, uint32_t arc) {
  uint64_t old = *packed;
  const uint64_t value = Pack(cost, arc);
  while (cost < CostOf(old)) {
    const uint64_t seen = parallel::AtomicCas(packed, old, value);
    if (seen == old) return true;
    old = seen;
  }
  return false;
}

// ---- per lane (item 0 only) ----

// Acoustic costs of the lane's frame by input label: -scale * (score - log-norm - log-prior).
// A NaN or +inf score stops the lane (bad_score names it).
struct FrameCosts {
  PYWFST_HD void operator()(const Pass& pass, int32_t lane, int32_t item) const {
    if (item != 0 || !pass.Selected(lane)) return;
    const BatchView& v = pass.view;
    LaneControl& c = v.control[lane];
    float* out = pass.AcousticCosts(lane);
    const float* row = c.scores + c.frame * c.frame_stride;
    float max_value = -kInfinity;
    for (int32_t j = 0; j < c.num_columns; ++j) {
      const float x = row[j * c.column_stride];
      if (x != x || x == kInfinity) {
        c.bad_score = int64_t{c.frame} * c.num_columns + j;
        c.active = 0;
        return;
      }
      out[j + 1] = x;
      max_value = x > max_value ? x : max_value;
    }
    float log_norm = 0.0f;
    if (v.options.log_softmax) {
      if (max_value == -kInfinity) {
        c.bad_score = int64_t{c.frame} * c.num_columns;
        c.active = 0;
        return;
      }
      double sum = 0.0;
      for (int32_t j = 0; j < c.num_columns; ++j) sum += exp(double(out[j + 1]) - max_value);
      log_norm = max_value + static_cast<float>(log(sum));
    }
    for (int32_t j = 0; j < c.num_columns; ++j) {
      float x = out[j + 1] - log_norm;
      if (v.options.log_priors != nullptr) x -= v.options.log_priors[j];
      out[j + 1] = -(v.options.acoustic_scale * x);
    }
  }
};

// Kaldi's GetCutoff from the previous frame's best token and cost histogram.
struct BeginFrame {
  PYWFST_HD void operator()(const Pass& pass, int32_t lane, int32_t item) const {
    if (item != 0 || !pass.Selected(lane)) return;
    const BatchView& v = pass.view;
    LaneControl& c = v.control[lane];
    const SearchOptionsView& o = v.options;
    const int32_t count = v.token_count[v.previous][lane];
    c.record_base = c.previous_record_base + count;
    c.best_candidate = 0xFFFFFFFFu;
    c.bound_bits = parallel::OrderedBits(kInfinity);
    c.closure_cutoff = -kInfinity;
    if (count == 0 || c.best_token == parallel::kEmptyPacked) {
      c.cutoff = -kInfinity;
      return;
    }
    const float best = PackedCost(c.best_token);
    const float width = 2.0f * o.beam / kHistogramBins;
    const int32_t* histogram = v.histogram + int64_t{lane} * kHistogramBins;
    // Lower edge of the first bin whose running count passes `limit`: fewer than limit + 1
    // tokens are cheaper (as nth_element's limit-th cost, to a bin's width).
    auto edge = [&](int32_t limit) {
      int32_t total = 0;
      for (int32_t b = 0; b < kHistogramBins; ++b) {
        total += histogram[b];
        if (total > limit) return best + b * width;
      }
      return kInfinity;
    };
    const float beam_cutoff = best + o.beam;
    const float max_active_cutoff = count > o.max_active ? edge(o.max_active) : kInfinity;
    if (max_active_cutoff < beam_cutoff) {
      c.adaptive_beam = max_active_cutoff - best + o.beam_delta;
      c.cutoff = max_active_cutoff;
    } else {
      float min_active_cutoff = kInfinity;
      if (count > o.min_active) min_active_cutoff = o.min_active == 0 ? best : edge(o.min_active);
      if (min_active_cutoff > beam_cutoff && min_active_cutoff < kInfinity) {
        c.adaptive_beam = min_active_cutoff - best + o.beam_delta;
        c.cutoff = min_active_cutoff;
      } else {
        c.adaptive_beam = o.beam;
        c.cutoff = beam_cutoff;
      }
    }
    if (c.overflow) {  // the map was full last frame: halve the beam until it is not
      c.adaptive_beam *= 0.5f;
      c.cutoff = best + (c.cutoff - best) * 0.5f;
      c.overflow = 0;
    }
  }
};

// The first bound on the candidates: the best token's emitting arcs plus the adaptive beam
// (items: kArcThreads sharing the arcs; BeginFrame set the bound to +inf).
struct Bound {
  PYWFST_HD void operator()(const Pass& pass, int32_t lane, int32_t item) const {
    if (item >= kArcThreads || !pass.Selected(lane)) return;
    const BatchView& v = pass.view;
    LaneControl& c = v.control[lane];
    if (c.cutoff == -kInfinity) return;
    const int32_t token = static_cast<int32_t>(PackedTieBreaker(c.best_token));
    const int32_t slot = v.token_slot[v.previous][pass.Offset(lane) + token];
    const int32_t state = v.keys[v.previous][pass.Offset(lane) + slot];
    const float cost = PackedCost(c.best_token);
    const float* acoustic = pass.AcousticCosts(lane);
    for (int64_t a = v.graph.arc_begin[state] + item; a < v.graph.epsilon_begin[state];
         a += kArcThreads) {
      const float candidate = cost + v.graph.weight[a] + acoustic[v.graph.ilabel[a]];
      parallel::AtomicMin(&c.bound_bits, parallel::OrderedBits(candidate + c.adaptive_beam));
    }
  }
};

// ---- per token of the previous frame ----

// Items: kArcThreads per token, sharing its arcs.
struct Expand {
  PYWFST_HD void operator()(const Pass& pass, int32_t lane, int32_t item) const {
    const BatchView& v = pass.view;
    const int32_t token = item / kArcThreads, first = item % kArcThreads;
    if (!pass.Selected(lane) || token >= v.token_count[v.previous][lane]) return;
    LaneControl& c = v.control[lane];
    const int64_t base = pass.Offset(lane);
    const int32_t slot = v.token_slot[v.previous][base + token];
    const float cost = CostOf(v.packed[v.previous][base + slot]);
    if (!(cost < c.cutoff)) return;
    const int32_t state = v.keys[v.previous][base + slot];
    const float* acoustic = pass.AcousticCosts(lane);
    const int32_t current = pass.Current();
    const float bound = parallel::FromOrderedBits(c.bound_bits);
    for (int64_t a = v.graph.arc_begin[state] + first; a < v.graph.epsilon_begin[state];
         a += kArcThreads) {
      const float candidate = cost + v.graph.weight[a] + acoustic[v.graph.ilabel[a]];
      if (!(candidate < bound)) continue;
      const int32_t target = FindOrInsert(pass, current, lane, v.graph.nextstate[a]);
      if (target < 0) continue;
      parallel::AtomicMin(&v.packed[current][base + target], Pack(candidate, static_cast<uint32_t>(a)));
      parallel::AtomicMin(&c.best_candidate, parallel::OrderedBits(candidate));
    }
  }
};

// ---- the epsilon closure ----

// Per lane: the closure's cutoff (the cheapest candidate plus the adaptive beam) and the first
// frontier: every token of the current map. For starting lanes the start token is made here.
struct BeginClosure {
  PYWFST_HD void operator()(const Pass& pass, int32_t lane, int32_t item) const {
    if (item != 0 || !pass.Selected(lane)) return;
    const BatchView& v = pass.view;
    LaneControl& c = v.control[lane];
    if (pass.mask == kStarting) {
      const int32_t slot = FindOrInsert(pass, pass.Current(), lane, v.graph.start);
      v.packed[pass.Current()][pass.Offset(lane) + slot] = Pack(0.0f, kNoArc);
      c.closure_cutoff = std::numeric_limits<float>::max();
      c.record_base = 0;
    } else {
      c.closure_cutoff = c.best_candidate == 0xFFFFFFFFu
                             ? -kInfinity
                             : parallel::FromOrderedBits(c.best_candidate) + c.adaptive_beam;
    }
    v.frontier_count[v.frontier][lane] = v.token_count[pass.Current()][lane];
    v.frontier_count[1 - v.frontier][lane] = 0;
    c.changed = 0;
  }
};

struct InitFrontier {
  PYWFST_HD void operator()(const Pass& pass, int32_t lane, int32_t token) const {
    const BatchView& v = pass.view;
    const int32_t current = pass.Current();
    if (!pass.Selected(lane) || token >= v.token_count[current][lane]) return;
    const int64_t base = pass.Offset(lane);
    const int32_t slot = v.token_slot[current][base + token];
    v.frontier_slot[v.frontier][base + token] = slot;
    v.frontier_cost[v.frontier][base + token] = CostOf(v.packed[current][base + slot]);
  }
};

// Items: kArcThreads per frontier entry, sharing its arcs.
struct Epsilon {
  PYWFST_HD void operator()(const Pass& pass, int32_t lane, int32_t thread) const {
    const BatchView& v = pass.view;
    const int32_t item = thread / kArcThreads, first = thread % kArcThreads;
    if (!pass.Selected(lane) || item >= v.frontier_count[v.frontier][lane]) return;
    LaneControl& c = v.control[lane];
    const int64_t base = pass.Offset(lane);
    const int32_t current = pass.Current();
    const float cost = v.frontier_cost[v.frontier][base + item];
    if (cost > c.closure_cutoff) return;
    const int32_t state = v.keys[current][base + v.frontier_slot[v.frontier][base + item]];
    const int32_t next = 1 - v.frontier;
    for (int64_t a = v.graph.epsilon_begin[state] + first; a < v.graph.arc_begin[state + 1];
         a += kArcThreads) {
      const float candidate = cost + v.graph.weight[a];
      if (candidate > c.closure_cutoff) continue;
      const int32_t target = FindOrInsert(pass, current, lane, v.graph.nextstate[a]);
      if (target < 0) continue;
      if (!StrictlyImprove(&v.packed[current][base + target], candidate, static_cast<uint32_t>(a)))
        continue;
      c.changed = 1;
      if (parallel::AtomicExchange(&v.queued[base + target], 1) == 0) {
        const int32_t position = parallel::AtomicAdd(&v.frontier_count[next][lane], 1);
        v.frontier_slot[next][base + position] = target;
      }
    }
  }
};

// Over the next frontier: unmark its slots and take their costs as the round starts.
struct AdvanceFrontier {
  PYWFST_HD void operator()(const Pass& pass, int32_t lane, int32_t item) const {
    const BatchView& v = pass.view;
    const int32_t next = 1 - v.frontier;
    if (!pass.Selected(lane) || item >= v.frontier_count[next][lane]) return;
    const int64_t base = pass.Offset(lane);
    const int32_t slot = v.frontier_slot[next][base + item];
    v.queued[base + slot] = 0;
    v.frontier_cost[next][base + item] = CostOf(v.packed[pass.Current()][base + slot]);
  }
};

// Per lane, after AdvanceFrontier: the frontier just read is spent.
struct EndRound {
  PYWFST_HD void operator()(const Pass& pass, int32_t lane, int32_t item) const {
    if (item != 0 || !pass.Selected(lane)) return;
    pass.view.frontier_count[pass.view.frontier][lane] = 0;
    pass.view.control[lane].changed = 0;
  }
};

// ---- after the closure ----

struct ResetStats {
  PYWFST_HD void operator()(const Pass& pass, int32_t lane, int32_t item) const {
    if (!pass.Selected(lane)) return;
    const BatchView& v = pass.view;
    if (item < kHistogramBins) v.histogram[int64_t{lane} * kHistogramBins + item] = 0;
    if (item == 0) {
      v.control[lane].best_token = parallel::kEmptyPacked;
      v.control[lane].best_final = parallel::kEmptyPacked;
    }
  }
};

// A path record per current token; the cheapest token for the next frame.
struct Records {
  PYWFST_HD void operator()(const Pass& pass, int32_t lane, int32_t token) const {
    const BatchView& v = pass.view;
    const int32_t current = pass.Current();
    if (!pass.Selected(lane) || token >= v.token_count[current][lane]) return;
    LaneControl& c = v.control[lane];
    const int64_t base = pass.Offset(lane);
    const uint64_t packed = v.packed[current][base + v.token_slot[current][base + token]];
    const uint32_t arc = PackedTieBreaker(packed);
    int32_t previous = -1;
    if (arc != kNoArc) {
      const int32_t source = v.graph.source[arc];
      previous = v.graph.ilabel[arc] > 0
                     ? c.previous_record_base + Lookup(pass, v.previous, lane, source)
                     : c.record_base + Lookup(pass, current, lane, source);
    }
    v.records[int64_t{lane} * v.record_capacity + c.record_base + token] = {previous, arc};
    parallel::AtomicMin(&c.best_token, Pack(PackedCost(packed), static_cast<uint32_t>(token)));
  }
};

struct Histogram {
  PYWFST_HD void operator()(const Pass& pass, int32_t lane, int32_t token) const {
    const BatchView& v = pass.view;
    const int32_t current = pass.Current();
    if (!pass.Selected(lane) || token >= v.token_count[current][lane]) return;
    const int64_t base = pass.Offset(lane);
    const float cost = CostOf(v.packed[current][base + v.token_slot[current][base + token]]);
    const float offset = cost - PackedCost(v.control[lane].best_token);
    const float width = 2.0f * v.options.beam / kHistogramBins;
    if (!(offset < kHistogramBins * width)) return;
    parallel::AtomicAdd(&v.histogram[int64_t{lane} * kHistogramBins + static_cast<int32_t>(offset / width)], 1);
  }
};

// For lanes whose utterance ends with this frame: the cheapest token with its final weight.
struct Final {
  PYWFST_HD void operator()(const Pass& pass, int32_t lane, int32_t token) const {
    const BatchView& v = pass.view;
    const int32_t current = pass.Current();
    if (!pass.Selected(lane) || token >= v.token_count[current][lane]) return;
    const int64_t base = pass.Offset(lane);
    const int32_t slot = v.token_slot[current][base + token];
    const float cost =
        CostOf(v.packed[current][base + slot]) + v.graph.final_cost[v.keys[current][base + slot]];
    if (cost < kInfinity)
      parallel::AtomicMin(&v.control[lane].best_final, Pack(cost, static_cast<uint32_t>(token)));
  }
};

// ---- emptying a map ----

// Over the previous map's tokens: free their slots.
struct Clear {
  PYWFST_HD void operator()(const Pass& pass, int32_t lane, int32_t token) const {
    const BatchView& v = pass.view;
    if (!pass.Selected(lane) || token >= v.token_count[v.previous][lane]) return;
    const int64_t base = pass.Offset(lane);
    const int32_t slot = v.token_slot[v.previous][base + token];
    v.keys[v.previous][base + slot] = kEmptyKey;
    v.packed[v.previous][base + slot] = parallel::kEmptyPacked;
  }
};

struct EndFrame {
  PYWFST_HD void operator()(const Pass& pass, int32_t lane, int32_t item) const {
    if (item != 0 || !pass.Selected(lane)) return;
    LaneControl& c = pass.view.control[lane];
    pass.view.token_count[pass.view.previous][lane] = 0;
    c.previous_record_base = c.record_base;
  }
};

// Every step, for the dispatch of a launch by name (kernels.h).
enum class Step {
  kFrameCosts, kBeginFrame, kBound, kExpand, kBeginClosure, kInitFrontier, kEpsilon,
  kAdvanceFrontier, kEndRound, kResetStats, kRecords, kHistogram, kFinal, kClear, kEndFrame
};

// Calls `run(body)` with the body of `step`.
template <typename Run>
void Dispatch(Step step, Run&& run) {
  switch (step) {
    case Step::kFrameCosts: run(FrameCosts{}); break;
    case Step::kBeginFrame: run(BeginFrame{}); break;
    case Step::kBound: run(Bound{}); break;
    case Step::kExpand: run(Expand{}); break;
    case Step::kBeginClosure: run(BeginClosure{}); break;
    case Step::kInitFrontier: run(InitFrontier{}); break;
    case Step::kEpsilon: run(Epsilon{}); break;
    case Step::kAdvanceFrontier: run(AdvanceFrontier{}); break;
    case Step::kEndRound: run(EndRound{}); break;
    case Step::kResetStats: run(ResetStats{}); break;
    case Step::kRecords: run(Records{}); break;
    case Step::kHistogram: run(Histogram{}); break;
    case Step::kFinal: run(Final{}); break;
    case Step::kClear: run(Clear{}); break;
    case Step::kEndFrame: run(EndFrame{}); break;
  }
}

}  // namespace steps
}  // namespace pywfst
