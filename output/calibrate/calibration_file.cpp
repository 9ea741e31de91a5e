// Calibration files: reading and checking (see calibration_file.hpp, scenarios/CALIBRATION.md).
#include "output/calibrate/calibration_file.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "output/sweep/sweep_file.hpp"
#include "scenarios/data_files.hpp"
#include "scenarios/loader.hpp"
#include "scenarios/yaml_reader.hpp"

namespace bankrun::calibrate {

namespace fs = std::filesystem;
using yaml_reader::MapReader;
using yaml_reader::Range;
using yaml_reader::Value;

double FreeParameter::value(double u) const {
  u = std::clamp(u, 0.0, 1.0);
  const double x = log_scale ? std::exp(std::log(low) + u * (std::log(high) - std::log(low)))
                             : low + u * (high - low);
  return integer ? std::round(x) : std::clamp(x, low, high);
}

double FreeParameter::unit(double x) const {
  return log_scale ? (std::log(x) - std::log(low)) / (std::log(high) - std::log(low))
                   : (x - low) / (high - low);
}

std::uint32_t Calibration::population() const {
  if (search.population) return search.population;
  const double d = static_cast<double>(std::max<std::size_t>(parameters.size(), 1));
  return 4 + static_cast<std::uint32_t>(std::floor(3.0 * std::log(d)));
}

std::optional<double> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double factor = 1.0;
  switch (text.back()) {
    case 's':
      text.remove_suffix(1);
      break;
    case 'm':
      factor = 60.0;
      text.remove_suffix(1);
      break;
    case 'h':
      factor = 3600.0;
      text.remove_suffix(1);
      break;
    default:
      break;
  }
  const auto parsed = yaml_reader::parse_number(text);
  if (parsed.status != yaml_reader::NumberStatus::kOk || parsed.value <= 0.0) return std::nullopt;
  return parsed.value * factor;
}

namespace {

fs::path resolve(const Value& v, const fs::path& dir) {
  const std::string written = v.string();
  if (written.empty() || !v.is_scalar()) v.fail("expected a file path, got " + v.describe());
  const fs::path p(written);
  return (p.is_absolute() ? p : dir / p).lexically_normal();
}

// ---- The observed CSV: a header with timestamp, quantity, value (end_timestamp optional) ----

struct CsvRow {
  std::string quantity;
  Observation observation;
  bool has_value = false;
};

std::vector<CsvRow> read_observed_csv(const fs::path& path, const std::string& key_path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw ScenarioError(path.string(), 0, 0, key_path,
                        std::string("cannot open the observed data: ") + std::strerror(errno));
  const std::string file = path.string();
  std::string line;
  int number = 0;
  std::map<std::string, std::size_t> column;
  std::vector<CsvRow> rows;
  std::vector<data_files::Cell> cells;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos || line[0] == '#') continue;
    if (const std::string error = data_files::split_csv(line, cells); !error.empty())
      throw ScenarioError(file, number, 1, key_path, "malformed CSV row: " + error);
    if (column.empty()) {
      for (std::size_t i = 0; i < cells.size(); ++i) column[cells[i].text] = i;
      for (const char* required : {"timestamp", "quantity", "value"})
        if (!column.contains(required))
          throw ScenarioError(file, number, 1, key_path,
                              std::string("the header has no column '") + required +
                                  "' (expected timestamp, quantity, value and optionally "
                                  "end_timestamp)");
      continue;
    }
    auto cell = [&](const char* name) -> std::string {
      const auto it = column.find(name);
      return it == column.end() || it->second >= cells.size() ? "" : cells[it->second].text;
    };
    auto fail = [&](const char* name, const std::string& message) {
      const std::size_t k = column.at(name);
      throw ScenarioError(file, number, k < cells.size() ? cells[k].column : 1, key_path, message);
    };
    CsvRow row;
    row.quantity = cell("quantity");
    if (row.quantity.empty()) fail("quantity", "empty quantity");
    row.observation.line = number;
    const auto t = yaml_reader::parse_utc_timestamp(cell("timestamp"));
    if (!t.error.empty()) fail("timestamp", "timestamp: " + t.error);
    row.observation.time = t.unix_seconds;
    if (column.contains("end_timestamp") && !cell("end_timestamp").empty()) {
      const auto e = yaml_reader::parse_utc_timestamp(cell("end_timestamp"));
      if (!e.error.empty()) fail("end_timestamp", "end_timestamp: " + e.error);
      if (e.unix_seconds <= t.unix_seconds)
        fail("end_timestamp", "end_timestamp must be after timestamp");
      row.observation.end = e.unix_seconds;
    }
    const std::string value = cell("value");
    if (!value.empty()) {
      const auto v = yaml_reader::parse_number(value);
      if (v.status != yaml_reader::NumberStatus::kOk)
        fail("value", "expected a finite number, got '" + value + "'");
      row.observation.value = v.value;
      row.has_value = true;
    }
    rows.push_back(row);
  }
  if (column.empty()) throw ScenarioError(file, 0, 0, key_path, "the observed data file is empty");
  return rows;
}

// ---- Sections ----------------------------------------------------------------------------

// Loads the base with the fixed overrides (and `extra`); a ScenarioError at `at` says why.
LoadedScenario load_base(const Calibration& c, const std::vector<std::string>& extra) {
  std::vector<std::string> sets = c.fixed;
  sets.insert(sets.end(), extra.begin(), extra.end());
  return load_scenario_file(c.base_file, sets);
}

// Why the base does not load with `text`: the override's own problem (an unknown key, a
// value out of range) as the loader says it, or the scenario's error it leads to.
std::optional<std::string> override_problem(const Calibration& c, const std::string& text) {
  try {
    load_base(c, {text});
  } catch (const ScenarioError& e) {
    if (e.file().starts_with("--set ")) return e.key_path() + ": " + e.message();
    return "with " + text + " the scenario is invalid: " + e.what();
  }
  return std::nullopt;
}

void check_override(const Calibration& c, const Value& at, const std::string& text) {
  if (const auto problem = override_problem(c, text)) at.fail(*problem);
}

void read_fixed(const MapReader& m, Calibration& c) {
  const auto fixed = m.get("fixed");
  if (!fixed || fixed->node().IsNull()) return;
  const MapReader fm(*fixed);
  for (const std::string& key : fm.keys()) {
    const Value v = *fm.get(key);
    if (!v.is_scalar()) v.fail("expected a scalar value, got " + v.describe());
    if (key == "seed")
      fm.fail_at_key(key, "the seeds of the runs come from the calibration's seed");
    const std::string text = key + "=" + v.string();
    check_override(c, v, text);
    c.fixed.push_back(text);
  }
}

void read_parameters(const MapReader& m, Calibration& c) {
  const Value params = m.required("parameters");
  const MapReader pm(params);
  if (pm.keys().empty()) params.fail("expected at least one free parameter");
  for (const std::string& key : pm.keys()) {
    const Value v = *pm.get(key);
    const MapReader p(v);
    p.allow_only({"low", "high", "scale", "integer"});
    FreeParameter f;
    f.path = key;
    f.line = v.mark().line + 1;
    f.column = v.mark().column + 1;
    if (key == "seed") pm.fail_at_key(key, "the seed is not a parameter: set replicates instead");
    for (const std::string& fixed : c.fixed)
      if (fixed.substr(0, fixed.find('=')) == key)
        pm.fail_at_key(key, "is also in fixed: a parameter cannot be fixed");
    f.log_scale = p.has("scale") && p.get("scale")->choice({"linear", "log"}) == 1;
    f.low = p.required_number("low", f.log_scale ? Range::above(0.0) : Range::any());
    f.high = p.required("high").number(Range::above(f.low));
    f.integer = p.boolean("integer", false);
    // An unknown key path is the key's fault; a bound the scenario rejects, the bound's.
    if (const auto problem = override_problem(c, key + "=" + sweep::format_value(f.low))) {
      if (problem->find("unknown key") != std::string::npos ||
          problem->find("is out of range: ") != std::string::npos)
        pm.fail_at_key(key, *problem);
      p.get("low")->fail(*problem);
    }
    check_override(c, *p.get("high"), key + "=" + sweep::format_value(f.high));
    c.parameters.push_back(f);
  }
}

// The `institution` of a target or moment: one of the base scenario's (default: its first).
std::string read_institution(const Calibration& c, const MapReader& m) {
  const auto given = m.get("institution");
  if (!given) return c.institutions.front();
  return c.institutions[given->choice(c.institutions)];  // fails with a suggestion
}

void check_unique(const std::set<std::string>& names, const MapReader& m, const std::string& name) {
  if (names.contains(name))
    m.fail("the name '" + name + "' is used twice (targets and moments need distinct names)");
}

void read_targets(const MapReader& m, const fs::path& dir, const LoadedScenario& base,
                  Calibration& c, std::set<std::string>& names) {
  const auto targets = m.get("targets");
  if (!targets || targets->node().IsNull()) return;
  const Value observed = m.required("observed");
  c.observed_file = resolve(observed, dir).string();
  // Not a device or a FIFO (reading one may never end), nor a huge file; it must open.
  if (const auto reason = data_files::unusable_file(c.observed_file))
    observed.fail("cannot read '" + c.observed_file + "': " + *reason);
  if (!std::ifstream(c.observed_file))
    observed.fail("cannot open '" + c.observed_file + "': " + std::strerror(errno));
  const std::vector<CsvRow> rows = read_observed_csv(c.observed_file, "observed");
  const std::int64_t run_end = c.start_unix_seconds + std::llround(c.ticks * c.tick_hours * 3600.0);
  for (const Value& item : targets->list()) {
    const MapReader t(item);
    t.allow_only({"name", "quantity", "institution", "series", "asset", "scale", "weight"});
    SeriesTarget target;
    target.series = kSeriesNames[t.required("series").choice(names_of(kSeriesNames))].value;
    target.quantity = t.string("quantity", series_name(target.series));
    target.name = t.string("name", target.quantity);
    check_unique(names, t, target.name);
    names.insert(target.name);
    target.institution = read_institution(c, t);
    if (target.series == Series::kPrice || target.series == Series::kAssetUnits) {
      const Value asset = t.required("asset");
      target.asset = asset.string();
      std::vector<std::string> assets;
      for (const InstitutionSpec& in : base.scenario.institutions)
        if (in.name == target.institution)
          for (const AssetSpec& a : in.assets) assets.push_back(a.name);
      if (std::find(assets.begin(), assets.end(), target.asset) == assets.end()) {
        if (assets.empty()) asset.fail("institution '" + target.institution + "' holds no assets");
        asset.choice(assets);
      }
    } else if (t.has("asset")) {
      t.fail_at_key("asset", "only the series price and asset_units take an asset");
    }
    target.scale = t.required_number("scale", Range::above(0.0));
    target.weight = t.number("weight", Range::at_least(0.0), 1.0);
    for (const CsvRow& row : rows) {
      if (row.quantity != target.quantity) continue;
      const Observation& o = row.observation;
      auto fail_row = [&](const std::string& message) {
        throw ScenarioError(c.observed_file, o.line, 1, "targets." + target.name, message);
      };
      if (!row.has_value && target.series != Series::kHalt) fail_row("the row has no value");
      if (o.end && !is_flow(target.series))
        fail_row("an end_timestamp is for flows (net_outflow, gross_outflow, ...), not " +
                 std::string(series_name(target.series)));
      if (o.time < c.start_unix_seconds || o.time > run_end || (o.end && *o.end > run_end))
        fail_row("the row's time is outside the run (" +
                 yaml_reader::format_utc_timestamp(c.start_unix_seconds) + " to " +
                 yaml_reader::format_utc_timestamp(run_end) + ")");
      target.observations.push_back(o);
    }
    if (target.observations.empty())
      t.fail("no row of " + c.observed_file + " has quantity '" + target.quantity + "'");
    c.targets.push_back(std::move(target));
  }
  for (const CsvRow& row : rows) {
    const bool used = std::any_of(c.targets.begin(), c.targets.end(), [&](const SeriesTarget& t) {
      return t.quantity == row.quantity;
    });
    if (!used && std::find(c.unused_quantities.begin(), c.unused_quantities.end(), row.quantity) ==
                     c.unused_quantities.end())
      c.unused_quantities.push_back(row.quantity);
  }
}

void read_moments(const MapReader& m, Calibration& c, std::set<std::string>& names) {
  const auto moments = m.get("moments");
  if (!moments || moments->node().IsNull()) return;
  for (const Value& item : moments->list()) {
    const MapReader t(item);
    t.allow_only({"name", "statistic", "institution", "fraction", "observed", "scale", "weight"});
    Moment mo;
    mo.statistic = kStatisticNames[t.required("statistic").choice(names_of(kStatisticNames))].value;
    mo.name = t.string("name", name_in(kStatisticNames, mo.statistic));
    check_unique(names, t, mo.name);
    names.insert(mo.name);
    mo.institution = read_institution(c, t);
    if (takes_fraction(mo.statistic))
      mo.fraction = t.required_number("fraction", Range::open_closed(0.0, 1.0));
    else if (t.has("fraction"))
      t.fail_at_key("fraction",
                    "only hours_to_net_outflow_fraction and hours_to_withdrawn_fraction take a "
                    "fraction");
    mo.observed = t.required_number("observed", Range::any());
    mo.scale = t.required_number("scale", Range::above(0.0));
    mo.weight = t.number("weight", Range::at_least(0.0), 1.0);
    c.moments.push_back(mo);
  }
}

void read_budget_and_search(const MapReader& m, Calibration& c) {
  if (const auto budget = m.get("budget")) {
    const MapReader b(*budget);
    b.allow_only({"evaluations", "wall_time"});
    c.max_evaluations = b.integer<std::uint64_t>("evaluations", 1, 1'000'000, c.max_evaluations);
    if (const auto wall = b.get("wall_time")) {
      const auto seconds = parse_duration(wall->string());
      if (!seconds)
        wall->fail("expected a duration such as 90s, 10m or 2h, got " + wall->describe());
      c.max_wall_seconds = *seconds;
    }
  }
  if (const auto search = m.get("search")) {
    const MapReader s(*search);
    s.allow_only({"design", "initial_points", "method", "population", "sigma", "tolerance"});
    SearchSpec& sp = c.search;
    if (s.has("design"))
      sp.design = kDesignNames[s.get("design")->choice(names_of(kDesignNames))].value;
    sp.initial_points = s.integer<std::uint64_t>("initial_points", 1, 1'000'000, 0);
    if (s.has("method"))
      sp.method = kMethodNames[s.get("method")->choice(names_of(kMethodNames))].value;
    sp.population = s.integer<std::uint32_t>("population", 2, 10'000, 0);
    sp.sigma = s.number("sigma", Range::open_closed(0.0, 1.0), sp.sigma);
    sp.tolerance = s.number("tolerance", Range::above(0.0), sp.tolerance);
  }
  if (const auto u = m.get("uncertainty")) {
    const MapReader um(*u);
    um.allow_only({"points", "level", "edge_rounds"});
    c.uncertainty_points = um.integer<std::uint64_t>("points", 1, 1'000'000, 0);
    c.edge_rounds = um.integer<std::uint32_t>("edge_rounds", 0, 100, c.edge_rounds);
    c.level = um.number("level", Range{0.0, 1.0, true, true}, c.level);
  }
}

}  // namespace

Calibration read_calibration_text(std::string_view yaml, const std::string& source_name,
                                  const fs::path& dir) {
  const YAML::Node root = yaml_reader::parse_document(yaml, source_name);
  if (!root.IsDefined() || root.IsNull())
    throw ScenarioError(source_name, 0, 0, "",
                        "the calibration file is empty (expected a mapping with base, "
                        "parameters and targets or moments)");
  const yaml_reader::Origins origins(source_name);
  const MapReader m(Value(origins, root, "", root.Mark()));
  m.allow_only({"name", "description", "base", "fixed", "seed", "replicates", "output",
                "parameters", "observed", "targets", "moments", "budget", "search", "uncertainty"});
  Calibration c;
  c.file = source_name;
  c.text = std::string(yaml);
  const fs::path absolute_dir =
      (dir.empty() ? fs::current_path() : fs::absolute(dir)).lexically_normal();
  const std::string stem = fs::path(source_name).stem().string();
  if (const auto name = m.get("name")) {
    c.name = name->string();
    if (!sweep::is_name(c.name))
      name->fail("expected a name of at most 63 letters, digits, '_', '.' or '-', got '" + c.name +
                 "'");
  } else {
    c.name = sweep::is_name(stem) ? stem : "calibration";
  }
  c.description = m.string("description", "");
  c.seed = m.integer<std::uint64_t>("seed", 0, std::numeric_limits<std::uint64_t>::max(), 1);
  c.replicates = m.integer<std::uint32_t>("replicates", 1, 10'000, c.replicates);
  c.output_dir = m.has("output") ? resolve(*m.get("output"), absolute_dir)
                                 : absolute_dir / (c.name + ".calibration");

  const Value base = m.required("base");
  if (!base.is_scalar()) base.fail("expected the path of a scenario file, got " + base.describe());
  c.base_file = resolve(base, absolute_dir).string();
  try {
    data_files::read_text_file(c.base_file);  // refuses devices and FIFOs
  } catch (const std::exception& e) {
    base.fail("cannot open '" + c.base_file + "': " + e.what());
  }
  read_fixed(m, c);
  const LoadedScenario loaded = load_base(c, {});
  c.start_unix_seconds = loaded.scenario.time.start_unix_seconds;
  c.tick_hours = loaded.scenario.time.tick_hours;
  c.ticks = loaded.scenario.time.ticks;
  for (const InstitutionSpec& in : loaded.scenario.institutions) c.institutions.push_back(in.name);

  read_parameters(m, c);
  std::set<std::string> names;
  read_targets(m, absolute_dir, loaded, c, names);
  read_moments(m, c, names);
  if (c.targets.empty() && c.moments.empty())
    m.fail("nothing to fit: give targets (with observed data) or moments");
  if (m.has("observed") && c.targets.empty())
    m.fail_at_key("observed", "observed data needs targets that say what each quantity is");
  read_budget_and_search(m, c);
  return c;
}

Calibration read_calibration_file(const std::string& path) {
  std::string text;
  try {
    text = data_files::read_text_file(path);
  } catch (const std::exception& e) {
    throw ScenarioError(path, 0, 0, "", std::string("cannot open: ") + e.what());
  }
  return read_calibration_text(text, path, fs::path(path).parent_path());
}

}  // namespace bankrun::calibrate
