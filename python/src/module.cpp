// starnn._starnn: the compiled half of the starnn Python package (python/starnn/__init__.py is
// the other). Errors of the library raise starnn.Error, a ValueError with the library's message.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

#include "bindings.h"
#include "nn/catalog.h"
#include "nn/devices.h"
#include "nn/error.h"
#include "nn/version.h"

namespace py = pybind11;

namespace {

// A catalogue file's columns, as float64 arrays.
py::dict read_catalog(const std::string& path, const std::vector<std::string>& columns, const std::string& hdu) {
  std::optional<nn::Catalog> catalog;
  {
    py::gil_scoped_release released;
    catalog.emplace(nn::read_catalog(path, {hdu, columns}));
  }
  py::dict result;
  for (const std::string& name : catalog->names()) {
    auto* values = new std::vector<double>(catalog->column(name));
    py::capsule owner(values, [](void* p) { delete static_cast<std::vector<double>*>(p); });
    result[py::str(name)] = py::array_t<double>(py::ssize_t(values->size()), values->data(), owner);
  }
  return result;
}

}  // namespace

PYBIND11_MODULE(_starnn, m) {
  m.doc() = "The compiled part of starnn; use the starnn package.";
  static py::exception<nn::Error> error(m, "Error", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const nn::Error& e) {
      // The message for the person who gave the input, without the library's source location.
      PyErr_SetString(error.ptr(), e.message().c_str());
    }
  });
  m.attr("__version__") = nn::version();
  m.def("_read_catalog", &read_catalog, py::arg("path"), py::arg("columns"), py::arg("hdu"));
  m.def("bf16_unavailable", &nn::bf16_unavailable);
  starnn_python::bind_model(m);
  starnn_python::bind_training(m);
}
