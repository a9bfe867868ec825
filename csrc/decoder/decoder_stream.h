// DecoderStream: one utterance after another, each decoded as its scores arrive in chunks
// (streaming). Each utterance's Finish() gives exactly what BeamSearch::Decode() of all its
// frames gives (same search, frame by frame), then the stream starts the next utterance.
//
// Between chunks the search keeps its tokens and path records; the scores of decoded frames are
// dropped (acoustic costs travel with the tokens). PartialWords() and Endpoint() read the
// cheapest path so far without a full traceback of its alignment.
//
// Ownership: holds the graph, the phrase boost and the class sub-graphs (shared), and its own
// search; one call at a time (UsageError from a second thread).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "decoder/beam_search.h"

namespace pywfst {

class DecoderStream {
 public:
  DecoderStream(std::shared_ptr<const CsrGraph> graph, const DecoderOptions& options,
                int64_t num_columns, const ScoreTransform& transform,
                std::shared_ptr<const PhraseBoost> boost, ClassGraphs classes, std::string what);

  // Appends [t, V] scores (any t >= 0) and decodes them.
  void Accept(const ScoreMatrix& chunk, const InterruptCheck& interrupted = {});
  std::vector<Label> PartialWords() const { return search_.PartialWords(); }
  BeamSearch::EndpointState Endpoint(const std::vector<Label>& silence) const {
    return search_.Endpoint(silence);
  }
  int64_t FramesDecoded() const { return search_.FramesDecoded(); }
  // The utterance's result; the stream then starts the next one.
  DecodeResult Finish();

 private:
  void Restart();

  std::shared_ptr<const PhraseBoost> boost_;
  ClassGraphs classes_;
  int64_t num_columns_;
  ScoreTransform transform_;
  std::vector<float> priors_;
  std::vector<int32_t> label_columns_;
  std::string what_;
  BeamSearch search_;
  std::unique_ptr<ChunkScores> scores_;
};

}  // namespace pywfst
