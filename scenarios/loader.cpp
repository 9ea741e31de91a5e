#include "scenarios/loader.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "scenarios/yaml_reader.hpp"

namespace bankrun {

namespace {

std::string compose_what(const std::string& file, int line, int column, const std::string& key_path,
                         const std::string& message) {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  if (!out.empty()) out += ": ";
  if (!key_path.empty()) out += key_path + ": ";
  return out + message;
}

}  // namespace

ScenarioError::ScenarioError(std::string file, int line, int column, std::string key_path,
                             std::string message)
    : std::runtime_error(compose_what(file, line, column, key_path, message)),
      file_(std::move(file)),
      key_path_(std::move(key_path)),
      message_(std::move(message)),
      line_(line),
      column_(column) {}

namespace {

using yaml_reader::MapReader;
using yaml_reader::Range;
using yaml_reader::Value;

constexpr std::int32_t kLastTick = kForever - 1;  // kForever itself means "never"
// 100 trillion USD: keeps amounts in cents, even times hot_reserve_fraction (<= 100), in int64.
constexpr double kMaxUsd = 1.0e14;
const char* const kDefaultStart = "2022-01-01T00:00:00Z";

bool is_identifier(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

std::string identifier(const Value& v) {
  const std::string s = v.string();
  if (!is_identifier(s))
    v.fail("expected a name of letters, digits, '_', '.' or '-' ([A-Za-z0-9_.-]+), got '" + s +
           "'");
  return s;
}

// ---- distributions ------------------------------------------------------------------------

struct DistributionKind {
  const char* name;
  Distribution::Kind kind;
  std::vector<std::string> parameters;  // required
};

const std::vector<DistributionKind>& distribution_kinds() {
  static const std::vector<DistributionKind> kinds = {
      {"constant", Distribution::Kind::kConstant, {"value"}},
      {"uniform", Distribution::Kind::kUniform, {"low", "high"}},
      {"normal", Distribution::Kind::kNormal, {"mean", "sd"}},
      {"lognormal", Distribution::Kind::kLognormal, {"mu", "sigma"}},
  };
  return kinds;
}

void read_clip(const MapReader& m, Distribution& d) {
  d.clip_min = m.number("clip_min", Range::any(), d.clip_min);
  d.clip_max = m.number("clip_max", Range::any(), d.clip_max);
  if (d.clip_min > d.clip_max)
    m.get("clip_max")
        ->fail("expected clip_max >= clip_min (" + yaml_reader::format_number(d.clip_min) +
               "), got " + yaml_reader::format_number(d.clip_max));
}

void read_parameters(const MapReader& m, Distribution& d) {
  switch (d.kind) {
    case Distribution::Kind::kConstant:
      d.value = m.required_number("value", Range::any());
      break;
    case Distribution::Kind::kUniform:
      d.low = m.required_number("low", Range::any());
      d.high = m.required_number("high", Range::any());
      if (!(d.low < d.high))
        m.get("high")->fail("expected high > low (" + yaml_reader::format_number(d.low) +
                            "), got " + yaml_reader::format_number(d.high));
      break;
    case Distribution::Kind::kNormal:
      d.mean = m.required_number("mean", Range::any());
      d.sd = m.required_number("sd", Range::at_least(0));
      break;
    case Distribution::Kind::kLognormal:
      d.mu = m.required_number("mu", Range::any());
      d.sigma = m.required_number("sigma", Range::at_least(0));
      break;
  }
}

// A plain number (a constant) or {dist: KIND, parameters..., clip_min, clip_max}.
Distribution read_distribution(const Value& v) {
  if (v.is_scalar() && !v.is_quoted_string() &&
      yaml_reader::parse_number(v.node().Scalar()).status != yaml_reader::NumberStatus::kNotANumber)
    return Distribution::constant(v.number());
  if (!v.is_map())
    v.fail(
        "expected a number or a mapping with 'dist' (constant, uniform, normal, lognormal), got " +
        v.describe());
  const MapReader m(v);
  const auto& kinds = distribution_kinds();
  std::vector<std::string> names, all_keys = {"dist", "clip_min", "clip_max"};
  for (const auto& k : kinds) {
    names.push_back(k.name);
    all_keys.insert(all_keys.end(), k.parameters.begin(), k.parameters.end());
  }
  if (!m.has("dist")) {
    m.allow_only(all_keys);
    m.required("dist");
  }
  const DistributionKind& kind = kinds[m.get("dist")->choice(names)];
  std::vector<std::string> allowed = {"dist"};
  allowed.insert(allowed.end(), kind.parameters.begin(), kind.parameters.end());
  allowed.insert(allowed.end(), {"clip_min", "clip_max"});
  std::map<std::string, std::string> notes;
  for (const auto& other : kinds)
    for (const auto& p : other.parameters)
      if (&other != &kind) notes[p] = "'" + p + "' belongs to dist: " + other.name;
  m.allow_only(allowed, notes, std::string("(dist: ") + kind.name + ")");

  Distribution d;
  d.kind = kind.kind;
  read_parameters(m, d);
  read_clip(m, d);
  return d;
}

// ---- sections -----------------------------------------------------------------------------

TimeSpec read_time(const Value& v) {
  const MapReader m(v);
  m.allow_only({"ticks", "tick_hours", "start"});
  TimeSpec t;
  t.ticks = m.required_integer<std::int32_t>("ticks", 1, 10'000'000);
  t.tick_hours = m.number("tick_hours", Range::open_closed(0, 8760), 1.0);
  const auto start = m.get("start");
  t.start_unix_seconds =
      start ? start->timestamp() : yaml_reader::parse_utc_timestamp(kDefaultStart).unix_seconds;
  t.start_utc = yaml_reader::format_utc_timestamp(t.start_unix_seconds);
  return t;
}

InvestorClass read_class(const Value& v) {
  const MapReader m(v);
  m.allow_only({"name", "share", "balance_usd", "threshold", "noise_sd", "attention"});
  InvestorClass c;
  c.name = identifier(m.required("name"));
  c.share = m.number("share", Range::above(0), 1.0);
  c.balance_usd = read_distribution(m.required("balance_usd"));
  c.threshold = read_distribution(m.required("threshold"));
  c.noise_sd = m.number("noise_sd", Range::at_least(0), 0.0);
  c.attention = m.number("attention", Range::closed(0, 1), 1.0);
  return c;
}

std::vector<InvestorClass> read_classes(const Value& v) {
  const std::vector<Value> items = v.list();
  if (items.empty() || items.size() > 255)
    v.fail("expected a list of 1 .. 255 classes, got " + std::to_string(items.size()));
  std::vector<InvestorClass> classes;
  double share_sum = 0.0;
  for (const Value& item : items) {
    classes.push_back(read_class(item));
    share_sum += classes.back().share;
    for (std::size_t i = 0; i + 1 < classes.size(); ++i)
      if (classes[i].name == classes.back().name)
        MapReader(item).get("name")->fail("duplicate class name '" + classes.back().name +
                                          "' (also classes[" + std::to_string(i) + "])");
  }
  if (!std::isfinite(share_sum)) v.fail("the shares of the classes sum to infinity");
  return classes;
}

PopulationSpec read_population(const Value& v) {
  const MapReader m(v);
  m.allow_only({"agents", "total_balance_usd", "classes"});
  PopulationSpec p;
  p.agents = m.required_integer<std::uint32_t>("agents", 1, 4'000'000'000U);
  p.total_balance_usd = m.optional_number("total_balance_usd", Range::open_closed(0, kMaxUsd));
  p.classes = read_classes(m.required("classes"));
  return p;
}

NetworkSpec read_network(const std::optional<Value>& v, std::uint32_t agents) {
  NetworkSpec n;
  if (!v) return n;
  const MapReader m(*v);
  const std::vector<std::string> types = {"none", "k_out", "erdos_renyi"};
  if (!m.has("type"))
    m.allow_only({"type"}, {{"k", "'k' needs type: k_out"},
                            {"mean_degree", "'mean_degree' needs type: erdos_renyi"}});
  const std::size_t type = m.has("type") ? m.get("type")->choice(types) : 0;
  const std::string context = "(type: " + types[type] + ")";
  const std::map<std::string, std::string> notes = {
      {"k", "'k' is only valid with type: k_out"},
      {"mean_degree", "'mean_degree' is only valid with type: erdos_renyi"}};
  if (type == 0) {
    m.allow_only({"type"}, notes, context);
  } else if (type == 1) {
    m.allow_only({"type", "k"}, notes, context);
    n.kind = NetworkSpec::Kind::kKOut;
    n.k = m.integer<std::uint32_t>("k", 0, 1000, 10);
  } else {
    m.allow_only({"type", "mean_degree"}, notes, context);
    n.kind = NetworkSpec::Kind::kErdosRenyi;
    const auto mean_degree = m.get("mean_degree");
    n.mean_degree = mean_degree ? mean_degree->number(Range::at_least(0)) : n.mean_degree;
    if (n.mean_degree > static_cast<double>(agents) - 1.0) {
      const std::string message = "expected a mean degree <= population.agents - 1 (" +
                                  std::to_string(agents - 1) + "), got " +
                                  yaml_reader::format_number(n.mean_degree);
      if (mean_degree) mean_degree->fail(message);
      m.fail(message + " (the default; set network.mean_degree)");
    }
  }
  return n;
}

StressSpec read_stress(const std::optional<Value>& v) {
  StressSpec s;
  if (!v) return s;
  const MapReader m(*v);
  m.allow_only({"news_weight", "peer_weight", "flow_weight", "carry", "peer_lag_ticks",
                "flow_window_ticks"});
  s.news_weight = m.number("news_weight", Range::any(), 0.0);
  s.peer_weight = m.number("peer_weight", Range::any(), 0.0);
  s.flow_weight = m.number("flow_weight", Range::any(), 0.0);
  s.carry = m.number("carry", Range::closed(0, 1), 0.0);
  s.peer_lag_ticks = m.integer<std::int32_t>("peer_lag_ticks", 0, 100'000, 0);
  s.flow_window_ticks = m.integer<std::int32_t>("flow_window_ticks", 0, 100'000, 0);
  return s;
}

// The tick containing the instant `at` (which must not be before time.start).
std::int32_t tick_at(const Value& at, const TimeSpec& time) {
  const std::int64_t seconds = at.timestamp();
  if (seconds < time.start_unix_seconds)
    at.fail("expected a time not before time.start (" + time.start_utc + "), got '" +
            at.node().Scalar() + "'");
  const double ticks =
      static_cast<double>(seconds - time.start_unix_seconds) / (time.tick_hours * 3600.0);
  const double tick = std::floor(ticks + 1e-9);  // 1e-9: an exact multiple stays exact
  if (tick > kLastTick)
    at.fail("the time '" + at.node().Scalar() + "' is more than " + std::to_string(kLastTick) +
            " ticks after time.start");
  return static_cast<std::int32_t>(tick);
}

NewsEvent read_news_event(const Value& v, std::size_t index, const TimeSpec& time) {
  const MapReader m(v);
  m.allow_only({"label", "tick", "at", "magnitude", "decay_ticks", "duration_ticks", "reach"});
  NewsEvent e;
  e.label = m.string("label", "news " + std::to_string(index));
  const auto tick = m.get("tick"), at = m.get("at");
  if (tick && at) at->fail("give either 'tick' or 'at', not both");
  if (!tick && !at)
    m.value().origins().fail(v.mark(), yaml_reader::child_path(v.path(), "tick"),
                             "missing required key: each news event needs 'tick' or 'at'");
  e.tick = tick ? tick->integer<std::int32_t>(0, kLastTick) : tick_at(*at, time);
  e.magnitude = m.required_number("magnitude", Range::any());
  e.decay_ticks = m.number("decay_ticks", Range::above(0), e.decay_ticks);
  e.duration_ticks = m.integer<std::int32_t>("duration_ticks", 1, kForever, kForever);
  e.reach = m.number("reach", Range::closed(0, 1), 1.0);
  return e;
}

std::vector<NewsEvent> read_news(const std::optional<Value>& v, const TimeSpec& time) {
  std::vector<NewsEvent> news;
  if (!v) return news;
  const std::vector<Value> items = v->list();
  for (std::size_t i = 0; i < items.size(); ++i) news.push_back(read_news_event(items[i], i, time));
  std::stable_sort(news.begin(), news.end(),
                   [](const NewsEvent& a, const NewsEvent& b) { return a.tick < b.tick; });
  return news;
}

HaltSpec read_halt(const std::optional<Value>& v, const TimeSpec& time) {
  HaltSpec h;
  if (!v) return h;
  const MapReader m(*v);
  m.allow_only({"at_tick", "at", "withdrawn_fraction_at_least", "hot_ratio_below"});
  const auto at_tick = m.get("at_tick"), at = m.get("at");
  if (at_tick && at) at->fail("give either 'at_tick' or 'at', not both");
  if (at_tick) h.at_tick = at_tick->integer<std::int32_t>(0, kLastTick);
  if (at) h.at_tick = tick_at(*at, time);
  h.withdrawn_fraction_at_least = m.number("withdrawn_fraction_at_least", Range::open_closed(0, 1),
                                           h.withdrawn_fraction_at_least);
  h.hot_ratio_below = m.number("hot_ratio_below", Range::open_closed(0, 1), h.hot_ratio_below);
  return h;
}

InstitutionSpec read_institution(const Value& v, const TimeSpec& time) {
  const MapReader m(v);
  m.allow_only({"name", "hot_reserve_fraction", "max_payout_per_tick_usd", "halt"});
  InstitutionSpec s;
  if (const auto name = m.get("name")) s.name = identifier(*name);
  s.hot_reserve_fraction = m.number("hot_reserve_fraction", Range::closed(0, 100), 1.0);
  if (const auto payout = m.get("max_payout_per_tick_usd")) {
    s.max_payout_per_tick = usd_to_cents(payout->number(Range::open_closed(0, kMaxUsd)));
    if (s.max_payout_per_tick < 1)
      payout->fail("expected at least 0.01 USD (one cent), got " + payout->describe());
  }
  s.halt = read_halt(m.get("halt"), time);
  return s;
}

InstitutionSpec read_institutions(const Value& v, const TimeSpec& time) {
  const std::vector<Value> items = v.list();
  if (items.size() != 1)
    v.fail("expected exactly one institution (this version supports a single institution), got " +
           std::to_string(items.size()));
  return read_institution(items[0], time);
}

Scenario read_scenario(const Value& root) {
  const MapReader m(root);
  m.allow_only({"name", "description", "seed", "time", "population", "network", "stress", "news",
                "institutions"});
  Scenario s;
  s.name = m.required_string("name");
  if (s.name.empty()) m.get("name")->fail("expected a non-empty name");
  s.description = m.string("description", "");
  s.seed = m.integer<std::uint64_t>("seed", 0, std::numeric_limits<std::uint64_t>::max(), 1);
  s.time = read_time(m.required("time"));
  s.population = read_population(m.required("population"));
  s.network = read_network(m.get("network"), s.population.agents);
  s.stress = read_stress(m.get("stress"));
  s.news = read_news(m.get("news"), s.time);
  s.institution = read_institutions(m.required("institutions"), s.time);
  return s;
}

// ---- documents ----------------------------------------------------------------------------

YAML::Node parse_document(std::string_view yaml, const std::string& source) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(yaml));
  } catch (const YAML::Exception& e) {
    const bool has_mark = !e.mark.is_null();
    throw ScenarioError(source, has_mark ? e.mark.line + 1 : 0, has_mark ? e.mark.column + 1 : 0,
                        "", "invalid YAML: " + e.msg);
  }
  if (documents.size() > 1) {
    const YAML::Mark mark = documents[1].Mark();
    throw ScenarioError(
        source, mark.is_null() ? 0 : mark.line + 1, mark.is_null() ? 0 : mark.column + 1, "",
        "expected a single YAML document, found " + std::to_string(documents.size()));
  }
  return documents.empty() ? YAML::Node() : documents[0];
}

std::string emit(const YAML::Node& root) {
  YAML::Emitter out;
  out << root;
  return std::string(out.c_str()) + "\n";
}

}  // namespace

LoadedScenario load_scenario_text(std::string_view yaml, const std::string& source_name,
                                  const std::vector<std::string>& overrides) {
  yaml_reader::Origins origins(source_name);
  YAML::Node root = parse_document(yaml, source_name);
  for (const std::string& text : overrides) yaml_reader::apply_override(root, text, origins);
  if (!root.IsDefined() || root.IsNull())
    throw ScenarioError(source_name, 0, 0, "",
                        "the scenario is empty (expected a mapping with at least name, time, "
                        "population and institutions)");
  LoadedScenario loaded;
  loaded.scenario = read_scenario(Value(origins, root, "", root.Mark()));
  loaded.resolved_yaml = emit(root);
  loaded.source = source_name;
  return loaded;
}

LoadedScenario load_scenario_file(const std::string& path,
                                  const std::vector<std::string>& overrides) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ScenarioError(path, 0, 0, "", std::string("cannot open: ") + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ScenarioError(path, 0, 0, "", "cannot read the file");
  return load_scenario_text(text.str(), path, overrides);
}

}  // namespace bankrun
