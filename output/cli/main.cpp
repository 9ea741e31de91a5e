// bankrun: the command line. Loads a scenario (scenarios/), runs it (sim/), writes HDF5
// (output/). Exit codes (output/errors.hpp): 0 success, 1 runtime failure, 2 usage or
// scenario error, 130 interrupted by SIGINT, 143 by SIGTERM (the run stops after its tick;
// OUT.partial is consistent up to it and marked status="interrupted").
#include <fmt/format.h>
#include <tbb/global_control.h>
#include <tbb/info.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "output/calibrate/calibrate.hpp"
#include "output/checkpoint_file.hpp"
#include "output/clock.hpp"
#include "output/errors.hpp"
#include "output/hdf5_writer.hpp"
#include "output/run_to_file.hpp"
#include "output/stop_signal.hpp"
#include "output/sweep/runner.hpp"
#include "scenarios/loader.hpp"
#include "sim/branch.hpp"
#include "sim/memory.hpp"
#include "version.hpp"

namespace {

using namespace bankrun;

struct RunArgs {
  std::string scenario;
  std::string output;
  std::optional<std::uint64_t> seed;
  int threads = 0;
  std::vector<std::string> overrides;
  bool quiet = false;
  bool force = false;  // replace an existing output (and its .partial)
  double flush_seconds = kDefaultFlushSeconds;
  std::string checkpoint_every;             // "" = no rolling checkpoint
  std::vector<std::int32_t> checkpoint_at;  // kept checkpoints
  std::string from;                         // a checkpoint to branch from ("" = tick 0)
};

std::string usd(double v) {
  const double a = std::abs(v);
  if (a >= 1e9) return fmt::format("${:.2f}B", v / 1e9);
  if (a >= 1e6) return fmt::format("${:.2f}M", v / 1e6);
  if (a >= 1e3) return fmt::format("${:.1f}k", v / 1e3);
  return fmt::format("${:.2f}", v);
}

// Progress line on stderr: tick, %, ticks/s, ETA. Throttled to 5 updates a second.
class Progress {
 public:
  // first_tick: the tick the run starts at (a resumed run's checkpoint tick).
  Progress(bool enabled, std::int32_t first_tick) : enabled_(enabled), first_(first_tick) {}
  void update(std::int32_t done, std::int32_t total) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (done < total && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double rate = elapsed > 0 ? (done - first_) / elapsed : 0.0;
    const double eta = rate > 0 ? (total - done) / rate : 0.0;
    fmt::print(stderr, "\rtick {}/{}  {:5.1f}%  {:.0f} ticks/s  ETA {:.0f} s   ", done, total,
               100.0 * done / total, rate, eta);
    if (done == total) fmt::print(stderr, "\n");
  }
  void finish() {
    if (enabled_) fmt::print(stderr, "\n");
  }

 private:
  bool enabled_;
  std::int32_t first_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_{};
};

void print_summary(const Scenario& sc, const Summary& s, const std::string& status,
                   const std::string& out, int threads, double setup_s, double loop_s,
                   double wall_s) {
  const auto when = [&](std::int32_t tick) {
    // The end of tick k is (k + 1) ticks after the start.
    const double hours = (tick + 1) * sc.time.tick_hours;
    return fmt::format("{:g} h ({})", hours,
                       utc_iso(sc.time.start_unix_seconds + std::llround(hours * 3600)));
  };
  const auto tick_or = [&](std::int32_t tick, const char* never) {
    return tick < 0 ? std::string(never) : "tick " + std::to_string(tick) + ", " + when(tick);
  };
  fmt::print("bankrun {} | scenario '{}' | seed {} | {} thread{} | {} ticks of {:g} h from {}\n",
             BANKRUN_VERSION, sc.name, sc.seed, threads, threads == 1 ? "" : "s", s.ticks_run,
             sc.time.tick_hours, sc.time.start_utc);
  fmt::print("status: {}   output: {}\n", status, out);
  for (const InstitutionSummary& in : s.institutions) {
    const double issued = cents_to_usd(in.issued);
    const auto share = [&](Money m) { return in.issued > 0 ? 100.0 * m / in.issued : 0.0; };
    fmt::print("institution '{}': deposits at start {}\n", in.name, usd(issued));
    fmt::print("  total outflow          {} ({:.1f}% of deposits; requested {})\n",
               usd(cents_to_usd(in.total_outflow)), share(in.total_outflow),
               usd(cents_to_usd(in.total_requested)));
    if (in.total_inflows > 0 || in.total_transfers_in > 0)
      fmt::print("  inflows                {} re-deposited, {} from other institutions\n",
                 usd(cents_to_usd(in.total_inflows)), usd(cents_to_usd(in.total_transfers_in)));
    if (in.peak_daily_outflow_end_tick >= 0)
      fmt::print("  peak outflow per day   {} (day ending {})\n",
                 usd(cents_to_usd(in.peak_daily_outflow)), when(in.peak_daily_outflow_end_tick));
    for (std::size_t m = 0; m < InstitutionSummary::kMilestones.size(); ++m) {
      const std::int32_t t = in.tick_to_withdrawn[m];
      fmt::print("  time to {:>2.0f}% withdrawn   {}\n", 100 * InstitutionSummary::kMilestones[m],
                 t < 0 ? std::string("not reached") : when(t));
    }
    fmt::print("  halt                   {}\n", tick_or(in.halt_tick, "none"));
    if (in.insolvent_tick >= 0)
      fmt::print("  insolvent              {}\n", tick_or(in.insolvent_tick, "never"));
    if (in.write_downs > 0)
      fmt::print("  exposures written down {} ({:.1f}% of deposits)\n",
                 usd(cents_to_usd(in.write_downs)), share(in.write_downs));
  }
  fmt::print("agents withdrawn: {} of {}\n", s.withdrawn_agents, s.agents);
  fmt::print("set-up {:.3f} s, tick loop {:.3f} s ({:.0f} ticks/s), wall {:.3f} s\n", setup_s,
             loop_s, loop_s > 0 ? s.ticks_run / loop_s : 0.0, wall_s);
}

std::string default_output(const std::string& scenario_path) {
  return std::filesystem::path(scenario_path).stem().string() + ".h5";
}

// Refuses, before any set-up, an output the run could not write or would replace: a
// folder, a missing or unwritable folder, an existing file, `.partial` or rolling checkpoint
// (with --force, removes them).
void prepare_output(const std::string& out, bool force) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path dir = fs::absolute(out).parent_path();
  if (!fs::is_directory(dir, ec))
    throw UsageError(fmt::format("output directory '{}' does not exist", dir.string()));
  if (fs::is_directory(out, ec))
    throw UsageError(
        fmt::format("output '{}' is a folder; give a file name, e.g. {}/run.h5", out, out));
  // access() asks the kernel, so a read-only mount, ACLs and root's rights all count.
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw UsageError(fmt::format("cannot write in output directory '{}': {}", dir.string(),
                                 std::strerror(errno)));
  // A rolling checkpoint belongs to the `.partial` beside it: both go, or neither.
  for (const std::string& existing : {out, partial_path_of(out), checkpoint_path_of(out)}) {
    if (!fs::exists(fs::symlink_status(existing, ec))) continue;
    if (!force)
      throw UsageError(fmt::format(
          "output '{}' already exists; pass --force to replace it, or choose another -o",
          existing));
    // Removed now, so that what is left after this run is this run's alone.
    if (!fs::remove(existing, ec))
      throw UsageError(fmt::format("--force: cannot remove '{}': {}", existing, ec.message()));
  }
}

// The checkpoints a run saves: --checkpoint-every and --checkpoint-at.
CheckpointPlan checkpoint_plan(const std::string& every, const std::vector<std::int32_t>& at,
                               const Scenario& sc) {
  CheckpointPlan plan = every.empty() ? CheckpointPlan{} : parse_checkpoint_every(every);
  for (const std::int32_t t : at)
    if (t < 1 || t >= sc.time.ticks)
      throw UsageError(fmt::format(
          "--checkpoint-at {}: expected a tick in 1 .. {} (the state after that many ticks)", t,
          sc.time.ticks - 1));
  plan.at_ticks = at;
  return plan;
}

// Runs `request` (completed here with the clock, the stop flag, the progress line and
// the summary of `bankrun run`) and returns the exit status.
int execute(RunToFile request, const Scenario& sc, bool quiet, std::int32_t first_tick,
            std::chrono::steady_clock::time_point wall_start, std::int64_t started) {
  const int threads = request.threads > 0 ? request.threads : tbb::info::default_concurrency();
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
  std::optional<Progress> progress;
  request.bankrun_version = BANKRUN_VERSION;
  request.git_commit = BANKRUN_GIT_COMMIT;
  request.threads = threads;
  request.started_utc = utc_iso(started);
  request.start = wall_start;
  request.stop = &stop_flag();
  request.before_first_tick = [&] {
    stop_after_tick_on_signal();
    progress.emplace(!quiet && isatty(STDERR_FILENO), first_tick);
  };
  request.on_tick = [&](std::int32_t d, std::int32_t t) { progress->update(d, t); };
  const RunToFileResult result = run_to_file(request);
  if (result.interrupted()) progress->finish();
  if (!quiet)
    print_summary(sc, result.run.summary, result.status, result.file, threads, result.setup_seconds,
                  result.run.loop_seconds, result.wall_seconds);
  if (result.interrupted())
    fmt::print(stderr, "bankrun: interrupted; {} marked status=interrupted (exit {}){}\n",
               result.file, result.exit_code(),
               result.checkpoint.empty()
                   ? ""
                   : fmt::format("; continue it with: bankrun resume {}", result.checkpoint));
  return result.exit_code();
}

// The scenario the checkpoint at `path` was saved from, with `overrides` applied (relative
// data files are found beside the original scenario file). Errors name the checkpoint's
// scenario text, whose lines are not the original file's.
LoadedScenario checkpoint_scenario(const std::string& path, const CheckpointInfo& info,
                                   const std::vector<std::string>& overrides = {}) {
  return load_scenario_text(info.scenario_yaml, path + " (scenario_yaml)", overrides,
                            std::filesystem::path(info.scenario_file).parent_path());
}

// `bankrun run --from CHECKPOINT --set ... -o OUT`: a new run from a saved state, with the
// changes a branch may make (sim/branch.hpp).
int cmd_branch(const RunArgs& args) {
  const auto wall_start = std::chrono::steady_clock::now();
  const std::int64_t started = now_unix();
  if (!args.scenario.empty())
    throw UsageError("--from: give the checkpoint, not a scenario file (its scenario is in it)");
  if (args.output.empty()) throw UsageError("--from: give the branch's output file with -o");
  if (args.seed) throw UsageError("--from: the seed cannot change in a branch");
  const Checkpoint parent = read_checkpoint(args.from);
  const LoadedScenario parent_scenario = checkpoint_scenario(args.from, parent.info);
  const LoadedScenario loaded = checkpoint_scenario(args.from, parent.info, args.overrides);
  prepare_output(args.output, args.force);
  RunToFile request{.scenario = &loaded.scenario,
                    .scenario_yaml = loaded.resolved_yaml,
                    .scenario_file = parent.info.scenario_file,
                    .output = args.output,
                    .threads = args.threads,
                    .flush_seconds = args.flush_seconds};
  request.checkpoints = checkpoint_plan(args.checkpoint_every, args.checkpoint_at, loaded.scenario);
  request.from = {
      .checkpoint = &parent, .branch = true, .parent_scenario = &parent_scenario.scenario};
  if (!args.quiet)
    fmt::print(stderr, "bankrun: branching from {} at tick {}\n", parent.info.output,
               parent.info.tick);
  return execute(std::move(request), loaded.scenario, args.quiet, parent.info.tick, wall_start,
                 started);
}

int cmd_run(const RunArgs& args) {
  if (!args.from.empty()) return cmd_branch(args);
  if (args.scenario.empty())
    throw UsageError("run: give a scenario file (or --from CHECKPOINT to branch)");
  const auto wall_start = std::chrono::steady_clock::now();
  const std::int64_t started = now_unix();
  std::vector<std::string> overrides = args.overrides;
  if (args.seed) overrides.push_back("seed=" + std::to_string(*args.seed));
  const LoadedScenario loaded = load_scenario_file(args.scenario, overrides);
  const std::string out = args.output.empty() ? default_output(args.scenario) : args.output;
  prepare_output(out, args.force);
  RunToFile request{.scenario = &loaded.scenario,
                    .scenario_yaml = loaded.resolved_yaml,
                    .scenario_file = loaded.source,
                    .output = out,
                    .threads = args.threads,
                    .flush_seconds = args.flush_seconds};
  request.checkpoints = checkpoint_plan(args.checkpoint_every, args.checkpoint_at, loaded.scenario);
  return execute(std::move(request), loaded.scenario, args.quiet, 0, wall_start, started);
}

struct ResumeArgs {
  std::string path;  // a checkpoint, or the output (or its .partial) of a checkpointed run
  int threads = 0;
  bool quiet = false;
  double flush_seconds = kDefaultFlushSeconds;
  std::string checkpoint_every;  // "" = as the run had it
  std::vector<std::int32_t> checkpoint_at;
};

// The checkpoint `bankrun resume PATH` means: PATH itself (*.ckpt), or the rolling
// checkpoint of the output PATH names (OUT.h5 or OUT.h5.partial).
std::string checkpoint_named_by(const std::string& path) {
  namespace fs = std::filesystem;
  const std::string partial_suffix = partial_path_of("");
  const std::string output =
      path.ends_with(partial_suffix) ? path.substr(0, path.size() - partial_suffix.size()) : path;
  const std::string ckpt = path.ends_with(".ckpt") ? path : checkpoint_path_of(output);
  std::error_code ec;
  if (!fs::is_regular_file(ckpt, ec))
    throw UsageError(fmt::format(
        "no checkpoint {}: a run saves one with --checkpoint-every (or --checkpoint-at); "
        "without one, run it again from the start",
        ckpt));
  return ckpt;
}

int cmd_resume(const ResumeArgs& args) {
  const auto wall_start = std::chrono::steady_clock::now();
  const std::int64_t started = now_unix();
  const std::string path = checkpoint_named_by(args.path);
  const Checkpoint checkpoint = read_checkpoint_info(path);
  const CheckpointInfo& info = checkpoint.info;
  std::error_code ec;
  if (std::filesystem::exists(info.output, ec))
    throw UsageError(fmt::format("{} is complete: nothing to resume", info.output));
  const LoadedScenario loaded = checkpoint_scenario(path, info);
  RunToFile request{.scenario = &loaded.scenario,
                    .scenario_yaml = info.scenario_yaml,
                    .scenario_file = info.scenario_file,
                    .output = info.output,
                    .threads = args.threads,
                    .flush_seconds = args.flush_seconds};
  request.checkpoints =
      checkpoint_plan(args.checkpoint_every.empty() ? info.checkpoint_every : args.checkpoint_every,
                      args.checkpoint_at, loaded.scenario);
  request.from = {.checkpoint = &checkpoint, .path = path};
  if (!args.quiet)
    fmt::print(stderr, "bankrun: resuming {} at tick {} of {}\n", partial_path_of(info.output),
               info.tick, info.ticks_planned);
  return execute(std::move(request), loaded.scenario, args.quiet, info.tick, wall_start, started);
}

int cmd_validate(const std::string& path, const std::vector<std::string>& overrides) {
  const LoadedScenario loaded = load_scenario_file(path, overrides);
  const Scenario& s = loaded.scenario;
  fmt::print(
      "{}: valid scenario '{}' ({} agents, {} classes, {} institution{}, {} ticks of {:g} h, {} "
      "news events)\n",
      path, s.name, s.population.agents, s.population.classes.size(), s.institutions.size(),
      s.institutions.size() == 1 ? "" : "s", s.time.ticks, s.time.tick_hours, s.news.size());
  // The estimate a run checks before allocating (sim/memory.hpp), for sizing cluster jobs.
  const MemoryEstimate memory = estimate_memory(s);
  const std::optional<std::uint64_t> available = available_memory();
  fmt::print("estimated peak memory: {} ({} of agent state, {} of network){}\n",
             format_bytes(memory.peak), format_bytes(memory.agent_state),
             format_bytes(memory.network),
             available ? fmt::format("; {} available here", format_bytes(*available)) : "");
  return kExitOk;
}

// A subcommand: its CLI11 declaration and what runs when it is chosen (with the values
// its options were parsed into, owned by the closure).
struct Subcommand {
  CLI::App* command;
  std::function<int()> run;
};

void add_checkpoint_options(CLI::App& cmd, std::string& every, std::vector<std::int32_t>& at) {
  cmd.add_option("--checkpoint-every", every,
                 "Save the run's state to OUTPUT.ckpt every K ticks (e.g. 24) or wall time (90s, "
                 "10m, 2h), and when a signal stops it; `bankrun resume` continues from it");
  cmd.add_option("--checkpoint-at", at,
                 "Also keep the state after these ticks in OUTPUT.tick<T>.ckpt (to branch from)")
      ->delimiter(',');
}

Subcommand add_run_command(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand("run", "Run a scenario and write its HDF5 output");
  cmd->add_option("scenario", args->scenario, "Scenario YAML file (not with --from)");
  cmd->add_option("-o,--output", args->output,
                  "Output HDF5 file (default: <scenario name>.h5 in this folder)");
  cmd->add_option("--from", args->from,
                  "Branch: start from this checkpoint's state, with --set changes to "
                  "institutions' halt and policies and to news from its tick on (needs -o)");
  cmd->add_option("--seed", args->seed, "Random seed (overrides the scenario's seed)");
  cmd->add_option("--threads", args->threads, "Worker threads (0 = all cores)")
      ->check(CLI::Range(0, 4096));
  cmd->add_option("--set", args->overrides,
                  "Override a scenario value: key.path=value (repeatable)");
  cmd->add_flag("-q,--quiet", args->quiet, "No progress line and no summary");
  cmd->add_flag("--force", args->force,
                "Replace an existing output file (and its .partial); without it, exit 2");
  cmd->add_option("--flush-seconds", args->flush_seconds,
                  "Write buffered ticks to the file after this many seconds (wall time); the wait "
                  "doubles within each block of 1024 ticks")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  add_checkpoint_options(*cmd, args->checkpoint_every, args->checkpoint_at);
  cmd->footer(
      "Writes OUTPUT.partial and renames it to OUTPUT only when the run is complete. Exit "
      "status: 0 complete; 1 failed (OUTPUT.partial marked status=failed); 2 usage or "
      "scenario error, or OUTPUT exists without --force; 130 SIGINT, 143 SIGTERM (the run "
      "stops after its tick; OUTPUT.partial marked status=interrupted). A second signal, or "
      "SIGKILL, ends it at once: OUTPUT.partial stays, status=running, holding the ticks "
      "flushed so far.");
  return {cmd, [args] { return cmd_run(*args); }};
}

Subcommand add_resume_command(CLI::App& app) {
  auto args = std::make_shared<ResumeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "resume", "Continue a checkpointed run that was stopped or killed, from its last checkpoint");
  cmd->add_option("path", args->path,
                  "A checkpoint (OUT.h5.ckpt, OUT.h5.tick<T>.ckpt), or the run's OUT.h5.partial")
      ->required();
  cmd->add_option("--threads", args->threads, "Worker threads (0 = all cores)")
      ->check(CLI::Range(0, 4096));
  cmd->add_flag("-q,--quiet", args->quiet, "No progress line and no summary");
  cmd->add_option("--flush-seconds", args->flush_seconds, "As for `bankrun run`")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  add_checkpoint_options(*cmd, args->checkpoint_every, args->checkpoint_at);
  cmd->footer(
      "Rebuilds the run from the scenario stored in the checkpoint, cuts OUT.h5.partial back to "
      "the checkpoint's tick and runs the remaining ticks; the finished OUT.h5 has the same "
      "datasets as an uninterrupted run, for any thread count. The rolling checkpoint goes on as "
      "the run had it unless --checkpoint-every is given (--checkpoint-at ticks are not carried "
      "over). Exit statuses as for `bankrun run`; 2 also when there is no checkpoint or the run "
      "is complete.");
  return {cmd, [args] { return cmd_resume(*args); }};
}

Subcommand add_validate_command(CLI::App& app) {
  struct Args {
    std::string path;
    std::vector<std::string> overrides;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("validate", "Check a scenario without running it");
  cmd->add_option("scenario", args->path, "Scenario YAML file")->required();
  cmd->add_option("--set", args->overrides, "Override a value: key.path=value");
  return {cmd, [args] { return cmd_validate(args->path, args->overrides); }};
}

// --jobs and --threads of `bankrun sweep` and `bankrun calibrate`.
void add_parallel_options(CLI::App& cmd, int& jobs, int& threads) {
  cmd.add_option("-j,--jobs", jobs, "Runs in flight (0 = one per core)")
      ->check(CLI::Range(0, 4096));
  cmd.add_option("--threads", threads, "Threads per run")->check(CLI::Range(1, 4096));
}

// The --slurm options of `bankrun sweep` and `bankrun calibrate`.
void add_slurm_options(CLI::App& cmd, sweep::SlurmOptions& so, bool& no_submit) {
  cmd.add_option("--partition", so.partition, "--slurm: the partition");
  cmd.add_option("--time", so.time, "--slurm: time limit of each array task");
  cmd.add_option("--cpus-per-task", so.cpus_per_task,
                 "--slurm: cores of each task (runs in flight per task)")
      ->check(CLI::Range(1, 4096));
  cmd.add_option("--array-limit", so.array_limit, "--slurm: at most L tasks at once")
      ->check(CLI::Range(0, 1000000));
  cmd.add_option("--tasks", so.tasks, "--slurm: array tasks (default min(runs, 1000))")
      ->check(CLI::Range(1, 1000000));
  cmd.add_option("--sbatch-option", so.sbatch_options,
                 "--slurm: an extra #SBATCH line, e.g. --account=A (repeatable)");
  cmd.add_flag("--no-submit", no_submit, "--slurm: write the script, do not submit it");
  cmd.add_flag("--force", so.force,
               "--slurm: submit even if jobs of this sweep are still queued or running");
}

// Sweeps (scenarios/SWEEPS.md): output/sweep/runner.hpp.
Subcommand add_sweep_command(CLI::App& app) {
  struct Args {
    sweep::SweepCommand sweep;
    bool no_submit = false;
  };
  auto args = std::make_shared<Args>();
  sweep::SweepCommand& a = args->sweep;
  CLI::App* cmd = app.add_subcommand(
      "sweep", "Run every run of a sweep file (locally, or as a Slurm array job with --slurm)");
  cmd->add_option("sweep", a.sweep_file, "Sweep YAML file")->required();
  cmd->add_option("-o,--output", a.output, "Output folder (default: the sweep's)");
  add_parallel_options(*cmd, a.jobs, a.threads);
  cmd->add_option("--checkpoint-every", a.checkpoint_every,
                  "Save each run's state to runs/<i>.h5.ckpt every K ticks (e.g. 24) or wall "
                  "time (90s, 10m, 2h), and when a signal stops it; running the sweep again "
                  "continues a killed run from its checkpoint (also in Slurm array tasks)");
  cmd->add_option("--shard", a.shard,
                  "Run only shard I of N: the runs i with i % N == I (default in a Slurm "
                  "array job: SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT)");
  cmd->add_flag("--list", a.list, "Print the runs (CSV) without running them");
  cmd->add_flag("--dry-run", a.dry_run, "Validate every run's scenario; run none");
  cmd->add_flag("-q,--quiet", a.quiet, "Print only failures");
  cmd->add_flag("--worker", a.worker)->group("");  // internal: a worker process
  cmd->add_flag("--slurm", a.slurm,
                "Write <output>/sweep.sbatch (an array job of the runs not complete yet) "
                "and submit it");
  add_slurm_options(*cmd, a.slurm_options, args->no_submit);
  return {cmd, [args] {
            args->sweep.slurm_options.submit = !args->no_submit;
            args->sweep.version = BANKRUN_VERSION;
            args->sweep.commit = BANKRUN_GIT_COMMIT;
            return sweep::sweep_command(args->sweep);
          }};
}

Subcommand add_merge_command(CLI::App& app) {
  struct Args {
    std::string folder, index;
    bool quiet = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd =
      app.add_subcommand("merge", "Write a sweep's index (runs table and trajectory links)");
  cmd->add_option("folder", args->folder, "The sweep's output folder")->required();
  cmd->add_option("-o,--output", args->index, "Index file (default: FOLDER/index.h5)");
  cmd->add_flag("-q,--quiet", args->quiet, "Print only missing or failed runs");
  return {cmd, [args] { return sweep::merge_command(args->folder, args->index, args->quiet); }};
}

// Calibration (scenarios/CALIBRATION.md): output/calibrate/calibrate.hpp.
Subcommand add_calibrate_command(CLI::App& app) {
  struct Args {
    calibrate::CalibrateCommand calibrate;
    bool no_submit = false;
  };
  auto args = std::make_shared<Args>();
  calibrate::CalibrateCommand& a = args->calibrate;
  CLI::App* cmd = app.add_subcommand(
      "calibrate",
      "Fit a scenario's free parameters to observed data (runs in parallel here, or as Slurm "
      "array jobs with --slurm); resumable");
  cmd->add_option("calibration", a.file, "Calibration YAML file")->required();
  cmd->add_option("-o,--output", a.output, "Output folder (default: the calibration's)");
  add_parallel_options(*cmd, a.jobs, a.threads);
  cmd->add_flag("--dry-run", a.dry_run,
                "Check the calibration file and print the plan; run nothing");
  cmd->add_flag("-q,--quiet", a.quiet, "Print only failures");
  cmd->add_flag("--slurm", a.slurm,
                "Run each batch as a Slurm array job (through `bankrun sweep --slurm`) and wait "
                "for it");
  cmd->add_option("--poll-seconds", a.poll_seconds,
                  "--slurm: seconds between two squeue queries while a batch runs")
      ->check(CLI::Range(0.1, 3600.0));
  add_slurm_options(*cmd, a.slurm_options, args->no_submit);
  return {cmd, [args] {
            if (args->no_submit) throw UsageError("calibrate --slurm must submit its batches");
            args->calibrate.version = BANKRUN_VERSION;
            args->calibrate.commit = BANKRUN_GIT_COMMIT;
            return calibrate::calibrate_command(args->calibrate);
          }};
}

// Runs the chosen subcommand; an exception becomes its message and exit code.
int run_chosen(const std::vector<Subcommand>& subcommands) {
  try {
    for (const Subcommand& s : subcommands)
      if (*s.command) return s.run();
  } catch (const ScenarioError& e) {
    fmt::print(stderr, "bankrun: scenario error: {}\n", e.what());
    return kExitUsage;
  } catch (const UsageError& e) {
    fmt::print(stderr, "bankrun: error: {}\n", e.what());
    return kExitUsage;
  } catch (const BranchError& e) {
    fmt::print(stderr, "bankrun: cannot branch: {}\n", e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    fmt::print(stderr, "bankrun: run failed: {}\n", e.what());
    return kExitFailure;
  }
  return kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  disable_hdf5_cleanup_at_exit();
  CLI::App app{"bankrun: agent-based simulator of bank and crypto-exchange runs"};
  app.set_version_flag("--version",
                       fmt::format("bankrun {} ({})", BANKRUN_VERSION, BANKRUN_GIT_COMMIT));
  app.require_subcommand(1);
  const std::vector<Subcommand> subcommands = {
      add_run_command(app),   add_resume_command(app), add_validate_command(app),
      add_sweep_command(app), add_merge_command(app),  add_calibrate_command(app)};
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  return run_chosen(subcommands);
}
