// Phase 3 of the tick, submit: re-deposits are credited, first decisions logged for the
// peers, and the requests whose reaction lag is over join their institution's queues.
#include <algorithm>
#include <cmath>

#include "agents/parallel.hpp"
#include "simulation.hpp"

namespace bankrun {

// Re-deposits: each calm agent moves redeposit_fraction of its outside funds (at least
// one cent) back into its claim; its account institution's hot reserves grow by as much.
// With USD claims only, the agents are credited in parallel pieces and the institutions'
// sums added after: integer sums, so the split cannot change them. In-kind claims (split
// by the portfolio across asset liabilities) go one agent at a time.
void Simulation::credit_redeposits() {
  const std::span<const std::uint32_t> movers = active_.redepositors();
  if (portfolio_.currencies() > 1 || movers.size() < 2 * kCreditPiece) {
    for (const std::uint32_t i : movers) credit_redeposit(i);
    return;
  }
  const std::size_t nin = institutions_.size();
  const auto pieces = static_cast<std::uint32_t>((movers.size() + kCreditPiece - 1) / kCreditPiece);
  for_blocks(pieces, [&](std::uint32_t b) {
    // Per piece: the amount credited at each institution, then the agents whose claim was 0.
    Money* sums = credit_sums_.data() + std::size_t{b} * (nin + 1);
    std::fill_n(sums, nin + 1, Money{0});
    const std::size_t end = std::min(movers.size(), std::size_t{b + 1} * kCreditPiece);
    for (std::size_t k = std::size_t{b} * kCreditPiece; k < end; ++k) {
      const std::uint32_t i = movers[k];
      const Money amount = redeposit_amount(i);
      sums[nin] += population_.claim[i] == 0;
      population_.outside[i] -= amount;
      population_.claim[i] += amount;
      sums[population_.account[i]] += amount;
    }
  });
  for (std::uint32_t b = 0; b < pieces; ++b) {
    const Money* sums = credit_sums_.data() + std::size_t{b} * (nin + 1);
    for (std::size_t in = 0; in < nin; ++in) {
      if (sums[in] == 0) continue;
      institutions_[in].deposit(sums[in]);
      institution_ticks_[in].inflows += sums[in];
      self_custody_ -= sums[in];
    }
    paid_agents_ -= sums[nin];
  }
}

Money Simulation::redeposit_amount(std::uint32_t i) const {
  const double fraction = scenario_.population.classes[population_.class_id[i]].redeposit_fraction;
  const Money outside = population_.outside[i];
  return std::clamp<Money>(std::llround(fraction * static_cast<double>(outside)), 1, outside);
}

void Simulation::credit_redeposit(std::uint32_t i) {
  const Money amount = redeposit_amount(i);
  if (population_.claim[i] == 0) --paid_agents_;
  population_.outside[i] -= amount;
  population_.claim[i] += amount;
  const std::uint8_t in = population_.account[i];
  institutions_[in].deposit(amount);
  Money parts[kMaxCurrencies];
  if (portfolio_.split(amount, population_.class_id[i], parts))
    for (std::size_t c = 1; c < portfolio_.currencies(); ++c)
      if (parts[c] > 0)
        institutions_[in].credit_asset_liability(
            static_cast<std::size_t>(portfolio_.asset_of(in, c)), parts[c]);
  institution_ticks_[in].inflows += amount;
  self_custody_ -= amount;
}

// A request asks for omega_i of the remaining claim (at least one cent; all of it when
// omega_i = 1).
void Simulation::request(std::uint32_t i, std::int32_t t) {
  const Money claim = population_.claim[i];
  const float omega = population_.withdraw_fraction_of(i);
  Money amount =
      omega >= 1.0f ? claim
                    : std::clamp<Money>(std::llround(omega * static_cast<double>(claim)), 1, claim);
  const std::uint8_t k = population_.account[i];
  amount = policies_.gate_request(i, k, amount, claim, t);
  state_[i] = AgentState::kPending;
  institution_ticks_[k].requested += amount;
  // The request is split by the portfolio; each part joins the queue of its currency.
  Money parts[kMaxCurrencies];
  std::uint8_t count = 0;
  if (portfolio_.split(amount, population_.class_id[i], parts)) {
    for (std::size_t c = 1; c < portfolio_.currencies(); ++c) {
      if (parts[c] == 0) continue;
      institutions_[k].submit_asset(static_cast<std::size_t>(portfolio_.asset_of(k, c)), i, t,
                                    parts[c]);
      ++count;
    }
  }
  if (parts[0] > 0 || count == 0) {
    institutions_[k].submit(i, t, parts[0]);
    ++count;
  }
  pending_parts_[i] = count;
}

// First decisions are logged (peers see them after L ticks). Agents whose reaction lag is
// 0 request now, the others wait. Requests of the tick join the queue in agent-id order.
void Simulation::submit(std::int32_t t) {
  credit_redeposits();
  std::uint32_t first = 0;
  for (const std::uint32_t i : active_.withdrawers()) {
    if (population_.decided_at[i] == kNever) {
      population_.decided_at[i] = t;
      peers_.log_decision(i);
      ++class_ticks_[population_.class_id[i]].withdrawn_agents;
      ++first;
    }
    const std::int32_t lag = population_.reaction_lag_of(i);
    if (lag == 0) {
      active_.add_request(i);
    } else {
      state_[i] = AgentState::kWaiting;
      active_.wait(t + lag, i);
    }
  }
  for (const std::uint32_t i : active_.take_requests(t)) request(i, t);

  withdrawn_agents_ += first;
  peers_.close_log(t);
  record_.new_withdrawals = first;
}

}  // namespace bankrun
