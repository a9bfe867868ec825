#include "decoder/beam_search.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <unordered_set>
#include <utility>

#include "common/errors.h"
#include "decoder/lattice_determinizer.h"
#include "fst/nonterminal.h"

namespace pywfst {
namespace {
constexpr double kInfinity = std::numeric_limits<double>::infinity();
// Compact the path-record arena once it holds this many records more than twice what survived
// the last compaction: amortised linear time, memory bounded by what live paths need.
constexpr size_t kCompactionSlack = 1 << 18;

// Hash of a word history extended by one word (splitmix64 finaliser; collisions ~2^-64).
uint64_t ExtendHistory(uint64_t history, Label word) {
  uint64_t h = history + static_cast<uint64_t>(word) + 0x9E3779B97F4A7C15ULL;
  h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ULL;
  h = (h ^ (h >> 27)) * 0x94D049BB133111EBULL;
  return h ^ (h >> 31);
}
}  // namespace

BeamSearch::BeamSearch(std::shared_ptr<const CsrGraph> graph, const DecoderOptions& options)
    : graph_(std::move(graph)), options_(options) {
  if (!graph_) throw InputError("graph: null");
  if (!graph_->NegativeEpsilonCycle().empty())
    throw InputError(Concat(graph_->NegativeEpsilonCycle(), ": the search would never end"));
  options_.Check();
  // A negative penalty can make a cycle of epsilon-input word arcs negative (scaling alone
  // cannot: lm_weight > 0 keeps each cycle's sign, and the graph's own check passed).
  if (options_.word_insertion_penalty < 0.0f) {
    const std::string cycle = graph_->WeightedNegativeEpsilonCycle(options_.lm_weight,
                                                                   options_.word_insertion_penalty);
    if (!cycle.empty())
      throw InputError(Concat("word_insertion_penalty ", options_.word_insertion_penalty, ": ",
                              cycle, ": the search would never end"));
  }
  has_class_slots_ = graph_->NumNonterminalArcs() > 0;
}

void BeamSearch::InitDecoding() {
  slot_of_state_.Clear();
  tokens_.clear();
  previous_tokens_.clear();
  records_.clear();
  records_after_compaction_ = 0;
  class_slots_.resize(classes_ != nullptr ? classes_->size() : 0);
  for (size_t c = 0; c < class_slots_.size(); ++c)
    class_slots_[c].assign((*classes_)[c] ? (*classes_)[c]->Graph().NumStates() : 0, -1);
  if (options_.lattice) {
    lattice_.Clear();
    lattice_.BeginStep();
  }
  const Token before_start{graph_->Start(), -1, 0.0, 0, PhraseBoost::kRoot, -1, 0, 0, 0, -1};
  Relax(before_start, nullptr, 0.0, false);
  ProcessNonemitting(std::numeric_limits<float>::max());
  for (Token& token : tokens_) Commit(&token);
  if (options_.lattice) EndLatticeStep();
}

void BeamSearch::RecordOffer(const Token& from, int32_t from_slot, const GraphArc& arc,
                             double cost, float acoustic, bool self_loop, int32_t to_slot) {
  lattice_.Offer(from_slot, to_slot, self_loop ? -arc.ilabel : arc.ilabel, arc.olabel,
                 static_cast<float>(cost - from.cost - acoustic), acoustic);
}

void BeamSearch::EndLatticeStep() {
  lattice_costs_.clear();
  for (const Token& token : tokens_) lattice_costs_.push_back(token.cost);
  lattice_.EndStep(lattice_costs_, options_.lattice_beam, options_.lattice_max_arcs);
}

inline void BeamSearch::StepWord(Label word, uint64_t* history, PhraseBoost::Node* boost_node,
                                 double* cost) const {
  if (options_.nbest > 1) *history = ExtendHistory(*history, word);
  if (boost_ != nullptr) {
    const auto [node, boost_cost] = boost_->Step(*boost_node, word);
    *boost_node = node;
    *cost += boost_cost;
  }
}

inline BeamSearch::Place BeamSearch::PlaceAmong(int32_t head, uint64_t history,
                                               PhraseBoost::Node boost_node,
                                               StateId return_state, double cost,
                                               int32_t capacity) const {
  int32_t costliest = -1, cheapest = -1, count = 0;
  for (int32_t i = head; i >= 0; i = tokens_[i].next) {
    if (tokens_[i].return_state != return_state) continue;  // a different path altogether
    if (tokens_[i].history == history && tokens_[i].boost_node == boost_node)
      return !(tokens_[i].cost > cost) ? Place{i, true, false} : Place{i, false, false};
    ++count;
    if (cheapest < 0 || tokens_[i].cost < tokens_[cheapest].cost) cheapest = i;
    if (costliest < 0 || tokens_[i].cost >= tokens_[costliest].cost) costliest = i;
  }
  if (cheapest < 0) return {-1, false, false};
  const Token& best = tokens_[cheapest];
  if (cost > best.cost + options_.lattice_beam) return {-1, true, false};
  if (count >= capacity && !(tokens_[costliest].cost > cost)) return {-1, true, false};
  // A token in another boost node than the state's cheapest is worth keeping only while its
  // match could still make up the difference (see CatchUpMargin; a cheaper one always is).
  // Asked last: it reads two automaton nodes.
  if (boost_ != nullptr && best.boost_node != boost_node && !(cost < best.cost) &&
      !(cost < best.cost + boost_->CatchUpMargin(best.boost_node, boost_node)))
    return {-1, true, false};
  return count < capacity ? Place{-1, false, false} : Place{costliest, false, true};
}

inline int32_t BeamSearch::Relax(const Token& from, const GraphArc* arc, double cost,
                                 bool self_loop, int32_t from_slot, float acoustic) {
  const StateId state = arc != nullptr ? arc->nextstate : from.state;
  int32_t& head_slot = SlotOf(from.graph, state);
  const int32_t head = head_slot;
  uint64_t history = from.history;
  PhraseBoost::Node boost_node = from.boost_node;
  int32_t target = -1;
  if (options_.nbest == 1 && boost_ == nullptr && from.graph == 0) {  // plain Viterbi
    if (head >= 0) {
      if (!(tokens_[head].cost > cost)) {  // ties keep the first
        OfferToLattice(from, from_slot, arc, cost, acoustic, self_loop, head);
        return -1;
      }
      target = head;
    }
  } else {  // tokens of a state differ in word history (n-best), boost node or return state
    if (arc != nullptr && arc->olabel != 0) StepWord(arc->olabel, &history, &boost_node, &cost);
    const int32_t capacity =
        options_.nbest * (boost_ != nullptr ? options_.boost_nodes_per_state : 1);
    const Place place = PlaceAmong(head, history, boost_node, from.return_state, cost, capacity);
    if (place.rejected) {
      if (place.slot >= 0)
        OfferToLattice(from, from_slot, arc, cost, acoustic, self_loop, place.slot);
      return -1;
    }
    target = place.slot;
    if (place.evicts && options_.lattice) lattice_.Replace(target);  // another lattice node
  }
  // The new token's pending step: an emitting arc starts one (`from` is committed); an epsilon
  // arc carries `from`'s on, adding its output label (the caller committed `from` if it had one).
  Label pending_ilabel = from.pending_ilabel, pending_olabel = from.pending_olabel;
  if (arc != nullptr) {
    if (arc->ilabel != 0) pending_ilabel = self_loop ? -arc->ilabel : arc->ilabel;
    if (arc->olabel != 0) pending_olabel = arc->olabel;
  }
  const Token token{state,          from.record,    cost,       history,
                    boost_node,     target >= 0 ? tokens_[target].next : head,
                    pending_ilabel, pending_olabel, from.graph, from.return_state};
  if (target >= 0) {
    tokens_[target] = token;
  } else {
    tokens_.push_back(token);
    target = head_slot = static_cast<int32_t>(tokens_.size()) - 1;
    GraphOf(from.graph).PrefetchOffsets(state);  // the closure and the next frame read them
  }
  OfferToLattice(from, from_slot, arc, cost, acoustic, self_loop, target);
  return target;
}

template <bool kBoosted>
inline int32_t BeamSearch::RelaxSimple(const Token& from, const GraphArc& arc, double cost,
                                       Label pending_ilabel) {
  PhraseBoost::Node boost_node = from.boost_node;
  if (kBoosted && arc.olabel != 0) {
    const auto [node, boost_cost] = boost_->Step(boost_node, arc.olabel);
    boost_node = node;
    cost += boost_cost;
  }
  int32_t& head = slot_of_state_[arc.nextstate];
  int32_t target = -1;
  if (head >= 0) {
    // One token per state, or (boosted) the state's first token is in the same node: the
    // common case, which PlaceAmong would settle the same way at its first step.
    if (!kBoosted || tokens_[head].boost_node == boost_node) {
      if (!(tokens_[head].cost > cost)) return -1;  // ties keep the first
      target = head;
    } else {  // a token per boost node: as Relax() keeps them
      const Place place =
          PlaceAmong(head, 0, boost_node, -1, cost, options_.boost_nodes_per_state);
      if (place.rejected) return -1;
      target = place.slot;
    }
  }
  Token* token;
  if (target >= 0) {
    token = &tokens_[target];
  } else {
    target = static_cast<int32_t>(tokens_.size());
    token = &tokens_.emplace_back();
    token->state = arc.nextstate;
    token->history = 0;
    token->next = head;
    token->graph = 0;
    token->return_state = -1;
    head = target;
    graph_->PrefetchOffsets(arc.nextstate);  // the closure and the next frame read them
  }
  token->record = from.record;
  token->cost = cost;
  token->boost_node = boost_node;
  token->pending_ilabel = pending_ilabel;
  token->pending_olabel = arc.olabel != 0 ? arc.olabel : from.pending_olabel;
  return target;
}

double BeamSearch::Cutoff(float* adaptive_beam, int32_t* best_slot) {
  const std::vector<Token>& tokens = previous_tokens_;
  // Kaldi's cutoffs are order statistics (the max_active-th and min_active-th smallest cost,
  // from 0) of the costs rounded to float (its GetCutoff sorts them in a vector<float>), each
  // used only on one side of the beam's cutoff. One pass over the tokens finds the best and
  // gathers the rounded costs; counting those below the beam's cutoff (a pass over packed
  // floats) says whether either order statistic is used. At small beams min_active binds on
  // most frames, so the costs are gathered every frame rather than read from the tokens twice.
  const size_t num_tokens = tokens.size();
  rounded_costs_.resize(num_tokens);
  float* rounded = rounded_costs_.data();
  double best_cost = kInfinity;
  *best_slot = -1;
  for (size_t i = 0; i < num_tokens; ++i) {
    const double cost = tokens[i].cost;
    rounded[i] = static_cast<float>(cost);
    if (cost < best_cost) {
      best_cost = cost;
      *best_slot = static_cast<int32_t>(i);
    }
  }
  const size_t max_active = static_cast<size_t>(options_.max_active);
  const size_t min_active = static_cast<size_t>(options_.min_active);
  const double beam_cutoff = best_cost + options_.beam;
  size_t below = 0, at_or_below = 0;
  for (size_t i = 0; i < num_tokens; ++i) {
    below += rounded[i] < beam_cutoff;
    at_or_below += rounded[i] <= beam_cutoff;
  }
  const bool max_active_binds = below > max_active;
  // Also when there are no more than min_active tokens: then its cutoff is infinite (keep all).
  const bool min_active_binds = !max_active_binds && at_or_below <= min_active;
  if (max_active_binds) {  // the max_active-th cost is below the beam's cutoff
    std::nth_element(rounded_costs_.begin(), rounded_costs_.begin() + max_active,
                     rounded_costs_.end());
    const double max_active_cutoff = rounded_costs_[max_active];
    *adaptive_beam = static_cast<float>(max_active_cutoff - best_cost + options_.beam_delta);
    return max_active_cutoff;
  }
  if (min_active_binds) {  // the min_active-th cost (if any) is above the beam's cutoff
    double min_active_cutoff = kInfinity;
    if (tokens.size() > min_active) {
      if (min_active == 0) {
        min_active_cutoff = best_cost;
      } else {
        std::nth_element(rounded_costs_.begin(), rounded_costs_.begin() + min_active,
                         rounded_costs_.end());
        min_active_cutoff = rounded_costs_[min_active];
      }
    }
    if (min_active_cutoff > beam_cutoff) {
      *adaptive_beam = static_cast<float>(min_active_cutoff - best_cost + options_.beam_delta);
      return min_active_cutoff;
    }
  }
  *adaptive_beam = options_.beam;
  return beam_cutoff;
}

double BeamSearch::ProcessEmitting(const std::vector<float>& costs) {
  switch (path_) {
    case SearchPath::kViterbi:
      return Weighted() ? ExpandEmitting<true, SearchPath::kViterbi>(costs)
                        : ExpandEmitting<false, SearchPath::kViterbi>(costs);
    case SearchPath::kBoosted:
      return Weighted() ? ExpandEmitting<true, SearchPath::kBoosted>(costs)
                        : ExpandEmitting<false, SearchPath::kBoosted>(costs);
    default:
      return Weighted() ? ExpandEmitting<true, SearchPath::kGeneral>(costs)
                        : ExpandEmitting<false, SearchPath::kGeneral>(costs);
  }
}

template <bool kWeighted, BeamSearch::SearchPath kPath>
double BeamSearch::ExpandEmitting(const std::vector<float>& costs) {
  std::swap(tokens_, previous_tokens_);
  slot_of_state_.Clear();
  if (!class_slots_.empty()) {
    for (const Token& token : previous_tokens_)
      if (token.graph != 0) SlotOf(token.graph, token.state) = -1;
  }
  tokens_.clear();
  float adaptive_beam = options_.beam;
  int32_t best_slot = -1;
  const double cutoff = Cutoff(&adaptive_beam, &best_slot);
  double next_cutoff = kInfinity;
  if (best_slot >= 0) {  // the best token's arcs give a first, usually tight, bound
    const Token& best = previous_tokens_[best_slot];
    for (const GraphArc& arc : GraphOf(best.graph).EmittingArcs(best.state)) {
      const double cost = best.cost + ArcCost<kWeighted>(arc) + costs[arc.ilabel];
      next_cutoff = std::min(next_cutoff, cost + adaptive_beam);
    }
  }
  // The tokens that live on, in order. They come in no graph order, so each one's arcs would be
  // a cache miss: fetch them a few tokens ahead (their offsets came in when they were made).
  survivors_.clear();
  for (size_t i = 0; i < previous_tokens_.size(); ++i)
    if (previous_tokens_[i].cost < cutoff) survivors_.push_back(static_cast<int32_t>(i));
  constexpr size_t kArcsAhead = 8;
  const size_t num_survivors = survivors_.size();
  for (size_t k = 0; k < std::min(num_survivors, kArcsAhead); ++k) {
    const Token& ahead = previous_tokens_[survivors_[k]];
    GraphOf(ahead.graph).PrefetchEmittingArcs(ahead.state);
  }
  for (size_t k = 0; k < num_survivors; ++k) {
    if (k + kArcsAhead < num_survivors) {
      const Token& ahead = previous_tokens_[survivors_[k + kArcsAhead]];
      GraphOf(ahead.graph).PrefetchEmittingArcs(ahead.state);
    }
    const int32_t i = survivors_[k];
    Token& token = previous_tokens_[i];
    // Only tokens that live on get their step recorded (it read the previous frame).
    Commit(&token, previous_frame_costs_.data());
    const ArcRange arcs = GraphOf(token.graph).EmittingArcs(token.state);
    // Locals: a relaxation writes tokens, which the compiler cannot tell from these.
    const double token_cost = token.cost;
    const StateId token_state = token.state;
    const float* frame_costs = costs.data();
    for (const GraphArc& arc : arcs) {
      const double cost = token_cost + ArcCost<kWeighted>(arc) + frame_costs[arc.ilabel];
      if (!(cost < next_cutoff)) continue;
      if constexpr (kPath != SearchPath::kGeneral) {
        RelaxSimple<kPath == SearchPath::kBoosted>(
            token, arc, cost, arc.nextstate == token_state ? -arc.ilabel : arc.ilabel);
      } else {
        Relax(token, &arc, cost, arc.nextstate == token_state, i, frame_costs[arc.ilabel]);
      }
      next_cutoff = std::min(next_cutoff, cost + adaptive_beam);
    }
  }
  return next_cutoff;
}

void BeamSearch::ProcessNonemitting(double cutoff) {
  switch (path_) {
    case SearchPath::kViterbi:
      if (Weighted()) CloseEpsilon<true, SearchPath::kViterbi>(cutoff);
      else CloseEpsilon<false, SearchPath::kViterbi>(cutoff);
      break;
    case SearchPath::kBoosted:
      if (Weighted()) CloseEpsilon<true, SearchPath::kBoosted>(cutoff);
      else CloseEpsilon<false, SearchPath::kBoosted>(cutoff);
      break;
    default:
      if (Weighted()) CloseEpsilon<true, SearchPath::kGeneral>(cutoff);
      else CloseEpsilon<false, SearchPath::kGeneral>(cutoff);
  }
}

template <bool kWeighted, BeamSearch::SearchPath kPath>
void BeamSearch::CloseEpsilon(double cutoff) {
  // Only tokens with epsilon arcs have anything to do here (FasterDecoder queues all of them;
  // the others would be popped and skipped, so the result is the same).
  // Tokens in a sub-graph are all queued: where an entry ends they may leave it.
  queue_.clear();
  // (On the simple paths every token is in the main graph and nonterminal arcs lead nowhere:
  // the state's arc offsets, fetched when the token was made, say it; the bitset would be a
  // cache miss more.)
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const Token& token = tokens_[i];
    if (kPath != SearchPath::kGeneral ? graph_->EpsilonArcs(token.state).size() > 0
               : token.graph != 0 || graph_->HasEpsilonArcs(token.state)) {
      queue_.push_back(static_cast<int32_t>(i));
      GraphOf(token.graph).PrefetchEpsilonArcs(token.state);
    }
  }
  constexpr size_t kAhead = 8;  // the queue is worked from its back: prefetch further down
  while (!queue_.empty()) {
    if (queue_.size() > kAhead) {
      const Token& ahead = tokens_[queue_[queue_.size() - kAhead]];
      GraphOf(ahead.graph).PrefetchOffsets(ahead.state);
    }
    const int32_t token_slot = queue_.back();
    Token token = tokens_[token_slot];
    queue_.pop_back();
    if (token.cost > cutoff) continue;
    if constexpr (kPath == SearchPath::kGeneral) {  // (no filled class slot otherwise)
      if (token.graph == 0) {
        if (has_class_slots_ && graph_->HasNonterminalArcs(token.state))
          for (const GraphArc& arc : graph_->NonterminalArcs(token.state))
            EnterClass(token, arc, cutoff);
      } else if (const ClassGraph::Exit* exit =
                     (*classes_)[token.graph - 1]->ExitOf(token.state)) {
        LeaveClass(token, *exit, cutoff);
      }
    }
    for (const GraphArc& arc : GraphOf(token.graph).EpsilonArcs(token.state)) {
      const double cost = token.cost + ArcCost<kWeighted>(arc);
      if (cost > cutoff) continue;
      // A token holds one pending output label: write the first before adding a second. (The
      // copy is committed; should the slot keep the same path, its own commit at the end of the
      // frame writes an equivalent record, which is harmless.)
      if (arc.olabel != 0 && token.pending_olabel != 0) Commit(&token);
      const int32_t slot =
          kPath != SearchPath::kGeneral
              ? RelaxSimple<kPath == SearchPath::kBoosted>(token, arc, cost, token.pending_ilabel)
              : Relax(token, &arc, cost, false, token_slot);
      if (slot >= 0) queue_.push_back(slot);
    }
  }
}

void BeamSearch::EnterClass(Token token, const GraphArc& arc, double cutoff) {
  if (IsReturnLabel(arc.ilabel) || classes_ == nullptr) return;
  const int32_t class_index = ClassOfLabel(arc.ilabel);
  if (class_index >= static_cast<int32_t>(classes_->size()) || !(*classes_)[class_index]) return;
  const ClassGraph& sub = *(*classes_)[class_index];
  const StateId entry = sub.EntryState(ContextOfLabel(arc.ilabel));
  const double cost = token.cost + ArcCost(arc);
  if (entry < 0 || cost > cutoff) return;
  if (arc.olabel != 0 && token.pending_olabel != 0) Commit(&token);
  token.graph = class_index + 1;
  token.return_state = arc.nextstate;
  const GraphArc jump{0, arc.olabel, 0.0f, entry};
  const int32_t slot = Relax(token, &jump, cost, false);
  if (slot >= 0) queue_.push_back(slot);
}

void BeamSearch::LeaveClass(Token token, const ClassGraph::Exit& exit, double cutoff) {
  const int32_t class_index = token.graph - 1;
  const GraphArc* back = graph_->ReturnArc(token.return_state, exit.context);
  if (back == nullptr) return;
  const auto [first, last] = (*classes_)[class_index]->EntryWords(exit.entry);
  // The entry's words are output here: each pays the insertion penalty.
  double cost = token.cost + options_.lm_weight * static_cast<double>(exit.cost) + ArcCost(*back) +
                static_cast<double>(last - first) * options_.word_insertion_penalty;
  if (cost > cutoff) return;
  token.graph = 0;
  token.return_state = -1;
  // The entry's words: all but the last become path records here, the last goes with the move.
  for (const int32_t* word = first; word + 1 < last; ++word) {
    if (token.pending_olabel != 0) Commit(&token);
    token.pending_olabel = *word;
    StepWord(token.pending_olabel, &token.history, &token.boost_node, &cost);
  }
  if (token.pending_olabel != 0) Commit(&token);
  const GraphArc jump{0, *(last - 1), 0.0f, back->nextstate};
  const int32_t slot = Relax(token, &jump, cost, false);
  if (slot >= 0) queue_.push_back(slot);
}

void BeamSearch::Commit(Token* token, const float* costs) {
  if (token->pending_ilabel == 0 && token->pending_olabel == 0) return;
  const float acoustic = token->pending_ilabel != 0 ? costs[std::abs(token->pending_ilabel)] : 0.0f;
  records_.push_back({token->record, token->pending_ilabel, token->pending_olabel, acoustic});
  token->record = static_cast<int32_t>(records_.size()) - 1;
  token->pending_ilabel = token->pending_olabel = 0;
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

BeamSearch::ExclusiveUse::ExclusiveUse(BeamSearch* search) : search_(search) {
  if (search_->in_use_.exchange(true))
    throw UsageError("BeamSearch: already decoding in another thread; use one BeamSearch per "
                     "thread (pywfst.Decoder does this for you)");
}

BeamSearch::ExclusiveUse::~ExclusiveUse() { search_->in_use_ = false; }

DecodeResult BeamSearch::Decode(const ScoreSource& scores, const PhraseBoost* boost,
                                const ClassGraphs* classes, const InterruptCheck& interrupted) {
  ExclusiveUse use(this);
  struct Forget {  // boost and classes live only during the call, even when it throws
    BeamSearch* search;
    ~Forget() {
      search->boost_ = nullptr;
      search->classes_ = nullptr;
    }
  } forget{this};
  Begin(scores.NumLabels(), boost, classes);
  AdvanceFrames(scores, interrupted);
  return Hypotheses();
}

void BeamSearch::Start(int64_t num_columns, const PhraseBoost* boost, const ClassGraphs* classes) {
  ExclusiveUse use(this);
  Begin(num_columns, boost, classes);
}

void BeamSearch::Advance(const ScoreSource& scores, const InterruptCheck& interrupted) {
  ExclusiveUse use(this);
  AdvanceFrames(scores, interrupted);
}

DecodeResult BeamSearch::Finish() {
  ExclusiveUse use(this);
  DecodeResult result = Hypotheses();
  boost_ = nullptr;
  classes_ = nullptr;
  return result;
}

void BeamSearch::Begin(int64_t num_columns, const PhraseBoost* boost, const ClassGraphs* classes) {
  boost_ = nullptr;
  classes_ = nullptr;
  Label max_ilabel = graph_->MaxInputLabel();
  if (classes != nullptr && std::any_of(classes->begin(), classes->end(),
                                         [](const auto& sub) { return sub != nullptr; })) {
    if (classes->size() > static_cast<size_t>(kMaxClasses))
      throw InputError(Concat("classes: ", classes->size(), " class slots; at most ", kMaxClasses));
    if (graph_->MaxOutputLabel() >= kClassWordStride)
      throw InputError(Concat("classes: the graph's word ids reach ", graph_->MaxOutputLabel(),
                              "; class slots need them below ", kClassWordStride));
    for (const auto& sub : *classes)
      if (sub) max_ilabel = std::max(max_ilabel, sub->Graph().MaxInputLabel());
  }
  if (num_columns < max_ilabel)
    throw InputError(Concat("emissions have ", num_columns, " columns but the graph reads ",
                            "column ", max_ilabel - 1, " (input label - 1): give at least ",
                            max_ilabel, " columns"));
  if (options_.lattice && classes != nullptr &&
      std::any_of(classes->begin(), classes->end(), [](const auto& sub) { return sub != nullptr; }))
    throw InputError("lattice: lattices of graphs with filled class slots are not supported; "
                     "use nbest for alternatives");
  boost_ = boost;
  classes_ = classes;
  const bool simple =
      options_.nbest == 1 && !options_.lattice &&
      (classes == nullptr ||
       std::all_of(classes->begin(), classes->end(), [](const auto& sub) { return !sub; }));
  path_ = !simple ? SearchPath::kGeneral
                  : boost != nullptr ? SearchPath::kBoosted : SearchPath::kViterbi;
  frames_decoded_ = 0;
  InitDecoding();
}

void BeamSearch::AdvanceFrames(const ScoreSource& scores, const InterruptCheck& interrupted) {
  const int64_t end = scores.NumFramesReady();
  for (int64_t& t = frames_decoded_; t < end;) {
    if (interrupted && t % kInterruptInterval == kInterruptInterval - 1 && interrupted())
      throw Interrupted();
    // A frame is decoded whole or not at all: its costs are read (and checked) first.
    std::swap(frame_costs_, previous_frame_costs_);
    scores.Costs(t, &frame_costs_);
    if (options_.lattice) lattice_.BeginStep();
    ProcessNonemitting(ProcessEmitting(frame_costs_));
    if (options_.lattice) EndLatticeStep();
    ++t;
    if (records_.size() > 2 * records_after_compaction_ + kCompactionSlack) CompactRecords();
  }
}

int32_t BeamSearch::BestSlot() const {
  int32_t best = -1;
  double best_cost = kInfinity;
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const Token& token = tokens_[i];
    const double cost = token.cost + (boost_ != nullptr ? boost_->TakeBack(token.boost_node) : 0.0);
    if (cost < best_cost) {
      best_cost = cost;
      best = static_cast<int32_t>(i);
    }
  }
  return best;
}

std::vector<Label> BeamSearch::PartialWords() const {
  std::vector<Label> words;
  const int32_t best = BestSlot();
  if (best < 0) return words;
  const Token& token = tokens_[best];
  if (token.pending_olabel != 0) words.push_back(token.pending_olabel);
  for (int32_t r = token.record; r >= 0; r = records_[r].previous)
    if (records_[r].olabel != 0) words.push_back(records_[r].olabel);
  std::reverse(words.begin(), words.end());
  return words;
}

BeamSearch::EndpointState BeamSearch::Endpoint(const std::vector<Label>& silence) const {
  EndpointState state;
  const int32_t best = BestSlot();
  if (best < 0) return state;
  auto is_silence = [&silence](Label ilabel) {
    return std::binary_search(silence.begin(), silence.end(), std::abs(ilabel));
  };
  // Walk back from the newest frame (the token's pending step, then its records) to the first
  // frame that read something else.
  const Token& token = tokens_[best];
  Label ilabel = token.pending_ilabel;
  for (int32_t r = token.record;; r = records_[r].previous) {
    if (ilabel != 0) {
      if (!is_silence(ilabel)) {
        state.contains_nonsilence = true;
        break;
      }
      ++state.trailing_silence_frames;
    }
    if (r < 0) break;
    ilabel = records_[r].ilabel;
  }
  double best_cost = kInfinity, best_final = kInfinity;
  for (const Token& t : tokens_) {
    best_cost = std::min(best_cost, t.cost);
    if (t.graph == 0) best_final = std::min(best_final, t.cost + FinalCost(t.state));
  }
  state.relative_cost = best_final - best_cost;
  return state;
}

DecodeResult BeamSearch::Hypotheses() {
  for (Token& token : tokens_) Commit(&token);
  DecodeResult result;
  result.num_frames = frames_decoded_;
  // (total cost, slot): final tokens with their final weights; without any, all tokens.
  std::vector<std::pair<double, int32_t>> candidates;
  // A boosted path's pending bonus is taken back: only completed phrases count.
  auto end_cost = [this](const Token& token) {
    return token.cost + (boost_ != nullptr ? boost_->TakeBack(token.boost_node) : 0.0);
  };
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const double final = tokens_[i].graph == 0 ? FinalCost(tokens_[i].state) : kInfinity;
    const double final_cost = end_cost(tokens_[i]) + final;
    if (final_cost < kInfinity) candidates.emplace_back(final_cost, static_cast<int32_t>(i));
  }
  result.reached_final = !candidates.empty();
  if (!result.reached_final)
    for (size_t i = 0; i < tokens_.size(); ++i)
      candidates.emplace_back(end_cost(tokens_[i]), static_cast<int32_t>(i));
  // Cheapest first; among equal costs the earlier token, as Kaldi's GetBestPath picks it.
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  if (options_.lattice) {  // each token's cost to the end, as the candidates' costs say
    std::vector<double> end_costs(tokens_.size(), kInfinity);
    for (const auto& [cost, slot] : candidates) end_costs[slot] = cost - tokens_[slot].cost;
    result.lattice = DeterminizeLattice(lattice_.Prune(end_costs, options_.lattice_beam),
                                        options_.lattice_beam, options_.lattice_max_states);
  }
  std::unordered_set<uint64_t> seen;
  for (const auto& [cost, slot] : candidates) {
    if (static_cast<int32_t>(result.hypotheses.size()) == options_.nbest) break;
    if (cost > candidates.front().first + options_.lattice_beam) break;
    if (!seen.insert(tokens_[slot].history).second) continue;
    result.hypotheses.push_back(Traceback(tokens_[slot], cost));
    if (boost_ != nullptr) {
      std::vector<Label> words;
      for (const DecodedWord& word : result.hypotheses.back().words) words.push_back(word.word);
      result.hypotheses.back().boost_cost = boost_->SequenceCost(words);
    }
  }
  return result;
}

Hypothesis BeamSearch::Traceback(const Token& token, double total_cost) const {
  Hypothesis hypothesis;
  hypothesis.total_cost = total_cost;

  std::vector<int32_t> path;
  for (int32_t r = token.record; r >= 0; r = records_[r].previous) path.push_back(r);
  int32_t frame = 0;
  for (auto r = path.rbegin(); r != path.rend(); ++r) {
    const PathRecord& record = records_[*r];
    hypothesis.acoustic_cost += record.acoustic;  // in frame order, as the search added them
    if (record.olabel != 0) hypothesis.words.push_back({record.olabel, frame});
    if (record.ilabel != 0) {
      hypothesis.alignment.push_back(std::abs(record.ilabel));
      hypothesis.continues_token.push_back(record.ilabel < 0);
      ++frame;
    }
  }
  return hypothesis;
}

}  // namespace pywfst
