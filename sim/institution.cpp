#include "institution.hpp"

#include <boost/random/normal_distribution.hpp>
#include <cmath>
#include <string>

#include "agents/rng.hpp"

namespace bankrun {
namespace {
Money share_of(double fraction, Money deposits) {
  return static_cast<Money>(std::llround(fraction * static_cast<double>(deposits)));
}
}  // namespace

Institution::Institution(const InstitutionSpec& spec, Money deposits, std::uint32_t max_pending,
                         double tick_hours)
    : spec_(spec),
      tick_hours_(tick_hours),
      issued_(deposits),
      hot_(share_of(spec.hot_reserve_fraction, deposits)),
      cold_(share_of(spec.cold_reserve_fraction, deposits)),
      illiquid_(share_of(spec.illiquid_fraction, deposits)),
      liquid_initial_(hot_ + cold_),
      arrivals_(static_cast<std::size_t>(spec.cold_delay_ticks) + 1, 0),
      queue_(std::max<std::uint32_t>(max_pending, 1)) {
  for (const ExposureSpec& e : spec.exposures) claims_book_ += e.amount;
  exposure_default_tick_.assign(spec.exposures.size(), kForever);
  exposure_loss_.assign(spec.exposures.size(), 0);
  for (const AssetSpec& a : spec.assets) {
    AssetState st;
    const double units = a.holding_fraction * cents_to_usd(deposits) / a.price_usd;
    if (units / kAssetUnit > 9e18)
      throw std::invalid_argument("asset '" + a.name + "': holding too large");
    st.units = static_cast<std::int64_t>(std::llround(units / kAssetUnit));
    st.price = st.peak_price = st.market = a.price_usd;
    st.depth_units = a.daily_volume_usd / a.price_usd;  // per day; scaled per tick in sell()
    assets_.push_back(st);
  }
}

Money AssetState::value() const {
  return static_cast<Money>(
      std::llround(static_cast<double>(units) * kAssetUnit * price * kCentsPerUsd));
}

Money Institution::asset_value() const {
  Money v = 0;
  for (const AssetState& a : assets_) v += a.value();
  return v;
}

double Institution::own_token_drawdown() const {
  for (std::size_t a = 0; a < assets_.size(); ++a)
    if (spec_.assets[a].own_token) return 1.0 - assets_[a].price / assets_[a].peak_price;
  return 0.0;
}

// Fire sales: raise `need` cents by selling assets in liquidation order.
void Institution::sell_assets(Money need) {
  for (std::size_t a = 0; a < assets_.size() && need > 0; ++a) need -= sell(a, need);
}

// Sells q units of asset a to raise up to `need` cents (square-root law, MODEL.md §5):
//   I(q) = Y sigma sqrt(q / V),  proceeds = q P (1 - I),  then P <- P (1 - perm I).
// q solves q P (1 - I(q)) = need by fixed-point iteration, capped at the holding (and I
// at 0.99). Returns the proceeds (cents), which join hot reserves.
Money Institution::sell(std::size_t a, Money need) {
  AssetState& st = assets_[a];
  const AssetSpec& spec = spec_.assets[a];
  if (st.units <= 0 || st.price <= 0.0) return 0;
  const double holding = static_cast<double>(st.units) * kAssetUnit;
  const double depth = st.depth_units * tick_hours_ / 24.0;
  const auto impact = [&](double q) {
    return std::min(0.99, spec.impact * spec.volatility_per_day * std::sqrt(q / depth));
  };
  const double need_usd = cents_to_usd(need);
  double q = std::min(holding, need_usd / st.price);
  for (int k = 0; k < 20; ++k) q = std::min(holding, need_usd / (st.price * (1.0 - impact(q))));
  const std::int64_t units =
      std::min(st.units, static_cast<std::int64_t>(std::llround(q / kAssetUnit)));
  q = static_cast<double>(units) * kAssetUnit;
  const double i = impact(q);
  const Money proceeds = std::min(need, usd_to_cents(q * st.price * (1.0 - i)));
  const Money loss = usd_to_cents(q * st.price) - proceeds;
  st.units -= units;
  st.factor *= 1.0 - spec.permanent_share * i;
  st.price = st.market * st.factor;
  st.proceeds += proceeds;
  st.loss += loss;
  hot_ += proceeds;
  proceeds_total_ += proceeds;
  loss_total_ += loss;
  return proceeds;
}

// One tick of each market price (for tick t+1): the CSV series value in force at t+1 if
// the asset has one, else P <- P exp((mu - sigma^2/2) dt + sigma sqrt(dt) Z), dt = tick in
// days, Z ~ N(0,1) from (seed, kAssetPrice, tick, a). The own token's factor also falls by
// exp(-kappa * net outflow / total assets). Price = market * factor.
void Institution::update_prices(std::uint64_t seed, std::int32_t tick, Money net_outflow) {
  const double dt = tick_hours_ / 24.0;
  const double total =
      static_cast<double>(hot_ + cold_ + in_transit_ + illiquid_ + asset_value() + claims_book_);
  for (std::size_t a = 0; a < assets_.size(); ++a) {
    const AssetSpec& spec = spec_.assets[a];
    AssetState& st = assets_[a];
    if (!spec.price_series.empty()) {
      while (st.next_series < spec.price_series.size() &&
             spec.price_series[st.next_series].first <= tick + 1)
        st.market = spec.price_series[st.next_series++].second;
    } else {
      double log_change =
          (spec.drift_per_day - 0.5 * spec.volatility_per_day * spec.volatility_per_day) * dt;
      if (spec.volatility_per_day > 0.0) {
        CounterRng rng(seed, Stream::kAssetPrice, static_cast<std::uint32_t>(tick),
                       static_cast<std::uint32_t>(a));
        log_change += spec.volatility_per_day * std::sqrt(dt) *
                      boost::random::normal_distribution<double>(0.0, 1.0)(rng);
      }
      st.market *= std::exp(log_change);
    }
    if (spec.own_token && total > 0.0)
      st.factor *= std::exp(-spec.outflow_drift * static_cast<double>(net_outflow) / total);
    st.price = st.market * st.factor;
    st.peak_price = std::max(st.peak_price, st.price);
  }
}

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

void Institution::receive_transfer(Money amount) {
  transfer_in_total_ += amount;
  hot_ += amount;
}

bool Institution::evaluate_halt(std::int32_t tick) {
  if (halted() || !conditions_met(spec_.halt)) return false;
  halt_tick_ = tick;
  return true;
}

// Write-down of exposure e: loss = round(loss_given_default * face value).
Money Institution::write_down(std::size_t e, std::int32_t tick) {
  if (defaulted(e)) return 0;
  const ExposureSpec& x = spec_.exposures[e];
  const Money loss = std::llround(x.loss_given_default * static_cast<double>(x.amount));
  exposure_default_tick_[e] = tick;
  exposure_loss_[e] = loss;
  claims_book_ -= loss;
  write_down_total_ += loss;
  return loss;
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
//   liquid ratio = (hot + cold + in transit + market assets) / deposits,
//   insolvent = equity < 0.
bool Institution::conditions_met(const Trigger& trigger) const {
  const double withdrawn =
      issued_ > 0 ? static_cast<double>(paid_total_ - inflow_total_ - transfer_in_total_) / issued_
                  : 0.0;
  const double d = static_cast<double>(deposits());
  const double hot_ratio = d > 0 ? static_cast<double>(hot_) / d : INFINITY;
  const double liquid_ratio =
      d > 0 ? static_cast<double>(hot_ + cold_ + in_transit_ + asset_value()) / d : INFINITY;
  return withdrawn >= trigger.withdrawn_fraction_at_least || hot_ratio < trigger.hot_ratio_below ||
         liquid_ratio < trigger.liquid_ratio_below || (trigger.when_insolvent && insolvent());
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
  if (hot_ + cold_ + in_transit_ != liquid_initial_ + inflow_total_ + transfer_in_total_ +
                                        injection_total_ + proceeds_total_ - paid_total_)
    fail("hot + cold + in transit != initial + inflows + transfers + injections + sales - paid");
  Money face = 0;
  for (const ExposureSpec& e : spec_.exposures) face += e.amount;
  if (claims_book_ != face - write_down_total_)
    fail("claims on institutions != face - write-downs");
  for (const AssetState& a : assets_)
    if (a.units < 0) fail("an asset holding is negative");
  if (hot_ < 0 || cold_ < 0 || in_transit_ < 0) fail("a reserve tier is negative");
  if (queue_value_ != requested_total_ - paid_total_) fail("queue value != requested - paid");
  if (queue_value_ < 0 || queue_value_ > deposits()) fail("queue value outside [0, deposits]");
  if ((count_ == 0) != (queue_value_ == 0)) fail("queue count and value disagree");
}

}  // namespace bankrun
