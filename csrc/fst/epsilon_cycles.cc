#include "fst/epsilon_cycles.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/errors.h"  // Concat

namespace pywfst {
namespace {

// Strongly connected components of the epsilon arcs, each with more than one state or a
// self-loop (the only ones that can hold a cycle), by Tarjan's algorithm without recursion.
std::vector<std::vector<StateId>> CyclicComponents(const CsrGraph& graph) {
  const StateId n = graph.NumStates();
  std::vector<int32_t> index(n, -1), low(n, 0);
  std::vector<bool> on_stack(n, false);
  std::vector<StateId> stack;
  struct Frame {
    StateId state;
    const GraphArc* next_arc;
  };
  std::vector<Frame> calls;
  std::vector<std::vector<StateId>> components;
  int32_t counter = 0;
  for (StateId root = 0; root < n; ++root) {
    if (index[root] >= 0 || graph.EpsilonArcs(root).size() == 0) continue;
    auto visit = [&](StateId s) {
      index[s] = low[s] = counter++;
      stack.push_back(s);
      on_stack[s] = true;
      calls.push_back({s, graph.EpsilonArcs(s).begin()});
    };
    visit(root);
    while (!calls.empty()) {
      Frame& frame = calls.back();
      const StateId s = frame.state;
      if (frame.next_arc != graph.EpsilonArcs(s).end()) {
        const StateId t = (frame.next_arc++)->nextstate;
        if (index[t] < 0) {
          visit(t);
        } else if (on_stack[t]) {
          low[s] = std::min(low[s], index[t]);
        }
        continue;
      }
      calls.pop_back();
      if (!calls.empty()) low[calls.back().state] = std::min(low[calls.back().state], low[s]);
      if (low[s] != index[s]) continue;
      std::vector<StateId> component;
      StateId member;
      do {
        member = stack.back();
        stack.pop_back();
        on_stack[member] = false;
        component.push_back(member);
      } while (member != s);
      const bool self_loop = std::any_of(graph.EpsilonArcs(s).begin(), graph.EpsilonArcs(s).end(),
                                         [s](const GraphArc& arc) { return arc.nextstate == s; });
      if (component.size() > 1 || self_loop) components.push_back(std::move(component));
    }
  }
  return components;
}

}  // namespace

std::string DescribeNegativeEpsilonCycle(const CsrGraph& graph, double lm_weight,
                                        double word_insertion_penalty) {
  auto cost_of = [&](const GraphArc& arc) {
    return lm_weight * arc.weight + (arc.olabel != 0 ? word_insertion_penalty : 0.0);
  };
  std::vector<int32_t> member_of(graph.NumStates(), -1);  // position in the current component
  for (const std::vector<StateId>& component : CyclicComponents(graph)) {
    const int32_t size = static_cast<int32_t>(component.size());
    for (int32_t i = 0; i < size; ++i) member_of[component[i]] = i;
    bool has_negative_arc = false;
    for (StateId s : component)
      for (const GraphArc& arc : graph.EpsilonArcs(s))
        has_negative_arc |= member_of[arc.nextstate] >= 0 && cost_of(arc) < 0.0;
    if (has_negative_arc) {
      // Bellman-Ford from a virtual source reaching every member at cost 0: a relaxation in the
      // size-th round proves a negative cycle; walking `size` predecessors back lands on it.
      std::vector<double> distance(size, 0.0);
      std::vector<int32_t> predecessor(size, -1);
      int32_t relaxed = -1;
      for (int32_t round = 0; round < size; ++round) {
        relaxed = -1;
        for (int32_t i = 0; i < size; ++i)
          for (const GraphArc& arc : graph.EpsilonArcs(component[i])) {
            const int32_t j = member_of[arc.nextstate];
            if (j < 0 || !std::isfinite(arc.weight)) continue;
            if (distance[i] + cost_of(arc) < distance[j]) {
              distance[j] = distance[i] + cost_of(arc);
              predecessor[j] = i;
              relaxed = j;
            }
          }
        if (relaxed < 0) break;
      }
      if (relaxed >= 0) {
        int32_t on_cycle = relaxed;
        for (int32_t k = 0; k < size; ++k) on_cycle = predecessor[on_cycle];
        double cost = 0.0;
        std::vector<StateId> cycle;
        int32_t i = on_cycle;
        do {  // the cycle, walked backwards through the predecessors
          const int32_t from = predecessor[i];
          double best = 0.0;
          bool first = true;
          for (const GraphArc& arc : graph.EpsilonArcs(component[from]))
            if (arc.nextstate == component[i] && (first || cost_of(arc) < best)) {
              best = cost_of(arc);
              first = false;
            }
          cost += best;
          cycle.push_back(component[i]);
          i = from;
        } while (i != on_cycle);
        std::reverse(cycle.begin(), cycle.end());
        std::string states;
        for (size_t k = 0; k < cycle.size() && k < 10; ++k) states += Concat(" ", cycle[k]);
        if (cycle.size() > 10) states += " ...";
        return Concat("the epsilon arcs through state ", component[on_cycle],
                      " form a cycle of negative cost ", cost, " (states", states, ")");
      }
    }
    for (StateId s : component) member_of[s] = -1;
  }
  return "";
}

}  // namespace pywfst
