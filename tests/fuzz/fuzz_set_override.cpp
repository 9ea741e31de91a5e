// Fuzz target: --set overrides. Each line of the input is one "key.path=value" string. Each
// is split by yaml_reader::parse_path (the part before the first '=') and applied with
// yaml_reader::apply_override to the tree of a shipped multi-institution scenario; then the
// scenario is loaded with all of them as the loader's overrides (validation included).
// ScenarioError is the expected error; anything else that escapes is a finding.
#include <fstream>
#include <sstream>

#include "fuzz_input.hpp"
#include "scenarios/loader.hpp"
#include "scenarios/yaml_reader.hpp"

namespace {

const std::string& base_scenario() {
  static const std::string text = [] {
    std::ifstream in(std::filesystem::path(BANKRUN_SOURCE_DIR) / "scenarios" /
                     "ftx-contagion-2022.yaml");
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }();
  return text;
}

void apply_each(const std::vector<std::string>& overrides) {
  using namespace bankrun::yaml_reader;
  YAML::Node root = parse_document(base_scenario(), "base.yaml");
  Origins origins("base.yaml");
  for (const std::string& text : overrides) {
    (void)parse_path(std::string_view(text).substr(0, text.find('=')));
    try {
      apply_override(root, text, origins);
    } catch (const bankrun::ScenarioError& e) {
      bankrun::fuzz::note(e.what());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::string> overrides =
      bankrun::fuzz::lines_of(bankrun::fuzz::as_text(data, size));
  apply_each(overrides);
  try {
    (void)bankrun::load_scenario_text(base_scenario(), "base.yaml", overrides,
                                      bankrun::fuzz::data_dir());
    bankrun::fuzz::note("the scenario with every override loaded");
  } catch (const bankrun::ScenarioError& e) {
    bankrun::fuzz::note(e.what());
  }
  return 0;
}
