#include "cuda/batch_search.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/errors.h"
#include "fst/nonterminal.h"

namespace pywfst {
namespace {

using steps::Step;

constexpr int32_t kProbeLimit = 128;
constexpr int64_t kInitialRecords = 1 << 16;  // per lane; grows as utterances need
constexpr int32_t kInterruptSteps = 16;

int32_t MapCapacity(int32_t max_active) {
  int32_t capacity = 1024;
  while (capacity < 4 * int64_t{max_active} && capacity < (1 << 26)) capacity *= 2;
  return capacity;
}

template <typename T>
DeviceArray<T> UploadVector(Backend* backend, const std::vector<T>& host) {
  DeviceArray<T> array(backend, host.size());
  backend->Upload(array.data(), host.data(), host.size() * sizeof(T));
  return array;
}

}  // namespace

DeviceGraph::DeviceGraph(std::shared_ptr<const CsrGraph> graph, std::shared_ptr<Backend> backend)
    : graph_(std::move(graph)), backend_(std::move(backend)) {
  const CsrGraph& g = *graph_;
  if (g.NumNonterminalArcs() > 0)
    throw InputError("the graph has class slots; decode it on the CPU (device='cpu')");
  const StateId n = g.NumStates();
  const int64_t num_arcs = g.NumEmittingArcs() + g.NumEpsilonArcs();  // no nonterminals here
  if (num_arcs >= int64_t{kNoArc})
    throw InputError(Concat("the graph has ", num_arcs, " arcs; the GPU decoder takes fewer than ",
                            kNoArc));
  std::vector<int64_t> arc_begin(n + 1), epsilon_begin(n);
  std::vector<int32_t> ilabel(num_arcs), olabel(num_arcs), nextstate(num_arcs), source(num_arcs);
  std::vector<float> weight(num_arcs), final_cost(n);
  const GraphArc* arcs = g.ArcData();
  for (StateId s = 0; s < n; ++s) {
    arc_begin[s] = g.ArcBegin(s);
    epsilon_begin[s] = g.EpsilonBegin(s);
    final_cost[s] = g.Final(s);
    const int64_t end = g.EpsilonBegin(s) + static_cast<int64_t>(g.EpsilonArcs(s).size());
    for (int64_t a = g.ArcBegin(s); a < end; ++a) source[a] = s;
  }
  arc_begin[n] = num_arcs;
  for (int64_t a = 0; a < num_arcs; ++a) {
    ilabel[a] = arcs[a].ilabel;
    olabel[a] = arcs[a].olabel;
    weight[a] = arcs[a].weight;
    nextstate[a] = arcs[a].nextstate;
  }
  Backend* b = backend_.get();
  arc_begin_ = UploadVector(b, arc_begin);
  epsilon_begin_ = UploadVector(b, epsilon_begin);
  ilabel_ = UploadVector(b, ilabel);
  olabel_ = UploadVector(b, olabel);
  nextstate_ = UploadVector(b, nextstate);
  source_ = UploadVector(b, source);
  weight_ = UploadVector(b, weight);
  final_cost_ = UploadVector(b, final_cost);
  view_ = {n,
           g.Start(),
           arc_begin_.data(),
           epsilon_begin_.data(),
           ilabel_.data(),
           olabel_.data(),
           weight_.data(),
           nextstate_.data(),
           source_.data(),
           final_cost_.data()};
}

size_t BatchSearch::LaneBytes(int32_t max_active) {
  const size_t slots = static_cast<size_t>(MapCapacity(max_active));
  // two maps (key, packed, slot_token, token_slot), two frontiers (slot, cost), queued, records
  return slots * (2 * (4 + 8 + 4 + 4) + 2 * (4 + 4) + 4) + kInitialRecords * sizeof(PathStep);
}

BatchSearch::BatchSearch(std::shared_ptr<const DeviceGraph> graph, const DecoderOptions& options,
                         int32_t num_lanes)
    : graph_(std::move(graph)), backend_(graph_->GetBackend().get()), options_(options),
      num_lanes_(num_lanes), capacity_(MapCapacity(options.max_active)) {
  options_.Check();
  if (options_.nbest != 1)
    throw InputError(Concat("nbest: the GPU decoder returns the 1-best only; got nbest=",
                            options_.nbest, " (use device='cpu' for n-best)"));
  if (options_.lattice)
    throw InputError("lattice: the GPU decoder returns the 1-best only (use device='cpu' for "
                     "lattices)");
  if (options_.lm_weight != 1.0f || options_.word_insertion_penalty != 0.0f)
    throw InputError("lm_weight, word_insertion_penalty: not in the GPU decoder yet (use "
                     "device='cpu', or fold them into the graph)");
  if (num_lanes < 1) throw InputError(Concat("lanes: must be >= 1, got ", num_lanes));
  const size_t slots = static_cast<size_t>(num_lanes) * capacity_;
  for (int m = 0; m < 2; ++m) {
    keys_[m] = DeviceArray<int32_t>(backend_, slots);
    packed_[m] = DeviceArray<uint64_t>(backend_, slots);
    slot_token_[m] = DeviceArray<int32_t>(backend_, slots);
    token_slot_[m] = DeviceArray<int32_t>(backend_, slots);
    token_count_[m] = DeviceArray<int32_t>(backend_, num_lanes);
    frontier_slot_[m] = DeviceArray<int32_t>(backend_, slots);
    frontier_cost_[m] = DeviceArray<float>(backend_, slots);
    frontier_count_[m] = DeviceArray<int32_t>(backend_, num_lanes);
  }
  queued_ = DeviceArray<int32_t>(backend_, slots);
  histogram_ = DeviceArray<int32_t>(backend_, size_t{static_cast<size_t>(num_lanes)} * kHistogramBins);
  control_ = DeviceArray<LaneControl>(backend_, num_lanes);
  records_ = DeviceArray<PathStep>(backend_, static_cast<size_t>(num_lanes) * kInitialRecords);
  lane_scores_.resize(num_lanes);
  host_control_.assign(num_lanes, LaneControl{});
  host_counts_.assign(num_lanes, 0);

  view_.graph = graph_->View();
  view_.options = {options_.beam, options_.max_active, options_.min_active, options_.beam_delta,
                   1.0f, 0, nullptr};
  view_.num_lanes = num_lanes;
  view_.capacity = capacity_;
  view_.probe_limit = kProbeLimit;
  for (int m = 0; m < 2; ++m) {
    view_.keys[m] = keys_[m].data();
    view_.packed[m] = packed_[m].data();
    view_.slot_token[m] = slot_token_[m].data();
    view_.token_slot[m] = token_slot_[m].data();
    view_.token_count[m] = token_count_[m].data();
    view_.frontier_slot[m] = frontier_slot_[m].data();
    view_.frontier_cost[m] = frontier_cost_[m].data();
    view_.frontier_count[m] = frontier_count_[m].data();
  }
  view_.queued = queued_.data();
  view_.histogram = histogram_.data();
  view_.control = control_.data();
  view_.records = records_.data();
  view_.record_capacity = kInitialRecords;
  ResetLanes();
}

void BatchSearch::ResetLanes() {
  const size_t slots = static_cast<size_t>(num_lanes_) * capacity_;
  for (int m = 0; m < 2; ++m) {
    backend_->Fill(keys_[m].data(), 0xFF, slots * sizeof(int32_t));      // kEmptyKey
    backend_->Fill(packed_[m].data(), 0xFF, slots * sizeof(uint64_t));  // kEmptyPacked
    backend_->Fill(token_count_[m].data(), 0, num_lanes_ * sizeof(int32_t));
    backend_->Fill(frontier_count_[m].data(), 0, num_lanes_ * sizeof(int32_t));
  }
  backend_->Fill(queued_.data(), 0, slots * sizeof(int32_t));
}

void BatchSearch::Run(Step step, int32_t mask, int32_t items, bool flipped) {
  if (items <= 0) return;
  steps::Pass pass{view_, mask};
  if (flipped) pass.view.previous = 1 - view_.previous;
  backend_->Run(step, pass, num_lanes_, items);
}

int32_t BatchSearch::MaxCount(const int32_t* device_counts) {
  backend_->Download(host_counts_.data(), device_counts, host_counts_.size() * sizeof(int32_t));
  return *std::max_element(host_counts_.begin(), host_counts_.end());
}

void BatchSearch::Closure(int32_t mask, bool flipped) {
  const int32_t current = flipped ? view_.previous : 1 - view_.previous;
  view_.frontier = 0;
  Run(Step::kBeginClosure, mask, 1, flipped);
  Run(Step::kInitFrontier, mask, MaxCount(view_.token_count[current]), flipped);
  while (true) {
    const int32_t frontier = MaxCount(view_.frontier_count[view_.frontier]);
    if (frontier == 0) break;
    Run(Step::kEpsilon, mask, frontier * steps::kArcThreads, flipped);
    Run(Step::kAdvanceFrontier, mask, MaxCount(view_.frontier_count[1 - view_.frontier]), flipped);
    Run(Step::kEndRound, mask, 1, flipped);
    view_.frontier = 1 - view_.frontier;
  }
  const int32_t tokens = MaxCount(view_.token_count[current]);
  Run(Step::kResetStats, mask, kHistogramBins, flipped);
  Run(Step::kRecords, mask, tokens, flipped);
  Run(Step::kHistogram, mask, tokens, flipped);
}

// Starting lanes: the start token and its epsilon closure go to the map that the next frame
// reads as its previous one (the view flipped), with the first path records.
void BatchSearch::StartLanes() {
  EnsureRecordCapacity(capacity_);
  Closure(steps::kStarting, true);
  Run(Step::kEndFrame, steps::kStarting, 1, true);
}

void BatchSearch::DecodeFrame() {
  Run(Step::kFrameCosts, steps::kActive, 1);
  Run(Step::kBeginFrame, steps::kActive, 1);
  Run(Step::kBound, steps::kActive, steps::kArcThreads);
  const int32_t previous_tokens = MaxCount(view_.token_count[view_.previous]);
  Run(Step::kExpand, steps::kActive, previous_tokens * steps::kArcThreads);
  Closure(steps::kActive, false);
  Run(Step::kFinal, steps::kFinishing, MaxCount(view_.token_count[1 - view_.previous]));
  Run(Step::kClear, steps::kActive, previous_tokens);
  Run(Step::kEndFrame, steps::kActive, 1);
}

void BatchSearch::EnsureRecordCapacity(int64_t needed) {
  if (needed <= view_.record_capacity) return;
  int64_t capacity = view_.record_capacity;
  while (capacity < needed) capacity *= 2;
  DeviceArray<PathStep> grown(backend_, static_cast<size_t>(num_lanes_) * capacity);
  for (int32_t lane = 0; lane < num_lanes_; ++lane)
    backend_->CopyOnDevice(grown.data() + lane * capacity,
                           records_.data() + lane * view_.record_capacity,
                           view_.record_capacity * sizeof(PathStep));
  records_ = std::move(grown);
  view_.records = records_.data();
  view_.record_capacity = capacity;
}

std::vector<DecodeResult> BatchSearch::Decode(const std::vector<LaneScores>& utterances,
                                              const ScoreTransform& transform,
                                              const InterruptCheck& interrupted) {
  if (in_use_.exchange(true))
    throw UsageError("the GPU search is already decoding in another thread; use one Decoder "
                     "call at a time per device search");
  // A call that stopped half way (bad scores, Ctrl-C) leaves tokens in the maps: the next one
  // starts from empty lanes.
  if (interrupted_) ResetLanes();
  interrupted_ = true;
  struct Release {
    std::atomic<bool>& in_use;
    ~Release() { in_use = false; }
  } release{in_use_};

  const CsrGraph& host_graph = graph_->Host();
  int32_t max_columns = 1;
  for (const LaneScores& u : utterances) {
    if (u.matrix.num_frames < 1) throw InputError(Concat(u.name, ": no frames (T == 0)"));
    if (u.matrix.num_columns < host_graph.MaxInputLabel())
      throw InputError(Concat(u.name, " has ", u.matrix.num_columns,
                              " columns but the graph reads column ",
                              host_graph.MaxInputLabel() - 1, ": give at least ",
                              host_graph.MaxInputLabel(), " columns"));
    if (u.matrix.num_frames > std::numeric_limits<int32_t>::max() ||
        u.matrix.num_columns > std::numeric_limits<int32_t>::max())
      throw InputError(Concat(u.name, ": too many frames or columns"));
    max_columns = std::max(max_columns, static_cast<int32_t>(u.matrix.num_columns));
  }
  if (!(transform.acoustic_scale > 0.0f) || !std::isfinite(transform.acoustic_scale))
    throw InputError(Concat("acoustic_scale: must be a finite number > 0, got ",
                            transform.acoustic_scale));
  const size_t cost_slots = static_cast<size_t>(num_lanes_) * (max_columns + 1);
  if (frame_costs_.size() < cost_slots) frame_costs_ = DeviceArray<float>(backend_, cost_slots);
  view_.frame_costs = frame_costs_.data();
  view_.num_columns = max_columns;
  view_.options.acoustic_scale = transform.acoustic_scale;
  view_.options.log_softmax = transform.log_softmax ? 1 : 0;
  view_.options.log_priors = nullptr;
  if (transform.log_priors != nullptr) {
    // The priors cover the columns of every utterance (checked by the caller).
    priors_ = DeviceArray<float>(backend_, static_cast<size_t>(max_columns));
    backend_->Upload(priors_.data(), transform.log_priors, max_columns * sizeof(float));
    view_.options.log_priors = priors_.data();
  }

  std::vector<DecodeResult> results(utterances.size());
  std::vector<int64_t> lane_utterance(num_lanes_, -1);
  size_t next = 0;
  for (int64_t step = 0;; ++step) {
    if (interrupted && step % kInterruptSteps == kInterruptSteps - 1 && interrupted())
      throw Interrupted();
    bool starting = false;
    for (int32_t lane = 0; lane < num_lanes_; ++lane) {
      LaneControl& c = host_control_[lane];
      c.starting = 0;
      if (lane_utterance[lane] >= 0 || next == utterances.size()) continue;
      const LaneScores& u = utterances[next];
      lane_utterance[lane] = static_cast<int64_t>(next++);
      c = LaneControl{};
      c.starting = 1;
      c.scores = u.matrix.data;
      c.frame_stride = u.matrix.frame_stride;
      c.column_stride = u.matrix.column_stride;
      c.num_columns = static_cast<int32_t>(u.matrix.num_columns);
      c.best_token = c.best_final = parallel::kEmptyPacked;
      c.bad_score = -1;
      if (!u.on_device && backend_->SeparateMemory()) {  // copy up, contiguous
        const ScoreMatrix& m = u.matrix;
        std::vector<float> contiguous(static_cast<size_t>(m.num_frames * m.num_columns));
        for (int64_t t = 0; t < m.num_frames; ++t)
          for (int64_t j = 0; j < m.num_columns; ++j)
            contiguous[t * m.num_columns + j] = m.data[t * m.frame_stride + j * m.column_stride];
        lane_scores_[lane] = UploadVector(backend_, contiguous);
        c.scores = lane_scores_[lane].data();
        c.frame_stride = m.num_columns;
        c.column_stride = 1;
      }
      starting = true;
    }
    if (starting) {
      backend_->Upload(control_.data(), host_control_.data(), num_lanes_ * sizeof(LaneControl));
      StartLanes();
      backend_->Download(host_control_.data(), control_.data(), num_lanes_ * sizeof(LaneControl));
    }
    bool any_active = false;
    int64_t needed = 0;
    for (int32_t lane = 0; lane < num_lanes_; ++lane) {
      LaneControl& c = host_control_[lane];
      c.starting = 0;
      c.active = lane_utterance[lane] >= 0;
      if (!c.active) continue;
      any_active = true;
      const int64_t frames = utterances[lane_utterance[lane]].matrix.num_frames;
      c.finishing = c.frame == frames - 1;
      needed = std::max<int64_t>(needed, int64_t{c.previous_record_base} + 2 * capacity_);
    }
    if (!any_active) break;
    EnsureRecordCapacity(needed);
    backend_->Upload(control_.data(), host_control_.data(), num_lanes_ * sizeof(LaneControl));
    DecodeFrame();
    backend_->Download(host_control_.data(), control_.data(), num_lanes_ * sizeof(LaneControl));
    const int32_t current_tokens = MaxCount(view_.token_count[1 - view_.previous]);
    for (int32_t lane = 0; lane < num_lanes_; ++lane) {
      LaneControl& c = host_control_[lane];
      if (lane_utterance[lane] < 0) continue;
      const LaneScores& u = utterances[lane_utterance[lane]];
      if (c.bad_score >= 0) {
        const int64_t t = c.bad_score / c.num_columns, j = c.bad_score % c.num_columns;
        const float value = u.on_device && backend_->SeparateMemory()
                                ? std::numeric_limits<float>::quiet_NaN()
                                : u.matrix.data[t * u.matrix.frame_stride + j * u.matrix.column_stride];
        throw InputError(Concat(u.name, "[", t, ", ", j, "] is ",
                                std::isnan(value) ? "nan or inf" : Concat(value),
                                ": scores must be log-probabilities or logits (finite or -inf)"));
      }
      if (c.finishing) {
        results[lane_utterance[lane]] = Traceback(lane, u);
        lane_utterance[lane] = -1;
      } else {
        ++c.frame;
      }
    }
    // Finished lanes empty their current map (the flipped view's previous one), all at once
    // after every traceback has read its records.
    Run(Step::kClear, steps::kFinishing, current_tokens, true);
    Run(Step::kEndFrame, steps::kFinishing, 1, true);
    for (int32_t lane = 0; lane < num_lanes_; ++lane) {
      LaneControl& c = host_control_[lane];
      if (c.finishing) c.active = c.finishing = 0;
    }
    view_.previous = 1 - view_.previous;
  }
  interrupted_ = false;
  return results;
}

DecodeResult BatchSearch::Traceback(int32_t lane, const LaneScores& utterance) {
  DecodeResult result;
  result.num_frames = utterance.matrix.num_frames;
  LaneControl& c = host_control_[lane];
  const int32_t tokens = host_counts_[lane];  // of the current map, downloaded by the caller
  if (tokens == 0 || c.best_token == parallel::kEmptyPacked) return result;  // all pruned
  result.reached_final = c.best_final != parallel::kEmptyPacked;
  const uint64_t best = result.reached_final ? c.best_final : c.best_token;
  const int64_t last = int64_t{c.record_base} + parallel::PackedTieBreaker(best);
  std::vector<PathStep> records(static_cast<size_t>(c.record_base) + tokens);
  backend_->Download(records.data(), records_.data() + lane * view_.record_capacity,
                     records.size() * sizeof(PathStep));

  std::vector<uint32_t> arcs;
  for (int64_t r = last; r >= 0; r = records[r].previous) {
    if (records[r].arc != kNoArc) arcs.push_back(records[r].arc);
    if (static_cast<int64_t>(arcs.size()) > int64_t{2} * static_cast<int64_t>(records.size()))
      throw std::logic_error("GPU traceback: the path records form a cycle");
  }
  std::reverse(arcs.begin(), arcs.end());
  const CsrGraph& g = graph_->Host();
  const GraphArc* all = g.ArcData();
  Hypothesis hypothesis;
  double graph_cost = 0.0;
  int32_t frame = 0;
  StateId state = g.Start();
  for (uint32_t a : arcs) {
    const GraphArc& arc = all[a];
    graph_cost += arc.weight;
    if (arc.ilabel > 0) {
      if (arc.olabel != 0) hypothesis.words.push_back({arc.olabel, frame});
      hypothesis.alignment.push_back(arc.ilabel);
      hypothesis.continues_token.push_back(arc.nextstate == state);
      ++frame;
    } else if (arc.olabel != 0) {
      hypothesis.words.push_back({arc.olabel, std::max(frame - 1, 0)});
    }
    state = arc.nextstate;
  }
  if (result.reached_final) graph_cost += g.Final(state);
  hypothesis.total_cost = parallel::PackedCost(best);
  hypothesis.acoustic_cost = hypothesis.total_cost - graph_cost;
  result.hypotheses.push_back(std::move(hypothesis));
  return result;
}

}  // namespace pywfst
