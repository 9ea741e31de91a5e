#pragma once
// The run's headline numbers, built tick by tick in constant memory.
#include <array>
#include <cstdint>
#include <vector>

#include "agents/money.hpp"
#include "record.hpp"
#include "scenario.hpp"

namespace bankrun {

struct Summary {
  static constexpr std::array<double, 3> kMilestones{0.10, 0.25, 0.50};
  std::int32_t ticks_run = 0;
  Money issued = 0;
  Money total_outflow = 0;  // paid out over the run
  Money total_requested = 0;
  Money peak_daily_outflow = 0;  // max paid over any window of one day of ticks
  std::int32_t peak_daily_outflow_end_tick = -1;
  // First tick at whose end paid-out / issued >= milestone; -1 if never.
  std::array<std::int32_t, 3> tick_to_withdrawn{-1, -1, -1};
  std::int32_t halt_tick = -1;  // -1 if no halt
  std::int64_t withdrawn_agents = 0;
  std::int64_t agents = 0;
  double tick_hours = 1.0;
};

class SummaryBuilder {
 public:
  SummaryBuilder(const Scenario& scenario, Money issued);
  void add(const TickRecord& r);
  const Summary& summary() const { return summary_; }

 private:
  Summary summary_;
  std::vector<Money> window_;  // ring of the last day's payments
  Money window_sum_ = 0;
};

}  // namespace bankrun
