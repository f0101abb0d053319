#include "temporary_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <random>
#include <system_error>

#include "nn/error.h"
#include "nn/io.h"

namespace nn {
namespace {

std::filesystem::path directory_of(const std::filesystem::path& target) {
  return target.has_parent_path() ? target.parent_path() : ".";
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "unknown-host";
  return name;
}

// Hidden, so that listings do not show a file that exists only while it is written:
//   .<target>.tmp-<host>-<pid>-<counter>-<random>
// The counter separates writers in one process, the pid processes, the host those sharing a
// network file system; the random part keeps a leftover of a crashed process whose pid was
// reused apart.
std::string temporary_prefix(const std::filesystem::path& target) {
  return str(".", target.filename().string(), ".tmp-");
}

std::filesystem::path temporary_name(const std::filesystem::path& target) {
  static std::atomic<unsigned long> counter = 0;
  return str(temporary_prefix(target), host_name(), "-", ::getpid(), "-", ++counter, "-", std::hex,
             std::random_device{}());
}

// Removes temporaries of target that a process of this host left when it died (their pid is
// no longer running). Those of live processes and of other hosts stay: they may be writing.
void remove_stale_temporaries(const std::filesystem::path& target) {
  const std::string prefix = str(temporary_prefix(target), host_name(), "-");
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory_of(target), error)) {
    const std::string name = entry.path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    char* end = nullptr;
    const long pid = std::strtol(name.c_str() + prefix.size(), &end, 10);
    if (pid <= 0 || *end != '-') continue;
    if (::kill(pid_t(pid), 0) != 0 && errno == ESRCH) std::filesystem::remove(entry.path(), error);
  }
}

// The temporaries being written, for the signal handler: fixed slots of C strings, so that the
// handler reads them without locks or allocation. A writer beyond the slots is simply not
// cleaned up on a signal.
constexpr std::size_t kSlots = 256;
std::atomic<const char*> live_temporaries[kSlots];

void register_live(const char* path) {
  for (auto& slot : live_temporaries) {
    const char* empty = nullptr;
    if (slot.compare_exchange_strong(empty, path)) return;
  }
}

void unregister_live(const char* path) {
  for (auto& slot : live_temporaries) {
    const char* expected = path;
    if (slot.compare_exchange_strong(expected, nullptr)) return;
  }
}

}  // namespace

extern "C" void remove_temporaries_and_reraise(int signal) {
  // Only async-signal-safe calls: unlink, signal, raise.
  for (auto& slot : live_temporaries)
    if (const char* path = slot.load()) ::unlink(path);
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

void remove_temporaries_on_signals() {
  for (const int signal : {SIGINT, SIGTERM, SIGHUP}) std::signal(signal, remove_temporaries_and_reraise);
}

TemporaryFile::TemporaryFile(std::filesystem::path target, std::string description)
    : target_(std::move(target)),
      description_(description.empty() ? str("'", target_.string(), "'") : std::move(description)) {
  const std::filesystem::path directory = directory_of(target_);
  std::error_code error;
  if (!std::filesystem::is_directory(directory, error)) {
    fail(str("directory '", directory.string(), "' does not exist"));
  }
  if (std::filesystem::is_directory(target_, error)) fail("it is a directory");
  remove_stale_temporaries(target_);
  path_ = target_.parent_path() / temporary_name(target_);
  register_live(path_.c_str());
}

TemporaryFile::~TemporaryFile() {
  unregister_live(path_.c_str());
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
