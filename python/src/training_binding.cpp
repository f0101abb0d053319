// starnn._train: the library's training run (nn::start_training_run, the one `starnn train`
// runs) with the GIL released, reporting batches and epochs to Python callbacks and stopping at
// the next batch on Ctrl-C.
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <exception>
#include <optional>
#include <string>

#include "bindings.h"
#include "nn/network_file.h"
#include "nn/training_run.h"

namespace py = pybind11;

namespace starnn_python {
namespace {

// What a run asks of Python between batches: the callbacks run with the GIL taken back, and a
// pending signal (Ctrl-C) or an exception in a callback stops the run before its next batch,
// with its checkpoints as of the last complete epoch.
class PythonEvents {
 public:
  PythonEvents(py::object on_batch, py::object on_epoch)
      : on_batch_(std::move(on_batch)), on_epoch_(std::move(on_epoch)) {}

  nn::TrainingRunEvents events() {
    nn::TrainingRunEvents e;
    e.stop_requested = [this] {
      py::gil_scoped_acquire held;
      if (!error_ && PyErr_CheckSignals() != 0) error_.emplace();  // takes the KeyboardInterrupt
      return error_.has_value();
    };
    e.batch_done = [this](nn::Index epoch, nn::Index done, nn::Index total) {
      call(on_batch_, [&] { on_batch_(epoch, done, total); });
    };
    e.epoch_done = [this](const nn::HistoryRow& row, bool best) {
      call(on_epoch_, [&] {
        py::dict r;
        r["epoch"] = row.epoch;
        r["train_loss"] = row.train_loss;
        r["validation_loss"] = row.validation_loss;
        r["lr"] = row.lr;
        r["seconds"] = row.seconds;
        on_epoch_(r, best);
      });
    };
    return e;
  }

  // Raises what stopped the run, if anything did. Call with the GIL held.
  void rethrow() {
    if (error_) {
      py::error_already_set e = std::move(*error_);
      error_.reset();
      throw e;
    }
  }

  ~PythonEvents() {
    // The callbacks' references must go while the GIL is held.
    py::gil_scoped_acquire held;
    on_batch_ = py::object();
    on_epoch_ = py::object();
    error_.reset();
  }

 private:
  template <class F>
  void call(const py::object& callback, F&& f) {
    if (callback.is_none()) return;
    py::gil_scoped_acquire held;
    if (error_) return;
    try {
      f();
    } catch (py::error_already_set& e) {
      error_.emplace(std::move(e));
    }
  }

  py::object on_batch_, on_epoch_;
  std::optional<py::error_already_set> error_;
};

// Trains the network (its file, or its JSON text when `is_path` is false) into `out` and returns
// metrics.json's text; None when the run stopped early without an exception to raise.
py::object train(const std::string& network, bool is_path, std::optional<std::string> catalog, const std::string& out,
                 std::optional<long long> epochs, std::optional<long long> seed, std::optional<std::string> device,
                 bool resume, bool overwrite, py::object on_batch, py::object on_epoch) {
  nn::RunOptions options;
  if (catalog) options.catalog = *catalog;
  options.epochs = epochs;
  options.seed = seed;
  if (device) options.device = nn::parse_device_choice(*device, "device");
  if (resume) options.resume = out;
  options.overwrite = overwrite;
  PythonEvents events(std::move(on_batch), std::move(on_epoch));
  std::optional<std::string> metrics;
  {
    py::gil_scoped_release released;
    nn::NetworkFile file =
        is_path ? nn::read_network_file(network) : nn::parse_network_file(network, "the network (dict)");
    nn::TrainingRun run = nn::start_training_run(std::move(file), out, options);
    if (run.train(events.events())) metrics = nn::to_json(run.evaluate_best());
  }
  events.rethrow();
  return metrics ? py::object(py::str(*metrics)) : py::object(py::none());
}

}  // namespace

void bind_training(py::module_& m) {
  m.def("_train", &train, py::arg("network"), py::arg("is_path"), py::arg("catalog"), py::arg("out"), py::arg("epochs"),
        py::arg("seed"), py::arg("device"), py::arg("resume"), py::arg("overwrite"), py::arg("on_batch"),
        py::arg("on_epoch"));
}

}  // namespace starnn_python
