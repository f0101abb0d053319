#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "nn/error.h"
#include "nn/io.h"
// The class is private to the library; its header is reached from the source tree.
#include "../libnn/src/io/temporary_file.h"
#include "scratch_dir.h"

namespace {

namespace fs = std::filesystem;

void write_file(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

using TemporaryFileTest = ScratchDir;

TEST_F(TemporaryFileTest, CommitReplacesTheTarget) {
  const fs::path target = dir_ / "out.txt";
  write_file(target, "old");
  nn::TemporaryFile temporary(target);
  EXPECT_EQ(temporary.path().parent_path(), dir_);
  write_file(temporary.path(), "new");
  EXPECT_EQ(read_text(target), "old");
  temporary.commit();
  EXPECT_EQ(read_text(target), "new");
  EXPECT_EQ(entries(), std::vector<std::string>{"out.txt"});
}

TEST_F(TemporaryFileTest, DestructionWithoutCommitKeepsTheOldTarget) {
  const fs::path target = dir_ / "out.txt";
  write_file(target, "old");
  {
    nn::TemporaryFile temporary(target);
    write_file(temporary.path(), "partial");
  }
  EXPECT_EQ(read_text(target), "old");
  EXPECT_EQ(entries(), std::vector<std::string>{"out.txt"});
}

TEST_F(TemporaryFileTest, MissingDirectoryIsAClearError) {
  const fs::path target = dir_ / "absent" / "out.txt";
  try {
    nn::TemporaryFile temporary(target);
    FAIL() << "accepted a target in a missing directory";
  } catch (const nn::Error& e) {
    EXPECT_NE(e.message().find(target.string()), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("does not exist"), std::string::npos) << e.message();
  }
  EXPECT_TRUE(entries().empty());
}

TEST_F(TemporaryFileTest, TargetThatIsADirectoryIsAClearError) {
  try {
    nn::TemporaryFile temporary(dir_);
    FAIL() << "accepted a directory as the target";
  } catch (const nn::Error& e) {
    EXPECT_NE(e.message().find("is a directory"), std::string::npos) << e.message();
  }
}

TEST_F(TemporaryFileTest, TwoTemporariesForOneTargetCoexist) {
  const fs::path target = dir_ / "out.txt";
  nn::TemporaryFile first(target);
  nn::TemporaryFile second(target);
  EXPECT_NE(first.path(), second.path());
  write_file(first.path(), "first");
  write_file(second.path(), "second");
  first.commit();
  EXPECT_EQ(read_text(target), "first");
  EXPECT_EQ(read_text(second.path()), "second");
  second.commit();
  EXPECT_EQ(read_text(target), "second");
  EXPECT_EQ(entries(), std::vector<std::string>{"out.txt"});
}

std::string this_host() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}

// The pid of a process that has ended.
pid_t dead_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

// A kill -9 leaves a temporary; the next write to the same file removes it, but not the
// temporaries of live processes, of other hosts or of other files.
TEST_F(TemporaryFileTest, NextWriteRemovesTheTemporaryOfADeadProcess) {
  const fs::path target = dir_ / "out.csv";
  const std::string host = this_host();
  const std::string dead = ".out.csv.tmp-" + host + "-" + std::to_string(dead_pid()) + "-1-9f";
  const std::string live = ".out.csv.tmp-" + host + "-" + std::to_string(::getpid()) + "-7-3a";
  const std::string elsewhere = ".out.csv.tmp-another-host-" + std::to_string(dead_pid()) + "-1-9f";
  const std::string other_file = ".other.csv.tmp-" + host + "-" + std::to_string(dead_pid()) + "-1-9f";
  for (const std::string& name : {dead, live, elsewhere, other_file}) write_file(dir_ / name, "partial");
  {
    nn::TemporaryFile temporary(target);
    write_file(temporary.path(), "new");
    temporary.commit();
  }
  std::vector<std::string> expected = {live, elsewhere, other_file, "out.csv"};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(entries(), expected);
}

// SIGTERM or SIGINT while a file is written: the handler removes the temporary and the process
// still ends by the signal.
TEST_F(TemporaryFileTest, SignalsRemoveTheTemporariesInFlight) {
  for (const int signal : {SIGTERM, SIGINT}) {
    const pid_t child = ::fork();
    if (child == 0) {
      nn::remove_temporaries_on_signals();
      nn::TemporaryFile first(dir_ / "a.csv"), second(dir_ / "b.fits");
      write_file(first.path(), "partial");
      write_file(second.path(), "partial");
      std::raise(signal);
      ::_exit(0);  // not reached
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == signal) << "status " << status;
    EXPECT_TRUE(entries().empty()) << entries().front();
  }
}

}  // namespace
