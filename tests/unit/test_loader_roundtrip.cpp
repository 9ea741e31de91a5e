// The resolved YAML round trip: every shipped scenario (scenarios/**/*.yaml but the sweep
// and calibration files) loads to the same Scenario when its resolved YAML is loaded
// again, compared field by field at every level by the spec structs' operator==.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "loader_fixtures.hpp"
#include "scenarios/loader.hpp"

using namespace bankrun;

namespace {

std::vector<std::string> shipped_scenarios() {
  std::vector<std::string> paths;
#ifdef BANKRUN_SOURCE_DIR
  namespace fs = std::filesystem;
  paths = loader_test::shipped_scenario_files(fs::path(BANKRUN_SOURCE_DIR) / "scenarios");
#endif
  return paths;
}

}  // namespace

TEST_CASE("loader: every shipped scenario round-trips through its resolved YAML") {
  const std::vector<std::string> paths = shipped_scenarios();
  CHECK(paths.size() >= 4);
  for (const std::string& path : paths) {
    INFO(path);
    const LoadedScenario first = load_scenario_file(path);
    const LoadedScenario again = load_scenario_text(first.resolved_yaml, "resolved.yaml");
    CHECK(again.scenario == first.scenario);
    CHECK(again.resolved_yaml == first.resolved_yaml);
  }
}

TEST_CASE("loader: operator== of the scenario sees a change at any level") {
  const std::vector<std::string> paths = shipped_scenarios();
  REQUIRE(!paths.empty());
  const Scenario base = load_scenario_file(paths.front()).scenario;
  CHECK(base == base);
  Scenario s = base;
  s.population.classes.back().threshold.clip_max = -1.0;  // a distribution inside a class
  CHECK_FALSE(s == base);
  s = base;
  s.institutions.front().halt.when_insolvent = !s.institutions.front().halt.when_insolvent;
  CHECK_FALSE(s == base);
  s = base;
  s.network.directed = !s.network.directed;
  CHECK_FALSE(s == base);
  s = base;
  s.output.snapshot_agents += 1;
  CHECK_FALSE(s == base);
  s = base;
  s.time.start_utc += "x";
  CHECK_FALSE(s == base);
}
