// nn::TrainingRun, the library's training run: its files, a stop and a resume that end as an
// uninterrupted run does, and the factories and history file it is built from.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "nn/error.h"
#include "nn/network_file.h"
#include "nn/training_run.h"
#include "scratch_dir.h"

namespace {

namespace fs = std::filesystem;

class TrainingRunTest : public ScratchDir {
 protected:
  // tests/data/nets/tiny.json: 3 epochs on the shipped SEGUE sample, with dropout.
  static nn::NetworkFile tiny() { return nn::read_network_file(fs::path(STARNN_TEST_DATA) / "nets" / "tiny.json"); }
  // tiny.json as an ensemble of 2 nets with uncertainty heads.
  static nn::NetworkFile tiny_ensemble() {
    nn::NetworkFile file = tiny();
    file.members = 2;
    file.loss.type = nn::LossType::gaussian_nll;
    return file;
  }
  void expect_stop_and_resume_end_as_the_uninterrupted_run(const nn::NetworkFile& file);
  void expect_every_kill_point_resumes_as_the_uninterrupted_run(const nn::NetworkFile& file);
};

std::string bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Everything of a history row but its wall-clock seconds.
void expect_same_losses(const std::vector<nn::HistoryRow>& a, const std::vector<nn::HistoryRow>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].epoch, b[i].epoch);
    EXPECT_EQ(a[i].train_loss, b[i].train_loss) << "epoch " << a[i].epoch;
    EXPECT_EQ(a[i].validation_loss, b[i].validation_loss) << "epoch " << a[i].epoch;
    EXPECT_EQ(a[i].lr, b[i].lr) << "epoch " << a[i].epoch;
  }
}

void TrainingRunTest::expect_stop_and_resume_end_as_the_uninterrupted_run(const nn::NetworkFile& file) {
  const fs::path straight = path("straight"), stopped = path("stopped");
  std::vector<nn::HistoryRow> rows_told;
  {
    nn::TrainingRun run(file, straight);
    EXPECT_FALSE(fs::exists(straight)) << "nothing is written before train()";
    nn::TrainingRunEvents events;
    events.epoch_done = [&](const nn::HistoryRow& row, bool) { rows_told.push_back(row); };
    ASSERT_TRUE(run.train(events));
    EXPECT_EQ(run.state().epoch, 3);
    const nn::EvaluationReport report = run.evaluate_best();
    ASSERT_EQ(report.targets.size(), 1u);
    EXPECT_EQ(report.targets[0].name, "feh");
    EXPECT_GT(report.targets[0].metrics.n, 1000);
  }
  for (const char* name : {"best.safetensors", "last.safetensors", "history.csv", "metrics.json"})
    EXPECT_TRUE(fs::exists(straight / name)) << name;
  const std::vector<nn::HistoryRow> history = nn::read_history(straight / "history.csv");
  ASSERT_EQ(history.size(), 3u);
  ASSERT_EQ(rows_told.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {  // the file holds what epoch_done told, to 9 digits
    EXPECT_EQ(history[i].epoch, rows_told[i].epoch);
    EXPECT_NEAR(history[i].train_loss, rows_told[i].train_loss, 1e-8 * rows_told[i].train_loss);
    EXPECT_NEAR(history[i].validation_loss, rows_told[i].validation_loss, 1e-8 * rows_told[i].validation_loss);
  }

  // Stop during the second epoch, after a few batches (of the last member of an ensemble).
  {
    nn::TrainingRun run(file, stopped);
    const nn::Index stop_at = (file.members - 1) * run.batches_per_epoch() + 5;
    nn::Index batches_in_epoch_2 = 0;
    nn::TrainingRunEvents events;
    events.batch_done = [&](nn::Index epoch, nn::Index, nn::Index) { batches_in_epoch_2 += epoch == 2; };
    events.stop_requested = [&] { return batches_in_epoch_2 >= stop_at; };
    EXPECT_FALSE(run.train(events));
    EXPECT_EQ(run.state().epoch, 1);
  }
  EXPECT_EQ(nn::read_history(stopped / "history.csv").size(), 1u);
  nn::Model last = nn::load_resume_point(stopped);
  EXPECT_EQ(last.state().epoch, 1);
  {
    nn::NetworkFile file = last.file();  // taken before last moves into the run
    nn::TrainingRun resumed(file, stopped, std::move(last));
    ASSERT_TRUE(resumed.train());
  }
  EXPECT_EQ(bytes(straight / "best.safetensors"), bytes(stopped / "best.safetensors"));
  EXPECT_EQ(bytes(straight / "last.safetensors"), bytes(stopped / "last.safetensors"));
  expect_same_losses(nn::read_history(straight / "history.csv"), nn::read_history(stopped / "history.csv"));
}

TEST_F(TrainingRunTest, StoppedAndResumedEndsAsTheUninterruptedRun) {
  expect_stop_and_resume_end_as_the_uninterrupted_run(tiny());
}

// The members train one after another within each epoch, each keeping its own best epoch; a stop
// inside the second member's epoch resumes as well.
TEST_F(TrainingRunTest, AnEnsembleStoppedAndResumedEndsAsTheUninterruptedRun) {
  expect_stop_and_resume_end_as_the_uninterrupted_run(tiny_ensemble());
  const nn::Model best = nn::Model::load(path("straight") / "best.safetensors");
  ASSERT_EQ(best.members(), 2);
  ASSERT_EQ(best.state().best.size(), 2u);
  for (const nn::MemberBest& b : best.state().best) {
    EXPECT_GE(b.epoch, 1);
    EXPECT_TRUE(std::isfinite(b.validation_loss));
  }
  const nn::EvaluationReport report =
      nn::TrainingRun(tiny_ensemble(), path("straight"), nn::load_resume_point(path("straight"))).evaluate_best();
  ASSERT_TRUE(report.targets[0].calibration.has_value());
  EXPECT_GT(report.targets[0].calibration->coverage_68, 0.3);
  EXPECT_GT(report.targets[0].calibration->mean_sigma, 0.0);
}

// A process killed between two of an epoch's writes (best, history, last, in that order) leaves
// one of these folders; each resumes to the uninterrupted run's files. Built from the files of
// runs stopped after epoch 1 and after epoch 2 (a kill between whole epochs is the stop itself).
void TrainingRunTest::expect_every_kill_point_resumes_as_the_uninterrupted_run(const nn::NetworkFile& file) {
  {
    nn::TrainingRun straight(file, path("straight"));
    ASSERT_TRUE(straight.train());
  }
  auto stop_after = [&](nn::Index epochs, const fs::path& folder) {
    nn::TrainingRun run(file, folder);
    nn::TrainingRunEvents events;
    nn::Index done = 0;
    events.epoch_done = [&](const nn::HistoryRow&, bool) { ++done; };
    events.stop_requested = [&] { return done >= epochs; };
    EXPECT_FALSE(run.train(events));
  };
  stop_after(1, path("epoch1"));
  stop_after(2, path("epoch2"));
  // Epoch 2's files over epoch 1's folder, as far as the kill let them get.
  const std::vector<std::vector<const char*>> written_before_kill = {{"best.safetensors"},
                                                                     {"best.safetensors", "history.csv"}};
  for (const auto& written : written_before_kill) {
    const fs::path folder = path(std::string("killed_after_") + written.back());
    fs::copy(path("epoch1"), folder);
    for (const char* name : written)
      fs::copy_file(path("epoch2") / name, folder / name, fs::copy_options::overwrite_existing);
    nn::Model last = nn::load_resume_point(folder);
    EXPECT_EQ(last.state().epoch, 1);
    const nn::NetworkFile file = last.file();
    {
      nn::TrainingRun resumed(file, folder, std::move(last));
      ASSERT_TRUE(resumed.train());
    }
    for (const char* name : {"best.safetensors", "last.safetensors"})
      EXPECT_EQ(bytes(path("straight") / name), bytes(folder / name))
          << name << " after a kill after " << written.back();
    expect_same_losses(nn::read_history(path("straight") / "history.csv"), nn::read_history(folder / "history.csv"));
  }
}

TEST_F(TrainingRunTest, EveryKillPointResumesAsTheUninterruptedRun) {
  expect_every_kill_point_resumes_as_the_uninterrupted_run(tiny());
}

TEST_F(TrainingRunTest, EveryKillPointOfAnEnsembleResumesAsTheUninterruptedRun) {
  expect_every_kill_point_resumes_as_the_uninterrupted_run(tiny_ensemble());
}

// A new run into a folder that holds one is refused unless it may replace it; one writer at a
// time holds a folder.
TEST_F(TrainingRunTest, AFolderHoldsOneRunAndOneWriter) {
  nn::NetworkFile one_epoch = tiny();
  one_epoch.training.epochs = 1;
  nn::TrainingRun first(one_epoch, path("run"));
  ASSERT_TRUE(first.train());
  try {
    nn::TrainingRun again(one_epoch, path("run"));
    FAIL() << "a second run into a folder that holds one was taken";
  } catch (const nn::Error& e) {
    EXPECT_NE(e.message().find("already holds a training run"), std::string::npos) << e.message();
  }
  nn::NetworkFile two_epochs = tiny();
  two_epochs.training.epochs = 2;
  nn::TrainingRun replacing(two_epochs, path("run"), std::nullopt, nn::ExistingRun::replace);
  try {
    replacing.train();  // `first` still holds the folder
    FAIL() << "two runs wrote into one folder";
  } catch (const nn::Error& e) {
    EXPECT_NE(e.message().find("another training run is writing into"), std::string::npos) << e.message();
  }
  EXPECT_EQ(nn::read_history(path("run") / "history.csv").size(), 1u) << "the refused run changed nothing";
  first = nn::TrainingRun(one_epoch, path("other"));  // releases the lock on run
  ASSERT_TRUE(replacing.train());
  EXPECT_EQ(nn::read_history(path("run") / "history.csv").size(), 2u);
  EXPECT_FALSE(fs::exists(path("run") / "metrics.json")) << "the replaced run's metrics are gone";
}

TEST_F(TrainingRunTest, ResumeKeepsTheSeedAndNeedsOptimiserState) {
  {
    nn::NetworkFile file = tiny();
    file.training.epochs = 1;
    nn::TrainingRun run(file, path("run"));
    ASSERT_TRUE(run.train());
    run.evaluate_best();
  }
  nn::Model last = nn::load_resume_point(path("run"));
  nn::NetworkFile other_seed = last.file();
  other_seed.training.seed += 1;
  try {
    nn::TrainingRun resumed(other_seed, path("run"), std::move(last));
    FAIL() << "a resumed run took another seed";
  } catch (const nn::Error& e) {
    EXPECT_NE(e.message().find("keeps its seed"), std::string::npos) << e.message();
  }
  // best.safetensors holds no optimiser state: nothing to resume from.
  fs::create_directories(path("best_only"));
  fs::copy_file(path("run") / "best.safetensors", path("best_only") / "last.safetensors");
  try {
    nn::load_resume_point(path("best_only"));
    FAIL() << "a checkpoint without optimiser state was taken";
  } catch (const nn::Error& e) {
    EXPECT_NE(e.message().find("holds no optimiser state"), std::string::npos) << e.message();
  }
}

TEST_F(TrainingRunTest, NoEpochsIsRefusedBeforeAnythingIsRead) {
  nn::NetworkFile file = tiny();
  file.training.epochs = 0;
  file.data.catalog = "no such catalogue.fits";  // not reached
  try {
    nn::TrainingRun run(file, path("run"));
    FAIL() << "0 epochs were taken";
  } catch (const nn::Error& e) {
    EXPECT_NE(e.message().find("training.epochs must be at least 1"), std::string::npos) << e.message();
  }
  EXPECT_FALSE(fs::exists(path("run")));
}

// A run too short for its schedule is the network file's to change, and the message says where.
TEST_F(TrainingRunTest, ARunTooShortForOneCycleNamesTheFileAndTheKeys) {
  nn::NetworkFile file = tiny();
  file.training.epochs = 1;
  file.training.batch_size = 1 << 20;  // one batch: the whole training split
  try {
    nn::TrainingRun run(file, path("run"));
    FAIL() << "a one-step one_cycle run was taken";
  } catch (const nn::Error& e) {
    EXPECT_NE(e.message().find("tiny.json: $.schedule: one_cycle needs at least 2 optimiser steps"), std::string::npos)
        << e.message();
    EXPECT_NE(e.message().find("lower $.training.batch_size or raise $.training.epochs"), std::string::npos)
        << e.message();
  }
}

TEST_F(TrainingRunTest, HistoryRoundTripsAndNamesABadLine) {
  const std::vector<nn::HistoryRow> rows = {{1, 0.5, 0.625, 1e-3, 2.5}, {2, 0.4123456789, 0.5, 2e-8, 3}};
  nn::write_history(path("history.csv"), rows);
  EXPECT_EQ(bytes(path("history.csv")),
            "epoch,train_loss,validation_loss,lr,seconds\n1,0.5,0.625,0.001,2.5\n2,0.412345679,0.5,2e-08,3\n");
  const std::vector<nn::HistoryRow> back = nn::read_history(path("history.csv"));
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].train_loss, 0.412345679);
  nn::write_history(path("again.csv"), back);
  EXPECT_EQ(bytes(path("again.csv")), bytes(path("history.csv"))) << "rows read back are written unchanged";

  write_text("bad.csv", "epoch,train_loss,validation_loss,lr,seconds\n1,0.5,0.6,0.001,2\n2,0.5x,0.6,0.001,2\n");
  try {
    nn::read_history(path("bad.csv"));
    FAIL() << "0.5x was read as a number";
  } catch (const nn::Error& e) {
    EXPECT_NE(e.message().find("bad.csv: line 3 is not a row of numbers"), std::string::npos) << e.message();
  }
  write_text("no_lr.csv", "epoch,train_loss,validation_loss,seconds\n");
  try {
    nn::read_history(path("no_lr.csv"));
    FAIL() << "a history without lr was read";
  } catch (const nn::Error& e) {
    EXPECT_NE(e.message().find("no column 'lr'"), std::string::npos) << e.message();
  }
}

// The factories against the schedules' closed forms.
TEST(TrainingRunFactories, SchedulesSpanTheRun) {
  nn::ScheduleSpec step;
  step.type = nn::ScheduleType::step;
  step.lr = 0.1, step.step_size = 2, step.gamma = 0.5;
  const auto s = nn::make_schedule(step, 10, 7);  // decays every 2 epochs of 7 steps
  EXPECT_DOUBLE_EQ(s->at(13).lr, 0.1);
  EXPECT_DOUBLE_EQ(s->at(14).lr, 0.05);
  EXPECT_DOUBLE_EQ(s->at(28).lr, 0.025);

  nn::ScheduleSpec cycle;  // one_cycle over all 10 x 7 steps: the peak at pct_start of them
  cycle.one_cycle.max_lr = 0.01;
  const auto c = nn::make_schedule(cycle, 10, 7);
  nn::OneCycleOptions direct = cycle.one_cycle;
  direct.total_steps = 70;
  const auto d = nn::make_one_cycle(direct);
  for (std::int64_t t : {0, 20, 21, 69}) EXPECT_EQ(c->at(t).lr, d->at(t).lr) << t;

  nn::ScheduleSpec constant;
  constant.type = nn::ScheduleType::constant;
  constant.lr = 3e-4;
  EXPECT_DOUBLE_EQ(nn::make_schedule(constant, 5, 5)->at(24).lr, 3e-4);
}

}  // namespace
