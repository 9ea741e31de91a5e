#include "institution.hpp"

#include <cmath>
#include <string>

namespace bankrun {
namespace {
Money share_of(double fraction, Money deposits) {
  return static_cast<Money>(std::llround(fraction * static_cast<double>(deposits)));
}
}  // namespace

Institution::Institution(const InstitutionSpec& spec, Money deposits, std::uint32_t max_pending)
    : spec_(spec),
      issued_(deposits),
      hot_(share_of(spec.hot_reserve_fraction, deposits)),
      cold_(share_of(spec.cold_reserve_fraction, deposits)),
      illiquid_(share_of(spec.illiquid_fraction, deposits)),
      liquid_initial_(hot_ + cold_),
      arrivals_(static_cast<std::size_t>(spec.cold_delay_ticks) + 1, 0),
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

void Institution::inject(Money amount) {
  injection_total_ += amount;
  hot_ += amount;
}

// Cold funds that arrive at tick t are in slot t mod (d + 1); a transfer started at t
// arrives at t + d (slot (t + d) mod (d + 1), free since the arrivals of t+1 .. t+d-1 use
// the others). Transfer started: min(cold_to_hot_per_tick, cold, shortfall), where the
// shortfall is what the queue needs beyond hot reserves and funds already in transit.
void Institution::move_cold_to_hot(std::int32_t tick) {
  const std::size_t ring = arrivals_.size();
  Money& arriving = arrivals_[static_cast<std::size_t>(tick) % ring];
  hot_ += arriving;
  in_transit_ -= arriving;
  arriving = 0;
  const Money shortfall = queue_value_ - hot_ - in_transit_;
  if (shortfall <= 0 || cold_ == 0) return;
  const Money move = std::min({spec_.cold_to_hot_per_tick, cold_, shortfall});
  cold_ -= move;
  if (spec_.cold_delay_ticks == 0) {
    hot_ += move;
  } else {
    arrivals_[static_cast<std::size_t>(tick + spec_.cold_delay_ticks) % ring] += move;
    in_transit_ += move;
  }
}

// End-of-tick conditions:
//   withdrawn fraction = (paid out - inflows) / issued,   hot ratio = hot / deposits,
//   insolvent = equity < 0.
bool Institution::conditions_met(const Trigger& trigger) const {
  const double withdrawn =
      issued_ > 0 ? static_cast<double>(paid_total_ - inflow_total_) / issued_ : 0.0;
  const double hot_ratio = deposits() > 0 ? static_cast<double>(hot_) / deposits() : INFINITY;
  return withdrawn >= trigger.withdrawn_fraction_at_least || hot_ratio < trigger.hot_ratio_below ||
         (trigger.when_insolvent && insolvent());
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
  // checks deposits against the agents' claims). Liquid reserves change only by payments,
  // inflows and injections; moving cold to hot changes only their split.
  if (hot_ + cold_ + in_transit_ !=
      liquid_initial_ + inflow_total_ + injection_total_ - paid_total_)
    fail("hot + cold + in transit != initial + inflows + injections - paid");
  if (hot_ < 0 || cold_ < 0 || in_transit_ < 0) fail("a reserve tier is negative");
  if (queue_value_ != requested_total_ - paid_total_) fail("queue value != requested - paid");
  if (queue_value_ < 0 || queue_value_ > deposits()) fail("queue value outside [0, deposits]");
  if ((count_ == 0) != (queue_value_ == 0)) fail("queue count and value disagree");
}

}  // namespace bankrun
