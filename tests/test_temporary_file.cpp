#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "nn/error.h"
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

}  // namespace
