// Phase 5 of the tick, default: write-downs of exposures to institutions that have halted
// or are insolvent, and the cascade of halts they cause, resolved within the tick.
#include <algorithm>

#include "simulation.hpp"

namespace bankrun {

// Exposures to institutions that have halted or are insolvent are written down; the
// write-downs can make creditors insolvent or trip their halts, whose own creditors are
// then written down too: repeat until nothing changes (at most one round per exposure).
void Simulation::resolve_defaults(std::int32_t t) {
  bool changed = true;
  while (changed) {
    changed = write_down_exposures(t);
    for (Institution& in : institutions_) changed = in.evaluate_halt(t) || changed;
  }
}

// Write-down of creditor k's exposure e to a defaulted debtor: loss = LGD * face value;
// its depositors get, from t+1, a news event of magnitude
//   A = news_per_loss * loss / deposits_k(t).
bool Simulation::write_down_exposures(std::int32_t t) {
  bool any = false;
  for (std::size_t k = 0; k < institutions_.size(); ++k) {
    Institution& creditor = institutions_[k];
    const auto& exposures = creditor.spec().exposures;
    for (std::size_t e = 0; e < exposures.size(); ++e) {
      const Institution& debtor = institutions_[exposures[e].debtor];
      if (creditor.defaulted(e) || !(debtor.halted() || debtor.insolvent())) continue;
      const Money loss = creditor.write_down(e, t);
      institution_ticks_[k].write_downs += loss;
      any = true;
      const ExposureSpec& x = exposures[e];
      if (x.news_per_loss <= 0.0) continue;
      const double deposits = static_cast<double>(std::max<Money>(creditor.deposits(), 1));
      news_.add({"loss on exposure to " + debtor.name(), t + 1,
                 x.news_per_loss * static_cast<double>(loss) / deposits, x.news_decay_ticks,
                 x.news_duration_ticks, x.news_reach, static_cast<std::int32_t>(k)});
    }
  }
  return any;
}

}  // namespace bankrun
