#pragma once
// The process's stop flag, set by SIGINT and SIGTERM: runs check it between ticks (and the
// sweep coordinator in its loop), finish the tick and close their files as "interrupted".
#include <atomic>

namespace bankrun {

// The flag (false until a stop signal arrives).
std::atomic<bool>& stop_flag();
inline bool stop_requested() {
  return stop_flag().load();
}

// The exit status of a stopped command: kExitTerminated (143) if the first stop signal was
// SIGTERM, else kExitInterrupted (130: SIGINT, or the flag set without a signal).
int stop_exit_code();

// `bankrun run`: the first Ctrl-C sets the flag; the second has the default action (the
// `.partial` file is left behind, never a truncated output).
void stop_after_tick_on_signal();

// Sweep coordinator and workers: every SIGINT/SIGTERM sets the flag, and a blocking read
// returns EINTR (no SA_RESTART) so that the coordinator notices at once.
void stop_on_signal_interrupting_reads();

}  // namespace bankrun
