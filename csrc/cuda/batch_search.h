// BatchSearch: the batched, data-parallel Viterbi beam search of the GPU decoder (Kaldi's
// cudadecoder and riva's design, written anew): a fixed number of lanes decode utterances side
// by side, frame by frame; utterances stream through the lanes, so memory is bounded by
// lanes x map capacity, never by batch x graph states. Per lane and frame (frame_steps.h):
// emitting arcs of the surviving tokens relaxed in parallel into an open-addressing map of
// state -> packed (cost, arc) with a 64-bit atomic min, epsilon-closure rounds until no cost
// improves, pruning by beam, max_active and min_active from a cost histogram, and a path record
// per token; the best path is read back once per utterance.
//
// The same code runs on a GPU (CUDA backend) and, one body at a time, on the CPU (sim backend:
// Decoder(device="cuda-sim")), which is how the algorithm is tested without a GPU. It finds the
// same best path as the CPU search (beam_search.h) up to float rounding and exact cost ties;
// the differences in pruning are that max_active/min_active cut at a histogram bin's edge and
// that the emitting candidates are bounded by the best token's arcs rather than by the running
// best (tokens the CPU search drops there are pruned on the next frame).
//
// Limits: 1-best only (nbest == 1), no phrase boosting or class slots (those stay on the CPU
// search). Costs are float32.
//
// Ownership: holds its graph (shared) and backend (shared with other searches of the device);
// one Decode() at a time (UsageError otherwise).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "cuda/backend.h"
#include "cuda/batch_view.h"
#include "decoder/beam_search.h"
#include "decoder/decode_result.h"
#include "decoder/decoder_options.h"
#include "decoder/frame_scores.h"
#include "fst/csr_graph.h"

namespace pywfst {

// One utterance's [T, V] scores in the backend's memory, or in host memory (then copied up).
struct LaneScores {
  ScoreMatrix matrix;
  bool on_device = false;
  std::string name;  // for error messages
};

// The graph's arrays in a backend's memory (uploaded once, shared by the searches on it; it
// holds the backend, which the searches use too).
class DeviceGraph {
 public:
  DeviceGraph(std::shared_ptr<const CsrGraph> graph, std::shared_ptr<Backend> backend);
  const DeviceGraphView& View() const { return view_; }
  const CsrGraph& Host() const { return *graph_; }
  const std::shared_ptr<Backend>& GetBackend() const { return backend_; }

 private:
  std::shared_ptr<const CsrGraph> graph_;
  std::shared_ptr<Backend> backend_;
  DeviceArray<int64_t> arc_begin_, epsilon_begin_;
  DeviceArray<int32_t> ilabel_, olabel_, nextstate_, source_;
  DeviceArray<float> weight_, final_cost_;
  DeviceGraphView view_;
};

class BatchSearch {
 public:
  // `num_lanes` utterances are decoded side by side (>= 1).
  BatchSearch(std::shared_ptr<const DeviceGraph> graph, const DecoderOptions& options,
              int32_t num_lanes);
  const DecoderOptions& Options() const { return options_; }

  // Decodes every utterance (results in order). `transform.log_priors` is host memory. Throws
  // InputError naming the utterance (too few columns, NaN / +inf scores), Interrupted when
  // `interrupted` returns true (checked every few frames), UsageError when called concurrently.
  std::vector<DecodeResult> Decode(const std::vector<LaneScores>& utterances,
                                   const ScoreTransform& transform,
                                   const InterruptCheck& interrupted = {});

  int32_t NumLanes() const { return num_lanes_; }
  int32_t Capacity() const { return capacity_; }
  // Device bytes one lane needs for a given max_active (for sizing lanes to free memory).
  static size_t LaneBytes(int32_t max_active);

 private:
  // Empties every lane's maps and counts.
  void ResetLanes();
  void Run(steps::Step step, int32_t mask, int32_t items, bool flipped = false);
  // Max over lanes of a per-lane count array.
  int32_t MaxCount(const int32_t* device_counts);
  void Closure(int32_t mask, bool flipped);
  void StartLanes();
  void DecodeFrame();
  void EnsureRecordCapacity(int64_t needed);
  DecodeResult Traceback(int32_t lane, const LaneScores& utterance);

  std::shared_ptr<const DeviceGraph> graph_;
  Backend* backend_;
  DecoderOptions options_;
  int32_t num_lanes_;
  int32_t capacity_;
  BatchView view_;
  DeviceArray<int32_t> keys_[2], slot_token_[2], token_slot_[2], token_count_[2];
  DeviceArray<uint64_t> packed_[2];
  DeviceArray<int32_t> frontier_slot_[2], frontier_count_[2], queued_, histogram_;
  DeviceArray<float> frontier_cost_[2], frame_costs_, priors_;
  DeviceArray<LaneControl> control_;
  DeviceArray<PathStep> records_;
  std::vector<DeviceArray<float>> lane_scores_;  // uploaded copies of host scores, per lane
  std::vector<LaneControl> host_control_;
  std::vector<int32_t> host_counts_;
  std::atomic<bool> in_use_{false};
  bool interrupted_ = false;  // the last Decode() did not finish
};

}  // namespace pywfst
