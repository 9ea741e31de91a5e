// calibration.h5 (layout: scenarios/CALIBRATION.md, "The calibration file's results").
#include <hdf5.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>

#include "output/calibrate/calibrate.hpp"
#include "output/hdf5_compound.hpp"
#include "output/hdf5_handle.hpp"
#include "output/sweep/manifest.hpp"
#include "output/sweep/sweep_file.hpp"
#include "scenarios/yaml_reader.hpp"

namespace bankrun::calibrate {

namespace fs = std::filesystem;
using hdf5::Checker;
using hdf5::CompoundType;
using hdf5::Handle;

namespace {

// A column of a table written as a compound dataset, one member per column.
struct Column {
  enum class Kind { kFloat64, kInt64, kInt32, kFlag, kString };
  std::string name;
  Kind kind = Kind::kFloat64;
  std::vector<double> numbers;  // every kind but kString
  std::vector<std::string> strings;

  static Column of_numbers(std::string name, Kind kind) { return {std::move(name), kind, {}, {}}; }
  static Column of_strings(std::string name) { return {std::move(name), Kind::kString, {}, {}}; }
};

void write_table(hid_t parent, const char* name, const std::vector<Column>& columns,
                 std::size_t rows, const std::string& description, const Checker& c) {
  CompoundType type(c, std::string(name) + " row");
  for (const Column& col : columns) {
    switch (col.kind) {
      case Column::Kind::kFloat64:
        type.append(col.name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE);
        break;
      case Column::Kind::kInt64:
        type.append(col.name, H5T_STD_I64LE, H5T_NATIVE_INT64);
        break;
      case Column::Kind::kInt32:
        type.append(col.name, H5T_STD_I32LE, H5T_NATIVE_INT32);
        break;
      case Column::Kind::kFlag:
        type.append(col.name, H5T_STD_U8LE, H5T_NATIVE_UINT8);
        break;
      case Column::Kind::kString: {
        std::size_t width = 2;
        for (const std::string& s : col.strings) width = std::max(width, s.size() + 1);
        type.append_string(col.name, width);
        break;
      }
    }
  }
  std::vector<char> data(type.size() * std::max<std::size_t>(rows, 1), 0);
  std::vector<char> row(type.size());
  for (std::size_t r = 0; r < rows; ++r) {
    std::fill(row.begin(), row.end(), 0);
    for (std::size_t k = 0; k < columns.size(); ++k) {
      const Column& col = columns[k];
      switch (col.kind) {
        case Column::Kind::kFloat64:
          hdf5::put<double>(row, type[k], col.numbers[r]);
          break;
        case Column::Kind::kInt64:
          hdf5::put<std::int64_t>(row, type[k], static_cast<std::int64_t>(col.numbers[r]));
          break;
        case Column::Kind::kInt32:
          hdf5::put<std::int32_t>(row, type[k], static_cast<std::int32_t>(col.numbers[r]));
          break;
        case Column::Kind::kFlag:
          hdf5::put<std::uint8_t>(row, type[k], static_cast<std::uint8_t>(col.numbers[r]));
          break;
        case Column::Kind::kString:
          hdf5::put_string(row, type[k], col.strings[r]);
          break;
      }
    }
    std::copy(row.begin(), row.end(), data.begin() + static_cast<std::ptrdiff_t>(r * row.size()));
  }
  const hsize_t n = rows;
  Handle space(c.check(H5Screate_simple(1, &n, nullptr), "cannot create a dataspace"), H5Sclose);
  const Handle file_t = type.file_type(), mem_t = type.memory_type();
  Handle ds(c.check(H5Dcreate2(parent, name, file_t.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT,
                               H5P_DEFAULT),
                    std::string("cannot create dataset ") + name),
            H5Dclose);
  if (rows > 0)
    c.check_status(H5Dwrite(ds.get(), mem_t.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()),
                   std::string("cannot write dataset ") + name);
  hdf5::write_string_attribute(ds.get(), "description", description, c);
}

std::string utc(std::int64_t t) {
  return yaml_reader::format_utc_timestamp(t);
}

void write_attributes(hid_t root, const Calibration& cal, const Results& res, const Checker& c) {
  using hdf5::write_string_attribute;
  write_string_attribute(root, "format", "bankrun-calibration", c);
  hdf5::write_number_attribute<std::int32_t>(root, "format_version", H5T_STD_I32LE,
                                             H5T_NATIVE_INT32, 1, c);
  write_string_attribute(root, "calibration_name", cal.name, c);
  write_string_attribute(root, "calibration_file",
                         fs::absolute(cal.file).lexically_normal().string(), c);
  write_string_attribute(root, "calibration_yaml", cal.text, c);
  write_string_attribute(root, "base_file", cal.base_file, c);
  write_string_attribute(root, "fixed", yaml_reader::join(cal.fixed, "\n"), c);
  write_string_attribute(root, "observed_file", cal.observed_file, c);
  std::vector<std::string> paths;
  for (const FreeParameter& p : cal.parameters) paths.push_back(p.path);
  write_string_attribute(root, "parameters", yaml_reader::join(paths, ","), c);
  hdf5::write_number_attribute<std::uint64_t>(root, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64,
                                              cal.seed, c);
  hdf5::write_number_attribute<std::int32_t>(root, "replicates", H5T_STD_I32LE, H5T_NATIVE_INT32,
                                             static_cast<std::int32_t>(cal.replicates), c);
  std::vector<std::string> seeds;
  for (std::uint64_t s : res.replicate_seeds) seeds.push_back(std::to_string(s));
  write_string_attribute(root, "replicate_seeds", yaml_reader::join(seeds, ","), c);
  write_string_attribute(root, "bankrun_version", res.version, c);
  write_string_attribute(root, "git_commit", res.commit, c);
  hdf5::write_number_attribute<std::int32_t>(root, "jobs", H5T_STD_I32LE, H5T_NATIVE_INT32,
                                             res.jobs, c);
  hdf5::write_number_attribute<std::int32_t>(root, "threads", H5T_STD_I32LE, H5T_NATIVE_INT32,
                                             res.threads, c);
  write_string_attribute(root, "started_utc", res.started_utc, c);
  hdf5::write_number_attribute<double>(root, "wall_seconds", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                                       res.wall_seconds, c);
  write_string_attribute(root, "status", res.status, c);
  write_string_attribute(root, "stop_reason", res.stop_reason, c);
  hdf5::write_number_attribute<std::int64_t>(root, "evaluations", H5T_STD_I64LE, H5T_NATIVE_INT64,
                                             static_cast<std::int64_t>(res.evaluations.size()), c);
  const Evaluation& best = res.evaluations[*res.best];
  hdf5::write_number_attribute<std::int64_t>(root, "best_evaluation", H5T_STD_I64LE,
                                             H5T_NATIVE_INT64,
                                             static_cast<std::int64_t>(best.index), c);
  hdf5::write_number_attribute<double>(root, "best_loss", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                                       best.loss, c);
  std::vector<std::string> runs;
  for (std::uint32_t r = 0; r < cal.replicates; ++r)
    runs.push_back("batches/" + std::to_string(best.batch) + "/" +
                   sweep::run_relative_path(best.point * cal.replicates + r));
  write_string_attribute(root, "best_runs", yaml_reader::join(runs, ","), c);
  hdf5::write_number_attribute<double>(root, "level", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, cal.level,
                                       c);
  hdf5::write_number_attribute<double>(root, "loss_threshold", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                                       best.loss + res.threshold, c);
  write_string_attribute(root, "start_utc", utc(cal.start_unix_seconds), c);
  hdf5::write_number_attribute<double>(root, "tick_hours", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                                       cal.tick_hours, c);
}

void write_evaluations(hid_t root, const Calibration& cal, const Results& res, const Checker& c) {
  using K = Column::Kind;
  std::vector<Column> cols{Column::of_numbers("evaluation", K::kInt64),
                           Column::of_numbers("batch", K::kInt32), Column::of_strings("phase"),
                           Column::of_numbers("point", K::kInt64)};
  for (const FreeParameter& p : cal.parameters)
    cols.push_back(Column::of_numbers(p.path, K::kFloat64));
  cols.push_back(Column::of_numbers("loss", K::kFloat64));
  for (const std::string& term : res.terms)
    cols.push_back(Column::of_numbers("loss." + term, K::kFloat64));
  const std::size_t first_moment_row = res.rows.size() - cal.moments.size();
  for (const Moment& m : cal.moments)
    cols.push_back(Column::of_numbers("sim." + m.name, K::kFloat64));
  for (const Evaluation& e : res.evaluations) {
    std::size_t k = 0;
    cols[k++].numbers.push_back(static_cast<double>(e.index));
    cols[k++].numbers.push_back(e.batch);
    cols[k++].strings.push_back(phase_name(e.phase));
    cols[k++].numbers.push_back(static_cast<double>(e.point));
    for (double v : e.values) cols[k++].numbers.push_back(v);
    cols[k++].numbers.push_back(e.loss);
    for (double t : e.term_losses) cols[k++].numbers.push_back(t);
    for (std::size_t m = 0; m < cal.moments.size(); ++m) {
      const auto& reps = e.simulated[first_moment_row + m];
      cols[k++].numbers.push_back(replicate_mean(reps));
    }
  }
  write_table(root, "evaluations", cols, res.evaluations.size(),
              "one row per evaluated parameter point: its batch, phase and point in the batch "
              "(runs batches/<batch>/runs/<point * replicates + r>.h5), the parameters as run, "
              "the loss and its terms, the moments' means over the replicates",
              c);
}

void write_rows(hid_t root, const Results& res, const Checker& c) {
  using K = Column::Kind;
  std::vector<Column> cols{Column::of_strings("term"),
                           Column::of_strings("kind"),
                           Column::of_strings("what"),
                           Column::of_strings("institution"),
                           Column::of_strings("asset"),
                           Column::of_strings("time_utc"),
                           Column::of_strings("end_utc"),
                           Column::of_numbers("observed", K::kFloat64),
                           Column::of_numbers("scale", K::kFloat64),
                           Column::of_numbers("weight", K::kFloat64),
                           Column::of_numbers("best_mean", K::kFloat64),
                           Column::of_numbers("best_min", K::kFloat64),
                           Column::of_numbers("best_max", K::kFloat64)};
  const Evaluation& best = res.evaluations[*res.best];
  const std::size_t replicates = best.simulated.empty() ? 0 : best.simulated.front().size();
  std::vector<double> by_replicate;  // rows x replicates
  for (std::size_t r = 0; r < res.rows.size(); ++r) {
    const Row& row = res.rows[r];
    const auto& reps = best.simulated[r];
    cols[0].strings.push_back(row.term);
    cols[1].strings.push_back(row.moment ? "moment" : "series");
    cols[2].strings.push_back(row.what);
    cols[3].strings.push_back(row.institution);
    cols[4].strings.push_back(row.asset);
    cols[5].strings.push_back(row.moment ? "" : utc(row.time));
    cols[6].strings.push_back(row.end ? utc(*row.end) : "");
    cols[7].numbers.push_back(row.observed);
    cols[8].numbers.push_back(row.scale);
    cols[9].numbers.push_back(row.weight);
    cols[10].numbers.push_back(replicate_mean(reps));
    cols[11].numbers.push_back(*std::min_element(reps.begin(), reps.end()));
    cols[12].numbers.push_back(*std::max_element(reps.begin(), reps.end()));
    by_replicate.insert(by_replicate.end(), reps.begin(), reps.end());
  }
  write_table(root, "targets", cols, res.rows.size(),
              "one row per compared quantity (each observed row of a series target, then each "
              "moment): the observed value (a halt: hours after the start), its scale and "
              "weight, and the best evaluation's mean, minimum and maximum over the replicates",
              c);
  const hsize_t dims[2] = {res.rows.size(), replicates};
  Handle space(c.check(H5Screate_simple(2, dims, nullptr), "cannot create a dataspace"), H5Sclose);
  Handle ds(c.check(H5Dcreate2(root, "best_replicates", H5T_IEEE_F64LE, space.get(), H5P_DEFAULT,
                               H5P_DEFAULT, H5P_DEFAULT),
                    "cannot create dataset best_replicates"),
            H5Dclose);
  if (!by_replicate.empty())
    c.check_status(
        H5Dwrite(ds.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, by_replicate.data()),
        "cannot write dataset best_replicates");
  hdf5::write_string_attribute(
      ds.get(), "description",
      "the best evaluation's simulated value of each row of /targets (rows) in each replicate "
      "(columns)",
      c);
}

void write_intervals(hid_t root, const Calibration& cal, const Results& res, const Checker& c) {
  using K = Column::Kind;
  std::vector<Column> cols{Column::of_strings("parameter"),
                           Column::of_numbers("best", K::kFloat64),
                           Column::of_numbers("low", K::kFloat64),
                           Column::of_numbers("high", K::kFloat64),
                           Column::of_numbers("low_at_bound", K::kFlag),
                           Column::of_numbers("high_at_bound", K::kFlag),
                           Column::of_numbers("search_low", K::kFloat64),
                           Column::of_numbers("search_high", K::kFloat64),
                           Column::of_numbers("within", K::kInt64),
                           Column::of_numbers("low_resolved", K::kFlag),
                           Column::of_numbers("high_resolved", K::kFlag)};
  const Evaluation& best = res.evaluations[*res.best];
  for (std::size_t j = 0; j < cal.parameters.size(); ++j) {
    const FreeParameter& p = cal.parameters[j];
    const Interval& in = res.intervals[j];
    cols[0].strings.push_back(p.path);
    cols[1].numbers.push_back(best.values[j]);
    // Rounded like the values run (15 significant digits), so that low <= best <= high.
    auto as_run = [&](double u) {
      return yaml_reader::parse_number(sweep::format_value(p.value(u))).value;
    };
    cols[2].numbers.push_back(as_run(in.low));
    cols[3].numbers.push_back(as_run(in.high));
    cols[4].numbers.push_back(in.low_at_bound ? 1 : 0);
    cols[5].numbers.push_back(in.high_at_bound ? 1 : 0);
    cols[6].numbers.push_back(p.low);
    cols[7].numbers.push_back(p.high);
    cols[8].numbers.push_back(static_cast<double>(in.within));
    cols[9].numbers.push_back(in.low_resolved ? 1 : 0);
    cols[10].numbers.push_back(in.high_resolved ? 1 : 0);
  }
  write_table(root, "intervals", cols, cal.parameters.size(),
              "per parameter: the best value and the profile interval, the range of the "
              "evaluations whose loss is within loss_threshold (best loss + the chi-square(1) "
              "quantile at `level`); *_at_bound: the interval reaches the search bound",
              c);
}

}  // namespace

void write_results(const Calibration& cal, const Results& res, const fs::path& file) {
  const fs::path partial = file.string() + ".partial";
  const Checker c("calibration results " + partial.string());
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  {
    Handle f(c.check(H5Fcreate(partial.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                     "cannot create the file"),
             H5Fclose);
    Handle root(c.check(H5Gopen2(f.get(), "/", H5P_DEFAULT), "cannot open the root group"),
                H5Gclose);
    write_attributes(root.get(), cal, res, c);
    write_evaluations(root.get(), cal, res, c);
    write_rows(root.get(), res, c);
    write_intervals(root.get(), cal, res, c);
    root.close();
    c.check_status(H5Fflush(f.get(), H5F_SCOPE_GLOBAL), "cannot flush");
    if (!f.close()) c.fail("cannot close the file");
  }
  std::error_code ec;
  fs::rename(partial, file, ec);
  if (ec)
    throw OutputError("cannot rename " + partial.string() + " to " + file.string() + ": " +
                      ec.message());
}

}  // namespace bankrun::calibrate
