#include "output/stop_signal.hpp"

#include <csignal>

namespace bankrun {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void stop_once_then_default(int sig) {
  g_stop.store(true);
  std::signal(sig, SIG_DFL);
}

extern "C" void stop_every_time(int) {
  g_stop.store(true);
}

}  // namespace

std::atomic<bool>& stop_flag() {
  return g_stop;
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
