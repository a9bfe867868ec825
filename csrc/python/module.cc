// The pywfst._core extension module: error translation and the per-area binders.
#include <pybind11/pybind11.h>

#include <cstring>

#include "common/errors.h"
#include "fst/mapped_graph.h"
#include "python/bindings.h"

namespace py = pybind11;

namespace {

// Raises `type` with `message`. Messages may quote file paths, which on POSIX are bytes and need
// not be UTF-8: undecodable bytes become \xNN escapes instead of a UnicodeDecodeError.
void SetError(PyObject* type, const char* message) {
  PyObject* text = PyUnicode_DecodeUTF8(message, static_cast<Py_ssize_t>(std::strlen(message)),
                                        "backslashreplace");
  if (text == nullptr) return;  // MemoryError is already set
  PyErr_SetObject(type, text);
  Py_DECREF(text);
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "pywfst native core: OpenFst binary reader, CSR decoding graph (and decoders).";

  // StaleGraphError: a mapped graph file that belongs to another source or format version; a
  // ValueError, which the graph loader catches to write the file again. The module object keeps
  // the type alive as long as the translator can run.
  static PyObject* stale_graph_error = PyErr_NewExceptionWithDoc(
      "pywfst._core.StaleGraphError",
      "A mapped graph file (HCLG.csr) made from another HCLG.fst or by another format version: "
      "write it again.",
      PyExc_ValueError, nullptr);
  if (stale_graph_error == nullptr) throw py::error_already_set();
  m.add_object("StaleGraphError", py::handle(stale_graph_error));

  // InputError -> ValueError, IoError -> OSError, UsageError -> RuntimeError, each with the C++
  // message; Interrupted -> the pending Python exception (KeyboardInterrupt).
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const pywfst::StaleGraphError& e) {
      SetError(stale_graph_error, e.what());
    } catch (const pywfst::InputError& e) {
      SetError(PyExc_ValueError, e.what());
    } catch (const pywfst::IoError& e) {
      SetError(PyExc_OSError, e.what());
    } catch (const pywfst::UsageError& e) {
      SetError(PyExc_RuntimeError, e.what());
    } catch (const pywfst::Interrupted&) {
      // The interrupt check left the exception a signal handler raised; keep it.
      if (!PyErr_Occurred()) PyErr_SetNone(PyExc_KeyboardInterrupt);
    }
  });

  pywfst::BindGraph(m);
  pywfst::BindClassGraph(m);
  pywfst::BindDecoder(m);
  pywfst::BindDecoderStream(m);
  pywfst::BindBatchSearch(m);
}
