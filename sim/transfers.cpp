#include "transfers.hpp"

namespace bankrun {

void Transfers::deliver(std::vector<Institution>& institutions, std::span<InstitutionTick> ticks,
                        const Portfolio& portfolio) {
  for (std::size_t k = 0; k < institutions.size(); ++k) {
    if (pending_[k] == 0) continue;
    institutions[k].receive_transfer(pending_[k]);
    ticks[k].transfers_in = pending_[k];
    pending_[k] = 0;
    for (std::size_t c = 1; c < currencies_; ++c) {
      Money& owed = liabilities_[k * currencies_ + c];
      if (owed == 0) continue;
      institutions[k].credit_asset_liability(static_cast<std::size_t>(portfolio.asset_of(k, c)),
                                             owed);
      owed = 0;
    }
  }
}

}  // namespace bankrun
