// Score sources: the narrow interface between acoustic-model output and the search.
//
// It views a [T, V] float32 matrix owned by the caller (any element strides, no copy; the data
// and the priors may sit at any byte address) and turns one frame at a time into acoustic costs
// indexed by graph input label: cost[label] = -acoustic_scale * score[t][label - 1], after an
// optional log-softmax over the frame and an optional subtraction of log-priors (hybrid DNN-HMM:
// posteriors / priors = scaled likelihoods). With a label-to-column map (a Kaldi HCLG's
// transition-ids read their pdf's column: several labels share one), cost[label] is the
// transformed score of column label_columns[label] instead.
// The caller keeps the matrix, the priors and the map alive while the view is used.
#pragma once

#include <cstdint>
#include <string>
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
  // Null, or num_labels + 1 column indices, each in [0, num_columns) (entry 0 is unused): the
  // column that input label l reads.
  const int32_t* label_columns = nullptr;
  int64_t num_labels = 0;
};

// What the search reads frame by frame (Kaldi's DecodableInterface, narrowed): costs of frame t
// by input label. A whole matrix is one source; a stream's growing buffer of chunks another.
class ScoreSource {
 public:
  virtual ~ScoreSource() = default;
  // Input labels 1 .. NumLabels() have costs: the columns, or the labels of a label map.
  virtual int64_t NumLabels() const = 0;
  // Frames that can be read now (a stream's grow as chunks arrive).
  virtual int64_t NumFramesReady() const = 0;
  // Fills `costs` (size NumLabels() + 1, costs[0] unused) with frame t's acoustic costs; throws
  // InputError naming the input, frame and column for NaN or +inf.
  virtual void Costs(int64_t t, std::vector<float>* costs) const = 0;
};

// A whole [T, V] matrix owned by the caller.
class FrameScores : public ScoreSource {
 public:
  // Validates the shape (T >= 1, V >= 1); NaN and +inf are reported by Costs() with their
  // frame and column. `what` names the input in messages ("emissions", "emissions[3]").
  FrameScores(const ScoreMatrix& scores, const ScoreTransform& transform, const char* what);

  int64_t NumFrames() const { return scores_.num_frames; }
  int64_t NumLabels() const override;
  int64_t NumFramesReady() const override { return scores_.num_frames; }
  // Not for concurrent calls on one object (each search reads its own source).
  void Costs(int64_t t, std::vector<float>* costs) const override;

 private:
  ScoreMatrix scores_;
  ScoreTransform transform_;
  const char* what_;
  mutable std::vector<float> column_costs_;  // a frame's costs by column, with a label map
};

// A stream's scores: chunks of [t, V] frames turned into costs as they arrive (any strides),
// read by absolute frame number; frames the search has consumed can be dropped. Owns its copy
// of the priors.
class ChunkScores : public ScoreSource {
 public:
  ChunkScores(int64_t num_columns, const ScoreTransform& transform, std::string what);

  // Appends the chunk's frames (its column count must be the stream's; no frames is fine).
  // InputError, and nothing appended, when a frame holds NaN or +inf (named by its frame
  // number in the stream).
  void Append(const ScoreMatrix& chunk);
  // Frames before `t` will not be read again.
  void DiscardBefore(int64_t t);

  int64_t NumLabels() const override;
  int64_t NumFramesReady() const override { return first_frame_ + held_frames_; }
  void Costs(int64_t t, std::vector<float>* costs) const override;

 private:
  int64_t num_columns_;
  ScoreTransform transform_;
  std::vector<float> priors_;
  std::vector<int32_t> label_columns_;
  std::string what_;
  std::vector<float> frames_;  // held frames' costs, row-major, from first_frame_ on
  int64_t first_frame_ = 0;
  int64_t held_frames_ = 0;
};

}  // namespace pywfst
