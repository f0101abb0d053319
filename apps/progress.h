#pragma once
// Progress of long work: a live line redrawn in place on a terminal, plain lines otherwise
// (logs, pipes, CI), so that a log file never fills with carriage returns.
#include <chrono>
#include <cstdio>
#include <string>

namespace starnn {

class Progress {
 public:
  // out null: prints nothing (the ranks other than 0 of a run under mpirun).
  explicit Progress(std::FILE* out);
  bool interactive() const { return interactive_; }
  // Redraws the live line (terminals only; at most 10 times a second).
  void update(const std::string& text);
  // Prints a line that stays (clearing the live one first on a terminal).
  void line(const std::string& text);

 private:
  std::FILE* out_;
  bool interactive_;
  bool live_ = false;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace starnn
