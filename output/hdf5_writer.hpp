#pragma once
// Writes a run to HDF5 as it goes (layout: output/README.md). The file is written under a
// temporary name (`<path>.partial`) and renamed to `<path>` only by finish("complete"): an
// interrupted or failed run (finish with that status, or the destructor after an
// exception) is closed as `<path>.partial` marked with its status, and a killed process
// leaves `<path>.partial` marked "running". So a file under the final name is complete.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "output/errors.hpp"
#include "sim/record.hpp"
#include "sim/simulation.hpp"
#include "sim/summary.hpp"

namespace bankrun {

// Where a run's file is written until the run is complete (then renamed to `path`); an
// interrupted, failed or killed run leaves it there.
inline std::string partial_path_of(const std::string& path) {
  return path + ".partial";
}

struct Provenance {
  std::string bankrun_version;
  std::string git_commit;
  std::string scenario_yaml;  // the resolved scenario text
  std::string scenario_file;
  std::string started_utc;  // ISO 8601
  std::uint64_t seed = 0;
  int threads = 1;
  // A branched run (`bankrun run --from`): the file and tick it branched from.
  std::string parent_file;
  std::int32_t parent_tick = -1;
};

// Buffered ticks are written this long (wall time) after the last write, besides every
// full block of 1024 ticks, so that the `.partial` of a killed long run says how far it got;
// the wait doubles at each such write within one block (output/README.md).
inline constexpr double kDefaultFlushSeconds = 2.0;

// For main(), before any HDF5 call: no HDF5 clean-up at exit. After a failed close (a full
// disk), HDF5 1.10 crashes (SIGSEGV) when it tries to close that file again at exit; every
// file is closed explicitly before exit anyway.
void disable_hdf5_cleanup_at_exit();

class Hdf5Writer final : public Recorder {
 public:
  // Creates the file and writes everything known before the first tick. `sim` must
  // outlive the writer: the news table and the policy firings are read from it when the
  // file is closed. `flush_seconds`: see kDefaultFlushSeconds (infinity: full blocks only).
  Hdf5Writer(const std::string& path, const Simulation& sim, const Provenance& provenance,
             double flush_seconds = kDefaultFlushSeconds);

  // How far the file is written: after flush(), every tick recorded so far is on disk.
  struct Position {
    std::int64_t ticks = 0;          // rows of the per-tick datasets
    std::int64_t snapshot_rows = 0;  // rows of /snapshots
  };
  Position flush();

  // Continues `<path>.partial` from `at` (a checkpoint's position): the `.partial` of an
  // earlier part of this run (bankrun resume), or a copy of a parent run's file (a branch).
  // Its per-tick datasets are cut back to at.ticks rows and /snapshots to at.snapshot_rows,
  // the tables written at the end are removed, and the root attributes are rewritten from
  // `provenance`; resumed_at_ticks gets at.ticks appended (a branch starts it empty). The
  // file must hold at least at.ticks ticks.
  struct Continue {
    Position at;
    bool branch = false;
    // The run the file must be (its root scenario_yaml and started_utc, as the checkpoint
    // has them): another run's `.partial` under the same name is refused, untouched.
    std::string scenario_yaml, started_utc;
  };
  Hdf5Writer(const std::string& path, const Simulation& sim, const Provenance& provenance,
             const Continue& from, double flush_seconds = kDefaultFlushSeconds);
  ~Hdf5Writer() override;
  Hdf5Writer(const Hdf5Writer&) = delete;
  Hdf5Writer& operator=(const Hdf5Writer&) = delete;

  void record(const TickRecord& r) override;
  void snapshot(std::int32_t tick, std::span<const SnapshotRow> rows) override;

  // status: "complete", "interrupted" or "failed". Flushes, writes the summary and the
  // closing attributes, closes the file and, if "complete", renames it to its final path.
  void finish(std::string_view status, const Summary& summary, double wall_seconds,
              double loop_seconds);

  const std::string& path() const { return path_; }  // the final path
  // Where the file is now: path() once finished "complete", else `<path>.partial`.
  std::string current_path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string path_;
};

}  // namespace bankrun
