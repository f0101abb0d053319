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
#include "../libnn/src/temporary_file.h"

namespace {

namespace fs = std::filesystem;

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class TemporaryFileTest : public testing::Test {
 protected:
  void SetUp() override {
    const auto* test = testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           nn::str("starnn-", test->test_suite_name(), "-", test->name(), "-", ::getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  // Names in the directory, to show that no temporary was left behind.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_)) names.push_back(entry.path().filename().string());
    std::ranges::sort(names);
    return names;
  }

  fs::path dir_;
};

TEST_F(TemporaryFileTest, CommitReplacesTheTarget) {
  const fs::path target = dir_ / "out.txt";
  write_text(target, "old");
  nn::TemporaryFile temporary(target);
  EXPECT_EQ(temporary.path().parent_path(), dir_);
  write_text(temporary.path(), "new");
  EXPECT_EQ(read_text(target), "old");
  temporary.commit();
  EXPECT_EQ(read_text(target), "new");
  EXPECT_EQ(entries(), std::vector<std::string>{"out.txt"});
}

TEST_F(TemporaryFileTest, DestructionWithoutCommitKeepsTheOldTarget) {
  const fs::path target = dir_ / "out.txt";
  write_text(target, "old");
  {
    nn::TemporaryFile temporary(target);
    write_text(temporary.path(), "partial");
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
  write_text(first.path(), "first");
  write_text(second.path(), "second");
  first.commit();
  EXPECT_EQ(read_text(target), "first");
  EXPECT_EQ(read_text(second.path()), "second");
  second.commit();
  EXPECT_EQ(read_text(target), "second");
  EXPECT_EQ(entries(), std::vector<std::string>{"out.txt"});
}

}  // namespace
