#pragma once
// Drives a Simulation to its end (or to an interrupt), feeding a Recorder and the summary.
#include <atomic>
#include <functional>
#include <string>
#include <string_view>

#include "checkpoint.hpp"
#include "record.hpp"
#include "simulation.hpp"
#include "summary.hpp"

namespace bankrun {

class Run;

struct RunControl {
  const std::atomic<bool>* stop = nullptr;  // checked between ticks (Ctrl-C)
  std::function<void(std::int32_t ticks_done, std::int32_t ticks_total)> on_tick;
  // Called after each tick, once the recorder has it (interrupted = false), and once more
  // when the stop flag ends the run early (interrupted = true, same state): the place to
  // save a checkpoint (Run::save_state).
  std::function<void(const Run& run, bool interrupted)> after_tick;
};

enum class RunStatus { kComplete, kInterrupted };

struct RunResult {
  RunStatus status = RunStatus::kComplete;
  Summary summary;
  double loop_seconds = 0.0;  // wall time of the tick loop, recording included
};

// A run between two ticks: the simulation and the summary of the ticks run so far. Its
// state is what a checkpoint holds: a run restored from it (restore_state, into a Run of
// a Simulation built from the same scenario) continues exactly as the saved one would.
class Run {
 public:
  explicit Run(Simulation& sim);

  const Simulation& simulation() const { return sim_; }
  const SummaryBuilder& summary() const { return summary_; }
  std::int32_t ticks_done() const { return sim_.ticks_done(); }

  // The simulation's items, then the summary's (checkpoint.hpp).
  SimulationState save_state(std::string scenario_digest) const;
  // Throws CheckpointError (another scenario, format version or item list).
  void restore_state(const SimulationState& state, std::string_view scenario_digest);
  // The same items into or out of any archive (a file's backend streams them, so a
  // checkpoint needs no copy of the state in memory); the caller checks the header
  // (check_state_header) and, after loading, that no item is left over.
  template <class Archive>
  void save_into(Archive& archive) const {
    sim_.save_into(archive);
    const_cast<SummaryBuilder&>(summary_).visit_state(archive);
  }
  template <class Archive>
  void load_from(Archive& archive) {
    sim_.load_from(archive);
    summary_.visit_state(archive);
  }

  // Runs the remaining ticks.
  RunResult run(Recorder& recorder, const RunControl& control = {});

 private:
  Simulation& sim_;
  SummaryBuilder summary_;
};

// Run(sim).run(recorder, control): a run from tick 0.
RunResult run(Simulation& sim, Recorder& recorder, const RunControl& control = {});

}  // namespace bankrun
