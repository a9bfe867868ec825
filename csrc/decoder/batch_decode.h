// Decoding many utterances on a pool of threads, one BeamSearch per thread over one shared graph.
// Results are identical to decoding the utterances one at a time, in any thread count.
#pragma once

#include <memory>
#include <vector>

#include "decoder/beam_search.h"

namespace pywfst {

// Decodes every entry of `utterances` with `num_threads` threads (0: hardware concurrency), each
// with `boost` and `classes` (may be null; shared read-only by the threads).
// The first error (an InputError naming the utterance) is rethrown once all threads stopped.
// `interrupted` (may be empty) is called from the calling thread only, about every 50 ms (and
// every BeamSearch::kInterruptInterval frames with one thread); when it returns true every thread
// stops and Interrupted is thrown.
std::vector<DecodeResult> DecodeBatch(const std::shared_ptr<const CsrGraph>& graph,
                                      const DecoderOptions& options,
                                      const std::vector<FrameScores>& utterances, int num_threads,
                                      const PhraseBoost* boost = nullptr,
                                      const ClassGraphs* classes = nullptr,
                                      const InterruptCheck& interrupted = {});

}  // namespace pywfst
