#include "output/sweep/sweep_file.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <numbers>
#include <sstream>
#include <stdexcept>

#include "scenarios/data_files.hpp"
#include "scenarios/yaml_reader.hpp"

namespace bankrun::sweep {

namespace fs = std::filesystem;
using yaml_reader::MapReader;
using yaml_reader::Range;
using yaml_reader::Value;

namespace {

// Sweeps larger than this are refused (they would not be run anyway, and it keeps
// point * replicates and every index in exact int64 / double range).
constexpr std::uint64_t kMaxRuns = 1'000'000'000;
constexpr std::uint64_t kMaxValues = 100'000'000;  // of one range

}  // namespace

bool is_name(const std::string& s) {
  return !s.empty() && s.size() <= 63 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

// ---- SHA-256 (FIPS 180-4) ---------------------------------------------------------------

std::string sha256_hex(std::string_view data) {
  static constexpr std::array<std::uint32_t, 64> k = {
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
      0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
      0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
      0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
      0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
      0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
      0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
      0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
      0xc67178f2};
  std::array<std::uint32_t, 8> h = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  const auto rotr = [](std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); };
  const auto block = [&](const unsigned char* p) {
    std::array<std::uint32_t, 64> w{};
    for (int i = 0; i < 16; ++i)
      w[i] = std::uint32_t{p[4 * i]} << 24 | std::uint32_t{p[4 * i + 1]} << 16 |
             std::uint32_t{p[4 * i + 2]} << 8 | std::uint32_t{p[4 * i + 3]};
    for (int i = 16; i < 64; ++i) {
      const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    std::array<std::uint32_t, 8> v = h;
    for (int i = 0; i < 64; ++i) {
      const std::uint32_t s1 = rotr(v[4], 6) ^ rotr(v[4], 11) ^ rotr(v[4], 25);
      const std::uint32_t ch = (v[4] & v[5]) ^ (~v[4] & v[6]);
      const std::uint32_t t1 = v[7] + s1 + ch + k[i] + w[i];
      const std::uint32_t s0 = rotr(v[0], 2) ^ rotr(v[0], 13) ^ rotr(v[0], 22);
      const std::uint32_t maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
      const std::uint32_t t2 = s0 + maj;
      v = {t1 + t2, v[0], v[1], v[2], v[3] + t1, v[4], v[5], v[6]};
    }
    for (int i = 0; i < 8; ++i) h[i] += v[i];
  };
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t full = data.size() / 64;
  for (std::size_t b = 0; b < full; ++b) block(bytes + 64 * b);
  std::array<unsigned char, 128> tail{};
  const std::size_t rest = data.size() - 64 * full;
  std::memcpy(tail.data(), bytes + 64 * full, rest);
  tail[rest] = 0x80;
  const std::size_t tail_size = rest + 9 <= 64 ? 64 : 128;
  const std::uint64_t bits = static_cast<std::uint64_t>(data.size()) * 8;
  for (int i = 0; i < 8; ++i) tail[tail_size - 1 - i] = static_cast<unsigned char>(bits >> (8 * i));
  block(tail.data());
  if (tail_size == 128) block(tail.data() + 64);
  std::string out;
  char buf[9];
  for (std::uint32_t x : h) {
    std::snprintf(buf, sizeof buf, "%08x", x);
    out += buf;
  }
  return out;
}

// ---- Seeds, samples, permutations ---------------------------------------------------------

std::uint64_t mix64(std::uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::uint64_t hash64(std::uint64_t seed, std::uint64_t tag, std::uint64_t a, std::uint64_t b) {
  return mix64(mix64(mix64(mix64(seed) ^ tag) ^ a) ^ b);
}

std::uint64_t run_seed(std::uint64_t sweep_seed, std::uint64_t point, std::uint32_t replicate) {
  return hash64(sweep_seed, kTagRunSeed, point, replicate);
}

std::uint64_t permute(std::uint64_t n, std::uint64_t key, std::uint64_t i) {
  if (n <= 1) return 0;
  int bits = 64 - __builtin_clzll(n - 1);
  if (bits < 2) bits = 2;
  if (bits % 2 != 0) ++bits;
  const int half = bits / 2;
  const std::uint64_t mask = (std::uint64_t{1} << half) - 1;
  std::uint64_t x = i;
  do {
    std::uint64_t left = x >> half, right = x & mask;
    for (std::uint64_t round = 0; round < 4; ++round) {
      const std::uint64_t f = mix64(mix64(key + round) ^ right) & mask;
      const std::uint64_t next = left ^ f;
      left = right;
      right = next;
    }
    x = (left << half) | right;
  } while (x >= n);
  return x;
}

double unit_from_hash(std::uint64_t h) {
  return (static_cast<double>(h >> 11) + 0.5) * 0x1.0p-53;
}

double unit_sample(const Sweep& sweep, std::uint64_t point, std::size_t parameter) {
  if (sweep.mode == Mode::kLhs) {
    const std::uint64_t n = sweep.points;
    const std::uint64_t k = permute(n, hash64(sweep.seed, kTagPermutation, parameter, 0), point);
    const double jitter = unit_from_hash(hash64(sweep.seed, kTagJitter, point, parameter));
    const double lo = static_cast<double>(k) / static_cast<double>(n);
    const double hi = static_cast<double>(k + 1) / static_cast<double>(n);
    double u = lo + jitter * (hi - lo);
    if (u >= hi) u = std::nextafter(hi, 0.0);  // rounding: stay inside the stratum
    if (u <= 0.0) u = std::nextafter(0.0, 1.0);
    return u;
  }
  return unit_from_hash(hash64(sweep.seed, kTagSample, point, parameter));
}

// ---- Values -------------------------------------------------------------------------------

std::string format_value(double x) {
  if (x == 0.0) return "0";  // also -0
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", x);
  return buf;
}

double normal_quantile(double u) {
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  constexpr double low = 0.02425;
  double x;
  if (u < low) {
    const double q = std::sqrt(-2 * std::log(u));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (u <= 1 - low) {
    const double q = u - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const double q = std::sqrt(-2 * std::log1p(-u));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - u;
  const double g = e * std::sqrt(2 * std::numbers::pi) * std::exp(x * x / 2);
  return x - g / (1 + x * g / 2);
}

std::string Distribution::value(double u) const {
  switch (kind) {
    case Kind::kUniform:
      return format_value(a + u * (b - a));
    case Kind::kLogUniform:
      return format_value(std::exp(std::log(a) + u * (std::log(b) - std::log(a))));
    case Kind::kInteger: {
      const double width = b - a + 1;
      const double k = std::min(std::floor(u * width), width - 1);
      return std::to_string(static_cast<std::int64_t>(a + k));
    }
    case Kind::kNormal:
      return format_value(a + b * normal_quantile(u));
  }
  return "";
}

std::uint64_t Parameter::size() const {
  switch (kind) {
    case Kind::kList:
      return values.size();
    case Kind::kRange:
      return count;
    case Kind::kDistribution:
      return 0;
  }
  return 0;
}

std::string Parameter::value(std::uint64_t k) const {
  if (kind == Kind::kList) return values.at(k);
  if (step != 0.0) return format_value(from + static_cast<double>(k) * step);
  // Given by count: from .. to in count values, the last one exactly `to`.
  if (count <= 1) return format_value(from);
  if (k + 1 == count) return format_value(to);
  return format_value(from + (to - from) * static_cast<double>(k) / static_cast<double>(count - 1));
}

// ---- Key paths ------------------------------------------------------------------------------

namespace {

std::optional<std::uint64_t> digits_value(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

using yaml_reader::parse_path;
using yaml_reader::PathStep;

// "a.b[0].c[1]": indices always in brackets (so that `classes.0` and `classes[0]` compare
// equal).
std::string canonical_path(std::string_view path) {
  const auto steps = parse_path(path);
  if (!steps) return std::string(path);
  std::string out;
  for (const PathStep& s : *steps) {
    if (s.number) {
      out += "[" + std::to_string(*s.number) + "]";
    } else {
      if (!out.empty()) out += ".";
      out += s.key;
    }
  }
  return out;
}

bool path_covers(const std::string& prefix, const std::string& path) {
  return path.starts_with(prefix) &&
         (path.size() == prefix.size() || path[prefix.size()] == '.' || path[prefix.size()] == '[');
}

// Whether the key path names a node of the tree.
bool path_exists(const YAML::Node& root, std::string_view path) {
  const auto steps = parse_path(path);
  if (!steps) return false;
  YAML::Node current;
  current.reset(root);  // reset, not =: assigning a Node would overwrite the tree
  for (const PathStep& s : *steps) {
    const YAML::Node& c = current;
    YAML::Node next;
    if (c.IsSequence()) {
      if (!s.number || *s.number >= c.size()) return false;
      next.reset(c[*s.number]);
    } else if (c.IsMap() && !s.is_index) {
      if (!c[s.key].IsDefined()) return false;
      next.reset(c[s.key]);
    } else {
      return false;
    }
    current.reset(next);
  }
  return true;
}

// ---- Reading --------------------------------------------------------------------------------

YAML::Node parse_single_document(std::string_view yaml, const std::string& source) {
  const YAML::Node document = yaml_reader::parse_document(yaml, source);
  if (!document.IsDefined() || document.IsNull())
    throw ScenarioError(source, 0, 0, "",
                        "the sweep file is empty (expected a mapping with at least base)");
  return document;
}

// YAML text of a value as the override parser will read it back: a scalar as written
// (quoted scalars stay quoted strings), a mapping or a list in flow style.
std::string value_text(const YAML::Node& node) {
  YAML::Emitter out;
  if (node.IsScalar()) {
    const bool quoted = node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str";
    if (!quoted) return node.Scalar();
    out << YAML::DoubleQuoted << node.Scalar();
  } else if (node.IsNull()) {
    return "null";
  } else {
    out << YAML::Flow << node;
  }
  return out.c_str();
}

bool is_number_text(const YAML::Node& node) {
  if (!node.IsScalar() || node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") return false;
  return yaml_reader::parse_number(node.Scalar()).status == yaml_reader::NumberStatus::kOk;
}

// The inline base's text, cut from the sweep file with its line and column positions kept
// (earlier lines left empty, the start of its first line blanked); "" if that cannot be
// done (the base ends on the line where the next key starts), then the node is re-emitted.
std::string cut_inline_base(std::string_view text, const YAML::Node& root, const YAML::Node& base) {
  const YAML::Mark start = base.Mark();
  if (start.is_null()) return "";
  int next_line = -1;
  int next_pos = std::numeric_limits<int>::max();
  for (auto it = root.begin(); it != root.end(); ++it) {
    const YAML::Mark m = it->first.Mark();
    if (!m.is_null() && m.pos > start.pos && m.pos < next_pos) {
      next_pos = m.pos;
      next_line = m.line;
    }
  }
  if (next_line == start.line) return "";
  std::vector<std::string_view> lines;
  std::size_t begin = 0;
  while (begin <= text.size()) {
    std::size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(begin, end - begin));
    if (end == text.size()) break;
    begin = end + 1;
  }
  const std::size_t stop = next_line < 0 ? lines.size() : static_cast<std::size_t>(next_line);
  std::string out(static_cast<std::size_t>(start.line), '\n');
  for (std::size_t i = static_cast<std::size_t>(start.line); i < stop && i < lines.size(); ++i) {
    std::string line(lines[i]);
    if (i == static_cast<std::size_t>(start.line))
      for (std::size_t c = 0; c < static_cast<std::size_t>(start.column) && c < line.size(); ++c)
        line[c] = ' ';
    out += line + "\n";
  }
  return out;
}

LoadedScenario load_base(const Sweep& s, const std::vector<std::string>& overrides) {
  if (!s.base_file.empty()) return load_scenario_file(s.base_file, overrides);
  return load_scenario_text(s.base_text, s.base_source, overrides, s.base_dir);
}

// What went wrong with a value, for a message at the value's position in the sweep file.
std::string explain(const ScenarioError& e, const std::string& path, const std::string& text) {
  if (e.file().starts_with("--set ")) {
    // The parameter's own path is already in the message's key path.
    const bool same = e.key_path().empty() || canonical_path(e.key_path()) == canonical_path(path);
    return (same ? "" : e.key_path() + ": ") + e.message();
  }
  return "with " + path + "=" + text + " the scenario is invalid: " + e.what();
}

[[noreturn]] void fail_at(const std::string& source, const YAML::Mark& mark,
                          const std::string& key_path, const std::string& message) {
  if (mark.is_null()) throw ScenarioError(source, 0, 0, key_path, message);
  throw ScenarioError(source, mark.line + 1, mark.column + 1, key_path, message);
}

void check_value(const Sweep& s, const std::string& source, const Parameter& p,
                 const std::string& text, const YAML::Mark& mark, const std::string& key_path) {
  try {
    load_base(s, {p.path + "=" + text});
  } catch (const ScenarioError& e) {
    fail_at(source, mark, key_path, explain(e, p.path, text));
  }
}

Distribution read_distribution(const MapReader& m) {
  Distribution d;
  d.kind = kDistributionNames[m.required("dist").choice(names_of(kDistributionNames))].value;
  const std::map<std::string, std::string> notes = {
      {"mean", "it belongs to dist: normal"},
      {"sd", "it belongs to dist: normal"},
      {"low", "it belongs to dist: uniform, loguniform and integer"},
      {"high", "it belongs to dist: uniform, loguniform and integer"}};
  const std::string context = std::string("(dist: ") + name_in(kDistributionNames, d.kind) + ")";
  if (d.kind == Distribution::Kind::kNormal) {
    m.allow_only({"dist", "mean", "sd"}, notes, context);
    d.a = m.required_number("mean", Range::any());
    d.b = m.required_number("sd", Range::at_least(0));
    return d;
  }
  m.allow_only({"dist", "low", "high"}, notes, context);
  const Value low = m.required("low");
  const Value high = m.required("high");
  if (d.kind == Distribution::Kind::kInteger) {
    constexpr std::int64_t lim = std::int64_t{1} << 53;
    d.a = static_cast<double>(low.integer<std::int64_t>(-lim, lim));
    d.b = static_cast<double>(high.integer<std::int64_t>(-lim, lim));
    if (d.b < d.a)
      high.fail("expected an integer >= low (" + yaml_reader::format_number(d.a) + "), got " +
                high.describe());
    return d;
  }
  d.a = low.number(d.kind == Distribution::Kind::kLogUniform ? Range::above(0) : Range::any());
  d.b = high.number(Range::above(d.a));
  return d;
}

void read_range(const MapReader& m, Parameter& p) {
  m.allow_only({"from", "to", "step", "count"});
  p.kind = Parameter::Kind::kRange;
  p.from = m.required_number("from", Range::any());
  p.to = m.required_number("to", Range::any());
  const bool has_step = m.has("step"), has_count = m.has("count");
  if (has_step == has_count)
    m.fail(std::string(has_step ? "both" : "neither") +
           " of 'step' and 'count' given: a range needs exactly one of them");
  if (has_count) {
    p.count = m.integer<std::uint64_t>("count", 1, kMaxValues, 1);
    if (p.count == 1 && p.to != p.from)
      m.fail_at_key("count", "count 1 needs from == to (got from " +
                                 yaml_reader::format_number(p.from) + ", to " +
                                 yaml_reader::format_number(p.to) + "); use count >= 2");
    p.step = 0.0;
    return;
  }
  const Value step = m.required("step");
  p.step = step.number(Range::any());
  const double span = p.to - p.from;
  if (p.step == 0.0 || (span != 0.0 && (span > 0) != (p.step > 0)))
    step.fail("expected a step " + std::string(span >= 0 ? "> 0" : "< 0") + " (from " +
              yaml_reader::format_number(p.from) + " to " + yaml_reader::format_number(p.to) +
              "), got " + step.describe());
  const double n = std::floor(span / p.step + 1e-9) + 1;
  if (n > static_cast<double>(kMaxValues))
    step.fail("the range has " + yaml_reader::format_number(n) + " values, more than " +
              std::to_string(kMaxValues));
  p.count = static_cast<std::uint64_t>(n);
}

Parameter read_parameter(const Value& v, const std::string& path, const YAML::Mark& key_mark) {
  Parameter p;
  p.path = path;
  p.line = key_mark.line + 1;
  p.column = key_mark.column + 1;
  if (v.is_list()) {
    p.kind = Parameter::Kind::kList;
    if (v.node().size() == 0) v.fail("expected at least one value, got an empty list");
    for (std::size_t i = 0; i < v.node().size(); ++i) {
      const YAML::Node item = v.node()[i];
      p.values.push_back(value_text(item));
      p.numeric = p.numeric && is_number_text(item);
    }
    return p;
  }
  if (!v.is_map())
    v.fail(
        "expected a list of values ([a, b, c]), a range ({from, to, step or count}) or a "
        "distribution ({dist: uniform, low, high}), got " +
        v.describe() + (v.is_scalar() ? " (write [" + v.node().Scalar() + "] for one value)" : ""));
  const MapReader m(v);
  if (m.has("dist")) {
    p.kind = Parameter::Kind::kDistribution;
    p.distribution = read_distribution(m);
    return p;
  }
  if (m.has("from") || m.has("to") || m.has("step") || m.has("count")) {
    read_range(m, p);
    return p;
  }
  m.fail(
      "expected a range ({from, to, step or count}) or a distribution ({dist: ...}); found "
      "neither 'from' nor 'dist' in " +
      path);
}

// Where each parameter is written: its key and its value (for messages at either).
struct ParameterMarks {
  YAML::Mark key, value;
};

// name, description, seed, mode, replicates and output.
void read_header(const MapReader& m, const std::string& source_name, const fs::path& absolute_dir,
                 Sweep& s) {
  const std::string stem = source_name.empty() ? "sweep" : fs::path(source_name).stem().string();
  if (const auto name = m.get("name")) {
    s.name = name->string();
    if (!is_name(s.name))
      name->fail("expected a name of at most 63 letters, digits, '_', '.' or '-', got '" + s.name +
                 "'");
  } else {
    s.name = is_name(stem) ? stem : "sweep";
  }
  s.description = m.string("description", "");
  s.seed = m.integer<std::uint64_t>("seed", 0, std::numeric_limits<std::uint64_t>::max(), 1);
  s.mode =
      m.has("mode") ? kModeNames[m.get("mode")->choice(names_of(kModeNames))].value : Mode::kGrid;
  s.replicates = m.integer<std::uint32_t>("replicates", 1, 1'000'000, 1);
  s.common_random_numbers = m.boolean("common_random_numbers", false);
  if (const auto out = m.get("output")) {
    const std::string written = out->string();
    if (written.empty()) out->fail("expected a folder path, got an empty string");
    const fs::path p(written);
    s.output_dir = (p.is_absolute() ? p : absolute_dir / p).lexically_normal();
  } else {
    s.output_dir = absolute_dir / (stem + ".sweep");
  }
}

// An inline base: its text cut from the sweep file (positions kept), or re-emitted when it
// cannot be cut.
void read_inline_base(std::string_view yaml, const YAML::Node& root, const Value& base,
                      const std::string& source_name, const fs::path& absolute_dir, Sweep& s) {
  s.base_dir = absolute_dir;
  s.base_text = cut_inline_base(yaml, root, base.node());
  s.base_source = source_name;
  bool cut_ok = false;
  if (!s.base_text.empty()) {
    try {
      const YAML::Node reparsed = YAML::Load(s.base_text);
      cut_ok = reparsed.IsMap() && reparsed.size() == base.node().size();
    } catch (const YAML::Exception&) {
    }
  }
  if (!cut_ok) {
    YAML::Emitter out;
    out << base.node();
    s.base_text = std::string(out.c_str()) + "\n";
    s.base_source = source_name + " (inline base, re-emitted)";
  }
}

// A base file, by its path relative to the sweep file's folder. Returns its text.
std::string read_base_file(const Value& base, const fs::path& absolute_dir, Sweep& s) {
  const std::string written = base.string();
  if (written.empty() || !base.is_scalar())
    base.fail("expected a scenario file path or an inline scenario mapping, got " +
              base.describe());
  const fs::path p(written);
  const fs::path resolved = (p.is_absolute() ? p : absolute_dir / p).lexically_normal();
  std::string text;
  try {
    text = data_files::read_text_file(resolved.string());
  } catch (const std::exception& e) {
    base.fail("cannot open '" + resolved.string() + "': " + e.what());
  }
  s.base_file = resolved.string();
  s.base_source = s.base_file;
  s.base_dir = resolved.parent_path();
  return text;
}

// The base scenario (inline or a file), checked: its errors name its own file, line and
// column. Sets the institutions and the digest; returns the resolved base as a tree.
YAML::Node read_base(std::string_view yaml, const YAML::Node& root, const MapReader& m,
                     const std::string& source_name, const fs::path& absolute_dir, Sweep& s) {
  const Value base = m.required("base");
  std::string base_text_for_digest;
  if (base.is_map()) {
    read_inline_base(yaml, root, base, source_name, absolute_dir, s);
    base_text_for_digest = s.base_text;
  } else {
    base_text_for_digest = read_base_file(base, absolute_dir, s);
  }
  const LoadedScenario loaded_base = load_base(s, {});
  for (const InstitutionSpec& in : loaded_base.scenario.institutions)
    s.institutions.push_back(in.name);
  s.digest = sha256_hex(sha256_hex(yaml) + sha256_hex(base_text_for_digest));
  return YAML::Load(loaded_base.resolved_yaml);
}

// The parameters, in document order: no seed, no two setting the same value.
std::vector<ParameterMarks> read_parameters(const MapReader& m, const std::string& source_name,
                                            Sweep& s) {
  std::vector<ParameterMarks> marks;
  const auto params = m.get("parameters");
  if (!params || params->node().IsNull()) return marks;
  const MapReader pm(*params);  // fails on a non-mapping and on duplicate keys
  for (auto it = params->node().begin(); it != params->node().end(); ++it) {
    const std::string path = it->first.Scalar();
    const YAML::Mark key_mark = it->first.Mark();
    const std::string key_path = yaml_reader::child_path("parameters", path);
    const Value v = *pm.get(path);
    const std::string canonical = canonical_path(path);
    if (canonical == "seed")
      fail_at(source_name, key_mark, key_path,
              "the seed of each run is derived from the sweep's seed, its point and its "
              "replicate (scenarios/SWEEPS.md); set the sweep's seed or replicates instead");
    for (const Parameter& other : s.parameters) {
      const std::string other_canonical = canonical_path(other.path);
      if (path_covers(other_canonical, canonical) || path_covers(canonical, other_canonical))
        fail_at(source_name, key_mark, key_path,
                "overlaps parameters." + other.path + " (line " + std::to_string(other.line) +
                    "): two parameters may not set the same value");
    }
    s.parameters.push_back(read_parameter(v, path, key_mark));
    marks.push_back({key_mark, v.mark()});
  }
  return marks;
}

// Modes random and lhs: `count` points are drawn.
void count_drawn_points(const MapReader& m, const YAML::Node& root, const std::string& source_name,
                        Sweep& s) {
  const auto count_value = m.get("count");
  if (!count_value)
    fail_at(source_name, root.Mark(), "count",
            std::string("missing required key 'count' at the top level (mode ") +
                mode_name(s.mode) + " draws count points)");
  s.points = count_value->integer<std::uint64_t>(1, kMaxRuns);
}

// Modes grid and zip: the points come from the parameters' values (no distributions).
void count_listed_points(const MapReader& m, const std::string& source_name,
                         const std::vector<ParameterMarks>& marks, Sweep& s) {
  if (m.has("count"))
    m.fail_at_key("count", std::string("count is only used by mode random and lhs (mode is ") +
                               mode_name(s.mode) + "); the " + mode_name(s.mode) +
                               " mode's points come from the parameters' values");
  for (std::size_t i = 0; i < s.parameters.size(); ++i) {
    const Parameter& p = s.parameters[i];
    const std::string key_path = yaml_reader::child_path("parameters", p.path);
    if (p.kind == Parameter::Kind::kDistribution)
      fail_at(source_name, marks[i].value, key_path,
              std::string("a distribution needs mode random or lhs (mode is ") + mode_name(s.mode) +
                  "); give a list of values or a range");
    if (s.mode == Mode::kZip) {
      const Parameter& first = s.parameters[0];
      if (p.size() != first.size())
        fail_at(source_name, marks[i].value, key_path,
                "has " + std::to_string(p.size()) + " values but parameters." + first.path +
                    " has " + std::to_string(first.size()) +
                    " (mode zip pairs the k-th values of every parameter: give each the same "
                    "number of values)");
      s.points = first.size();
    } else {
      if (p.size() > kMaxRuns / s.points)
        fail_at(source_name, marks[i].value, key_path,
                "the grid has more than " + std::to_string(kMaxRuns) + " points");
      s.points *= p.size();
    }
  }
}

// The number of points (by mode), then that of runs, within kMaxRuns.
void count_runs(const MapReader& m, const YAML::Node& root, const std::string& source_name,
                const std::vector<ParameterMarks>& marks, Sweep& s) {
  if (s.mode == Mode::kRandom || s.mode == Mode::kLhs)
    count_drawn_points(m, root, source_name, s);
  else
    count_listed_points(m, source_name, marks, s);
  if (s.replicates > kMaxRuns / s.points) {
    const auto rep = m.get("replicates");
    fail_at(source_name, rep ? rep->mark() : root.Mark(), "replicates",
            "the sweep has more than " + std::to_string(kMaxRuns) + " runs (" +
                std::to_string(s.points) + " points x " + std::to_string(s.replicates) +
                " replicates)");
  }
}

// The values of a parameter to check against the base, each with where it is written:
// every list value, a range's first 10000 and last values, a distribution's median.
std::vector<std::pair<std::string, YAML::Mark>> values_to_check(const Parameter& p,
                                                                const YAML::Node& value_node,
                                                                const YAML::Mark& value_mark) {
  std::vector<std::pair<std::string, YAML::Mark>> checks;
  if (p.kind == Parameter::Kind::kList) {
    for (std::size_t k = 0; k < p.values.size(); ++k) {
      const YAML::Mark mark = value_node[k].Mark();
      checks.emplace_back(p.values[k], mark.is_null() ? value_mark : mark);
    }
  } else if (p.kind == Parameter::Kind::kRange) {
    for (std::uint64_t k = 0; k < p.count && k < 10000; ++k)
      checks.emplace_back(p.value(k), value_mark);
    if (p.count > 10000) checks.emplace_back(p.value(p.count - 1), value_mark);
  } else {
    checks.emplace_back(p.distribution.value(0.5), value_mark);
  }
  return checks;
}

// Each parameter's values against the base scenario. A key path the base does not have
// is checked with the first value, and an error is reported at the key.
void check_parameter_values(const MapReader& m, const std::string& source_name,
                            const YAML::Node& base_tree, const std::vector<ParameterMarks>& marks,
                            const Sweep& s) {
  for (std::size_t i = 0; i < s.parameters.size(); ++i) {
    const Parameter& p = s.parameters[i];
    const std::string key_path = yaml_reader::child_path("parameters", p.path);
    const YAML::Node value_node = m.get("parameters")->node()[p.path];
    const bool exists = path_exists(base_tree, p.path);
    const auto checks = values_to_check(p, value_node, marks[i].value);
    for (std::size_t k = 0; k < checks.size(); ++k) {
      const bool at_key = !exists && k == 0;
      const std::string where = p.kind == Parameter::Kind::kList && !at_key
                                    ? yaml_reader::index_path(key_path, k)
                                    : key_path;
      check_value(s, source_name, p, checks[k].first, at_key ? marks[i].key : checks[k].second,
                  where);
    }
  }
}

}  // namespace

Sweep read_sweep_text(std::string_view yaml, const std::string& source_name, const fs::path& dir,
                      const ReadOptions& options) {
  const YAML::Node root = parse_single_document(yaml, source_name);
  const yaml_reader::Origins origins(source_name);
  const MapReader m(Value(origins, root, "", root.Mark()));
  m.allow_only({"name", "description", "base", "seed", "mode", "count", "replicates",
                "common_random_numbers", "output", "parameters"});
  Sweep s;
  s.file = source_name;
  const fs::path absolute_dir =
      (dir.empty() ? fs::current_path() : fs::absolute(dir)).lexically_normal();
  read_header(m, source_name, absolute_dir, s);
  const YAML::Node base_tree = read_base(yaml, root, m, source_name, absolute_dir, s);
  const std::vector<ParameterMarks> marks = read_parameters(m, source_name, s);
  count_runs(m, root, source_name, marks, s);
  if (options.check_values) check_parameter_values(m, source_name, base_tree, marks, s);
  return s;
}

Sweep read_sweep_file(const std::string& path, const ReadOptions& options) {
  std::string text;
  try {
    text = data_files::read_text_file(path);
  } catch (const std::exception& e) {
    throw ScenarioError(path, 0, 0, "", std::string("cannot open: ") + e.what());
  }
  return read_sweep_text(text, path, fs::path(path).parent_path(), options);
}

// ---- Expansion ------------------------------------------------------------------------------

Run expand(const Sweep& sweep, std::uint64_t index) {
  if (index >= sweep.runs())
    throw std::out_of_range("run " + std::to_string(index) + " is not in the sweep (it has " +
                            std::to_string(sweep.runs()) + " runs)");
  Run r;
  r.index = index;
  r.point = index / sweep.replicates;
  r.replicate = static_cast<std::uint32_t>(index % sweep.replicates);
  r.seed = run_seed(sweep.seed, sweep.common_random_numbers ? 0 : r.point, r.replicate);
  const std::size_t n = sweep.parameters.size();
  r.values.resize(n);
  switch (sweep.mode) {
    case Mode::kGrid: {
      std::uint64_t rest = r.point;  // the last parameter varies fastest
      for (std::size_t i = n; i-- > 0;) {
        const Parameter& p = sweep.parameters[i];
        r.values[i] = p.value(rest % p.size());
        rest /= p.size();
      }
      break;
    }
    case Mode::kZip:
      for (std::size_t i = 0; i < n; ++i) r.values[i] = sweep.parameters[i].value(r.point);
      break;
    case Mode::kRandom:
    case Mode::kLhs:
      for (std::size_t i = 0; i < n; ++i) {
        const Parameter& p = sweep.parameters[i];
        const double u = unit_sample(sweep, r.point, i);
        if (p.kind == Parameter::Kind::kDistribution) {
          r.values[i] = p.distribution.value(u);
        } else {
          const auto size = p.size();
          r.values[i] = p.value(std::min<std::uint64_t>(
              size - 1, static_cast<std::uint64_t>(u * static_cast<double>(size))));
        }
      }
      break;
  }
  return r;
}

std::vector<std::string> overrides(const Sweep& sweep, const Run& run) {
  std::vector<std::string> out;
  out.reserve(sweep.parameters.size() + 1);
  for (std::size_t i = 0; i < sweep.parameters.size(); ++i)
    out.push_back(sweep.parameters[i].path + "=" + run.values[i]);
  out.push_back("seed=" + std::to_string(run.seed));
  return out;
}

std::string describe(const Sweep& sweep, const Run& run) {
  std::string out = "run " + std::to_string(run.index) + " (point " + std::to_string(run.point) +
                    ", replicate " + std::to_string(run.replicate);
  for (std::size_t i = 0; i < sweep.parameters.size(); ++i)
    out += (i == 0 ? "; " : ", ") + sweep.parameters[i].path + "=" + run.values[i];
  return out + ")";
}

LoadedScenario load_run(const Sweep& sweep, const Run& run) {
  const std::vector<std::string> sets = overrides(sweep, run);
  try {
    return load_base(sweep, sets);
  } catch (const ScenarioError& e) {
    if (e.file().starts_with("--set ")) {
      const std::string text = e.file().substr(6);
      for (std::size_t i = 0; i < sweep.parameters.size(); ++i) {
        if (sets[i] != text) continue;
        const Parameter& p = sweep.parameters[i];
        throw ScenarioError(sweep.file, p.line, p.column,
                            yaml_reader::child_path("parameters", p.path),
                            describe(sweep, run) + ": " + explain(e, p.path, run.values[i]));
      }
    }
    throw ScenarioError(e.file(), e.line(), e.column(), e.key_path(),
                        e.message() + " (in " + describe(sweep, run) + ")");
  }
}

// ---- Shards ---------------------------------------------------------------------------------

Shard parse_shard(std::string_view text) {
  const std::size_t slash = text.find('/');
  const auto bad = [&](const std::string& why) {
    throw std::invalid_argument("--shard " + std::string(text) + ": " + why);
  };
  if (slash == std::string_view::npos) bad("expected I/N (shard I of N, 0 <= I < N)");
  const auto i = digits_value(text.substr(0, slash));
  const auto n = digits_value(text.substr(slash + 1));
  if (!i || !n) bad("expected I/N with non-negative integers (shard I of N, 0 <= I < N)");
  if (*n == 0) bad("N must be at least 1");
  if (*i >= *n) bad("I must be less than N (shards are numbered 0 .. N-1)");
  return {*i, *n};
}

std::optional<Shard> shard_from_slurm_environment() {
  const char* id = std::getenv("SLURM_ARRAY_TASK_ID");
  if (id == nullptr || *id == '\0') return std::nullopt;
  const char* count = std::getenv("SLURM_ARRAY_TASK_COUNT");
  if (count == nullptr)
    throw std::invalid_argument(
        "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not: give --shard I/N");
  const Shard shard = parse_shard(std::string(id) + "/" + count);
  const char* min = std::getenv("SLURM_ARRAY_TASK_MIN");
  const char* max = std::getenv("SLURM_ARRAY_TASK_MAX");
  const auto lo = min ? digits_value(min) : std::optional<std::uint64_t>(0);
  const auto hi = max ? digits_value(max) : std::optional<std::uint64_t>(shard.count - 1);
  if (!lo || !hi || *lo != 0 || *hi != shard.count - 1)
    throw std::invalid_argument(std::string("this Slurm array is not 0-") +
                                std::to_string(shard.count - 1) + " (tasks " + (min ? min : "?") +
                                " to " + (max ? max : "?") + ", " + count +
                                " tasks): its task ids are not shard numbers; give --shard I/N");
  return shard;
}

// ---- The info file ----------------------------------------------------------------------------

SweepInfo make_info(const Sweep& sweep, const std::string& bankrun_version) {
  SweepInfo info;
  info.sweep_file = sweep.file.empty() ? "" : fs::absolute(sweep.file).lexically_normal().string();
  info.name = sweep.name;
  info.mode = mode_name(sweep.mode);
  info.digest = sweep.digest;
  info.bankrun_version = bankrun_version;
  info.seed = sweep.seed;
  info.points = sweep.points;
  info.runs = sweep.runs();
  info.replicates = sweep.replicates;
  for (const Parameter& p : sweep.parameters) {
    info.parameters.push_back(p.path);
    info.numeric.push_back(p.kind != Parameter::Kind::kList || p.numeric);
  }
  info.institutions = sweep.institutions;
  return info;
}

std::string info_yaml(const SweepInfo& info) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "format" << YAML::Value << "bankrun-sweep";
  out << YAML::Key << "format_version" << YAML::Value << 1;
  out << YAML::Key << "bankrun_version" << YAML::Value << info.bankrun_version;
  out << YAML::Key << "sweep_file" << YAML::Value << info.sweep_file;
  out << YAML::Key << "name" << YAML::Value << info.name;
  out << YAML::Key << "digest" << YAML::Value << info.digest;
  out << YAML::Key << "mode" << YAML::Value << info.mode;
  out << YAML::Key << "seed" << YAML::Value << info.seed;
  out << YAML::Key << "points" << YAML::Value << info.points;
  out << YAML::Key << "replicates" << YAML::Value << info.replicates;
  out << YAML::Key << "runs" << YAML::Value << info.runs;
  out << YAML::Key << "parameters" << YAML::Value << YAML::BeginSeq;
  for (std::size_t i = 0; i < info.parameters.size(); ++i)
    out << YAML::Flow << YAML::BeginMap << YAML::Key << "path" << YAML::Value << YAML::DoubleQuoted
        << info.parameters[i] << YAML::Key << "numeric" << YAML::Value
        << static_cast<bool>(info.numeric[i]) << YAML::EndMap;
  out << YAML::EndSeq;
  out << YAML::Key << "institutions" << YAML::Value << YAML::Flow << info.institutions;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

SweepInfo read_info_file(const std::string& path) {
  std::string text;
  try {
    text = data_files::read_text_file(path);
  } catch (const std::exception& e) {
    throw ScenarioError(path, 0, 0, "", std::string("cannot open: ") + e.what());
  }
  const YAML::Node root = parse_single_document(text, path);
  const yaml_reader::Origins origins(path);
  const MapReader m(Value(origins, root, "", root.Mark()));
  if (m.required_string("format") != "bankrun-sweep")
    m.get("format")->fail("expected 'bankrun-sweep' (not a bankrun sweep information file)");
  if (m.required_integer<int>("format_version", 1, 1) != 1) m.fail("unknown format version");
  SweepInfo info;
  info.bankrun_version = m.string("bankrun_version", "");
  info.sweep_file = m.string("sweep_file", "");
  info.name = m.required_string("name");
  info.digest = m.required_string("digest");
  info.mode = m.required_string("mode");
  info.seed =
      m.required_integer<std::uint64_t>("seed", 0, std::numeric_limits<std::uint64_t>::max());
  info.points = m.required_integer<std::uint64_t>("points", 1, kMaxRuns);
  info.replicates = m.required_integer<std::uint32_t>("replicates", 1, 1'000'000);
  info.runs = m.required_integer<std::uint64_t>("runs", 1, kMaxRuns);
  for (const Value& p : m.required("parameters").list()) {
    const MapReader pm(p);
    info.parameters.push_back(pm.required_string("path"));
    info.numeric.push_back(pm.boolean("numeric", false));
  }
  for (const Value& n : m.required("institutions").list()) info.institutions.push_back(n.string());
  return info;
}

}  // namespace bankrun::sweep
