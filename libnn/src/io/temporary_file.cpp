#include "temporary_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <random>
#include <system_error>

#include "nn/error.h"

namespace nn {
namespace {

std::filesystem::path directory_of(const std::filesystem::path& target) {
  return target.has_parent_path() ? target.parent_path() : ".";
}

// Hidden, so that listings do not show a file that exists only while it is written. The
// counter separates writers in one process, the pid separates processes, and the random
// part separates hosts sharing a network file system as well as a leftover from a crashed
// process whose pid was reused.
std::filesystem::path temporary_name(const std::filesystem::path& target) {
  static std::atomic<unsigned long> counter = 0;
  return str(".", target.filename().string(), ".tmp-", ::getpid(), "-", ++counter, "-", std::hex,
             std::random_device{}());
}

}  // namespace

TemporaryFile::TemporaryFile(std::filesystem::path target, std::string description)
    : target_(std::move(target)),
      description_(description.empty() ? str("'", target_.string(), "'") : std::move(description)) {
  const std::filesystem::path directory = directory_of(target_);
  std::error_code error;
  if (!std::filesystem::is_directory(directory, error)) {
    fail(str("directory '", directory.string(), "' does not exist"));
  }
  if (std::filesystem::is_directory(target_, error)) fail("it is a directory");
  path_ = target_.parent_path() / temporary_name(target_);
}

TemporaryFile::~TemporaryFile() {
  if (committed_) return;
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
}

void TemporaryFile::commit() {
  // The writer has closed its own handle; syncing a fresh one flushes the same data.
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_os("opening", errno);
  const int sync_error = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  if (sync_error != 0) fail_os("flushing", sync_error);
  if (::rename(path_.c_str(), target_.c_str()) != 0) fail_os("renaming", errno);
  committed_ = true;
  // Makes the rename itself survive a power loss. Best effort: the new content is already
  // complete and in place, and some file systems refuse to sync a directory.
  const int directory = ::open(directory_of(target_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (directory >= 0) {
    ::fsync(directory);
    ::close(directory);
  }
}

void TemporaryFile::fail(const std::string& problem, std::source_location where) const {
  throw Error(str("cannot write ", description_, ": ", problem), where);
}

void TemporaryFile::fail_os(const char* action, int error, std::source_location where) const {
  fail(str(action, " '", path_.string(), "' failed: ", std::generic_category().message(error)), where);
}

}  // namespace nn
