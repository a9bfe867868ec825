// libFuzzer harness for the OpenFst binary reader (csrc/fst/fst_reader.cc): any bytes, read as
// an FST file.
//
// The bytes go to an in-memory file (graph_harness.h). InputError and IoError are the answers to
// bad input; any other exception, a sanitizer report or a crash is a finding. A graph that loads
// must also keep the CsrGraph invariants the search relies on (graph_harness.h, abort when
// broken).
#include <unistd.h>

#include <cstdint>
#include <string>

#include "common/errors.h"
#include "fst/fst_reader.h"
#include "graph_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string path;
  const int fd = fuzz::MemoryFile(data, size, &path);
  try {
    fuzz::CheckGraph(*pywfst::ReadFstFile(path));
  } catch (const pywfst::InputError&) {
  } catch (const pywfst::IoError&) {
  }
  close(fd);
  return 0;
}
