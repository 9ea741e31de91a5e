// Phase 4 of the tick, settle: each institution pays its queues in scenario order
// (institution.*); payments reach the agents (self-custody) or their destination
// institutions; agents paid in full rejoin the active list; asset prices move.
#include <algorithm>
#include <limits>

#include "simulation.hpp"

namespace bankrun {

// Each institution settles in scenario order; the payments its customers sent on to other
// institutions arrive there once all have settled (usable from the next tick).
void Simulation::settle(std::int32_t t) {
  active_.clear_returning();
  for (std::size_t k = 0; k < institutions_.size(); ++k) {
    Institution& in = institutions_[k];
    InstitutionTick& r = institution_ticks_[k];
    const Money liquidated_before = in.liquidation_proceeds();
    r.paid = in.settle(t, [&](std::uint32_t i, Money amount, bool done, int asset) {
      pay(k, i, amount, done, asset);
    });
    r.liquidation_proceeds = in.liquidation_proceeds() - liquidated_before;
    announce_realised_losses(k, t);
  }
  final_payouts(t);
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

// The first tick in which sales of an asset with news_per_realised_loss > 0 realise a loss
// L is announced to institution k's depositors from t+1: magnitude
//   A = news_per_realised_loss * L / deposits_k(t).
void Simulation::announce_realised_losses(std::size_t k, std::int32_t t) {
  Institution& in = institutions_[k];
  const auto& specs = in.spec().assets;
  for (std::size_t a = 0; a < specs.size(); ++a) {
    const Money loss = in.assets()[a].loss;
    if (specs[a].news_per_realised_loss <= 0.0 || loss <= 0 || !in.announce_loss(a)) continue;
    const double deposits = static_cast<double>(std::max<Money>(in.deposits(), 1));
    news_.add({"realised loss on " + specs[a].name, t + 1,
               specs[a].news_per_realised_loss * static_cast<double>(loss) / deposits,
               std::numeric_limits<double>::infinity(), kForever, 1.0,
               static_cast<std::int32_t>(k)});
  }
}

// The final date: at the end of the run's last tick, each institution with final_payout
// pays out everything it holds (InstitutionSpec::final_payout). The agents' wealth by
// class and by whether they ran is taken before and after (the payoffs).
void Simulation::final_payouts(std::int32_t t) {
  if (t != scenario_.time.ticks - 1) return;
  const auto& specs = scenario_.institutions;
  if (std::none_of(specs.begin(), specs.end(),
                   [](const InstitutionSpec& s) { return s.final_payout; }))
    return;
  payoffs_.assign(2 * classes_, ClassPayoff{});
  add_wealth(true);
  for (std::size_t k = 0; k < institutions_.size(); ++k)
    if (specs[k].final_payout) pay_out_finally(k);
  add_wealth(false);
}

// Wealth of agent i: claim (at par) + funds outside + funds moved. Nothing but a final payout
// changes it, so before the final date it is the agent's initial claim.
void Simulation::add_wealth(bool before) {
  const Population& p = population_;
  for (std::uint32_t i = 0; i < p.size(); ++i) {
    ClassPayoff& row = payoffs_[2 * std::size_t{p.class_id[i]} + (p.decided_at[i] != kNever)];
    const Money wealth = p.claim[i] + p.outside[i] + p.moved_funds(i);
    if (before) {
      ++row.agents;
      row.before += wealth;
    } else {
      row.final += wealth;
    }
  }
}

// Institution k's final payout: its queues are cancelled and its assets mature (A cents in
// hot reserves); each depositor i with claim c_i > 0 (C = sum of them) receives
//   x_i = floor(c_i A / C)
// to self-custody: min(x_i, c_i) settles the claim, x_i - c_i > 0 is a surplus on top,
// c_i - x_i > 0 is written off. What the floors leave (fewer cents than depositors) stays.
void Simulation::pay_out_finally(std::size_t k) {
  Institution& in = institutions_[k];
  InstitutionTick& r = institution_ticks_[k];
  const Money matured_before = in.matured_value(), surplus_before = in.final_surplus_paid(),
              written_off_before = in.written_off();
  const Money assets = in.mature([&](std::uint32_t i) { pending_parts_[i] = 0; });
  r.matured = in.matured_value() - matured_before;
  const Money claims = in.deposits();
  if (claims <= 0) return;
  Population& p = population_;
  for (std::uint32_t i = 0; i < p.size(); ++i) {
    const Money c = p.claim[i];
    if (p.account[i] != k || c == 0) continue;
    const auto x = static_cast<Money>(static_cast<__int128>(c) * assets / claims);
    const Money settled = std::min(x, c);
    in.pay_final(settled, x - settled, c - settled);
    p.claim[i] = 0;
    p.outside[i] += x;
    self_custody_ += x;
    class_ticks_[p.class_id[i]].withdrawn_value += settled;
    institution_ticks_[k].paid += settled;
    ++paid_agents_;
    if (state_[i] == AgentState::kPending) {
      state_[i] = can_redeposit(i) ? AgentState::kHolding : AgentState::kLeft;
      if (state_[i] == AgentState::kHolding) active_.add_returning(i);
    }
  }
  r.final_surplus = in.final_surplus_paid() - surplus_before;
  r.written_off = in.written_off() - written_off_before;
}

// Each asset's price moves one tick (for t+1), driven by the institution's net outflow of t.
void Simulation::update_prices(std::int32_t t) {
  for (std::size_t k = 0; k < institutions_.size(); ++k) {
    const InstitutionTick& r = institution_ticks_[k];
    institutions_[k].update_prices(scenario_.seed, t, r.paid - r.inflows - r.transfers_in);
  }
}

}  // namespace bankrun
