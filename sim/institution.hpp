#pragma once
// One institution: hot reserves, a FIFO withdrawal queue served sequentially up to a
// per-tick payout limit, and a halt (suspension of convertibility) trigger.
// All amounts are cents; the ledger identities are checked every tick by check_ledger().
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "agents/money.hpp"
#include "scenario.hpp"

namespace bankrun {

// A broken ledger identity: a bug, never a user error.
class LedgerError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

struct WithdrawalRequest {
  std::uint32_t agent;
  std::int32_t tick;  // when it joined the queue
  Money amount;       // still unpaid
};

class Institution {
 public:
  // `deposits` are the customers' claims at tick 0; `max_pending` bounds the queue
  // (each agent has at most one pending request), so the queue never reallocates.
  Institution(const InstitutionSpec& spec, Money deposits, std::uint32_t max_pending);

  void submit(std::uint32_t agent, std::int32_t tick, Money amount);
  // A re-deposit: the customer's claim and the hot reserves both grow by `amount`.
  void deposit(Money amount);

  // Settles tick t: applies a scheduled halt, pays the queue head-first from hot reserves
  // (at most max_payout_per_tick in total, partially paying the last request reached), then
  // evaluates the halt conditions on the end-of-tick state. halt_tick() is the first tick
  // whose record shows the halt; a scheduled halt at tick k stops the payments of tick k.
  // on_payment(agent, amount, fully_paid) is called for each payment, in queue order.
  template <typename OnPayment>
  Money settle(std::int32_t tick, OnPayment&& on_payment);

  void check_ledger() const;

  Money issued() const { return issued_; }
  Money deposits() const { return issued_ + inflow_total_ - paid_total_; }
  Money inflow_total() const { return inflow_total_; }
  Money hot() const { return hot_; }
  Money requested_total() const { return requested_total_; }
  Money paid_total() const { return paid_total_; }
  Money queue_value() const { return queue_value_; }
  std::int64_t queue_count() const { return static_cast<std::int64_t>(count_); }
  // Ticks the oldest unpaid request has waited at the end of tick t (0 if none).
  std::int32_t oldest_wait(std::int32_t tick) const {
    return count_ == 0 ? 0 : tick - queue_[head_].tick;
  }
  bool halted() const { return halt_tick_ != kForever; }
  std::int32_t halt_tick() const { return halt_tick_; }
  const std::string& name() const { return spec_.name; }
  // Sum of the unpaid amounts in the queue, by walking it (for audits, not per tick).
  Money queue_sum() const;

 private:
  void evaluate_halt(std::int32_t tick);
  WithdrawalRequest& at(std::size_t k) { return queue_[(head_ + k) % queue_.size()]; }

  InstitutionSpec spec_;
  Money issued_;
  Money hot_initial_;
  Money hot_;
  Money requested_total_ = 0;
  Money paid_total_ = 0;
  Money inflow_total_ = 0;
  Money queue_value_ = 0;
  std::vector<WithdrawalRequest> queue_;  // ring buffer
  std::size_t head_ = 0, count_ = 0;
  std::int32_t halt_tick_ = kForever;
};

template <typename OnPayment>
Money Institution::settle(std::int32_t tick, OnPayment&& on_payment) {
  if (tick >= spec_.halt.at_tick && !halted()) halt_tick_ = tick;
  Money paid = 0;
  if (!halted()) {
    Money budget = std::min(spec_.max_payout_per_tick, hot_);
    while (count_ > 0 && budget > 0) {
      WithdrawalRequest& head = queue_[head_];
      const Money pay = std::min(head.amount, budget);
      head.amount -= pay;
      budget -= pay;
      paid += pay;
      const bool done = head.amount == 0;
      on_payment(head.agent, pay, done);
      if (done) {
        head_ = (head_ + 1) % queue_.size();
        --count_;
      }
    }
    hot_ -= paid;
    paid_total_ += paid;
    queue_value_ -= paid;
  }
  evaluate_halt(tick);
  return paid;
}

}  // namespace bankrun
