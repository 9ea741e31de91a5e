// Sweep output folders: the manifest, run file states and the merge index (HDF5).
#include "output/merge.hpp"

#include <hdf5.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <stdexcept>
#include <utility>

#include "output/hdf5_handle.hpp"
#include "output/hdf5_writer.hpp"
#include "scenarios/sweep.hpp"
#include "scenarios/yaml_reader.hpp"

namespace bankrun::sweep {

namespace fs = std::filesystem;

fs::path manifest_path(const fs::path& out) {
  return out / "manifest.csv";
}
fs::path info_path(const fs::path& out) {
  return out / "sweep.info.yaml";
}
fs::path index_path(const fs::path& out) {
  return out / "index.h5";
}
std::string run_relative_path(std::uint64_t index) {
  return "runs/" + std::to_string(index) + ".h5";
}
fs::path run_path(const fs::path& out, std::uint64_t index) {
  return out / run_relative_path(index);
}

// ---- Manifest ---------------------------------------------------------------------------------

std::vector<std::string> manifest_columns(const std::vector<std::string>& parameters) {
  std::vector<std::string> columns = {"index", "point", "replicate", "seed", "scenario_sha256"};
  columns.insert(columns.end(), parameters.begin(), parameters.end());
  return columns;
}

std::string csv_line(const std::vector<std::string>& cells) {
  std::string out;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) out += ',';
    const std::string& c = cells[i];
    const bool quote = c.find_first_of(",\"\r\n") != std::string::npos ||
                       (!c.empty() && (c.front() == ' ' || c.back() == ' '));
    if (!quote) {
      out += c;
      continue;
    }
    out += '"';
    for (char ch : c) {
      if (ch == '"') out += '"';
      out += ch;
    }
    out += '"';
  }
  return out + "\n";
}

ManifestReader::ManifestReader(const fs::path& path, const std::vector<std::string>& parameters)
    : path_(path), parameters_(parameters.size()) {
  auto in = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!*in) throw std::runtime_error(path.string() + ": cannot open: " + std::strerror(errno));
  in_ = std::move(in);
  std::vector<std::string> header;
  if (!record(header))
    throw std::runtime_error(path.string() + ": empty file (expected a sweep manifest)");
  if (header != manifest_columns(parameters))
    throw std::runtime_error(path.string() +
                             ":1: the header is not that of this sweep's manifest (expected " +
                             csv_line(manifest_columns(parameters)).substr(0) + ")");
}

bool ManifestReader::record(std::vector<std::string>& cells) {
  cells.clear();
  std::string cell;
  bool quoted = false, any = false, cell_quoted = false;
  int c;
  while ((c = in_->get()) != EOF) {
    any = true;
    const char ch = static_cast<char>(c);
    if (quoted) {
      if (ch == '"') {
        if (in_->peek() == '"') {
          in_->get();
          cell += '"';
        } else {
          quoted = false;
        }
      } else {
        if (ch == '\n') ++line_;
        cell += ch;
      }
      continue;
    }
    if (ch == '"' && cell.empty() && !cell_quoted) {
      quoted = cell_quoted = true;
    } else if (ch == ',') {
      cells.push_back(std::move(cell));
      cell.clear();
      cell_quoted = false;
    } else if (ch == '\n') {
      ++line_;
      if (!cell.empty() && cell.back() == '\r' && !cell_quoted) cell.pop_back();
      cells.push_back(std::move(cell));
      return true;
    } else {
      cell += ch;
    }
  }
  if (!any) return false;
  if (quoted) throw std::runtime_error(path_.string() + ": unterminated quoted cell at the end");
  ++line_;
  cells.push_back(std::move(cell));
  return true;
}

bool ManifestReader::next(ManifestRow& row) {
  std::vector<std::string> cells;
  if (!record(cells)) return false;
  const auto bad = [&](const std::string& why) {
    throw std::runtime_error(path_.string() + ":" + std::to_string(line_) + ": " + why);
  };
  if (cells.size() != 5 + parameters_)
    bad("expected " + std::to_string(5 + parameters_) + " cells, got " +
        std::to_string(cells.size()));
  const auto number = [&](const std::string& text, const char* what) {
    std::size_t used = 0;
    unsigned long long v = 0;
    try {
      v = std::stoull(text, &used);
    } catch (const std::exception&) {
      used = std::string::npos;
    }
    if (used != text.size() || text.empty() || text[0] == '-')
      bad(std::string("expected a non-negative integer as ") + what + ", got '" + text + "'");
    return static_cast<std::uint64_t>(v);
  };
  row.index = number(cells[0], "index");
  row.point = number(cells[1], "point");
  row.replicate = static_cast<std::uint32_t>(number(cells[2], "replicate"));
  row.seed = number(cells[3], "seed");
  row.scenario_sha256 = cells[4];
  row.values.assign(cells.begin() + 5, cells.end());
  return true;
}

// ---- HDF5 helpers ---------------------------------------------------------------------------

namespace {

using hdf5::error_detail;
using hdf5::Handle;

void quiet_hdf5() {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

class Writer {
 public:
  explicit Writer(std::string file) : file_(std::move(file)) {}
  [[noreturn]] void fail(const std::string& what) const {
    std::string message = "HDF5 index " + file_ + ": " + what;
    const std::string detail = error_detail();
    if (!detail.empty()) message += " (" + detail + ")";
    throw OutputError(message);
  }
  hid_t check(hid_t id, const std::string& what) const {
    if (id < 0) fail(what);
    return id;
  }
  void check_status(herr_t rc, const std::string& what) const {
    if (rc < 0) fail(what);
  }

 private:
  std::string file_;
};

Handle string_type(std::size_t bytes) {
  Handle t(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(t.get(), bytes);
  H5Tset_cset(t.get(), H5T_CSET_UTF8);
  H5Tset_strpad(t.get(), H5T_STR_NULLTERM);
  return t;
}

// A string attribute (fixed or variable length) of `obj`; nullopt if absent or unreadable.
std::optional<std::string> read_string_attribute(hid_t obj, const char* name) {
  if (H5Aexists(obj, name) <= 0) return std::nullopt;
  Handle attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  if (!attr.valid()) return std::nullopt;
  Handle type(H5Aget_type(attr.get()), H5Tclose);
  if (!type.valid() || H5Tget_class(type.get()) != H5T_STRING) return std::nullopt;
  const H5T_cset_t cset = H5Tget_cset(type.get());
  if (H5Tis_variable_str(type.get()) > 0) {
    Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.get(), H5T_VARIABLE);
    H5Tset_cset(mem.get(), cset);
    char* value = nullptr;
    if (H5Aread(attr.get(), mem.get(), &value) < 0) return std::nullopt;
    std::string out = value ? value : "";
    H5free_memory(value);
    return out;
  }
  // One byte more than the file's: a NULLPAD or SPACEPAD string of the full size converts
  // into it with its terminator.
  const std::size_t size = H5Tget_size(type.get()) + 1;
  Handle mem = string_type(size);
  H5Tset_cset(mem.get(), cset);
  std::string buffer(size, '\0');
  if (H5Aread(attr.get(), mem.get(), buffer.data()) < 0) return std::nullopt;
  buffer.resize(std::strlen(buffer.c_str()));
  return buffer;
}

template <class T>
std::optional<T> read_attribute(hid_t obj, const char* name, hid_t mem_type) {
  if (H5Aexists(obj, name) <= 0) return std::nullopt;
  Handle attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  T value{};
  if (!attr.valid() || H5Aread(attr.get(), mem_type, &value) < 0) return std::nullopt;
  return value;
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
  Handle f = open_read_only(file);
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

// The compound row of the `runs` table: fields packed in order.
struct Field {
  std::string name;
  hid_t file_type;  // a predefined type, or a string type owned by `strings`
  hid_t mem_type;
  std::size_t size, offset;
};

class RowType {
 public:
  void add(const std::string& name, hid_t file_type, hid_t mem_type) {
    const std::size_t size = H5Tget_size(mem_type);
    fields_.push_back({name, file_type, mem_type, size, size_});
    size_ += size;
  }
  void add_string(const std::string& name, std::size_t bytes) {
    strings_.push_back(string_type(bytes));
    add(name, strings_.back().get(), strings_.back().get());
  }
  std::size_t size() const { return size_; }
  const Field& operator[](std::size_t i) const { return fields_[i]; }
  Handle build(bool file, const Writer& w) const {
    Handle t(w.check(H5Tcreate(H5T_COMPOUND, size_), "cannot create the row type"), H5Tclose);
    for (const Field& f : fields_)
      w.check_status(H5Tinsert(t.get(), f.name.c_str(), f.offset, file ? f.file_type : f.mem_type),
                     "cannot add the field " + f.name);
    return t;
  }

 private:
  std::vector<Field> fields_;
  std::vector<Handle> strings_;
  std::size_t size_ = 0;
};

template <class T>
void put(std::vector<char>& row, const Field& f, T value) {
  static_assert(std::is_trivially_copyable_v<T>);
  std::memcpy(row.data() + f.offset, &value, sizeof(T));
}

void put_string(std::vector<char>& row, const Field& f, const std::string& value) {
  std::memset(row.data() + f.offset, 0, f.size);
  std::memcpy(row.data() + f.offset, value.data(), std::min(value.size(), f.size - 1));
}

void string_attribute(const Writer& w, hid_t obj, const char* name, const std::string& value) {
  Handle t = string_type(value.size() + 1);
  Handle space(w.check(H5Screate(H5S_SCALAR), "cannot create a dataspace"), H5Sclose);
  Handle a(w.check(H5Acreate2(obj, name, t.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                   std::string("cannot create attribute ") + name),
           H5Aclose);
  w.check_status(H5Awrite(a.get(), t.get(), value.c_str()),
                 std::string("cannot write attribute ") + name);
}

template <class T>
void number_attribute(const Writer& w, hid_t obj, const char* name, hid_t file_type, hid_t mem_type,
                      T value) {
  Handle space(w.check(H5Screate(H5S_SCALAR), "cannot create a dataspace"), H5Sclose);
  Handle a(w.check(H5Acreate2(obj, name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                   std::string("cannot create attribute ") + name),
           H5Aclose);
  w.check_status(H5Awrite(a.get(), mem_type, &value),
                 std::string("cannot write attribute ") + name);
}

}  // namespace

const char* state_name(RunState state) {
  switch (state) {
    case RunState::kMissing:
      return "missing";
    case RunState::kPartial:
      return "partial";
    case RunState::kComplete:
      return "complete";
    case RunState::kInterrupted:
      return "interrupted";
    case RunState::kFailed:
      return "failed";
    case RunState::kStale:
      return "stale";
    case RunState::kUnreadable:
      return "unreadable";
  }
  return "?";
}

RunFileState inspect_run(const fs::path& file, const std::string& expected_sha256) {
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    fs::path partial = file;
    partial += ".partial";
    if (fs::exists(partial, ec))
      return {RunState::kPartial, "only " + partial.filename().string() +
                                      " exists: the run was killed, or is still going"};
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

MergeReport merge_sweep(const fs::path& out, const std::optional<fs::path>& index) {
  quiet_hdf5();
  const fs::path info_file = info_path(out);
  std::error_code ec;
  if (!fs::exists(info_file, ec))
    throw std::runtime_error(out.string() + " is not a sweep output folder: no " +
                             info_file.filename().string() +
                             " (it is written by bankrun sweep before any run)");
  const SweepInfo info = read_info_file(info_file.string());
  const std::size_t n_params = info.parameters.size();

  // Pass 1: the widths of the string columns.
  std::vector<std::size_t> widths(n_params, 2);
  std::uint64_t rows = 0;
  {
    ManifestReader reader(manifest_path(out), info.parameters);
    ManifestRow row;
    while (reader.next(row)) {
      for (std::size_t p = 0; p < n_params; ++p)
        widths[p] = std::max(widths[p], row.values[p].size() + 1);
      ++rows;
    }
  }
  if (rows != info.runs)
    throw std::runtime_error(manifest_path(out).string() + " has " + std::to_string(rows) +
                             " runs, but " + info_file.filename().string() + " says " +
                             std::to_string(info.runs) + " (an interrupted write?)");

  RowType type;
  type.add("index", H5T_STD_I64LE, H5T_NATIVE_INT64);
  type.add("point", H5T_STD_I64LE, H5T_NATIVE_INT64);
  type.add("replicate", H5T_STD_I32LE, H5T_NATIVE_INT32);
  type.add("seed", H5T_STD_U64LE, H5T_NATIVE_UINT64);
  const std::size_t first_param = 4;
  for (std::size_t p = 0; p < n_params; ++p) {
    if (info.numeric[p])
      type.add(info.parameters[p], H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE);
    else
      type.add_string(info.parameters[p], widths[p]);
  }
  const std::size_t status_field = first_param + n_params;
  type.add_string("status", 16);
  type.add("ticks_run", H5T_STD_I32LE, H5T_NATIVE_INT32);
  type.add("withdrawn_agents", H5T_STD_I64LE, H5T_NATIVE_INT64);
  const std::size_t first_institution = status_field + 3;
  for (const std::string& name : info.institutions) {
    type.add(name + ".total_outflow_usd", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE);
    type.add(name + ".peak_daily_outflow_usd", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE);
    type.add(name + ".halt_tick", H5T_STD_I32LE, H5T_NATIVE_INT32);
    type.add(name + ".insolvent_tick", H5T_STD_I32LE, H5T_NATIVE_INT32);
    type.add(name + ".ticks_to_50pct", H5T_STD_I32LE, H5T_NATIVE_INT32);
  }
  const std::size_t tail = first_institution + 5 * info.institutions.size();
  type.add("wall_seconds", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE);
  type.add_string("scenario_sha256", 65);
  type.add_string("file", run_relative_path(rows).size() + 1);

  const fs::path target = index ? *index : index_path(out);
  const std::string partial = target.string() + ".partial";
  const Writer w(partial);
  Handle fapl(w.check(H5Pcreate(H5P_FILE_ACCESS), "cannot create file access properties"),
              H5Pclose);
  w.check_status(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_LATEST),
                 "cannot set the format version");
  Handle file(w.check(H5Fcreate(partial.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()),
                      "cannot create the file"),
              H5Fclose);
  const hid_t root = file.get();
  string_attribute(w, root, "format", "bankrun-sweep-index");
  number_attribute<std::int32_t>(w, root, "format_version", H5T_STD_I32LE, H5T_NATIVE_INT32, 1);
  string_attribute(w, root, "sweep_name", info.name);
  string_attribute(w, root, "sweep_file", info.sweep_file);
  string_attribute(w, root, "mode", info.mode);
  number_attribute<std::uint64_t>(w, root, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, info.seed);
  number_attribute<std::int64_t>(w, root, "points", H5T_STD_I64LE, H5T_NATIVE_INT64,
                                 static_cast<std::int64_t>(info.points));
  number_attribute<std::int32_t>(w, root, "replicates", H5T_STD_I32LE, H5T_NATIVE_INT32,
                                 static_cast<std::int32_t>(info.replicates));
  number_attribute<std::int64_t>(w, root, "runs", H5T_STD_I64LE, H5T_NATIVE_INT64,
                                 static_cast<std::int64_t>(info.runs));
  string_attribute(w, root, "parameters", yaml_reader::join(info.parameters, ","));
  string_attribute(w, root, "institution_names", yaml_reader::join(info.institutions, ","));

  Handle file_t = type.build(true, w);
  Handle mem_t = type.build(false, w);
  constexpr hsize_t kChunk = 1024;
  const hsize_t zero = 0, unlimited = H5S_UNLIMITED, chunk = kChunk;
  Handle space(w.check(H5Screate_simple(1, &zero, &unlimited), "cannot create a dataspace"),
               H5Sclose);
  Handle dcpl(w.check(H5Pcreate(H5P_DATASET_CREATE), "cannot create dataset properties"), H5Pclose);
  w.check_status(H5Pset_chunk(dcpl.get(), 1, &chunk), "cannot set the chunk size");
  w.check_status(H5Pset_deflate(dcpl.get(), 4), "cannot enable deflate");
  Handle runs(w.check(H5Dcreate2(root, "runs", file_t.get(), space.get(), H5P_DEFAULT, dcpl.get(),
                                 H5P_DEFAULT),
                      "cannot create dataset runs"),
              H5Dclose);
  string_attribute(w, runs.get(), "description",
                   "one row per run of the sweep: parameters, seed, status and summary metrics "
                   "(scenarios/SWEEPS.md)");
  Handle trajectories(
      w.check(H5Gcreate2(root, "trajectories", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
              "cannot create group trajectories"),
      H5Gclose);

  MergeReport report;
  report.index = target;
  std::vector<char> block;
  hsize_t written = 0;
  const auto flush = [&]() {
    const hsize_t n = block.size() / type.size();
    if (n == 0) return;
    const hsize_t extent = written + n;
    w.check_status(H5Dset_extent(runs.get(), &extent), "cannot extend dataset runs");
    Handle fspace(w.check(H5Dget_space(runs.get()), "cannot get the dataspace of runs"), H5Sclose);
    w.check_status(
        H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, &written, nullptr, &n, nullptr),
        "cannot select rows");
    Handle mspace(w.check(H5Screate_simple(1, &n, nullptr), "cannot create a dataspace"), H5Sclose);
    w.check_status(
        H5Dwrite(runs.get(), mem_t.get(), mspace.get(), fspace.get(), H5P_DEFAULT, block.data()),
        "cannot write rows of runs");
    written = extent;
    block.clear();
  };

  ManifestReader reader(manifest_path(out), info.parameters);
  ManifestRow m;
  std::vector<char> row(type.size());
  while (reader.next(m)) {
    const RunRecord r = read_run(run_path(out, m.index), m.scenario_sha256, info.institutions);
    std::fill(row.begin(), row.end(), 0);
    put<std::int64_t>(row, type[0], static_cast<std::int64_t>(m.index));
    put<std::int64_t>(row, type[1], static_cast<std::int64_t>(m.point));
    put<std::int32_t>(row, type[2], static_cast<std::int32_t>(m.replicate));
    put<std::uint64_t>(row, type[3], m.seed);
    for (std::size_t p = 0; p < n_params; ++p) {
      const Field& f = type[first_param + p];
      if (info.numeric[p]) {
        const auto parsed = yaml_reader::parse_number(m.values[p]);
        put<double>(row, f,
                    parsed.status == yaml_reader::NumberStatus::kOk ? parsed.value : std::nan(""));
      } else {
        put_string(row, f, m.values[p]);
      }
    }
    put_string(row, type[status_field], state_name(r.state.state));
    put<std::int32_t>(row, type[status_field + 1], r.ticks_run);
    put<std::int64_t>(row, type[status_field + 2], r.withdrawn_agents);
    for (std::size_t k = 0; k < info.institutions.size(); ++k) {
      const auto& in = r.institutions[k];
      const std::size_t base = first_institution + 5 * k;
      put<double>(row, type[base], in.total_outflow_usd);
      put<double>(row, type[base + 1], in.peak_daily_outflow_usd);
      put<std::int32_t>(row, type[base + 2], in.halt_tick);
      put<std::int32_t>(row, type[base + 3], in.insolvent_tick);
      put<std::int32_t>(row, type[base + 4], in.ticks_to_50pct);
    }
    put<double>(row, type[tail], r.wall_seconds);
    put_string(row, type[tail + 1], m.scenario_sha256);
    put_string(row, type[tail + 2], run_relative_path(m.index));
    block.insert(block.end(), row.begin(), row.end());
    if (block.size() / type.size() == kChunk) flush();

    ++report.runs;
    if (r.state.state == RunState::kComplete) {
      ++report.complete;
    } else {
      ++report.problem_count;
      if (report.problems.size() < 20)
        report.problems.emplace_back(
            m.index, std::string(state_name(r.state.state)) + ": " + r.state.detail);
    }
    if (fs::exists(run_path(out, m.index), ec)) {
      const std::string link = std::to_string(m.index);
      w.check_status(H5Lcreate_external(run_relative_path(m.index).c_str(), "/", trajectories.get(),
                                        link.c_str(), H5P_DEFAULT, H5P_DEFAULT),
                     "cannot create the external link trajectories/" + link);
    }
  }
  flush();
  number_attribute<std::int64_t>(w, root, "complete_runs", H5T_STD_I64LE, H5T_NATIVE_INT64,
                                 static_cast<std::int64_t>(report.complete));
  trajectories.close();
  runs.close();
  if (!file.close()) w.fail("cannot close the file");
  fs::rename(partial, target, ec);
  if (ec)
    throw OutputError("cannot rename " + partial + " to " + target.string() + ": " + ec.message());
  return report;
}

}  // namespace bankrun::sweep
