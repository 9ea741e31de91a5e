// The decide phase per acting agent, through the public API: Simulation::step() on the
// reference model (tests/unit/fixtures.hpp: k-out network with k = 10, news and peer terms,
// Gaussian noise) with thresholds no one reaches and the news live from tick 0, so every
// agent acts every tick and the other phases have nothing to move (no requests, an empty
// queue). A step is then the decide phase (S_i with the news reach, peer gather and Philox
// noise; the rule; staging; per-class stress and its quantiles; compaction) plus the
// per-tick constant work of the other phases. items/s = agent updates per second.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>

#include "sim/simulation.hpp"
#include "tests/unit/fixtures.hpp"

namespace bankrun {
namespace {

Scenario everyone_acts(std::uint32_t agents) {
  Scenario s = testing::reference_scenario(agents);
  s.time.ticks = 1000;
  s.population.classes[0].threshold = testing::constant(1e9);
  s.news[0].tick = 0;
  s.news[0].duration_ticks = kForever;
  return s;
}

void BM_DecidePhase(benchmark::State& state) {
  const Scenario scenario = everyone_acts(static_cast<std::uint32_t>(state.range(0)));
  auto sim = std::make_unique<Simulation>(scenario);
  std::int64_t updates = 0;
  for (auto _ : state) {
    if (sim->done()) {  // a fresh run, set up outside the timing
      state.PauseTiming();
      sim.reset();
      sim = std::make_unique<Simulation>(scenario);
      state.ResumeTiming();
    }
    const TickRecord& record = sim->step();
    updates += record.acting_agents;
  }
  if (updates != static_cast<std::int64_t>(state.iterations()) * state.range(0))
    state.SkipWithError("not every agent acted every tick");
  state.SetItemsProcessed(updates);
}
BENCHMARK(BM_DecidePhase)->Arg(10000)->Arg(1000000)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace bankrun
