#pragma once
// `bankrun sweep`: writes a sweep's manifest, runs its runs (locally, in worker processes
// of this same binary, or as a Slurm array job), skipping those already complete, and
// writes the merge index. The parts: the sweep file and its expansion
// (output/sweep/sweep_file.hpp), the output folder and the manifest (manifest.hpp), the
// local runner (local_runner.hpp), Slurm (slurm.hpp) and the merge index (merge.hpp), all in
// output/sweep/. User guide: scenarios/SWEEPS.md.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "output/sweep/sweep_file.hpp"

namespace bankrun::sweep {

struct SlurmOptions {
  std::string partition, time;              // passed to #SBATCH when set
  int cpus_per_task = 1;                    // runs in flight per array task
  int array_limit = 0;                      // %L: at most L tasks at once (0: no limit)
  std::uint64_t tasks = 0;                  // array tasks (shards); 0: min(runs, 1000)
  std::vector<std::string> sbatch_options;  // extra "#SBATCH ..." lines, e.g. --account=A
  bool submit = true;                       // false: only write the script
  bool force = false;  // submit even if jobs of this sweep are still queued or running
};

struct SweepCommand {
  std::string sweep_file;
  std::string output;                // overrides the sweep's `output` ("" = the sweep's)
  int jobs = 0;                      // runs in flight (0: the cores this process may use)
  int threads = 1;                   // threads per run
  std::optional<std::string> shard;  // "I/N"; else SLURM_ARRAY_TASK_ID/COUNT, else all
  bool list = false, dry_run = false, quiet = false, worker = false;
  bool slurm = false;
  SlurmOptions slurm_options;
  // Each run's rolling checkpoint (`--checkpoint-every`, the syntax of `bankrun run`; ""
  // none): a rerun of the sweep continues a killed run from it instead of tick 0.
  std::string checkpoint_every;
  // Provenance of the run files and the path of this binary (for workers and sbatch).
  std::string version, commit, executable;
};

// Runs the `sweep` subcommand; returns the exit status (0 every run of the shard complete,
// 1 a run failed, 2 a usage or sweep error, 130 interrupted). ScenarioError propagates.
int sweep_command(const SweepCommand& command);

// `bankrun merge FOLDER [-o INDEX]`: 0 when every run is complete, 3 when the index was
// written but some runs are missing or failed (listed on stderr).
int merge_command(const std::string& folder, const std::string& index, bool quiet);

}  // namespace bankrun::sweep
