#pragma once
// The errors of output/ and the exit statuses of every bankrun subcommand. A ScenarioError
// (scenarios/loader.hpp) exits 2, OutputError and engine errors exit 1.
//   0   success
//   1   a run (or writing its output) failed
//   2   a usage, scenario or sweep-file error; `bankrun resume` without a checkpoint or of a
//       complete run; a branch (`run --from`) making a change a branch cannot make
//   3   `bankrun merge`: the index was written, but some runs are missing or failed
//   130 interrupted by SIGINT (Ctrl-C), 143 by SIGTERM (what Slurm sends at a time limit,
//       SIGKILL following): the run stops after its tick and its file is closed as
//       `<out>.partial`, consistent up to the last tick, status="interrupted" (with
//       --checkpoint-every, a checkpoint of that tick is saved first: `bankrun resume`)
// Only a complete run's file has the final name; a failed run (exit 1) leaves
// `<out>.partial` marked status="failed", a killed one `<out>.partial` marked "running".
#include <stdexcept>

namespace bankrun {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitIncomplete = 3;
inline constexpr int kExitInterrupted = 130;  // 128 + SIGINT
inline constexpr int kExitTerminated = 143;   // 128 + SIGTERM

// A wrong command line or environment (not a scenario error: that is ScenarioError):
// reported as "bankrun: error: ..." with exit status kExitUsage.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Writing an HDF5 file failed (the message names the file and HDF5's own reason).
class OutputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace bankrun
