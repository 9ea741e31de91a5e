// HDF5 append per tick (output/hdf5_writer.hpp): Hdf5Writer::record on the TickRecord of a
// small run (the reference model at 1000 agents, one institution, one class), into a file in
// the temporary directory. Only full blocks of 1024 ticks are flushed (no wall-time flush),
// so the time per tick is the buffering plus a 1024th of a block's chunked, compressed
// write of every per-tick dataset.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>

#include "output/hdf5_writer.hpp"
#include "sim/simulation.hpp"
#include "sim/summary.hpp"
#include "tests/unit/fixtures.hpp"

namespace bankrun {
namespace {

Provenance bench_provenance(const Scenario& scenario) {
  Provenance p;
  p.bankrun_version = "microbench";
  p.git_commit = "none";
  p.scenario_yaml = "name: " + scenario.name + "\n";
  p.scenario_file = "tests/bench/bench_hdf5.cpp";
  p.started_utc = "2024-01-01T00:00:00Z";
  p.seed = scenario.seed;
  return p;
}

void BM_Hdf5AppendTick(benchmark::State& state) {
  Scenario scenario = testing::reference_scenario(1000);
  Simulation sim(scenario);
  // Its spans point into `sim` and stay valid: step() is not called again.
  TickRecord record = sim.step();
  const std::filesystem::path path = std::filesystem::temp_directory_path() /
                                     ("bankrun_microbench_" + std::to_string(::getpid()) + ".h5");
  {
    Hdf5Writer writer(path.string(), sim, bench_provenance(scenario),
                      std::numeric_limits<double>::infinity());
    std::int32_t tick = 0;
    for (auto _ : state) {
      record.tick = tick++;
      writer.record(record);
    }
    // After the loop, outside the timing: the last partial block and the closing tables.
    writer.finish("interrupted", Summary{}, 0.0, 0.0);
  }
  std::filesystem::remove(path);
  std::filesystem::remove(partial_path_of(path.string()));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Hdf5AppendTick)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace bankrun
