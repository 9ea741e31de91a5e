// A sweep's output folder layout, atomic writes and the manifest (output/sweep/manifest.hpp).
#include "output/sweep/manifest.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <utility>

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

namespace {

// A temporary name next to `path`, unique among processes (array tasks on several nodes
// may write the same file on a shared file system).
fs::path temporary_path(const fs::path& path) {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  return path.string() + ".tmp." + host + "." + std::to_string(::getpid());
}

}  // namespace

void write_atomically(const fs::path& path, const std::string& text) {
  const fs::path tmp = temporary_path(path);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      throw std::runtime_error("cannot write " + tmp.string() + ": " + std::strerror(errno));
    out << text;
    if (!out.flush()) throw std::runtime_error("cannot write " + tmp.string());
  }
  fs::rename(tmp, path);
}

std::vector<std::string> parameter_paths(const Sweep& sweep) {
  std::vector<std::string> parameters;
  for (const Parameter& p : sweep.parameters) parameters.push_back(p.path);
  return parameters;
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

// ---- Writing the manifest ----------------------------------------------------------------------

void write_manifest(const Sweep& sweep, const std::string& version) {
  fs::create_directories(sweep.output_dir);
  const std::vector<std::string> parameters = parameter_paths(sweep);
  const fs::path path = manifest_path(sweep.output_dir);
  const fs::path tmp = temporary_path(path);
  try {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      throw std::runtime_error("cannot write " + tmp.string() + ": " + std::strerror(errno));
    out << csv_line(manifest_columns(parameters));
    std::vector<std::string> cells;
    for (std::uint64_t i = 0; i < sweep.runs(); ++i) {
      const Run run = expand(sweep, i);
      const LoadedScenario loaded = load_run(sweep, run);
      cells = {std::to_string(run.index), std::to_string(run.point), std::to_string(run.replicate),
               std::to_string(run.seed), sha256_hex(loaded.resolved_yaml)};
      cells.insert(cells.end(), run.values.begin(), run.values.end());
      out << csv_line(cells);
    }
    if (!out.flush()) throw std::runtime_error("cannot write " + tmp.string());
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
  fs::rename(tmp, path);
  write_atomically(info_path(sweep.output_dir), info_yaml(make_info(sweep, version)));
}

bool manifest_current(const Sweep& sweep) {
  std::error_code ec;
  if (!fs::exists(info_path(sweep.output_dir), ec) ||
      !fs::exists(manifest_path(sweep.output_dir), ec))
    return false;
  try {
    const SweepInfo info = read_info_file(info_path(sweep.output_dir).string());
    return info.digest == sweep.digest && info.runs == sweep.runs();
  } catch (const std::exception&) {
    return false;
  }
}

void list_runs(const Sweep& sweep, const Shard& shard, std::ostream& out) {
  std::vector<std::string> header = {"index", "point", "replicate", "seed"};
  for (const Parameter& p : sweep.parameters) header.push_back(p.path);
  out << csv_line(header);
  for (std::uint64_t i = shard.index; i < sweep.runs(); i += shard.count) {
    const Run run = expand(sweep, i);
    std::vector<std::string> cells = {std::to_string(run.index), std::to_string(run.point),
                                      std::to_string(run.replicate), std::to_string(run.seed)};
    cells.insert(cells.end(), run.values.begin(), run.values.end());
    out << csv_line(cells);
  }
}

}  // namespace bankrun::sweep
