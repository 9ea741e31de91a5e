#pragma once
// What a run says about the calibration's targets and moments: the per-tick series a
// calibration needs, read from a run file, and the simulated counterpart of each observed
// row and summary statistic (scenarios/CALIBRATION.md, "What is compared").
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "output/calibrate/calibration_file.hpp"

namespace bankrun::calibrate {

struct InstitutionSeries {
  double issued = 0.0;  // claims at the start (USD)
  std::vector<double> deposits, payments, inflows, transfers_in, halted;
  struct Asset {
    std::vector<double> price, units;  // units: hot + cold + in transit + illiquid
  };
  std::map<std::string, Asset> assets;
};

struct RunSeries {
  std::int64_t start_unix_seconds = 0;
  double tick_hours = 1.0;
  std::int64_t agents = 0;
  std::vector<double> withdrawn_agents;
  std::map<std::string, InstitutionSeries> institutions;
  std::size_t ticks() const { return withdrawn_agents.size(); }
};

// Reads the series the calibration's targets and moments need from a complete run file.
// OutputError (naming the file) if something is missing.
RunSeries read_run_series(const std::filesystem::path& file, const Calibration& calibration);

// The simulated value of an observed row: a stock at the row's time (the end of the last
// tick ending at or before it; before the end of tick 0: the value at the start for deposits
// and withdrawn agents, else tick 0's), a flow summed over the ticks starting in its window
// ([time, end), or from the start to time), a halt as hours from the start to the first
// halted tick (the run's length if none).
double simulated(const SeriesTarget& target, const Observation& row, const RunSeries& run);
// The observed value in the units of simulated(): the value, or for a halt the hours from
// the run's start to the row's time.
double observed(const SeriesTarget& target, const Observation& row, std::int64_t start_unix);
// A summary statistic of one run.
double statistic(const Moment& moment, const RunSeries& run);

}  // namespace bankrun::calibrate
