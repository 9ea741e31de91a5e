#pragma once
// Writes a run to HDF5 as it goes (layout: output/README.md). The file is written under a
// temporary name (`<path>.partial`) and renamed to `<path>` only by finish() or, after an
// exception, by the destructor with status "failed": a killed process leaves a
// `.partial` file, never a truncated file under the final name.
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

struct Provenance {
  std::string bankrun_version;
  std::string git_commit;
  std::string scenario_yaml;  // the resolved scenario text
  std::string scenario_file;
  std::string started_utc;  // ISO 8601
  std::uint64_t seed = 0;
  int threads = 1;
};

class Hdf5Writer final : public Recorder {
 public:
  // Creates the file and writes everything known before the first tick. `sim` must
  // outlive the writer: the news table and the policy firings are read from it when the
  // file is closed.
  Hdf5Writer(const std::string& path, const Simulation& sim, const Provenance& provenance);
  ~Hdf5Writer() override;
  Hdf5Writer(const Hdf5Writer&) = delete;
  Hdf5Writer& operator=(const Hdf5Writer&) = delete;

  void record(const TickRecord& r) override;
  void snapshot(std::int32_t tick, std::span<const SnapshotRow> rows) override;

  // status: "complete", "interrupted" or "failed". Flushes, writes the summary and the
  // closing attributes, closes and renames the file to its final path.
  void finish(std::string_view status, const Summary& summary, double wall_seconds,
              double loop_seconds);

  const std::string& path() const { return path_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string path_;
};

}  // namespace bankrun
