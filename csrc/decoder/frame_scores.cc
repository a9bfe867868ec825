#include "decoder/frame_scores.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/errors.h"

namespace pywfst {

namespace {

// numpy arrays need not be aligned (a float32 view at an odd byte offset of a buffer): load
// through memcpy, which compilers turn into the same single load as a plain dereference.
float LoadFloat(const char* p) {
  float value;
  std::memcpy(&value, p, sizeof(value));
  return value;
}

// Frame t's costs from its raw row (`column_bytes` apart): validated, normalised, priors
// subtracted, scaled.
void RowCosts(const char* row, int64_t column_bytes, int64_t num_columns,
              const ScoreTransform& transform, const char* what, int64_t t, float* out) {
  const float scale = transform.acoustic_scale;
  // Scores used as they are (the usual case) are scaled in the same pass that checks them.
  const bool as_they_are = !transform.log_softmax && transform.log_priors == nullptr;
  // NaN and +inf are the values not below +inf: the row is checked without a branch per value,
  // and looked at again only to name a bad one.
  constexpr float kInf = std::numeric_limits<float>::infinity();
  bool all_valid = true;
  for (int64_t j = 0; j < num_columns; ++j) {
    const float value = LoadFloat(row + j * column_bytes);
    all_valid &= value < kInf;
    out[j] = as_they_are ? -(scale * value) : value;
  }
  if (!all_valid) {
    for (int64_t j = 0; j < num_columns; ++j) {
      const float value = LoadFloat(row + j * column_bytes);
      if (!(value < kInf))
        throw InputError(Concat(what, "[", t, ", ", j, "] is ", value,
                                ": scores must be log-probabilities or logits (finite or -inf)"));
    }
  }
  if (as_they_are) return;
  if (transform.log_softmax) {
    const float max_value = *std::max_element(out, out + num_columns);
    if (max_value == -std::numeric_limits<float>::infinity())
      throw InputError(Concat(what, "[", t, "]: every logit is -inf"));
    double sum = 0.0;
    for (int64_t j = 0; j < num_columns; ++j) sum += std::exp(double(out[j]) - max_value);
    const float log_norm = max_value + static_cast<float>(std::log(sum));
    for (int64_t j = 0; j < num_columns; ++j) out[j] -= log_norm;
  }
  if (transform.log_priors != nullptr) {
    const char* priors = reinterpret_cast<const char*>(transform.log_priors);
    for (int64_t j = 0; j < num_columns; ++j)
      out[j] -= LoadFloat(priors + j * static_cast<int64_t>(sizeof(float)));
  }
  for (int64_t j = 0; j < num_columns; ++j) out[j] = -(scale * out[j]);
}

void CheckScale(float acoustic_scale) {
  if (!(acoustic_scale > 0.0f) || !std::isfinite(acoustic_scale))
    throw InputError(Concat("acoustic_scale: must be a finite number > 0, got ", acoustic_scale));
}

int64_t LabelCount(const ScoreTransform& transform, int64_t num_columns) {
  return transform.label_columns != nullptr ? transform.num_labels : num_columns;
}

// costs[l] = column_costs[label_columns[l]] for l = 1 .. num_labels.
void GatherLabels(const float* column_costs, const ScoreTransform& transform,
                  std::vector<float>* costs) {
  costs->resize(static_cast<size_t>(transform.num_labels) + 1);
  float* out = costs->data();
  for (int64_t l = 1; l <= transform.num_labels; ++l)
    out[l] = column_costs[transform.label_columns[l]];
}

}  // namespace

FrameScores::FrameScores(const ScoreMatrix& scores, const ScoreTransform& transform,
                         const char* what)
    : scores_(scores), transform_(transform), what_(what) {
  if (scores.num_frames < 1) throw InputError(Concat(what, ": no frames (T == 0)"));
  if (scores.num_columns < 1) throw InputError(Concat(what, ": no columns (V == 0)"));
  if (scores.data == nullptr) throw InputError(Concat(what, ": null data"));
  CheckScale(transform.acoustic_scale);
}

int64_t FrameScores::NumLabels() const { return LabelCount(transform_, scores_.num_columns); }

void FrameScores::Costs(int64_t t, std::vector<float>* costs) const {
  const bool mapped = transform_.label_columns != nullptr;
  std::vector<float>* by_column = mapped ? &column_costs_ : costs;
  by_column->resize(static_cast<size_t>(scores_.num_columns) + 1);
  // Byte addressing: the data may sit at any byte offset.
  const int64_t item = static_cast<int64_t>(sizeof(float));
  RowCosts(reinterpret_cast<const char*>(scores_.data) + t * scores_.frame_stride * item,
           scores_.column_stride * item, scores_.num_columns, transform_, what_, t,
           by_column->data() + 1);
  if (mapped) GatherLabels(by_column->data() + 1, transform_, costs);
}

ChunkScores::ChunkScores(int64_t num_columns, const ScoreTransform& transform, std::string what)
    : num_columns_(num_columns), transform_(transform), what_(std::move(what)) {
  if (num_columns < 1) throw InputError(Concat(what_, ": no columns (V == 0)"));
  CheckScale(transform.acoustic_scale);
  if (transform.log_priors != nullptr) {
    priors_.resize(static_cast<size_t>(num_columns));
    std::memcpy(priors_.data(), transform.log_priors, priors_.size() * sizeof(float));
    transform_.log_priors = priors_.data();
  }
  if (transform.label_columns != nullptr) {
    label_columns_.assign(transform.label_columns, transform.label_columns + transform.num_labels + 1);
    transform_.label_columns = label_columns_.data();
  }
}

int64_t ChunkScores::NumLabels() const { return LabelCount(transform_, num_columns_); }

void ChunkScores::Append(const ScoreMatrix& chunk) {
  if (chunk.num_frames == 0) return;
  if (chunk.num_columns != num_columns_)
    throw InputError(Concat(what_, ": a chunk of ", chunk.num_columns, " columns; the stream has ",
                            num_columns_));
  if (chunk.data == nullptr) throw InputError(Concat(what_, ": null data"));
  const int64_t item = static_cast<int64_t>(sizeof(float));
  const char* base = reinterpret_cast<const char*>(chunk.data);
  // The frames' costs are computed (and checked) here, into the space after the held frames,
  // and kept only when the whole chunk is good: a bad chunk leaves the stream as it was.
  const size_t held = frames_.size();
  frames_.resize(held + static_cast<size_t>(chunk.num_frames * num_columns_));
  try {
    for (int64_t t = 0; t < chunk.num_frames; ++t)
      RowCosts(base + t * chunk.frame_stride * item, chunk.column_stride * item, num_columns_,
               transform_, what_.c_str(), NumFramesReady() + t,
               frames_.data() + held + t * num_columns_);
  } catch (...) {
    frames_.resize(held);
    throw;
  }
  held_frames_ += chunk.num_frames;
}

void ChunkScores::DiscardBefore(int64_t t) {
  const int64_t drop = std::min(t - first_frame_, held_frames_);
  if (drop <= 0) return;
  frames_.erase(frames_.begin(), frames_.begin() + drop * num_columns_);
  first_frame_ += drop;
  held_frames_ -= drop;
}

void ChunkScores::Costs(int64_t t, std::vector<float>* costs) const {
  if (t < first_frame_ || t >= NumFramesReady())
    throw std::logic_error(Concat("ChunkScores: frame ", t, " is not held"));
  const float* frame = frames_.data() + (t - first_frame_) * num_columns_;
  if (transform_.label_columns != nullptr) {
    GatherLabels(frame, transform_, costs);
    return;
  }
  costs->resize(static_cast<size_t>(num_columns_) + 1);
  std::copy(frame, frame + num_columns_, costs->data() + 1);
}

}  // namespace pywfst
