#pragma once
// Reads a YAML scenario into the frozen, validated bankrun::Scenario. Every key is
// documented in scenarios/README.md. Errors are ScenarioError: file, line, column, key
// path and what was expected; unknown keys are rejected with the nearest valid key.
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sim/scenario.hpp"

namespace bankrun {

class ScenarioError : public std::runtime_error {
 public:
  // line and column are 1-based; 0 when unknown (e.g. a value given with --set).
  ScenarioError(std::string file, int line, int column, std::string key_path, std::string message);
  const std::string& file() const { return file_; }
  int line() const { return line_; }
  int column() const { return column_; }
  const std::string& key_path() const { return key_path_; }
  const std::string& message() const { return message_; }

 private:
  std::string file_, key_path_, message_;
  int line_, column_;
};

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
