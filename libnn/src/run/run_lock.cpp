#include "run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "nn/error.h"

namespace nn {

RunLock::RunLock(const std::filesystem::path& folder) {
  const std::filesystem::path path = folder / ".lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(str("cannot lock the run folder: opening '", path.string(), "': ", std::strerror(errno)));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd_);
    if (error == EWOULDBLOCK)
      throw Error(str("another training run is writing into '", folder.string(), "' (it holds '", path.string(),
                      "'); wait for it to end or train into another folder"));
    throw Error(str("cannot lock the run folder: '", path.string(), "': ", std::strerror(error)));
  }
}

RunLock::~RunLock() { ::close(fd_); }

}  // namespace nn
