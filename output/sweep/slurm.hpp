#pragma once
// `bankrun sweep --slurm`: the sbatch script of a sweep's array job (array task T runs
// shard T/N of the runs not complete yet) and its submission. User guide:
// scenarios/SWEEPS.md.
#include <cstdint>
#include <string>
#include <vector>

#include "output/sweep/runner.hpp"
#include "output/sweep/sweep_file.hpp"

namespace bankrun::sweep {

// Writes the manifest if it is not this sweep's, then <out>/sweep.sbatch for the array
// tasks that have runs left, and submits it unless --no-submit (UsageError if jobs of this
// sweep are still queued, unless --force). Returns the exit status.
int submit_slurm(const Sweep& sweep, const SweepCommand& command);

// The Slurm job name of a sweep's array jobs: "bankrun-<name>-<8 hex digits of the output
// folder's hash>" (squeue --name finds them).
std::string job_name(const Sweep& sweep);

// The sbatch script for the array tasks `array` ("0-7%2") of a sweep split into `tasks`
// shards.
std::string slurm_script(const Sweep& sweep, const SweepCommand& command, std::uint64_t tasks,
                         const std::string& array, std::uint64_t pending_runs);
// "0-3,5,7-9" from sorted task numbers.
std::string array_ranges(const std::vector<std::uint64_t>& tasks);

}  // namespace bankrun::sweep
