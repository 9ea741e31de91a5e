// The one enum <-> name table of each named enum of sim/ (policy kinds, decision rules);
// those of agents/ are in agents/names.hpp. Used by the scenario loader, the HDF5 writer
// and the messages.
#pragma once

#include <array>

#include "agents/names.hpp"
#include "sim/scenario.hpp"

namespace bankrun {

inline constexpr std::array<EnumName<PolicySpec::Kind>, 5> kPolicyKindNames{{
    {PolicySpec::Kind::kLenderOfLastResort, "lender_of_last_resort"},
    {PolicySpec::Kind::kProofOfReserves, "proof_of_reserves"},
    {PolicySpec::Kind::kDepositInsurance, "deposit_insurance"},
    {PolicySpec::Kind::kGate, "gate"},
    {PolicySpec::Kind::kCapitalRaise, "capital_raise"},
}};

// The first row is the default rule.
inline constexpr std::array<EnumName<DecisionSpec::Rule>, 2> kDecisionRuleNames{{
    {DecisionSpec::Rule::kThreshold, "threshold"},
    {DecisionSpec::Rule::kHazard, "hazard"},
}};

// The first row is the default.
inline constexpr std::array<EnumName<DecisionSpec::Comparison>, 2> kComparisonNames{{
    {DecisionSpec::Comparison::kGreater, "greater"},
    {DecisionSpec::Comparison::kAtLeast, "at_least"},
}};

// The first row is the default.
inline constexpr std::array<EnumName<StressSpec::PeerMeasure>, 2> kPeerMeasureNames{{
    {StressSpec::PeerMeasure::kShare, "share"},
    {StressSpec::PeerMeasure::kCount, "count"},
}};

constexpr const char* name_of(PolicySpec::Kind k) {
  return name_in(kPolicyKindNames, k);
}
constexpr const char* name_of(DecisionSpec::Rule r) {
  return name_in(kDecisionRuleNames, r);
}
constexpr const char* name_of(DecisionSpec::Comparison c) {
  return name_in(kComparisonNames, c);
}
constexpr const char* name_of(StressSpec::PeerMeasure m) {
  return name_in(kPeerMeasureNames, m);
}

}  // namespace bankrun
