// Local runs of a sweep (output/sweep/local_runner.hpp), in three parts: spawning a
// worker, the pipe protocol between coordinator and worker, and the scheduler.
#include "output/sweep/local_runner.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <tbb/global_control.h>
#include <tbb/info.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>
#include <stdexcept>

#include "output/checkpoint_file.hpp"
#include "output/clock.hpp"
#include "output/errors.hpp"
#include "output/hdf5_writer.hpp"
#include "output/run_to_file.hpp"
#include "output/stop_signal.hpp"
#include "output/sweep/manifest.hpp"
#include "output/sweep/merge.hpp"
#include "output/sweep/process.hpp"

namespace bankrun::sweep {

namespace fs = std::filesystem;

namespace {

// ---- Spawn: a worker process ----------------------------------------------------------------

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
  std::vector<std::string> argv = {cmd.executable,
                                   "sweep",
                                   fs::absolute(cmd.sweep_file).lexically_normal().string(),
                                   "--output",
                                   sweep.output_dir.string(),
                                   "--threads",
                                   std::to_string(std::max(1, cmd.threads)),
                                   "--worker"};
  if (!cmd.checkpoint_every.empty())
    argv.insert(argv.end(), {"--checkpoint-every", cmd.checkpoint_every});
  if (cmd.quiet) argv.push_back("--quiet");  // the worker's "resumed at tick" lines
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

// ---- Protocol: one line per request, one per answer -----------------------------------------
//
// coordinator -> worker: "INDEX SHA256"  (the run and its scenario's hash in the manifest)
// worker -> coordinator: "INDEX STATUS SECONDS"  (STATUS: complete, interrupted, failed, error)

struct Request {
  std::uint64_t index = 0;
  std::string scenario_sha256;
};

struct Answer {
  std::uint64_t index = 0;
  std::string status;
  double seconds = 0;
};

std::string request_line(const ManifestRow& row) {
  return fmt::format("{} {}\n", row.index, row.scenario_sha256);
}

// nullopt if the line does not start with a run index.
std::optional<Request> parse_request(const std::string& line) {
  const std::size_t space = line.find(' ');
  Request request;
  request.scenario_sha256 = space == std::string::npos ? "" : line.substr(space + 1);
  try {
    request.index = std::stoull(line.substr(0, space));
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return request;
}

std::string answer_line(const Answer& answer) {
  return fmt::format("{} {} {:.3f}\n", answer.index, answer.status, answer.seconds);
}

// nullopt for a line that is not an answer (it is ignored).
std::optional<Answer> parse_answer(const std::string& line) {
  char status[32] = {0};
  unsigned long long index = 0;
  double seconds = 0;
  if (std::sscanf(line.c_str(), "%llu %31s %lf", &index, status, &seconds) != 3)
    return std::nullopt;
  return Answer{index, status, seconds};
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

// ---- The worker side: one run, in this process ----------------------------------------------

struct RunOutcome {
  std::string status;  // complete, interrupted, failed, error
  double seconds = 0;
};

// The rolling checkpoint a killed or stopped attempt of this run left, if this attempt can
// continue from it: its `.partial` is there and it was saved from this very scenario (and
// state format). Otherwise a checkpoint left there is removed, with one line saying why, so
// that the run starts over and no later attempt resumes from it.
std::optional<Checkpoint> checkpoint_to_resume(const fs::path& out, const std::string& yaml,
                                               std::uint64_t index) {
  const std::string path = checkpoint_path_of(out.string());
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  std::string problem;
  try {
    Checkpoint checkpoint = read_checkpoint_info(path);
    check_state_header(checkpoint.state, scenario_digest(yaml));
    if (fs::is_regular_file(partial_path_of(out.string()), ec)) return checkpoint;
    problem = "its " + partial_path_of(out.string()) + " is missing";
  } catch (const CheckpointError& e) {
    problem = std::string("it is not of this run's scenario (") + e.what() + ")";
  } catch (const std::exception& e) {
    problem = std::string("it cannot be read (") + e.what() + ")";
  }
  fmt::print(stderr, "bankrun sweep: run {}: not resuming from {}: {}; starting over\n", index,
             path, problem);
  fs::remove(path, ec);
  return std::nullopt;
}

// Runs `request`, continued from `resume` when there is one. A resume that fails (say its
// `.partial` was cut short by the kill) starts the run over at once without the checkpoint,
// so that a rerun of the sweep never fails on the same checkpoint again.
RunToFileResult run_resuming(RunToFile request, const std::optional<Checkpoint>& resume,
                             std::uint64_t index) {
  if (!resume) return run_to_file(request);
  request.from = {.checkpoint = &*resume, .path = checkpoint_path_of(request.output)};
  try {
    return run_to_file(request);
  } catch (const std::exception& e) {
    if (stop_requested()) throw;  // starting over would only replace the `.partial`
    const std::string path = checkpoint_path_of(request.output);
    fmt::print(stderr, "bankrun sweep: run {}: resuming from {} failed ({}); starting over\n",
               index, path, e.what());
    std::error_code ec;
    fs::remove(path, ec);
    request.from = {};
    return run_to_file(request);
  }
}

// The checkpoints of a run: the sweep's --checkpoint-every, else (a resumed run) those the
// run had, as `bankrun resume` does.
CheckpointPlan checkpoint_plan(const SweepCommand& cmd, const std::optional<Checkpoint>& resume) {
  if (!cmd.checkpoint_every.empty()) return parse_checkpoint_every(cmd.checkpoint_every);
  if (resume && !resume->info.checkpoint_every.empty())
    return parse_checkpoint_every(resume->info.checkpoint_every);
  return {};
}

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
    const std::optional<Checkpoint> resume =
        checkpoint_to_resume(out, loaded->resolved_yaml, index);
    if (resume && !cmd.quiet)
      fmt::print(stderr, "bankrun sweep: run {} resumed at tick {} of {}\n", index,
                 resume->info.tick, resume->info.ticks_planned);
    const RunToFileResult result = run_resuming({.scenario = &loaded->scenario,
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
                                                 .on_tick = nullptr,
                                                 .checkpoints = checkpoint_plan(cmd, resume)},
                                                resume, index);
    return {result.status, seconds_since(start)};
  } catch (const std::exception& e) {
    fmt::print(stderr, "bankrun sweep: run {} failed: {}\n", index, e.what());
    return {"failed", seconds_since(start)};
  }
}

}  // namespace

int run_worker(const Sweep& sweep, const SweepCommand& cmd) {
  stop_on_signal_interrupting_reads();
  std::signal(SIGPIPE, SIG_IGN);
  const int threads = std::max(1, cmd.threads);
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
  std::string line;
  while (!stop_requested() && std::getline(std::cin, line)) {
    const std::optional<Request> request = parse_request(line);
    if (!request) {
      fmt::print(stderr, "bankrun sweep worker: bad request '{}'\n", line);
      return kExitUsage;
    }
    const RunOutcome r = run_one(sweep, cmd, request->index, request->scenario_sha256);
    fmt::print(stdout, "{}", answer_line({request->index, r.status, r.seconds}));
    std::fflush(stdout);
    if (r.status == "interrupted") break;
  }
  return stop_requested() ? stop_exit_code() : kExitOk;
}

namespace {

// ---- The scheduler --------------------------------------------------------------------------

std::uint64_t shard_runs(std::uint64_t runs, const Shard& shard) {
  return runs > shard.index ? (runs - shard.index + shard.count - 1) / shard.count : 0;
}

struct Tally {
  std::uint64_t shard_runs = 0, skipped = 0, complete = 0, interrupted = 0, failed = 0, done = 0;
};

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
    if (stop_requested()) return stop_exit_code();
    if (tally_.interrupted > 0) return kExitInterrupted;
    return tally_.failed > 0 ? kExitFailure : kExitOk;
  }

 private:
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
    if (!send_line(w.to, request_line(row))) {
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
        if (const auto answer = parse_answer(line)) {
          w.busy = false;
          finish_run(answer->index, answer->status, answer->seconds);
        }
      }
      return;
    }
    worker_gone(w);
  }

  void worker_gone(Worker& w) {
    close(w.from);
    close(w.to);
    const int wstatus = reap(w.pid);
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
      reap(w.pid);
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

}  // namespace

int run_locally(const Sweep& sweep, const SweepCommand& cmd, const Shard& shard) {
  stop_on_signal_interrupting_reads();
  std::signal(SIGPIPE, SIG_IGN);
  return Coordinator(sweep, cmd, shard).run();
}

}  // namespace bankrun::sweep
