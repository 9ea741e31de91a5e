// Sweep output folders: run file states and the merge index (HDF5).
#include "output/sweep/merge.hpp"

#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <stdexcept>
#include <utility>

#include "output/hdf5_compound.hpp"
#include "output/hdf5_handle.hpp"
#include "output/hdf5_writer.hpp"
#include "output/sweep/manifest.hpp"
#include "output/sweep/sweep_file.hpp"
#include "scenarios/yaml_reader.hpp"

namespace bankrun::sweep {

namespace fs = std::filesystem;

// ---- HDF5 helpers ---------------------------------------------------------------------------

namespace {

using hdf5::Checker;
using hdf5::CompoundType;
using hdf5::error_detail;
using hdf5::Handle;
using hdf5::Member;
using hdf5::put;
using hdf5::put_string;
using hdf5::read_attribute;
using hdf5::read_string_attribute;

void quiet_hdf5() {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

Handle open_read_only(const fs::path& file) {
  quiet_hdf5();
  return {H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose};
}

// What the index records of one run file.
struct RunRecord {
  RunFileState state;
  double wall_seconds = std::nan("");
  std::int32_t ticks_run = -1;
  std::int64_t withdrawn_agents = -1;
  struct Institution {
    double total_outflow_usd = std::nan(""), peak_daily_outflow_usd = std::nan("");
    std::int32_t halt_tick = -1, insolvent_tick = -1, ticks_to_50pct = -1;
  };
  std::vector<Institution> institutions;
};

RunRecord read_run(const fs::path& file, const std::string& expected_sha256,
                   const std::vector<std::string>& institutions) {
  RunRecord r;
  r.institutions.resize(institutions.size());
  r.state = inspect_run(file, expected_sha256);
  if (r.state.state == RunState::kMissing || r.state.state == RunState::kPartial ||
      r.state.state == RunState::kUnreadable)
    return r;
  Handle f = open_read_only(existing_run_file(file));
  if (!f.valid()) return r;
  r.wall_seconds =
      read_attribute<double>(f.get(), "wall_seconds", H5T_NATIVE_DOUBLE).value_or(std::nan(""));
  if (H5Lexists(f.get(), "summary", H5P_DEFAULT) <= 0) return r;
  Handle summary(H5Gopen2(f.get(), "summary", H5P_DEFAULT), H5Gclose);
  if (!summary.valid()) return r;
  r.ticks_run =
      read_attribute<std::int32_t>(summary.get(), "ticks_run", H5T_NATIVE_INT32).value_or(-1);
  r.withdrawn_agents =
      read_attribute<std::int64_t>(summary.get(), "withdrawn_agents", H5T_NATIVE_INT64)
          .value_or(-1);
  for (std::size_t k = 0; k < institutions.size(); ++k) {
    const char* name = institutions[k].c_str();
    if (H5Lexists(summary.get(), name, H5P_DEFAULT) <= 0) continue;
    Handle g(H5Gopen2(summary.get(), name, H5P_DEFAULT), H5Gclose);
    if (!g.valid()) continue;
    RunRecord::Institution& in = r.institutions[k];
    const double nan = std::nan("");
    in.total_outflow_usd =
        read_attribute<double>(g.get(), "total_outflow_usd", H5T_NATIVE_DOUBLE).value_or(nan);
    in.peak_daily_outflow_usd =
        read_attribute<double>(g.get(), "peak_daily_outflow_usd", H5T_NATIVE_DOUBLE).value_or(nan);
    in.halt_tick =
        read_attribute<std::int32_t>(g.get(), "halt_tick", H5T_NATIVE_INT32).value_or(-1);
    in.insolvent_tick =
        read_attribute<std::int32_t>(g.get(), "insolvent_tick", H5T_NATIVE_INT32).value_or(-1);
    in.ticks_to_50pct =
        read_attribute<std::int32_t>(g.get(), "ticks_to_50pct", H5T_NATIVE_INT32).value_or(-1);
  }
  return r;
}

}  // namespace

fs::path existing_run_file(const fs::path& file) {
  std::error_code ec;
  if (fs::exists(file, ec)) return file;
  return partial_path_of(file.string());
}

namespace {

// A run that did not complete: its `.partial` says "interrupted" or "failed" when it was
// closed, "running" (or nothing readable) when it was killed or is still going.
RunFileState inspect_partial(const fs::path& partial) {
  const std::string name = partial.filename().string();
  const std::string killed = "only " + name + " exists: the run was killed, or is still going";
  Handle f = open_read_only(partial);
  if (!f.valid()) return {RunState::kPartial, killed};
  const auto status = read_string_attribute(f.get(), "status");
  const auto ticks = read_attribute<std::int64_t>(f.get(), "ticks_recorded", H5T_NATIVE_INT64);
  const std::string detail = name + ": status \"" + status.value_or("") + "\" after " +
                             std::to_string(ticks.value_or(0)) + " ticks";
  if (status == "interrupted") return {RunState::kInterrupted, detail};
  if (status == "failed") return {RunState::kFailed, detail};
  return {RunState::kPartial, killed};
}

}  // namespace

RunFileState inspect_run(const fs::path& file, const std::string& expected_sha256) {
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    const fs::path partial = existing_run_file(file);
    if (fs::exists(partial, ec)) return inspect_partial(partial);
    return {RunState::kMissing, "no run file"};
  }
  Handle f = open_read_only(file);
  if (!f.valid()) return {RunState::kUnreadable, "cannot open it as HDF5: " + error_detail()};
  const auto status = read_string_attribute(f.get(), "status");
  if (!status) return {RunState::kUnreadable, "no status attribute"};
  if (*status != "complete") {
    const RunState s = *status == "interrupted" ? RunState::kInterrupted
                       : *status == "failed"    ? RunState::kFailed
                                                : RunState::kPartial;
    return {s, "status \"" + *status + "\""};
  }
  const auto yaml = read_string_attribute(f.get(), "scenario_yaml");
  if (!yaml) return {RunState::kUnreadable, "no scenario_yaml attribute"};
  if (sha256_hex(*yaml) != expected_sha256)
    return {RunState::kStale,
            "complete, but for another scenario than the manifest's (its scenario_yaml has "
            "another SHA-256): the sweep or its base changed since"};
  return {RunState::kComplete, ""};
}

// ---- The merge index --------------------------------------------------------------------

namespace {

constexpr hsize_t kIndexChunk = 1024;  // rows of the runs table per chunk (and per write)
constexpr std::size_t kReportedProblems = 20;

// Pass 1 over the manifest: each string parameter column's width (NUL included, at least
// 2). Checks that the manifest holds the runs the info file announces.
std::vector<std::size_t> parameter_widths(const fs::path& out, const SweepInfo& info) {
  std::vector<std::size_t> widths(info.parameters.size(), 2);
  std::uint64_t rows = 0;
  ManifestReader reader(manifest_path(out), info.parameters);
  ManifestRow row;
  while (reader.next(row)) {
    for (std::size_t p = 0; p < widths.size(); ++p)
      widths[p] = std::max(widths[p], row.values[p].size() + 1);
    ++rows;
  }
  if (rows != info.runs)
    throw std::runtime_error(manifest_path(out).string() + " has " + std::to_string(rows) +
                             " runs, but " + info_path(out).filename().string() + " says " +
                             std::to_string(info.runs) + " (an interrupted write?)");
  return widths;
}

// The width of the `runs` table's status column (bytes, NUL included): every state name fits.
constexpr std::size_t kStatusWidth = 16;
static_assert(std::ranges::all_of(kRunStateNames, [](const EnumName<RunState>& row) {
  return std::char_traits<char>::length(row.name) < kStatusWidth;
}));

// The packed row of the `runs` table (scenarios/SWEEPS.md) and where its parts start.
struct RunsRow {
  CompoundType type;
  std::size_t first_param = 4, status_field = 0, first_institution = 0, tail = 0;
  static constexpr std::size_t kInstitutionFields = 5;
};

RunsRow runs_row(const SweepInfo& info, const std::vector<std::size_t>& widths,
                 const Checker& errors) {
  RunsRow r{CompoundType(errors, "runs row")};
  CompoundType& t = r.type;
  t.append("index", H5T_STD_I64LE, H5T_NATIVE_INT64)
      .append("point", H5T_STD_I64LE, H5T_NATIVE_INT64)
      .append("replicate", H5T_STD_I32LE, H5T_NATIVE_INT32)
      .append("seed", H5T_STD_U64LE, H5T_NATIVE_UINT64);
  for (std::size_t p = 0; p < info.parameters.size(); ++p) {
    if (info.numeric[p])
      t.append(info.parameters[p], H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE);
    else
      t.append_string(info.parameters[p], widths[p]);
  }
  r.status_field = r.first_param + info.parameters.size();
  t.append_string("status", kStatusWidth)
      .append("ticks_run", H5T_STD_I32LE, H5T_NATIVE_INT32)
      .append("withdrawn_agents", H5T_STD_I64LE, H5T_NATIVE_INT64);
  r.first_institution = r.status_field + 3;
  for (const std::string& name : info.institutions) {
    t.append(name + ".total_outflow_usd", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE)
        .append(name + ".peak_daily_outflow_usd", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE)
        .append(name + ".halt_tick", H5T_STD_I32LE, H5T_NATIVE_INT32)
        .append(name + ".insolvent_tick", H5T_STD_I32LE, H5T_NATIVE_INT32)
        .append(name + ".ticks_to_50pct", H5T_STD_I32LE, H5T_NATIVE_INT32);
  }
  r.tail = r.first_institution + RunsRow::kInstitutionFields * info.institutions.size();
  t.append("wall_seconds", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE)
      .append_string("scenario_sha256", 65)
      .append_string("file", run_relative_path(info.runs).size() + 1);
  return r;
}

// One run's row: its manifest entry and what its file says.
void pack_row(std::vector<char>& row, const RunsRow& layout, const SweepInfo& info,
              const ManifestRow& m, const RunRecord& r) {
  const CompoundType& type = layout.type;
  std::fill(row.begin(), row.end(), 0);
  put<std::int64_t>(row, type[0], static_cast<std::int64_t>(m.index));
  put<std::int64_t>(row, type[1], static_cast<std::int64_t>(m.point));
  put<std::int32_t>(row, type[2], static_cast<std::int32_t>(m.replicate));
  put<std::uint64_t>(row, type[3], m.seed);
  for (std::size_t p = 0; p < info.parameters.size(); ++p) {
    const Member& f = type[layout.first_param + p];
    if (info.numeric[p]) {
      const auto parsed = yaml_reader::parse_number(m.values[p]);
      put<double>(row, f,
                  parsed.status == yaml_reader::NumberStatus::kOk ? parsed.value : std::nan(""));
    } else {
      put_string(row, f, m.values[p]);
    }
  }
  put_string(row, type[layout.status_field], state_name(r.state.state));
  put<std::int32_t>(row, type[layout.status_field + 1], r.ticks_run);
  put<std::int64_t>(row, type[layout.status_field + 2], r.withdrawn_agents);
  for (std::size_t k = 0; k < info.institutions.size(); ++k) {
    const auto& in = r.institutions[k];
    const std::size_t base = layout.first_institution + RunsRow::kInstitutionFields * k;
    put<double>(row, type[base], in.total_outflow_usd);
    put<double>(row, type[base + 1], in.peak_daily_outflow_usd);
    put<std::int32_t>(row, type[base + 2], in.halt_tick);
    put<std::int32_t>(row, type[base + 3], in.insolvent_tick);
    put<std::int32_t>(row, type[base + 4], in.ticks_to_50pct);
  }
  put<double>(row, type[layout.tail], r.wall_seconds);
  put_string(row, type[layout.tail + 1], m.scenario_sha256);
  put_string(row, type[layout.tail + 2], run_relative_path(m.index));
}

void write_index_attributes(hid_t root, const SweepInfo& info, const Checker& c) {
  using hdf5::write_string_attribute;
  write_string_attribute(root, "format", "bankrun-sweep-index", c);
  hdf5::write_number_attribute<std::int32_t>(root, "format_version", H5T_STD_I32LE,
                                             H5T_NATIVE_INT32, 1, c);
  write_string_attribute(root, "sweep_name", info.name, c);
  write_string_attribute(root, "sweep_file", info.sweep_file, c);
  write_string_attribute(root, "mode", info.mode, c);
  hdf5::write_number_attribute<std::uint64_t>(root, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64,
                                              info.seed, c);
  hdf5::write_number_attribute<std::int64_t>(root, "points", H5T_STD_I64LE, H5T_NATIVE_INT64,
                                             static_cast<std::int64_t>(info.points), c);
  hdf5::write_number_attribute<std::int32_t>(root, "replicates", H5T_STD_I32LE, H5T_NATIVE_INT32,
                                             static_cast<std::int32_t>(info.replicates), c);
  hdf5::write_number_attribute<std::int64_t>(root, "runs", H5T_STD_I64LE, H5T_NATIVE_INT64,
                                             static_cast<std::int64_t>(info.runs), c);
  write_string_attribute(root, "parameters", yaml_reader::join(info.parameters, ","), c);
  write_string_attribute(root, "institution_names", yaml_reader::join(info.institutions, ","), c);
}

// The extensible `runs` dataset (chunked, deflated), written kIndexChunk rows at a time.
class RunsTable {
 public:
  RunsTable(hid_t root, const CompoundType& type, const Checker& c)
      : c_(c), row_bytes_(type.size()), mem_t_(type.memory_type()) {
    const Handle file_t = type.file_type();
    const hsize_t zero = 0, unlimited = H5S_UNLIMITED, chunk = kIndexChunk;
    Handle space(c.check(H5Screate_simple(1, &zero, &unlimited), "cannot create a dataspace"),
                 H5Sclose);
    Handle dcpl(c.check(H5Pcreate(H5P_DATASET_CREATE), "cannot create dataset properties"),
                H5Pclose);
    c.check_status(H5Pset_chunk(dcpl.get(), 1, &chunk), "cannot set the chunk size");
    c.check_status(H5Pset_deflate(dcpl.get(), 4), "cannot enable deflate");
    ds_ = Handle(c.check(H5Dcreate2(root, "runs", file_t.get(), space.get(), H5P_DEFAULT,
                                    dcpl.get(), H5P_DEFAULT),
                         "cannot create dataset runs"),
                 H5Dclose);
    hdf5::write_string_attribute(
        ds_.get(), "description",
        "one row per run of the sweep: parameters, seed, status and summary metrics "
        "(scenarios/SWEEPS.md)",
        c);
  }
  void append(const std::vector<char>& row) {
    block_.insert(block_.end(), row.begin(), row.end());
    if (block_.size() / row_bytes_ == kIndexChunk) flush();
  }
  void flush() {
    const hsize_t n = block_.size() / row_bytes_;
    if (n == 0) return;
    const hsize_t extent = written_ + n;
    c_.check_status(H5Dset_extent(ds_.get(), &extent), "cannot extend dataset runs");
    Handle fspace(c_.check(H5Dget_space(ds_.get()), "cannot get the dataspace of runs"), H5Sclose);
    c_.check_status(
        H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, &written_, nullptr, &n, nullptr),
        "cannot select rows");
    Handle mspace(c_.check(H5Screate_simple(1, &n, nullptr), "cannot create a dataspace"),
                  H5Sclose);
    c_.check_status(
        H5Dwrite(ds_.get(), mem_t_.get(), mspace.get(), fspace.get(), H5P_DEFAULT, block_.data()),
        "cannot write rows of runs");
    written_ = extent;
    block_.clear();
  }
  void close() { ds_.close(); }

 private:
  const Checker& c_;
  std::size_t row_bytes_;
  Handle mem_t_, ds_;
  std::vector<char> block_;
  hsize_t written_ = 0;
};

Handle create_index_file(const std::string& partial, const Checker& c) {
  Handle fapl(c.check(H5Pcreate(H5P_FILE_ACCESS), "cannot create file access properties"),
              H5Pclose);
  c.check_status(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_LATEST),
                 "cannot set the format version");
  return {c.check(H5Fcreate(partial.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()),
                  "cannot create the file"),
          H5Fclose};
}

void count_run(MergeReport& report, std::uint64_t index, const RunFileState& state) {
  ++report.runs;
  if (state.state == RunState::kComplete) {
    ++report.complete;
    return;
  }
  ++report.problem_count;
  if (report.problems.size() < kReportedProblems)
    report.problems.emplace_back(index, std::string(state_name(state.state)) + ": " + state.detail);
}

// /trajectories/<index>: an external link to the run's file, if it exists.
void link_trajectory(hid_t trajectories, const fs::path& out, std::uint64_t index,
                     const Checker& c) {
  std::error_code ec;
  if (!fs::exists(run_path(out, index), ec)) return;
  const std::string link = std::to_string(index);
  c.check_status(H5Lcreate_external(run_relative_path(index).c_str(), "/", trajectories,
                                    link.c_str(), H5P_DEFAULT, H5P_DEFAULT),
                 "cannot create the external link trajectories/" + link);
}

SweepInfo read_sweep_info(const fs::path& out) {
  const fs::path info_file = info_path(out);
  std::error_code ec;
  if (!fs::exists(info_file, ec))
    throw std::runtime_error(out.string() + " is not a sweep output folder: no " +
                             info_file.filename().string() +
                             " (it is written by bankrun sweep before any run)");
  return read_info_file(info_file.string());
}

}  // namespace

MergeReport merge_sweep(const fs::path& out, const std::optional<fs::path>& index) {
  quiet_hdf5();
  const SweepInfo info = read_sweep_info(out);
  const std::vector<std::size_t> widths = parameter_widths(out, info);
  const fs::path target = index ? *index : index_path(out);
  const std::string partial = target.string() + ".partial";
  const Checker errors("HDF5 index " + partial);
  const RunsRow layout = runs_row(info, widths, errors);

  Handle file = create_index_file(partial, errors);
  const hid_t root = file.get();
  write_index_attributes(root, info, errors);
  RunsTable runs(root, layout.type, errors);
  Handle trajectories(
      errors.check(H5Gcreate2(root, "trajectories", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                   "cannot create group trajectories"),
      H5Gclose);

  MergeReport report;
  report.index = target;
  ManifestReader reader(manifest_path(out), info.parameters);
  ManifestRow m;
  std::vector<char> row(layout.type.size());
  while (reader.next(m)) {
    const RunRecord r = read_run(run_path(out, m.index), m.scenario_sha256, info.institutions);
    pack_row(row, layout, info, m, r);
    runs.append(row);
    count_run(report, m.index, r.state);
    link_trajectory(trajectories.get(), out, m.index, errors);
  }
  runs.flush();
  hdf5::write_number_attribute<std::int64_t>(root, "complete_runs", H5T_STD_I64LE, H5T_NATIVE_INT64,
                                             static_cast<std::int64_t>(report.complete), errors);
  trajectories.close();
  runs.close();
  if (!file.close()) errors.fail("cannot close the file");
  std::error_code ec;
  fs::rename(partial, target, ec);
  if (ec)
    throw OutputError("cannot rename " + partial + " to " + target.string() + ": " + ec.message());
  return report;
}

}  // namespace bankrun::sweep
