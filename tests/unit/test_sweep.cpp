// Sweep files (output/sweep/sweep_file.hpp): grid, zip, random and Latin hypercube expansion, seed
// derivation, sharding, the pure helpers (SHA-256, SplitMix64, permutations) and the
// error messages of bad sweep files (file:line:column, key path, what was expected).
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "output/sweep/sweep_file.hpp"

using namespace bankrun;
using namespace bankrun::sweep;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

// Line numbers in the tests below refer to this text (line 1 is "seed: 5").
const std::string kInline = R"(seed: 5
mode: grid
base:
  name: tiny
  time: {ticks: 3}
  population:
    agents: 100
    classes:
      - {name: all, balance_usd: 1000, threshold: 0.5}
  news:
    - {tick: 1, magnitude: 0.3}
  output: {snapshot_agents: 10}
  institutions:
    - {name: bank}
parameters:
  population.agents: [100, 200]
  stress.flow_weight: {from: 0, to: 1, count: 3}
)";

Sweep sweep_of(const std::string& text, const ReadOptions& options = {}) {
  return read_sweep_text(text, "sweep.yaml", fs::current_path(), options);
}

std::string error_of(const std::string& text, const ReadOptions& options = {}) {
  try {
    sweep_of(text, options);
  } catch (const ScenarioError& e) {
    return e.what();
  }
  FAIL("expected a ScenarioError for:\n" << text);
  return "";
}

// A sweep with inline base kInline's base and the given tail (mode, count, parameters).
std::string with_parameters(const std::string& head, const std::string& parameters) {
  const std::string base = kInline.substr(kInline.find("base:"));
  return head + base.substr(0, base.find("parameters:")) + "parameters:\n" + parameters;
}

class TempDir {
 public:
  TempDir() {
    std::random_device random;
    for (int attempt = 0;; ++attempt) {
      path_ = fs::temp_directory_path() / ("bankrun-sweep-test-" + std::to_string(random()));
      if (fs::create_directory(path_)) break;
      REQUIRE(attempt < 100);
    }
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string write(const std::string& name, const std::string& text) const {
    const fs::path file = path_ / name;
    std::ofstream out(file, std::ios::binary);
    out << text;
    return file.string();
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

double number(const std::string& text) {
  std::size_t used = 0;
  const double x = std::stod(text, &used);
  REQUIRE(used == text.size());
  return x;
}

// The stratum k of u among n strata [k/n, (k+1)/n), robust to rounding of u * n.
std::uint64_t stratum(double u, std::uint64_t n) {
  auto k = static_cast<std::uint64_t>(u * static_cast<double>(n));
  if (k > 0 && static_cast<double>(k) / static_cast<double>(n) > u) --k;
  if (static_cast<double>(k + 1) / static_cast<double>(n) <= u) ++k;
  return k;
}

}  // namespace

// ---- Pure helpers ----------------------------------------------------------------------------

TEST_CASE("sweep: SHA-256 matches the FIPS 180-4 test vectors") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(sha256_hex(std::string(1000000, 'a')) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // Lengths around the padding boundary (55, 56, 63, 64 bytes) must all differ.
  std::set<std::string> digests;
  for (std::size_t n = 50; n < 70; ++n) digests.insert(sha256_hex(std::string(n, 'x')));
  CHECK(digests.size() == 20);
}

TEST_CASE("sweep: mix64 is SplitMix64's output function") {
  // The first outputs of SplitMix64 seeded with 0 (the reference sequence).
  CHECK(mix64(0) == 0xE220A8397B1DCDAFull);
  CHECK(mix64(0x9E3779B97F4A7C15ull) == 0x6E789E6AA1B965F4ull);
  CHECK(mix64(2 * 0x9E3779B97F4A7C15ull) == 0x06C45D188009454Full);
  CHECK(hash64(1, 2, 3, 4) == mix64(mix64(mix64(mix64(1) ^ 2) ^ 3) ^ 4));
}

TEST_CASE("sweep: run seeds are a pure function of (sweep seed, point, replicate)") {
  std::set<std::uint64_t> seen;
  for (std::uint64_t s : {0ull, 1ull, 42ull})
    for (std::uint64_t p = 0; p < 100; ++p)
      for (std::uint32_t r = 0; r < 10; ++r) {
        const std::uint64_t seed = run_seed(s, p, r);
        CHECK(seed == hash64(s, kTagRunSeed, p, r));
        CHECK(seed == run_seed(s, p, r));
        seen.insert(seed);
      }
  CHECK(seen.size() == 3 * 100 * 10);  // no collision

  // expand() uses it: point = index / replicates, replicate = index % replicates.
  const Sweep s = sweep_of(replace(kInline, "mode: grid\n", "mode: grid\nreplicates: 3\n"));
  REQUIRE(s.runs() == 2 * 3 * 3);
  for (std::uint64_t i = 0; i < s.runs(); ++i) {
    const Run r = expand(s, i);
    CHECK(r.point == i / 3);
    CHECK(r.replicate == i % 3);
    CHECK(r.seed == run_seed(5, r.point, r.replicate));
  }
  // The scenario of a run gets that seed.
  const LoadedScenario loaded = load_run(s, expand(s, 4));
  CHECK(loaded.scenario.seed == run_seed(5, 1, 1));
  // Another sweep seed gives other seeds.
  const Sweep other = sweep_of(replace(kInline, "seed: 5", "seed: 6"));
  CHECK(expand(other, 0).seed != expand(sweep_of(kInline), 0).seed);
}

TEST_CASE("sweep: permute is a bijection of 0 .. n-1") {
  for (std::uint64_t n = 1; n <= 300; ++n)
    for (std::uint64_t key : {0ull, 1ull, 0xDEADBEEFull}) {
      std::vector<bool> hit(n, false);
      for (std::uint64_t i = 0; i < n; ++i) {
        const std::uint64_t j = permute(n, key, i);
        REQUIRE(j < n);
        CHECK_FALSE(hit[j]);
        hit[j] = true;
      }
    }
  // Keys give different permutations.
  std::vector<std::uint64_t> a, b;
  for (std::uint64_t i = 0; i < 50; ++i) {
    a.push_back(permute(50, 1, i));
    b.push_back(permute(50, 2, i));
  }
  CHECK(a != b);
}

TEST_CASE("sweep: shards partition the runs for N = 1 .. 20") {
  for (std::uint64_t runs : {1ull, 7ull, 20ull, 101ull})
    for (std::uint64_t n = 1; n <= 20; ++n) {
      std::vector<int> owners(runs, 0);
      std::vector<std::uint64_t> sizes(n, 0);
      for (std::uint64_t i = 0; i < n; ++i) {
        const Shard shard = parse_shard(std::to_string(i) + "/" + std::to_string(n));
        CHECK(shard.index == i);
        CHECK(shard.count == n);
        for (std::uint64_t r = 0; r < runs; ++r)
          if (shard.contains(r)) {
            ++owners[r];
            ++sizes[i];
          }
      }
      for (std::uint64_t r = 0; r < runs; ++r) CHECK(owners[r] == 1);  // exactly one shard
      const auto [lo, hi] = std::minmax_element(sizes.begin(), sizes.end());
      CHECK(*hi - *lo <= 1);  // balanced
    }
}

TEST_CASE("sweep: bad shards are rejected with the reason") {
  const auto why = [](const std::string& text) {
    try {
      parse_shard(text);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(contains(why("3/3"), "I must be less than N"));
  CHECK(contains(why("0/0"), "N must be at least 1"));
  CHECK(contains(why("1"), "expected I/N"));
  CHECK(contains(why("a/b"), "non-negative integers"));
  CHECK(contains(why("-1/4"), "non-negative integers"));
}

TEST_CASE("sweep: the shard of a Slurm array task comes from its environment") {
  const char* names[] = {"SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN",
                         "SLURM_ARRAY_TASK_MAX"};
  std::map<std::string, std::string> saved;
  for (const char* n : names)
    if (const char* v = std::getenv(n)) saved[n] = v;
  const auto set = [&](const char* id, const char* count, const char* min, const char* max) {
    const char* values[] = {id, count, min, max};
    for (int i = 0; i < 4; ++i)
      if (values[i])
        setenv(names[i], values[i], 1);
      else
        unsetenv(names[i]);
  };
  set(nullptr, nullptr, nullptr, nullptr);
  CHECK_FALSE(shard_from_slurm_environment().has_value());
  set("2", "4", "0", "3");
  const auto shard = shard_from_slurm_environment();
  REQUIRE(shard.has_value());
  CHECK(shard->index == 2);
  CHECK(shard->count == 4);
  set("2", "4", "1", "4");  // an array 1-4: task ids are not shard numbers
  CHECK_THROWS_AS(shard_from_slurm_environment(), std::invalid_argument);
  set("2", nullptr, nullptr, nullptr);
  CHECK_THROWS_AS(shard_from_slurm_environment(), std::invalid_argument);
  set(nullptr, nullptr, nullptr, nullptr);
  for (const auto& [n, v] : saved) setenv(n.c_str(), v.c_str(), 1);
}

// ---- Expansion -------------------------------------------------------------------------------

TEST_CASE("sweep: grid is the cartesian product, the last parameter fastest") {
  const Sweep s = sweep_of(kInline);
  CHECK(s.mode == Mode::kGrid);
  REQUIRE(s.parameters.size() == 2);
  CHECK(s.points == 6);
  CHECK(s.runs() == 6);
  std::vector<std::pair<std::string, std::string>> got;
  for (std::uint64_t i = 0; i < s.runs(); ++i) {
    const Run r = expand(s, i);
    got.emplace_back(r.values[0], r.values[1]);
  }
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"100", "0"}, {"100", "0.5"}, {"100", "1"}, {"200", "0"}, {"200", "0.5"}, {"200", "1"}};
  CHECK(got == expected);
  // The overrides are the parameters in order, then the seed.
  const Run r = expand(s, 4);
  CHECK(overrides(s, r) == std::vector<std::string>{"population.agents=200",
                                                    "stress.flow_weight=0.5",
                                                    "seed=" + std::to_string(r.seed)});
  const LoadedScenario loaded = load_run(s, r);
  CHECK(loaded.scenario.population.agents == 200);
  CHECK(loaded.scenario.stress.flow_weight == 0.5);
  CHECK_THROWS_AS(expand(s, 6), std::out_of_range);
}

TEST_CASE("sweep: ranges by step and by count") {
  const Sweep s = sweep_of(with_parameters("",
                                           "  stress.flow_weight: {from: 0, to: 0.3, step: 0.1}\n"
                                           "  stress.news_weight: {from: 1, to: 0, count: 5}\n"
                                           "  time.ticks: {from: 10, to: 1, step: -3}\n"));
  CHECK(s.parameters[0].size() == 4);
  CHECK(s.parameters[0].value(3) == "0.3");  // 15 significant digits: no 0.30000000000000004
  CHECK(s.parameters[1].size() == 5);
  CHECK(s.parameters[1].value(1) == "0.75");
  CHECK(s.parameters[1].value(4) == "0");
  CHECK(s.parameters[2].size() == 4);  // 10, 7, 4, 1
  CHECK(s.parameters[2].value(3) == "1");
  CHECK(s.points == 4 * 5 * 4);
}

TEST_CASE("sweep: zip pairs the k-th values") {
  const Sweep s = sweep_of(with_parameters("mode: zip\n",
                                           "  population.agents: [100, 200, 300]\n"
                                           "  stress.flow_weight: {from: 0, to: 1, count: 3}\n"
                                           "  name: [a, 'b: c', \"1\"]\n"));
  CHECK(s.points == 3);
  for (std::uint64_t i = 0; i < 3; ++i) {
    const Run r = expand(s, i);
    CHECK(r.values[0] == std::to_string(100 * (i + 1)));
    CHECK(number(r.values[1]) == doctest::Approx(0.5 * static_cast<double>(i)));
  }
  // Strings keep their quotes, so that the override reads them back as strings.
  CHECK(expand(s, 1).values[2] == "\"b: c\"");
  CHECK(load_run(s, expand(s, 1)).scenario.name == "b: c");
  CHECK(load_run(s, expand(s, 2)).scenario.name == "1");
  CHECK(s.parameters[0].numeric);
  CHECK_FALSE(s.parameters[2].numeric);
}

TEST_CASE("sweep: random draws count points from the distributions, deterministically") {
  const std::string text =
      with_parameters("mode: random\ncount: 4000\nseed: 11\n",
                      "  stress.flow_weight: {dist: uniform, low: 2, high: 3}\n"
                      "  stress.news_weight: {dist: loguniform, low: 0.01, high: 100}\n"
                      "  population.agents: {dist: integer, low: 10, high: 14}\n"
                      "  stress.peer_weight: {dist: normal, mean: 1, sd: 0.5}\n"
                      "  name: [x, y]\n");
  const Sweep s = sweep_of(text);
  CHECK(s.points == 4000);
  const std::size_t n = 4000;
  double sum_u = 0, sum_log = 0, sum_n = 0, sum_n2 = 0;
  std::map<std::string, int> ints, names;
  for (std::uint64_t i = 0; i < n; ++i) {
    const Run r = expand(s, i);
    const double u = number(r.values[0]);
    CHECK(u >= 2);
    CHECK(u < 3);
    sum_u += u;
    const double l = number(r.values[1]);
    CHECK(l >= 0.01);
    CHECK(l <= 100);
    sum_log += std::log10(l);
    ++ints[r.values[2]];
    const double x = number(r.values[3]);
    sum_n += x;
    sum_n2 += x * x;
    ++names[r.values[4]];
  }
  // Means within 5 standard errors (the tolerance comes from the sample size).
  const double se = 1 / std::sqrt(static_cast<double>(n));
  CHECK(std::abs(sum_u / n - 2.5) < 5 * std::sqrt(1.0 / 12) * se);
  CHECK(std::abs(sum_log / n - 0.0) < 5 * std::sqrt(16.0 / 12) * se);  // log10 ~ U(-2, 2)
  const double mean = sum_n / n, var = sum_n2 / n - mean * mean;
  CHECK(std::abs(mean - 1) < 5 * 0.5 * se);
  CHECK(std::abs(var - 0.25) < 5 * 0.25 * std::sqrt(2.0) * se);
  REQUIRE(ints.size() == 5);  // 10 .. 14, each with probability 1/5
  for (const auto& [value, k] : ints) {
    CHECK(number(value) >= 10);
    CHECK(number(value) <= 14);
    CHECK(std::abs(k - n / 5.0) < 5 * std::sqrt(n * 0.2 * 0.8));
  }
  CHECK(names.size() == 2);
  // Deterministic: the same file gives the same runs; another seed other runs.
  const Sweep again = sweep_of(text);
  const Sweep other = sweep_of(replace(text, "seed: 11", "seed: 12"));
  for (std::uint64_t i = 0; i < 20; ++i) CHECK(expand(s, i).values == expand(again, i).values);
  CHECK(expand(s, 0).values != expand(other, 0).values);
}

TEST_CASE("sweep: the normal quantile function") {
  const sweep::Distribution d{sweep::Distribution::Kind::kNormal, 0.0, 1.0};
  CHECK(number(d.value(0.5)) == doctest::Approx(0.0).epsilon(1e-12));
  CHECK(number(d.value(0.975)) == doctest::Approx(1.959963984540054).epsilon(1e-12));
  CHECK(number(d.value(0.025)) == doctest::Approx(-1.959963984540054).epsilon(1e-12));
  CHECK(number(d.value(1e-10)) == doctest::Approx(-6.361340902404056).epsilon(1e-9));
}

TEST_CASE("sweep: Latin hypercube puts one point in each of the count strata") {
  for (std::uint64_t count : {1ull, 2ull, 7ull, 100ull, 1000ull}) {
    const Sweep s =
        sweep_of(with_parameters("mode: lhs\ncount: " + std::to_string(count) + "\n",
                                 "  stress.flow_weight: {dist: uniform, low: 0, high: 1}\n"
                                 "  stress.news_weight: {dist: normal, mean: 0, sd: 1}\n"
                                 "  stress.peer_weight: {dist: loguniform, low: 1, high: 1000}\n"));
    CHECK(s.points == count);
    for (std::size_t p = 0; p < 3; ++p) {
      std::vector<int> hits(count, 0);
      for (std::uint64_t i = 0; i < count; ++i) {
        const double u = unit_sample(s, i, p);
        REQUIRE(u > 0);
        REQUIRE(u < 1);
        ++hits[stratum(u, count)];
      }
      for (std::uint64_t k = 0; k < count; ++k) CHECK(hits[k] == 1);
    }
    // The uniform parameter's values fall one per stratum of [0, 1).
    std::vector<int> hits(count, 0);
    for (std::uint64_t i = 0; i < count; ++i)
      ++hits[stratum(number(expand(s, i).values[0]), count)];
    CHECK(std::count(hits.begin(), hits.end(), 1) == static_cast<long>(count));
    // The parameters' strata are permuted independently.
    if (count >= 100) {
      int same = 0;
      for (std::uint64_t i = 0; i < count; ++i)
        same += stratum(unit_sample(s, i, 0), count) == stratum(unit_sample(s, i, 1), count);
      CHECK(same < 10);
    }
  }
  // A list under lhs: count = list size gives every value once.
  const Sweep s = sweep_of(
      with_parameters("mode: lhs\ncount: 4\n", "  population.agents: [100, 200, 300, 400]\n"));
  std::set<std::string> values;
  for (std::uint64_t i = 0; i < 4; ++i) values.insert(expand(s, i).values[0]);
  CHECK(values.size() == 4);
}

TEST_CASE("sweep: a base file, relative to the sweep file, and the digest") {
  TempDir dir;
  const std::string base_text = kInline.substr(
      kInline.find("base:\n") + 6, kInline.find("parameters:") - kInline.find("base:\n") - 6);
  std::string dedented;
  std::size_t start = 0;
  while (start < base_text.size()) {
    const std::size_t end = base_text.find('\n', start);
    dedented += base_text.substr(start + 2, end - start - 2) + "\n";
    start = end + 1;
  }
  dir.write("base.yaml", dedented);
  const std::string sweep_file =
      dir.write("s.yaml", "base: base.yaml\noutput: results\nparameters:\n  time.ticks: [2, 4]\n");
  const Sweep s = read_sweep_file(sweep_file);
  CHECK(s.base_file == (dir.path() / "base.yaml").string());
  CHECK(s.output_dir == dir.path() / "results");
  CHECK(s.name == "s");
  CHECK(s.institutions == std::vector<std::string>{"bank"});
  CHECK(load_run(s, expand(s, 1)).scenario.time.ticks == 4);
  CHECK(load_run(s, expand(s, 1)).source == s.base_file);
  // Without `output`: <stem>.sweep next to the sweep file.
  const std::string plain = dir.write("t.yaml", "base: base.yaml\n");
  CHECK(read_sweep_file(plain).output_dir == dir.path() / "t.sweep");
  CHECK(read_sweep_file(plain).runs() == 1);
  // The digest changes with the sweep file and with the base file.
  const std::string d0 = read_sweep_file(plain).digest;
  dir.write("t.yaml", "base: base.yaml\nseed: 3\n");
  const std::string d1 = read_sweep_file(plain).digest;
  dir.write("base.yaml", dedented + "description: changed\n");
  const std::string d2 = read_sweep_file(plain).digest;
  CHECK(d0 != d1);
  CHECK(d1 != d2);
}

TEST_CASE("sweep: the info file round trip") {
  const Sweep s = sweep_of(with_parameters("mode: zip\n",
                                           "  population.agents: [100, 200]\n"
                                           "  name: [a, b]\n"));
  TempDir dir;
  const std::string path = dir.write("sweep.info.yaml", info_yaml(make_info(s, "9.9")));
  const SweepInfo info = read_info_file(path);
  CHECK(info.name == s.name);
  CHECK(info.mode == "zip");
  CHECK(info.seed == 1);
  CHECK(info.runs == 2);
  CHECK(info.digest == s.digest);
  CHECK(info.parameters == std::vector<std::string>{"population.agents", "name"});
  CHECK(info.numeric == std::vector<bool>{true, false});
  CHECK(info.institutions == std::vector<std::string>{"bank"});
  CHECK(info.bankrun_version == "9.9");
}

// ---- Errors ----------------------------------------------------------------------------------

TEST_CASE("sweep errors: unknown keys, with file:line:column and a suggestion") {
  CHECK(error_of(replace(kInline, "mode: grid", "mdoe: grid")) ==
        "sweep.yaml:2:1: mdoe: unknown key 'mdoe' at the top level; did you mean 'mode'?");
  CHECK(error_of(replace(kInline, "mode: grid", "mode: gird")) ==
        "sweep.yaml:2:7: mode: expected one of grid, zip, random, lhs, got 'gird'; did you "
        "mean 'grid'?");
  // An unknown key in the inline base names the sweep file's own line and column.
  CHECK(error_of(replace(kInline, "agents: 100\n", "agenst: 100\n")) ==
        "sweep.yaml:7:5: population.agenst: unknown key 'agenst' in population; did you mean "
        "'agents'?");
}

TEST_CASE("sweep errors: key paths the base scenario does not have") {
  // Reported at the parameter's key, with the loader's suggestion.
  CHECK(error_of(replace(kInline, "  population.agents: [100, 200]",
                         "  population.agentz: [100, 200]")) ==
        "sweep.yaml:16:3: parameters.population.agentz: unknown key 'agentz' in population; did "
        "you mean 'agents'?");
  CHECK(
      error_of(replace(kInline, "  population.agents: [100, 200]", "  news[3].magnitude: [0.1]")) ==
      "sweep.yaml:16:3: parameters.news[3].magnitude: news: index 3 is out of range: news has "
      "1 element");
  CHECK(contains(
      error_of(replace(kInline, "  population.agents: [100, 200]", "  population..agents: [100]")),
      "sweep.yaml:16:3: parameters.population..agents: malformed key path"));
  CHECK(error_of(replace(kInline, "  population.agents: [100, 200]", "  seed: [1, 2]")) ==
        "sweep.yaml:16:3: parameters.seed: the seed of each run is derived from the sweep's "
        "seed, its point and its replicate (scenarios/SWEEPS.md); set the sweep's seed or "
        "replicates instead");
  CHECK(contains(error_of(replace(kInline, "  stress.flow_weight: {from: 0, to: 1, count: 3}",
                                  "  population: [{agents: 5}]")),
                 "sweep.yaml:17:3: parameters.population: overlaps parameters.population.agents "
                 "(line 16)"));
  CHECK(contains(error_of(replace(kInline, "  stress.flow_weight: {from: 0, to: 1, count: 3}",
                                  "  population.agents: [1]")),
                 "sweep.yaml:17:3: parameters.population.agents: duplicate key"));
}

TEST_CASE("sweep errors: bad values, at the value") {
  CHECK(error_of(replace(kInline, "[100, 200]", "[100, 1.5]")) ==
        "sweep.yaml:16:28: parameters.population.agents[1]: expected an integer, got 1.5 (not a "
        "whole number)");
  CHECK(error_of(replace(kInline, "[100, 200]", "[100, \"200\"]")) ==
        "sweep.yaml:16:28: parameters.population.agents[1]: expected an integer in 1 .. "
        "4000000000, got the string \"200\"");
  // Valid alone, invalid with the base: the message says which value and why.
  CHECK(error_of(replace(kInline, "[100, 200]", "[100, 5]")) ==
        "sweep.yaml:16:28: parameters.population.agents[1]: with population.agents=5 the "
        "scenario is invalid: sweep.yaml:12:29: output.snapshot_agents: expected an integer in "
        "1 .. 5, got 10");
  CHECK(error_of(replace(kInline, "[100, 200]", "[]")) ==
        "sweep.yaml:16:22: parameters.population.agents: expected at least one value, got an "
        "empty list");
  CHECK(error_of(replace(kInline, "[100, 200]", "100")) ==
        "sweep.yaml:16:22: parameters.population.agents: expected a list of values ([a, b, c]), "
        "a range ({from, to, step or count}) or a distribution ({dist: uniform, low, high}), "
        "got 100 (write [100] for one value)");
  CHECK(error_of(replace(kInline, "{from: 0, to: 1, count: 3}", "{from: 0, to: 1, step: -1}")) ==
        "sweep.yaml:17:46: parameters.stress.flow_weight.step: expected a step > 0 (from 0 to "
        "1), got -1");
  CHECK(contains(error_of(replace(kInline, "{from: 0, to: 1, count: 3}", "{from: 0, to: 1}")),
                 "sweep.yaml:17:23: parameters.stress.flow_weight: neither of 'step' and 'count' "
                 "given"));
  CHECK(contains(error_of(replace(kInline, "{from: 0, to: 1, count: 3}",
                                  "{from: 0, to: 1, count: 3, stpe: 1}")),
                 "parameters.stress.flow_weight.stpe: unknown key 'stpe' in "
                 "parameters.stress.flow_weight; did you mean 'step'?"));
  // A range value the scenario rejects.
  CHECK(contains(error_of(replace(kInline, "population.agents: [100, 200]",
                                  "population.agents: {from: 100, to: 101, count: 3}")),
                 "sweep.yaml:16:22: parameters.population.agents: expected an integer, got 100.5"));
}

TEST_CASE("sweep errors: modes, counts and distributions") {
  CHECK(error_of(replace(kInline, "mode: grid", "mode: grid\ncount: 5")) ==
        "sweep.yaml:3:1: count: count is only used by mode random and lhs (mode is grid); the "
        "grid mode's points come from the parameters' values");
  CHECK(error_of(replace(kInline, "mode: grid", "mode: lhs")) ==
        "sweep.yaml:1:1: count: missing required key 'count' at the top level (mode lhs draws "
        "count points)");
  CHECK(error_of(
            replace(kInline, "{from: 0, to: 1, count: 3}", "{dist: uniform, low: 0, high: 1}")) ==
        "sweep.yaml:17:23: parameters.stress.flow_weight: a distribution needs mode random or "
        "lhs (mode is grid); give a list of values or a range");
  CHECK(contains(error_of(replace(replace(kInline, "mode: grid", "mode: zip"), "[100, 200]",
                                  "[100, 200, 300, 400]")),
                 "sweep.yaml:17:23: parameters.stress.flow_weight: has 3 values but "
                 "parameters.population.agents has 4 (mode zip"));
  const std::string random = replace(kInline, "mode: grid", "mode: random\ncount: 3");
  CHECK(
      error_of(replace(random, "{from: 0, to: 1, count: 3}", "{dist: unifrom, low: 0, high: 1}")) ==
      "sweep.yaml:18:30: parameters.stress.flow_weight.dist: expected one of uniform, "
      "loguniform, integer, normal, got 'unifrom'; did you mean 'uniform'?");
  CHECK(
      error_of(replace(random, "{from: 0, to: 1, count: 3}", "{dist: uniform, low: 1, high: 0}")) ==
      "sweep.yaml:18:53: parameters.stress.flow_weight.high: expected a number > 1, got 0");
  CHECK(error_of(replace(random, "{from: 0, to: 1, count: 3}", "{dist: uniform, low: 0, sd: 1}")) ==
        "sweep.yaml:18:47: parameters.stress.flow_weight.sd: unknown key 'sd' in "
        "parameters.stress.flow_weight (dist: uniform) (it belongs to dist: normal); valid "
        "keys: dist, low, high");
  CHECK(contains(error_of(replace(random, "{from: 0, to: 1, count: 3}",
                                  "{dist: loguniform, low: 0, high: 1}")),
                 "parameters.stress.flow_weight.low: expected a number > 0, got 0"));
  // The median of a distribution is checked against the base.
  CHECK(contains(error_of(replace(random, "population.agents: [100, 200]",
                                  "population.agents: {dist: uniform, low: 100, high: 201}")),
                 "sweep.yaml:17:22: parameters.population.agents: expected an integer, got 150.5"));
}

TEST_CASE("sweep errors: the base, the file and its structure") {
  CHECK(contains(error_of("base: nowhere.yaml\n"), "sweep.yaml:1:7: base: cannot open '"));
  CHECK(contains(error_of("base: nowhere.yaml\n"), "nowhere.yaml': No such file or directory"));
  CHECK(error_of("seed: 1\n") ==
        "sweep.yaml:1:1: base: missing required key 'base' at the top level");
  CHECK(error_of("") ==
        "sweep.yaml: the sweep file is empty (expected a mapping with at least base)");
  CHECK(contains(error_of("base: [\n"), "sweep.yaml:2:1: invalid YAML"));
  CHECK(contains(error_of(kInline.substr(0, kInline.find("parameters:")) + "parameters: [a]\n"),
                 "parameters: expected a mapping, got a list"));
  CHECK(error_of(replace(kInline, "seed: 5", "seed: -5")) ==
        "sweep.yaml:1:7: seed: expected an integer in 0 .. 18446744073709551615, got -5");
  CHECK(error_of(replace(kInline, "mode: grid", "mode: grid\nreplicates: 0")) ==
        "sweep.yaml:3:13: replicates: expected an integer in 1 .. 1000000, got 0");
  // The base file's own errors name the base file.
  TempDir dir;
  dir.write("bad.yaml", "name: x\ntime: {ticks: 0}\n");
  const std::string file = dir.write("s.yaml", "base: bad.yaml\n");
  try {
    read_sweep_file(file);
    FAIL("expected an error");
  } catch (const ScenarioError& e) {
    CHECK(e.file() == (dir.path() / "bad.yaml").string());
    CHECK(e.line() == 2);
    CHECK(e.key_path() == "time.ticks");
  }
}

TEST_CASE("sweep errors: an invalid run names the run and, if it is at fault, the parameter") {
  // Workers read the sweep without checking values (it was checked when the manifest was
  // written); load_run still validates every run.
  const ReadOptions unchecked{false};
  const Sweep s = sweep_of(with_parameters("", "  population.agents: [100, 1.5, 5]\n"), unchecked);
  CHECK(s.runs() == 3);
  CHECK_NOTHROW(load_run(s, expand(s, 0)));
  try {
    load_run(s, expand(s, 1));
    FAIL("expected an error");
  } catch (const ScenarioError& e) {
    CHECK(std::string(e.what()) ==
          "sweep.yaml:14:3: parameters.population.agents: run 1 (point 1, replicate 0; "
          "population.agents=1.5): expected an integer, got 1.5 (not a whole number)");
  }
  try {
    load_run(s, expand(s, 2));  // agents 5 < the base's snapshot_agents 10
    FAIL("expected an error");
  } catch (const ScenarioError& e) {
    CHECK(std::string(e.what()) ==
          "sweep.yaml:10:29: output.snapshot_agents: expected an integer in 1 .. 5, got 10 (in "
          "run 2 (point 2, replicate 0; population.agents=5))");
  }
}
