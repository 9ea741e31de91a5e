#pragma once
// `bankrun sweep`: writes a sweep's manifest, runs its runs (locally, in worker processes
// of this same binary, or as a Slurm array job), skipping those already complete, and
// writes the merge index. The sweep file and its expansion are in output/sweep/sweep_file.hpp;
// the output folder's files in output/sweep/merge.hpp. User guide: scenarios/SWEEPS.md.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
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
  // Provenance of the run files and the path of this binary (for workers and sbatch).
  std::string version, commit, executable;
};

// Runs the `sweep` subcommand; returns the exit status (0 every run of the shard complete,
// 1 a run failed, 2 a usage or sweep error, 130 interrupted). ScenarioError propagates.
int sweep_command(const SweepCommand& command);

// `bankrun merge FOLDER [-o INDEX]`: 0 when every run is complete, 3 when the index was
// written but some runs are missing or failed (listed on stderr).
int merge_command(const std::string& folder, const std::string& index, bool quiet);

// ---- Parts (used by sweep_command; exposed for tests) -------------------------------------

// Writes <out>/manifest.csv (one row per run: index, point, replicate, seed, the SHA-256 of
// the run's resolved scenario, the parameter values; every run's scenario is loaded, so an
// invalid one is a ScenarioError), then <out>/sweep.info.yaml. Both via a temporary file and
// a rename. Memory: one run at a time.
void write_manifest(const Sweep& sweep, const std::string& version);
// Whether <out>/sweep.info.yaml was written for this very sweep (same digest and runs).
bool manifest_current(const Sweep& sweep);
// The runs of `shard`, as CSV (index, point, replicate, seed, parameters), without loading
// their scenarios.
void list_runs(const Sweep& sweep, const Shard& shard, std::ostream& out);
// The sbatch script for the array tasks `array` ("0-7%2") of a sweep split into `tasks`
// shards.
std::string slurm_script(const Sweep& sweep, const SweepCommand& command, std::uint64_t tasks,
                         const std::string& array, std::uint64_t pending_runs);
// "0-3,5,7-9" from sorted task numbers.
std::string array_ranges(const std::vector<std::uint64_t>& tasks);

}  // namespace bankrun::sweep
