#pragma once
// What one tick leaves behind, and the interface through which it leaves the engine.
// The engine never sees a file format: output/ implements Recorder.
#include <cstdint>

#include "agents/money.hpp"

namespace bankrun {

struct TickRecord {
  std::int32_t tick = 0;
  // Institution (cents unless noted).
  Money deposits = 0;     // customers' claims outstanding at the end of the tick
  Money requested = 0;    // value of withdrawal requests submitted this tick
  Money paid = 0;         // value paid out this tick
  Money queue_value = 0;  // unpaid requests at the end of the tick
  std::int64_t queue_count = 0;
  std::int32_t oldest_wait_ticks = 0;
  Money hot = 0;  // hot reserves at the end of the tick
  bool halted = false;
  // Population.
  std::int64_t withdrawn_agents = 0;  // agents that have decided to withdraw, cumulative
  std::int64_t new_withdrawals = 0;   // agents that decided this tick
  std::int64_t paid_agents = 0;       // agents paid in full, cumulative
  std::int64_t acting_agents = 0;     // agents that evaluated the decision rule this tick
  double stress_mean = 0.0;           // mean S_i over the acting agents (0 if none)
  // Public signals the agents saw this tick.
  double flow_signal = 0.0;  // G(t-1)
  double news_signal = 0.0;  // sum of A_j exp(-(t-t_j)/tau_j) over active events
};

class Recorder {
 public:
  virtual ~Recorder() = default;
  virtual void record(const TickRecord& r) = 0;
};

}  // namespace bankrun
