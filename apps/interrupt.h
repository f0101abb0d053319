#pragma once
// Ctrl-C during training: the first one asks the training loop to stop at the next batch
// (it then exits cleanly with its checkpoints intact); a second one ends the process at once,
// as SIGTERM does at any time (main installs nn::remove_temporaries_on_signals for both).
namespace starnn {

void catch_interrupts();
bool interrupt_requested();

}  // namespace starnn
