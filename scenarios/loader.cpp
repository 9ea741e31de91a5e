#include "scenarios/loader.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "scenarios/data_files.hpp"
#include "scenarios/schema.hpp"
#include "scenarios/yaml_reader.hpp"
#include "sim/names.hpp"

namespace bankrun {

namespace {

using schema::read_scalars;
using schema::read_usd;
using yaml_reader::MapReader;
using yaml_reader::Range;
using yaml_reader::Value;

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
  // Names are stored in 64-byte fields of the output's tables (NUL included).
  if (s.size() > 63)
    v.fail("expected a name of at most 63 characters, got " + std::to_string(s.size()));
  return s;
}

// The key of US dollars in population.classes[i].portfolio (so no asset may take this name).
const char* const kUsdKey = "USD";

// institutions[k].assets[j].name: a name, not the reserved "USD".
std::string asset_name(const Value& v) {
  std::string s = identifier(v);
  if (s == kUsdKey)
    v.fail(std::string("the name '") + kUsdKey +
           "' is reserved (it means US dollars, the cash every institution holds, in "
           "population.classes[i].portfolio): give the asset another name");
  return s;
}

using yaml_reader::format_number;

// "a", "a or b", "a, b or c".
std::string or_list(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? " or " : ", ";
    out += items[i];
  }
  return out;
}

// Fails at the position of mapping `m`, with the key path of its (absent) key `key`.
[[noreturn]] void fail_missing(const MapReader& m, std::string_view key,
                               const std::string& message) {
  m.value().origins().fail(m.value().mark(), yaml_reader::child_path(m.path(), key), message);
}

// Notes for the keys of a variant section that only some variants allow ("'k' is only
// valid with type: k_out or watts_strogatz"), or (`needs`) that need a selector first.
template <class Spec>
std::map<std::string, std::string> only_valid_with(const schema::Section<Spec>& section,
                                                   bool needs = false) {
  std::map<std::string, std::string> notes;
  for (const auto& [key, variants] : section.owners())
    notes[key] = "'" + key + (needs ? "' needs " : "' is only valid with ") + section.selector +
                 ": " + or_list(variants);
  return notes;
}

// ---- data files -----------------------------------------------------------------------------

// What a load needs beyond the tree: where relative file paths start, and the absolute
// paths written back into resolved_yaml.
struct Context {
  std::filesystem::path base_dir;  // empty: the current directory
  std::vector<std::pair<YAML::Node, std::string>> absolute_files;
};

// Resolves a `file:` value against the base directory and opens it. `shown` receives the
// path used in error messages (base directory / file, normalised).
std::ifstream open_data_file(const Value& v, Context& ctx, std::string& shown) {
  namespace fs = std::filesystem;
  if (!v.is_scalar()) v.fail("expected a file path, got " + v.describe());
  const std::string written = v.string();
  if (written.empty()) v.fail("expected a file path, got an empty string");
  const fs::path path(written);
  const fs::path resolved = (path.is_absolute() ? path : ctx.base_dir / path).lexically_normal();
  shown = resolved.string();
  std::error_code ec;
  const fs::path absolute = fs::absolute(resolved, ec);
  ctx.absolute_files.emplace_back(v.node(), (ec ? resolved : absolute).lexically_normal().string());
  if (fs::is_directory(resolved, ec)) v.fail("cannot open '" + shown + "': it is a directory");
  if (const auto reason = data_files::unusable_file(resolved))
    v.fail("cannot open '" + shown + "': " + *reason);
  std::ifstream in(resolved, std::ios::binary);
  if (!in) v.fail("cannot open '" + shown + "': " + std::strerror(errno));
  return in;
}

// ---- distributions ------------------------------------------------------------------------

// clip_max >= clip_min (both read by read_scalars).
void check_clip(const MapReader& m, const Distribution& d) {
  if (d.clip_min > d.clip_max)
    m.get("clip_max")
        ->fail("expected clip_max >= clip_min (" + format_number(d.clip_min) + "), got " +
               format_number(d.clip_max));
}

data_files::CsvColumn read_csv_column_key(const Value& v) {
  if (v.is_scalar() && !v.is_quoted_string() &&
      yaml_reader::parse_number(v.node().Scalar()).status != yaml_reader::NumberStatus::kNotANumber)
    return data_files::CsvColumn::at(v.integer<std::uint32_t>(0, 1'000'000));
  if (!v.is_scalar())
    v.fail("expected a column name or a 0-based column index, got " + v.describe());
  const std::string name = v.string();
  if (name.empty()) v.fail("expected a column name or a 0-based column index, got an empty string");
  return data_files::CsvColumn::named(name);
}

// dist: empirical and dist: exact: a list of values, given or read from a CSV column.
void read_values(const MapReader& m, Distribution& d, Context& ctx) {
  const auto values = m.get("values"), file = m.get("file"), column = m.get("column");
  if (values && file) file->fail("give either 'values' or 'file', not both");
  if (!values && !file)
    fail_missing(m, "values",
                 std::string("missing required key: dist: ") + name_of(d.kind) +
                     " needs 'values' (a list of numbers) or 'file' (a CSV file)");
  if (column && !file) column->fail("'column' is only valid with 'file'");
  if (values) {
    const std::vector<Value> items = values->list();
    if (items.empty()) values->fail("expected a non-empty list of numbers, got an empty list");
    d.values.reserve(items.size());
    for (const Value& item : items) d.values.push_back(item.number());
    return;
  }
  const data_files::CsvColumn which =
      column ? read_csv_column_key(*column) : data_files::CsvColumn::at(0);
  std::string shown;
  std::ifstream in = open_data_file(*file, ctx, shown);
  d.values = data_files::read_csv_column(in, shown, which, file->path());
}

// The cross-key rules of a kind's parameters (read by read_scalars), and the keys read by
// code: a constant's value (its range is the attribute's) and an empirical or exact list.
void read_parameters(const MapReader& m, Distribution& d, Context& ctx,
                     const Range& constant_range) {
  switch (d.kind) {
    case Distribution::Kind::kConstant:
      d.value = m.required_number("value", constant_range);
      break;
    case Distribution::Kind::kUniform:
      if (!(d.low < d.high))
        m.get("high")->fail("expected high > low (" + format_number(d.low) + "), got " +
                            format_number(d.high));
      break;
    case Distribution::Kind::kBeta:
      if (!(d.low < d.high)) {
        const auto low = m.get("low"), high = m.get("high");
        if (high)
          high->fail("expected high > low (" + format_number(d.low) + (low ? "" : ", the default") +
                     "), got " + format_number(d.high));
        low->fail("expected low < high (1, the default), got " + format_number(d.low));
      }
      break;
    case Distribution::Kind::kEmpirical:
    case Distribution::Kind::kExact:
      read_values(m, d, ctx);
      break;
    case Distribution::Kind::kNormal:
    case Distribution::Kind::kLognormal:
    case Distribution::Kind::kPareto:
      break;
  }
}

// A plain number (a constant) or {dist: KIND, parameters..., clip_min, clip_max}.
// `constant_range` applies to constants (plain numbers and dist: constant) only.
Distribution read_distribution(const Value& v, Context& ctx,
                               const Range& constant_range = Range::any()) {
  if (v.is_scalar() && !v.is_quoted_string() &&
      yaml_reader::parse_number(v.node().Scalar()).status != yaml_reader::NumberStatus::kNotANumber)
    return Distribution::constant(v.number(constant_range));
  const auto& section = schema::distribution_section();
  const std::vector<std::string>& names = section.variant_names;
  if (!v.is_map())
    v.fail("expected a number or a mapping with 'dist' (" + yaml_reader::join(names) + "), got " +
           v.describe());
  const MapReader m(v);
  if (!m.has("dist")) {
    m.allow_only(section.keys());
    m.required("dist");
  }
  const std::size_t index = m.get("dist")->choice(names);
  const std::string& kind = names[index];
  std::map<std::string, std::string> notes;
  for (const auto& [key, kind_names] : section.owners())
    notes[key] = "'" + key + "' belongs to dist: " + yaml_reader::join(kind_names);
  m.allow_only(section.keys_for(kind), notes, "(dist: " + kind + ")");

  Distribution d;
  d.kind = kDistributionKindNames[index].value;
  read_scalars(m, section, d, kind);
  read_parameters(m, d, ctx, constant_range);
  check_clip(m, d);
  return d;
}

// ---- institution names ----------------------------------------------------------------------

// The key of self-custody in population.classes[i].destinations (so no institution may
// take this name).
const char* const kSelfCustodyKey = "self_custody";

// The names of the institutions (institutions[k].name, default "bank"), checked: a list of
// 1 .. kMaxInstitutions mappings with valid, distinct names (they name HDF5 groups). The
// rest of each institution is read by read_institution.
std::vector<std::string> read_institution_names(const Value& v) {
  const std::vector<Value> items = v.list();
  if (items.empty() || items.size() > kMaxInstitutions)
    v.fail("expected a list of 1 .. " + std::to_string(kMaxInstitutions) + " institutions, got " +
           std::to_string(items.size()));
  std::vector<std::string> names;
  names.reserve(items.size());
  for (std::size_t k = 0; k < items.size(); ++k) {
    const MapReader m(items[k]);
    const auto name = m.get("name");
    const std::string s = name ? identifier(*name) : schema::kDefaultInstitutionName;
    if (name && s == kSelfCustodyKey)
      name->fail(std::string("the name '") + kSelfCustodyKey +
                 "' is reserved (it means self-custody in population.classes[i].destinations)");
    if (name && s.find_first_not_of('.') == std::string::npos)
      name->fail("expected a name other than '" + s + "' (it names a group in the output file)");
    for (std::size_t i = 0; i < k; ++i) {
      if (names[i] != s) continue;
      const std::string also = yaml_reader::index_path(v.path(), i);
      if (name) name->fail("duplicate institution name '" + s + "' (also " + also + ")");
      fail_missing(m, "name",
                   "duplicate institution name '" + s + "' (the default name; also " + also +
                       "): give each institution a distinct name");
    }
    names.push_back(s);
  }
  return names;
}

// The institutions' names, read from the top-level `institutions` list when first needed:
// keys that name institutions (a class's accounts and destinations, news targets) come
// before the institutions in the file and in the reading order.
class InstitutionNames {
 public:
  explicit InstitutionNames(const MapReader& root) : root_(&root) {}
  const std::vector<std::string>& get() const {
    if (!names_) names_ = read_institution_names(root_->required("institutions"));
    return *names_;
  }
  // assets()[k]: the names of institutions[k]'s assets (a class's portfolio names them).
  // Only the names are read here; read_assets checks the rest of each asset later.
  const std::vector<std::vector<std::string>>& assets() const {
    if (!assets_) {
      const std::size_t n = get().size();
      const std::vector<Value> items = root_->required("institutions").list();
      std::vector<std::vector<std::string>> names(n);
      for (std::size_t k = 0; k < n; ++k)
        if (const auto list = MapReader(items[k]).get("assets"))
          for (const Value& item : list->list())
            names[k].push_back(asset_name(MapReader(item).required("name")));
      assets_ = std::move(names);
    }
    return *assets_;
  }

 private:
  const MapReader* root_;
  mutable std::optional<std::vector<std::string>> names_;
  mutable std::optional<std::vector<std::vector<std::string>>> assets_;
};

// "did you mean 'x'?" over the institutions' names, or the list of them.
std::string institution_suggestion(const std::string& word, const std::vector<std::string>& names) {
  if (names.empty()) return "there is no other institution";
  return yaml_reader::suggestion(word, names, "institutions");
}

// The index of the institution named by the scalar `v`.
std::int32_t institution_index(const Value& v, const std::vector<std::string>& names) {
  if (!v.is_scalar()) v.fail("expected the name of an institution, got " + v.describe());
  const std::string name = v.string();
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end())
    v.fail("unknown institution '" + name + "'; " + institution_suggestion(name, names));
  return static_cast<std::int32_t>(it - names.begin());
}

// A mapping from `keys` to shares >= 0, at least one > 0 (a class's accounts or
// destinations): shares[j] is the share of keys[j]; keys not given are 0. `what` names a
// key in messages ("institution", "destination"); `valid` names the list of keys.
std::vector<double> read_shares(const Value& v, const std::vector<std::string>& keys,
                                const std::string& what, const std::string& valid) {
  const MapReader m(v);
  std::vector<double> shares(keys.size(), 0.0);
  double sum = 0.0;
  for (const std::string& key : m.keys()) {
    const auto it = std::find(keys.begin(), keys.end(), key);
    if (it == keys.end())
      m.fail_at_key(key, "unknown " + what + " '" + key + "' " + yaml_reader::location(m.path()) +
                             "; " + yaml_reader::suggestion(key, keys, valid));
    const double x = m.get(key)->number(Range::at_least(0));
    shares[static_cast<std::size_t>(it - keys.begin())] = x;
    sum += x;
  }
  if (!std::isfinite(sum)) m.fail("the shares sum to infinity");
  if (!(sum > 0))
    m.fail("expected at least one share > 0, got " +
           std::string(m.keys().empty() ? "an empty mapping" : "only zeros"));
  return shares;
}

// The institutions where a class's agents can hold claims: those with an account share > 0
// (institutions[0] without `accounts`) and those with a destination share > 0 (withdrawn
// funds become claims there), in index order.
std::vector<std::size_t> claim_institutions(const InvestorClass& c, std::size_t count) {
  std::vector<bool> holds(count, false);
  if (c.account_shares.empty()) holds[0] = true;
  for (std::size_t k = 0; k < c.account_shares.size(); ++k)
    if (c.account_shares[k] > 0) holds[k] = true;
  for (std::size_t k = 0; k + 1 < c.destination_shares.size(); ++k)
    if (c.destination_shares[k + 1] > 0) holds[k] = true;
  std::vector<std::size_t> out;
  for (std::size_t k = 0; k < count; ++k)
    if (holds[k]) out.push_back(k);
  return out;
}

// population.classes[i].portfolio: currency (USD or an asset name) -> share >= 0, at least
// one > 0. Returns the shares by claim currency (0 = USD, c >= 1 = currencies[c - 1]);
// assets with a share > 0 not yet in `currencies` are appended to it (so the vector may be
// shorter than 1 + currencies.size() at the end: read_classes pads it with zeros). An asset
// with a share > 0 must be held by every institution where the class's agents can hold
// claims (class `c`, whose accounts and destinations are read).
std::vector<double> read_portfolio(const Value& v, const InvestorClass& c,
                                   const InstitutionNames& institutions,
                                   std::vector<std::string>& currencies) {
  const MapReader m(v);
  const std::vector<std::string>& names = institutions.get();
  const std::vector<std::vector<std::string>>& assets = institutions.assets();
  std::vector<std::string> valid = {kUsdKey};  // USD, then every asset name once
  for (const auto& list : assets)
    for (const std::string& a : list)
      if (std::find(valid.begin(), valid.end(), a) == valid.end()) valid.push_back(a);
  const std::vector<std::size_t> holders = claim_institutions(c, names.size());
  std::vector<double> portfolio(1, 0.0);
  double sum = 0.0;
  for (const std::string& key : m.keys()) {
    if (std::find(valid.begin(), valid.end(), key) == valid.end())
      m.fail_at_key(
          key,
          "unknown currency '" + key + "' " + yaml_reader::location(m.path()) + "; " +
              yaml_reader::suggestion(key, valid, "valid currencies") +
              (valid.size() == 1 ? " (other currencies are assets listed in institutions[k].assets)"
                                 : ""));
    const double x = m.get(key)->number(Range::at_least(0));
    sum += x;
    if (key == kUsdKey) {
      portfolio[0] = x;
      continue;
    }
    if (!(x > 0)) continue;  // a zero share needs no holding and adds no currency
    for (const std::size_t k : holders) {
      const std::vector<std::string>& held = assets[k];
      if (std::find(held.begin(), held.end(), key) != held.end()) continue;
      const std::string where = "institutions[" + std::to_string(k) + "]";
      m.fail_at_key(key, "institution '" + names[k] + "' (" + where +
                             "), where this class's agents can hold claims, has no asset '" + key +
                             "' (" +
                             (held.empty() ? std::string("it has no assets")
                                           : "its assets: " + yaml_reader::join(held)) +
                             "); add it to " + where + ".assets or remove '" + key + "'");
    }
    auto it = std::find(currencies.begin(), currencies.end(), key);
    if (it == currencies.end()) it = currencies.insert(currencies.end(), key);
    const auto index = static_cast<std::size_t>(it - currencies.begin()) + 1;
    if (portfolio.size() <= index) portfolio.resize(index + 1, 0.0);
    portfolio[index] = x;
  }
  if (!std::isfinite(sum)) m.fail("the shares sum to infinity");
  if (!(sum > 0))
    m.fail("expected at least one share > 0, got " +
           std::string(m.keys().empty() ? "an empty mapping" : "only zeros"));
  return portfolio;
}

// ---- sections -----------------------------------------------------------------------------

TimeSpec read_time(const Value& v) {
  const MapReader m(v);
  const auto& section = schema::time_section();
  m.allow_only(section.keys());
  TimeSpec t;
  read_scalars(m, section, t);
  const auto start = m.get("start");
  t.start_unix_seconds = start
                             ? start->timestamp()
                             : yaml_reader::parse_utc_timestamp(schema::kDefaultStart).unix_seconds;
  t.start_utc = yaml_reader::format_utc_timestamp(t.start_unix_seconds);
  return t;
}

InvestorClass read_class(const Value& v, const InstitutionNames& institutions, Context& ctx,
                         std::vector<std::string>& currencies) {
  const MapReader m(v);
  const auto& section = schema::class_section();
  m.allow_only(section.keys());
  InvestorClass c;
  c.name = identifier(m.required("name"));
  read_scalars(m, section, c);
  c.balance_usd = read_distribution(m.required("balance_usd"), ctx);
  c.threshold = read_distribution(m.required("threshold"), ctx);
  if (const auto x = m.get("noise_sd")) c.noise_sd = read_distribution(*x, ctx, Range::at_least(0));
  if (const auto x = m.get("attention"))
    c.attention = read_distribution(*x, ctx, Range::closed(0, 1));
  if (const auto x = m.get("withdraw_fraction"))
    c.withdraw_fraction = read_distribution(*x, ctx, Range::open_closed(0, 1));
  if (const auto x = m.get("reaction_lag_ticks"))
    c.reaction_lag_ticks = read_distribution(*x, ctx, Range::at_least(0));
  if (const auto accounts = m.get("accounts"))
    c.account_shares = read_shares(*accounts, institutions.get(), "institution", "institutions");
  if (const auto destinations = m.get("destinations")) {
    std::vector<std::string> keys = {kSelfCustodyKey};
    const std::vector<std::string>& names = institutions.get();
    keys.insert(keys.end(), names.begin(), names.end());
    c.destination_shares = read_shares(*destinations, keys, "destination", "valid destinations");
  }
  if (const auto portfolio = m.get("portfolio"))
    c.portfolio = read_portfolio(*portfolio, c, institutions, currencies);
  return c;
}

// The classes; `currencies` receives the claim currencies besides USD (the assets with a
// share > 0 in some class's portfolio, in order of first appearance).
std::vector<InvestorClass> read_classes(const Value& v, const InstitutionNames& institutions,
                                        Context& ctx, std::vector<std::string>& currencies) {
  const std::vector<Value> items = v.list();
  if (items.empty() || items.size() > 255)
    v.fail("expected a list of 1 .. 255 classes, got " + std::to_string(items.size()));
  std::vector<InvestorClass> classes;
  double share_sum = 0.0;
  for (const Value& item : items) {
    classes.push_back(read_class(item, institutions, ctx, currencies));
    share_sum += classes.back().share;
    for (std::size_t i = 0; i + 1 < classes.size(); ++i)
      if (classes[i].name == classes.back().name)
        MapReader(item).get("name")->fail("duplicate class name '" + classes.back().name +
                                          "' (also classes[" + std::to_string(i) + "])");
  }
  if (!std::isfinite(share_sum)) v.fail("the shares of the classes sum to infinity");
  // Every portfolio given has one share per claim currency (USD first).
  for (InvestorClass& c : classes)
    if (!c.portfolio.empty()) c.portfolio.resize(1 + currencies.size(), 0.0);
  return classes;
}

// A class attribute given as dist: exact deals its n values out in order (agent k of the
// class gets values[k mod n]); the class's agent count must be a multiple of n, so that
// every value is held by the same number of agents.
void check_exact_lists(const Value& classes, const PopulationSpec& p) {
  const std::vector<std::uint32_t> counts = class_counts(p);
  const std::vector<Value> items = classes.list();
  for (std::size_t c = 0; c < p.classes.size(); ++c) {
    const InvestorClass& cls = p.classes[c];
    const std::pair<const char*, const Distribution*> attributes[] = {
        {"balance_usd", &cls.balance_usd},
        {"threshold", &cls.threshold},
        {"noise_sd", &cls.noise_sd},
        {"attention", &cls.attention},
        {"withdraw_fraction", &cls.withdraw_fraction},
        {"reaction_lag_ticks", &cls.reaction_lag_ticks}};
    for (const auto& [key, d] : attributes) {
      if (d->kind != Distribution::Kind::kExact || counts[c] % d->values.size() == 0) continue;
      const std::string n = std::to_string(d->values.size());
      MapReader(items[c]).get(key)->fail(
          "dist: exact lists " + n + " values, but class '" + cls.name + "' has " +
          std::to_string(counts[c]) + " agents: expected a multiple of " + n +
          " (agent k of the class gets values[k mod " + n +
          "], so that each value is held by the same number of agents)");
    }
  }
}

// accounts_per_agent, given or derived from account_count and the class's agent count.
void read_account_weights(const Value& classes, PopulationSpec& p) {
  const std::vector<std::uint32_t> counts = class_counts(p);
  const std::vector<Value> items = classes.list();
  for (std::size_t c = 0; c < p.classes.size(); ++c) {
    const MapReader m(items[c]);
    const auto per_agent = m.get("accounts_per_agent"), total = m.get("account_count");
    if (per_agent && total)
      total->fail("give either 'accounts_per_agent' or 'account_count', not both");
    if (per_agent) p.classes[c].accounts_per_agent = per_agent->number(Range::above(0));
    if (!total) continue;
    const double accounts = total->number(Range::above(0));
    if (counts[c] == 0)
      total->fail("class '" + p.classes[c].name +
                  "' has no agents: give it a larger share or more population.agents");
    p.classes[c].accounts_per_agent = accounts / counts[c];
  }
}

PopulationSpec read_population(const Value& v, const InstitutionNames& institutions, Context& ctx,
                               std::vector<std::string>& currencies) {
  const MapReader m(v);
  const auto& section = schema::population_section();
  m.allow_only(section.keys());
  PopulationSpec p;
  read_scalars(m, section, p);
  p.classes = read_classes(m.required("classes"), institutions, ctx, currencies);
  check_exact_lists(m.required("classes"), p);
  read_account_weights(m.required("classes"), p);
  return p;
}

// ---- network ------------------------------------------------------------------------------

// An integer key in lo .. hi (hi depends on population.agents), defaulting to `fallback`,
// which must itself be in range.
std::uint32_t bounded_count(const MapReader& m, std::string_view key, std::uint32_t lo,
                            std::uint32_t hi, std::uint32_t fallback, const std::string& hi_text) {
  if (const auto v = m.get(key)) return v->integer<std::uint32_t>(lo, hi);
  if (fallback > hi)
    fail_missing(m, key,
                 "expected " + std::string(key) + " in " + std::to_string(lo) + " .. " +
                     std::to_string(hi) + " (" + hi_text + "), got " + std::to_string(fallback) +
                     " (the default; set " + yaml_reader::child_path(m.path(), key) + ")");
  return fallback;
}

std::vector<std::vector<double>> read_block_matrix(const Value& v,
                                                   const std::vector<InvestorClass>& classes) {
  const std::size_t n = classes.size();
  std::vector<std::string> names;
  for (const InvestorClass& c : classes) names.push_back(c.name);
  const std::vector<Value> rows = v.list();
  if (rows.size() != n)
    v.fail("expected " + std::to_string(n) + " row" + (n == 1 ? "" : "s") +
           " (one per investor class, in class order: " + yaml_reader::join(names) + "), got " +
           std::to_string(rows.size()));
  std::vector<std::vector<double>> matrix(n);
  std::vector<std::vector<Value>> cells;
  for (std::size_t i = 0; i < n; ++i) {
    cells.push_back(rows[i].list());
    if (cells[i].size() != n)
      rows[i].fail("expected " + std::to_string(n) + " entr" + (n == 1 ? "y" : "ies") +
                   " (one per investor class: the matrix is classes x classes), got " +
                   std::to_string(cells[i].size()));
    for (const Value& cell : cells[i]) matrix[i].push_back(cell.number(Range::closed(0, 1)));
  }
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (matrix[i][j] != matrix[j][i])
        cells[i][j].fail("expected a symmetric matrix: block_probability[" + std::to_string(i) +
                         "][" + std::to_string(j) + "] = " + format_number(matrix[i][j]) +
                         " but block_probability[" + std::to_string(j) + "][" + std::to_string(i) +
                         "] = " + format_number(matrix[j][i]));
  return matrix;
}

// For types whose parameter is bounded by agents - 1: the smallest population they need.
void need_agents(const MapReader& m, const NetworkSpec& n, std::uint32_t agents,
                 std::uint32_t minimum, const std::string& why) {
  if (agents < minimum)
    m.get("type")->fail("type: " + std::string(name_of(n.kind)) + " needs population.agents >= " +
                        std::to_string(minimum) + " (" + why + "), got " + std::to_string(agents));
}

// erdos_renyi: a mean degree of at most agents - 1 (the default, 10, too).
double read_mean_degree(const MapReader& m, double fallback, std::uint32_t agents) {
  const auto mean_degree = m.get("mean_degree");
  const double x = mean_degree ? mean_degree->number(Range::at_least(0)) : fallback;
  if (x > static_cast<double>(agents) - 1.0) {
    const std::string message = "expected a mean degree <= population.agents - 1 (" +
                                std::to_string(agents - 1) + "), got " + format_number(x);
    if (mean_degree) mean_degree->fail(message);
    m.fail(message + " (the default; set network.mean_degree)");
  }
  return x;
}

// edge_list: the edges of `file` (directed was read by read_scalars).
void read_edge_list(const MapReader& m, NetworkSpec& n, std::uint32_t agents, Context& ctx) {
  if (const auto loops = m.get("self_loops"))
    n.self_loops = kSelfLoopsNames[loops->choice(names_of(kSelfLoopsNames))].value;
  const Value file = m.required("file");
  std::string shown;
  std::ifstream in = open_data_file(file, ctx, shown);
  n.edges = data_files::read_edge_list(
      in, shown, {agents, n.self_loops == NetworkSpec::SelfLoops::kDrop}, file.path());
}

// The keys of n.kind that are read by code: bounds that depend on population.agents,
// distributions, matrices and files.
void read_network_parameters(const MapReader& m, NetworkSpec& n, const PopulationSpec& population,
                             Context& ctx) {
  const std::uint32_t agents = population.agents;
  const std::uint32_t cap = std::min<std::uint32_t>(1000, agents - 1);
  const std::string cap_text = "min(1000, population.agents - 1)";
  switch (n.kind) {
    case NetworkSpec::Kind::kNone:
    case NetworkSpec::Kind::kComplete:
      break;
    case NetworkSpec::Kind::kKOut:
      n.k = m.integer<std::uint32_t>("k", 0, 1000, n.k);
      break;
    case NetworkSpec::Kind::kErdosRenyi:
      n.mean_degree = read_mean_degree(m, n.mean_degree, agents);
      break;
    case NetworkSpec::Kind::kWattsStrogatz:
      need_agents(m, n, agents, 3, "k >= 2 and k <= agents - 1");
      n.k = bounded_count(m, "k", 2, cap, n.k, cap_text);
      if (n.k % 2 != 0)
        m.get("k")->fail(
            "expected an even k (the ring lattice links k / 2 neighbours on each "
            "side), got " +
            std::to_string(n.k));
      break;
    case NetworkSpec::Kind::kBarabasiAlbert:
      need_agents(m, n, agents, 2, "m >= 1 and m <= agents - 1");
      n.m = bounded_count(m, "m", 1, cap, n.m, cap_text);
      break;
    case NetworkSpec::Kind::kConfiguration:
      n.degree = read_distribution(m.required("degree"), ctx);
      break;
    case NetworkSpec::Kind::kStochasticBlock:
      n.block_probability = read_block_matrix(m.required("block_probability"), population.classes);
      break;
    case NetworkSpec::Kind::kEdgeList:
      read_edge_list(m, n, agents, ctx);
      break;
  }
}

NetworkSpec read_network(const std::optional<Value>& v, const PopulationSpec& population,
                         Context& ctx) {
  NetworkSpec n;
  if (!v) return n;
  const MapReader m(*v);
  const auto& section = schema::network_section();
  if (!m.has("type")) m.allow_only(section.keys_for(""), only_valid_with(section, true));
  // The first type (none) is the default.
  const std::size_t index = m.has("type") ? m.get("type")->choice(section.variant_names) : 0;
  const std::string& type = section.variant_names[index];
  m.allow_only(section.keys_for(type), only_valid_with(section), "(type: " + type + ")");
  n.kind = kNetworkKindNames[index].value;
  read_scalars(m, section, n, type);
  read_network_parameters(m, n, population, ctx);
  return n;
}

// ---- stress, decision -----------------------------------------------------------------------

StressSpec read_stress(const std::optional<Value>& v) {
  StressSpec s;
  if (!v) return s;
  const MapReader m(*v);
  const auto& section = schema::stress_section();
  m.allow_only(section.keys());
  read_scalars(m, section, s);
  if (const auto measure = m.get("peer_measure")) {
    s.peer_measure = kPeerMeasureNames[measure->choice(names_of(kPeerMeasureNames))].value;
    if (s.peer_measure == StressSpec::PeerMeasure::kCount && s.peer_balance_weighted)
      measure->fail(
          "peer_measure: count counts neighbours; it cannot be balance-weighted (set "
          "peer_balance_weighted: false, or peer_measure: share)");
  }
  return s;
}

DecisionSpec read_decision(const std::optional<Value>& v) {
  DecisionSpec d;
  if (!v) return d;
  const MapReader m(*v);
  const auto& section = schema::decision_section();
  // The first rule (threshold) is the default.
  const std::size_t index = m.has("rule") ? m.get("rule")->choice(section.variant_names) : 0;
  const std::string& rule = section.variant_names[index];
  m.allow_only(section.keys_for(rule), only_valid_with(section), "(rule: " + rule + ")");
  d.rule = kDecisionRuleNames[index].value;
  read_scalars(m, section, d, rule);
  if (const auto comparison = m.get("comparison"))
    d.comparison = kComparisonNames[comparison->choice(names_of(kComparisonNames))].value;
  return d;
}

// ---- news ---------------------------------------------------------------------------------

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

NewsEvent read_news_event(const Value& v, std::size_t index, const TimeSpec& time,
                          const InstitutionNames& institutions) {
  const MapReader m(v);
  const auto& section = schema::news_event_section();
  m.allow_only(section.keys());
  NewsEvent e;
  e.label = m.string("label", "news " + std::to_string(index));
  const auto tick = m.get("tick"), at = m.get("at");
  if (tick && at) at->fail("give either 'tick' or 'at', not both");
  if (!tick && !at)
    fail_missing(m, "tick", "missing required key: each news event needs 'tick' or 'at'");
  e.tick = tick ? tick->integer<std::int32_t>(0, kLastTick) : tick_at(*at, time);
  read_scalars(m, section, e);
  if (const auto target = m.get("institution"))
    e.institution = institution_index(*target, institutions.get());
  return e;
}

std::vector<NewsEvent> read_news(const std::optional<Value>& v, const TimeSpec& time,
                                 const InstitutionNames& institutions) {
  std::vector<NewsEvent> news;
  if (!v) return news;
  const std::vector<Value> items = v->list();
  for (std::size_t i = 0; i < items.size(); ++i)
    news.push_back(read_news_event(items[i], i, time, institutions));
  std::stable_sort(news.begin(), news.end(),
                   [](const NewsEvent& a, const NewsEvent& b) { return a.tick < b.tick; });
  return news;
}

NewsProcessSpec read_news_process(const std::optional<Value>& v, const TimeSpec& time,
                                  const InstitutionNames& institutions, Context& ctx) {
  NewsProcessSpec p;
  if (!v) return p;
  const MapReader m(*v);
  const auto& section = schema::news_process_section();
  m.allow_only(section.keys());
  read_scalars(m, section, p);
  p.magnitude = read_distribution(m.required("magnitude"), ctx);
  const auto start_tick = m.get("start_tick"), start = m.get("start");
  if (start_tick && start) start->fail("give either 'start_tick' or 'start', not both");
  if (start_tick) p.start_tick = start_tick->integer<std::int32_t>(0, kLastTick);
  if (start) p.start_tick = tick_at(*start, time);
  const auto end_tick = m.get("end_tick"), end = m.get("end");
  if (end_tick && end) end->fail("give either 'end_tick' or 'end', not both");
  if (end_tick) {
    p.end_tick = end_tick->integer<std::int32_t>(1, kForever);
    if (p.end_tick <= p.start_tick)
      end_tick->fail("expected end_tick > start_tick (" + std::to_string(p.start_tick) + "), got " +
                     std::to_string(p.end_tick));
  }
  if (end) {
    p.end_tick = tick_at(*end, time);
    if (p.end_tick <= p.start_tick)
      end->fail("expected a time after the start of the process (tick " +
                std::to_string(p.start_tick) + "), got '" + end->node().Scalar() +
                "', which falls in tick " + std::to_string(p.end_tick));
  }
  if (const auto target = m.get("institution"))
    p.institution = institution_index(*target, institutions.get());
  return p;
}

// ---- institution ----------------------------------------------------------------------------

// A trigger mapping (institutions[k].halt, institutions[k].policies[i].when); unset
// conditions are never met.
Trigger read_trigger(const MapReader& m, const TimeSpec& time) {
  const auto& section = schema::trigger_section();
  m.allow_only(section.keys());
  Trigger t;
  const auto at_tick = m.get("at_tick"), at = m.get("at");
  if (at_tick && at) at->fail("give either 'at_tick' or 'at', not both");
  if (at_tick) t.at_tick = at_tick->integer<std::int32_t>(0, kLastTick);
  if (at) t.at_tick = tick_at(*at, time);
  read_scalars(m, section, t);
  return t;
}

HaltSpec read_halt(const std::optional<Value>& v, const TimeSpec& time) {
  if (!v) return {};
  return read_trigger(MapReader(*v), time);
}

// ---- policies -------------------------------------------------------------------------------

PolicySpec read_policy(const Value& v, std::size_t index, const TimeSpec& time) {
  const MapReader m(v);
  const auto& section = schema::policy_section();
  if (!m.has("kind")) {
    m.allow_only(section.keys_for(""), only_valid_with(section, true));
    m.required("kind");
  }
  const std::size_t kind_index = m.get("kind")->choice(section.variant_names);
  const std::string& kind = section.variant_names[kind_index];
  m.allow_only(section.keys_for(kind), only_valid_with(section), "(kind: " + kind + ")");

  PolicySpec p;
  p.kind = kPolicyKindNames[kind_index].value;
  p.label = m.string("label", kind + " " + std::to_string(index));
  const std::string needs_trigger =
      "a policy needs a trigger: set at least one of " + or_list(schema::trigger_section().keys());
  const auto when = m.get("when");
  if (!when) fail_missing(m, "when", "missing required key 'when': " + needs_trigger);
  p.trigger = read_trigger(MapReader(*when), time);
  if (!p.trigger.any()) when->fail(needs_trigger);
  read_scalars(m, section, p, kind);
  if (p.kind == PolicySpec::Kind::kCapitalRaise) {  // its announcement: any sign, default 0
    const auto magnitude = m.get("magnitude");
    p.news_magnitude = magnitude ? magnitude->number(Range::any()) : 0.0;
  }
  return p;
}

std::vector<PolicySpec> read_policies(const std::optional<Value>& v, const TimeSpec& time) {
  std::vector<PolicySpec> policies;
  if (!v) return policies;
  const std::vector<Value> items = v->list();
  if (items.size() > 64)
    v->fail("expected at most 64 policies, got " + std::to_string(items.size()));
  for (std::size_t i = 0; i < items.size(); ++i) policies.push_back(read_policy(items[i], i, time));
  return policies;
}

// ---- assets ---------------------------------------------------------------------------------

// A price series from `price_file`: row times become ticks (floor((t - start) / tick));
// rows before the start apply from tick 0; when several rows fall in one tick the last wins.
std::vector<std::pair<std::int32_t, double>> read_price_file(const Value& file,
                                                             const TimeSpec& time, Context& ctx) {
  std::string shown;
  std::ifstream in = open_data_file(file, ctx, shown);
  std::vector<std::pair<std::int32_t, double>> series;
  for (const auto& [when, price] : data_files::read_price_series(in, shown, file.path())) {
    const double ticks = std::floor(static_cast<double>(when - time.start_unix_seconds) /
                                    (time.tick_hours * 3600.0));
    const auto tick = static_cast<std::int32_t>(std::clamp(ticks, 0.0, double{kLastTick}));
    if (!series.empty() && series.back().first == tick) series.pop_back();
    series.emplace_back(tick, price);
  }
  return series;
}

// A bond's rate path (rate_path or duration_years given): price from each listed tick on =
// price_usd * max(0, 1 - D * change), change in percentage points / 100 (MODEL.md: the duration
// approximation).
std::vector<std::pair<std::int32_t, double>> read_rate_path(const MapReader& m, const AssetSpec& a,
                                                            const TimeSpec& time) {
  const auto path = m.get("rate_path"), duration = m.get("duration_years");
  if (!path) duration->fail("'duration_years' needs 'rate_path'");
  if (!duration) fail_missing(m, "duration_years", "'rate_path' needs 'duration_years'");
  if (const auto file = m.get("price_file"))
    file->fail("give either 'price_file' or 'rate_path', not both");
  const double d = duration->number(Range::closed(0, 100));
  std::vector<std::pair<std::int32_t, double>> series;
  for (const Value& item : path->list()) {
    const MapReader point(item);
    point.allow_only({"tick", "at", "change_pct"});
    const auto tick = point.get("tick"), at = point.get("at");
    if (tick && at) at->fail("give either 'tick' or 'at', not both");
    if (!tick && !at)
      fail_missing(point, "tick", "missing required key: each point needs 'tick' or 'at'");
    const std::int32_t t = tick ? tick->integer<std::int32_t>(1, kLastTick) : tick_at(*at, time);
    if (t == 0)
      at->fail("expected a time after tick 0 (tick 0 is valued at price_usd), got '" +
               at->node().Scalar() + "'");
    if (!series.empty() && t <= series.back().first)
      (tick ? *tick : *at)
          .fail("expected increasing ticks: tick " + std::to_string(t) +
                " is not after the previous point's (" + std::to_string(series.back().first) + ")");
    const double change = point.required_number("change_pct", Range::closed(-100, 100));
    series.emplace_back(t, a.price_usd * std::max(0.0, 1.0 - d * change / 100.0));
  }
  return series;
}

// The tiers of an asset holding (read by read_scalars) cannot exceed the holding.
void check_asset_tiers(const MapReader& m, const AssetSpec& a) {
  // (Two decimals that sum to 1, such as 0.3 and 0.7, also sum to at most 1 in doubles.)
  if (a.hot_share + a.cold_share > 1.0) {
    const auto hot = m.get("hot_share"), cold = m.get("cold_share");
    const std::vector<std::string> keys = m.keys();
    const bool hot_later = hot && (!cold || std::find(keys.begin(), keys.end(), "hot_share") >
                                                std::find(keys.begin(), keys.end(), "cold_share"));
    const Value& at = hot_later ? *hot : *cold;
    at.fail("expected hot_share + cold_share <= 1 (the rest of the holding is illiquid), got " +
            format_number(a.hot_share) + (hot ? "" : " (hot_share, the default)") + " + " +
            format_number(a.cold_share) + " = " + format_number(a.hot_share + a.cold_share) +
            (hot ? "" : "; set hot_share"));
  }
}

// ---- calendar and opening hours ----------------------------------------------------------

// A local date YYYY-MM-DD, as days since 1970-01-01.
std::int64_t read_date(const Value& v) {
  if (!v.is_scalar() || v.node().Scalar().size() != 10)
    v.fail("expected a date YYYY-MM-DD, got " + v.describe());
  return v.timestamp() / 86400;
}

std::vector<std::int64_t> read_dates(const std::optional<Value>& v) {
  std::vector<std::int64_t> dates;
  if (!v) return dates;
  for (const Value& item : v->list()) dates.push_back(read_date(item));
  return dates;
}

// A list of exactly `count` factors in [0, 1].
std::vector<double> read_factors(const std::optional<Value>& v, std::size_t count,
                                 const char* what) {
  std::vector<double> factors;
  if (!v) return factors;
  const std::vector<Value> items = v->list();
  if (items.size() != count)
    v->fail("expected " + std::to_string(count) + " numbers (" + what + "), got " +
            std::to_string(items.size()));
  for (const Value& item : items) factors.push_back(item.number(Range::closed(0, 1)));
  return factors;
}

CalendarSpec read_calendar(const std::optional<Value>& v) {
  CalendarSpec c;
  if (!v) return c;
  const MapReader m(*v);
  const auto& section = schema::calendar_section();
  m.allow_only(section.keys());
  read_scalars(m, section, c);
  c.activity_by_hour = read_factors(m.get("activity_by_hour"), 24, "one per local hour, 0 .. 23");
  c.activity_by_weekday =
      read_factors(m.get("activity_by_weekday"), 7, "one per weekday, Monday first");
  c.holidays = read_dates(m.get("holidays"));
  return c;
}

OpeningHours read_opening_hours(const std::optional<Value>& v) {
  OpeningHours h;
  if (!v) return h;
  const MapReader m(*v);
  const auto& section = schema::opening_hours_section();
  m.allow_only(section.keys());
  read_scalars(m, section, h);
  if (h.to_hour <= h.from_hour)
    m.get("to_hour")->fail("expected to_hour > from_hour (" + std::to_string(h.from_hour) +
                           "), got " + std::to_string(h.to_hour));
  if (const auto days = m.get("days")) {
    static const std::vector<std::string> kDays = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    h.days.fill(false);
    const std::vector<Value> items = days->list();
    if (items.empty()) days->fail("expected at least one weekday, got an empty list");
    for (const Value& item : items) {
      const std::size_t d = item.choice(kDays);
      if (h.days[d]) item.fail("'" + kDays[d] + "' is listed twice");
      h.days[d] = true;
    }
  }
  h.closed_dates = read_dates(m.get("closed_dates"));
  return h;
}

AssetSpec read_asset(const Value& v, const TimeSpec& time, Context& ctx) {
  const MapReader m(v);
  const auto& section = schema::asset_section();
  m.allow_only(section.keys());
  AssetSpec a;
  a.name = asset_name(m.required("name"));
  read_scalars(m, section, a);
  if (const auto file = m.get("price_file")) a.price_series = read_price_file(*file, time, ctx);
  if (m.has("rate_path") || m.has("duration_years")) a.price_series = read_rate_path(m, a, time);
  check_asset_tiers(m, a);
  a.opening_hours = read_opening_hours(m.get("opening_hours"));
  return a;
}

// institutions[k].assets: at most 32, unique names, at most one own token; list order is
// the liquidation order.
std::vector<AssetSpec> read_assets(const std::optional<Value>& v, const TimeSpec& time,
                                   Context& ctx) {
  std::vector<AssetSpec> assets;
  if (!v) return assets;
  const std::vector<Value> items = v->list();
  if (items.size() > 32) v->fail("expected at most 32 assets, got " + std::to_string(items.size()));
  for (std::size_t j = 0; j < items.size(); ++j) {
    assets.push_back(read_asset(items[j], time, ctx));
    const AssetSpec& a = assets.back();
    for (std::size_t i = 0; i < j; ++i) {
      if (assets[i].name == a.name)
        MapReader(items[j]).get("name")->fail("duplicate asset name '" + a.name + "' (also " +
                                              yaml_reader::index_path(v->path(), i) + ")");
      if (assets[i].own_token && a.own_token)
        MapReader(items[j])
            .get("own_token")
            ->fail("at most one asset may be the own token: '" + a.name + "' and '" +
                   assets[i].name + "' (" + yaml_reader::index_path(v->path(), i) +
                   ") both set own_token: true");
    }
  }
  return assets;
}

// ---- exposures ------------------------------------------------------------------------------

// institutions[k].exposures[j]: a claim of institution k on another one, named by `to`.
ExposureSpec read_exposure(const Value& v, std::size_t creditor,
                           const std::vector<std::string>& names) {
  const MapReader m(v);
  const auto& section = schema::exposure_section();
  m.allow_only(section.keys());
  ExposureSpec e;
  const Value to = m.required("to");
  if (!to.is_scalar()) to.fail("expected the name of an institution, got " + to.describe());
  const std::string name = to.string();
  if (name == names[creditor])
    to.fail("an institution cannot be exposed to itself: '" + name + "' is institutions[" +
            std::to_string(creditor) + "], the creditor (name another institution)");
  std::vector<std::string> others;  // the candidates: every institution but the creditor
  for (std::size_t i = 0; i < names.size(); ++i)
    if (i != creditor) others.push_back(names[i]);
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end())
    to.fail("unknown institution '" + name + "'; " + institution_suggestion(name, others));
  e.debtor = static_cast<std::uint32_t>(it - names.begin());
  read_scalars(m, section, e);
  return e;
}

std::vector<ExposureSpec> read_exposures(const std::optional<Value>& v, std::size_t creditor,
                                         const std::vector<std::string>& names) {
  std::vector<ExposureSpec> exposures;
  if (!v) return exposures;
  const std::vector<Value> items = v->list();
  if (items.size() > 64)
    v->fail("expected at most 64 exposures, got " + std::to_string(items.size()));
  for (const Value& item : items) exposures.push_back(read_exposure(item, creditor, names));
  return exposures;
}

// institutions[k]; its name was read (and checked) by read_institution_names.
InstitutionSpec read_institution(const Value& v, std::size_t k,
                                 const std::vector<std::string>& names, const TimeSpec& time,
                                 Context& ctx) {
  const MapReader m(v);
  const auto& section = schema::institution_section();
  m.allow_only(section.keys());
  InstitutionSpec s;
  s.name = names[k];
  read_scalars(m, section, s);
  s.halt = read_halt(m.get("halt"), time);
  s.opening_hours = read_opening_hours(m.get("opening_hours"));
  s.policies = read_policies(m.get("policies"), time);
  s.assets = read_assets(m.get("assets"), time, ctx);
  s.exposures = read_exposures(m.get("exposures"), k, names);
  if (const auto r = m.get("illiquid_final_return"); r && !s.final_payout)
    r->fail("'illiquid_final_return' is only valid with final_payout: true");
  if (const auto f = m.get("final_payout"); f && s.final_payout) {
    if (!s.assets.empty())
      f->fail("final_payout is not available for an institution with market assets (assets)");
    if (!s.exposures.empty())
      f->fail("final_payout is not available for an institution with exposures");
  }
  return s;
}

// The final payout pays every depositor of an institution in cash to self-custody: no other
// institution may have an exposure to it, and no class may send withdrawals elsewhere.
void check_final_payouts(const Value& institutions, const Scenario& s) {
  const std::vector<Value> items = institutions.list();
  for (std::size_t k = 0; k < s.institutions.size(); ++k) {
    if (!s.institutions[k].final_payout) continue;
    const Value flag = *MapReader(items[k]).get("final_payout");
    for (const InstitutionSpec& other : s.institutions)
      for (const ExposureSpec& e : other.exposures)
        if (e.debtor == k)
          flag.fail(
              "final_payout is not available for an institution that others have an "
              "exposure to ('" +
              other.name + "')");
    for (const InvestorClass& c : s.population.classes)
      if (!c.destination_shares.empty())
        flag.fail("final_payout needs every withdrawal to go to self-custody, but class '" +
                  c.name + "' has destinations");
  }
}

// institutions: 1 .. kMaxInstitutions, settled in list order. Exposures may name
// institutions listed later: every name is known before any institution is read.
std::vector<InstitutionSpec> read_institutions(const Value& v, const InstitutionNames& names,
                                               const TimeSpec& time, Context& ctx) {
  const std::vector<std::string>& all = names.get();
  const std::vector<Value> items = v.list();
  std::vector<InstitutionSpec> institutions;
  institutions.reserve(items.size());
  for (std::size_t k = 0; k < items.size(); ++k)
    institutions.push_back(read_institution(items[k], k, all, time, ctx));
  return institutions;
}

// ---- output -------------------------------------------------------------------------------

OutputSpec read_output(const std::optional<Value>& v, const TimeSpec& time, std::uint32_t agents) {
  OutputSpec o;
  o.snapshot_agents = std::min<std::uint32_t>(1000, agents);
  if (!v) return o;
  const MapReader m(*v);
  m.allow_only(schema::output_section().keys());
  if (const auto q = m.get("stress_quantiles")) {
    const std::vector<Value> items = q->list();
    if (items.size() > 16)
      q->fail("expected at most 16 quantiles, got " + std::to_string(items.size()));
    o.stress_quantiles.clear();
    for (std::size_t i = 0; i < items.size(); ++i) {
      const double x = items[i].number(Range::closed(0, 1));
      if (i > 0 && !(x > o.stress_quantiles.back()))
        items[i].fail("expected strictly increasing quantiles: " + format_number(x) +
                      " is not greater than the previous one (" +
                      format_number(o.stress_quantiles.back()) + ")");
      o.stress_quantiles.push_back(x);
    }
  }
  const auto ticks = m.get("snapshot_ticks"), at = m.get("snapshot_at");
  if (ticks && at) at->fail("give either 'snapshot_ticks' or 'snapshot_at', not both");
  if (ticks) {
    const std::vector<Value> items = ticks->list();
    for (const Value& item : items) {
      const auto t = item.integer<std::int32_t>(0, time.ticks - 1);
      if (!o.snapshot_ticks.empty() && t <= o.snapshot_ticks.back())
        item.fail("expected strictly increasing ticks: " + std::to_string(t) +
                  " is not greater than the previous one (" +
                  std::to_string(o.snapshot_ticks.back()) + ")");
      o.snapshot_ticks.push_back(t);
    }
  }
  if (at) {
    const std::vector<Value> items = at->list();
    for (const Value& item : items) {
      const std::int32_t t = tick_at(item, time);
      if (t >= time.ticks)
        item.fail("the time '" + item.node().Scalar() + "' falls in tick " + std::to_string(t) +
                  ", after the last tick (time.ticks = " + std::to_string(time.ticks) + ")");
      if (!o.snapshot_ticks.empty() && t <= o.snapshot_ticks.back())
        item.fail("expected strictly increasing times in distinct ticks: '" + item.node().Scalar() +
                  "' falls in tick " + std::to_string(t) +
                  ", not after the previous time's tick (" +
                  std::to_string(o.snapshot_ticks.back()) + ")");
      o.snapshot_ticks.push_back(t);
    }
  }
  o.snapshot_agents = m.integer<std::uint32_t>("snapshot_agents", 1, agents, o.snapshot_agents);
  return o;
}

Scenario read_scenario(const Value& root, Context& ctx) {
  const MapReader m(root);
  const auto& section = schema::scenario_section();
  m.allow_only(section.keys());
  Scenario s;
  read_scalars(m, section, s);
  if (s.name.empty()) m.get("name")->fail("expected a non-empty name");
  s.time = read_time(m.required("time"));
  const InstitutionNames names(m);
  s.population = read_population(m.required("population"), names, ctx, s.currencies);
  s.network = read_network(m.get("network"), s.population, ctx);
  s.stress = read_stress(m.get("stress"));
  s.news = read_news(m.get("news"), s.time, names);
  s.news_process = read_news_process(m.get("news_process"), s.time, names, ctx);
  s.decision = read_decision(m.get("decision"));
  s.calendar = read_calendar(m.get("calendar"));
  s.institutions = read_institutions(m.required("institutions"), names, s.time, ctx);
  check_final_payouts(m.required("institutions"), s);
  s.output = read_output(m.get("output"), s.time, s.population.agents);
  return s;
}

// ---- documents ----------------------------------------------------------------------------

using yaml_reader::parse_document;

std::string emit(const YAML::Node& root) {
  YAML::Emitter out;
  out << root;
  return std::string(out.c_str()) + "\n";
}

LoadedScenario load(std::string_view yaml, const std::string& source_name,
                    const std::vector<std::string>& overrides, std::filesystem::path base_dir) {
  yaml_reader::Origins origins(source_name);
  YAML::Node root = parse_document(yaml, source_name);
  for (const std::string& text : overrides) {
    schema::check_override_path(text);
    yaml_reader::apply_override(root, text, origins);
  }
  if (!root.IsDefined() || root.IsNull())
    throw ScenarioError(source_name, 0, 0, "",
                        "the scenario is empty (expected a mapping with at least name, time, "
                        "population and institutions)");
  Context ctx{std::move(base_dir), {}};
  LoadedScenario loaded;
  loaded.scenario = read_scenario(Value(origins, root, "", root.Mark()), ctx);
  // Data files are recorded with absolute paths, so that the resolved YAML reads the same
  // files wherever it is loaded from.
  for (auto& [node, absolute] : ctx.absolute_files) {
    YAML::Node target = node;
    if (target.Scalar() != absolute) target = absolute;
  }
  loaded.resolved_yaml = emit(root);
  loaded.source = source_name;
  return loaded;
}

}  // namespace

LoadedScenario load_scenario_text(std::string_view yaml, const std::string& source_name,
                                  const std::vector<std::string>& overrides) {
  return load(yaml, source_name, overrides, {});
}

LoadedScenario load_scenario_text(std::string_view yaml, const std::string& source_name,
                                  const std::vector<std::string>& overrides,
                                  const std::filesystem::path& base_dir) {
  return load(yaml, source_name, overrides, base_dir);
}

LoadedScenario load_scenario_file(const std::string& path,
                                  const std::vector<std::string>& overrides) {
  std::string text;
  try {
    text = data_files::read_text_file(path);  // refuses devices and FIFOs (/dev/zero)
  } catch (const std::runtime_error& e) {
    throw ScenarioError(path, 0, 0, "", std::string("cannot open: ") + e.what());
  }
  return load(text, path, overrides, std::filesystem::path(path).parent_path());
}

}  // namespace bankrun
