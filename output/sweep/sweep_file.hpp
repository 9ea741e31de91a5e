#pragma once
// Sweep files (scenarios/SWEEPS.md): a base scenario, parameters given by scenario key path
// (a list of values, a range or a distribution), a combination mode (grid, zip, random,
// Latin hypercube), replicates and a sweep seed. This is the pure part: reading and
// checking the file, and expanding run i into its parameter values, its seed and its
// scenario. Nothing here writes files or starts processes (output/sweep/runner.* does).
//
// Every expanded scenario is the base scenario with `--set KEY.PATH=VALUE` overrides (one
// per parameter, then `seed=S`) applied by the scenario loader, so it is validated exactly
// like `bankrun run BASE --set ...` would be. Expansion is a pure function of the sweep and
// the run index: memory does not grow with the number of runs.
#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agents/names.hpp"
#include "scenarios/loader.hpp"

namespace bankrun::sweep {

enum class Mode { kGrid, kZip, kRandom, kLhs };
// The names of `mode:` in the sweep file (read, listed in messages, written to
// sweep.info.yaml and the index), in the order of the messages.
inline constexpr std::array<EnumName<Mode>, 4> kModeNames{{
    {Mode::kGrid, "grid"},
    {Mode::kZip, "zip"},
    {Mode::kRandom, "random"},
    {Mode::kLhs, "lhs"},
}};
constexpr const char* mode_name(Mode mode) {
  return name_in(kModeNames, mode);
}

// A distribution to sample a parameter from (modes random and lhs), by its quantile
// function: value(u) for u in (0, 1).
struct Distribution {
  enum class Kind { kUniform, kLogUniform, kInteger, kNormal };
  Kind kind = Kind::kUniform;
  double a = 0.0;  // low (uniform, loguniform, integer) or mean (normal)
  double b = 1.0;  // high (uniform, loguniform, integer) or sd (normal)
  // The value at quantile u, as YAML text (integers without a decimal point).
  std::string value(double u) const;
};

// The names of `dist:`, in the order of the messages.
inline constexpr std::array<EnumName<Distribution::Kind>, 4> kDistributionNames{{
    {Distribution::Kind::kUniform, "uniform"},
    {Distribution::Kind::kLogUniform, "loguniform"},
    {Distribution::Kind::kInteger, "integer"},
    {Distribution::Kind::kNormal, "normal"},
}};

struct Parameter {
  enum class Kind { kList, kRange, kDistribution };
  std::string path;  // the scenario key path, as written in the sweep file
  Kind kind = Kind::kList;
  std::vector<std::string> values;  // kList: each value as YAML text
  // kRange: `count` values from + k * step (the last one `to` exactly when given by count).
  double from = 0.0, step = 0.0, to = 0.0;
  std::uint64_t count = 0;
  Distribution distribution;  // kDistribution
  bool numeric = true;        // every value is a number: a float64 column in the merge index
  int line = 0, column = 0;   // where the parameter is written (1-based)

  // Number of values of a list or a range (0 for a distribution).
  std::uint64_t size() const;
  // Value k (< size()) of a list or a range, as YAML text.
  std::string value(std::uint64_t k) const;
};

struct Sweep {
  std::string file;  // the sweep file as given ("" for text with no file)
  std::string name;  // `name`, default: the sweep file's stem
  std::string description;
  std::uint64_t seed = 1;
  Mode mode = Mode::kGrid;
  std::uint64_t points = 1;  // parameter points
  std::uint32_t replicates = 1;
  // `common_random_numbers: true`: replicate r of every point has the same seed
  // (hash64(seed, 1, 0, r)), so that points are compared on the same random draws.
  bool common_random_numbers = false;
  std::filesystem::path output_dir;  // absolute
  std::vector<Parameter> parameters;

  // The base scenario. A base file is loaded from its path; an inline base is loaded from
  // its text (cut from the sweep file, so that errors keep their line and column) with
  // relative data-file paths resolved against the sweep file's folder.
  std::string base_file;    // absolute path, or "" for an inline base
  std::string base_text;    // the inline base's text (unused for a base file)
  std::string base_source;  // the name in error messages: the base file or the sweep file
  std::filesystem::path base_dir;
  std::vector<std::string> institutions;  // the base scenario's institutions, in order

  // SHA-256 of the sweep file's text and the base file's text: a manifest written for
  // another digest is rewritten.
  std::string digest;

  std::uint64_t runs() const { return points * replicates; }
};

// One run of a sweep. index = point * replicates + replicate.
struct Run {
  std::uint64_t index = 0, point = 0;
  std::uint32_t replicate = 0;
  std::uint64_t seed = 0;
  std::vector<std::string> values;  // one per parameter (same order), as YAML text
};

struct ReadOptions {
  // Check every list and range value (and each distribution's median) against the base
  // scenario when reading. Workers that run one run of an already checked sweep skip it.
  bool check_values = true;
};

// Reads and checks a sweep file. Errors are ScenarioError: FILE:LINE:COLUMN, key path
// (`parameters.population.agents[2]`) and what was expected.
Sweep read_sweep_file(const std::string& path, const ReadOptions& options = {});
// The same for text; relative paths (base, output) start at `dir`.
Sweep read_sweep_text(std::string_view yaml, const std::string& source_name,
                      const std::filesystem::path& dir, const ReadOptions& options = {});

// Run `index` (< sweep.runs()): its point, replicate, seed and parameter values.
Run expand(const Sweep& sweep, std::uint64_t index);
// The overrides that make run's scenario from the base: "PATH=VALUE" per parameter, then
// "seed=SEED".
std::vector<std::string> overrides(const Sweep& sweep, const Run& run);
// Loads run's scenario (the base with overrides(run)). A ScenarioError names the run and,
// when a parameter's value is at fault, the parameter's position in the sweep file.
LoadedScenario load_run(const Sweep& sweep, const Run& run);
// "run 7 (point 3, replicate 1; population.agents=1000, stress.flow_weight=0.5)".
std::string describe(const Sweep& sweep, const Run& run);

// A sweep's (or a calibration's) name: 1 to 63 letters, digits, '_', '.' or '-' (it goes
// into Slurm job names and file names).
bool is_name(const std::string& s);

// Formats a number for a scenario value: 15 significant digits ("0.3", "1000000", "1e+20").
std::string format_value(double x);

// ---- The sweep information file (<output>/sweep.info.yaml) ---------------------------------

// What `bankrun merge` and a resubmission need to know about a sweep without its file.
struct SweepInfo {
  std::string sweep_file, name, mode, digest, bankrun_version;
  std::uint64_t seed = 0, points = 0, runs = 0;
  std::uint32_t replicates = 1;
  std::vector<std::string> parameters;  // key paths, in order (the manifest's columns)
  std::vector<bool> numeric;            // per parameter
  std::vector<std::string> institutions;
};
SweepInfo make_info(const Sweep& sweep, const std::string& bankrun_version);
std::string info_yaml(const SweepInfo& info);
// Reads an info file; ScenarioError (with its position) if it is not one.
SweepInfo read_info_file(const std::string& path);

// ---- Pure functions (documented in scenarios/SWEEPS.md) ------------------------------------

// SplitMix64's output function applied to z + 0x9E3779B97F4A7C15.
std::uint64_t mix64(std::uint64_t z);
// mix64(mix64(mix64(mix64(seed) ^ tag) ^ a) ^ b).
std::uint64_t hash64(std::uint64_t seed, std::uint64_t tag, std::uint64_t a, std::uint64_t b);
inline constexpr std::uint64_t kTagRunSeed = 1, kTagSample = 2, kTagPermutation = 3, kTagJitter = 4;
// The scenario seed of a run: hash64(sweep_seed, 1, point, replicate).
std::uint64_t run_seed(std::uint64_t sweep_seed, std::uint64_t point, std::uint32_t replicate);
// (floor(h / 2^11) + 0.5) / 2^53: in (0, 1), never 0 or 1.
double unit_from_hash(std::uint64_t h);
// Inverse of the standard normal CDF (Acklam's rational approximation, refined by one
// Halley step with erfc: about 1e-15 relative error). u in (0, 1).
double normal_quantile(double u);
// A bijection of [0, n) keyed by `key` (a 4-round Feistel network on the smallest even
// number of bits covering n, with cycle walking). O(1) memory.
std::uint64_t permute(std::uint64_t n, std::uint64_t key, std::uint64_t i);
// The quantile u in (0, 1) at which parameter `parameter` of point `point` is sampled:
// random: (floor(h / 2^11) + 0.5) / 2^53 with h = hash64(seed, 2, point, parameter);
// lhs: (permute(count, hash64(seed, 3, parameter, 0), point) + jitter) / count, with the
// jitter the same construction as random with tag 4, so that each of the count strata
// [k/count, (k+1)/count) holds exactly one point. Unused by grid and zip.
double unit_sample(const Sweep& sweep, std::uint64_t point, std::size_t parameter);

// A shard: the runs i with i % count == index.
struct Shard {
  std::uint64_t index = 0, count = 1;
  bool contains(std::uint64_t run) const { return run % count == index; }
};
// "I/N" with 0 <= I < N; std::invalid_argument with the reason otherwise.
Shard parse_shard(std::string_view text);
// The shard of a Slurm array task: SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT (the
// array must be 0..COUNT-1); nullopt outside an array job. std::invalid_argument if the
// variables are inconsistent.
std::optional<Shard> shard_from_slurm_environment();

// SHA-256 of `data`, as 64 lowercase hex digits.
std::string sha256_hex(std::string_view data);

}  // namespace bankrun::sweep
