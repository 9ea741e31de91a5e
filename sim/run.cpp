#include "run.hpp"

#include <chrono>

namespace bankrun {

RunResult run(Simulation& sim, Recorder& recorder, const RunControl& control) {
  RunResult result;
  std::vector<Money> issued;
  for (const Institution& in : sim.institutions()) issued.push_back(in.issued());
  SummaryBuilder summary(sim.scenario(), std::move(issued));
  const auto start = std::chrono::steady_clock::now();
  while (!sim.done()) {
    if (control.stop && control.stop->load(std::memory_order_relaxed)) {
      result.status = RunStatus::kInterrupted;
      break;
    }
    const TickRecord& r = sim.step();
    recorder.record(r);
    if (!sim.snapshot().empty()) recorder.snapshot(r.tick, sim.snapshot());
    summary.add(r);
    if (control.on_tick) control.on_tick(r.tick + 1, sim.scenario().time.ticks);
  }
  result.loop_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  sim.audit();
  result.summary = summary.summary();
  return result;
}

}  // namespace bankrun
