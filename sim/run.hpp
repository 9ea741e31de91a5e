#pragma once
// Drives a Simulation to its end (or to an interrupt), feeding a Recorder and the summary.
#include <atomic>
#include <functional>

#include "record.hpp"
#include "simulation.hpp"
#include "summary.hpp"

namespace bankrun {

struct RunControl {
  const std::atomic<bool>* stop = nullptr;  // checked between ticks (Ctrl-C)
  std::function<void(std::int32_t ticks_done, std::int32_t ticks_total)> on_tick;
};

enum class RunStatus { kComplete, kInterrupted };

struct RunResult {
  RunStatus status = RunStatus::kComplete;
  Summary summary;
  double loop_seconds = 0.0;  // wall time of the tick loop, recording included
};

RunResult run(Simulation& sim, Recorder& recorder, const RunControl& control = {});

}  // namespace bankrun
