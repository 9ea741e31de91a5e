#pragma once
// THE run pipeline, used by `bankrun run`, `bankrun resume`, the sweep workers and so the
// Slurm array tasks: a loaded scenario -> Simulation -> Provenance -> Hdf5Writer -> run()
// -> finish(), with checkpoints on the way. Loading stays with the caller (a scenario file
// with --set overrides, a checkpoint's scenario, or a sweep run), because each reports a
// scenario error its own way; everything after it is here, once.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "output/checkpoint_file.hpp"
#include "output/hdf5_writer.hpp"
#include "sim/run.hpp"
#include "sim/scenario.hpp"

namespace bankrun {

// When a run saves checkpoints (output/checkpoint_file.hpp).
struct CheckpointPlan {
  // The rolling checkpoint `<output>.ckpt`: every `every_ticks` ticks, or once
  // `every_seconds` of wall time have passed since the last one (0: not by that measure),
  // and when a stop signal ends the run early. Removed when the run completes.
  std::int32_t every_ticks = 0;
  double every_seconds = 0.0;
  std::string every_text;  // as given ("24", "10m"): a resume goes on with the same plan
  // Kept checkpoints `<output>.tick<T>.ckpt` after these ticks (e.g. to branch from).
  std::vector<std::int32_t> at_ticks;
  bool rolling() const { return every_ticks > 0 || every_seconds > 0.0; }
};

// "K" ticks, or a wall time "Ns", "Nm", "Nh" (UsageError otherwise).
CheckpointPlan parse_checkpoint_every(const std::string& text);

// A run continued from a checkpoint instead of tick 0.
struct ContinueFrom {
  // A resume reads the state from the file `path` (streamed into the run), and needs only
  // the info in `checkpoint` (read_checkpoint_info); a branch needs its state too
  // (read_checkpoint).
  const Checkpoint* checkpoint = nullptr;
  std::string path = {};
  // false: `bankrun resume`, the same run's `<output>.partial` is continued (the scenario
  // must be the checkpoint's). true: a branch (`bankrun run --from`, sim/branch.hpp), a new
  // run whose first ticks are the parent's: the parent's file (the checkpoint's output,
  // complete or `.partial`) is copied to `<output>.partial` and continued with the new
  // scenario; BranchError if the scenario changed what a branch cannot change.
  bool branch = false;
  const Scenario* parent_scenario = nullptr;  // a branch: the checkpoint's scenario, loaded
};

struct RunToFile {
  const Scenario* scenario = nullptr;  // the loaded scenario
  std::string scenario_yaml;           // its resolved text (the file's scenario_yaml)
  std::string scenario_file;           // where it came from
  std::string output;                  // the HDF5 file to write
  std::string bankrun_version = {}, git_commit = {};
  int threads = 1;                                   // recorded in the file (the caller limits TBB)
  std::string started_utc = {};                      // when the caller started (before loading)
  std::chrono::steady_clock::time_point start = {};  // ditto, for set-up and wall seconds
  const std::atomic<bool>* stop = nullptr;           // checked between ticks
  double flush_seconds = kDefaultFlushSeconds;       // Hdf5Writer: longest wait between flushes
  // Called once the file is created, just before the first tick (`bankrun run` installs
  // its Ctrl-C handlers and starts its progress clock there: a Ctrl-C during set-up still
  // kills at once).
  std::function<void()> before_first_tick = {};
  std::function<void(std::int32_t ticks_done, std::int32_t ticks_total)> on_tick = {};
  CheckpointPlan checkpoints = {};  // none by default
  ContinueFrom from = {};           // from tick 0 by default
};

struct RunToFileResult {
  RunResult run;
  std::string status;          // "complete" or "interrupted" (as written in the file)
  std::string file;            // where it is: `output`, or `output.partial` if interrupted
  std::string checkpoint;      // the last checkpoint saved ("" if none)
  double setup_seconds = 0.0;  // from `start` to the engine being set up
  double wall_seconds = 0.0;   // from `start` to the file being finished
  bool interrupted() const { return run.status == RunStatus::kInterrupted; }
  int exit_code() const;  // kExitOk, or stop_exit_code() (130/143, output/stop_signal.hpp)
};

// Runs the scenario to the end (or the stop flag) and writes `output` (complete) or
// `output.partial` (interrupted). Exceptions (OutputError, CheckpointError, engine errors)
// propagate; the writer then leaves `output.partial` marked "failed".
RunToFileResult run_to_file(const RunToFile& request);

}  // namespace bankrun
