// FrameScores: the narrow interface between acoustic-model output and the search.
//
// It views a [T, V] float32 matrix owned by the caller (any element strides, no copy; the data
// and the priors may sit at any byte address) and turns one frame at a time into acoustic costs
// indexed by graph input label: cost[label] = -acoustic_scale * score[t][label - 1], after an
// optional log-softmax over the frame and an optional subtraction of log-priors (hybrid DNN-HMM:
// posteriors / priors = scaled likelihoods).
// The caller keeps the matrix and the priors alive while the view is used.
#pragma once

#include <cstdint>
#include <vector>

namespace pywfst {

struct ScoreMatrix {
  const float* data = nullptr;
  int64_t num_frames = 0;
  int64_t num_columns = 0;
  int64_t frame_stride = 0;   // in elements
  int64_t column_stride = 1;  // in elements
};

struct ScoreTransform {
  bool log_softmax = false;           // scores are logits: normalise each frame first
  const float* log_priors = nullptr;  // num_columns values subtracted from each frame, or null
  float acoustic_scale = 1.0f;
};

class FrameScores {
 public:
  // Validates the shape (T >= 1, V >= 1); NaN and +inf are reported by Costs() with their
  // frame and column. `what` names the input in messages ("emissions", "emissions[3]").
  FrameScores(const ScoreMatrix& scores, const ScoreTransform& transform, const char* what);

  int64_t NumFrames() const { return scores_.num_frames; }
  int64_t NumColumns() const { return scores_.num_columns; }

  // Fills `costs` (size NumColumns() + 1, costs[0] unused) with frame t's acoustic costs.
  void Costs(int64_t t, std::vector<float>* costs) const;

 private:
  ScoreMatrix scores_;
  ScoreTransform transform_;
  const char* what_;
};

}  // namespace pywfst
