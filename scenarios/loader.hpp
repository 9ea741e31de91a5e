#pragma once
// Reads a YAML scenario into the frozen, validated bankrun::Scenario. Every key is a row of
// the schema (scenarios/schema.*), whose tables scenarios/README.md shows. Errors are
// ScenarioError: file, line, column, key path and what was expected; unknown keys are
// rejected with the nearest valid key.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "scenarios/scenario_error.hpp"
#include "sim/scenario.hpp"

namespace bankrun {

struct LoadedScenario {
  Scenario scenario;
  // The scenario as run: the file's tree with every --set override applied, emitted as
  // YAML. Loading it again gives the same Scenario.
  std::string resolved_yaml;
  std::string source;  // the file path, or the name given to load_scenario_text
};

// overrides: "key.path=value" strings from --set (list indices as `classes[0]` or
// `classes.0`); the value is parsed as YAML and validated like the file's own values.
LoadedScenario load_scenario_file(const std::string& path,
                                  const std::vector<std::string>& overrides = {});
LoadedScenario load_scenario_text(std::string_view yaml, const std::string& source_name,
                                  const std::vector<std::string>& overrides = {});
// The same, with relative data-file paths resolved against `base_dir` (a sweep file's
// inline base scenario: relative to the sweep file's folder).
LoadedScenario load_scenario_text(std::string_view yaml, const std::string& source_name,
                                  const std::vector<std::string>& overrides,
                                  const std::filesystem::path& base_dir);

}  // namespace bankrun
