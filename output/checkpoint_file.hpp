#pragma once
// Checkpoint files (layout: output/README.md, "Checkpoint files"): the state of a run
// between two ticks (sim/checkpoint.hpp, one HDF5 dataset of bytes per item) with what
// resuming it needs: the scenario as run, its output file and how far that was written.
// A checkpoint is written under `<path>.new` and renamed to `<path>` once it is on disk,
// so a kill while writing leaves the previous checkpoint as it was.
#include <cstdint>
#include <string>
#include <string_view>

#include "sim/checkpoint.hpp"
#include "sim/run.hpp"

namespace bankrun {

// The rolling checkpoint of a run whose output is `output` (`--checkpoint-every`): replaced
// at each checkpoint, removed when the run completes.
inline std::string checkpoint_path_of(const std::string& output) {
  return output + ".ckpt";
}
// A checkpoint kept at a chosen tick (`--checkpoint-at`), e.g. to branch from.
inline std::string tick_checkpoint_path_of(const std::string& output, std::int32_t tick) {
  return output + ".tick" + std::to_string(tick) + ".ckpt";
}

// A digest of a scenario's resolved YAML (64-bit FNV-1a, 16 hex digits): a checkpoint is
// restored only into a run of the scenario whose text has this digest.
std::string scenario_digest(std::string_view scenario_yaml);

// What a checkpoint says besides the state.
struct CheckpointInfo {
  std::int32_t tick = 0;  // ticks done (the next tick to run)
  std::int32_t ticks_planned = 0;
  std::string scenario_yaml;  // the resolved scenario (its digest is the state's)
  std::string scenario_file;  // where it came from (relative data files are found beside it)
  std::uint64_t seed = 0;
  std::string output;                       // the run's output file (its final name)
  std::int64_t snapshot_rows = 0;           // rows of /snapshots written up to `tick`
  std::string started_utc;                  // when the run (its first part) started
  std::string bankrun_version, git_commit;  // of the binary that wrote the checkpoint
  std::string checkpoint_every;  // the run's --checkpoint-every ("" if none): a resume goes on
  // A branched run (`bankrun run --from`): the file and tick it branched from ("" and -1
  // for a run from tick 0); carried on by its checkpoints and resumes.
  std::string parent_file;
  std::int32_t parent_tick = -1;
};

struct Checkpoint {
  CheckpointInfo info;
  SimulationState state;
};

// Writes `checkpoint` to `path` atomically (OutputError on failure; `path` is then as before).
void write_checkpoint(const std::string& path, const Checkpoint& checkpoint);
// The same for the state of `run`, streamed item by item from the run's memory into the
// file (no copy of the state is made: a checkpoint of 1e8 agents needs no extra GBs).
void write_checkpoint(const std::string& path, const CheckpointInfo& info, const Run& run,
                      const std::string& scenario_digest);

// Reads a checkpoint file, state included: OutputError if it is not one or cannot be read,
// CheckpointError if an item is truncated.
Checkpoint read_checkpoint(const std::string& path);
// Only its info and state header (format version, digest): the items stay on disk.
Checkpoint read_checkpoint_info(const std::string& path);
// Restores `run` from the file, each item read straight into the run's memory; throws
// CheckpointError unless the file is of this format version and the scenario whose digest
// is `scenario_digest` and its items are exactly the run's.
void restore_checkpoint(const std::string& path, Run& run, std::string_view scenario_digest);

}  // namespace bankrun
