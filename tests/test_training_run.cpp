// nn::TrainingRun, the library's training run: its files, a stop and a resume that end as an
// uninterrupted run does, and the factories and history file it is built from.
#include <gtest/gtest.h>

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

TEST_F(TrainingRunTest, StoppedAndResumedEndsAsTheUninterruptedRun) {
  const fs::path straight = path("straight"), stopped = path("stopped");
  std::vector<nn::HistoryRow> rows_told;
  {
    nn::TrainingRun run(tiny(), straight);
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

  // Stop during the second epoch, after a few batches.
  {
    nn::TrainingRun run(tiny(), stopped);
    nn::Index batches_in_epoch_2 = 0;
    nn::TrainingRunEvents events;
    events.batch_done = [&](nn::Index epoch, nn::Index, nn::Index) { batches_in_epoch_2 += epoch == 2; };
    events.stop_requested = [&] { return batches_in_epoch_2 >= 5; };
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
