#include "scenarios/yaml_reader.hpp"

#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace bankrun::yaml_reader {

// ---- Suggestions -------------------------------------------------------------------------

std::size_t levenshtein(std::string_view a, std::string_view b) {
  std::vector<std::size_t> previous(b.size() + 1), current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::optional<std::string> nearest(std::string_view word,
                                   const std::vector<std::string>& candidates) {
  const std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
  std::optional<std::string> best;
  std::size_t best_distance = limit + 1;
  for (const std::string& candidate : candidates) {
    const std::size_t d = levenshtein(word, candidate);
    if (d < best_distance) {
      best = candidate;
      best_distance = d;
    }
  }
  return best;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += separator;
    out += items[i];
  }
  return out;
}

std::string suggestion(std::string_view word, const std::vector<std::string>& candidates,
                       std::string_view what) {
  if (const auto near = nearest(word, candidates)) return "did you mean '" + *near + "'?";
  return std::string(what) + ": " + join(candidates);
}

// ---- Numbers and timestamps ----------------------------------------------------------------

std::string format_number(double x) {
  std::array<char, 64> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), x);
  return std::string(buffer.data(), result.ptr);
}

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::size_t count_digits(std::string_view text, std::size_t pos) {
  std::size_t n = 0;
  while (pos + n < text.size() && std::isdigit(static_cast<unsigned char>(text[pos + n]))) ++n;
  return n;
}

// Checks the decimal grammar; sets has_negative_exponent.
bool is_decimal(std::string_view t, bool& has_negative_exponent) {
  std::size_t i = 0;
  if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
  const std::size_t integer_digits = count_digits(t, i);
  i += integer_digits;
  std::size_t fraction_digits = 0;
  if (i < t.size() && t[i] == '.') {
    fraction_digits = count_digits(t, i + 1);
    i += 1 + fraction_digits;
  }
  if (integer_digits + fraction_digits == 0) return false;
  has_negative_exponent = false;
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) has_negative_exponent = t[i++] == '-';
    const std::size_t exponent_digits = count_digits(t, i);
    if (exponent_digits == 0) return false;
    i += exponent_digits;
  }
  return i == t.size();
}

bool is_integer_literal(std::string_view t) {
  const std::size_t sign = !t.empty() && (t[0] == '+' || t[0] == '-') ? 1 : 0;
  return t.size() > sign && count_digits(t, sign) == t.size() - sign;
}

}  // namespace

NumberParse parse_number(std::string_view text) {
  std::string_view unsigned_text = text;
  if (!unsigned_text.empty() && (unsigned_text[0] == '+' || unsigned_text[0] == '-'))
    unsigned_text.remove_prefix(1);
  const std::string special = lower(unsigned_text);
  if (special == ".inf" || special == "inf" || special == "infinity" || special == ".nan" ||
      special == "nan")
    return {NumberStatus::kNonFinite, 0.0};
  bool negative_exponent = false;
  if (!is_decimal(text, negative_exponent)) return {};
  std::string_view digits = text[0] == '+' ? text.substr(1) : text;
  double value = 0.0;
  const auto result = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (result.ec == std::errc::result_out_of_range) {
    if (!negative_exponent) return {NumberStatus::kNonFinite, 0.0};
    value = text[0] == '-' ? -0.0 : 0.0;  // underflow
  } else if (result.ec != std::errc() || result.ptr != digits.data() + digits.size()) {
    return {};
  }
  if (!std::isfinite(value)) return {NumberStatus::kNonFinite, 0.0};
  return {NumberStatus::kOk, value};
}

bool Range::contains(double x) const {
  const bool above_lo = lo_open ? x > lo : x >= lo;
  const bool below_hi = hi_open ? x < hi : x <= hi;
  return above_lo && below_hi;
}

std::string Range::describe() const {
  const bool has_lo = std::isfinite(lo), has_hi = std::isfinite(hi);
  if (has_lo && has_hi)
    return std::string("in ") + (lo_open ? "(" : "[") + format_number(lo) + ", " +
           format_number(hi) + (hi_open ? ")" : "]");
  if (has_lo) return (lo_open ? "> " : ">= ") + format_number(lo);
  if (has_hi) return (hi_open ? "< " : "<= ") + format_number(hi);
  return "";
}

std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) {
  year -= month <= 2 ? 1 : 0;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<std::int64_t>(day_of_era) - 719468;
}

namespace {

struct Civil {
  std::int64_t year;
  unsigned month, day;
};

Civil civil_from_days(std::int64_t days) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto day_of_era = static_cast<unsigned>(days - era * 146097);
  const unsigned year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const unsigned day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const unsigned mp = (5 * day_of_year + 2) / 153;
  const unsigned day = day_of_year - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<std::int64_t>(year_of_era) + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

bool is_leap(std::int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

unsigned days_in_month(std::int64_t year, unsigned month) {
  static constexpr std::array<unsigned, 12> kDays = {31, 28, 31, 30, 31, 30,
                                                     31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : kDays[month - 1];
}

// Reads `width` digits at `pos`; false if any is not a digit.
bool fixed_digits(std::string_view text, std::size_t pos, std::size_t width, unsigned& out) {
  if (pos + width > text.size() || count_digits(text, pos) < width) return false;
  out = 0;
  for (std::size_t i = 0; i < width; ++i)
    out = out * 10 + static_cast<unsigned>(text[pos + i] - '0');
  return true;
}

std::string two_digits(unsigned x) {
  std::array<char, 8> b{};
  std::snprintf(b.data(), b.size(), "%02u", x);
  return b.data();
}

std::string check_field(const char* name, unsigned value, unsigned lo, unsigned hi,
                        const std::string& suffix = "") {
  if (value >= lo && value <= hi) return "";
  return std::string(name) + " " + std::to_string(value) + " is not in " + std::to_string(lo) +
         " .. " + std::to_string(hi) + suffix;
}

}  // namespace

TimestampParse parse_utc_timestamp(std::string_view text) {
  TimestampParse out;
  const std::string format_error = std::string("expected ") + kTimestampFormats;
  unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  const bool date_ok = text.size() >= 10 && fixed_digits(text, 0, 4, year) && text[4] == '-' &&
                       fixed_digits(text, 5, 2, month) && text[7] == '-' &&
                       fixed_digits(text, 8, 2, day);
  bool ok = date_ok && text.size() == 10;
  if (date_ok && (text.size() == 17 || text.size() == 20)) {
    ok = text[10] == 'T' && fixed_digits(text, 11, 2, hour) && text[13] == ':' &&
         fixed_digits(text, 14, 2, minute) && text.back() == 'Z';
    if (ok && text.size() == 20) ok = text[16] == ':' && fixed_digits(text, 17, 2, second);
  }
  if (!ok) {
    out.error = format_error;
    return out;
  }
  const std::string ym = " for " + std::to_string(year) + "-" + two_digits(month);
  for (const std::string& error :
       {check_field("year", year, 1, 9999), check_field("month", month, 1, 12),
        month >= 1 && month <= 12 ? check_field("day", day, 1, days_in_month(year, month), ym)
                                  : std::string(),
        check_field("hour", hour, 0, 23), check_field("minute", minute, 0, 59),
        check_field("second", second, 0, 59)}) {
    if (!error.empty()) {
      out.error = "invalid timestamp: " + error;
      return out;
    }
  }
  out.unix_seconds = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  return out;
}

std::string format_utc_timestamp(std::int64_t unix_seconds) {
  const std::int64_t days =
      unix_seconds >= 0 ? unix_seconds / 86400 : -((-unix_seconds + 86399) / 86400);
  const auto seconds_of_day = static_cast<unsigned>(unix_seconds - days * 86400);
  const Civil c = civil_from_days(days);
  std::array<char, 64> b{};
  std::snprintf(b.data(), b.size(), "%04lld-%02u-%02uT%02u:%02u:%02uZ",
                static_cast<long long>(c.year), c.month, c.day, seconds_of_day / 3600,
                seconds_of_day / 60 % 60, seconds_of_day % 60);
  return b.data();
}

// ---- Where values came from ---------------------------------------------------------------

void Origins::add_override(std::string path, std::string text) {
  overrides_.emplace_back(std::move(path), "--set " + std::move(text));
}

const std::string* Origins::override_for(std::string_view path) const {
  const std::string* best = nullptr;
  std::size_t best_length = 0;
  for (const auto& [prefix, text] : overrides_) {
    const bool covers =
        path.starts_with(prefix) &&
        (path.size() == prefix.size() || path[prefix.size()] == '.' || path[prefix.size()] == '[');
    if (covers && (best == nullptr || prefix.size() >= best_length)) {
      best = &text;
      best_length = prefix.size();
    }
  }
  return best;
}

void Origins::fail(const YAML::Mark& mark, const std::string& path,
                   const std::string& message) const {
  if (const std::string* text = override_for(path)) throw ScenarioError(*text, 0, 0, path, message);
  if (mark.is_null()) throw ScenarioError(source_, 0, 0, path, message);
  throw ScenarioError(source_, mark.line + 1, mark.column + 1, path, message);
}

std::string location(const std::string& path) {
  return path.empty() ? "at the top level" : "in " + path;
}

std::string child_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

std::string index_path(const std::string& parent, std::size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

namespace {

std::optional<std::size_t> parse_index(std::string_view digits) {
  if (digits.empty() || count_digits(digits, 0) != digits.size()) return std::nullopt;
  std::size_t value = 0;
  const auto result = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (result.ec != std::errc()) return std::nullopt;
  return value;
}

std::string trim(std::string_view text) {
  const std::size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return "";
  const std::size_t end = text.find_last_not_of(" \t");
  return std::string(text.substr(begin, end - begin + 1));
}

const char* node_kind(const YAML::Node& node) {
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  if (node.IsScalar()) return "a scalar value";
  return "null";
}

}  // namespace

std::optional<std::vector<PathStep>> parse_path(std::string_view path) {
  std::vector<PathStep> steps;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = path.find('.', start);
    std::string_view segment =
        path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    const std::size_t bracket = segment.find('[');
    const std::string_view name = segment.substr(0, bracket);
    if (name.empty() || name.find(']') != std::string_view::npos) return std::nullopt;
    steps.push_back({std::string(name), false, parse_index(name)});
    std::string_view rest = bracket == std::string_view::npos ? "" : segment.substr(bracket);
    while (!rest.empty()) {
      const std::size_t close = rest.find(']');
      if (rest[0] != '[' || close == std::string_view::npos) return std::nullopt;
      const auto index = parse_index(rest.substr(1, close - 1));
      if (!index) return std::nullopt;
      steps.push_back({"", true, index});
      rest.remove_prefix(close + 1);
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return steps;
}

void apply_override(YAML::Node& root, const std::string& text, Origins& origins) {
  const std::string origin = "--set " + text;
  auto fail = [&](const std::string& path, const std::string& message) {
    throw ScenarioError(origin, 0, 0, path, message);
  };
  const std::size_t eq = text.find('=');
  if (eq == std::string::npos) fail("", "expected KEY.PATH=VALUE, found no '='");
  const std::string path_text = trim(std::string_view(text).substr(0, eq));
  if (path_text.empty()) fail("", "empty key path before '='");
  const auto steps = parse_path(path_text);
  if (!steps)
    fail(path_text, "malformed key path '" + path_text +
                        "' (expected keys separated by '.', list indices as key[0] or key.0)");
  YAML::Node value;
  try {
    value = YAML::Load(text.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    fail(path_text, "the value is not valid YAML: " + e.msg);
  }

  if (!root.IsDefined() || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  YAML::Node current;
  current.reset(root);  // reset, not =: assigning a Node would overwrite the tree
  std::string path;
  for (std::size_t i = 0; i < steps->size(); ++i) {
    const PathStep& step = (*steps)[i];
    const bool last = i + 1 == steps->size();
    const std::string where = path.empty() ? "the top level" : path;
    YAML::Node next;
    if (current.IsSequence()) {
      if (!step.number)
        fail(path, where + " is a list; index it as " + path + "[0] or " + path + ".0");
      const std::size_t size = current.size();
      if (*step.number >= size)
        fail(path, "index " + std::to_string(*step.number) + " is out of range: " + where +
                       " has " + std::to_string(size) + " element" + (size == 1 ? "" : "s"));
      path = index_path(path, *step.number);
      if (last) {
        current[*step.number] = value;
        break;
      }
      next.reset(current[*step.number]);
    } else if (step.is_index || current.IsScalar()) {
      fail(path, "cannot index into " + where + ": it is " + node_kind(current) +
                     (step.is_index ? ", not a list" : ""));
    } else {
      path = child_path(path, step.key);
      const YAML::Node& const_current = current;
      const bool exists = current.IsMap() && const_current[step.key].IsDefined();
      if (last) {
        current[step.key] = value;
        break;
      }
      if (!exists) {
        current[step.key] = YAML::Node(YAML::NodeType::Map);
        origins.add_override(path, text);
      }
      next.reset(current[step.key]);
    }
    current.reset(next);
  }
  origins.add_override(path, text);
}

// ---- Typed access -------------------------------------------------------------------------

bool Value::is_quoted_string() const {
  return node_.IsScalar() && (node_.Tag() == "!" || node_.Tag() == "tag:yaml.org,2002:str");
}

std::string Value::describe() const {
  if (node_.IsMap()) return "a mapping";
  if (node_.IsSequence()) return "a list";
  if (!node_.IsScalar()) return "null";
  std::string text = node_.Scalar();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  if (is_quoted_string()) return "the string \"" + text + "\"";
  if (parse_number(text).status != NumberStatus::kNotANumber) return text;
  return "'" + text + "'";
}

void Value::fail(const std::string& message) const {
  origins_->fail(mark_, path_, message);
}

double Value::number(const Range& range) const {
  if (!is_scalar() || is_quoted_string()) fail("expected a number, got " + describe());
  const NumberParse parsed = parse_number(node_.Scalar());
  if (parsed.status == NumberStatus::kNotANumber) fail("expected a number, got " + describe());
  if (parsed.status == NumberStatus::kNonFinite)
    fail("expected a finite number, got " + describe());
  if (!range.contains(parsed.value))
    fail("expected a number " + range.describe() + ", got " + describe());
  return parsed.value;
}

Value::IntegerLiteral Value::integer_literal(const std::string& range_text) const {
  const std::string expected = "expected an integer" + (range_text.empty() ? "" : " " + range_text);
  if (!is_scalar() || is_quoted_string()) fail(expected + ", got " + describe());
  const std::string& text = node_.Scalar();
  if (is_integer_literal(text)) {
    const bool negative = text[0] == '-';
    const std::size_t sign = text[0] == '-' || text[0] == '+' ? 1 : 0;
    IntegerLiteral v{negative, 0};
    const auto result = std::from_chars(text.data() + sign, text.data() + text.size(), v.magnitude);
    if (result.ec != std::errc()) fail_integer_range(range_text);
    return v;
  }
  const NumberParse parsed = parse_number(text);
  if (parsed.status != NumberStatus::kOk) fail(expected + ", got " + describe());
  if (std::floor(parsed.value) != parsed.value)
    fail("expected an integer, got " + describe() + " (not a whole number)");
  if (std::fabs(parsed.value) >= 18446744073709551616.0) fail_integer_range(range_text);
  return {parsed.value < 0, static_cast<std::uint64_t>(std::fabs(parsed.value))};
}

void Value::fail_integer_range(const std::string& range_text) const {
  fail("expected an integer" + (range_text.empty() ? "" : " " + range_text) + ", got " +
       describe());
}

std::string Value::string() const {
  if (!is_scalar()) fail("expected a string, got " + describe());
  return node_.Scalar();
}

std::int64_t Value::timestamp() const {
  if (!is_scalar()) fail(std::string("expected ") + kTimestampFormats + ", got " + describe());
  const TimestampParse parsed = parse_utc_timestamp(node_.Scalar());
  if (!parsed.error.empty()) fail(parsed.error + ", got '" + node_.Scalar() + "'");
  return parsed.unix_seconds;
}

bool Value::boolean() const {
  if (is_scalar() && !is_quoted_string()) {
    const std::string& t = node_.Scalar();
    if (t == "true" || t == "True" || t == "TRUE") return true;
    if (t == "false" || t == "False" || t == "FALSE") return false;
  }
  fail("expected true or false, got " + describe());
}

std::size_t Value::choice(const std::vector<std::string>& options) const {
  const std::string expected = "expected one of " + join(options, ", ");
  if (!is_scalar()) fail(expected + ", got " + describe());
  const std::string& text = node_.Scalar();
  const auto it = std::find(options.begin(), options.end(), text);
  if (it != options.end()) return static_cast<std::size_t>(it - options.begin());
  const auto near = nearest(text, options);
  fail(expected + ", got " + describe() + (near ? "; did you mean '" + *near + "'?" : ""));
}

std::vector<Value> Value::list() const {
  if (!is_list()) fail("expected a list, got " + describe());
  std::vector<Value> items;
  for (std::size_t i = 0; i < node_.size(); ++i) {
    const YAML::Node item = node_[i];
    const YAML::Mark mark = item.IsNull() || item.Mark().is_null() ? mark_ : item.Mark();
    items.emplace_back(*origins_, item, index_path(path_, i), mark);
  }
  return items;
}

MapReader::MapReader(Value value) : value_(std::move(value)) {
  if (!value_.is_map()) value_.fail("expected a mapping, got " + value_.describe());
  for (auto it = value_.node().begin(); it != value_.node().end(); ++it) {
    const YAML::Node key = it->first;
    const YAML::Node item = it->second;
    if (!key.IsScalar())
      value_.origins().fail(key.Mark(), path(),
                            "expected a string as key, got " +
                                Value(value_.origins(), key, path(), key.Mark()).describe());
    const std::string name = key.Scalar();
    if (const Entry* first = find(name)) {
      const std::string where =
          first->key_mark.is_null()
              ? ""
              : " (first at line " + std::to_string(first->key_mark.line + 1) + ")";
      value_.origins().fail(key.Mark(), child_path(path(), name),
                            "duplicate key '" + name + "' " + location(path()) + where);
    }
    const YAML::Mark mark = item.IsNull() || item.Mark().is_null() ? key.Mark() : item.Mark();
    entries_.push_back(
        {name, key.Mark(), Value(value_.origins(), item, child_path(path(), name), mark)});
  }
}

const MapReader::Entry* MapReader::find(std::string_view key) const {
  for (const Entry& entry : entries_)
    if (entry.key == key) return &entry;
  return nullptr;
}

void MapReader::allow_only(const std::vector<std::string>& allowed,
                           const std::map<std::string, std::string>& notes,
                           std::string_view context) const {
  for (const Entry& entry : entries_) {
    if (std::find(allowed.begin(), allowed.end(), entry.key) != allowed.end()) continue;
    std::string message = "unknown key '" + entry.key + "' " + location(path());
    if (!context.empty()) message += " " + std::string(context);
    if (const auto note = notes.find(entry.key); note != notes.end())
      message += " (" + note->second + ")";
    message += "; " + suggestion(entry.key, allowed);
    value_.origins().fail(entry.key_mark, child_path(path(), entry.key), message);
  }
}

std::vector<std::string> MapReader::keys() const {
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const Entry& entry : entries_) out.push_back(entry.key);
  return out;
}

void MapReader::fail_at_key(std::string_view key, const std::string& message) const {
  const Entry* entry = find(key);
  value_.origins().fail(entry != nullptr ? entry->key_mark : value_.mark(), child_path(path(), key),
                        message);
}

std::optional<Value> MapReader::get(std::string_view key) const {
  if (const Entry* entry = find(key)) return entry->value;
  return std::nullopt;
}

Value MapReader::required(std::string_view key) const {
  if (const Entry* entry = find(key)) return entry->value;
  value_.origins().fail(value_.mark(), child_path(path(), key),
                        "missing required key '" + std::string(key) + "' " + location(path()));
}

double MapReader::number(std::string_view key, const Range& range, double fallback) const {
  return optional_number(key, range).value_or(fallback);
}

double MapReader::required_number(std::string_view key, const Range& range) const {
  return required(key).number(range);
}

std::optional<double> MapReader::optional_number(std::string_view key, const Range& range) const {
  if (const auto v = get(key)) return v->number(range);
  return std::nullopt;
}

std::string MapReader::string(std::string_view key, std::string fallback) const {
  if (const auto v = get(key)) return v->string();
  return fallback;
}

bool MapReader::boolean(std::string_view key, bool fallback) const {
  if (const auto v = get(key)) return v->boolean();
  return fallback;
}

std::string MapReader::required_string(std::string_view key) const {
  return required(key).string();
}

namespace {

// Counts the documents of a YAML stream, keeping the position of the second one's root node,
// without building them. It replaces YAML::LoadAll, which in yaml-cpp 0.7 never returns on
// a stray ',' at the top level (found by tests/fuzz; jbeder/yaml-cpp#1040, fixed upstream
// by #1319): the parser reports an empty document again and again without consuming a
// token, and LoadAll allocates until memory runs out. A document that starts where the
// previous one started is `stalled` here, and the caller stops.
class DocumentCounter : public YAML::EventHandler {
 public:
  std::size_t documents = 0;
  YAML::Mark second_root = YAML::Mark::null_mark();
  bool stalled = false;
  YAML::Mark stalled_at = YAML::Mark::null_mark();

  void OnDocumentStart(const YAML::Mark& mark) override {
    stalled = documents > 0 && mark.pos == last_start_.pos;
    if (stalled) stalled_at = mark;
    last_start_ = mark;
    ++documents;
    awaiting_root_ = true;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    node(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    node(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    node(mark);
  }
  void OnMapEnd() override {}

 private:
  void node(const YAML::Mark& mark) {
    if (awaiting_root_ && documents == 2) second_root = mark;
    awaiting_root_ = false;
  }
  YAML::Mark last_start_ = YAML::Mark::null_mark();
  bool awaiting_root_ = false;
};

[[noreturn]] void fail_at_mark(const std::string& source, const YAML::Mark& mark,
                               const std::string& message) {
  const bool has_mark = !mark.is_null();
  throw ScenarioError(source, has_mark ? mark.line + 1 : 0, has_mark ? mark.column + 1 : 0, "",
                      message);
}

}  // namespace

YAML::Node parse_document(std::string_view yaml, const std::string& source) {
  const std::string text(yaml);
  DocumentCounter counter;
  try {
    std::istringstream in(text);
    YAML::Parser parser(in);
    while (!counter.stalled && parser.HandleNextDocument(counter)) {
    }
  } catch (const YAML::Exception& e) {
    fail_at_mark(source, e.mark, "invalid YAML: " + e.msg);
  }
  if (counter.stalled) {
    const std::size_t at = static_cast<std::size_t>(counter.stalled_at.pos);
    fail_at_mark(source, counter.stalled_at,
                 "invalid YAML: unexpected '" + text.substr(at, 1) + "'");
  }
  if (counter.documents > 1)
    fail_at_mark(source, counter.second_root,
                 "expected a single YAML document, found " + std::to_string(counter.documents));
  if (counter.documents == 0) return YAML::Node();
  return YAML::Load(text);  // the one document (its syntax was checked above)
}

}  // namespace bankrun::yaml_reader
