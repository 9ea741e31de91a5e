#include "policies.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace bankrun {

// Bookkeeping, and what the policies need when they fire: the agents' last request ticks
// (only if there is a gate), so the tick loop never allocates.
Policies::Policies(const Scenario& scenario, std::uint32_t agents)
    : ticks_per_day_(scenario.time.ticks_per_day()) {
  begin_.assign(1, 0);
  for (const InstitutionSpec& spec : scenario.institutions) {
    begin_.push_back(begin_.back() + spec.policies.size());
    for (const PolicySpec& p : spec.policies)
      if (p.kind == PolicySpec::Kind::kGate && last_request_.empty())
        last_request_.assign(agents, std::numeric_limits<std::int32_t>::min() / 2);
  }
  fired_.assign(begin_.back(), kForever);
  armed_.assign(begin_.back(), 0);
  state_.assign(scenario.institutions.size(), State{});
}

// Policies fire once: at the start of their scheduled tick, or at the start of the tick
// after the one at whose end their conditions held.
void Policies::apply(std::int32_t t, std::vector<Institution>& institutions,
                     std::span<InstitutionTick> ticks, NewsBoard& news) {
  for (std::size_t in = 0; in < institutions.size(); ++in) {
    const auto& policies = institutions[in].spec().policies;
    for (std::size_t p = 0; p < policies.size(); ++p) {
      const std::size_t k = begin_[in] + p;
      if (fired_[k] != kForever) continue;
      if (policies[p].trigger.at_tick > t && !armed_[k]) continue;
      fired_[k] = t;
      fire(in, policies[p], t, institutions, ticks, news);
    }
  }
}

void Policies::fire(std::size_t in, const PolicySpec& p, std::int32_t t,
                    std::vector<Institution>& institutions, std::span<InstitutionTick> ticks,
                    NewsBoard& news) {
  State& state = state_[in];
  switch (p.kind) {
    case PolicySpec::Kind::kLenderOfLastResort:
      institutions[in].inject(p.injection);
      ticks[in].injections += p.injection;
      break;
    case PolicySpec::Kind::kProofOfReserves:  // to the institution's own depositors
      news.add({"proof of reserves: " + p.label, t, p.news_magnitude, p.news_decay_ticks,
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
    case PolicySpec::Kind::kCapitalRaise:  // new equity, and its announcement
      institutions[in].raise_capital(p.injection);
      ticks[in].capital_raised += p.injection;
      if (p.news_magnitude != 0.0)
        news.add({"capital raise: " + p.label, t, p.news_magnitude, p.news_decay_ticks,
                  p.news_duration_ticks, p.news_reach, static_cast<std::int32_t>(in)});
      break;
  }
}

void Policies::arm(const std::vector<Institution>& institutions) {
  for (std::size_t in = 0; in < institutions.size(); ++in) {
    const auto& policies = institutions[in].spec().policies;
    for (std::size_t p = 0; p < policies.size(); ++p) {
      const std::size_t k = begin_[in] + p;
      if (fired_[k] == kForever && institutions[in].conditions_met(policies[p].trigger))
        armed_[k] = 1;
    }
  }
}

Money Policies::gate_request(std::uint32_t i, std::uint8_t account, Money amount, Money claim,
                             std::int32_t t) {
  const State& state = state_[account];
  if (state.gate)
    amount = std::min(
        amount, std::max<Money>(1, std::llround(state.gate_fraction * static_cast<double>(claim))));
  if (!last_request_.empty()) last_request_[i] = t;
  return amount;
}

}  // namespace bankrun
