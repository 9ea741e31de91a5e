// `bankrun sweep` and `bankrun merge` (see output/sweep/runner.hpp and scenarios/SWEEPS.md).
//
// Local runs: the coordinator (this process) starts up to --jobs worker processes of the
// same binary (`bankrun sweep FILE --output DIR --worker`), hands them run indices one at
// a time over a pipe and reads back each run's status. A worker runs one run at a time,
// in-process, like `bankrun run --threads T` (same loader, engine and writer), so memory
// is bounded by the runs in flight, and a crash loses only the run it was running.
#include "output/sweep/runner.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <tbb/global_control.h>
#include <tbb/info.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <stdexcept>

#include "output/clock.hpp"
#include "output/errors.hpp"
#include "output/sweep/merge.hpp"
#include "output/run_to_file.hpp"
#include "output/stop_signal.hpp"

namespace bankrun::sweep {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kDefaultMaxTasks = 1000;  // Slurm's default MaxArraySize is 1001

// A temporary name next to `path`, unique among processes (array tasks on several nodes
// may write the same file on a shared file system).
fs::path temporary_path(const fs::path& path) {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  return path.string() + ".tmp." + host + "." + std::to_string(::getpid());
}

// Writes `text` to `path` through a temporary file in the same folder and a rename.
void write_atomically(const fs::path& path, const std::string& text) {
  const fs::path tmp = temporary_path(path);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      throw std::runtime_error("cannot write " + tmp.string() + ": " + std::strerror(errno));
    out << text;
    if (!out.flush()) throw std::runtime_error("cannot write " + tmp.string());
  }
  fs::rename(tmp, path);
}

std::uint64_t shard_runs(std::uint64_t runs, const Shard& shard) {
  return runs > shard.index ? (runs - shard.index + shard.count - 1) / shard.count : 0;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// In a forked child: replaces the process with argv (searched on PATH if search_path), or
// exits 127 (the shell's "command not found") if it cannot.
[[noreturn]] void exec_or_exit(const std::vector<std::string>& argv, bool search_path) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  if (search_path) {
    execvp(args[0], args.data());
  } else {
    execv(args[0], args.data());
  }
  _exit(127);
}

// Runs argv, returns (exit status, stdout); stderr is inherited. -1 if it cannot start.
std::pair<int, std::string> run_capture(const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return {-1, ""};
  const pid_t pid = fork();
  if (pid < 0) return {-1, ""};
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    exec_or_exit(argv, /*search_path=*/true);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) != 0) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return {rc == 127 ? -1 : rc, out};
}

// ---- One run, in this process (a worker) -----------------------------------------------------

struct RunOutcome {
  std::string status;  // complete, interrupted, failed, error
  double seconds = 0;
};

RunOutcome run_one(const Sweep& sweep, const SweepCommand& cmd, std::uint64_t index,
                   const std::string& expected_sha256) {
  const auto start = std::chrono::steady_clock::now();
  const std::string started = utc_now();
  const Run spec = expand(sweep, index);
  std::optional<LoadedScenario> loaded;
  try {
    loaded = load_run(sweep, spec);
  } catch (const ScenarioError& e) {
    fmt::print(stderr, "bankrun sweep: run {}: scenario error: {}\n", index, e.what());
    return {"error", seconds_since(start)};
  }
  if (!expected_sha256.empty() && sha256_hex(loaded->resolved_yaml) != expected_sha256) {
    fmt::print(stderr,
               "bankrun sweep: run {}: its scenario differs from the manifest's (the sweep file "
               "or its base changed since the manifest was written; run `bankrun sweep` again "
               "without --shard to rewrite it)\n",
               index);
    return {"error", seconds_since(start)};
  }
  const fs::path out = run_path(sweep.output_dir, index);
  try {
    fs::create_directories(out.parent_path());
    const RunToFileResult result = run_to_file({.scenario = &loaded->scenario,
                                                .scenario_yaml = loaded->resolved_yaml,
                                                .scenario_file = loaded->source,
                                                .output = out.string(),
                                                .bankrun_version = cmd.version,
                                                .git_commit = cmd.commit,
                                                .threads = std::max(1, cmd.threads),
                                                .started_utc = started,
                                                .start = start,
                                                .stop = &stop_flag(),
                                                .before_first_tick = nullptr,
                                                .on_tick = nullptr});
    return {result.status, seconds_since(start)};
  } catch (const std::exception& e) {
    fmt::print(stderr, "bankrun sweep: run {} failed: {}\n", index, e.what());
    return {"failed", seconds_since(start)};
  }
}

// The worker loop: reads "INDEX SHA256" lines on stdin, answers "INDEX STATUS SECONDS".
int run_worker(const Sweep& sweep, const SweepCommand& cmd) {
  stop_on_signal_interrupting_reads();
  std::signal(SIGPIPE, SIG_IGN);
  const int threads = std::max(1, cmd.threads);
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
  std::string line;
  while (!stop_requested() && std::getline(std::cin, line)) {
    const std::size_t space = line.find(' ');
    const std::string index_text = line.substr(0, space);
    const std::string hash = space == std::string::npos ? "" : line.substr(space + 1);
    std::uint64_t index = 0;
    try {
      index = std::stoull(index_text);
    } catch (const std::exception&) {
      fmt::print(stderr, "bankrun sweep worker: bad request '{}'\n", line);
      return kExitUsage;
    }
    const RunOutcome r = run_one(sweep, cmd, index, hash);
    fmt::print(stdout, "{} {} {:.3f}\n", index, r.status, r.seconds);
    std::fflush(stdout);
    if (r.status == "interrupted") break;
  }
  return stop_requested() ? kExitInterrupted : kExitOk;
}

// ---- The coordinator ------------------------------------------------------------------------

struct Worker {
  pid_t pid = -1;
  int to = -1, from = -1;  // its stdin (we write), its stdout (we read)
  std::string buffer;
  bool busy = false, alive = true;
  std::uint64_t run = 0;
};

Worker spawn_worker(const Sweep& sweep, const SweepCommand& cmd) {
  int to_child[2], from_child[2];
  if (pipe2(to_child, O_CLOEXEC) != 0 || pipe2(from_child, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("cannot create a pipe: ") + std::strerror(errno));
  const std::vector<std::string> argv = {cmd.executable,
                                         "sweep",
                                         fs::absolute(cmd.sweep_file).lexically_normal().string(),
                                         "--output",
                                         sweep.output_dir.string(),
                                         "--threads",
                                         std::to_string(std::max(1, cmd.threads)),
                                         "--worker"};
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("cannot fork: ") + std::strerror(errno));
  if (pid == 0) {
    dup2(to_child[0], STDIN_FILENO);
    dup2(from_child[1], STDOUT_FILENO);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    std::signal(SIGPIPE, SIG_DFL);
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    exec_or_exit(argv, /*search_path=*/false);
  }
  close(to_child[0]);
  close(from_child[1]);
  Worker w;
  w.pid = pid;
  w.to = to_child[1];
  w.from = from_child[0];
  return w;
}

bool send_line(int fd, const std::string& line) {
  std::size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = write(fd, line.data() + done, line.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

struct Tally {
  std::uint64_t shard_runs = 0, skipped = 0, complete = 0, interrupted = 0, failed = 0, done = 0;
};

// Why a worker ended, for the message about the run it was running.
std::string exit_reason(int wstatus) {
  return WIFSIGNALED(wstatus) ? fmt::format("killed by signal {}", WTERMSIG(wstatus))
                              : fmt::format("exited with status {}", WEXITSTATUS(wstatus));
}

void reap(pid_t pid, int& wstatus) {
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
}

// The local scheduler: hands the shard's pending runs to up to `jobs` workers, one at a
// time, reads back their "INDEX STATUS SECONDS" lines, counts and prints the outcomes, and
// forwards a stop signal to the workers.
class Coordinator {
 public:
  Coordinator(const Sweep& sweep, const SweepCommand& cmd, const Shard& shard)
      : sweep_(sweep),
        cmd_(cmd),
        shard_(shard),
        jobs_(cmd.jobs > 0 ? cmd.jobs : std::max(1, tbb::info::default_concurrency())),
        manifest_(manifest_path(sweep.output_dir), parameter_paths(sweep)) {
    tally_.shard_runs = shard_runs(sweep.runs(), shard);
  }

  int run() {
    while (true) {
      if (!stop_requested())
        hand_out_runs();
      else
        forward_stop();
      if (!poll_workers()) break;
    }
    close_workers();
    print_tally();
    if (stop_requested() || tally_.interrupted > 0) return kExitInterrupted;
    return tally_.failed > 0 ? kExitFailure : kExitOk;
  }

 private:
  static std::vector<std::string> parameter_paths(const Sweep& sweep) {
    std::vector<std::string> parameters;
    for (const Parameter& p : sweep.parameters) parameters.push_back(p.path);
    return parameters;
  }

  // The next run of the shard that is not complete yet.
  std::optional<ManifestRow> next_pending() {
    ManifestRow row;
    while (!exhausted_) {
      if (!manifest_.next(row)) {
        exhausted_ = true;
        break;
      }
      if (!shard_.contains(row.index)) continue;
      if (inspect_run(run_path(sweep_.output_dir, row.index), row.scenario_sha256).state ==
          RunState::kComplete) {
        ++tally_.skipped;
        continue;
      }
      return row;
    }
    return std::nullopt;
  }

  void assign(Worker& w, const ManifestRow& row) {
    w.busy = true;
    w.run = row.index;
    if (!send_line(w.to, fmt::format("{} {}\n", row.index, row.scenario_sha256))) {
      // A dead worker: its EOF is handled by poll_workers; the run goes back as failed.
      w.alive = false;
    }
  }

  // Idle workers get the next pending runs; new workers start while fewer than `jobs` live.
  void hand_out_runs() {
    for (Worker& w : workers_)
      if (w.alive && !w.busy)
        if (const auto row = next_pending()) assign(w, *row);
    std::size_t alive = 0;
    for (const Worker& w : workers_) alive += w.alive ? 1 : 0;
    while (alive < static_cast<std::size_t>(jobs_) && !exhausted_) {
      const auto row = next_pending();
      if (!row) break;
      workers_.push_back(spawn_worker(sweep_, cmd_));
      assign(workers_.back(), *row);
      ++alive;
    }
  }

  void forward_stop() {
    if (forwarded_) return;
    for (const Worker& w : workers_)
      if (w.alive) kill(w.pid, SIGTERM);
    forwarded_ = true;
  }

  void finish_run(std::uint64_t index, const std::string& status, double seconds) {
    ++tally_.done;
    if (status == "complete")
      ++tally_.complete;
    else if (status == "interrupted")
      ++tally_.interrupted;
    else
      ++tally_.failed;
    if (!cmd_.quiet || status != "complete")
      fmt::print("[{}/{}] run {} {} ({:.2f} s)\n", tally_.done + tally_.skipped, tally_.shard_runs,
                 index, status, seconds);
    std::fflush(stdout);
  }

  // Waits (at most 250 ms) for the workers' answers; false when no worker is left to wait for.
  bool poll_workers() {
    std::vector<pollfd> fds;
    std::vector<Worker*> polled;
    for (Worker& w : workers_)
      if (w.busy || (w.alive && stop_requested())) {
        fds.push_back({w.from, POLLIN, 0});
        polled.push_back(&w);
      }
    if (fds.empty()) return false;
    const int ready = poll(fds.data(), fds.size(), 250);
    if (ready < 0 && errno != EINTR) throw std::runtime_error("poll failed");
    for (std::size_t k = 0; ready > 0 && k < fds.size(); ++k)
      if (fds[k].revents != 0) read_from(*polled[k]);
    std::erase_if(workers_, [](const Worker& w) { return w.from < 0; });
    return true;
  }

  // The pipe protocol, coordinator side: whole "INDEX STATUS SECONDS" lines; EOF: the
  // worker is gone.
  void read_from(Worker& w) {
    char buf[4096];
    const ssize_t n = read(w.from, buf, sizeof buf);
    if (n < 0 && errno == EINTR) return;
    if (n > 0) {
      w.buffer.append(buf, static_cast<std::size_t>(n));
      std::size_t eol;
      while ((eol = w.buffer.find('\n')) != std::string::npos) {
        const std::string line = w.buffer.substr(0, eol);
        w.buffer.erase(0, eol + 1);
        char status[32] = {0};
        unsigned long long index = 0;
        double seconds = 0;
        if (std::sscanf(line.c_str(), "%llu %31s %lf", &index, status, &seconds) == 3) {
          w.busy = false;
          finish_run(index, status, seconds);
        }
      }
      return;
    }
    worker_gone(w);
  }

  void worker_gone(Worker& w) {
    close(w.from);
    close(w.to);
    int wstatus = 0;
    reap(w.pid, wstatus);
    if (w.busy) {
      fmt::print(stderr, "bankrun sweep: the worker running run {} {}\n", w.run,
                 exit_reason(wstatus));
      const bool stopped =
          stop_requested() ||
          (WIFSIGNALED(wstatus) && (WTERMSIG(wstatus) == SIGTERM || WTERMSIG(wstatus) == SIGINT));
      finish_run(w.run, stopped ? "interrupted" : "failed", 0.0);
    }
    w.busy = false;
    w.alive = false;
    w.from = w.to = -1;
  }

  void close_workers() {
    for (Worker& w : workers_) {
      close(w.to);  // EOF on its stdin: the worker exits
      close(w.from);
      int wstatus = 0;
      reap(w.pid, wstatus);
    }
  }

  void print_tally() const {
    if (!cmd_.quiet || tally_.failed + tally_.interrupted > 0)
      fmt::print(
          "sweep '{}'{}: {} runs: {} run now, {} already complete, {} failed, {} interrupted\n",
          sweep_.name,
          shard_.count > 1 ? fmt::format(" shard {}/{}", shard_.index, shard_.count) : "",
          tally_.shard_runs, tally_.complete, tally_.skipped, tally_.failed, tally_.interrupted);
  }

  const Sweep& sweep_;
  const SweepCommand& cmd_;
  const Shard& shard_;
  const int jobs_;
  Tally tally_;
  ManifestReader manifest_;
  bool exhausted_ = false, forwarded_ = false;
  std::vector<Worker> workers_;
};

int coordinate(const Sweep& sweep, const SweepCommand& cmd, const Shard& shard) {
  stop_on_signal_interrupting_reads();
  std::signal(SIGPIPE, SIG_IGN);
  return Coordinator(sweep, cmd, shard).run();
}

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

// ---- Slurm ------------------------------------------------------------------------------------

std::string job_name(const Sweep& sweep) {
  return "bankrun-" + sweep.name + "-" + sha256_hex(sweep.output_dir.string()).substr(0, 8);
}

int submit_slurm(const Sweep& sweep, const SweepCommand& cmd) {
  const SlurmOptions& o = cmd.slurm_options;
  const std::uint64_t tasks =
      o.tasks > 0 ? std::min(o.tasks, sweep.runs()) : std::min(sweep.runs(), kDefaultMaxTasks);
  if (!manifest_current(sweep)) write_manifest(sweep, cmd.version);
  std::vector<std::string> parameters;
  for (const Parameter& p : sweep.parameters) parameters.push_back(p.path);
  std::vector<bool> pending_task(tasks, false);
  std::uint64_t pending = 0;
  {
    ManifestReader manifest(manifest_path(sweep.output_dir), parameters);
    ManifestRow row;
    while (manifest.next(row)) {
      if (inspect_run(run_path(sweep.output_dir, row.index), row.scenario_sha256).state ==
          RunState::kComplete)
        continue;
      pending_task[row.index % tasks] = true;
      ++pending;
    }
  }
  if (pending == 0) {
    fmt::print(
        "sweep '{}': all {} runs are complete; nothing to submit. Merge them with: "
        "bankrun merge {}\n",
        sweep.name, sweep.runs(), sweep.output_dir.string());
    return kExitOk;
  }
  std::vector<std::uint64_t> array_tasks;
  for (std::uint64_t t = 0; t < tasks; ++t)
    if (pending_task[t]) array_tasks.push_back(t);
  std::string array = array_ranges(array_tasks);
  if (o.array_limit > 0) array += "%" + std::to_string(o.array_limit);

  const std::string name = job_name(sweep);
  if (o.submit && !o.force) {
    const auto [rc, queued] =
        run_capture({"squeue", "--noheader", "--name=" + name, "--format=%i %T"});
    if (rc == 0 && queued.find_first_not_of(" \n") != std::string::npos)
      throw UsageError(fmt::format(
          "jobs of this sweep ({}) are still queued or running:\n{}wait for them to end (or "
          "scancel them), or pass --force",
          name, queued));
  }
  fs::create_directories(sweep.output_dir / "slurm");
  const fs::path script = sweep.output_dir / "sweep.sbatch";
  write_atomically(script, slurm_script(sweep, cmd, tasks, array, pending));
  fs::permissions(script, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                  fs::perm_options::add);
  if (!o.submit) {
    fmt::print("wrote {} ({} array tasks for {} of {} runs); submit it with: sbatch {}\n",
               script.string(), array_tasks.size(), pending, sweep.runs(), script.string());
    return kExitOk;
  }
  const auto [rc, out] = run_capture({"sbatch", "--parsable", script.string()});
  if (rc != 0)
    throw std::runtime_error(
        rc < 0 ? "cannot run sbatch (is Slurm installed and on PATH?)"
               : fmt::format("sbatch {} failed (exit status {})", script.string(), rc));
  std::string job = out.substr(0, out.find_first_of(";\n"));
  fmt::print("submitted job {}: array {} ({} tasks) for {} of {} runs; script {}\n", job, array,
             array_tasks.size(), pending, sweep.runs(), script.string());
  fmt::print("when it has ended: bankrun merge {}\n", sweep.output_dir.string());
  return kExitOk;
}

}  // namespace

// ---- Manifest --------------------------------------------------------------------------------

void write_manifest(const Sweep& sweep, const std::string& version) {
  fs::create_directories(sweep.output_dir);
  std::vector<std::string> parameters;
  for (const Parameter& p : sweep.parameters) parameters.push_back(p.path);
  const fs::path path = manifest_path(sweep.output_dir);
  const fs::path tmp = temporary_path(path);
  try {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      throw std::runtime_error("cannot write " + tmp.string() + ": " + std::strerror(errno));
    out << csv_line(manifest_columns(parameters));
    std::vector<std::string> cells;
    for (std::uint64_t i = 0; i < sweep.runs(); ++i) {
      const Run run = expand(sweep, i);
      const LoadedScenario loaded = load_run(sweep, run);
      cells = {std::to_string(run.index), std::to_string(run.point), std::to_string(run.replicate),
               std::to_string(run.seed), sha256_hex(loaded.resolved_yaml)};
      cells.insert(cells.end(), run.values.begin(), run.values.end());
      out << csv_line(cells);
    }
    if (!out.flush()) throw std::runtime_error("cannot write " + tmp.string());
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
  fs::rename(tmp, path);
  write_atomically(info_path(sweep.output_dir), info_yaml(make_info(sweep, version)));
}

bool manifest_current(const Sweep& sweep) {
  std::error_code ec;
  if (!fs::exists(info_path(sweep.output_dir), ec) ||
      !fs::exists(manifest_path(sweep.output_dir), ec))
    return false;
  try {
    const SweepInfo info = read_info_file(info_path(sweep.output_dir).string());
    return info.digest == sweep.digest && info.runs == sweep.runs();
  } catch (const std::exception&) {
    return false;
  }
}

void list_runs(const Sweep& sweep, const Shard& shard, std::ostream& out) {
  std::vector<std::string> header = {"index", "point", "replicate", "seed"};
  for (const Parameter& p : sweep.parameters) header.push_back(p.path);
  out << csv_line(header);
  for (std::uint64_t i = shard.index; i < sweep.runs(); i += shard.count) {
    const Run run = expand(sweep, i);
    std::vector<std::string> cells = {std::to_string(run.index), std::to_string(run.point),
                                      std::to_string(run.replicate), std::to_string(run.seed)};
    cells.insert(cells.end(), run.values.begin(), run.values.end());
    out << csv_line(cells);
  }
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
      "# is still missing.\n"
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
      "  --jobs \"${{SLURM_CPUS_PER_TASK:-{}}}\" --threads {}\n",
      shell_quote(cmd.executable), shell_quote(sweep_file), shell_quote(out), tasks,
      o.cpus_per_task, std::max(1, cmd.threads));
  return s;
}

// ---- Commands --------------------------------------------------------------------------------

namespace {

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
  const int rc = coordinate(sweep, cmd, s);
  if (rc == kExitInterrupted) return rc;
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
