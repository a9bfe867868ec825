#include "decoder/frame_scores.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/errors.h"

namespace pywfst {

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
  const float* row = scores_.data + t * scores_.frame_stride;
  for (int64_t j = 0; j < num_columns; ++j) {
    const float value = row[j * scores_.column_stride];
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
  if (transform_.log_priors != nullptr)
    for (int64_t j = 0; j < num_columns; ++j) out[j] -= transform_.log_priors[j];
  const float scale = transform_.acoustic_scale;
  for (int64_t j = 0; j < num_columns; ++j) out[j] = -(scale * out[j]);
}

}  // namespace pywfst
