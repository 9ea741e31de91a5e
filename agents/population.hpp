#pragma once
// Investor state as structure-of-arrays keyed by a stable agent id (0 .. N-1).
// Agents of class c occupy the contiguous id range [class_begin[c], class_begin[c+1]).
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "distribution.hpp"
#include "money.hpp"

namespace bankrun {

struct InvestorClass {
  std::string name;
  double share = 1.0;  // of the population; shares are normalised to sum to 1
  // Super-individuals: each agent of the class stands for this many accounts (> 0), all
  // alike. Its claim is accounts_per_agent times the balance drawn for one account, and
  // every per-account rule (the deposit-insurance coverage) applies per account, so the
  // agent count is a resolution knob. The loader derives it from `account_count`.
  double accounts_per_agent = 1.0;
  Distribution balance_usd;  // initial claim of one account, USD (clipped at >= 0)
  Distribution threshold;    // panic threshold theta_i
  // Per-agent draws (a constant distribution gives every agent the same value).
  Distribution noise_sd = Distribution::constant(0.0);            // sigma_i of epsilon_i(t), >= 0
  Distribution attention = Distribution::constant(1.0);           // P(notice a news event), [0, 1]
  Distribution withdraw_fraction = Distribution::constant(1.0);   // omega_i, (0, 1]
  Distribution reaction_lag_ticks = Distribution::constant(0.0);  // rounded, >= 0
  // Rank correlation between balance and threshold within the class, in [-1, 1]:
  // thresholds are drawn from their distribution, then assigned to agents in the order of
  // rho * z(balance rank) + sqrt(1 - rho^2) * noise. rho < 0: large holders more skittish.
  double threshold_balance_rank_correlation = 0.0;
  // Calm re-deposits: an agent holding funds outside the institution whose stress stays
  // below calm_threshold re-deposits, with probability redeposit_rate per tick, the share
  // redeposit_fraction of them. redeposit_rate = 0 disables it.
  double calm_threshold = 0.0;
  double redeposit_rate = 0.0;
  double redeposit_fraction = 1.0;
  // Where the class banks: account_shares[k] is the share of its agents whose account (their
  // whole initial claim) is at institution k; empty = everyone at institution 0. Each agent's
  // account is drawn once (stream kAccount). Shares are normalised.
  std::vector<double> account_shares;
  // Where withdrawn funds go: destination_shares[0] is self-custody, destination_shares[k+1]
  // institution k. Each agent draws one destination once (stream kDestination) from these
  // shares with its own account institution's share set to 0; empty (or nothing left) =
  // self-custody.
  std::vector<double> destination_shares;
  // Portfolio mix: portfolio[c] is the share of each agent's claim (by value) held in claim
  // currency c (0 = USD, c >= 1 = Scenario::currencies[c - 1]); empty = all USD. Every
  // request, re-deposit and transfer is split by it. Normalised.
  std::vector<double> portfolio;
  bool operator==(const InvestorClass&) const = default;
};

struct PopulationSpec {
  std::uint32_t agents = 0;
  std::vector<InvestorClass> classes;
  // If set, balances are rescaled after drawing so that they sum to this (to the cent,
  // up to rounding of each balance).
  std::optional<double> total_balance_usd;
  bool operator==(const PopulationSpec&) const = default;
};

inline constexpr std::uint8_t kSelfCustody = 255;  // destination: funds held outside

inline constexpr std::int32_t kNever = std::numeric_limits<std::int32_t>::max();

struct Population {
  // Immutable after set-up.
  std::vector<double> threshold;           // theta_i
  std::vector<float> attention;            // P(notice a news event that reaches i)
  std::vector<float> withdraw_fraction;    // omega_i in (0, 1]
  std::vector<float> noise_sd;             // sigma_i >= 0
  std::vector<std::int32_t> reaction_lag;  // ticks between decision and request, >= 0
  // When every class's attention (withdraw_fraction, noise_sd, reaction_lag_ticks) is a
  // constant, the per-agent array above is empty and each agent has its class's value:
  // read them through attention_of(), withdraw_fraction_of(), noise_sd_of() and
  // reaction_lag_of().
  std::vector<float> class_attention, class_withdraw_fraction, class_noise_sd;
  std::vector<std::int32_t> class_reaction_lag;
  std::vector<std::uint8_t> class_id;            // index into PopulationSpec::classes
  std::vector<double> class_accounts_per_agent;  // InvestorClass::accounts_per_agent
  std::vector<std::uint32_t> class_begin;
  // c_i(0), cents (weights of balance-weighted peers; a Simulation without them frees it).
  std::vector<Money> initial_claim;
  Money issued = 0;  // sum of initial claims: the ledger's anchor

  // Dynamic state.
  std::vector<std::uint8_t> account;  // institution holding the agent's claim
  // Institution index, or kSelfCustody; becomes kSelfCustody when the account moves there.
  std::vector<std::uint8_t> destination;
  std::vector<Money> claim;    // remaining claim on the account institution, cents
  std::vector<Money> outside;  // funds withdrawn and held outside, cents
  // Funds paid to the agent's destination institution while it still had a claim at its
  // account institution; when that claim reaches 0 the account moves there (claim = moved).
  // Empty when every agent's destination is self-custody (no agent can ever move funds).
  std::vector<Money> moved;
  std::vector<double> stress;            // S_i at the end of the last tick it acted
  std::vector<std::int32_t> decided_at;  // tick of the first withdrawal decision, or kNever

  std::uint32_t size() const { return static_cast<std::uint32_t>(claim.size()); }
  Money moved_funds(std::uint32_t i) const { return moved.empty() ? 0 : moved[i]; }
  double accounts_per_agent(std::uint32_t i) const { return class_accounts_per_agent[class_id[i]]; }
  float attention_of(std::uint32_t i) const {
    return attention.empty() ? class_attention[class_id[i]] : attention[i];
  }
  float noise_sd_of(std::uint32_t i) const {
    return noise_sd.empty() ? class_noise_sd[class_id[i]] : noise_sd[i];
  }
  float withdraw_fraction_of(std::uint32_t i) const {
    return withdraw_fraction.empty() ? class_withdraw_fraction[class_id[i]] : withdraw_fraction[i];
  }
  std::int32_t reaction_lag_of(std::uint32_t i) const {
    return reaction_lag.empty() ? class_reaction_lag[class_id[i]] : reaction_lag[i];
  }

  // Checkpoints (sim/checkpoint.hpp): the dynamic state above. The immutable arrays are
  // drawn again, identically, from the scenario and seed when the Simulation is rebuilt.
  template <class Archive>
  void visit_state(Archive& a) {
    a.item("population.account", account);
    a.item("population.destination", destination);
    a.item("population.claim", claim);
    a.item("population.outside", outside);
    a.item("population.moved", moved);
    a.item("population.stress", stress);
    a.item("population.decided_at", decided_at);
  }
  std::size_t class_count() const { return class_begin.size() - 1; }
};

// Some class re-deposits calm agents' outside funds (redeposit_rate > 0).
inline bool any_class_redeposits(const PopulationSpec& spec) {
  for (const InvestorClass& c : spec.classes)
    if (c.redeposit_rate > 0.0) return true;
  return false;
}

// Splits `agents` into class counts by largest remainder, so the counts are exact and
// deterministic.
std::vector<std::uint32_t> class_counts(const PopulationSpec& spec);

// Draws balances and thresholds (in parallel, deterministic in the seed).
Population create_population(const PopulationSpec& spec, std::uint64_t seed);

}  // namespace bankrun
