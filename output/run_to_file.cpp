#include "output/run_to_file.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <optional>
#include <system_error>

#include "output/clock.hpp"
#include "output/errors.hpp"
#include "output/hdf5_writer.hpp"
#include "output/stop_signal.hpp"
#include "sim/branch.hpp"

namespace bankrun {
namespace {

// Saves the checkpoints `plan` asks for, after ticks (RunControl::after_tick).
class Checkpointer {
 public:
  Checkpointer(const RunToFile& request, Hdf5Writer& writer, CheckpointInfo info)
      : plan_(request.checkpoints),
        writer_(writer),
        output_(request.output),
        digest_(scenario_digest(request.scenario_yaml)),
        info_(std::move(info)) {}

  void operator()(const Run& run, bool interrupted) {
    const std::int32_t t = run.ticks_done();
    const bool kept =
        std::find(plan_.at_ticks.begin(), plan_.at_ticks.end(), t) != plan_.at_ticks.end() &&
        !interrupted;
    if (!kept && !rolling_due(t, interrupted)) return;
    const Hdf5Writer::Position position = writer_.flush();  // the output holds tick t - 1
    CheckpointInfo info = info_;
    info.tick = t;
    info.snapshot_rows = position.snapshot_rows;
    if (kept) save(tick_checkpoint_path_of(output_, t), info, run);
    if (rolling_due(t, interrupted)) {
      save(checkpoint_path_of(output_), info, run);
      rolling_tick_ = t;
      rolling_time_ = std::chrono::steady_clock::now();
    }
  }
  // The run is complete: the rolling checkpoint has done its job.
  void remove_rolling() const {
    std::error_code ec;
    if (plan_.rolling()) std::filesystem::remove(checkpoint_path_of(output_), ec);
  }
  const std::string& last() const { return last_; }

 private:
  // Not after the last tick (the run is then complete), nor twice for one tick.
  bool rolling_due(std::int32_t t, bool interrupted) const {
    if (!plan_.rolling() || t >= info_.ticks_planned || t == rolling_tick_) return false;
    if (interrupted) return true;
    if (plan_.every_ticks > 0 && t % plan_.every_ticks == 0) return true;
    return plan_.every_seconds > 0.0 && seconds_since(rolling_time_) >= plan_.every_seconds;
  }
  void save(const std::string& path, const CheckpointInfo& info, const Run& run) {
    write_checkpoint(path, info, run, digest_);  // streamed from the run's memory
    last_ = path;
  }

  const CheckpointPlan& plan_;
  Hdf5Writer& writer_;
  std::string output_, digest_;
  CheckpointInfo info_;
  std::int32_t rolling_tick_ = -1;
  std::chrono::steady_clock::time_point rolling_time_ = std::chrono::steady_clock::now();
  std::string last_;
};

std::string absolute(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path p = std::filesystem::absolute(path, ec);
  return ec ? path : p.lexically_normal().string();
}

// What every checkpoint of this run says besides its tick and position.
CheckpointInfo checkpoint_info(const RunToFile& r, const Provenance& p) {
  CheckpointInfo i;
  i.ticks_planned = r.scenario->time.ticks;
  i.scenario_yaml = r.scenario_yaml;
  i.scenario_file = absolute(r.scenario_file);
  i.seed = r.scenario->seed;
  i.output = absolute(r.output);
  i.started_utc = p.started_utc;
  i.bankrun_version = r.bankrun_version;
  i.git_commit = r.git_commit;
  i.checkpoint_every = r.checkpoints.every_text;
  i.parent_file = p.parent_file;
  i.parent_tick = p.parent_tick;
  return i;
}

// The file to continue: a resume's own `.partial`, or a copy of the parent's file.
void prepare_continued_file(const RunToFile& r) {
  namespace fs = std::filesystem;
  const std::string partial = partial_path_of(r.output);
  if (!r.from.branch) {
    std::error_code ec;
    if (!fs::is_regular_file(partial, ec))
      throw OutputError("cannot resume: " + partial + " is missing (the checkpoint's output)");
    return;
  }
  const std::string& parent = r.from.checkpoint->info.output;
  std::error_code ec;
  const std::string source = fs::exists(parent, ec) ? parent : partial_path_of(parent);
  if (!fs::is_regular_file(source, ec))
    throw OutputError("cannot branch: the parent's file " + parent +
                      " (or its .partial) is missing; it holds the ticks before the branch");
  fs::copy_file(source, partial, fs::copy_options::overwrite_existing, ec);
  if (ec)
    throw OutputError("cannot copy the parent's file " + source + " to " + partial + ": " +
                      ec.message());
}

// A branch's state at its first tick: the parent's, mapped onto the child's scenario.
SimulationState branched_state(const RunToFile& r, const SimulationState& child_fresh) {
  const Checkpoint& parent = *r.from.checkpoint;
  SimulationState state =
      branch_state(parent.state, *r.from.parent_scenario,
                   scenario_digest(parent.info.scenario_yaml), child_fresh, *r.scenario);
  state.scenario_digest = child_fresh.scenario_digest;
  return state;
}

}  // namespace

CheckpointPlan parse_checkpoint_every(const std::string& text) {
  CheckpointPlan plan;
  plan.every_text = text;
  double value = 0.0;
  const char* end = text.data() + text.size();
  const auto [rest, ec] = std::from_chars(text.data(), end, value);
  const std::string unit(rest, end);
  const auto bad = [&] {
    return UsageError("--checkpoint-every '" + text +
                      "': expected a number of ticks (e.g. 24) or a wall time (e.g. 90s, 10m, 2h)");
  };
  if (ec != std::errc() || !(value > 0.0)) throw bad();
  if (unit.empty()) {
    if (value != static_cast<std::int32_t>(value)) throw bad();
    plan.every_ticks = static_cast<std::int32_t>(value);
  } else if (unit == "s" || unit == "m" || unit == "h") {
    plan.every_seconds = value * (unit == "s" ? 1.0 : unit == "m" ? 60.0 : 3600.0);
  } else {
    throw bad();
  }
  return plan;
}

int RunToFileResult::exit_code() const {
  return interrupted() ? stop_exit_code() : kExitOk;
}

RunToFileResult run_to_file(const RunToFile& request) {
  RunToFileResult out;
  const Checkpoint* from = request.from.checkpoint;
  Simulation sim(*request.scenario);
  Run run(sim);
  const std::string digest = scenario_digest(request.scenario_yaml);
  if (from && request.from.branch)
    run.restore_state(branched_state(request, run.save_state(digest)), digest);
  else if (from)
    restore_checkpoint(request.from.path, run, digest);
  out.setup_seconds = seconds_since(request.start);
  Provenance provenance{request.bankrun_version,
                        request.git_commit,
                        request.scenario_yaml,
                        request.scenario_file,
                        request.started_utc,
                        request.scenario->seed,
                        request.threads,
                        "",
                        -1};
  std::optional<Hdf5Writer> writer;
  if (from) {
    if (request.from.branch) {  // a new run, whose parent is the checkpoint's
      provenance.parent_file = from->info.output;
      provenance.parent_tick = from->info.tick;
    } else {  // the same run, going on
      provenance.started_utc = from->info.started_utc;
      provenance.parent_file = from->info.parent_file;
      provenance.parent_tick = from->info.parent_tick;
    }
    prepare_continued_file(request);
    const Hdf5Writer::Continue at{{from->info.tick, from->info.snapshot_rows},
                                  request.from.branch,
                                  from->info.scenario_yaml,
                                  from->info.started_utc};
    writer.emplace(request.output, sim, provenance, at, request.flush_seconds);
  } else {
    writer.emplace(request.output, sim, provenance, request.flush_seconds);
  }
  Checkpointer checkpointer(request, *writer, checkpoint_info(request, provenance));
  if (request.before_first_tick) request.before_first_tick();
  RunControl control{request.stop, request.on_tick, nullptr};
  if (request.checkpoints.rolling() || !request.checkpoints.at_ticks.empty())
    control.after_tick = [&](const Run& r, bool interrupted) { checkpointer(r, interrupted); };
  out.run = run.run(*writer, control);
  out.status = out.interrupted() ? "interrupted" : "complete";
  out.wall_seconds = seconds_since(request.start);
  writer->finish(out.status, out.run.summary, out.wall_seconds, out.run.loop_seconds);
  if (!out.interrupted()) checkpointer.remove_rolling();
  out.file = writer->current_path();
  out.checkpoint = checkpointer.last();
  return out;
}

}  // namespace bankrun
