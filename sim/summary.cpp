#include "summary.hpp"

#include <algorithm>
#include <cmath>

namespace bankrun {

SummaryBuilder::SummaryBuilder(const Scenario& scenario, Money issued)
    : window_(static_cast<std::size_t>(scenario.time.ticks_per_day()), 0) {
  summary_.issued = issued;
  summary_.agents = scenario.population.agents;
  summary_.tick_hours = scenario.time.tick_hours;
}

void SummaryBuilder::add(const TickRecord& r) {
  Summary& s = summary_;
  s.ticks_run = r.tick + 1;
  s.total_outflow += r.paid;
  s.total_requested += r.requested;
  s.withdrawn_agents = r.withdrawn_agents;

  Money& slot = window_[static_cast<std::size_t>(r.tick) % window_.size()];
  window_sum_ += r.paid - slot;
  slot = r.paid;
  if (window_sum_ > s.peak_daily_outflow) {
    s.peak_daily_outflow = window_sum_;
    s.peak_daily_outflow_end_tick = r.tick;
  }
  for (std::size_t m = 0; m < Summary::kMilestones.size(); ++m) {
    // paid/issued >= x, in integers: paid >= ceil(x * issued).
    const Money target = static_cast<Money>(std::ceil(Summary::kMilestones[m] * s.issued));
    if (s.tick_to_withdrawn[m] < 0 && s.issued > 0 && s.total_outflow >= target)
      s.tick_to_withdrawn[m] = r.tick;
  }
  if (r.halted && s.halt_tick < 0) s.halt_tick = r.tick;
}

}  // namespace bankrun
