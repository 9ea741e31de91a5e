// Policies (InstitutionSpec::policies): lender of last resort, proof of reserves, deposit
// insurance and withdrawal gates. A policy fires once, at the start of a tick (phase 1):
// at its scheduled tick, or at the tick after the one at whose end its trigger's
// conditions held (arm_policies, end of tick). Firing sets the institution's PolicyState,
// which the decision (insured_stress_scale) and submit (gates) phases read.
#include <limits>

#include "simulation.hpp"

namespace bankrun {

// Policy bookkeeping, and what the policies will need when they fire: the agents' last
// request ticks (gates), so the tick loop never allocates (the news board reserves room for
// the proofs of reserves' news).
void Simulation::prepare_policies(std::uint32_t n) {
  policy_begin_.assign(1, 0);
  for (const InstitutionSpec& spec : scenario_.institutions) {
    policy_begin_.push_back(policy_begin_.back() + spec.policies.size());
    for (const PolicySpec& p : spec.policies) {
      if (p.kind == PolicySpec::Kind::kGate && last_request_.empty())
        last_request_.assign(n, std::numeric_limits<std::int32_t>::min() / 2);
    }
  }
  policy_fired_.assign(policy_begin_.back(), kForever);
  policy_armed_.assign(policy_begin_.back(), 0);
  policy_state_.assign(scenario_.institutions.size(), PolicyState{});
  ticks_per_day_ = scenario_.time.ticks_per_day();
}

// Policies fire once: at the start of their scheduled tick, or at the start of the tick
// after the one at whose end their conditions held.
void Simulation::apply_policies(std::int32_t t) {
  for (std::size_t in = 0; in < institutions_.size(); ++in) {
    const auto& policies = scenario_.institutions[in].policies;
    for (std::size_t p = 0; p < policies.size(); ++p) {
      const std::size_t k = policy_begin_[in] + p;
      if (policy_fired_[k] != kForever) continue;
      if (policies[p].trigger.at_tick > t && !policy_armed_[k]) continue;
      policy_fired_[k] = t;
      fire_policy(in, policies[p], t);
    }
  }
}

void Simulation::fire_policy(std::size_t in, const PolicySpec& p, std::int32_t t) {
  PolicyState& state = policy_state_[in];
  switch (p.kind) {
    case PolicySpec::Kind::kLenderOfLastResort:
      institutions_[in].inject(p.injection);
      institution_ticks_[in].injections += p.injection;
      break;
    case PolicySpec::Kind::kProofOfReserves:
      // To the institution's own depositors.
      news_.add({"proof of reserves: " + p.label, t, p.news_magnitude, p.news_decay_ticks,
                 p.news_duration_ticks, p.news_reach, static_cast<std::int32_t>(in)});
      break;
    case PolicySpec::Kind::kDepositInsurance:
      state.insurance = any_insurance_ = true;
      state.coverage = p.coverage;
      state.insured_stress_factor = p.insured_stress_factor;
      break;
    case PolicySpec::Kind::kGate:
      state.gate = any_gate_ = true;
      state.gate_fraction = p.gate_fraction;
      break;
  }
}

// At the end of a tick: which unfired policies' conditions hold (they fire next tick).
void Simulation::arm_policies() {
  for (std::size_t in = 0; in < institutions_.size(); ++in) {
    const auto& policies = scenario_.institutions[in].policies;
    for (std::size_t p = 0; p < policies.size(); ++p) {
      const std::size_t k = policy_begin_[in] + p;
      if (policy_fired_[k] == kForever && institutions_[in].conditions_met(policies[p].trigger))
        policy_armed_[k] = 1;
    }
  }
}

}  // namespace bankrun
