#pragma once
// THE run pipeline, used by `bankrun run`, the sweep workers and so the Slurm array tasks:
// a loaded scenario -> Simulation -> Provenance -> Hdf5Writer -> run() -> finish(). Loading
// stays with the caller (a scenario file with --set overrides, or a sweep run), because
// each reports a scenario error its own way; everything after it is here, once.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "output/hdf5_writer.hpp"
#include "sim/run.hpp"
#include "sim/scenario.hpp"

namespace bankrun {

struct RunToFile {
  const Scenario* scenario = nullptr;  // the loaded scenario
  std::string scenario_yaml;           // its resolved text (the file's scenario_yaml)
  std::string scenario_file;           // where it came from
  std::string output;                  // the HDF5 file to write
  std::string bankrun_version, git_commit;
  int threads = 1;                              // recorded in the file (the caller limits TBB)
  std::string started_utc;                      // when the caller started (before loading)
  std::chrono::steady_clock::time_point start;  // ditto, for set-up and wall seconds
  const std::atomic<bool>* stop = nullptr;      // checked between ticks
  double flush_seconds = kDefaultFlushSeconds;  // Hdf5Writer: longest wait between flushes
  // Called once the file is created, just before the first tick (`bankrun run` installs
  // its Ctrl-C handlers and starts its progress clock there: a Ctrl-C during set-up still
  // kills at once).
  std::function<void()> before_first_tick;
  std::function<void(std::int32_t ticks_done, std::int32_t ticks_total)> on_tick;
};

struct RunToFileResult {
  RunResult run;
  std::string status;          // "complete" or "interrupted" (as written in the file)
  std::string file;            // where it is: `output`, or `output.partial` if interrupted
  double setup_seconds = 0.0;  // from `start` to the engine being set up
  double wall_seconds = 0.0;   // from `start` to the file being finished
  bool interrupted() const { return run.status == RunStatus::kInterrupted; }
  int exit_code() const;  // kExitOk, or stop_exit_code() (130/143, output/stop_signal.hpp)
};

// Runs the scenario to the end (or the stop flag) and writes `output` (complete) or
// `output.partial` (interrupted). Exceptions (OutputError, engine errors) propagate; the
// writer then leaves `output.partial` marked "failed".
RunToFileResult run_to_file(const RunToFile& request);

}  // namespace bankrun
