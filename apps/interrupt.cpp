#include "interrupt.h"

#include <csignal>

#include "nn/io.h"

namespace starnn {
namespace {

volatile std::sig_atomic_t requested = 0;

extern "C" void on_interrupt(int) {
  requested = 1;
  // A second Ctrl-C ends the process, with the temporaries of any write in flight removed.
  std::signal(SIGINT, nn::remove_temporaries_and_reraise);
}

}  // namespace

void catch_interrupts() { std::signal(SIGINT, on_interrupt); }
bool interrupt_requested() { return requested != 0; }

}  // namespace starnn
