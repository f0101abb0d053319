#pragma once
// The parts of the starnn._starnn extension module, each bound by its own file.
#include <pybind11/pybind11.h>

namespace starnn_python {

void bind_model(pybind11::module_& m);     // model_binding.cpp: _Model
void bind_training(pybind11::module_& m);  // training_binding.cpp: _train

}  // namespace starnn_python
