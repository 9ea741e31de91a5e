#include "run.hpp"

#include <chrono>

namespace bankrun {
namespace {

SummaryBuilder summary_builder_for(const Simulation& sim) {
  std::vector<Money> issued;
  for (const Institution& in : sim.institutions()) issued.push_back(in.issued());
  return SummaryBuilder(sim.scenario(), std::move(issued));
}

}  // namespace

Run::Run(Simulation& sim) : sim_(sim), summary_(summary_builder_for(sim)) {}

SimulationState Run::save_state(std::string scenario_digest) const {
  return save_state_of(*this, std::move(scenario_digest));
}

void Run::restore_state(const SimulationState& state, std::string_view scenario_digest) {
  restore_state_of(*this, state, scenario_digest);
}

RunResult Run::run(Recorder& recorder, const RunControl& control) {
  RunResult result;
  const auto start = std::chrono::steady_clock::now();
  while (!sim_.done()) {
    if (control.stop && control.stop->load(std::memory_order_relaxed)) {
      result.status = RunStatus::kInterrupted;
      if (control.after_tick) control.after_tick(*this, true);
      break;
    }
    const TickRecord& r = sim_.step();
    recorder.record(r);
    if (!sim_.snapshot().empty()) recorder.snapshot(r.tick, sim_.snapshot());
    summary_.add(r);
    if (control.on_tick) control.on_tick(r.tick + 1, sim_.scenario().time.ticks);
    if (control.after_tick) control.after_tick(*this, false);
  }
  result.loop_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  sim_.audit();
  result.summary = summary_.summary();
  result.summary.payoffs = sim_.payoffs();
  for (std::size_t k = 0; k < sim_.institutions().size(); ++k) {
    const Institution& in = sim_.institutions()[k];
    InstitutionSummary& s = result.summary.institutions[k];
    s.liquidated_book = in.liquidated_book();
    s.liquidation_proceeds = in.liquidation_proceeds();
    s.final_surplus = in.final_surplus_paid();
    s.written_off = in.written_off();
  }
  return result;
}

RunResult run(Simulation& sim, Recorder& recorder, const RunControl& control) {
  return Run(sim).run(recorder, control);
}

}  // namespace bankrun
