#pragma once
// Strict, position-aware reading of a yaml-cpp tree (used by loader.cpp and the tests).
//
// A Value is a node plus its key path ("population.classes[0].share") and its position;
// its typed getters fail with a ScenarioError "FILE:LINE:COLUMN: KEY.PATH: MESSAGE".
// A MapReader is a mapping whose keys are checked: duplicates are rejected when it is
// built, keys outside allow_only() with the nearest valid key ("did you mean ...?").
// Origins knows the source name and which subtrees were replaced by --set overrides, so
// that errors inside them name the override instead of a file position.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "scenarios/scenario_error.hpp"

namespace bankrun::yaml_reader {

// ---- Suggestions -------------------------------------------------------------------------

// Edit distance (insertions, deletions, substitutions).
std::size_t levenshtein(std::string_view a, std::string_view b);

// The candidate nearest to `word`, if it is at most max(2, word.size() / 3) edits away
// (ties: the first candidate).
std::optional<std::string> nearest(std::string_view word,
                                   const std::vector<std::string>& candidates);

// "did you mean 'x'?" when a candidate is near, else "valid keys: a, b, c" (`what` names
// the list, e.g. "valid keys" or "expected one of").
std::string suggestion(std::string_view word, const std::vector<std::string>& candidates,
                       std::string_view what = "valid keys");

std::string join(const std::vector<std::string>& items, std::string_view separator = ", ");

// ---- Numbers and timestamps ----------------------------------------------------------------

// Shortest text that reads back as the same double ("0.1", "1e+20", "8760").
std::string format_number(double x);

enum class NumberStatus { kOk, kNotANumber, kNonFinite };
struct NumberParse {
  NumberStatus status = NumberStatus::kNotANumber;
  double value = 0.0;
};
// A YAML 1.2 decimal number: [-+]? (digits [. digits?] | . digits) ([eE] [-+]? digits)?.
// .inf / .nan / inf / nan (any case, any sign) give kNonFinite, as does overflow.
NumberParse parse_number(std::string_view text);

// An interval of doubles; each bound open or closed, infinite bounds mean "none".
struct Range {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool lo_open = false, hi_open = false;

  static Range any() { return {}; }
  static Range above(double lo) { return {lo, std::numeric_limits<double>::infinity(), true}; }
  static Range at_least(double lo) { return {lo, std::numeric_limits<double>::infinity()}; }
  static Range at_most(double hi) { return {-std::numeric_limits<double>::infinity(), hi}; }
  static Range closed(double lo, double hi) { return {lo, hi}; }
  static Range open_closed(double lo, double hi) { return {lo, hi, true, false}; }
  bool contains(double x) const;
  // "> 0", ">= 0", "in [0, 1]", "in (0, 8760]", or "" for any finite number.
  std::string describe() const;
};

// "in LO .. HI", or "" for the full range of a signed type.
template <class T>
std::string describe_integer_range(T lo, T hi) {
  if (std::is_signed_v<T> && lo == std::numeric_limits<T>::min() &&
      hi == std::numeric_limits<T>::max())
    return "";
  return "in " + std::to_string(lo) + " .. " + std::to_string(hi);
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day);

struct TimestampParse {
  std::int64_t unix_seconds = 0;
  std::string error;  // empty on success
};
// "YYYY-MM-DDTHH:MM:SSZ", "YYYY-MM-DDTHH:MMZ" or "YYYY-MM-DD" (UTC; years 0001 .. 9999).
TimestampParse parse_utc_timestamp(std::string_view text);
// "YYYY-MM-DDTHH:MM:SSZ".
std::string format_utc_timestamp(std::int64_t unix_seconds);

inline constexpr const char* kTimestampFormats =
    "a UTC timestamp YYYY-MM-DDTHH:MM:SSZ, YYYY-MM-DDTHH:MMZ or YYYY-MM-DD";

// ---- Where values came from ---------------------------------------------------------------

class Origins {
 public:
  explicit Origins(std::string source) : source_(std::move(source)) {}
  const std::string& source() const { return source_; }

  // Marks the subtree at `path` as set by the override `text` ("a.b=1").
  void add_override(std::string path, std::string text);
  // The override that set `path` or one of its ancestors (the most specific), if any.
  const std::string* override_for(std::string_view path) const;

  // Throws a ScenarioError at `mark` (0-based, as yaml-cpp gives it), or naming the
  // override when the path lies in an overridden subtree.
  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& path,
                         const std::string& message) const;

 private:
  std::string source_;
  std::vector<std::pair<std::string, std::string>> overrides_;  // (path, "--set text")
};

// Parses `yaml` (named `source` in errors) as one YAML document: a ScenarioError with line
// and column for invalid YAML or for more than one document; an undefined node if empty.
YAML::Node parse_document(std::string_view yaml, const std::string& source);

// "at the top level" or "in PATH".
std::string location(const std::string& path);
std::string child_path(const std::string& parent, std::string_view key);
std::string index_path(const std::string& parent, std::size_t index);

// One step of a key path: a mapping key, or a list index written as [i].
struct PathStep {
  std::string key;                    // a mapping key, unless is_index
  bool is_index = false;              // written as [i]
  std::optional<std::size_t> number;  // the index, for [i] and for all-digit keys
};

// "a.b[0].c.1" -> a, b, [0], c, 1. Empty optional on a malformed path.
std::optional<std::vector<PathStep>> parse_path(std::string_view path);

// Applies one --set override "key.path=value" to `root` (list indices as `a[0]` or `a.0`;
// the value is parsed as YAML). Missing mappings on the way are created; indices must
// exist. Records the overridden path in `origins`. Errors name the override.
void apply_override(YAML::Node& root, const std::string& text, Origins& origins);

// ---- Typed access -------------------------------------------------------------------------

class Value {
 public:
  Value(const Origins& origins, YAML::Node node, std::string path, YAML::Mark mark)
      : origins_(&origins), node_(std::move(node)), path_(std::move(path)), mark_(mark) {}

  const YAML::Node& node() const { return node_; }
  const std::string& path() const { return path_; }
  const YAML::Mark& mark() const { return mark_; }
  const Origins& origins() const { return *origins_; }
  bool is_map() const { return node_.IsMap(); }
  bool is_list() const { return node_.IsSequence(); }
  bool is_scalar() const { return node_.IsScalar(); }
  // A scalar written in quotes or tagged !!str: never a number.
  bool is_quoted_string() const;

  // What the value is, for "got ..." in messages: "a mapping", "a list", "null", "-1",
  // "'abc'", "the string \"5\"".
  std::string describe() const;

  [[noreturn]] void fail(const std::string& message) const;

  double number(const Range& range = Range::any()) const;
  std::string string() const;  // any scalar, as written
  std::int64_t timestamp() const;
  // true or false (also True, TRUE, False, FALSE); quoted scalars are strings.
  bool boolean() const;
  // The index of the option equal to the scalar; did-you-mean otherwise.
  std::size_t choice(const std::vector<std::string>& options) const;
  std::vector<Value> list() const;

  template <class T>
  T integer(T lo = std::numeric_limits<T>::min(), T hi = std::numeric_limits<T>::max()) const;

 private:
  struct IntegerLiteral {
    bool negative = false;
    std::uint64_t magnitude = 0;
  };
  IntegerLiteral integer_literal(const std::string& range_text) const;
  [[noreturn]] void fail_integer_range(const std::string& range_text) const;

  const Origins* origins_;
  YAML::Node node_;
  std::string path_;
  YAML::Mark mark_;
};

template <class T>
T Value::integer(T lo, T hi) const {
  const std::string range_text = describe_integer_range(lo, hi);
  const IntegerLiteral v = integer_literal(range_text);
  constexpr std::uint64_t kMinInt64Magnitude = std::uint64_t{1} << 63;
  if (v.negative && v.magnitude != 0) {
    if (v.magnitude > kMinInt64Magnitude) fail_integer_range(range_text);
    const std::int64_t x = v.magnitude == kMinInt64Magnitude
                               ? std::numeric_limits<std::int64_t>::min()
                               : -static_cast<std::int64_t>(v.magnitude);
    if (std::cmp_less(x, lo) || std::cmp_greater(x, hi)) fail_integer_range(range_text);
    return static_cast<T>(x);
  }
  if (std::cmp_less(v.magnitude, lo) || std::cmp_greater(v.magnitude, hi))
    fail_integer_range(range_text);
  return static_cast<T>(v.magnitude);
}

class MapReader {
 public:
  // Fails unless `value` is a mapping with scalar, distinct keys.
  explicit MapReader(Value value);

  const Value& value() const { return value_; }
  const std::string& path() const { return value_.path(); }
  [[noreturn]] void fail(const std::string& message) const { value_.fail(message); }

  // Rejects the first key (in document order) not in `allowed`, suggesting the nearest
  // allowed key. `context` is appended to the mapping's name ("(dist: uniform)"); `notes`
  // explain keys that are valid elsewhere ("'sd' belongs to dist: normal").
  void allow_only(const std::vector<std::string>& allowed,
                  const std::map<std::string, std::string>& notes = {},
                  std::string_view context = "") const;

  // The keys, in document order.
  std::vector<std::string> keys() const;
  // Fails at the position of `key` (which must be present), with its key path.
  [[noreturn]] void fail_at_key(std::string_view key, const std::string& message) const;

  bool has(std::string_view key) const { return find(key) != nullptr; }
  std::optional<Value> get(std::string_view key) const;
  // Fails at the mapping's position when the key is absent.
  Value required(std::string_view key) const;

  double number(std::string_view key, const Range& range, double fallback) const;
  double required_number(std::string_view key, const Range& range) const;
  std::optional<double> optional_number(std::string_view key, const Range& range) const;
  std::string string(std::string_view key, std::string fallback) const;
  std::string required_string(std::string_view key) const;
  bool boolean(std::string_view key, bool fallback) const;

  template <class T>
  T integer(std::string_view key, T lo, T hi, T fallback) const {
    const std::optional<Value> v = get(key);
    return v ? v->integer<T>(lo, hi) : fallback;
  }
  template <class T>
  T required_integer(std::string_view key, T lo, T hi) const {
    return required(key).integer<T>(lo, hi);
  }

 private:
  struct Entry {
    std::string key;
    YAML::Mark key_mark;
    Value value;
  };
  const Entry* find(std::string_view key) const;

  Value value_;
  std::vector<Entry> entries_;  // document order
};

}  // namespace bankrun::yaml_reader
