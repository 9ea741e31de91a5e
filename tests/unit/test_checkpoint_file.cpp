// Checkpoint files (output/checkpoint_file.hpp) and runs restored from them (sim/run.hpp):
// a file holds every item and every field of the info as saved, in memory or streamed
// from and into a Run; a damaged, foreign or
// missing file is refused with the path and the reason; a Run restored from a file ends
// with the same summary as the uninterrupted run; --checkpoint-every is parsed strictly.
#include <doctest/doctest.h>
#include <hdf5.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "fixtures.hpp"
#include "output/checkpoint_file.hpp"
#include "output/errors.hpp"
#include "output/run_to_file.hpp"
#include "sim/run.hpp"

using namespace bankrun;

namespace {

namespace fs = std::filesystem;

// A fresh folder for one test case.
fs::path scratch(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("bankrun_test_checkpoint_file_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Records nothing: the summary is built by the Run itself.
struct NoRecorder final : Recorder {
  void record(const TickRecord&) override {}
  void snapshot(std::int32_t, std::span<const SnapshotRow>) override {}
};

Checkpoint checkpoint_after(const Scenario& scenario, std::int32_t ticks, const std::string& yaml) {
  Simulation sim(scenario);
  Run run(sim);
  NoRecorder none;
  std::atomic<bool> stop{false};
  RunControl control;
  control.stop = &stop;
  control.on_tick = [&](std::int32_t done, std::int32_t) { stop = done >= ticks; };
  run.run(none, control);
  Checkpoint c;
  c.info.tick = run.ticks_done();
  c.info.ticks_planned = scenario.time.ticks;
  c.info.scenario_yaml = yaml;
  c.info.scenario_file = "/somewhere/reference.yaml";
  c.info.seed = scenario.seed;
  c.info.output = "/somewhere/out.h5";
  c.info.snapshot_rows = 7;
  c.info.started_utc = "2026-12-03T10:00:00Z";
  c.info.bankrun_version = "0.1.0";
  c.info.git_commit = "abc";
  c.info.checkpoint_every = "10m";
  c.info.parent_file = "/somewhere/parent.h5";
  c.info.parent_tick = 3;
  c.state = run.save_state(scenario_digest(yaml));
  return c;
}

}  // namespace

TEST_CASE("a checkpoint file holds every item and every field as saved") {
  const Scenario scenario = testing::reference_scenario(2000, 5);
  const Checkpoint saved = checkpoint_after(scenario, 12, "name: x\n");
  const fs::path path = scratch("round_trip") / "out.h5.ckpt";
  write_checkpoint(path.string(), saved);
  CHECK_FALSE(fs::exists(path.string() + ".new"));  // renamed into place
  const Checkpoint read = read_checkpoint(path.string());

  CHECK(read.info.tick == 12);
  CHECK(read.info.ticks_planned == saved.info.ticks_planned);
  CHECK(read.info.scenario_yaml == saved.info.scenario_yaml);
  CHECK(read.info.scenario_file == saved.info.scenario_file);
  CHECK(read.info.seed == saved.info.seed);
  CHECK(read.info.output == saved.info.output);
  CHECK(read.info.snapshot_rows == 7);
  CHECK(read.info.started_utc == saved.info.started_utc);
  CHECK(read.info.git_commit == "abc");
  CHECK(read.info.checkpoint_every == "10m");
  CHECK(read.info.parent_file == saved.info.parent_file);
  CHECK(read.info.parent_tick == 3);
  CHECK(read.state.format_version == saved.state.format_version);
  CHECK(read.state.scenario_digest == saved.state.scenario_digest);
  REQUIRE(read.state.items.size() == saved.state.items.size());
  for (std::size_t j = 0; j < saved.state.items.size(); ++j) {
    INFO("item " << saved.state.items[j].name);
    CHECK(read.state.items[j].name == saved.state.items[j].name);  // in visit order
    CHECK(read.state.items[j].element_size == saved.state.items[j].element_size);
    CHECK(read.state.items[j].count == saved.state.items[j].count);
    CHECK(read.state.items[j].bytes == saved.state.items[j].bytes);
  }
}

TEST_CASE("a run restored from a checkpoint file ends as the uninterrupted run") {
  const Scenario scenario = testing::reference_scenario(3000, 11);
  const std::string yaml = "name: reference\n";
  NoRecorder none;
  Simulation whole_sim(scenario);
  const RunResult whole = Run(whole_sim).run(none);

  for (const std::int32_t k : {1, 15, 40}) {
    CAPTURE(k);
    const fs::path path = scratch("restore") / "out.h5.ckpt";
    write_checkpoint(path.string(), checkpoint_after(scenario, k, yaml));
    const Checkpoint c = read_checkpoint(path.string());
    Simulation sim(scenario);
    Run run(sim);
    run.restore_state(c.state, scenario_digest(yaml));
    CHECK(run.ticks_done() == k);
    const RunResult rest = run.run(none);
    const Summary& a = whole.summary;
    const Summary& b = rest.summary;
    CHECK(b.ticks_run == a.ticks_run);
    CHECK(b.withdrawn_agents == a.withdrawn_agents);
    REQUIRE(b.institutions.size() == a.institutions.size());
    for (std::size_t i = 0; i < a.institutions.size(); ++i) {
      CHECK(b.institutions[i].total_outflow == a.institutions[i].total_outflow);
      CHECK(b.institutions[i].total_requested == a.institutions[i].total_requested);
      CHECK(b.institutions[i].peak_daily_outflow == a.institutions[i].peak_daily_outflow);
      CHECK(b.institutions[i].peak_daily_outflow_end_tick ==
            a.institutions[i].peak_daily_outflow_end_tick);
      CHECK(b.institutions[i].tick_to_withdrawn == a.institutions[i].tick_to_withdrawn);
      CHECK(b.institutions[i].halt_tick == a.institutions[i].halt_tick);
    }
    // Another scenario's checkpoint is refused.
    Simulation other_sim(scenario);
    Run other(other_sim);
    CHECK_THROWS_AS(other.restore_state(c.state, scenario_digest("name: other\n")),
                    CheckpointError);
    CHECK_THROWS_AS(restore_checkpoint(path.string(), other, scenario_digest("name: other\n")),
                    CheckpointError);

    // Streamed both ways (what `bankrun run` and `bankrun resume` do): the same state.
    Simulation streamed_sim(scenario);
    Run streamed(streamed_sim);
    restore_checkpoint(path.string(), streamed, scenario_digest(yaml));
    const fs::path again = path.parent_path() / "streamed.ckpt";
    write_checkpoint(again.string(), c.info, streamed, scenario_digest(yaml));
    const Checkpoint c2 = read_checkpoint(again.string());
    REQUIRE(c2.state.items.size() == c.state.items.size());
    for (std::size_t j = 0; j < c.state.items.size(); ++j) {
      CAPTURE(c.state.items[j].name);
      CHECK(c2.state.items[j].name == c.state.items[j].name);
      CHECK(c2.state.items[j].bytes == c.state.items[j].bytes);
    }
    CHECK(streamed.run(none).summary.institutions[0].total_outflow ==
          whole.summary.institutions[0].total_outflow);
  }
}

TEST_CASE("damaged, foreign and missing checkpoint files are refused with a reason") {
  const fs::path dir = scratch("damaged");
  const std::string path = (dir / "out.h5.ckpt").string();
  const auto message_of = [](const std::string& p) -> std::string {
    try {
      read_checkpoint(p);
    } catch (const OutputError& e) {
      return e.what();
    }
    return "";
  };
  CHECK(message_of(path).find("no such file") != std::string::npos);

  { std::ofstream(path) << "not HDF5 at all"; }
  CHECK(message_of(path).find("not an HDF5 file") != std::string::npos);

  // An HDF5 file that is not a checkpoint (e.g. a run's output given by mistake).
  const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(f >= 0);
  H5Fclose(f);
  const std::string foreign = message_of(path);
  CHECK(foreign.find("not a bankrun checkpoint") != std::string::npos);
  CHECK(foreign.find(path) != std::string::npos);

  // A checkpoint cut short (a disk that filled up under a copy): refused, not misread.
  const Scenario scenario = testing::reference_scenario(2000, 5);
  write_checkpoint(path, checkpoint_after(scenario, 5, "name: x\n"));
  fs::resize_file(path, fs::file_size(path) / 2);
  CHECK_FALSE(message_of(path).empty());
}

TEST_CASE("a checkpoint that cannot be written leaves the previous one as it was") {
  const fs::path dir = scratch("atomic");
  const std::string path = (dir / "out.h5.ckpt").string();
  const Scenario scenario = testing::reference_scenario(2000, 5);
  const Checkpoint first = checkpoint_after(scenario, 4, "name: x\n");
  write_checkpoint(path, first);
  // `<path>.new` is a folder: the new checkpoint cannot be created there.
  fs::create_directories(path + ".new");
  CHECK_THROWS_AS(write_checkpoint(path, checkpoint_after(scenario, 9, "name: x\n")), OutputError);
  CHECK(read_checkpoint(path).info.tick == 4);
}

TEST_CASE("--checkpoint-every takes ticks or a wall time and nothing else") {
  CHECK(parse_checkpoint_every("24").every_ticks == 24);
  CHECK(parse_checkpoint_every("24").every_seconds == 0.0);
  CHECK(parse_checkpoint_every("90s").every_seconds == 90.0);
  CHECK(parse_checkpoint_every("10m").every_seconds == 600.0);
  CHECK(parse_checkpoint_every("2h").every_seconds == 7200.0);
  CHECK(parse_checkpoint_every("0.5s").every_seconds == 0.5);
  CHECK(parse_checkpoint_every("10m").every_text == "10m");
  for (const char* bad : {"", "0", "-3", "2.5", "10 m", "10d", "m", "1e400", "nan"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(parse_checkpoint_every(bad), UsageError);
  }
}
