#pragma once
// Calibration files (scenarios/CALIBRATION.md): a base scenario, the free parameters with
// their bounds, the observed data (a CSV of timestamp, quantity, value) and what each
// observed quantity is compared with in a run, summary statistics to match (the method of
// simulated moments), replicates, the budget and the search. This is the pure part:
// reading and checking the file. Errors are ScenarioError: FILE:LINE:COLUMN, key path and
// what was expected; unknown keys are rejected with the nearest valid key.
#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agents/names.hpp"

namespace bankrun::calibrate {

// A free parameter: a scenario key path and its bounds. The search works in the unit
// cube: u in [0, 1] maps to low + u (high - low), or to exp(ln low + u (ln high - ln low))
// on a log scale; integer parameters are rounded.
struct FreeParameter {
  std::string path;
  double low = 0.0, high = 1.0;
  bool log_scale = false, integer = false;
  int line = 0, column = 0;

  double value(double u) const;     // the parameter at unit coordinate u (clamped to [0, 1])
  double unit(double value) const;  // the inverse (not rounded)
};

// What a row of observed data is compared with (per institution unless said).
enum class Series {
  kDeposits,            // customers' claims at the time (USD)
  kDepositsFraction,    // the same / the claims at the start
  kNetOutflow,          // payments - inflows - transfers in, over the row's window (USD)
  kNetOutflowFraction,  // the same / the claims at the start
  kGrossOutflow,        // payments over the window (USD)
  kGrossInflow,         // inflows + transfers in over the window (USD)
  kPrice,               // an asset's price at the time (USD per unit)
  kAssetUnits,          // the institution's units of an asset at the time
  kWithdrawnFraction,   // agents who decided to withdraw / all agents (population)
  kHalt,                // the time withdrawals were halted (the row's timestamp; hours)
};
inline constexpr std::array<EnumName<Series>, 10> kSeriesNames{{
    {Series::kDeposits, "deposits"},
    {Series::kDepositsFraction, "deposits_fraction"},
    {Series::kNetOutflow, "net_outflow"},
    {Series::kNetOutflowFraction, "net_outflow_fraction"},
    {Series::kGrossOutflow, "gross_outflow"},
    {Series::kGrossInflow, "gross_inflow"},
    {Series::kPrice, "price"},
    {Series::kAssetUnits, "asset_units"},
    {Series::kWithdrawnFraction, "withdrawn_fraction"},
    {Series::kHalt, "halt"},
}};
constexpr const char* series_name(Series s) {
  return name_in(kSeriesNames, s);
}
// Flows are summed over a window; the others are values at an instant.
constexpr bool is_flow(Series s) {
  return s == Series::kNetOutflow || s == Series::kNetOutflowFraction ||
         s == Series::kGrossOutflow || s == Series::kGrossInflow;
}

// One observed row: a time (and, for flows, the end of its window) and a value.
struct Observation {
  std::int64_t time = 0;            // unix seconds
  std::optional<std::int64_t> end;  // flows: the window [time, end); none: since the start
  double value = 0.0;               // unused for kHalt (the time is the observation)
  int line = 0;                     // in the CSV
};

struct SeriesTarget {
  std::string name;         // unique among targets and moments
  std::string quantity;     // the CSV rows of this quantity
  std::string institution;  // an institution of the base scenario
  std::string asset;        // kPrice, kAssetUnits: one of the institution's assets
  Series series = Series::kNetOutflowFraction;
  double scale = 1.0;   // the standard deviation of an observation's error
  double weight = 1.0;  // loss term: weight * ((simulated - observed) / scale)^2
  std::vector<Observation> observations;
};

// Summary statistics of one institution's run (moments).
enum class Statistic {
  kTotalNetOutflowFraction,      // net outflow over the whole run / claims at the start
  kPeakDailyNetOutflowFraction,  // the largest net outflow of a day (24 h from the start)
  kHoursToNetOutflowFraction,    // hours until the net outflow reaches `fraction`
  kHaltHours,                    // hours until the halt (the run's length if never)
  kHoursToWithdrawnFraction,     // hours until `fraction` of the agents have withdrawn
};
inline constexpr std::array<EnumName<Statistic>, 5> kStatisticNames{{
    {Statistic::kTotalNetOutflowFraction, "total_net_outflow_fraction"},
    {Statistic::kPeakDailyNetOutflowFraction, "peak_daily_net_outflow_fraction"},
    {Statistic::kHoursToNetOutflowFraction, "hours_to_net_outflow_fraction"},
    {Statistic::kHaltHours, "halt_hours"},
    {Statistic::kHoursToWithdrawnFraction, "hours_to_withdrawn_fraction"},
}};
// The statistics that take a `fraction`.
constexpr bool takes_fraction(Statistic s) {
  return s == Statistic::kHoursToNetOutflowFraction || s == Statistic::kHoursToWithdrawnFraction;
}

struct Moment {
  std::string name, institution;
  Statistic statistic = Statistic::kTotalNetOutflowFraction;
  double fraction = 0.0;  // the hours_to_* statistics
  double observed = 0.0, scale = 1.0, weight = 1.0;
};

enum class Design { kHalton, kLhs };
inline constexpr std::array<EnumName<Design>, 2> kDesignNames{{
    {Design::kHalton, "halton"},
    {Design::kLhs, "lhs"},
}};
enum class Method { kCmaes, kNone };
inline constexpr std::array<EnumName<Method>, 2> kMethodNames{{
    {Method::kCmaes, "cmaes"},
    {Method::kNone, "none"},
}};

struct SearchSpec {
  Design design = Design::kHalton;
  std::uint64_t initial_points = 0;  // 0: 4 * (parameters + 1)
  Method method = Method::kCmaes;
  std::uint32_t population = 0;  // CMA-ES lambda; 0: 4 + floor(3 ln d)
  double sigma = 0.3;            // CMA-ES initial step, in unit coordinates
  double tolerance = 1e-3;       // stop when every step is this small (unit coordinates)
};

struct Calibration {
  std::string file;  // as given
  std::string name, description;
  std::string text;                // the calibration file's text (provenance)
  std::string base_file;           // absolute
  std::vector<std::string> fixed;  // "PATH=VALUE" overrides applied to every evaluation
  std::uint64_t seed = 1;
  std::uint32_t replicates = 4;
  std::filesystem::path output_dir;  // absolute
  std::vector<FreeParameter> parameters;
  std::string observed_file;  // absolute ("" when there are only moments)
  // Quantities of the observed CSV that no target uses (`calibrate` mentions them).
  std::vector<std::string> unused_quantities;
  std::vector<SeriesTarget> targets;
  std::vector<Moment> moments;
  std::uint64_t max_evaluations = 200;  // parameter points (each: `replicates` runs)
  double max_wall_seconds = 0.0;        // 0: no limit
  SearchSpec search;
  std::uint64_t uncertainty_points = 0;  // 0: 6 * (parameters + 1)
  double level = 0.95;                   // of the profile intervals
  std::uint32_t edge_rounds = 2;  // batches that bracket the intervals' edges (4 d points each)

  // From the base scenario (with the fixed overrides).
  std::int64_t start_unix_seconds = 0;
  double tick_hours = 1.0;
  std::int32_t ticks = 0;
  std::vector<std::string> institutions;

  std::uint64_t initial_points() const {
    return search.initial_points ? search.initial_points : 4 * (parameters.size() + 1);
  }
  std::uint32_t population() const;
  std::uint64_t uncertainty() const {
    return uncertainty_points ? uncertainty_points : 6 * (parameters.size() + 1);
  }
};

// Reads and checks a calibration file: the base scenario loads with the fixed overrides,
// every parameter's bounds load, the observed CSV's rows lie inside the run and every target
// finds rows. ScenarioError on any problem.
Calibration read_calibration_file(const std::string& path);
Calibration read_calibration_text(std::string_view yaml, const std::string& source_name,
                                  const std::filesystem::path& dir);

// Parses a wall time "90s", "10m", "2h" or a number of seconds; nullopt if malformed.
std::optional<double> parse_duration(std::string_view text);

}  // namespace bankrun::calibrate
