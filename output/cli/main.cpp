// bankrun: the command line. Loads a scenario (scenarios/), runs it (sim/), writes HDF5
// (output/). Exit codes: 0 success, 1 runtime failure, 2 usage or scenario error,
// 130 interrupted (Ctrl-C / SIGTERM; the output file is complete up to the last tick and
// marked status="interrupted").
#include <fmt/format.h>
#include <tbb/global_control.h>
#include <tbb/info.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "output/clock.hpp"
#include "output/errors.hpp"
#include "output/run_to_file.hpp"
#include "output/stop_signal.hpp"
#include "output/sweep/runner.hpp"
#include "scenarios/loader.hpp"
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
  explicit Progress(bool enabled) : enabled_(enabled) {}
  void update(std::int32_t done, std::int32_t total) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (done < total && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double rate = elapsed > 0 ? done / elapsed : 0.0;
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

void check_output_dir(const std::string& out) {
  const auto dir = std::filesystem::absolute(out).parent_path();
  if (!std::filesystem::is_directory(dir))
    throw UsageError(fmt::format("output directory '{}' does not exist", dir.string()));
}

int cmd_run(const RunArgs& args) {
  const auto wall_start = std::chrono::steady_clock::now();
  const std::int64_t started = now_unix();
  std::vector<std::string> overrides = args.overrides;
  if (args.seed) overrides.push_back("seed=" + std::to_string(*args.seed));
  const LoadedScenario loaded = load_scenario_file(args.scenario, overrides);
  const std::string out = args.output.empty() ? default_output(args.scenario) : args.output;
  check_output_dir(out);

  const int threads = args.threads > 0 ? args.threads : tbb::info::default_concurrency();
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
  std::optional<Progress> progress;
  RunToFile request{.scenario = &loaded.scenario,
                    .scenario_yaml = loaded.resolved_yaml,
                    .scenario_file = loaded.source,
                    .output = out,
                    .bankrun_version = BANKRUN_VERSION,
                    .git_commit = BANKRUN_GIT_COMMIT,
                    .threads = threads,
                    .started_utc = utc_iso(started),
                    .start = wall_start,
                    .stop = &stop_flag(),
                    .before_first_tick =
                        [&] {
                          stop_after_tick_on_signal();
                          progress.emplace(!args.quiet && isatty(STDERR_FILENO));
                        },
                    .on_tick = [&](std::int32_t d, std::int32_t t) { progress->update(d, t); }};
  const RunToFileResult result = run_to_file(request);
  if (result.interrupted()) progress->finish();
  if (!args.quiet)
    print_summary(loaded.scenario, result.run.summary, result.status, out, threads,
                  result.setup_seconds, result.run.loop_seconds, result.wall_seconds);
  if (result.interrupted())
    fmt::print(stderr, "bankrun: interrupted; output marked status=interrupted\n");
  return result.exit_code();
}

int cmd_validate(const std::string& path, const std::vector<std::string>& overrides) {
  const LoadedScenario loaded = load_scenario_file(path, overrides);
  const Scenario& s = loaded.scenario;
  fmt::print(
      "{}: valid scenario '{}' ({} agents, {} classes, {} institution{}, {} ticks of {:g} h, {} "
      "news events)\n",
      path, s.name, s.population.agents, s.population.classes.size(), s.institutions.size(),
      s.institutions.size() == 1 ? "" : "s", s.time.ticks, s.time.tick_hours, s.news.size());
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bankrun: agent-based simulator of bank and crypto-exchange runs"};
  app.set_version_flag("--version",
                       fmt::format("bankrun {} ({})", BANKRUN_VERSION, BANKRUN_GIT_COMMIT));
  app.require_subcommand(1);

  RunArgs run_args;
  CLI::App* run_cmd = app.add_subcommand("run", "Run a scenario and write its HDF5 output");
  run_cmd->add_option("scenario", run_args.scenario, "Scenario YAML file")->required();
  run_cmd->add_option("-o,--output", run_args.output,
                      "Output HDF5 file (default: <scenario name>.h5 in this folder)");
  run_cmd->add_option("--seed", run_args.seed, "Random seed (overrides the scenario's seed)");
  run_cmd->add_option("--threads", run_args.threads, "Worker threads (0 = all cores)")
      ->check(CLI::Range(0, 4096));
  run_cmd->add_option("--set", run_args.overrides,
                      "Override a scenario value: key.path=value (repeatable)");
  run_cmd->add_flag("-q,--quiet", run_args.quiet, "No progress line and no summary");

  std::string validate_path;
  std::vector<std::string> validate_overrides;
  CLI::App* validate_cmd = app.add_subcommand("validate", "Check a scenario without running it");
  validate_cmd->add_option("scenario", validate_path, "Scenario YAML file")->required();
  validate_cmd->add_option("--set", validate_overrides, "Override a value: key.path=value");

  // Sweeps (scenarios/SWEEPS.md): output/sweep/runner.hpp.
  sweep::SweepCommand sweep_args;
  CLI::App* sweep_cmd = app.add_subcommand(
      "sweep", "Run every run of a sweep file (locally, or as a Slurm array job with --slurm)");
  sweep_cmd->add_option("sweep", sweep_args.sweep_file, "Sweep YAML file")->required();
  sweep_cmd->add_option("-o,--output", sweep_args.output, "Output folder (default: the sweep's)");
  sweep_cmd->add_option("-j,--jobs", sweep_args.jobs, "Runs in flight (0 = one per core)")
      ->check(CLI::Range(0, 4096));
  sweep_cmd->add_option("--threads", sweep_args.threads, "Threads per run")
      ->check(CLI::Range(1, 4096));
  sweep_cmd->add_option("--shard", sweep_args.shard,
                        "Run only shard I of N: the runs i with i % N == I (default in a Slurm "
                        "array job: SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT)");
  sweep_cmd->add_flag("--list", sweep_args.list, "Print the runs (CSV) without running them");
  sweep_cmd->add_flag("--dry-run", sweep_args.dry_run, "Validate every run's scenario; run none");
  sweep_cmd->add_flag("-q,--quiet", sweep_args.quiet, "Print only failures");
  sweep_cmd->add_flag("--worker", sweep_args.worker)->group("");  // internal: a worker process
  sweep_cmd->add_flag("--slurm", sweep_args.slurm,
                      "Write <output>/sweep.sbatch (an array job of the runs not complete yet) "
                      "and submit it");
  auto& so = sweep_args.slurm_options;
  sweep_cmd->add_option("--partition", so.partition, "--slurm: the partition");
  sweep_cmd->add_option("--time", so.time, "--slurm: time limit of each array task");
  sweep_cmd
      ->add_option("--cpus-per-task", so.cpus_per_task,
                   "--slurm: cores of each task (runs in flight per task)")
      ->check(CLI::Range(1, 4096));
  sweep_cmd->add_option("--array-limit", so.array_limit, "--slurm: at most L tasks at once")
      ->check(CLI::Range(0, 1000000));
  sweep_cmd->add_option("--tasks", so.tasks, "--slurm: array tasks (default min(runs, 1000))")
      ->check(CLI::Range(1, 1000000));
  sweep_cmd->add_option("--sbatch-option", so.sbatch_options,
                        "--slurm: an extra #SBATCH line, e.g. --account=A (repeatable)");
  bool no_submit = false;
  sweep_cmd->add_flag("--no-submit", no_submit, "--slurm: write the script, do not submit it");
  sweep_cmd->add_flag("--force", so.force,
                      "--slurm: submit even if jobs of this sweep are still queued or running");

  std::string merge_folder, merge_index;
  bool merge_quiet = false;
  CLI::App* merge_cmd =
      app.add_subcommand("merge", "Write a sweep's index (runs table and trajectory links)");
  merge_cmd->add_option("folder", merge_folder, "The sweep's output folder")->required();
  merge_cmd->add_option("-o,--output", merge_index, "Index file (default: FOLDER/index.h5)");
  merge_cmd->add_flag("-q,--quiet", merge_quiet, "Print only missing or failed runs");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  try {
    if (*run_cmd) return cmd_run(run_args);
    if (*validate_cmd) return cmd_validate(validate_path, validate_overrides);
    if (*sweep_cmd) {
      so.submit = !no_submit;
      sweep_args.version = BANKRUN_VERSION;
      sweep_args.commit = BANKRUN_GIT_COMMIT;
      return sweep::sweep_command(sweep_args);
    }
    if (*merge_cmd) return sweep::merge_command(merge_folder, merge_index, merge_quiet);
  } catch (const ScenarioError& e) {
    fmt::print(stderr, "bankrun: scenario error: {}\n", e.what());
    return kExitUsage;
  } catch (const UsageError& e) {
    fmt::print(stderr, "bankrun: error: {}\n", e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    fmt::print(stderr, "bankrun: run failed: {}\n", e.what());
    return kExitFailure;
  }
  return kExitUsage;
}
