// Embedding a training run: train a net from a network file into a run folder, stop it part-way
// as a batch scheduler's time limit would, continue it from its last checkpoint, and evaluate the
// best model on the test split. The run folder then holds what `starnn train` writes.
//   starnn_train_and_resume NET.json RUN_DIR
#include <cstdio>
#include <exception>
#include <filesystem>

#include "nn/error.h"
#include "nn/network_file.h"
#include "nn/training_run.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s NET.json RUN_DIR\n", argv[0]);
    return 2;
  }
  const std::filesystem::path run_dir = argv[2];
  try {
    const nn::NetworkFile file = nn::read_network_file(argv[1]);
    {
      nn::TrainingRun run(file, run_dir);
      std::printf("training %lld epochs of %lld batches on %s\n", static_cast<long long>(file.training.epochs),
                  static_cast<long long>(run.batches_per_epoch()), run.device().description.c_str());
      // Stop at the first batch of epoch 2: the epoch in flight is lost, the first is kept.
      nn::TrainingRunEvents events;
      bool second_epoch = false;
      events.batch_done = [&](nn::Index epoch, nn::Index, nn::Index) { second_epoch = epoch >= 2; };
      events.stop_requested = [&] { return second_epoch; };
      events.epoch_done = [](const nn::HistoryRow& row, bool best) {
        std::printf("epoch %lld: train %.6g, validation %.6g%s\n", static_cast<long long>(row.epoch), row.train_loss,
                    row.validation_loss, best ? " (best)" : "");
      };
      if (run.train(events)) {
        std::fprintf(stderr, "the run was not stopped: it needs at least 2 epochs\n");
        return 1;
      }
      std::printf("stopped after epoch %lld\n", static_cast<long long>(run.state().epoch));
    }

    // A later job continues from last.safetensors, with the network file it started with.
    nn::Model last = nn::load_resume_point(run_dir);
    const nn::NetworkFile resumed_file = last.file();
    nn::TrainingRun resumed(resumed_file, run_dir, std::move(last));
    nn::TrainingRunEvents events;
    events.epoch_done = [](const nn::HistoryRow& row, bool best) {
      std::printf("epoch %lld: train %.6g, validation %.6g%s (resumed)\n", static_cast<long long>(row.epoch),
                  row.train_loss, row.validation_loss, best ? " (best)" : "");
    };
    if (!resumed.train(events)) return 1;
    const nn::EvaluationReport report = resumed.evaluate_best();
    for (const nn::TargetReport& t : report.targets)
      std::printf("test split: %s  n %lld  sigma_gauss %.6g\n", t.name.c_str(), static_cast<long long>(t.metrics.n),
                  t.metrics.sigma_gauss);
    std::printf("%zu epochs in %s\n", nn::read_history(run_dir / "history.csv").size(), run_dir.c_str());
  } catch (const nn::Error& e) {
    std::fprintf(stderr, "%s\n", e.message().c_str());
    return 1;
  }
  return 0;
}
