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
  double share = 1.0;        // of the population; shares are normalised to sum to 1
  Distribution balance_usd;  // initial claim on the institution, USD (clipped at >= 0)
  Distribution threshold;    // panic threshold theta_i
  double noise_sd = 0.0;     // sigma_i of the per-tick stress noise epsilon_i(t)
  double attention = 1.0;    // probability of noticing a news event that reaches it
};

struct PopulationSpec {
  std::uint32_t agents = 0;
  std::vector<InvestorClass> classes;
  // If set, balances are rescaled after drawing so that they sum to this (to the cent,
  // up to rounding of each balance).
  std::optional<double> total_balance_usd;
};

inline constexpr std::int32_t kNever = std::numeric_limits<std::int32_t>::max();

struct Population {
  // Immutable after set-up.
  std::vector<double> threshold;       // theta_i
  std::vector<std::uint8_t> class_id;  // index into PopulationSpec::classes
  std::vector<std::uint32_t> class_begin;
  Money issued = 0;  // sum of initial claims: the ledger's anchor

  // Dynamic state.
  std::vector<Money> claim;              // remaining claim on the institution, cents
  std::vector<double> stress;            // S_i at the end of the last tick it acted
  std::vector<std::int32_t> decided_at;  // tick of the withdrawal decision, or kNever

  std::uint32_t size() const { return static_cast<std::uint32_t>(claim.size()); }
  std::size_t class_count() const { return class_begin.size() - 1; }
};

// Splits `agents` into class counts by largest remainder, so the counts are exact and
// deterministic.
std::vector<std::uint32_t> class_counts(const PopulationSpec& spec);

// Draws balances and thresholds (in parallel, deterministic in the seed).
Population create_population(const PopulationSpec& spec, std::uint64_t seed);

}  // namespace bankrun
