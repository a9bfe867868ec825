// Writes a CsrGraph as an OpenFst binary VectorFst file (what fst_reader.h reads back, and
// OpenFst, pywrapfst, kaldifst and Kaldi's tools read), so that a graph built natively is still
// exchanged as HCLG.fst.
#pragma once

#include <string>

#include "fst/csr_graph.h"

namespace pywfst {

// Writes `graph` to `path`: a "vector" FST of "standard" arcs, version 2, no symbol tables, each
// state's arcs in the order emitting, epsilon, nonterminal. No property is claimed beyond those
// of every VectorFst, so OpenFst computes any it needs. Written to a temporary file and renamed
// over `path`. Throws IoError naming the file when it cannot be written.
void WriteFstFile(const CsrGraph& graph, const std::string& path);

}  // namespace pywfst
