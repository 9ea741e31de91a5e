// The ledger: every accounting identity of the engine, in one file. All amounts are cents
// (exact integers), so every identity holds exactly; a broken one throws LedgerError.
//
// Per institution k, every tick (Institution::check_ledger):
//   (L1) hot + cold + in_transit = liquid_initial + inflows + transfers_in + injections
//                                  + capital raised + sale_proceeds + liquidation_proceeds +
//                                  matured_value
//                                  - cash_paid - final_paid - final_surplus
//   (L2) hot, cold, in_transit >= 0; every asset's hot, cold, in_transit, illiquid units >= 0
//   (L3) claims_on_institutions = sum of exposure face values - write-downs
//   (L4) per asset a: units_a = initial_units_a - sold_units_a - paid_units_a
//   (L5) per queue q (cash and each asset): value_q = requested_q - paid_q
//   (L6) sum over assets of paid_a = paid_in_kind
//   (L7) 0 <= queue_value <= deposits;  (queue count = 0) <=> (queue value = 0)
//   (L8) illiquid = illiquid_initial - book liquidated early - book matured (final date)
//   deposits is defined as issued + inflows + transfers_in - paid - written_off
//   (Institution::deposits), so it is checked against the agents' claims by the audit.
//   (paid includes the claims settled by a final payout; the final surplus is paid on top
//   of claims, and written_off is what a final payout left of claims it could not cover.)
//
// Across institutions, every tick (Simulation::check_conservation):
//   (C1) sum_k deposits_k + self_custody = claims issued - sum_k written_off_k
//                                          + sum_k final_surplus_k     (money is conserved)
//
// Agent by agent, O(N), on demand (Simulation::audit, from tests and debug runs):
//   (A1) per k: sum of claims of agents banking at k + sum of moved funds destined to k
//               = deposits_k
//   (A2) per k: sum of the unpaid amounts walked in every queue = queue_value_k
//   (A3) sum_i outside_i = self_custody;  sum_k deposits_k + sum_i outside_i = the right
//        side of (C1)
//   (A4) agents with a decision tick = withdrawn_agents
#include <string>
#include <vector>

#include "institution.hpp"
#include "simulation.hpp"

namespace bankrun {

void Institution::check_ledger() const {
  auto fail = [&](const std::string& what) {
    throw LedgerError("ledger identity broken at institution '" + spec_.name + "': " + what);
  };
  // Claims paid + claims outstanding = claims issued + inflows + transfers (deposits() is
  // defined that way, so the independent checks are on reserves and on the queues;
  // Simulation::audit checks deposits against the agents' claims). Liquid cash changes
  // only by cash payments, inflows, transfers, injections and sales; moving cold to hot
  // changes only their split. Asset units change only by sales and payments in kind.
  if (cash_.hot + cash_.cold + cash_.in_transit !=
      liquid_initial_ + inflow_total_ + transfer_in_total_ + injection_total_ + capital_raised_ +
          proceeds_total_ + liquidation_proceeds_ + matured_value_ - cash_queue_.paid() -
          final_paid_ - surplus_paid_)
    fail(
        "hot + cold + in transit != initial + inflows + transfers + injections + sales + "
        "liquidations + maturity - paid");
  if (cash_.illiquid != illiquid_initial_ - liquidated_book_ - matured_book_)
    fail("illiquid != initial - liquidated - matured");
  if (cash_.hot < 0 || cash_.cold < 0 || cash_.in_transit < 0) fail("a reserve tier is negative");
  Money face = 0;
  for (const ExposureSpec& e : spec_.exposures) face += e.amount;
  if (claims_book_ != face - write_down_total_)
    fail("claims on institutions != face - write-downs");
  Money in_kind = 0;
  for (const AssetState& a : assets_) {
    const Tiers& u = a.units;
    if (u.hot < 0 || u.cold < 0 || u.in_transit < 0 || u.illiquid < 0)
      fail("an asset holding is negative");
    if (u.total() != a.initial_units - a.sold_units_total - a.paid_units_total)
      fail("asset units != initial - sold - paid in kind");
    if (a.queue.value() != a.queue.requested() - a.queue.paid() - a.queue.cancelled() ||
        a.queue.value() < 0)
      fail("an asset queue's value != requested - paid - cancelled");
    in_kind += a.queue.paid();
  }
  if (in_kind != paid_in_kind_total_) fail("payments in kind miscounted");
  const WithdrawalQueue& q = cash_queue_;
  if (q.value() != q.requested() - q.paid() - q.cancelled())
    fail("queue value != requested - paid - cancelled");
  if (queue_value() < 0 || queue_value() > deposits()) fail("queue value outside [0, deposits]");
  if ((q.count() == 0) != (q.value() == 0)) fail("queue count and value disagree");
}

// What the agents hold in all, by (C1): the claims issued, less the claims final payouts
// wrote off, plus the surplus they paid on top of claims.
Money Simulation::money_held() const {
  Money held = population_.issued;
  for (const Institution& in : institutions_) held += in.final_surplus_paid() - in.written_off();
  return held;
}

void Simulation::check_conservation() const {
  Money deposits = 0;
  for (const Institution& in : institutions_) deposits += in.deposits();
  if (deposits + self_custody_ != money_held())
    throw LedgerError(
        "money not conserved: deposits + self-custody != claims issued - written off + final "
        "surplus");
}

// Every agent's claim is at its account institution and its moved funds at its destination;
// together with the funds in self-custody they are all the money issued.
void Simulation::audit() const {
  std::vector<Money> held(institutions_.size(), 0);
  Money outside = 0;
  for (std::uint32_t i = 0; i < population_.size(); ++i) {
    held[population_.account[i]] += population_.claim[i];
    if (const Money moved = population_.moved_funds(i); moved != 0)
      held[population_.destination[i]] += moved;
    outside += population_.outside[i];
  }
  Money deposits = 0;
  for (std::size_t k = 0; k < institutions_.size(); ++k) {
    const Institution& in = institutions_[k];
    if (held[k] != in.deposits())
      throw LedgerError("audit: agents' claims at '" + in.name() + "' != its deposits");
    if (in.queue_sum() != in.queue_value())
      throw LedgerError("audit: sum of queued requests at '" + in.name() + "' != queue value");
    deposits += in.deposits();
  }
  if (outside != self_custody_) throw LedgerError("audit: funds in self-custody miscounted");
  if (deposits + outside != money_held())
    throw LedgerError(
        "audit: deposits + funds outside != claims issued - written off + final surplus (money "
        "not conserved)");
  std::int64_t decided = 0;
  for (const std::int32_t d : population_.decided_at) decided += d != kNever;
  if (decided != withdrawn_agents_) throw LedgerError("audit: decided agents miscounted");
}

}  // namespace bankrun
