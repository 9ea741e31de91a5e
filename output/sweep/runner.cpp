// `bankrun sweep` and `bankrun merge` (see output/sweep/runner.hpp and scenarios/SWEEPS.md):
// what each option does, on top of the local runner (output/sweep/local_runner.hpp), Slurm
// (output/sweep/slurm.hpp), the manifest (output/sweep/manifest.hpp) and the merge index
// (output/sweep/merge.hpp).
#include "output/sweep/runner.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <optional>
#include <stdexcept>

#include "output/errors.hpp"
#include "output/run_to_file.hpp"
#include "output/sweep/local_runner.hpp"
#include "output/sweep/manifest.hpp"
#include "output/sweep/merge.hpp"
#include "output/sweep/slurm.hpp"

namespace bankrun::sweep {

namespace fs = std::filesystem;

namespace {

void print_report(const MergeReport& report, bool quiet) {
  if (report.problem_count == 0) {
    if (!quiet)
      fmt::print("index: {} ({} runs, all complete)\n", report.index.string(), report.runs);
    return;
  }
  fmt::print(stderr, "bankrun merge: {} of {} runs are not complete (index written to {}):\n",
             report.problem_count, report.runs, report.index.string());
  for (const auto& [index, what] : report.problems)
    fmt::print(stderr, "  run {} ({}): {}\n", index, run_relative_path(index), what);
  if (report.problem_count > report.problems.size())
    fmt::print(stderr, "  ... and {} more (see the status column of the index's runs table)\n",
               report.problem_count - report.problems.size());
  fmt::print(stderr,
             "Run the same `bankrun sweep` command again (or resubmit with --slurm) to finish "
             "them, then merge again.\n");
}

// --dry-run: loads every run's scenario of the shard, runs none.
int dry_run(const Sweep& sweep, const SweepCommand& cmd, const Shard& s, bool sharded) {
  std::uint64_t checked = 0, invalid = 0;
  for (std::uint64_t i = s.index; i < sweep.runs(); i += s.count) {
    ++checked;
    try {
      load_run(sweep, expand(sweep, i));
    } catch (const ScenarioError& e) {
      if (++invalid <= 20) fmt::print(stderr, "bankrun: scenario error: {}\n", e.what());
    }
  }
  if (invalid > 20) fmt::print(stderr, "... and {} more invalid runs\n", invalid - 20);
  if (invalid > 0) {
    fmt::print(stderr, "{}: {} of {} runs invalid\n", cmd.sweep_file, invalid, checked);
    return kExitUsage;
  }
  fmt::print(
      "{}: valid sweep '{}': mode {}, {} points x {} replicate{} = {} runs{}; all {} "
      "checked runs valid; output {}\n",
      cmd.sweep_file, sweep.name, mode_name(sweep.mode), sweep.points, sweep.replicates,
      sweep.replicates == 1 ? "" : "s", sweep.runs(),
      sharded ? fmt::format(" (shard {}/{})", s.index, s.count) : "", checked,
      sweep.output_dir.string());
  return kExitOk;
}

// Writes the manifest, runs the shard's pending runs locally and, for the whole sweep,
// merges.
int run_sweep(const Sweep& sweep, const SweepCommand& cmd, const Shard& s, bool sharded) {
  // A shard (an array task) reuses the manifest when it is this sweep's; the whole sweep
  // rewrites it.
  if (!sharded || !manifest_current(sweep)) write_manifest(sweep, cmd.version);
  if (!cmd.quiet)
    fmt::print("sweep '{}': mode {}, {} points x {} replicate{} = {} runs{} -> {}\n", sweep.name,
               mode_name(sweep.mode), sweep.points, sweep.replicates,
               sweep.replicates == 1 ? "" : "s", sweep.runs(),
               sharded ? fmt::format(", shard {}/{}", s.index, s.count) : "",
               sweep.output_dir.string());
  std::fflush(stdout);
  const int rc = run_locally(sweep, cmd, s);
  if (rc == kExitInterrupted || rc == kExitTerminated) return rc;
  if (s.count == 1) {
    const MergeReport report = merge_sweep(sweep.output_dir);
    print_report(report, cmd.quiet);
    if (report.problem_count > 0 && rc == kExitOk) return kExitFailure;
  }
  return rc;
}

}  // namespace

int sweep_command(const SweepCommand& command) {
  SweepCommand cmd = command;
  if (cmd.executable.empty()) {
    std::error_code ec;
    cmd.executable = fs::read_symlink("/proc/self/exe", ec).string();
    if (ec) throw std::runtime_error("cannot find this executable's path: " + ec.message());
  }
  // A bad --checkpoint-every is a usage error (exit 2) before any run starts.
  if (!cmd.checkpoint_every.empty()) parse_checkpoint_every(cmd.checkpoint_every);
  Sweep sweep = read_sweep_file(cmd.sweep_file, ReadOptions{!cmd.worker});
  if (!cmd.output.empty()) sweep.output_dir = fs::absolute(cmd.output).lexically_normal();
  if (cmd.worker) return run_worker(sweep, cmd);

  std::optional<Shard> shard;
  try {
    if (cmd.shard)
      shard = parse_shard(*cmd.shard);
    else
      shard = shard_from_slurm_environment();
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "bankrun: error: {}\n", e.what());
    return kExitUsage;
  }
  const Shard s = shard.value_or(Shard{});
  if (cmd.slurm) {
    if (shard) {
      fmt::print(stderr, "bankrun: error: --slurm submits the whole sweep; it takes no shard\n");
      return kExitUsage;
    }
    try {
      return submit_slurm(sweep, cmd);
    } catch (const UsageError& e) {
      fmt::print(stderr, "bankrun: error: {}\n", e.what());
      return kExitUsage;
    }
  }
  if (cmd.list) {
    list_runs(sweep, s, std::cout);
    return kExitOk;
  }
  if (cmd.dry_run) return dry_run(sweep, cmd, s, shard.has_value());
  return run_sweep(sweep, cmd, s, shard.has_value());
}

int merge_command(const std::string& folder, const std::string& index, bool quiet) {
  const MergeReport report =
      merge_sweep(fs::path(folder), index.empty() ? std::nullopt : std::optional<fs::path>(index));
  print_report(report, quiet);
  return report.problem_count == 0 ? kExitOk : kExitIncomplete;
}

}  // namespace bankrun::sweep
