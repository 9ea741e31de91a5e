#pragma once
// The frozen scenario: everything a run needs, validated by the scenarios/ loader before
// the engine sees it. The engine copies it and never parses text or touches a file.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "agents/distribution.hpp"
#include "agents/money.hpp"
#include "agents/network.hpp"
#include "agents/population.hpp"
#include "limits.hpp"

namespace bankrun {

struct TimeSpec {
  std::int32_t ticks = 100;
  double tick_hours = 1.0;
  std::int64_t start_unix_seconds = 0;  // UTC time of the start of tick 0
  std::string start_utc = "1970-01-01T00:00:00Z";
  // A day, in ticks: round(24 / tick_hours), at least one.
  std::int32_t ticks_per_day() const {
    return static_cast<std::int32_t>(std::max(1L, std::lround(24.0 / tick_hours)));
  }
  bool operator==(const TimeSpec&) const = default;
};

// Opening hours in local time (UTC + utc_offset_hours; no daylight saving): open on the
// listed weekdays (Monday first), from from_hour to to_hour, except on closed dates. The
// default is always open (24/7). A tick is open when any of its hours is (sim/calendar.hpp).
struct OpeningHours {
  double utc_offset_hours = 0.0;
  std::array<bool, 7> days{true, true, true, true, true, true, true};
  std::int32_t from_hour = 0, to_hour = 24;  // [from, to)
  std::vector<std::int64_t> closed_dates;    // local dates, days since 1970-01-01
  bool always_open() const { return *this == OpeningHours{}; }
  bool operator==(const OpeningHours&) const = default;
};

// Agents' activity by local time: at each instant the product of the factor of its hour of
// day and of its weekday (holidays count as Sundays), in [0, 1]; empty lists mean 1. Each
// tick an acting agent gets the chance to act on its decision (withdraw or re-deposit) with
// probability a(t), the mean over the tick's hours (sim/calendar.hpp). Default: always 1.
struct CalendarSpec {
  double utc_offset_hours = 0.0;
  std::vector<double> activity_by_hour;     // 24 factors (local hours 0..23) or empty
  std::vector<double> activity_by_weekday;  // 7 factors (Monday first) or empty
  std::vector<std::int64_t> holidays;       // local dates, days since 1970-01-01
  bool always_active() const { return *this == CalendarSpec{}; }
  bool operator==(const CalendarSpec&) const = default;
};

// One news item: from `tick` on, for `duration_ticks` ticks, it contributes
// magnitude * exp(-(t - tick) / decay_ticks) to N_i(t) of every agent it reached.
struct NewsEvent {
  std::string label;
  std::int32_t tick = 0;
  double magnitude = 0.0;                                        // A_j; negative reassures
  double decay_ticks = std::numeric_limits<double>::infinity();  // tau_j; inf = no decay
  std::int32_t duration_ticks = kForever;                        // box cut-off
  double reach = 1.0;  // probability that the event reaches a given agent
  // Target: only the depositors of this institution (index into Scenario::institutions)
  // feel it; -1 = every agent.
  std::int32_t institution = -1;
  bool operator==(const NewsEvent&) const = default;
};

// Weights of the stress equation (MODEL.md section 4).
struct StressSpec {
  double news_weight = 0.0;            // beta_news
  double peer_weight = 0.0;            // beta_peer
  std::int32_t peer_lag_ticks = 0;     // L: peers' state at the end of tick t-1-L
  double flow_weight = 0.0;            // beta_flow
  std::int32_t flow_window_ticks = 0;  // W: outflow over the last W ticks; 0 = since start
  double carry = 0.0;                  // weight of S_i(t-1)
  bool peer_balance_weighted = false;  // P_i weighted by the neighbours' initial balances
  // P_i as the share of i's neighbours seen to have decided (m_i / d_i), or their number m_i
  // (thresholds as counts of others: "withdraw once k others have").
  enum class PeerMeasure { kShare, kCount };
  PeerMeasure peer_measure = PeerMeasure::kShare;
  double queue_weight = 0.0;  // beta_queue: Q(t-1) = oldest request's wait, days
  double price_weight = 0.0;  // beta_price: X(t-1), the own token's drawdown
  // G, Q and X are those of the agent's account institution.
  bool operator==(const StressSpec&) const = default;
};

// Decision rule: threshold (S_i > theta_i, or S_i >= theta_i with comparison at_least) or
// smooth hazard h0 * Phi((S_i - theta_i) / T).
struct DecisionSpec {
  enum class Rule { kThreshold, kHazard };
  enum class Comparison { kGreater, kAtLeast };
  Rule rule = Rule::kThreshold;
  Comparison comparison = Comparison::kGreater;  // threshold rule only
  double hazard_rate = 1.0;  // h0 in (0, 1]: probability per tick when S_i >> theta_i
  double temperature = 0.1;  // T > 0
  bool operator==(const DecisionSpec&) const = default;
};

// Stochastic news: Poisson(rate_per_tick) events per tick in [start_tick, end_tick),
// magnitudes drawn from `magnitude`; generated at set-up from stream kNewsProcess.
struct NewsProcessSpec {
  double rate_per_tick = 0.0;  // 0 = no stochastic news
  Distribution magnitude = Distribution::constant(0.0);
  double decay_ticks = std::numeric_limits<double>::infinity();
  std::int32_t duration_ticks = kForever;
  double reach = 1.0;
  std::int32_t start_tick = 0;
  std::int32_t end_tick = kForever;
  std::int32_t institution = -1;  // target of the events (as NewsEvent::institution)
  bool operator==(const NewsProcessSpec&) const = default;
};

// What is recorded beyond the standard series.
struct OutputSpec {
  std::vector<double> stress_quantiles{0.1, 0.5, 0.9};  // per class, per tick
  std::vector<std::int32_t> snapshot_ticks;  // per-agent snapshots at the end of these ticks
  std::uint32_t snapshot_agents = 1000;      // sample size (every (N / size)-th agent)
  bool operator==(const OutputSpec&) const = default;
};

// A condition on the institution, checked on its state at the end of each tick (a
// scheduled tick fires at the start of that tick); any set condition suffices. Unset
// conditions are never met.
struct Trigger {
  std::int32_t at_tick = kForever;
  double withdrawn_fraction_at_least = std::numeric_limits<double>::infinity();  // net
  double hot_ratio_below = -std::numeric_limits<double>::infinity();             // hot / deposits
  // (hot + cold + in transit + market assets) / deposits: what could still pay anyone
  double liquid_ratio_below = -std::numeric_limits<double>::infinity();
  bool when_insolvent = false;            // equity < 0 (securities held to maturity at book)
  bool when_insolvent_at_market = false;  // equity < 0 with every asset at its market price
  bool operator==(const Trigger&) const = default;
  // Some condition is set. Compared with the all-unset default, so that a new condition
  // needs no edit here (listing the fields by hand was a trap for the next one).
  bool any() const { return *this != Trigger{}; }
};

// Suspension of convertibility: once triggered, nothing more is paid.
using HaltSpec = Trigger;

// An intervention that fires once, when its trigger is met (MODEL.md section 2).
struct PolicySpec {
  enum class Kind {
    kLenderOfLastResort,  // `injection` cents join the hot reserves
    kProofOfReserves,     // a reassuring news event (magnitude <= 0) to the depositors
    kDepositInsurance,    // claims insured up to `coverage`: insured share feels less stress
    kGate,                // per-account limit: `gate_fraction` of the claim per day
    kCapitalRaise,        // `injection` cents of new equity join the hot reserves, announced
  };
  Kind kind = Kind::kLenderOfLastResort;
  std::string label;
  Trigger trigger;
  Money injection = 0;           // lender_of_last_resort and capital_raise, cents
  double news_magnitude = -0.2;  // proof_of_reserves; capital_raise (its announcement)
  double news_decay_ticks = std::numeric_limits<double>::infinity();
  std::int32_t news_duration_ticks = kForever;
  double news_reach = 1.0;
  Money coverage = 0;                  // deposit_insurance, cents per account
  double insured_stress_factor = 0.0;  // deposit_insurance: stress weight of the insured share
  double gate_fraction = 1.0;          // gate: share of the claim an account may ask per day
  bool operator==(const PolicySpec&) const = default;
};

// A market asset the institution holds (its own token, or another crypto asset). When hot
// and cold funds cannot pay the tick's queue, assets are sold in list order (the
// liquidation order) at prices moved by the square-root law:
//   impact I(q) = Y * sigma * sqrt(q / V),  V = daily volume (units) * tick_hours / 24,
//   execution price P * (1 - I), then P <- P * (1 - permanent_share * I).
// Between sales the price follows a geometric Brownian motion (drift and volatility per
// day); an own token also drifts by -outflow_drift * (net outflow / total assets) a tick.
struct AssetSpec {
  std::string name;
  double holding_fraction = 0.0;    // value held at tick 0, as a share of deposits
  double price_usd = 1.0;           // price at tick 0
  double drift_per_day = 0.0;       // mu
  double volatility_per_day = 0.0;  // sigma (also scales the price impact)
  double daily_volume_usd = 1e9;    // market depth: V at the tick-0 price
  double impact = 0.5;              // Y
  double permanent_share = 0.5;     // share of the impact that stays in the price
  double outflow_drift = 0.0;       // kappa (own token)
  bool own_token = false;           // its drawdown is the price signal X
  // Securities held to maturity: carried at amortised cost (book: the tick-0 price) in
  // equity, not at market; the unrealised loss (book - market) shows in the equity at
  // market, and a sale realises the loss against book. Otherwise carried at market.
  bool held_to_maturity = false;
  // The first announcement of a realised loss on this asset (vs its carrying value) is a
  // news event to the institution's depositors from the next tick, of magnitude
  //   news_per_realised_loss * loss / deposits.
  double news_per_realised_loss = 0.0;
  // Exogenous path (from a CSV file of timestamped prices, or a rate path for a bond:
  // price = price_usd * (1 - duration_years * rate change), the loader's conversion):
  // (tick, price) sorted by tick;
  // from each listed tick on, the market price is that value (instead of the GBM). Sales'
  // permanent impact and the own token's outflow drift still multiply it.
  std::vector<std::pair<std::int32_t, double>> price_series;
  // Tiers of the holding: hot_share of the units is payable and sellable now; cold_share
  // moves to hot at most cold_to_hot_units_per_tick a tick (units of the asset), arriving
  // cold_delay_ticks later; the rest is illiquid (lent out: valued at the price, never
  // sold, never paid out). Fire sales sell hot units only.
  double hot_share = 1.0;
  double cold_share = 0.0;
  double cold_to_hot_units_per_tick = std::numeric_limits<double>::infinity();
  std::int32_t cold_delay_ticks = 0;
  // Customers' withdrawals in this asset (the part of their claims their portfolio holds in
  // it) queue FIFO and are paid in kind from the hot units, at most this value a tick.
  Money max_payout_per_tick = std::numeric_limits<Money>::max();  // cents; max = unlimited
  // Payouts in kind and cold moves of this asset only in these hours (e.g. a stablecoin's
  // redemptions when its banks are open); default 24/7.
  OpeningHours opening_hours;
  bool operator==(const AssetSpec&) const = default;
};

// A claim of one institution (the creditor, which lists it) on another (the debtor): a
// loan, or funds the creditor keeps on the debtor's platform. The creditor carries it at
// face value; the debtor owes it. When the debtor has halted or is insolvent at the end of
// a tick, the creditor writes down loss_given_default * amount at once, and from the next
// tick its depositors feel a news event of magnitude
//   news_per_loss * (write-down / creditor's deposits at that moment).
struct ExposureSpec {
  std::uint32_t debtor = 0;         // index into Scenario::institutions (never the creditor itself)
  Money amount = 0;                 // face value, cents
  double loss_given_default = 1.0;  // [0, 1]
  double news_per_loss = 0.0;       // news magnitude per unit of loss / deposits
  double news_decay_ticks = std::numeric_limits<double>::infinity();
  std::int32_t news_duration_ticks = kForever;
  double news_reach = 1.0;
  bool operator==(const ExposureSpec&) const = default;
};

struct InstitutionSpec {
  std::string name = "bank";
  // Reserves at tick 0 as shares of deposits. Hot reserves pay the queue; cold reserves
  // move to hot at most cold_to_hot_per_tick a tick, arriving cold_delay_ticks later;
  // illiquid assets (loans, own token) cannot pay anyone. Equity = hot + cold + in transit
  // + illiquid - deposits (at par: prices come later).
  double hot_reserve_fraction = 1.0;
  double cold_reserve_fraction = 0.0;
  double illiquid_fraction = 0.0;
  Money cold_to_hot_per_tick = std::numeric_limits<Money>::max();  // cents; max = unlimited
  std::int32_t cold_delay_ticks = 0;
  Money max_payout_per_tick = std::numeric_limits<Money>::max();  // cents; max = unlimited
  // Cash payouts and cold-to-hot moves only in opening hours (funds in transit still land).
  OpeningHours opening_hours;
  // Early liquidation of the illiquid reserves: when hot, cold and market assets cannot pay
  // the tick's queue, illiquid book is sold at this many cents per cent (0 = never sold).
  double illiquid_liquidation_value = 0.0;
  // The final date (Diamond-Dybvig's T = 2): at the end of the run's last tick the illiquid
  // reserves mature at illiquid_final_return per cent of book, and everything the
  // institution holds is paid out to its depositors pro rata to their remaining claims
  // (queued or not): they share the surplus or the shortfall.
  bool final_payout = false;
  double illiquid_final_return = 1.0;
  // A halt with withdrawn_fraction_at_least f also caps the payments of the tick at the
  // amount that brings the net withdrawn fraction to f (suspension at f exactly).
  HaltSpec halt;
  std::vector<PolicySpec> policies;
  std::vector<AssetSpec> assets;        // in liquidation order
  std::vector<ExposureSpec> exposures;  // claims on other institutions
  bool operator==(const InstitutionSpec&) const = default;
};

struct Scenario {
  std::string name;
  std::string description;
  std::uint64_t seed = 1;
  TimeSpec time;
  PopulationSpec population;
  NetworkSpec network;
  StressSpec stress;
  std::vector<NewsEvent> news;  // sorted by tick
  NewsProcessSpec news_process;
  DecisionSpec decision;
  CalendarSpec calendar;
  // At least one (default: one institution, "bank"); settled in this order.
  std::vector<InstitutionSpec> institutions{InstitutionSpec{}};
  // Claim currencies besides USD: currency 0 is USD (every institution's cash ledger);
  // currency c >= 1 is the asset named currencies[c - 1], which every institution where a
  // class's agents can hold claims in it must list in its assets.
  std::vector<std::string> currencies;
  OutputSpec output;
  bool operator==(const Scenario&) const = default;
};

// The network between agents. A stochastic block model's probabilities are per pair of
// accounts, so two agents standing for w_a and w_b accounts (accounts_per_agent) are linked
// with probability 1 - (1 - p_ab)^(w_a w_b): when any pair of their accounts is. Other
// network parameters (degrees, k, m) are per agent. Unchanged when every w is 1.
inline NetworkSpec agent_network(const Scenario& s) {
  NetworkSpec n = s.network;
  if (n.kind != NetworkSpec::Kind::kStochasticBlock) return n;
  const auto& classes = s.population.classes;
  for (std::size_t a = 0; a < n.block_probability.size() && a < classes.size(); ++a)
    for (std::size_t b = 0; b < n.block_probability[a].size() && b < classes.size(); ++b) {
      const double w = classes[a].accounts_per_agent * classes[b].accounts_per_agent;
      double& p = n.block_probability[a][b];
      if (w != 1.0) p = 1.0 - std::pow(1.0 - std::clamp(p, 0.0, 1.0), w);
    }
  return n;
}

}  // namespace bankrun
