// Fuzz target: the scenario loader (load_scenario_text) on arbitrary YAML text.
// ScenarioError is the loader's one error type; anything else that escapes is a finding.
// A scenario that loads must load again from its resolved YAML to the same resolved YAML
// (loader.hpp: "Loading it again gives the same Scenario").
#include <cstdio>
#include <cstdlib>

#include "fuzz_input.hpp"
#include "scenarios/loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bankrun;
  LoadedScenario loaded;
  try {
    loaded = load_scenario_text(fuzz::as_text(data, size), "fuzz.yaml", {}, fuzz::data_dir());
  } catch (const ScenarioError& e) {
    fuzz::note(e.what());
    return 0;
  }
  const LoadedScenario again =
      load_scenario_text(loaded.resolved_yaml, "resolved.yaml", {}, fuzz::data_dir());
  if (again.resolved_yaml != loaded.resolved_yaml) {
    std::fprintf(stderr, "resolved YAML differs after a reload:\n%s\n---\n%s\n",
                 loaded.resolved_yaml.c_str(), again.resolved_yaml.c_str());
    std::abort();
  }
  fuzz::note("loaded, and loaded again from its resolved YAML");
  return 0;
}
