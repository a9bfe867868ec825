#include "decoder/beam_search.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <utility>

#include "common/errors.h"

namespace pywfst {
namespace {
constexpr double kInfinity = std::numeric_limits<double>::infinity();
// Compact the path-record arena once it holds this many records more than twice what survived
// the last compaction: amortised linear time, memory bounded by what live paths need.
constexpr size_t kCompactionSlack = 1 << 18;
}  // namespace

BeamSearch::BeamSearch(std::shared_ptr<const CsrGraph> graph, const DecoderOptions& options)
    : graph_(std::move(graph)), options_(options) {
  if (!graph_) throw InputError("graph: null");
  options_.Check();
  slot_of_state_.assign(static_cast<size_t>(graph_->NumStates()), -1);
}

void BeamSearch::InitDecoding() {
  for (const Token& token : tokens_) slot_of_state_[token.state] = -1;
  tokens_.clear();
  previous_tokens_.clear();
  records_.clear();
  records_after_compaction_ = 0;
  int32_t slot;
  Relax(graph_->Start(), 0.0, 0.0, -1, nullptr, false, &slot);
  ProcessNonemitting(std::numeric_limits<float>::max());
}

bool BeamSearch::Relax(StateId state, double cost, double acoustic_cost, int32_t record,
                       const GraphArc* arc, bool self_loop, int32_t* slot) {
  int32_t& existing = slot_of_state_[state];
  if (existing >= 0 && !(tokens_[existing].cost > cost)) return false;  // ties keep the first
  if (arc != nullptr && (arc->ilabel != 0 || arc->olabel != 0)) {
    records_.push_back({record, self_loop ? -arc->ilabel : arc->ilabel, arc->olabel});
    record = static_cast<int32_t>(records_.size()) - 1;
  }
  if (existing < 0) {
    existing = static_cast<int32_t>(tokens_.size());
    tokens_.push_back({state, cost, acoustic_cost, record});
  } else {
    tokens_[existing] = {state, cost, acoustic_cost, record};
  }
  *slot = existing;
  return true;
}

double BeamSearch::Cutoff(float* adaptive_beam, int32_t* best_slot) {
  const std::vector<Token>& tokens = previous_tokens_;
  double best_cost = kInfinity;
  *best_slot = -1;
  cost_scratch_.clear();
  for (size_t i = 0; i < tokens.size(); ++i) {
    cost_scratch_.push_back(tokens[i].cost);
    if (tokens[i].cost < best_cost) {
      best_cost = tokens[i].cost;
      *best_slot = static_cast<int32_t>(i);
    }
  }
  const size_t max_active = static_cast<size_t>(options_.max_active);
  const size_t min_active = static_cast<size_t>(options_.min_active);
  const double beam_cutoff = best_cost + options_.beam;
  double max_active_cutoff = kInfinity, min_active_cutoff = kInfinity;
  if (cost_scratch_.size() > max_active) {
    std::nth_element(cost_scratch_.begin(), cost_scratch_.begin() + max_active, cost_scratch_.end());
    max_active_cutoff = cost_scratch_[max_active];
  }
  if (max_active_cutoff < beam_cutoff) {  // max_active is tighter than the beam
    *adaptive_beam = static_cast<float>(max_active_cutoff - best_cost + options_.beam_delta);
    return max_active_cutoff;
  }
  if (cost_scratch_.size() > min_active) {
    if (min_active == 0) {
      min_active_cutoff = best_cost;
    } else {
      auto end = cost_scratch_.size() > max_active ? cost_scratch_.begin() + max_active
                                                   : cost_scratch_.end();
      std::nth_element(cost_scratch_.begin(), cost_scratch_.begin() + min_active, end);
      min_active_cutoff = cost_scratch_[min_active];
    }
  }
  if (min_active_cutoff > beam_cutoff) {  // min_active is looser than the beam
    *adaptive_beam = static_cast<float>(min_active_cutoff - best_cost + options_.beam_delta);
    return min_active_cutoff;
  }
  *adaptive_beam = options_.beam;
  return beam_cutoff;
}

double BeamSearch::ProcessEmitting(const std::vector<float>& costs) {
  std::swap(tokens_, previous_tokens_);
  for (const Token& token : previous_tokens_) slot_of_state_[token.state] = -1;
  tokens_.clear();
  float adaptive_beam = options_.beam;
  int32_t best_slot = -1;
  const double cutoff = Cutoff(&adaptive_beam, &best_slot);
  double next_cutoff = kInfinity;
  if (best_slot >= 0) {  // the best token's arcs give a first, usually tight, bound
    const Token& best = previous_tokens_[best_slot];
    for (const GraphArc& arc : graph_->EmittingArcs(best.state)) {
      const double cost = best.cost + arc.weight + costs[arc.ilabel];
      next_cutoff = std::min(next_cutoff, cost + adaptive_beam);
    }
  }
  for (const Token& token : previous_tokens_) {
    if (!(token.cost < cutoff)) continue;
    for (const GraphArc& arc : graph_->EmittingArcs(token.state)) {
      const float acoustic = costs[arc.ilabel];
      const double cost = token.cost + arc.weight + acoustic;
      if (!(cost < next_cutoff)) continue;
      int32_t slot;
      Relax(arc.nextstate, cost, token.acoustic_cost + acoustic, token.record, &arc,
            arc.nextstate == token.state, &slot);
      next_cutoff = std::min(next_cutoff, cost + adaptive_beam);
    }
  }
  return next_cutoff;
}

void BeamSearch::ProcessNonemitting(double cutoff) {
  queue_.clear();
  for (size_t i = 0; i < tokens_.size(); ++i) queue_.push_back(static_cast<int32_t>(i));
  while (!queue_.empty()) {
    const Token token = tokens_[queue_.back()];
    queue_.pop_back();
    if (token.cost > cutoff) continue;
    for (const GraphArc& arc : graph_->EpsilonArcs(token.state)) {
      const double cost = token.cost + arc.weight;
      if (cost > cutoff) continue;
      int32_t slot;
      if (Relax(arc.nextstate, cost, token.acoustic_cost, token.record, &arc, false, &slot))
        queue_.push_back(slot);
    }
  }
}

void BeamSearch::CompactRecords() {
  // Mark the records reachable from live tokens, then renumber them in order (a record's
  // predecessor always has a smaller index, so one forward pass rewrites the links).
  std::vector<int32_t>& new_index = compaction_scratch_;
  new_index.assign(records_.size(), -1);
  for (const Token& token : tokens_)
    for (int32_t r = token.record; r >= 0 && new_index[r] != 0; r = records_[r].previous)
      new_index[r] = 0;
  int32_t next = 0;
  for (size_t r = 0; r < records_.size(); ++r) {
    if (new_index[r] < 0) continue;
    PathRecord record = records_[r];
    if (record.previous >= 0) record.previous = new_index[record.previous];
    new_index[r] = next;
    records_[next++] = record;
  }
  records_.resize(static_cast<size_t>(next));
  for (Token& token : tokens_)
    if (token.record >= 0) token.record = new_index[token.record];
  records_after_compaction_ = records_.size();
}

DecodeResult BeamSearch::Decode(const FrameScores& scores) {
  if (scores.NumColumns() < graph_->MaxInputLabel())
    throw InputError(Concat("emissions have ", scores.NumColumns(), " columns but the graph reads ",
                            "column ", graph_->MaxInputLabel() - 1,
                            " (input label - 1): give at least ", graph_->MaxInputLabel(),
                            " columns"));
  InitDecoding();
  const int64_t num_frames = scores.NumFrames();
  for (int64_t t = 0; t < num_frames; ++t) {
    scores.Costs(t, &frame_costs_);
    ProcessNonemitting(ProcessEmitting(frame_costs_));
    if (records_.size() > 2 * records_after_compaction_ + kCompactionSlack) CompactRecords();
  }
  return BestPath(num_frames);
}

DecodeResult BeamSearch::BestPath(int64_t num_frames) const {
  DecodeResult result;
  result.num_frames = num_frames;
  const Token* best = nullptr;
  double best_cost = kInfinity;
  for (const Token& token : tokens_) {
    const double final_cost = token.cost + graph_->Final(token.state);
    if (final_cost < best_cost) {
      best_cost = final_cost;
      best = &token;
    }
  }
  result.reached_final = best != nullptr;
  if (!result.reached_final) {  // no final state survived: the best partial hypothesis
    for (const Token& token : tokens_) {
      if (token.cost < best_cost) {
        best_cost = token.cost;
        best = &token;
      }
    }
  }
  if (best == nullptr) return result;  // every token was pruned (cannot happen with beam > 0)
  result.total_cost = best_cost;
  result.acoustic_cost = best->acoustic_cost;
  std::vector<int32_t> path;
  for (int32_t r = best->record; r >= 0; r = records_[r].previous) path.push_back(r);
  int32_t frame = 0;
  for (auto r = path.rbegin(); r != path.rend(); ++r) {
    const PathRecord& record = records_[*r];
    if (record.olabel != 0) result.words.push_back({record.olabel, frame});
    if (record.ilabel != 0) {
      result.alignment.push_back(std::abs(record.ilabel));
      result.continues_token.push_back(record.ilabel < 0);
      ++frame;
    }
  }
  return result;
}

}  // namespace pywfst
