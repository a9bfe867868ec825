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

}  // namespace

FrameScores::FrameScores(const ScoreMatrix& scores, const ScoreTransform& transform,
                         const char* what)
    : scores_(scores), transform_(transform), what_(what) {
  if (scores.num_frames < 1) throw InputError(Concat(what, ": no frames (T == 0)"));
  if (scores.num_columns < 1) throw InputError(Concat(what, ": no columns (V == 0)"));
  if (scores.data == nullptr) throw InputError(Concat(what, ": null data"));
  if (!(transform.acoustic_scale > 0.0f) || !std::isfinite(transform.acoustic_scale))
    throw InputError(Concat("acoustic_scale: must be a finite number > 0, got ",
                            transform.acoustic_scale));
}

void FrameScores::Costs(int64_t t, std::vector<float>* costs) const {
  const int64_t num_columns = scores_.num_columns;
  costs->resize(static_cast<size_t>(num_columns) + 1);
  float* out = costs->data() + 1;
  // Byte addressing: the data may sit at any byte offset.
  const int64_t column_bytes = scores_.column_stride * static_cast<int64_t>(sizeof(float));
  const char* row = reinterpret_cast<const char*>(scores_.data) +
                    t * scores_.frame_stride * static_cast<int64_t>(sizeof(float));
  for (int64_t j = 0; j < num_columns; ++j) {
    const float value = LoadFloat(row + j * column_bytes);
    if (std::isnan(value) || value == std::numeric_limits<float>::infinity())
      throw InputError(Concat(what_, "[", t, ", ", j, "] is ", value,
                              ": scores must be log-probabilities or logits (finite or -inf)"));
    out[j] = value;
  }
  if (transform_.log_softmax) {
    const float max_value = *std::max_element(out, out + num_columns);
    if (max_value == -std::numeric_limits<float>::infinity())
      throw InputError(Concat(what_, "[", t, "]: every logit is -inf"));
    double sum = 0.0;
    for (int64_t j = 0; j < num_columns; ++j) sum += std::exp(double(out[j]) - max_value);
    const float log_norm = max_value + static_cast<float>(std::log(sum));
    for (int64_t j = 0; j < num_columns; ++j) out[j] -= log_norm;
  }
  if (transform_.log_priors != nullptr) {
    const char* priors = reinterpret_cast<const char*>(transform_.log_priors);
    for (int64_t j = 0; j < num_columns; ++j)
      out[j] -= LoadFloat(priors + j * static_cast<int64_t>(sizeof(float)));
  }
  const float scale = transform_.acoustic_scale;
  for (int64_t j = 0; j < num_columns; ++j) out[j] = -(scale * out[j]);
}

}  // namespace pywfst
