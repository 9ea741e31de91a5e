// `bankrun sweep --slurm` (output/sweep/slurm.hpp).
#include "output/sweep/slurm.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "output/clock.hpp"
#include "output/errors.hpp"
#include "output/sweep/manifest.hpp"
#include "output/sweep/merge.hpp"
#include "output/sweep/process.hpp"

namespace bankrun::sweep {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kDefaultMaxTasks = 1000;  // Slurm's default MaxArraySize is 1001

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The array tasks (shards of `tasks`) that hold runs not complete yet, and those runs' number.
struct PendingTasks {
  std::vector<std::uint64_t> tasks;
  std::uint64_t runs = 0;
};

PendingTasks pending_tasks(const Sweep& sweep, std::uint64_t tasks) {
  std::vector<bool> pending_task(tasks, false);
  PendingTasks pending;
  ManifestReader manifest(manifest_path(sweep.output_dir), parameter_paths(sweep));
  ManifestRow row;
  while (manifest.next(row)) {
    if (inspect_run(run_path(sweep.output_dir, row.index), row.scenario_sha256).state ==
        RunState::kComplete)
      continue;
    pending_task[row.index % tasks] = true;
    ++pending.runs;
  }
  for (std::uint64_t t = 0; t < tasks; ++t)
    if (pending_task[t]) pending.tasks.push_back(t);
  return pending;
}

// UsageError if jobs named `name` are queued or running (squeue; no check without it).
void check_none_queued(const std::string& name) {
  const auto [rc, queued] =
      run_capture({"squeue", "--noheader", "--name=" + name, "--format=%i %T"});
  if (rc == 0 && queued.find_first_not_of(" \n") != std::string::npos)
    throw UsageError(fmt::format(
        "jobs of this sweep ({}) are still queued or running:\n{}wait for them to end (or "
        "scancel them), or pass --force",
        name, queued));
}

// Writes <out>/sweep.sbatch (executable) and <out>/slurm/ for the task logs.
fs::path write_script(const Sweep& sweep, const std::string& text) {
  fs::create_directories(sweep.output_dir / "slurm");
  const fs::path script = sweep.output_dir / "sweep.sbatch";
  write_atomically(script, text);
  fs::permissions(script, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                  fs::perm_options::add);
  return script;
}

// sbatch --parsable SCRIPT; returns the job id.
std::string sbatch(const fs::path& script) {
  const auto [rc, out] = run_capture({"sbatch", "--parsable", script.string()});
  if (rc != 0)
    throw std::runtime_error(
        rc < 0 ? "cannot run sbatch (is Slurm installed and on PATH?)"
               : fmt::format("sbatch {} failed (exit status {})", script.string(), rc));
  return out.substr(0, out.find_first_of(";\n"));
}

}  // namespace

std::string job_name(const Sweep& sweep) {
  return "bankrun-" + sweep.name + "-" + sha256_hex(sweep.output_dir.string()).substr(0, 8);
}

int submit_slurm(const Sweep& sweep, const SweepCommand& cmd) {
  const SlurmOptions& o = cmd.slurm_options;
  const std::uint64_t tasks =
      o.tasks > 0 ? std::min(o.tasks, sweep.runs()) : std::min(sweep.runs(), kDefaultMaxTasks);
  if (!manifest_current(sweep)) write_manifest(sweep, cmd.version);
  const PendingTasks pending = pending_tasks(sweep, tasks);
  if (pending.runs == 0) {
    fmt::print(
        "sweep '{}': all {} runs are complete; nothing to submit. Merge them with: "
        "bankrun merge {}\n",
        sweep.name, sweep.runs(), sweep.output_dir.string());
    return kExitOk;
  }
  std::string array = array_ranges(pending.tasks);
  if (o.array_limit > 0) array += fmt::format("%{}", o.array_limit);
  if (o.submit && !o.force) check_none_queued(job_name(sweep));
  const fs::path script = write_script(sweep, slurm_script(sweep, cmd, tasks, array, pending.runs));
  if (!o.submit) {
    fmt::print("wrote {} ({} array tasks for {} of {} runs); submit it with: sbatch {}\n",
               script.string(), pending.tasks.size(), pending.runs, sweep.runs(), script.string());
    return kExitOk;
  }
  const std::string job = sbatch(script);
  fmt::print("submitted job {}: array {} ({} tasks) for {} of {} runs; script {}\n", job, array,
             pending.tasks.size(), pending.runs, sweep.runs(), script.string());
  fmt::print("when it has ended: bankrun merge {}\n", sweep.output_dir.string());
  return kExitOk;
}

std::string array_ranges(const std::vector<std::uint64_t>& tasks) {
  std::string out;
  for (std::size_t i = 0; i < tasks.size();) {
    std::size_t j = i;
    while (j + 1 < tasks.size() && tasks[j + 1] == tasks[j] + 1) ++j;
    if (!out.empty()) out += ",";
    out += j == i ? std::to_string(tasks[i])
                  : std::to_string(tasks[i]) + "-" + std::to_string(tasks[j]);
    i = j + 1;
  }
  return out;
}

std::string slurm_script(const Sweep& sweep, const SweepCommand& cmd, std::uint64_t tasks,
                         const std::string& array, std::uint64_t pending_runs) {
  const SlurmOptions& o = cmd.slurm_options;
  const std::string out = sweep.output_dir.string();
  const std::string sweep_file = fs::absolute(cmd.sweep_file).lexically_normal().string();
  std::string s;
  s += "#!/bin/bash\n";
  s += fmt::format(
      "# Slurm array job for the bankrun sweep '{}' ({}),\n"
      "# written by `bankrun sweep --slurm` ({}) on {}.\n"
      "#\n"
      "# The sweep has {} runs, split into {} shards: array task T runs the runs i with\n"
      "# i % {} == T, {} at a time (--cpus-per-task), each on one thread, writing\n"
      "# {}/runs/<i>.h5. Runs already complete (status \"complete\" and the scenario\n"
      "# SHA-256 of manifest.csv) are skipped, so this array holds only the tasks that had\n"
      "# runs left to do when it was written ({} runs). Resubmitting after failures or\n"
      "# preemption (run the same `bankrun sweep --slurm` command again) submits only what\n"
      "# is still missing; with --checkpoint-every, a run that was killed continues from\n"
      "# its last checkpoint (runs/<i>.h5.ckpt) instead of tick 0.\n"
      "#\n"
      "# Task logs: {}/slurm/<job>_<task>.out\n"
      "# When every task has ended:  bankrun merge {}   (writes {}/index.h5)\n",
      sweep.name, sweep_file, cmd.version, utc_now(), sweep.runs(), tasks, tasks, o.cpus_per_task,
      out, pending_runs, out, out, out);
  s += "#SBATCH --job-name=" + job_name(sweep) + "\n";
  s += "#SBATCH --array=" + array + "\n";
  s += "#SBATCH --ntasks=1\n";
  s += "#SBATCH --cpus-per-task=" + std::to_string(o.cpus_per_task) + "\n";
  s += "#SBATCH --output=" + out + "/slurm/%A_%a.out\n";
  if (!o.partition.empty()) s += "#SBATCH --partition=" + o.partition + "\n";
  if (!o.time.empty()) s += "#SBATCH --time=" + o.time + "\n";
  for (const std::string& extra : o.sbatch_options) s += "#SBATCH " + extra + "\n";
  s += "set -euo pipefail\n";
  s += fmt::format(
      "exec {} sweep {} --output {} --shard \"${{SLURM_ARRAY_TASK_ID}}/{}\" \\\n"
      "  --jobs \"${{SLURM_CPUS_PER_TASK:-{}}}\" --threads {}{}\n",
      shell_quote(cmd.executable), shell_quote(sweep_file), shell_quote(out), tasks,
      o.cpus_per_task, std::max(1, cmd.threads),
      // Tasks checkpoint too, so a preempted or cancelled task's rerun resumes its run.
      cmd.checkpoint_every.empty() ? ""
                                   : " --checkpoint-every " + shell_quote(cmd.checkpoint_every));
  return s;
}

}  // namespace bankrun::sweep
