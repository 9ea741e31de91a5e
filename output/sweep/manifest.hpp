#pragma once
// A sweep's output folder (scenarios/SWEEPS.md, "Output folder") and its manifest:
//
//   <out>/manifest.csv       one row per run, written before any run
//   <out>/sweep.info.yaml    the sweep's name, mode, seed, parameters and institutions
//   <out>/runs/<index>.h5    one run file per run, the format of `bankrun run`
//   <out>/index.h5           the merge index (output/sweep/merge.hpp)
#include <cstdint>
#include <filesystem>
#include <istream>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "output/sweep/sweep_file.hpp"

namespace bankrun::sweep {

std::filesystem::path manifest_path(const std::filesystem::path& out);
std::filesystem::path info_path(const std::filesystem::path& out);
std::filesystem::path index_path(const std::filesystem::path& out);
std::filesystem::path run_path(const std::filesystem::path& out, std::uint64_t index);
// "runs/<index>.h5": the path relative to the output folder.
std::string run_relative_path(std::uint64_t index);

// Writes `text` to `path` through a temporary file in the same folder (named after this
// host and process, so that array tasks on several nodes never share one) and a rename.
void write_atomically(const std::filesystem::path& path, const std::string& text);

// ---- The manifest (CSV, RFC 4180 quoting) -------------------------------------------------

struct ManifestRow {
  std::uint64_t index = 0, point = 0;
  std::uint32_t replicate = 0;
  std::uint64_t seed = 0;
  std::string scenario_sha256;
  std::vector<std::string> values;  // one per parameter, as YAML text
};

// The header line's cells: index, point, replicate, seed, scenario_sha256, then the
// parameters' key paths.
std::vector<std::string> manifest_columns(const std::vector<std::string>& parameters);
std::string csv_line(const std::vector<std::string>& cells);  // with the final '\n'
// The sweep's parameters' key paths, in order (the manifest's last columns).
std::vector<std::string> parameter_paths(const Sweep& sweep);

// Reads a manifest row by row (memory: one row).
class ManifestReader {
 public:
  // Fails (std::runtime_error) if the file cannot be opened or its header is not a
  // manifest's with `parameters` columns.
  ManifestReader(const std::filesystem::path& path, const std::vector<std::string>& parameters);
  // The next row; false at the end. std::runtime_error (with the line) on a malformed row.
  bool next(ManifestRow& row);

 private:
  bool record(std::vector<std::string>& cells);
  std::filesystem::path path_;
  std::unique_ptr<std::istream> in_;
  std::size_t parameters_ = 0;
  std::uint64_t line_ = 0;
};

// Writes <out>/manifest.csv (one row per run: index, point, replicate, seed, the SHA-256 of
// the run's resolved scenario, the parameter values; every run's scenario is loaded, so an
// invalid one is a ScenarioError), then <out>/sweep.info.yaml. Both via a temporary file and
// a rename. Memory: one run at a time.
void write_manifest(const Sweep& sweep, const std::string& version);
// Whether <out>/sweep.info.yaml was written for this very sweep (same digest and runs).
bool manifest_current(const Sweep& sweep);
// The runs of `shard`, as CSV (index, point, replicate, seed, parameters), without loading
// their scenarios.
void list_runs(const Sweep& sweep, const Shard& shard, std::ostream& out);

}  // namespace bankrun::sweep
