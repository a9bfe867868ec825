#include "decoder/lattice_recorder.h"

#include <algorithm>
#include <limits>

#include "common/errors.h"

namespace pywfst {
namespace {
constexpr double kInfinity = std::numeric_limits<double>::infinity();
// Arc costs are kept as floats and tokens' as doubles: comparisons allow this much rounding.
constexpr double kTolerance = 1e-3;
}  // namespace

void LatticeRecorder::Clear() {
  pending_.clear();
  slot_versions_.clear();
  forward_.clear();
  step_begin_.clear();
  arcs_.clear();
  step_arcs_begin_.clear();
}

void LatticeRecorder::BeginStep() {
  if (forward_.size() >= static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    throw InputError("lattice: more than 2^31 lattice nodes; decode shorter utterances");
  pending_.clear();
  slot_versions_.clear();
  step_begin_.push_back(static_cast<int32_t>(forward_.size()));
  step_arcs_begin_.push_back(arcs_.size());
}

uint32_t& LatticeRecorder::VersionOf(int32_t slot) {
  if (static_cast<size_t>(slot) >= slot_versions_.size()) slot_versions_.resize(slot + 1, 0);
  return slot_versions_[slot];
}

void LatticeRecorder::Offer(int32_t from_slot, int32_t to_slot, Label ilabel, Label olabel,
                            float graph, float acoustic) {
  const uint32_t from_version = ilabel != 0 ? 0 : VersionOf(from_slot);
  pending_.push_back({from_slot, to_slot, ilabel, olabel, graph, acoustic, from_version,
                      VersionOf(to_slot)});
}

void LatticeRecorder::Replace(int32_t slot) { ++VersionOf(slot); }

void LatticeRecorder::EndStep(const std::vector<double>& costs, double lattice_beam,
                              int64_t max_arcs) {
  const int32_t begin = step_begin_.back();
  const int32_t previous_begin = step_begin_.size() > 1 ? step_begin_[step_begin_.size() - 2] : 0;
  for (const PendingArc& arc : pending_) {
    if (arc.to_version != VersionOf(arc.to_slot)) continue;  // into a replaced token
    if (!arc.Emitting() && arc.from_version != VersionOf(arc.from_slot)) continue;
    const int32_t from = (arc.Emitting() ? previous_begin : begin) + arc.from_slot;
    const int32_t to = begin + arc.to_slot;
    const double from_cost = arc.Emitting() ? forward_[from] : costs[arc.from_slot];
    if (from_cost + arc.graph + arc.acoustic > costs[arc.to_slot] + lattice_beam + kTolerance)
      continue;
    arcs_.push_back({from, to, arc.ilabel, arc.olabel, arc.graph, arc.acoustic});
  }
  forward_.insert(forward_.end(), costs.begin(), costs.end());
  if (static_cast<int64_t>(arcs_.size()) > max_arcs)
    throw InputError(Concat("lattice: more than lattice_max_arcs=", max_arcs, " arcs kept after ",
                            step_begin_.size() - 1, " frames; decode shorter segments, lower "
                            "lattice_beam, or raise lattice_max_arcs"));
}

std::vector<double> LatticeRecorder::CostsToEnd(const std::vector<double>& end_costs) const {
  // Step by step from the last one: first the epsilon arcs inside the step (until nothing
  // changes: they come in no order), then the arcs into it from the step before.
  std::vector<double> to_end(forward_.size(), kInfinity);
  const int32_t last_begin = step_begin_.back();
  if (last_begin + end_costs.size() != forward_.size())
    throw UsageError("LatticeRecorder::Prune: an end cost per token of the last step");
  for (size_t i = 0; i < end_costs.size(); ++i) to_end[last_begin + i] = end_costs[i];
  const int32_t num_steps = static_cast<int32_t>(step_begin_.size());
  for (int32_t step = num_steps - 1; step >= 0; --step) {
    const size_t arcs_begin = step_arcs_begin_[step];
    const size_t arcs_end = step + 1 < num_steps ? step_arcs_begin_[step + 1] : arcs_.size();
    const int32_t nodes_begin = step_begin_[step];
    auto relax = [&to_end](const LatticeArc& arc) {
      const double cost = arc.graph + arc.acoustic + to_end[arc.to];
      const bool better = cost < to_end[arc.from];
      if (better) to_end[arc.from] = cost;
      return better;
    };
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t a = arcs_end; a-- > arcs_begin;)
        if (arcs_[a].from >= nodes_begin) changed |= relax(arcs_[a]);
    }
    for (size_t a = arcs_begin; a < arcs_end; ++a)
      if (arcs_[a].from < nodes_begin) relax(arcs_[a]);
  }
  return to_end;
}

RawLattice LatticeRecorder::Prune(const std::vector<double>& end_costs,
                                  double lattice_beam) const {
  RawLattice lattice;
  if (step_begin_.empty()) return lattice;
  const std::vector<double> to_end = CostsToEnd(end_costs);
  const double best = forward_[0] + to_end[0];
  if (!(best < kInfinity)) return lattice;
  const double limit = best + lattice_beam + kTolerance;
  auto within = [&](const LatticeArc& arc) {
    return forward_[arc.from] + arc.graph + arc.acoustic + to_end[arc.to] <= limit;
  };
  // The arcs kept, by source node (counting sort), then their nodes renumbered in a topological
  // order (Kahn's algorithm from the start; every kept node is reached through its best arc).
  const size_t num_nodes = forward_.size();
  std::vector<size_t> out_begin(num_nodes + 1, 0);
  std::vector<int32_t> in_degree(num_nodes, 0);
  for (const LatticeArc& arc : arcs_)
    if (within(arc)) {
      ++out_begin[arc.from + 1];
      ++in_degree[arc.to];
    }
  for (size_t node = 0; node < num_nodes; ++node) out_begin[node + 1] += out_begin[node];
  std::vector<size_t> out(out_begin.back()), filled(out_begin.begin(), out_begin.end() - 1);
  for (size_t a = 0; a < arcs_.size(); ++a)
    if (within(arcs_[a])) out[filled[arcs_[a].from]++] = a;
  std::vector<int32_t> new_id(num_nodes, -1), order;
  std::vector<int32_t> ready = {0};
  while (!ready.empty()) {
    const int32_t node = ready.back();
    ready.pop_back();
    new_id[node] = static_cast<int32_t>(order.size());
    order.push_back(node);
    for (size_t i = out_begin[node]; i < out_begin[node + 1]; ++i)
      if (--in_degree[arcs_[out[i]].to] == 0) ready.push_back(arcs_[out[i]].to);
  }
  lattice.num_nodes = static_cast<int32_t>(order.size());
  for (int32_t node : order)
    for (size_t i = out_begin[node]; i < out_begin[node + 1]; ++i) {
      LatticeArc arc = arcs_[out[i]];
      if (new_id[arc.to] < 0) continue;
      arc.from = new_id[node];
      arc.to = new_id[arc.to];
      lattice.arcs.push_back(arc);
    }
  const int32_t last_begin = step_begin_.back();
  for (size_t i = 0; i < end_costs.size(); ++i) {
    const int32_t node = last_begin + static_cast<int32_t>(i);
    if (new_id[node] >= 0 && forward_[node] + end_costs[i] <= limit)
      lattice.finals.emplace_back(new_id[node], end_costs[i]);
  }
  return lattice;
}

}  // namespace pywfst
