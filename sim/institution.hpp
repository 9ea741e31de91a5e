#pragma once
// One institution: hot, cold, in-transit and illiquid cash reserves; market assets (own
// token, other tokens, securities) with prices, square-root sale impact and a FIFO queue each
// for claims paid in kind; a FIFO cash withdrawal queue; all served up to a per-tick payout
// limit; exposures to other institutions (write-downs); and a halt (suspension of
// convertibility) trigger. All amounts are cents; the ledger identities (sim/ledger.cpp) are
// checked every tick by check_ledger().
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "agents/money.hpp"
#include "calendar.hpp"
#include "scenario.hpp"

namespace bankrun {

// A broken ledger identity: a bug, never a user error.
class LedgerError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

inline constexpr double kAssetUnit = 1e-8;  // one base unit of an asset

struct WithdrawalRequest {
  std::uint32_t agent;
  std::int32_t tick;  // when it joined the queue
  Money amount;       // still unpaid, cents of value
};

// A FIFO withdrawal queue (sequential service) in a ring buffer sized at set-up: it never
// reallocates. Amounts are cents of value.
class WithdrawalQueue {
 public:
  explicit WithdrawalQueue(std::uint32_t capacity = 1)
      : ring_(std::max<std::uint32_t>(capacity, 1)) {}
  void push(std::uint32_t agent, std::int32_t tick, Money amount);
  // Pays from the head while budget lasts (the last request reached may be paid in
  // part); on_payment(agent, amount, fully_paid) for each payment. Returns the total.
  Money pay(Money budget, auto&& on_payment);
  // Removes every request unpaid (the final payout settles them another way);
  // on_cancel(agent) for each, in queue order.
  void cancel_all(auto&& on_cancel);
  Money value() const { return value_; }
  Money requested() const { return requested_; }
  Money paid() const { return paid_; }
  Money cancelled() const { return cancelled_; }
  std::int64_t count() const { return static_cast<std::int64_t>(count_); }
  // Ticks the oldest unpaid request has waited at the end of tick t (0 if none).
  std::int32_t oldest_wait(std::int32_t tick) const {
    return count_ == 0 ? 0 : tick - ring_[head_].tick;
  }
  Money sum() const;  // by walking the ring (audits)

  // Checkpoints: the whole ring (its size is fixed at set-up), head, count and totals.
  template <class Archive>
  void visit_state(Archive& a, const std::string& prefix) {
    a.item(prefix + "ring", ring_);
    a.item(prefix + "head", head_);
    a.item(prefix + "count", count_);
    a.item(prefix + "value", value_);
    a.item(prefix + "requested", requested_);
    a.item(prefix + "paid", paid_);
    a.item(prefix + "cancelled", cancelled_);
  }

 private:
  std::vector<WithdrawalRequest> ring_;
  std::size_t head_ = 0, count_ = 0;
  Money value_ = 0, requested_ = 0, paid_ = 0, cancelled_ = 0;
};

void WithdrawalQueue::cancel_all(auto&& on_cancel) {
  for (; count_ > 0; --count_, head_ = (head_ + 1) % ring_.size()) on_cancel(ring_[head_].agent);
  cancelled_ += value_;
  value_ = 0;
}

Money WithdrawalQueue::pay(Money budget, auto&& on_payment) {
  Money paid = 0;
  while (count_ > 0 && budget > 0) {
    WithdrawalRequest& head = ring_[head_];
    const Money pay = std::min(head.amount, budget);
    head.amount -= pay;
    budget -= pay;
    paid += pay;
    const bool done = head.amount == 0;
    on_payment(head.agent, pay, done);
    if (done) {
      head_ = (head_ + 1) % ring_.size();
      --count_;
    }
  }
  value_ -= paid;
  paid_ += paid;
  return paid;
}

// Hot, cold (moving to hot with a per-tick limit and a delay) and illiquid holdings of one
// thing: cents for the cash ledger, base units for an asset.
struct Tiers {
  std::int64_t hot = 0, cold = 0, in_transit = 0, illiquid = 0;
  std::int64_t cold_to_hot_per_tick = std::numeric_limits<std::int64_t>::max();
  std::int32_t delay = 0;
  std::vector<std::int64_t> arrivals;  // ring: arriving at tick k in slot k mod (delay + 1)
  // Receives what arrives at tick t, then starts a transfer of min(limit, cold, shortfall)
  // (at once when the delay is 0).
  void move_cold_to_hot(std::int32_t tick, std::int64_t shortfall);
  std::int64_t total() const { return hot + cold + in_transit + illiquid; }
  // Checkpoints: the four tiers and the arrivals ring; the limit and delay are the spec's.
  template <class Archive>
  void visit_state(Archive& a, const std::string& prefix) {
    a.item(prefix + "hot", hot);
    a.item(prefix + "cold", cold);
    a.item(prefix + "in_transit", in_transit);
    a.item(prefix + "illiquid", illiquid);
    a.item(prefix + "arrivals", arrivals);
  }
};

// The state of one market asset held by the institution (AssetSpec). Quantities are
// integer base units of 1e-8 of the asset ("satoshi-like"); prices are USD per unit.
struct AssetState {
  Tiers units;
  double price = 0.0;           // = market * factor
  double market = 0.0;          // the exogenous price (GBM or the CSV series)
  double factor = 1.0;          // permanent impact of sales and the own token's outflow drift
  std::size_t next_series = 0;  // next entry of AssetSpec::price_series
  double peak_price = 0.0;      // highest price so far (for the drawdown)
  double depth_units = 0.0;     // V: units the market absorbs per tick
  Money proceeds = 0;           // this tick's fire-sale proceeds, cents
  Money loss = 0;               // this tick's realised loss (P q - proceeds), cents
  // Customers' claims held in this asset, by value (cents), and their queue.
  WithdrawalQueue queue;
  Money liabilities_issued = 0, liabilities_credited = 0;
  Money paid = 0;               // value paid in kind this tick
  std::int64_t paid_units = 0;  // base units paid in kind this tick
  std::int64_t initial_units = 0, sold_units_total = 0, paid_units_total = 0;
  Money realised_loss_total = 0;  // sales' losses against the carrying value, so far
  bool loss_announced = false;    // news_per_realised_loss: the first loss was announced
  Money value() const;            // every tier at the current price, cents
  Money liquid_value() const;     // hot + cold + in transit at the current price, cents
  Money liabilities() const { return liabilities_issued + liabilities_credited - queue.paid(); }
  double cents_per_unit() const { return price * kAssetUnit * kCentsPerUsd; }
  // Checkpoints: everything but initial_units (set at set-up, never changed).
  template <class Archive>
  void visit_state(Archive& a, const std::string& prefix) {
    units.visit_state(a, prefix + "units.");
    a.item(prefix + "price", price);
    a.item(prefix + "market", market);
    a.item(prefix + "factor", factor);
    a.item(prefix + "peak_price", peak_price);
    a.item(prefix + "depth_units", depth_units);
    a.item(prefix + "next_series", next_series);
    a.item(prefix + "proceeds", proceeds);
    a.item(prefix + "loss", loss);
    a.item(prefix + "paid", paid);
    a.item(prefix + "paid_units", paid_units);
    a.item(prefix + "liabilities_issued", liabilities_issued);
    a.item(prefix + "liabilities_credited", liabilities_credited);
    a.item(prefix + "sold_units_total", sold_units_total);
    a.item(prefix + "paid_units_total", paid_units_total);
    a.item(prefix + "realised_loss_total", realised_loss_total);
    a.item(prefix + "loss_announced", loss_announced);
    queue.visit_state(a, prefix + "queue.");
  }
};

class Institution {
 public:
  // `deposits` are the customers' claims at tick 0 (every currency, by value), of which
  // asset_liabilities[a] (if given) are held in asset a; `max_pending` bounds each queue
  // (an agent has at most one pending request per queue), so no queue reallocates. Only
  // the assets flagged in `claim_assets` (customers can hold claims in them) get a queue
  // of that size. tick_hours scales the market depth of assets to a tick.
  Institution(const InstitutionSpec& spec, Money deposits, std::uint32_t max_pending,
              double tick_hours = 1.0, const std::vector<Money>& asset_liabilities = {},
              const std::vector<char>& claim_assets = {});

  // A request in USD (the cash queue) or in kind in asset a.
  void submit(std::uint32_t agent, std::int32_t tick, Money amount);
  void submit_asset(std::size_t a, std::uint32_t agent, std::int32_t tick, Money amount);
  // A re-deposit: the customer's claim and the hot reserves both grow by `amount`.
  void deposit(Money amount);
  // Funds paid out by another institution to a customer's claim here: claims and hot
  // reserves both grow by `amount`.
  void receive_transfer(Money amount);
  // Of the claims just credited (re-deposits, transfers), `amount` is owed in asset a.
  void credit_asset_liability(std::size_t a, Money amount);
  // A lender-of-last-resort loan: hot reserves grow by `amount`, and so do the
  // institution's debts (to the lender); customers' claims do not change.
  void inject(Money amount);

  // Settles tick t: applies a scheduled halt; receives the cold funds arriving now and,
  // if the queue exceeds hot + funds in transit, starts a cold-to-hot transfer (arriving
  // cold_delay_ticks later; at once when the delay is 0); pays the queue head-first from
  // hot reserves (at most max_payout_per_tick in total, partially paying the last request
  // reached) after fire sales of assets (in liquidation order) raise what hot reserves lack
  // for this tick's payments; then each asset's queue is paid in kind the same way from
  // its hot units (cold units moved as needed, no sales); then evaluates the halt
  // conditions on the end-of-tick state. halt_tick() is the first tick whose record shows
  // the halt; a scheduled halt at tick k stops the payments of tick k.
  // on_payment(agent, amount, fully_paid, asset) is called for each payment, queue by
  // queue (cash first, asset = -1; then assets in list order, asset = their index), in
  // queue order (a callback without the `asset` argument is accepted too).
  template <typename OnPayment>
  Money settle(std::int32_t tick, OnPayment&& on_payment);

  // The opening hours in force during tick t (InstitutionSpec and AssetSpec
  // opening_hours): closed, the cash queue (or an asset's) is not paid and no cold-to-hot
  // transfer starts; funds already in transit still land.
  void open_for(const TimeSpec& time, std::int32_t t);
  bool open() const { return cash_open_; }

  // Moves every asset's price one tick (GBM, and the own token's outflow drift, with
  // net_outflow = paid - inflows of the tick); shocks from (seed, kAssetPrice, tick, a).
  void update_prices(std::uint64_t seed, std::int32_t tick, Money net_outflow);
  const std::vector<AssetState>& assets() const { return assets_; }
  // Marks asset a's first realised loss as announced; true if it was not before.
  bool announce_loss(std::size_t a) { return !std::exchange(assets_[a].loss_announced, true); }
  Money asset_value() const;  // every asset at market
  // What equity counts: securities held to maturity at book (AssetSpec::price_usd, the
  // tick-0 price), the rest at market.
  Money carrying_value(std::size_t a) const;
  Money asset_carrying_value() const;
  // Book - market of the securities held to maturity (a loss when rates rose).
  Money unrealised_loss() const { return asset_carrying_value() - asset_value(); }
  // The own token's drawdown 1 - P / max P so far (0 without an own token).
  double own_token_drawdown() const;

  // The final date (InstitutionSpec::final_payout), at the end of the run's last tick, in
  // two steps. mature(): every queued request is cancelled (on_cancel(agent) for each),
  // cold and in-transit funds join the hot reserves and the illiquid book matures at
  // R = illiquid_final_return (round(R * book) cents); returns the hot reserves, all there
  // is to pay out. Then pay_final() once per depositor: of the amount paid, `claim_part`
  // settles its claim and `surplus` is on top; `written_off` is the rest of a claim the
  // payout did not cover.
  Money mature(auto&& on_cancel);
  void pay_final(Money claim_part, Money surplus, Money written_off);
  Money matured_value() const { return matured_value_; }
  Money final_surplus_paid() const { return surplus_paid_; }
  Money written_off() const { return written_off_; }
  // Illiquid book sold early (illiquid_liquidation_value) and what it raised, so far.
  Money liquidated_book() const { return liquidated_book_; }
  Money liquidation_proceeds() const { return liquidation_proceeds_; }

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

  // The per-institution ledger identities (defined, with all the others, in ledger.cpp).
  void check_ledger() const;

  Money issued() const { return issued_; }
  // Customers' claims, every currency, by value.
  Money deposits() const {
    return issued_ + inflow_total_ + transfer_in_total_ - paid_total() - written_off_;
  }
  Money inflow_total() const { return inflow_total_; }
  Money transfer_in_total() const { return transfer_in_total_; }
  Money injection_total() const { return injection_total_; }
  Money hot() const { return cash_.hot; }
  Money cold() const { return cash_.cold; }
  Money in_transit() const { return cash_.in_transit; }
  Money illiquid() const { return cash_.illiquid; }
  // Equity: every reserve tier, market assets at current prices (securities held to maturity
  // at book) and claims on other institutions (after write-downs), minus the customers'
  // claims, the lender-of-last-resort loans (an injection is a loan: it adds liquidity, not
  // equity) and what other institutions have lent it.
  Money equity() const { return equity_with(asset_carrying_value()); }
  // The same with every asset at its market price (the unrealised losses recognised).
  Money equity_at_market() const { return equity_with(asset_value()); }
  bool insolvent() const { return equity() < 0; }
  // A capital raise (PolicySpec::kCapitalRaise): new equity joins the hot reserves.
  void raise_capital(Money amount);
  // Payments of claims, every queue (cash and in kind) and the final payout, by value.
  Money paid_total() const { return cash_queue_.paid() + paid_in_kind_total_ + final_paid_; }
  // Net outflow: payments - re-deposits - transfers in.
  Money net_outflow() const { return paid_total() - inflow_total_ - transfer_in_total_; }
  Money queue_value() const;
  std::int64_t queue_count() const;
  // The longest wait of the oldest unpaid request over every queue at the end of tick t.
  std::int32_t oldest_wait(std::int32_t tick) const;
  bool halted() const { return halt_tick_ != kForever; }
  std::int32_t halt_tick() const { return halt_tick_; }
  const std::string& name() const { return spec_.name; }
  const InstitutionSpec& spec() const { return spec_; }
  // Sum of the unpaid amounts in every queue, by walking them (audits, not per tick).
  Money queue_sum() const;

  // Checkpoints: the cash tiers and queue, each asset's state, the run totals, the halt
  // tick, the claims book, what it owes and the exposures' write-downs. The spec, tick
  // length, issued claims and initial liquid funds are set at construction and never
  // change.
  template <class Archive>
  void visit_state(Archive& a, const std::string& prefix) {
    cash_.visit_state(a, prefix + "cash.");
    cash_queue_.visit_state(a, prefix + "cash_queue.");
    for (std::size_t k = 0; k < assets_.size(); ++k)
      assets_[k].visit_state(a, prefix + "asset." + std::to_string(k) + ".");
    a.item(prefix + "proceeds_total", proceeds_total_);
    a.item(prefix + "inflow_total", inflow_total_);
    a.item(prefix + "transfer_in_total", transfer_in_total_);
    a.item(prefix + "injection_total", injection_total_);
    a.item(prefix + "capital_raised", capital_raised_);
    a.item(prefix + "paid_in_kind_total", paid_in_kind_total_);
    a.item(prefix + "claims_book", claims_book_);
    a.item(prefix + "owed", owed_);
    a.item(prefix + "write_down_total", write_down_total_);
    a.item(prefix + "halt_tick", halt_tick_);
    a.item(prefix + "exposure_default_tick", exposure_default_tick_);
    a.item(prefix + "exposure_loss", exposure_loss_);
    a.item(prefix + "liquidated_book", liquidated_book_);
    a.item(prefix + "liquidation_proceeds", liquidation_proceeds_);
    a.item(prefix + "matured_book", matured_book_);
    a.item(prefix + "matured_value", matured_value_);
    a.item(prefix + "final_paid", final_paid_);
    a.item(prefix + "surplus_paid", surplus_paid_);
    a.item(prefix + "written_off", written_off_);
  }

 private:
  // What the halt still lets this tick pay: with withdrawn_fraction_at_least f, the net
  // outflow may reach ceil(f * issued) and no more; unlimited otherwise.
  Money halt_allowance() const;
  Money equity_with(Money assets) const {
    return cash_.hot + cash_.cold + cash_.in_transit + cash_.illiquid + assets + claims_book_ -
           deposits() - injection_total_ - owed_;
  }
  void liquidate_illiquid(Money need);
  void sell_assets(Money need);
  Money sell(std::size_t a, Money need);
  Money pay_asset_queue(std::size_t a, std::int32_t tick, auto&& on_payment);

  InstitutionSpec spec_;
  double tick_hours_;
  Money issued_;
  Tiers cash_;            // cents
  Money liquid_initial_;  // hot + cold at tick 0
  Money illiquid_initial_;
  Money halt_outflow_ = std::numeric_limits<Money>::max();     // ceil(f * issued) of the halt
  Money liquidated_book_ = 0, liquidation_proceeds_ = 0;       // early sales of illiquid book
  Money matured_book_ = 0, matured_value_ = 0;                 // the final date's maturity
  Money final_paid_ = 0, surplus_paid_ = 0, written_off_ = 0;  // the final payout
  std::vector<AssetState> assets_;
  Money proceeds_total_ = 0;
  Money inflow_total_ = 0;
  Money transfer_in_total_ = 0;
  Money injection_total_ = 0;
  Money capital_raised_ = 0;
  Money paid_in_kind_total_ = 0;
  Money claims_book_ = 0, owed_ = 0, write_down_total_ = 0;
  std::vector<std::int32_t> exposure_default_tick_;
  std::vector<Money> exposure_loss_;
  WithdrawalQueue cash_queue_;
  std::int32_t halt_tick_ = kForever;
  bool cash_open_ = true;         // this tick (open_for)
  std::vector<char> asset_open_;  // per asset, this tick
};

// Asset a's queue, paid in kind: cold units are moved for the shortfall (in units at the
// current price), then at most min(max_payout_per_tick, hot units' value) is paid; the
// units paid are round(value paid / value of a unit), capped at the hot units.
Money Institution::pay_asset_queue(std::size_t a, std::int32_t tick, auto&& on_payment) {
  AssetState& st = assets_[a];
  st.paid = 0;
  st.paid_units = 0;
  if (st.queue.count() == 0 && st.units.in_transit == 0) return 0;
  if (!asset_open_[a]) {  // closed: what is in transit lands, nothing moves or is paid
    st.units.move_cold_to_hot(tick, 0);
    return 0;
  }
  const double unit_cents = st.cents_per_unit();
  if (!(unit_cents > 0.0)) return 0;
  // Units that cover the queue's value, and the value of the hot units, to the nearest
  // unit and cent (floating-point ratios of exact amounts must not lose one).
  const auto needed = static_cast<std::int64_t>(
      std::min(9e18, std::ceil(static_cast<double>(st.queue.value()) / unit_cents - 1e-6)));
  st.units.move_cold_to_hot(tick, needed - st.units.hot - st.units.in_transit);
  const auto hot_value = static_cast<Money>(
      std::min(9e18, std::round(static_cast<double>(st.units.hot) * unit_cents)));
  const Money paid = st.queue.pay(
      std::min({spec_.assets[a].max_payout_per_tick, hot_value, halt_allowance()}), on_payment);
  const std::int64_t units =
      std::min(st.units.hot, static_cast<std::int64_t>(std::llround(paid / unit_cents)));
  st.units.hot -= units;
  st.paid = paid;
  st.paid_units = units;
  st.paid_units_total += units;
  paid_in_kind_total_ += paid;
  return paid;
}

template <typename OnPayment>
Money Institution::settle(std::int32_t tick, OnPayment&& on_payment) {
  const auto paying = [&](int asset) {
    return [&on_payment, asset](std::uint32_t agent, Money amount, bool done) {
      if constexpr (std::is_invocable_v<OnPayment&, std::uint32_t, Money, bool, int>)
        on_payment(agent, amount, done, asset);
      else
        on_payment(agent, amount, done);
    };
  };
  if (tick >= spec_.halt.at_tick && !halted()) halt_tick_ = tick;
  Money paid = 0;
  for (AssetState& a : assets_) a.proceeds = a.loss = a.paid = a.paid_units = 0;
  if (!halted()) {
    // The most this tick may pay from the cash queue: the payout limit, and what an exact
    // halt at a withdrawn fraction still allows.
    // Closed (opening hours): nothing, and no new cold-to-hot transfer.
    const Money limit = cash_open_ ? std::min(spec_.max_payout_per_tick, halt_allowance()) : 0;
    cash_.move_cold_to_hot(tick,
                           cash_open_ ? cash_queue_.value() - cash_.hot - cash_.in_transit : 0);
    sell_assets(std::min(cash_queue_.value(), limit) - cash_.hot);
    liquidate_illiquid(std::min(cash_queue_.value(), limit) - cash_.hot);
    paid = cash_queue_.pay(std::min(limit, cash_.hot), paying(-1));
    cash_.hot -= paid;
    for (std::size_t a = 0; a < assets_.size(); ++a)
      paid += pay_asset_queue(a, tick, paying(static_cast<int>(a)));
    if (halt_allowance() == 0) halt_tick_ = tick;  // suspended at the withdrawn fraction
  }
  evaluate_halt(tick);
  return paid;
}

Money Institution::mature(auto&& on_cancel) {
  cash_queue_.cancel_all(on_cancel);
  for (AssetState& a : assets_) a.queue.cancel_all(on_cancel);
  cash_.hot += cash_.cold + cash_.in_transit;
  cash_.cold = cash_.in_transit = 0;
  std::fill(cash_.arrivals.begin(), cash_.arrivals.end(), 0);
  const Money matured = static_cast<Money>(
      std::llround(spec_.illiquid_final_return * static_cast<double>(cash_.illiquid)));
  matured_book_ += cash_.illiquid;
  matured_value_ += matured;
  cash_.illiquid = 0;
  cash_.hot += matured;
  return cash_.hot;
}

}  // namespace bankrun
