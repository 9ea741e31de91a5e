#pragma once
// Policies (InstitutionSpec::policies): lender of last resort, proof of reserves, deposit
// insurance and withdrawal gates. A policy fires once, at the start of a tick (phase 1):
// at its scheduled tick, or at the tick after the one at whose end its trigger's
// conditions held (arm(), end of tick). Firing sets the institution's State, which the
// decide phase (insured_scale, gated) and the submit phase (gate_request) read.
#include <cstdint>
#include <span>
#include <vector>

#include "agents/money.hpp"
#include "agents/population.hpp"
#include "institution.hpp"
#include "news.hpp"
#include "record.hpp"
#include "scenario.hpp"

namespace bankrun {

class Policies {
 public:
  Policies(const Scenario& scenario, std::uint32_t agents);

  // Phase 1 of tick t: the policies due fire (injections into `institutions`, counted in
  // `ticks`; proofs of reserves add their news to `news`).
  void apply(std::int32_t t, std::vector<Institution>& institutions,
             std::span<InstitutionTick> ticks, NewsBoard& news);
  // End of a tick: which unfired policies' conditions hold (they fire next tick).
  void arm(const std::vector<Institution>& institutions);
  // Tick at which policy k of institution `in` fired, or kForever.
  std::int32_t fired_tick(std::size_t in, std::size_t k) const { return fired_[begin_[in] + k]; }

  // Deposit insurance is in force at agent i's account (its account is read only if some
  // institution has it: the common case touches no per-agent data).
  bool insured(std::uint32_t i, const Population& population) const {
    return any_insurance_ && state_[population.account[i]].insurance;
  }
  // Where it is, S_i is scaled by (1 - s_i) + f s_i, where s_i is the insured share of the
  // claim c_i and f the insured stress factor. Coverage is per account: an agent standing
  // for w accounts of c_i / w each has s_i = min(c_i / w, coverage) / (c_i / w)
  // = min(c_i, w coverage) / c_i.
  double insured_scale(std::uint32_t i, const Population& population) const {
    const Money claim = population.claim[i];
    if (claim <= 0) return 1.0;
    const State& p = state_[population.account[i]];
    const double covered = static_cast<double>(p.coverage) * population.accounts_per_agent(i);
    const double insured =
        std::min(static_cast<double>(claim), covered) / static_cast<double>(claim);
    return (1.0 - insured) + p.insured_stress_factor * insured;
  }
  // A gate at i's account, and i requested within the last day: it cannot request now.
  bool gated(std::uint32_t i, const Population& population, std::int32_t t) const {
    return any_gate_ && state_[population.account[i]].gate && t - last_request_[i] < ticks_per_day_;
  }
  // Agent i requests `amount` of its claim at tick t: a gate at its account caps the
  // request at max(1 cent, round(gate_fraction * claim)); the tick is remembered.
  Money gate_request(std::uint32_t i, std::uint8_t account, Money amount, Money claim,
                     std::int32_t t);

  // Checkpoints: the tick each policy fired, which are armed, the state in force at each
  // institution, whether any insurance or gate is in force, and each agent's last request
  // tick. The policy list and ticks per day come from the scenario.
  template <class Archive>
  void visit_state(Archive& a) {
    a.item("policies.fired", fired_);
    a.item("policies.armed", armed_);
    a.item("policies.state", state_);
    a.item("policies.any_insurance", any_insurance_);
    a.item("policies.any_gate", any_gate_);
    a.item("policies.last_request", last_request_);
  }

 private:
  void fire(std::size_t in, const PolicySpec& policy, std::int32_t t,
            std::vector<Institution>& institutions, std::span<InstitutionTick> ticks,
            NewsBoard& news);

  struct State {
    bool insurance = false, gate = false;
    std::uint8_t padding[6] = {};  // explicit, so a checkpoint's bytes are all defined
    Money coverage = 0;
    double insured_stress_factor = 1.0, gate_fraction = 1.0;
  };
  // All institutions' policies, flat (institution k's are [begin_[k], begin_[k+1])): the
  // tick each fired (kForever: not yet), whether its end-of-tick conditions held at the
  // end of the last tick; per institution the state the fired ones put in force.
  std::vector<std::size_t> begin_;
  std::vector<std::int32_t> fired_;
  std::vector<char> armed_;
  std::vector<State> state_;
  bool any_insurance_ = false, any_gate_ = false;
  std::int32_t ticks_per_day_ = 24;
  std::vector<std::int32_t> last_request_;  // tick of each agent's last request (gates)
};

}  // namespace bankrun
