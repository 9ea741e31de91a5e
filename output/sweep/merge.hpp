#pragma once
// The run files' state and the merge index (`bankrun merge`): <out>/index.h5, the `runs`
// table and /trajectories links. The output folder's layout and the manifest are in
// output/sweep/manifest.hpp.
#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agents/names.hpp"

namespace bankrun::sweep {

// ---- Run files ----------------------------------------------------------------------------

enum class RunState { kMissing, kPartial, kComplete, kInterrupted, kFailed, kStale, kUnreadable };
// The names of the states: the index's status column and the messages.
inline constexpr std::array<EnumName<RunState>, 7> kRunStateNames{{
    {RunState::kMissing, "missing"},
    {RunState::kPartial, "partial"},
    {RunState::kComplete, "complete"},
    {RunState::kInterrupted, "interrupted"},
    {RunState::kFailed, "failed"},
    {RunState::kStale, "stale"},
    {RunState::kUnreadable, "unreadable"},
}};
constexpr const char* state_name(RunState state) {
  return name_in(kRunStateNames, state);
}

struct RunFileState {
  RunState state = RunState::kMissing;
  std::string detail;  // why it is not complete, for messages
};

// The state of a run's file: complete only when `<out>/runs/<index>.h5` exists, its status
// attribute is "complete" and the SHA-256 of its scenario_yaml attribute is
// `expected_sha256`; "stale" when it is complete for another scenario. Without it, from the
// writer's `<index>.h5.partial`: "interrupted" or "failed" as its status says, "partial"
// when it says "running" or cannot be read (a run killed, or still going).
RunFileState inspect_run(const std::filesystem::path& file, const std::string& expected_sha256);

// `file` if it exists, else `file.partial` (which may not exist either).
std::filesystem::path existing_run_file(const std::filesystem::path& file);

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
