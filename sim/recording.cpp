// Phase 6 of the tick, record: the TickRecord (per-institution, per-asset and per-class rows,
// spans into buffers sized at construction) and the per-agent snapshot at chosen ticks
// (snapshots.*).
// A new per-tick dataset field: a field in record.hpp, filled here (or where it is computed).
#include "simulation.hpp"

namespace bankrun {

// Phase 6, record: the ledger identities (ledger.cpp), then the tick's record and snapshot.
void Simulation::record(std::int32_t t) {
  for (const Institution& in : institutions_) in.check_ledger();
  check_conservation();
  record_institutions();
  record_.withdrawn_agents = withdrawn_agents_;
  record_.paid_agents = paid_agents_;
  record_.self_custody = self_custody_;
  record_.classes = class_ticks_;
  record_.class_stress_quantiles = class_stress_.quantiles();
  snapshots_.take(t, population_, state_);
}

void Simulation::record_institutions() {
  for (std::size_t k = 0; k < institutions_.size(); ++k) {
    const Institution& in = institutions_[k];
    InstitutionTick& r = institution_ticks_[k];
    r.deposits = in.deposits();
    r.queue_value = in.queue_value();
    r.queue_count = in.queue_count();
    r.oldest_wait_ticks = in.oldest_wait(tick_);
    r.hot = in.hot();
    r.cold = in.cold();
    r.in_transit = in.in_transit();
    r.illiquid = in.illiquid();
    r.claims_on_institutions = in.claims_on_institutions();
    r.equity = in.equity();
    r.equity_at_market = in.equity_at_market();
    r.unrealised_loss = in.unrealised_loss();
    r.insolvent = in.insolvent();
    r.halted = in.halted();
    r.open = in.open();
    const auto& assets = in.assets();
    const std::size_t base = asset_begin_[k];
    for (std::size_t a = 0; a < assets.size(); ++a) {
      const AssetState& st = assets[a];
      AssetTick& r = asset_ticks_[base + a];
      r.price = st.price;
      r.value = st.value();
      r.proceeds = st.proceeds;
      r.loss = st.loss;
      r.hot_units = st.units.hot;
      r.cold_units = st.units.cold;
      r.in_transit_units = st.units.in_transit;
      r.illiquid_units = st.units.illiquid;
      r.liabilities = st.liabilities();
      r.paid = st.paid;
      r.paid_units = st.paid_units;
      r.queue_value = st.queue.value();
      r.queue_count = st.queue.count();
      r.oldest_wait_ticks = st.queue.oldest_wait(tick_);
    }
    r.assets = std::span<const AssetTick>(asset_ticks_).subspan(base, assets.size());
  }
  record_.institutions = institution_ticks_;
}

}  // namespace bankrun
