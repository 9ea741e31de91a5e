#pragma once
// `bankrun calibrate FILE`: fits a scenario's free parameters to observed data
// (scenarios/CALIBRATION.md). Each batch of parameter points is a sweep
// (output/sweep/): <out>/batches/<b>/, run locally in worker processes or as a Slurm array
// job, with common random numbers (replicate r of every point has the same seed). A batch's
// points are a pure function of the calibration file and the losses of the batches before
// it, so a calibration started again replays its finished batches from their run files
// (no run is repeated) and goes on where it stopped.
//
//   <out>/calibration.h5   every evaluation, the observed rows and the best fit's band,
//                          the profile intervals, provenance (rewritten after each batch)
//   <out>/best-fit.yaml    the best point's scenario, which `bankrun run` accepts
//   <out>/batches/<b>/     batch b: batch.yaml (its sweep file) and the sweep's folder
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "output/calibrate/calibration_file.hpp"
#include "output/calibrate/search.hpp"
#include "output/sweep/runner.hpp"

namespace bankrun::calibrate {

struct CalibrateCommand {
  std::string file;
  std::string output;  // overrides the file's `output` ("" = the file's)
  int jobs = 0;        // runs in flight (0: the cores this process may use)
  int threads = 1;     // threads per run
  bool quiet = false, dry_run = false;
  bool slurm = false;  // each batch as a Slurm array job; waits for it
  sweep::SlurmOptions slurm_options;
  double poll_seconds = 5.0;  // --slurm: how often squeue is asked whether a batch is done
  std::string version, commit, executable;
};

int calibrate_command(const CalibrateCommand& command);

// ---- Results (written to calibration.h5 by results.cpp) ----------------------------------

// The mean over a row's replicates (what the loss compares with the observation).
double replicate_mean(const std::vector<double>& values);

enum class Phase { kInitial, kSearch, kUncertainty, kEdges };
const char* phase_name(Phase phase);

// One compared quantity: an observed row of a series target, or a moment.
struct Row {
  std::string term;  // the target's or moment's name
  bool moment = false;
  std::string what;  // the series or the statistic
  std::string institution;
  std::string asset;      // price and asset_units rows
  std::int64_t time = 0;  // series rows
  std::optional<std::int64_t> end;
  double observed = 0.0;  // in the units of the simulated value (halt: hours)
  double scale = 1.0, weight = 1.0;
};

struct Evaluation {
  std::uint64_t index = 0;
  std::uint32_t batch = 0;
  Phase phase = Phase::kInitial;
  std::uint64_t point = 0;                     // in its batch: its runs are runs/<point * R + r>.h5
  Point unit;                                  // unit coordinates
  std::vector<double> values;                  // the parameters as run (15 significant digits)
  std::vector<std::vector<double>> simulated;  // per row, per replicate
  std::vector<double> term_losses;             // per term (targets, then moments)
  double loss = 0.0;
};

struct Results {
  std::vector<Row> rows;
  std::vector<std::string> terms;
  std::vector<Evaluation> evaluations;
  std::optional<std::size_t> best;
  std::vector<Interval> intervals;  // unit coordinates
  double threshold = 0.0;           // loss above the best within which the intervals lie
  std::string status = "running", stop_reason;
  std::string started_utc, version, commit;
  double wall_seconds = 0.0;
  int jobs = 1, threads = 1;
  std::vector<std::uint64_t> replicate_seeds;
};

// Writes calibration.h5 (through a .partial file and a rename).
void write_results(const Calibration& calibration, const Results& results,
                   const std::filesystem::path& file);

}  // namespace bankrun::calibrate
