#pragma once
// The run's headline numbers, built tick by tick in constant memory.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "agents/money.hpp"
#include "record.hpp"
#include "scenario.hpp"

namespace bankrun {

// One institution's headline numbers.
struct InstitutionSummary {
  static constexpr std::array<double, 3> kMilestones{0.10, 0.25, 0.50};
  std::string name;
  Money issued = 0;         // customers' claims at tick 0
  Money total_outflow = 0;  // paid out over the run (to self-custody or other institutions)
  Money total_requested = 0;
  Money total_inflows = 0;       // calm re-deposits
  Money total_transfers_in = 0;  // arrived from other institutions' payments
  Money peak_daily_outflow = 0;  // max paid over any window of one day of ticks
  std::int32_t peak_daily_outflow_end_tick = -1;
  // First tick at whose end paid-out / issued >= milestone; -1 if never.
  std::array<std::int32_t, 3> tick_to_withdrawn{-1, -1, -1};
  std::int32_t halt_tick = -1;       // -1 if no halt
  std::int32_t insolvent_tick = -1;  // first tick ending with equity < 0; -1 if never
  Money write_downs = 0;             // exposures written down over the run
  // Illiquid book sold early and what it raised (illiquid_liquidation_value); at a final
  // payout, the surplus paid on top of claims and the claims written off.
  Money liquidated_book = 0, liquidation_proceeds = 0, final_surplus = 0, written_off = 0;
};

// What the agents of one class who ran (decided to withdraw at least once) or waited held
// just before the final date (claims at par + funds outside: their initial claims, since
// nothing else moves an agent's money) and after it (funds outside + claims left):
// final / before is their payoff per unit (Diamond-Dybvig: 1 for an early withdrawal, R
// for a patient depositor of a bank that did not fail).
struct ClassPayoff {
  std::int64_t agents = 0;
  Money before = 0, final = 0;  // cents
};

struct Summary {
  std::int32_t ticks_run = 0;
  Money issued = 0;  // all institutions
  std::int64_t withdrawn_agents = 0;
  std::int64_t agents = 0;
  double tick_hours = 1.0;
  std::vector<InstitutionSummary> institutions;  // scenario order
  // Only when some institution made a final payout: [2 * class + ran] (ran: 0 waited, 1 ran).
  std::vector<ClassPayoff> payoffs;
};

class SummaryBuilder {
 public:
  SummaryBuilder(const Scenario& scenario, std::vector<Money> issued_per_institution);
  void add(const TickRecord& r);
  const Summary& summary() const { return summary_; }

  // Checkpoints (checkpoint.hpp): the totals, milestones and peaks so far and the last
  // day's payments. Names, issued amounts and the day length come from the scenario.
  template <class Archive>
  void visit_state(Archive& a) {
    a.item("summary.ticks_run", summary_.ticks_run);
    a.item("summary.withdrawn_agents", summary_.withdrawn_agents);
    for (std::size_t k = 0; k < summary_.institutions.size(); ++k) {
      InstitutionSummary& s = summary_.institutions[k];
      const std::string p = "summary." + std::to_string(k) + ".";
      a.item(p + "total_outflow", s.total_outflow);
      a.item(p + "total_requested", s.total_requested);
      a.item(p + "total_inflows", s.total_inflows);
      a.item(p + "total_transfers_in", s.total_transfers_in);
      a.item(p + "peak_daily_outflow", s.peak_daily_outflow);
      a.item(p + "peak_daily_outflow_end_tick", s.peak_daily_outflow_end_tick);
      a.item(p + "tick_to_withdrawn", s.tick_to_withdrawn);
      a.item(p + "halt_tick", s.halt_tick);
      a.item(p + "insolvent_tick", s.insolvent_tick);
      a.item(p + "write_downs", s.write_downs);
    }
    a.item("summary.window", window_);
    a.item("summary.window_sum", window_sum_);
  }

 private:
  Summary summary_;
  std::size_t day_ticks_ = 24;
  std::vector<Money> window_;  // [institution * day_ticks + slot]: the last day's payments
  std::vector<Money> window_sum_;
};

}  // namespace bankrun
