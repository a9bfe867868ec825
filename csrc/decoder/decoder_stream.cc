#include "decoder/decoder_stream.h"

#include <utility>

namespace pywfst {

DecoderStream::DecoderStream(std::shared_ptr<const CsrGraph> graph, const DecoderOptions& options,
                             int64_t num_columns, const ScoreTransform& transform,
                             std::shared_ptr<const PhraseBoost> boost, ClassGraphs classes,
                             std::string what)
    : boost_(std::move(boost)), classes_(std::move(classes)), num_columns_(num_columns),
      transform_(transform), what_(std::move(what)), search_(std::move(graph), options) {
  // The caller's priors and label map may go away after the constructor.
  if (transform.log_priors != nullptr) {
    priors_.assign(transform.log_priors, transform.log_priors + num_columns);
    transform_.log_priors = priors_.data();
  }
  if (transform.label_columns != nullptr) {
    label_columns_.assign(transform.label_columns,
                          transform.label_columns + transform.num_labels + 1);
    transform_.label_columns = label_columns_.data();
  }
  Restart();
}

void DecoderStream::Restart() {
  scores_ = std::make_unique<ChunkScores>(num_columns_, transform_, what_);
  search_.Start(scores_->NumLabels(), boost_.get(), classes_.empty() ? nullptr : &classes_);
}

void DecoderStream::Accept(const ScoreMatrix& chunk, const InterruptCheck& interrupted) {
  scores_->Append(chunk);
  search_.Advance(*scores_, interrupted);
  scores_->DiscardBefore(search_.FramesDecoded());
}

DecodeResult DecoderStream::Finish() {
  DecodeResult result = search_.Finish();
  Restart();
  return result;
}

}  // namespace pywfst
