#pragma once
// One institution: hot, cold and illiquid reserves, a FIFO withdrawal queue served
// sequentially up to a per-tick payout limit, and a halt (suspension of convertibility)
// trigger. All amounts are cents; the ledger identities are checked every tick by
// check_ledger().
#include <algorithm>
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

// The state of one market asset held by the institution (AssetSpec). Quantities are
// integer base units of 1e-8 of the asset ("satoshi-like"); prices are USD per unit.
struct AssetState {
  std::int64_t units = 0;
  double price = 0.0;           // = market * factor
  double market = 0.0;          // the exogenous price (GBM or the CSV series)
  double factor = 1.0;          // permanent impact of sales and the own token's outflow drift
  std::size_t next_series = 0;  // next entry of AssetSpec::price_series
  double peak_price = 0.0;      // highest price so far (for the drawdown)
  double depth_units = 0.0;     // V: units the market absorbs per tick
  Money proceeds = 0;           // this tick's fire-sale proceeds, cents
  Money loss = 0;               // this tick's realised loss (P q - proceeds), cents
  Money value() const;          // units at the current price, cents
};

inline constexpr double kAssetUnit = 1e-8;  // one base unit of an asset

struct WithdrawalRequest {
  std::uint32_t agent;
  std::int32_t tick;  // when it joined the queue
  Money amount;       // still unpaid
};

class Institution {
 public:
  // `deposits` are the customers' claims at tick 0; `max_pending` bounds the queue
  // (each agent has at most one pending request), so the queue never reallocates.
  // tick_hours scales the market depth of assets to a tick.
  Institution(const InstitutionSpec& spec, Money deposits, std::uint32_t max_pending,
              double tick_hours = 1.0);

  void submit(std::uint32_t agent, std::int32_t tick, Money amount);
  // A re-deposit: the customer's claim and the hot reserves both grow by `amount`.
  void deposit(Money amount);
  // Funds paid out by another institution to a customer's claim here: claims and hot
  // reserves both grow by `amount`.
  void receive_transfer(Money amount);
  // A lender-of-last-resort loan: hot reserves grow by `amount`, and so do the
  // institution's debts (to the lender); customers' claims do not change.
  void inject(Money amount);

  // Settles tick t: applies a scheduled halt; receives the cold funds arriving now and,
  // if the queue exceeds hot + funds in transit, starts a cold-to-hot transfer (arriving
  // cold_delay_ticks later; at once when the delay is 0); pays the queue head-first from
  // hot reserves (at most max_payout_per_tick in total, partially paying the last request
  // reached) after fire sales of assets (in liquidation order) raise what hot reserves lack
  // for this tick's payments; then evaluates the halt conditions on the end-of-tick state.
  // halt_tick() is the first tick whose record shows the halt; a scheduled halt at tick k stops the
  // payments of tick k. on_payment(agent, amount, fully_paid) is called for each payment,
  // in queue order.
  template <typename OnPayment>
  Money settle(std::int32_t tick, OnPayment&& on_payment);

  // Moves every asset's price one tick (GBM, and the own token's outflow drift, with
  // net_outflow = paid - inflows of the tick); shocks from (seed, kAssetPrice, tick, a).
  void update_prices(std::uint64_t seed, std::int32_t tick, Money net_outflow);
  const std::vector<AssetState>& assets() const { return assets_; }
  Money asset_value() const;
  // The own token's drawdown 1 - P / max P so far (0 without an own token).
  double own_token_drawdown() const;
  Money sale_proceeds_total() const { return proceeds_total_; }
  Money realised_loss_total() const { return loss_total_; }

  // Whether a trigger's end-of-tick conditions hold now (at_tick is checked by callers).
  bool conditions_met(const Trigger& trigger) const;
  // Halts now if the halt conditions hold (settle() does this too; called again after
  // write-downs). Returns whether it halted just now.
  bool evaluate_halt(std::int32_t tick);

  // Exposures (InstitutionSpec::exposures): write exposure e down by loss_given_default
  // times its face value (once); returns the loss. `owed` is what other institutions'
  // exposures say this one owes them (a liability in its equity).
  Money write_down(std::size_t e, std::int32_t tick);
  bool defaulted(std::size_t e) const { return exposure_default_tick_[e] != kForever; }
  std::int32_t exposure_default_tick(std::size_t e) const { return exposure_default_tick_[e]; }
  Money exposure_loss(std::size_t e) const { return exposure_loss_[e]; }
  void set_owed_to_institutions(Money owed) { owed_ = owed; }
  Money owed_to_institutions() const { return owed_; }
  Money claims_on_institutions() const { return claims_book_; }
  Money write_down_total() const { return write_down_total_; }

  void check_ledger() const;

  Money issued() const { return issued_; }
  Money deposits() const { return issued_ + inflow_total_ + transfer_in_total_ - paid_total_; }
  Money inflow_total() const { return inflow_total_; }
  Money transfer_in_total() const { return transfer_in_total_; }
  Money injection_total() const { return injection_total_; }
  Money hot() const { return hot_; }
  Money cold() const { return cold_; }
  Money in_transit() const { return in_transit_; }
  Money illiquid() const { return illiquid_; }
  // Equity: every reserve tier, market assets at current prices and claims on other
  // institutions (after write-downs), minus the customers' claims, the lender-of-last-resort
  // loans (an injection is a loan: it adds liquidity, not equity) and what other
  // institutions have lent it.
  Money equity() const {
    return hot_ + cold_ + in_transit_ + illiquid_ + asset_value() + claims_book_ - deposits() -
           injection_total_ - owed_;
  }
  bool insolvent() const { return equity() < 0; }
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
  const InstitutionSpec& spec() const { return spec_; }
  // Sum of the unpaid amounts in the queue, by walking it (for audits, not per tick).
  Money queue_sum() const;

 private:
  void move_cold_to_hot(std::int32_t tick);
  void sell_assets(Money need);
  Money sell(std::size_t a, Money need);
  Money pay_queue(Money budget, auto&& on_payment);

  InstitutionSpec spec_;
  double tick_hours_;
  Money issued_;
  Money hot_, cold_, illiquid_;
  Money liquid_initial_;  // hot + cold at tick 0
  Money in_transit_ = 0;
  std::vector<Money> arrivals_;  // ring: cold funds arriving at tick k in slot k mod size
  std::vector<AssetState> assets_;
  Money proceeds_total_ = 0, loss_total_ = 0;
  Money requested_total_ = 0;
  Money paid_total_ = 0;
  Money inflow_total_ = 0;
  Money transfer_in_total_ = 0;
  Money injection_total_ = 0;
  Money claims_book_ = 0, owed_ = 0, write_down_total_ = 0;
  std::vector<std::int32_t> exposure_default_tick_;
  std::vector<Money> exposure_loss_;
  Money queue_value_ = 0;
  std::vector<WithdrawalRequest> queue_;  // ring buffer
  std::size_t head_ = 0, count_ = 0;
  std::int32_t halt_tick_ = kForever;
};

Money Institution::pay_queue(Money budget, auto&& on_payment) {
  Money paid = 0;
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
  return paid;
}

template <typename OnPayment>
Money Institution::settle(std::int32_t tick, OnPayment&& on_payment) {
  if (tick >= spec_.halt.at_tick && !halted()) halt_tick_ = tick;
  Money paid = 0;
  for (AssetState& a : assets_) a.proceeds = a.loss = 0;
  if (!halted()) {
    move_cold_to_hot(tick);
    sell_assets(std::min(queue_value_, spec_.max_payout_per_tick) - hot_);
    paid = pay_queue(std::min(spec_.max_payout_per_tick, hot_), on_payment);
    hot_ -= paid;
    paid_total_ += paid;
    queue_value_ -= paid;
  }
  evaluate_halt(tick);
  return paid;
}

}  // namespace bankrun
