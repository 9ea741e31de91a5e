#include "institution.hpp"

#include <cmath>
#include <string>

namespace bankrun {

Institution::Institution(const InstitutionSpec& spec, Money deposits, std::uint32_t max_pending)
    : spec_(spec),
      issued_(deposits),
      hot_initial_(static_cast<Money>(
          std::llround(spec.hot_reserve_fraction * static_cast<double>(deposits)))),
      hot_(hot_initial_),
      queue_(std::max<std::uint32_t>(max_pending, 1)) {}

void Institution::submit(std::uint32_t agent, std::int32_t tick, Money amount) {
  if (count_ == queue_.size()) throw LedgerError("withdrawal queue overflow");
  queue_[(head_ + count_) % queue_.size()] = {agent, tick, amount};
  ++count_;
  requested_total_ += amount;
  queue_value_ += amount;
}

void Institution::deposit(Money amount) {
  inflow_total_ += amount;
  hot_ += amount;
}

// Conditions are read on the state at the end of `tick`; the halt is announced then
// (the tick's record shows it) and no payment is made after it.
//   withdrawn fraction = (paid out - inflows) / issued,   hot ratio = hot / deposits.
void Institution::evaluate_halt(std::int32_t tick) {
  if (halted()) return;
  const double withdrawn =
      issued_ > 0 ? static_cast<double>(paid_total_ - inflow_total_) / issued_ : 0.0;
  const double hot_ratio = deposits() > 0 ? static_cast<double>(hot_) / deposits() : INFINITY;
  if (withdrawn >= spec_.halt.withdrawn_fraction_at_least || hot_ratio < spec_.halt.hot_ratio_below)
    halt_tick_ = tick;
}

Money Institution::queue_sum() const {
  Money sum = 0;
  for (std::size_t k = 0; k < count_; ++k) sum += queue_[(head_ + k) % queue_.size()].amount;
  return sum;
}

void Institution::check_ledger() const {
  auto fail = [&](const std::string& what) {
    throw LedgerError("ledger identity broken at institution '" + spec_.name + "': " + what);
  };
  // Claims paid + claims outstanding = claims issued + inflows (deposits() is defined that
  // way, so the independent checks are on reserves and on the queue; Simulation::audit
  // checks deposits against the agents' claims).
  if (hot_ != hot_initial_ + inflow_total_ - paid_total_)
    fail("hot != hot_initial + inflows - paid_total");
  if (hot_ < 0) fail("hot reserves negative");
  if (queue_value_ != requested_total_ - paid_total_) fail("queue value != requested - paid");
  if (queue_value_ < 0 || queue_value_ > deposits()) fail("queue value outside [0, deposits]");
  if ((count_ == 0) != (queue_value_ == 0)) fail("queue count and value disagree");
}

}  // namespace bankrun
