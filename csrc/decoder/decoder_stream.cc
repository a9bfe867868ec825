#include "decoder/decoder_stream.h"

#include <utility>

namespace pywfst {

DecoderStream::DecoderStream(std::shared_ptr<const CsrGraph> graph, const DecoderOptions& options,
                             int64_t num_columns, const ScoreTransform& transform,
                             std::shared_ptr<const PhraseBoost> boost, ClassGraphs classes,
                             std::string what)
    : boost_(std::move(boost)), classes_(std::move(classes)), num_columns_(num_columns),
      transform_(transform), what_(std::move(what)), search_(std::move(graph), options) {
  if (transform.log_priors != nullptr) {  // the caller's may go away after the constructor
    priors_.assign(transform.log_priors, transform.log_priors + num_columns);
    transform_.log_priors = priors_.data();
  }
  Restart();
}

void DecoderStream::Restart() {
  scores_ = std::make_unique<ChunkScores>(num_columns_, transform_, what_);
  search_.Start(num_columns_, boost_.get(), classes_.empty() ? nullptr : &classes_);
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
