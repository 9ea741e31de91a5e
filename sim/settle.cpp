// Phase 4 of the tick, settle: each institution pays its queues in scenario order
// (institution.*); payments reach the agents (self-custody) or their destination
// institutions; agents paid in full rejoin the active list; asset prices move.
#include "simulation.hpp"

namespace bankrun {

// Each institution settles in scenario order; the payments its customers sent on to other
// institutions arrive there once all have settled (usable from the next tick).
void Simulation::settle(std::int32_t t) {
  active_.clear_returning();
  for (std::size_t k = 0; k < institutions_.size(); ++k)
    institution_ticks_[k].paid =
        institutions_[k].settle(t, [&](std::uint32_t i, Money amount, bool done, int asset) {
          pay(k, i, amount, done, asset);
        });
  transfers_.deliver(institutions_, institution_ticks_, portfolio_);
  active_.merge_returning();
  update_prices(t);
}

// A payment by institution k (from its cash queue, asset = -1, or in kind from an asset's
// queue) moves value from agent i's claim to its destination: its outside holdings
// (self-custody), or a claim at its destination institution (`moved`, owed there in the
// same currency). The agent's request is paid in full when its last part is.
// Once its claim at k is paid in full, an agent with moved funds banks at the destination:
// its account moves there (claim = moved), and later withdrawals go to self-custody. An
// agent paid in full acts again from the next tick if it still has a claim, or funds it
// may re-deposit.
void Simulation::pay(std::size_t k, std::uint32_t i, Money amount, bool done, int asset) {
  population_.claim[i] -= amount;
  const std::uint8_t d = population_.destination[i];
  if (d == kSelfCustody) {
    population_.outside[i] += amount;
    self_custody_ += amount;
  } else {
    population_.moved[i] += amount;
    transfers_.send(d, amount,
                    asset >= 0 ? portfolio_.currency_of(k, static_cast<std::size_t>(asset)) : 0);
    institution_ticks_[k].transfers_out += amount;
  }
  class_ticks_[population_.class_id[i]].withdrawn_value += amount;
  if (!done || --pending_parts_[i] > 0) return;
  if (population_.claim[i] == 0 && population_.moved_funds(i) > 0) {
    population_.account[i] = d;
    population_.claim[i] = population_.moved[i];
    population_.moved[i] = 0;
    population_.destination[i] = kSelfCustody;
  }
  if (population_.claim[i] == 0) ++paid_agents_;
  if (population_.claim[i] > 0 || can_redeposit(i)) {
    state_[i] = AgentState::kHolding;
    active_.add_returning(i);
  } else {
    state_[i] = AgentState::kLeft;
  }
}

// Each asset's price moves one tick (for t+1), driven by the institution's net outflow of t.
void Simulation::update_prices(std::int32_t t) {
  for (std::size_t k = 0; k < institutions_.size(); ++k) {
    const InstitutionTick& r = institution_ticks_[k];
    institutions_[k].update_prices(scenario_.seed, t, r.paid - r.inflows - r.transfers_in);
  }
}

}  // namespace bankrun
