#include "progress.h"

#include <unistd.h>

namespace starnn {

Progress::Progress(std::FILE* out) : out_(out), interactive_(out && ::isatty(::fileno(out)) == 1) {}

void Progress::update(const std::string& text) {
  if (!interactive_) return;
  const auto now = std::chrono::steady_clock::now();
  if (live_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  std::fprintf(out_, "\r\033[K%s", text.c_str());
  std::fflush(out_);
  live_ = true;
}

void Progress::line(const std::string& text) {
  if (!out_) return;
  if (live_) std::fputs("\r\033[K", out_);
  live_ = false;
  std::fprintf(out_, "%s\n", text.c_str());
  std::fflush(out_);
}

}  // namespace starnn
