#include "decoder/batch_decode.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

namespace pywfst {

std::vector<DecodeResult> DecodeBatch(const std::shared_ptr<const CsrGraph>& graph,
                                      const DecoderOptions& options,
                                      const std::vector<FrameScores>& utterances, int num_threads,
                                      const PhraseBoost* boost, const ClassGraphs* classes) {
  options.Check();
  std::vector<DecodeResult> results(utterances.size());
  if (num_threads <= 0) num_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  num_threads = static_cast<int>(std::min<size_t>(static_cast<size_t>(num_threads), utterances.size()));
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  auto work = [&]() {
    try {
      BeamSearch search(graph, options);
      for (size_t i = next++; i < utterances.size() && !failed; i = next++)
        results[i] = search.Decode(utterances[i], boost, classes);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!first_error) first_error = std::current_exception();
      failed = true;
    }
  };
  if (num_threads <= 1) {
    work();
  } else {
    std::vector<std::thread> threads;
    for (int i = 0; i < num_threads; ++i) threads.emplace_back(work);
    for (std::thread& thread : threads) thread.join();
  }
  if (first_error) std::rethrow_exception(first_error);
  return results;
}

}  // namespace pywfst
