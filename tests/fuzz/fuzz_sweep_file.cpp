// Fuzz target: the sweep-file reader (sweep::read_sweep_text) on arbitrary YAML text, then
// the expansion of the first and the last run (expand, overrides, describe, load_run).
// Relative base paths start at scenarios/sweeps/, as for the shipped sweep files.
// ScenarioError is the expected error; anything else that escapes is a finding.
#include "fuzz_input.hpp"
#include "output/sweep/sweep_file.hpp"

namespace {

void expand_run(const bankrun::sweep::Sweep& sweep, std::uint64_t index) {
  const bankrun::sweep::Run run = bankrun::sweep::expand(sweep, index);
  (void)bankrun::sweep::overrides(sweep, run);
  (void)bankrun::sweep::describe(sweep, run);
  try {
    (void)bankrun::sweep::load_run(sweep, run);
    bankrun::fuzz::note(("run " + std::to_string(index) + " loaded").c_str());
  } catch (const bankrun::ScenarioError& e) {
    // A run's value may be invalid for the base where the reader only checked a sample.
    bankrun::fuzz::note(e.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bankrun;
  sweep::Sweep sweep;
  try {
    sweep =
        sweep::read_sweep_text(fuzz::as_text(data, size), "fuzz-sweep.yaml", fuzz::sweeps_dir());
  } catch (const ScenarioError& e) {
    fuzz::note(e.what());
    return 0;
  }
  expand_run(sweep, 0);
  expand_run(sweep, sweep.runs() - 1);
  return 0;
}
