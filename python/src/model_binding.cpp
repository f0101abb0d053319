// starnn._Model: a trained model for Python, predicting and evaluating on tables of numpy columns.
// The Python class starnn.Model wraps it and turns Tables, DataFrames and structured arrays into
// the dict of columns it takes.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "array_catalog.h"
#include "bindings.h"
#include "nn/data.h"
#include "nn/devices.h"
#include "nn/evaluation.h"
#include "nn/io.h"
#include "nn/model.h"

namespace py = pybind11;

namespace starnn_python {
namespace {

// Prediction reads the table in chunks of this many rows, as `starnn predict` reads a file: the
// doubles of one chunk are all it holds beyond the caller's arrays and the outputs.
constexpr nn::Index kChunkRows = 100000;

bool is_integer_column(const std::string& name) { return name == nn::kFlagsColumn || name == nn::kInputsUsedColumn; }

class PythonModel {
 public:
  explicit PythonModel(const std::string& path) : path_(path), model_(nn::Model::load(path)) {
    const nn::SafetensorsFile file = nn::read_safetensors(path);
    network_json_ = file.metadata_value("network");
    stats_json_ = file.metadata_value("stats");
  }

  const std::string& path() const { return path_; }
  const std::string& network_json() const { return network_json_; }
  const std::string& stats_json() const { return stats_json_; }
  const std::vector<std::string>& inputs() const { return model_.file().data.inputs; }
  std::vector<std::string> targets() const {
    std::vector<std::string> names;
    for (const auto& t : model_.file().data.targets) names.push_back(t.column);
    return names;
  }
  // The plain columns the inputs (or, for evaluation, the inputs and labels) need of a table.
  std::vector<std::string> needed_columns(const std::vector<std::string>& available, bool labels) const {
    return nn::expression_columns(labels ? nn::data_expressions(model_.file().data) : inputs(), available);
  }
  // What to read of a catalogue file to evaluate on it, as `starnn evaluate` reads it.
  std::vector<std::string> file_columns(const std::string& path, const std::string& hdu) const {
    return nn::needed_columns(path, nn::data_expressions(model_.file().data), hdu);
  }
  std::vector<std::string> output_names(nn::Index mc_samples) const {
    return model_.output_names(options(4096, mc_samples, "fp32"));
  }

  py::dict predict(const ArrayCatalog& table, nn::Index batch_size, nn::Index mc_samples, const std::string& device,
                   const std::string& precision) {
    const nn::PredictOptions predict_options = options(batch_size, mc_samples, precision);
    const std::vector<std::string> names = model_.output_names(predict_options);
    const std::vector<std::string> columns = nn::expression_columns(inputs(), table.names());
    table.require(columns);  // before any output is made, also for a table of no rows
    const auto rows = std::size_t(table.rows());
    // The outputs are numpy arrays from the start, so that filling them copies nothing twice.
    std::vector<py::array> outputs;
    std::vector<char*> data;
    for (const std::string& name : names) {
      outputs.push_back(is_integer_column(name) ? py::array(py::array_t<std::int32_t>(py::ssize_t(rows)))
                                                : py::array(py::array_t<double>(py::ssize_t(rows))));
      data.push_back(static_cast<char*>(outputs.back().mutable_data()));
    }
    {
      py::gil_scoped_release released;
      move_to(device);
      for (nn::Index begin = 0; begin < table.rows(); begin += kChunkRows) {
        const nn::Index end = std::min(table.rows(), begin + kChunkRows);
        const nn::Predictions p = model_.predict(table.chunk(begin, end, columns), predict_options);
        for (std::size_t k = 0; k < names.size(); ++k) {
          const std::vector<double>& values = p.columns[k];
          if (is_integer_column(names[k])) {
            auto* out = reinterpret_cast<std::int32_t*>(data[k]) + begin;
            // NaN (a row not predicted) counts no inputs.
            for (std::size_t r = 0; r < values.size(); ++r)
              out[r] = std::isnan(values[r]) ? 0 : std::int32_t(values[r]);
          } else {
            std::copy(values.begin(), values.end(), reinterpret_cast<double*>(data[k]) + begin);
          }
        }
      }
    }
    py::dict result;
    for (std::size_t k = 0; k < names.size(); ++k) result[py::str(names[k])] = outputs[k];
    return result;
  }

  // The report of `starnn evaluate` as JSON text, on the rows `split` names.
  std::string evaluate(const ArrayCatalog& table, const std::string& split, nn::Index mc_samples,
                       const std::string& device, const std::string& precision) {
    const nn::PredictOptions predict_options = options(4096, mc_samples, precision);
    const nn::SplitChoice choice = nn::parse_split_choice(split);
    const std::vector<std::string> columns = needed_columns(table.names(), true);
    py::gil_scoped_release released;
    move_to(device);
    const nn::Catalog catalog = table.all(columns);
    return nn::to_json(nn::evaluate_model(model_, catalog, choice, predict_options));
  }

  // Whether `path` is the catalogue the model trained on (evaluation then takes its test split).
  bool trained_on(const std::string& path) const {
    std::error_code error;
    return std::filesystem::equivalent(path, model_.file().catalog_path(), error);
  }

 private:
  static nn::PredictOptions options(nn::Index batch_size, nn::Index mc_samples, const std::string& precision) {
    if (batch_size < 1) throw nn::Error(nn::str("batch_size ", batch_size, ": must be at least 1"));
    if (mc_samples < 0 || mc_samples == 1)
      throw nn::Error(nn::str("mc_samples ", mc_samples, ": expected 2 or more passes (0: no MC dropout)"));
    return {batch_size, mc_samples, nn::parse_precision(precision)};
  }

  void move_to(const std::string& device) {
    const nn::DeviceSelection selection = nn::select_device(nn::parse_device_choice(device, "device"));
    if (selection.device != device_) model_.to(selection.device), device_ = selection.device;
  }

  std::string path_;
  nn::Model model_;
  nn::Device device_ = nn::Device::cpu;
  std::string network_json_, stats_json_;
};

}  // namespace

void bind_model(py::module_& m) {
  py::class_<PythonModel>(m, "_Model")
      .def(py::init<const std::string&>(), py::arg("path"))
      .def_property_readonly("path", &PythonModel::path)
      .def_property_readonly("network_json", &PythonModel::network_json)
      .def_property_readonly("stats_json", &PythonModel::stats_json)
      .def_property_readonly("inputs", &PythonModel::inputs)
      .def_property_readonly("targets", &PythonModel::targets)
      .def("needed_columns", &PythonModel::needed_columns, py::arg("available"), py::arg("labels"))
      .def("file_columns", &PythonModel::file_columns, py::arg("path"), py::arg("hdu"))
      .def("output_names", &PythonModel::output_names, py::arg("mc_samples"))
      .def(
          "predict",
          [](PythonModel& model, const std::string& source, const py::dict& columns,
             std::vector<std::string> table_names, nn::Index batch_size, nn::Index mc_samples,
             const std::string& device, const std::string& precision) {
            return model.predict(ArrayCatalog(source, columns, std::move(table_names)), batch_size, mc_samples, device,
                                 precision);
          },
          py::arg("source"), py::arg("columns"), py::arg("table_names"), py::arg("batch_size"), py::arg("mc_samples"),
          py::arg("device"), py::arg("precision"))
      .def(
          "evaluate",
          [](PythonModel& model, const std::string& source, const py::dict& columns,
             std::vector<std::string> table_names, const std::string& split, nn::Index mc_samples,
             const std::string& device, const std::string& precision) {
            return model.evaluate(ArrayCatalog(source, columns, std::move(table_names)), split, mc_samples, device,
                                  precision);
          },
          py::arg("source"), py::arg("columns"), py::arg("table_names"), py::arg("split"), py::arg("mc_samples"),
          py::arg("device"), py::arg("precision"))
      .def("trained_on", &PythonModel::trained_on, py::arg("path"));
}

}  // namespace starnn_python
