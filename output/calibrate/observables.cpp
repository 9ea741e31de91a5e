// Simulated counterparts of observed data (see observables.hpp).
#include "output/calibrate/observables.hpp"

#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "output/hdf5_handle.hpp"

namespace bankrun::calibrate {

namespace fs = std::filesystem;
using hdf5::Handle;

namespace {

std::vector<double> read_series(hid_t file, const std::string& path, const fs::path& name) {
  Handle ds(H5Dopen2(file, path.c_str(), H5P_DEFAULT), H5Dclose);
  if (!ds.valid()) throw OutputError(name.string() + ": no dataset " + path);
  Handle space(H5Dget_space(ds.get()), H5Sclose);
  hsize_t n = 0;
  if (H5Sget_simple_extent_dims(space.get(), &n, nullptr) != 1)
    throw OutputError(name.string() + ": " + path + " is not a series");
  std::vector<double> values(n);
  if (n > 0 &&
      H5Dread(ds.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0)
    throw OutputError(name.string() + ": cannot read " + path);
  return values;
}

// Column `column` of a 2-D (ticks, columns) dataset.
std::vector<double> read_column(hid_t file, const std::string& path, std::size_t column,
                                const fs::path& name) {
  Handle ds(H5Dopen2(file, path.c_str(), H5P_DEFAULT), H5Dclose);
  if (!ds.valid()) throw OutputError(name.string() + ": no dataset " + path);
  Handle space(H5Dget_space(ds.get()), H5Sclose);
  hsize_t dims[2] = {0, 0};
  if (H5Sget_simple_extent_dims(space.get(), dims, nullptr) != 2 || column >= dims[1])
    throw OutputError(name.string() + ": " + path + " has no column " + std::to_string(column));
  std::vector<double> values(dims[0]);
  const hsize_t start[2] = {0, column}, count[2] = {dims[0], 1};
  Handle memory(H5Screate_simple(1, &dims[0], nullptr), H5Sclose);
  if (dims[0] > 0 &&
      (H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr) < 0 ||
       H5Dread(ds.get(), H5T_NATIVE_DOUBLE, memory.get(), space.get(), H5P_DEFAULT, values.data()) <
           0))
    throw OutputError(name.string() + ": cannot read " + path);
  return values;
}

template <class T>
T attribute(hid_t obj, const char* name, hid_t type, const fs::path& file) {
  const auto v = hdf5::read_attribute<T>(obj, name, type);
  if (!v) throw OutputError(file.string() + ": no attribute " + name);
  return *v;
}

// The index of the last tick ending at or before `t`, or -1 if none.
std::int64_t last_tick_ended(const RunSeries& run, std::int64_t t) {
  const double hours = static_cast<double>(t - run.start_unix_seconds) / 3600.0;
  const auto ended = static_cast<std::int64_t>(std::floor(hours / run.tick_hours + 1e-9));
  return std::min<std::int64_t>(ended, static_cast<std::int64_t>(run.ticks())) - 1;
}

// The first tick starting at or after `t`.
std::int64_t first_tick_starting(const RunSeries& run, std::int64_t t) {
  const double hours = static_cast<double>(t - run.start_unix_seconds) / 3600.0;
  const auto k = static_cast<std::int64_t>(std::ceil(hours / run.tick_hours - 1e-9));
  return std::clamp<std::int64_t>(k, 0, static_cast<std::int64_t>(run.ticks()));
}

double net_outflow(const InstitutionSeries& in, std::size_t k) {
  return in.payments[k] - in.inflows[k] - in.transfers_in[k];
}

double halt_hours(const InstitutionSeries& in, const RunSeries& run) {
  for (std::size_t k = 0; k < in.halted.size(); ++k)
    if (in.halted[k] != 0.0) return static_cast<double>(k) * run.tick_hours;
  return static_cast<double>(run.ticks()) * run.tick_hours;
}

const InstitutionSeries& institution(const RunSeries& run, const std::string& name) {
  return run.institutions.at(name);
}

}  // namespace

RunSeries read_run_series(const fs::path& file, const Calibration& c) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  Handle f(H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!f.valid()) throw OutputError(file.string() + ": cannot open the run file");
  Handle root(H5Gopen2(f.get(), "/", H5P_DEFAULT), H5Gclose);
  RunSeries run;
  run.start_unix_seconds =
      attribute<std::int64_t>(root.get(), "start_unix_seconds", H5T_NATIVE_INT64, file);
  run.tick_hours = attribute<double>(root.get(), "tick_hours", H5T_NATIVE_DOUBLE, file);
  run.agents = attribute<std::int64_t>(root.get(), "agents", H5T_NATIVE_INT64, file);
  run.withdrawn_agents = read_series(f.get(), "/population/withdrawn_agents", file);
  for (const std::string& name : c.institutions) {
    InstitutionSeries in;
    const std::string g = "/institutions/" + name + "/";
    Handle group(H5Gopen2(f.get(), g.c_str(), H5P_DEFAULT), H5Gclose);
    if (!group.valid()) throw OutputError(file.string() + ": no group " + g);
    in.issued = static_cast<double>(
                    attribute<std::int64_t>(group.get(), "issued_cents", H5T_NATIVE_INT64, file)) /
                100.0;
    in.deposits = read_series(f.get(), g + "deposits", file);
    in.payments = read_series(f.get(), g + "payments", file);
    in.inflows = read_series(f.get(), g + "inflows", file);
    in.transfers_in = read_series(f.get(), g + "transfers_in", file);
    in.halted = read_series(f.get(), g + "halted", file);
    for (const SeriesTarget& t : c.targets) {
      if (t.institution != name || t.asset.empty() || in.assets.contains(t.asset)) continue;
      // Asset datasets are (ticks, assets), the columns named by the group's asset_names.
      const std::string a = g + "assets";
      Handle assets(H5Gopen2(f.get(), a.c_str(), H5P_DEFAULT), H5Gclose);
      const auto names =
          assets.valid() ? hdf5::read_string_attribute(assets.get(), "asset_names") : std::nullopt;
      std::vector<std::string> columns;
      std::istringstream list(names.value_or(""));
      for (std::string asset_name; std::getline(list, asset_name, ',');)
        columns.push_back(asset_name);
      const auto found = std::find(columns.begin(), columns.end(), t.asset);
      if (found == columns.end())
        throw OutputError(file.string() + ": institution " + name + " has no asset " + t.asset);
      const auto column = static_cast<std::size_t>(found - columns.begin());
      InstitutionSeries::Asset asset;
      asset.price = read_column(f.get(), a + "/price", column, file);
      asset.units = read_column(f.get(), a + "/hot_units", column, file);
      for (const char* part : {"/cold_units", "/in_transit_units", "/illiquid_units"}) {
        const std::vector<double> more = read_column(f.get(), a + part, column, file);
        for (std::size_t k = 0; k < more.size() && k < asset.units.size(); ++k)
          asset.units[k] += more[k];
      }
      in.assets.emplace(t.asset, std::move(asset));
    }
    run.institutions.emplace(name, std::move(in));
  }
  return run;
}

double simulated(const SeriesTarget& target, const Observation& row, const RunSeries& run) {
  const InstitutionSeries& in = institution(run, target.institution);
  if (target.series == Series::kHalt) return halt_hours(in, run);
  if (is_flow(target.series)) {
    const std::int64_t from = row.end ? first_tick_starting(run, row.time) : 0;
    const std::int64_t to = first_tick_starting(run, row.end ? *row.end : row.time);
    double sum = 0.0;
    for (std::int64_t k = from; k < to; ++k) {
      const auto i = static_cast<std::size_t>(k);
      switch (target.series) {
        case Series::kGrossOutflow:
          sum += in.payments[i];
          break;
        case Series::kGrossInflow:
          sum += in.inflows[i] + in.transfers_in[i];
          break;
        default:
          sum += net_outflow(in, i);
          break;
      }
    }
    return target.series == Series::kNetOutflowFraction ? sum / in.issued : sum;
  }
  const std::int64_t k = last_tick_ended(run, row.time);
  const auto at = [&](const std::vector<double>& series) {
    return series[static_cast<std::size_t>(std::max<std::int64_t>(k, 0))];
  };
  switch (target.series) {
    case Series::kDeposits:
      return k < 0 ? in.issued : at(in.deposits);
    case Series::kDepositsFraction:
      return k < 0 ? 1.0 : at(in.deposits) / in.issued;
    case Series::kPrice:
      return at(in.assets.at(target.asset).price);
    case Series::kAssetUnits:
      return at(in.assets.at(target.asset).units);
    case Series::kWithdrawnFraction:
      return k < 0 ? 0.0 : at(run.withdrawn_agents) / static_cast<double>(run.agents);
    default:
      return std::nan("");
  }
}

double observed(const SeriesTarget& target, const Observation& row, std::int64_t start_unix) {
  if (target.series == Series::kHalt) return static_cast<double>(row.time - start_unix) / 3600.0;
  return row.value;
}

double statistic(const Moment& moment, const RunSeries& run) {
  const InstitutionSeries& in = institution(run, moment.institution);
  const std::size_t ticks = run.ticks();
  switch (moment.statistic) {
    case Statistic::kTotalNetOutflowFraction: {
      double sum = 0.0;
      for (std::size_t k = 0; k < ticks; ++k) sum += net_outflow(in, k);
      return sum / in.issued;
    }
    case Statistic::kPeakDailyNetOutflowFraction: {
      const auto per_day =
          static_cast<std::size_t>(std::max(1L, std::lround(24.0 / run.tick_hours)));
      double peak = 0.0;
      for (std::size_t day = 0; day * per_day < ticks; ++day) {
        double sum = 0.0;
        for (std::size_t k = day * per_day; k < std::min(ticks, (day + 1) * per_day); ++k)
          sum += net_outflow(in, k);
        peak = std::max(peak, sum);
      }
      return peak / in.issued;
    }
    case Statistic::kHoursToNetOutflowFraction: {
      double sum = 0.0;
      for (std::size_t k = 0; k < ticks; ++k) {
        sum += net_outflow(in, k);
        if (sum >= moment.fraction * in.issued) return static_cast<double>(k + 1) * run.tick_hours;
      }
      return static_cast<double>(ticks) * run.tick_hours;
    }
    case Statistic::kHaltHours:
      return halt_hours(in, run);
    case Statistic::kHoursToWithdrawnFraction:
      for (std::size_t k = 0; k < ticks; ++k)
        if (run.withdrawn_agents[k] >= moment.fraction * static_cast<double>(run.agents))
          return static_cast<double>(k + 1) * run.tick_hours;
      return static_cast<double>(ticks) * run.tick_hours;
  }
  return std::nan("");
}

}  // namespace bankrun::calibrate
