#include "decoder/batch_decode.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

#include "common/errors.h"

namespace pywfst {

std::vector<DecodeResult> DecodeBatch(const std::shared_ptr<const CsrGraph>& graph,
                                      const DecoderOptions& options,
                                      const std::vector<FrameScores>& utterances, int num_threads,
                                      const PhraseBoost* boost, const ClassGraphs* classes,
                                      const InterruptCheck& interrupted) {
  options.Check();
  std::vector<DecodeResult> results(utterances.size());
  if (num_threads <= 0) num_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  num_threads = static_cast<int>(std::min<size_t>(static_cast<size_t>(num_threads), utterances.size()));
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};  // an utterance failed, or the caller was interrupted
  std::exception_ptr first_error;
  std::mutex mutex;  // guards first_error and running
  std::condition_variable finished;
  int running = 0;  // worker threads not yet done
  auto fail = [&](std::exception_ptr error) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!first_error) first_error = error;
    stop = true;
  };
  // Decodes utterances until none is left or `stop`; `check` is what its searches poll.
  auto work = [&](const InterruptCheck& check) {
    try {
      BeamSearch search(graph, options);
      for (size_t i = next++; i < utterances.size() && !stop; i = next++)
        results[i] = search.Decode(utterances[i], boost, classes, check);
    } catch (...) {
      fail(std::current_exception());
    }
  };
  if (num_threads <= 1) {
    work(interrupted);
  } else {
    // Workers poll `stop`; this thread polls the caller's check (Python signals are handled on
    // the thread that called) while it waits, and sets `stop` when it fires.
    const InterruptCheck stopped = [&stop] { return stop.load(); };
    std::vector<std::thread> threads;
    for (int i = 0; i < num_threads && !stop; ++i) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        ++running;
      }
      try {
        threads.emplace_back([&] {
          work(stopped);
          std::lock_guard<std::mutex> lock(mutex);
          --running;
          finished.notify_all();
        });
      } catch (...) {  // no thread could be started: let those running stop, then report it
        fail(std::current_exception());
        std::lock_guard<std::mutex> lock(mutex);
        --running;
      }
    }
    std::unique_lock<std::mutex> lock(mutex);
    while (!finished.wait_for(lock, std::chrono::milliseconds(50), [&] { return running == 0; })) {
      if (!interrupted || stop) continue;
      lock.unlock();
      if (interrupted()) fail(std::make_exception_ptr(Interrupted()));
      lock.lock();
    }
    lock.unlock();
    for (std::thread& thread : threads) thread.join();
  }
  if (first_error) std::rethrow_exception(first_error);
  return results;
}

}  // namespace pywfst
