// Shared fixtures of the loader's unit tests (tests/unit/test_loader*.cpp): the minimal and
// full scenario texts, loading helpers and temporary directories for data files.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "scenarios/loader.hpp"

namespace bankrun::loader_test {

// The shipped scenario files: scenarios/**/*.yaml but the sweep files (scenarios/sweeps/),
// the calibration files (scenarios/calibration/) and what sweeps and calibrations write
// (*.sweep/, *.calibration/ folders).
inline std::vector<std::string> shipped_scenario_files(const std::filesystem::path& scenarios) {
  namespace fs = std::filesystem;
  std::vector<std::string> paths;
  for (auto it = fs::recursive_directory_iterator(scenarios);
       it != fs::recursive_directory_iterator(); ++it) {
    const std::string name = it->path().filename().string();
    if (it->is_directory() && (name == "sweeps" || name == "calibration" ||
                               name.ends_with(".sweep") || name.ends_with(".calibration"))) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->path().extension() == ".yaml") paths.push_back(it->path().string());
  }
  return paths;
}

// Line numbers in the tests refer to this text (line 1 is "name: minimal").
inline const std::string kMinimal = R"(name: minimal
time:
  ticks: 10
population:
  agents: 100
  classes:
    - name: all
      balance_usd: 1000
      threshold: 0.5
institutions:
  - {}
)";

inline const std::string kFull = R"(name: full
description: A full scenario
seed: 42
time:
  ticks: 1e3
  tick_hours: 0.5
  start: 2022-11-06T12:30Z
population:
  agents: 1000
  total_balance_usd: 1.6e10
  classes:
    - name: retail
      share: 3
      balance_usd: {dist: lognormal, mu: 8, sigma: 1.5}
      threshold: {dist: normal, mean: 0.6, sd: 0.1, clip_min: 0, clip_max: 1}
      noise_sd: 0.05
      attention: 0.7
    - name: whale.1
      balance_usd: {dist: uniform, low: 1e5, high: 1e6}
      threshold: 0.4
network:
  type: k_out
  k: 7
stress:
  news_weight: 1
  peer_weight: -0.5
  flow_weight: 2
  carry: 0.25
  peer_lag_ticks: 2
  flow_window_ticks: 24
news:
  - label: late
    tick: 50
    magnitude: 0.3
    decay_ticks: 12
    duration_ticks: 100
    reach: 0.5
  - at: 2022-11-07T00:00:00Z
    magnitude: -0.1
  - label: same tick as late, listed later
    tick: 50
    magnitude: 0.2
institutions:
  - name: ftx
    hot_reserve_fraction: 0.42
    max_payout_per_tick_usd: 2e8
    halt:
      at: 2022-11-08
      withdrawn_fraction_at_least: 0.5
      hot_ratio_below: 0.08
)";

inline std::string replace(std::string text, const std::string& from, const std::string& to) {
  const auto pos = text.find(from);
  REQUIRE_MESSAGE(pos != std::string::npos, "fixture text not found: " << from);
  return text.replace(pos, from.size(), to);
}

inline LoadedScenario load(const std::string& yaml,
                           const std::vector<std::string>& overrides = {}) {
  return load_scenario_text(yaml, "test.yaml", overrides);
}

// The error a text raises ("(no error)" if it loads).
inline std::string error_of(const std::string& yaml,
                            const std::vector<std::string>& overrides = {}) {
  try {
    load(yaml, overrides);
  } catch (const ScenarioError& e) {
    return e.what();
  }
  return "(no error)";
}

inline ScenarioError caught(const std::string& yaml,
                            const std::vector<std::string>& overrides = {}) {
  try {
    load(yaml, overrides);
  } catch (const ScenarioError& e) {
    return e;
  }
  FAIL("expected a ScenarioError");
  return ScenarioError("", 0, 0, "", "");
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Every field, at every level (the spec structs' defaulted operator==).
inline void check_same(const Scenario& a, const Scenario& b) {
  CHECK(a == b);
}

// A fresh directory under the system temp directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    namespace fs = std::filesystem;
    std::random_device random;
    for (int attempt = 0;; ++attempt) {
      path_ = fs::temp_directory_path() / ("bankrun-loader-test-" + std::to_string(random()));
      if (fs::create_directory(path_)) break;
      REQUIRE(attempt < 100);
    }
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Writes `text` to the relative path `name` (creating directories); returns its path.
  std::string write(const std::string& name, const std::string& text) const {
    const std::filesystem::path file = path_ / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary);
    out << text;
    return file.string();
  }

 private:
  std::filesystem::path path_;
};

// Changes the current directory for the lifetime of the object.
class WorkingDirectory {
 public:
  explicit WorkingDirectory(const std::filesystem::path& dir)
      : previous_(std::filesystem::current_path()) {
    std::filesystem::current_path(dir);
  }
  ~WorkingDirectory() { std::filesystem::current_path(previous_); }
  WorkingDirectory(const WorkingDirectory&) = delete;
  WorkingDirectory& operator=(const WorkingDirectory&) = delete;

 private:
  std::filesystem::path previous_;
};

inline std::string file_error(const std::string& path,
                              const std::vector<std::string>& overrides = {}) {
  try {
    load_scenario_file(path, overrides);
  } catch (const ScenarioError& e) {
    return e.what();
  }
  return "(no error)";
}

// kMinimal with institutions[0] replaced by `institution` (a flow mapping).
inline std::string with_institution(const std::string& institution) {
  return replace(kMinimal, "  - {}", "  - " + institution);
}

// kMinimal with one policy (a flow mapping).
inline std::string with_policy(const std::string& policy) {
  return with_institution("{policies: [" + policy + "]}");
}

// kMinimal with institutions[0].assets set to `assets` (a flow list).
inline std::string with_assets(const std::string& assets) {
  return with_institution("{assets: " + assets + "}");
}

// Line numbers in the tests refer to this text (line 1 is "name: three").
inline const std::string kThree = R"(name: three
time:
  ticks: 10
population:
  agents: 100
  classes:
    - name: retail
      balance_usd: 1000
      threshold: 0.5
      accounts: {FTX: 3, BlockFi: 1}
      destinations: {self_custody: 1, Binance: 2}
    - name: whale
      balance_usd: 1e6
      threshold: 0.3
news:
  - {tick: 2, magnitude: 0.4, institution: FTX}
  - {tick: 1, magnitude: 0.1}
news_process:
  rate_per_tick: 0.1
  magnitude: 0.05
  institution: BlockFi
institutions:
  - name: FTX
    hot_reserve_fraction: 0.2
  - name: BlockFi
    exposures:
      - to: FTX
        amount_usd: 3.5e8
        loss_given_default: 0.8
        news_per_loss: 2
        news_decay_ticks: 12
        news_duration_ticks: 48
        news_reach: 0.9
      - {to: Binance, amount_usd: 1e6}
  - name: Binance
)";

}  // namespace bankrun::loader_test
