#pragma once
// Payments of a tick on their way to the customers' destination institutions (phase 4):
// they arrive once every institution has settled, so they are usable from the next tick.
// What the destination then owes is in the same claim currency as what was paid.
#include <cstdint>
#include <span>
#include <vector>

#include "agents/money.hpp"
#include "institution.hpp"
#include "portfolio.hpp"
#include "record.hpp"

namespace bankrun {

class Transfers {
 public:
  Transfers(std::size_t institutions, std::size_t currencies)
      : currencies_(currencies),
        pending_(institutions, 0),
        liabilities_(institutions * currencies, 0) {}

  // `amount` paid on to institution d, in claim currency c (0: USD).
  void send(std::size_t d, Money amount, std::size_t c) {
    pending_[d] += amount;
    if (c > 0) liabilities_[d * currencies_ + c] += amount;
  }
  // The funds arrive (transfers_in of `ticks`); the liabilities in each claim currency are
  // credited to the asset holding it.
  void deliver(std::vector<Institution>& institutions, std::span<InstitutionTick> ticks,
               const Portfolio& portfolio);

  // Checkpoints: what is on its way. deliver() empties both within the tick, so between
  // ticks they are zero; they are saved all the same, being the mechanism's whole state.
  template <class Archive>
  void visit_state(Archive& a) {
    a.item("transfers.pending", pending_);
    a.item("transfers.liabilities", liabilities_);
  }

 private:
  std::size_t currencies_;
  std::vector<Money> pending_;      // per destination
  std::vector<Money> liabilities_;  // [destination * currencies + c]
};

}  // namespace bankrun
