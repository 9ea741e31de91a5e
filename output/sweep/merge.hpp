#pragma once
// The files of a sweep's output folder (scenarios/SWEEPS.md, "Output folder"): the manifest,
// the run files' state, and the merge index (`bankrun merge`).
//
//   <out>/manifest.csv       one row per run, written before any run (output/sweep/runner.hpp)
//   <out>/sweep.info.yaml    the sweep's name, mode, seed, parameters and institutions
//   <out>/runs/<index>.h5    one run file per run, the format of `bankrun run`
//   <out>/index.h5           the merge index: the `runs` table and /trajectories links
#include <cstdint>
#include <filesystem>
#include <istream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bankrun::sweep {

std::filesystem::path manifest_path(const std::filesystem::path& out);
std::filesystem::path info_path(const std::filesystem::path& out);
std::filesystem::path index_path(const std::filesystem::path& out);
std::filesystem::path run_path(const std::filesystem::path& out, std::uint64_t index);
// "runs/<index>.h5": the path relative to the output folder.
std::string run_relative_path(std::uint64_t index);

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

// ---- Run files ----------------------------------------------------------------------------

enum class RunState { kMissing, kPartial, kComplete, kInterrupted, kFailed, kStale, kUnreadable };
// "missing", "partial", "complete", "interrupted", "failed", "stale", "unreadable".
const char* state_name(RunState state);

struct RunFileState {
  RunState state = RunState::kMissing;
  std::string detail;  // why it is not complete, for messages
};

// The state of a run's file: complete only when `<out>/runs/<index>.h5` exists, its status
// attribute is "complete" and the SHA-256 of its scenario_yaml attribute is
// `expected_sha256`; "stale" when it is complete for another scenario; "partial" when only
// the writer's `.partial` file exists (a run killed, or still going).
RunFileState inspect_run(const std::filesystem::path& file, const std::string& expected_sha256);

// ---- The merge index ----------------------------------------------------------------------

struct MergeReport {
  std::filesystem::path index;
  std::uint64_t runs = 0, complete = 0;
  std::vector<std::pair<std::uint64_t, std::string>> problems;  // first 20: (index, "failed: ...")
  std::uint64_t problem_count = 0;
};

// Writes `index` (default <out>/index.h5; written as .partial, then renamed) from the
// manifest and every run file. See scenarios/SWEEPS.md for its layout. Throws
// std::runtime_error (or OutputError) if the folder holds no manifest or the index
// cannot be written.
MergeReport merge_sweep(const std::filesystem::path& out,
                        const std::optional<std::filesystem::path>& index = std::nullopt);

}  // namespace bankrun::sweep
