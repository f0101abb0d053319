#pragma once
// Atomic file writes for every writer in the library, whatever does the writing (POSIX
// calls, std::ofstream, CFITSIO): each writes to path() and the result replaces the target
// only on commit().
#include <filesystem>
#include <source_location>
#include <string>

namespace nn {

// A temporary next to `target` (rename() is atomic only within one file system) that
// becomes `target` on commit() and is removed otherwise, so that a failed write never leaves
// a partial file or replaces a good one. The temporary is not created here: the writer
// creates it, as some (CFITSIO) refuse to create a file that exists.
class TemporaryFile {
 public:
  // Throws nn::Error when the target's directory does not exist or the target is a
  // directory. Messages read "cannot write <description>: ..."; the description is the
  // quoted target unless given.
  explicit TemporaryFile(std::filesystem::path target, std::string description = {});
  // Removes the temporary unless committed; never throws.
  ~TemporaryFile();
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;

  const std::filesystem::path& path() const { return path_; }
  const std::filesystem::path& target() const { return target_; }

  // Flushes the temporary to disk, renames it over the target and syncs the directory, so
  // that the target holds the complete new content even after a power loss. The writer must
  // have closed the temporary. Throws nn::Error naming the target and the OS reason.
  void commit();

 private:
  [[noreturn]] void fail(const std::string& problem,
                         std::source_location where = std::source_location::current()) const;
  // `error` is an errno value, taken before anything else can change errno.
  [[noreturn]] void fail_os(const char* action, int error,
                            std::source_location where = std::source_location::current()) const;

  std::filesystem::path target_;
  std::string description_;
  std::filesystem::path path_;
  bool committed_ = false;
};

}  // namespace nn
