// libFuzzer harness for the mapped graph file (csrc/fst/mapped_graph.cc): any bytes, sealed
// with the checksum their header should record (SealMappedGraph; otherwise nearly every input
// would stop at the checksum test), then mapped as a graph file.
//
// The bytes go to an in-memory file (graph_harness.h). InputError (StaleGraphError included) and
// IoError are the answers to bad input; any other exception, a sanitizer report or a crash is a
// finding. A graph that maps must keep the CsrGraph invariants the search relies on
// (graph_harness.h, abort when broken).
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/errors.h"
#include "fst/mapped_graph.h"
#include "graph_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> file(data, data + size);
  pywfst::SealMappedGraph(file.data(), file.size());
  std::string path;
  const int fd = fuzz::MemoryFile(file.data(), file.size(), &path);
  try {
    fuzz::CheckGraph(*pywfst::MapGraphFile(path));
  } catch (const pywfst::InputError&) {
  } catch (const pywfst::IoError&) {
  }
  close(fd);
  return 0;
}
