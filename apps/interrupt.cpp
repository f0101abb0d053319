#include "interrupt.h"

#include <csignal>

namespace starnn {
namespace {

volatile std::sig_atomic_t requested = 0;

extern "C" void on_interrupt(int) {
  requested = 1;
  std::signal(SIGINT, SIG_DFL);
}

}  // namespace

void catch_interrupts() { std::signal(SIGINT, on_interrupt); }
bool interrupt_requested() { return requested != 0; }

}  // namespace starnn
