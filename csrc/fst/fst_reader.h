// Reader for OpenFst binary files into a CsrGraph, without linking OpenFst.
//
// Supported: FST types "vector" and "const" (ConstFst with the default uint32 size type), arc type
// "standard" (tropical float weights, int32 labels), with or without input/output symbol tables
// (they are skipped), aligned or not. This covers what fstcompile, pywrapfst, kaldifst and Kaldi
// (HCLG.fst, G.fst, also after `fstconvert --fst_type=const`) write. Files are read in the host's
// byte order, which is what OpenFst writes; files from a big-endian machine are rejected.
//
// Stricter than OpenFst: bytes after the last arc, NaN or -inf weights, negative labels, arcs to
// missing states, a missing start state and an FST with no states are errors.
#pragma once

#include <memory>
#include <string>

#include "fst/csr_graph.h"

namespace pywfst {

// Reads the OpenFst binary file at `path`. The returned graph owns all its memory (nothing refers
// to the file afterwards). Throws IoError when the file cannot be opened or read, and InputError
// (naming `path`) when it is not a supported, well-formed OpenFst file.
std::shared_ptr<const CsrGraph> ReadFstFile(const std::string& path);

}  // namespace pywfst
