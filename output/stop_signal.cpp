#include "output/stop_signal.hpp"

#include <csignal>

#include "output/errors.hpp"

namespace bankrun {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<int> g_signal{0};                          // the first stop signal received (0: none)
static_assert(std::atomic<int>::is_always_lock_free);  // safe in a signal handler

void note_signal(int sig) {
  int none = 0;
  g_signal.compare_exchange_strong(none, sig);
  g_stop.store(true);
}

extern "C" void stop_once_then_default(int sig) {
  note_signal(sig);
  std::signal(sig, SIG_DFL);
}

extern "C" void stop_every_time(int sig) {
  note_signal(sig);
}

}  // namespace

std::atomic<bool>& stop_flag() {
  return g_stop;
}

int stop_exit_code() {
  const int sig = g_signal.load();
  return sig == SIGTERM ? kExitTerminated : kExitInterrupted;
}

void stop_after_tick_on_signal() {
  std::signal(SIGINT, stop_once_then_default);
  std::signal(SIGTERM, stop_once_then_default);
}

void stop_on_signal_interrupting_reads() {
  struct sigaction sa {};
  sa.sa_handler = stop_every_time;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocking read returns EINTR
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

}  // namespace bankrun
