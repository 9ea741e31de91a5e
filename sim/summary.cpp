#include "summary.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace bankrun {

SummaryBuilder::SummaryBuilder(const Scenario& scenario, std::vector<Money> issued)
    : day_ticks_(static_cast<std::size_t>(scenario.time.ticks_per_day())),
      window_(day_ticks_ * issued.size(), 0),
      window_sum_(issued.size(), 0) {
  summary_.issued = std::accumulate(issued.begin(), issued.end(), Money{0});
  summary_.agents = scenario.population.agents;
  summary_.tick_hours = scenario.time.tick_hours;
  for (std::size_t k = 0; k < issued.size(); ++k) {
    InstitutionSummary s;
    s.name = scenario.institutions[k].name;
    s.issued = issued[k];
    summary_.institutions.push_back(s);
  }
}

void SummaryBuilder::add(const TickRecord& r) {
  summary_.ticks_run = r.tick + 1;
  summary_.withdrawn_agents = r.withdrawn_agents;
  for (std::size_t k = 0; k < summary_.institutions.size(); ++k) {
    InstitutionSummary& s = summary_.institutions[k];
    const InstitutionTick& in = r.institutions[k];
    s.total_outflow += in.paid;
    s.total_requested += in.requested;
    s.total_inflows += in.inflows;
    s.total_transfers_in += in.transfers_in;
    s.write_downs += in.write_downs;

    Money& slot = window_[k * day_ticks_ + static_cast<std::size_t>(r.tick) % day_ticks_];
    window_sum_[k] += in.paid - slot;
    slot = in.paid;
    if (window_sum_[k] > s.peak_daily_outflow) {
      s.peak_daily_outflow = window_sum_[k];
      s.peak_daily_outflow_end_tick = r.tick;
    }
    for (std::size_t m = 0; m < InstitutionSummary::kMilestones.size(); ++m) {
      // paid/issued >= x, in integers: paid >= ceil(x * issued).
      const auto target =
          static_cast<Money>(std::ceil(InstitutionSummary::kMilestones[m] * s.issued));
      if (s.tick_to_withdrawn[m] < 0 && s.issued > 0 && s.total_outflow >= target)
        s.tick_to_withdrawn[m] = r.tick;
    }
    if (in.halted && s.halt_tick < 0) s.halt_tick = r.tick;
    if (in.insolvent && s.insolvent_tick < 0) s.insolvent_tick = r.tick;
  }
}

}  // namespace bankrun
