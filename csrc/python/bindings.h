// Binders of the _core extension module, one per binding file (graph.cc, decoder.cc, ...).
// module.cc calls each of them once while the module is created.
#pragma once

#include <pybind11/pybind11.h>

namespace pywfst {

// csrc/python/graph.cc: CsrGraph.
void BindGraph(pybind11::module_& m);

// csrc/python/class_graph.cc: ClassCompiler, ClassGraph and the nonterminal label scheme.
void BindClassGraph(pybind11::module_& m);

// csrc/python/decoder.cc: DecoderOptions, DecodeResult, BeamSearch, decode_batch.
void BindDecoder(pybind11::module_& m);

// csrc/python/decoder_stream.cc: DecoderStream (streaming decoding).
void BindDecoderStream(pybind11::module_& m);

// csrc/python/batch_search.cc: the batched GPU search (CUDA or cuda-sim).
void BindBatchSearch(pybind11::module_& m);

}  // namespace pywfst
