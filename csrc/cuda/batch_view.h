// What the per-frame steps of the batched (GPU-style) search see: raw pointers into device
// memory (host memory for "cuda-sim"), passed to every kernel by value. The owner is
// BatchSearch (batch_search.h); nothing here allocates or frees.
//
// Layout: L lanes (utterances decoded side by side), each with two hash maps of capacity H (a
// power of two) from graph state to its token, for the previous and the current frame: map m of
// lane l holds keys[m][l * H + slot] and packed (cost, arc) words. A map's tokens are its slots
// in insertion order (token_slot), so a frame's tokens are a dense list. The epsilon closure
// works on frontiers of slots, double-buffered too.
#pragma once

#include <cstdint>

namespace pywfst {

// The decoding graph in device memory: CsrGraph's arc array (same arc indices) as separate
// arrays, plus each arc's source state (for traceback records, which store arcs only).
struct DeviceGraphView {
  int32_t num_states = 0;
  int32_t start = 0;
  const int64_t* arc_begin = nullptr;      // [num_states + 1]: first (emitting) arc of a state
  const int64_t* epsilon_begin = nullptr;  // [num_states]: first epsilon arc of a state
  const int32_t* ilabel = nullptr;
  const int32_t* olabel = nullptr;
  const float* weight = nullptr;
  const int32_t* nextstate = nullptr;
  const int32_t* source = nullptr;
  const float* final_cost = nullptr;       // [num_states], +inf when not final
};

constexpr int32_t kEmptyKey = -1;
constexpr uint32_t kNoArc = 0xFFFFFFFFu;  // the start token's "arc"
constexpr int kHistogramBins = 256;

// One traceback record per token per frame: the arc that made the token and the record of the
// token it came from (-1 for the start).
struct PathStep {
  int32_t previous;
  uint32_t arc;
};

// Per-lane scalars, read and written by the steps; the host reads them back between steps.
struct LaneControl {
  // Set by the host for the utterance in the lane.
  int32_t active;       // 1 while the lane decodes a frame in this step
  int32_t starting;     // 1 when the lane starts an utterance in this step
  int32_t finishing;    // 1 when this step decodes the utterance's last frame
  int32_t frame;        // frame decoded in this step
  const float* scores;  // the utterance's [T, V] scores (device memory)
  int64_t frame_stride;
  int64_t column_stride;
  int32_t num_columns;
  // Pruning, frame by frame.
  float cutoff;          // tokens of the previous frame at or above it are not expanded
  float adaptive_beam;
  uint32_t bound_bits;   // ordered bits of the bound: emitting candidates at or above it drop
  float closure_cutoff;  // the epsilon closure's cutoff
  uint32_t best_candidate;  // ordered bits of the cheapest emitting candidate
  uint64_t best_token;      // packed (cost, token) of the previous frame's cheapest token
  uint64_t best_final;      // packed (cost + final weight, token) of the last frame, if any final
  int32_t overflow;         // a map was full: candidates were dropped (the lane tightens its beam)
  int32_t changed;          // the last epsilon round improved a token
  int64_t bad_score;        // -1, or frame * num_columns + column of a NaN / +inf score
  // Path records: this frame's tokens get records [record_base, record_base + tokens).
  int32_t record_base;
  int32_t previous_record_base;
};

struct SearchOptionsView {
  float beam;
  int32_t max_active;
  int32_t min_active;
  float beam_delta;
  float acoustic_scale;
  int32_t log_softmax;
  const float* log_priors;  // [num_columns] or null (device memory)
};

struct BatchView {
  DeviceGraphView graph;
  SearchOptionsView options;
  int32_t num_lanes = 0;
  int32_t capacity = 0;     // H: slots of one lane's map (a power of two)
  int32_t probe_limit = 0;  // linear-probing steps before a map counts as full
  int32_t previous = 0;     // which of the two maps holds the previous frame (the other: current)
  int32_t frontier = 0;     // which of the two frontiers the epsilon round reads
  int32_t num_columns = 0;  // columns of frame_costs per lane (the widest utterance)
  int32_t* keys[2] = {nullptr, nullptr};          // [L * H]
  uint64_t* packed[2] = {nullptr, nullptr};       // [L * H]
  int32_t* slot_token[2] = {nullptr, nullptr};    // [L * H]: token of a used slot
  int32_t* token_slot[2] = {nullptr, nullptr};    // [L * H]: slot of token i
  int32_t* token_count[2] = {nullptr, nullptr};   // [L]
  int32_t* frontier_slot[2] = {nullptr, nullptr};   // [L * H]
  float* frontier_cost[2] = {nullptr, nullptr};     // [L * H]: the slot's cost when queued
  int32_t* frontier_count[2] = {nullptr, nullptr};  // [L]
  int32_t* queued = nullptr;       // [L * H]: the slot is in the next frontier
  int32_t* histogram = nullptr;    // [L * kHistogramBins]
  float* frame_costs = nullptr;    // [L * (num_columns + 1)]: acoustic cost by input label
  LaneControl* control = nullptr;  // [L]
  PathStep* records = nullptr;     // [L * record_capacity]
  int64_t record_capacity = 0;     // per lane
};

}  // namespace pywfst
