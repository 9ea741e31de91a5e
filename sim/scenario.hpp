#pragma once
// The frozen scenario: everything a run needs, validated by the scenarios/ loader before
// the engine sees it. The engine copies it and never parses text or touches a file.
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "agents/distribution.hpp"
#include "agents/money.hpp"
#include "agents/network.hpp"
#include "agents/population.hpp"

namespace bankrun {

inline constexpr std::int32_t kForever = std::numeric_limits<std::int32_t>::max();

struct TimeSpec {
  std::int32_t ticks = 100;
  double tick_hours = 1.0;
  std::int64_t start_unix_seconds = 0;  // UTC time of the start of tick 0
  std::string start_utc = "1970-01-01T00:00:00Z";
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
  double queue_weight = 0.0;           // beta_queue: Q(t-1) = oldest request's wait, days
  double price_weight = 0.0;           // beta_price: X(t-1); 0 until prices exist (issue 4)
};

// Decision rule: threshold (S_i > theta_i) or smooth hazard h0 * Phi((S_i - theta_i) / T).
struct DecisionSpec {
  enum class Rule { kThreshold, kHazard };
  Rule rule = Rule::kThreshold;
  double hazard_rate = 1.0;  // h0 in (0, 1]: probability per tick when S_i >> theta_i
  double temperature = 0.1;  // T > 0
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
};

// What is recorded beyond the standard series.
struct OutputSpec {
  std::vector<double> stress_quantiles{0.1, 0.5, 0.9};  // per class, per tick
  std::vector<std::int32_t> snapshot_ticks;  // per-agent snapshots at the end of these ticks
  std::uint32_t snapshot_agents = 1000;      // sample size (every (N / size)-th agent)
};

// Conditions under which the institution suspends convertibility; any one suffices.
// Unset conditions are never met.
struct HaltSpec {
  std::int32_t at_tick = kForever;
  double withdrawn_fraction_at_least = std::numeric_limits<double>::infinity();
  double hot_ratio_below = -std::numeric_limits<double>::infinity();
  bool any() const {
    return at_tick != kForever || withdrawn_fraction_at_least <= 1.0 || hot_ratio_below > -1.0;
  }
};

struct InstitutionSpec {
  std::string name = "bank";
  double hot_reserve_fraction = 1.0;  // hot reserves at tick 0, as a share of deposits
  Money max_payout_per_tick = std::numeric_limits<Money>::max();  // cents; max = unlimited
  HaltSpec halt;
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
  InstitutionSpec institution;
  OutputSpec output;
};

}  // namespace bankrun
