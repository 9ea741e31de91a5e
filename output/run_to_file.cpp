#include "output/run_to_file.hpp"

#include "output/clock.hpp"
#include "output/errors.hpp"
#include "output/hdf5_writer.hpp"
#include "output/stop_signal.hpp"

namespace bankrun {

int RunToFileResult::exit_code() const {
  return interrupted() ? stop_exit_code() : kExitOk;
}

RunToFileResult run_to_file(const RunToFile& request) {
  RunToFileResult out;
  Simulation sim(*request.scenario);
  out.setup_seconds = seconds_since(request.start);
  const Provenance provenance{request.bankrun_version, request.git_commit,  request.scenario_yaml,
                              request.scenario_file,   request.started_utc, request.scenario->seed,
                              request.threads};
  Hdf5Writer writer(request.output, sim, provenance, request.flush_seconds);
  if (request.before_first_tick) request.before_first_tick();
  out.run = run(sim, writer, RunControl{request.stop, request.on_tick});
  out.status = out.interrupted() ? "interrupted" : "complete";
  out.wall_seconds = seconds_since(request.start);
  writer.finish(out.status, out.run.summary, out.wall_seconds, out.run.loop_seconds);
  out.file = writer.current_path();
  return out;
}

}  // namespace bankrun
