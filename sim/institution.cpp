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

Tiers make_tiers(std::int64_t hot, std::int64_t cold, std::int64_t illiquid, std::int64_t per_tick,
                 std::int32_t delay) {
  Tiers t;
  t.hot = hot;
  t.cold = cold;
  t.illiquid = illiquid;
  t.cold_to_hot_per_tick = per_tick;
  t.delay = delay;
  t.arrivals.assign(static_cast<std::size_t>(delay) + 1, 0);
  return t;
}
}  // namespace

void WithdrawalQueue::push(std::uint32_t agent, std::int32_t tick, Money amount) {
  if (count_ == ring_.size()) throw LedgerError("withdrawal queue overflow");
  ring_[(head_ + count_) % ring_.size()] = {agent, tick, amount};
  ++count_;
  requested_ += amount;
  value_ += amount;
}

Money WithdrawalQueue::sum() const {
  Money sum = 0;
  for (std::size_t k = 0; k < count_; ++k) sum += ring_[(head_ + k) % ring_.size()].amount;
  return sum;
}

// What arrives at tick t is in slot t mod (d + 1); a transfer started at t arrives at t + d
// (slot (t + d) mod (d + 1), free since the arrivals of t+1 .. t+d-1 use the others).
// Transfer started: min(cold_to_hot_per_tick, cold, shortfall), where the shortfall is what
// the queue needs beyond hot and what is already in transit.
void Tiers::move_cold_to_hot(std::int32_t tick, std::int64_t shortfall) {
  const std::size_t ring = arrivals.size();
  std::int64_t& arriving = arrivals[static_cast<std::size_t>(tick) % ring];
  hot += arriving;
  in_transit -= arriving;
  arriving = 0;
  if (shortfall <= 0 || cold == 0) return;
  const std::int64_t move = std::min({cold_to_hot_per_tick, cold, shortfall});
  cold -= move;
  if (delay == 0) {
    hot += move;
  } else {
    arrivals[static_cast<std::size_t>(tick + delay) % ring] += move;
    in_transit += move;
  }
}

namespace {
// Units per tick in base units, saturating (infinity = unlimited).
std::int64_t base_units(double units) {
  const double base = units / kAssetUnit;
  return base >= 9e18 ? std::numeric_limits<std::int64_t>::max()
                      : static_cast<std::int64_t>(std::llround(base));
}
}  // namespace

Institution::Institution(const InstitutionSpec& spec, Money deposits, std::uint32_t max_pending,
                         double tick_hours, const std::vector<Money>& asset_liabilities,
                         const std::vector<char>& claim_assets)
    : spec_(spec),
      tick_hours_(tick_hours),
      issued_(deposits),
      cash_(make_tiers(share_of(spec.hot_reserve_fraction, deposits),
                       share_of(spec.cold_reserve_fraction, deposits),
                       share_of(spec.illiquid_fraction, deposits), spec.cold_to_hot_per_tick,
                       spec.cold_delay_ticks)),
      liquid_initial_(cash_.hot + cash_.cold),
      illiquid_initial_(cash_.illiquid),
      cash_queue_(max_pending) {
  if (const double f = spec.halt.withdrawn_fraction_at_least; std::isfinite(f) && deposits > 0)
    halt_outflow_ = static_cast<Money>(std::ceil(f * static_cast<double>(deposits)));
  for (const ExposureSpec& e : spec.exposures) claims_book_ += e.amount;
  exposure_default_tick_.assign(spec.exposures.size(), kForever);
  exposure_loss_.assign(spec.exposures.size(), 0);
  for (std::size_t k = 0; k < spec.assets.size(); ++k) {
    const AssetSpec& a = spec.assets[k];
    AssetState st;
    const double units = a.holding_fraction * cents_to_usd(deposits) / a.price_usd;
    if (units / kAssetUnit > 9e18)
      throw std::invalid_argument("asset '" + a.name + "': holding too large");
    const auto total = static_cast<std::int64_t>(std::llround(units / kAssetUnit));
    const auto hot =
        static_cast<std::int64_t>(std::llround(a.hot_share * static_cast<double>(total)));
    const auto cold = std::min(
        total - hot,
        static_cast<std::int64_t>(std::llround(a.cold_share * static_cast<double>(total))));
    st.units = make_tiers(hot, cold, total - hot - cold, base_units(a.cold_to_hot_units_per_tick),
                          a.cold_delay_ticks);
    st.initial_units = total;
    st.price = st.peak_price = st.market = a.price_usd;
    st.depth_units = a.daily_volume_usd / a.price_usd;  // per day; scaled per tick in sell()
    if (k < claim_assets.size() && claim_assets[k]) st.queue = WithdrawalQueue(max_pending);
    if (k < asset_liabilities.size()) st.liabilities_issued = asset_liabilities[k];
    assets_.push_back(std::move(st));
  }
  asset_open_.assign(assets_.size(), 1);
}

Money AssetState::value() const {
  return static_cast<Money>(
      std::llround(static_cast<double>(units.total()) * kAssetUnit * price * kCentsPerUsd));
}

Money AssetState::liquid_value() const {
  const std::int64_t liquid = units.hot + units.cold + units.in_transit;
  return static_cast<Money>(
      std::llround(static_cast<double>(liquid) * kAssetUnit * price * kCentsPerUsd));
}

Money Institution::carrying_value(std::size_t a) const {
  const AssetState& st = assets_[a];
  if (!spec_.assets[a].held_to_maturity) return st.value();
  return static_cast<Money>(std::llround(static_cast<double>(st.units.total()) * kAssetUnit *
                                         spec_.assets[a].price_usd * kCentsPerUsd));
}

Money Institution::asset_value() const {
  Money v = 0;
  for (const AssetState& a : assets_) v += a.value();
  return v;
}

Money Institution::asset_carrying_value() const {
  Money v = 0;
  for (std::size_t a = 0; a < assets_.size(); ++a) v += carrying_value(a);
  return v;
}

void Institution::raise_capital(Money amount) {
  cash_.hot += amount;
  capital_raised_ += amount;
}

double Institution::own_token_drawdown() const {
  for (std::size_t a = 0; a < assets_.size(); ++a)
    if (spec_.assets[a].own_token) return 1.0 - assets_[a].price / assets_[a].peak_price;
  return 0.0;
}

void Institution::open_for(const TimeSpec& time, std::int32_t t) {
  cash_open_ = open_in_tick(spec_.opening_hours, time, t);
  for (std::size_t a = 0; a < assets_.size(); ++a)
    asset_open_[a] = open_in_tick(spec_.assets[a].opening_hours, time, t);
}

Money Institution::halt_allowance() const {
  if (halt_outflow_ == std::numeric_limits<Money>::max()) return halt_outflow_;
  return std::max<Money>(0, halt_outflow_ - net_outflow());
}

// Early liquidation: raise `need` cents by selling illiquid book at ell cents per cent,
//   book sold = min(illiquid, ceil(need / ell)),  proceeds = min(need, floor(ell * book)).
void Institution::liquidate_illiquid(Money need) {
  const double ell = spec_.illiquid_liquidation_value;
  if (need <= 0 || ell <= 0.0 || cash_.illiquid == 0) return;
  const auto book = std::min<Money>(cash_.illiquid,
                                    static_cast<Money>(std::ceil(static_cast<double>(need) / ell)));
  const Money proceeds =
      std::min(need, static_cast<Money>(std::floor(ell * static_cast<double>(book))));
  cash_.illiquid -= book;
  cash_.hot += proceeds;
  liquidated_book_ += book;
  liquidation_proceeds_ += proceeds;
}

void Institution::pay_final(Money claim_part, Money surplus, Money written_off) {
  cash_.hot -= claim_part + surplus;
  final_paid_ += claim_part;
  surplus_paid_ += surplus;
  written_off_ += written_off;
}

// Fire sales: raise `need` cents by selling assets in liquidation order.
void Institution::sell_assets(Money need) {
  for (std::size_t a = 0; a < assets_.size() && need > 0; ++a) need -= sell(a, need);
}

// Sells q units of asset a to raise up to `need` cents (square-root law, MODEL.md §5):
//   I(q) = Y sigma sqrt(q / V),  proceeds = q P (1 - I),  then P <- P (1 - perm I).
// q solves q P (1 - I(q)) = need by fixed-point iteration, capped at the hot units (and I
// at 0.99). Returns the proceeds (cents), which join hot reserves.
Money Institution::sell(std::size_t a, Money need) {
  AssetState& st = assets_[a];
  const AssetSpec& spec = spec_.assets[a];
  if (st.units.hot <= 0 || st.price <= 0.0) return 0;
  const double holding = static_cast<double>(st.units.hot) * kAssetUnit;
  const double depth = st.depth_units * tick_hours_ / 24.0;
  const auto impact = [&](double q) {
    return std::min(0.99, spec.impact * spec.volatility_per_day * std::sqrt(q / depth));
  };
  const double need_usd = cents_to_usd(need);
  double q = std::min(holding, need_usd / st.price);
  for (int k = 0; k < 20; ++k) q = std::min(holding, need_usd / (st.price * (1.0 - impact(q))));
  const std::int64_t units =
      std::min(st.units.hot, static_cast<std::int64_t>(std::llround(q / kAssetUnit)));
  q = static_cast<double>(units) * kAssetUnit;
  const double i = impact(q);
  const Money proceeds = std::min(need, usd_to_cents(q * st.price * (1.0 - i)));
  // Realised loss: carrying value of what was sold - proceeds (book for securities held to
  // maturity, so a sale realises their unrealised loss; the market price otherwise).
  const double carrying_price = spec.held_to_maturity ? spec.price_usd : st.price;
  const Money loss = usd_to_cents(q * carrying_price) - proceeds;
  st.units.hot -= units;
  st.sold_units_total += units;
  st.factor *= 1.0 - spec.permanent_share * i;
  st.price = st.market * st.factor;
  st.proceeds += proceeds;
  st.loss += loss;
  st.realised_loss_total += loss;
  cash_.hot += proceeds;
  proceeds_total_ += proceeds;
  return proceeds;
}

// One tick of each market price (for tick t+1): the CSV series value in force at t+1 if
// the asset has one, else P <- P exp((mu - sigma^2/2) dt + sigma sqrt(dt) Z), dt = tick in
// days, Z ~ N(0,1) from (seed, kAssetPrice, tick, a). The own token's factor also falls by
// exp(-kappa * net outflow / total assets). Price = market * factor.
void Institution::update_prices(std::uint64_t seed, std::int32_t tick, Money net_outflow) {
  const double dt = tick_hours_ / 24.0;
  const double total = static_cast<double>(cash_.total() + asset_value() + claims_book_);
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
  cash_queue_.push(agent, tick, amount);
}

void Institution::submit_asset(std::size_t a, std::uint32_t agent, std::int32_t tick,
                               Money amount) {
  assets_[a].queue.push(agent, tick, amount);
}

void Institution::deposit(Money amount) {
  inflow_total_ += amount;
  cash_.hot += amount;
}

void Institution::receive_transfer(Money amount) {
  transfer_in_total_ += amount;
  cash_.hot += amount;
}

void Institution::credit_asset_liability(std::size_t a, Money amount) {
  assets_[a].liabilities_credited += amount;
}

Money Institution::queue_value() const {
  Money v = cash_queue_.value();
  for (const AssetState& a : assets_) v += a.queue.value();
  return v;
}

std::int64_t Institution::queue_count() const {
  std::int64_t n = cash_queue_.count();
  for (const AssetState& a : assets_) n += a.queue.count();
  return n;
}

std::int32_t Institution::oldest_wait(std::int32_t tick) const {
  std::int32_t w = cash_queue_.oldest_wait(tick);
  for (const AssetState& a : assets_) w = std::max(w, a.queue.oldest_wait(tick));
  return w;
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
  cash_.hot += amount;
}

// End-of-tick conditions:
//   withdrawn fraction = (paid out - inflows) / issued,   hot ratio = hot / deposits,
//   liquid ratio = (hot + cold + in transit + market assets but their illiquid units)
//                  / deposits,
//   insolvent = equity < 0.
bool Institution::conditions_met(const Trigger& trigger) const {
  const double withdrawn = issued_ > 0 ? static_cast<double>(net_outflow()) / issued_ : 0.0;
  const double d = static_cast<double>(deposits());
  const double hot_ratio = d > 0 ? static_cast<double>(cash_.hot) / d : INFINITY;
  Money liquid = cash_.hot + cash_.cold + cash_.in_transit;
  for (const AssetState& a : assets_) liquid += a.liquid_value();
  const double liquid_ratio = d > 0 ? static_cast<double>(liquid) / d : INFINITY;
  return withdrawn >= trigger.withdrawn_fraction_at_least || hot_ratio < trigger.hot_ratio_below ||
         liquid_ratio < trigger.liquid_ratio_below || (trigger.when_insolvent && insolvent()) ||
         (trigger.when_insolvent_at_market && equity_at_market() < 0);
}

Money Institution::queue_sum() const {
  Money sum = cash_queue_.sum();
  for (const AssetState& a : assets_) sum += a.queue.sum();
  return sum;
}

}  // namespace bankrun
