// Layout: the header and per-state records documented in fst_reader.cc.
#include "fst/fst_writer.h"

#include <cstdint>

#include "common/atomic_file.h"

namespace pywfst {

namespace {

constexpr int32_t kFstMagic = 2125659606;
constexpr int32_t kVectorFstVersion = 2;
// OpenFst's kExpanded | kMutable: what every VectorFst has; every other property is unknown.
constexpr uint64_t kVectorFstProperties = 0x3;

void WriteString(AtomicFile* file, const std::string& s) {
  file->WriteValue(static_cast<int32_t>(s.size()));
  file->Write(s.data(), s.size());
}

void WriteArcs(AtomicFile* file, ArcRange arcs) {
  file->Write(arcs.first, arcs.size() * sizeof(GraphArc));  // the on-disk arc layout (reader)
}

}  // namespace

void WriteFstFile(const CsrGraph& graph, const std::string& path) {
  AtomicFile file(path, "FST file");
  file.WriteValue(kFstMagic);
  WriteString(&file, "vector");
  WriteString(&file, "standard");
  file.WriteValue(kVectorFstVersion);
  file.WriteValue(int32_t{0});  // flags: no symbol tables
  file.WriteValue(kVectorFstProperties);
  file.WriteValue(static_cast<int64_t>(graph.Start()));
  file.WriteValue(static_cast<int64_t>(graph.NumStates()));
  file.WriteValue(graph.NumEmittingArcs() + graph.NumEpsilonArcs() + graph.NumNonterminalArcs());
  for (StateId s = 0; s < graph.NumStates(); ++s) {
    const ArcRange emitting = graph.EmittingArcs(s), epsilon = graph.EpsilonArcs(s);
    const ArcRange nonterminal = graph.HasNonterminalArcs(s) ? graph.NonterminalArcs(s)
                                                             : ArcRange{nullptr, nullptr};
    file.WriteValue(graph.Final(s));
    file.WriteValue(static_cast<int64_t>(emitting.size() + epsilon.size() + nonterminal.size()));
    WriteArcs(&file, emitting);
    WriteArcs(&file, epsilon);
    WriteArcs(&file, nonterminal);
  }
  file.Commit();
}

}  // namespace pywfst
