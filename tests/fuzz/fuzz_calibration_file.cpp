// Fuzz target: the calibration-file reader (calibrate::read_calibration_text) on arbitrary
// YAML text. Relative paths (base, observed) start at scenarios/calibration/, as for the
// shipped calibration files, so inputs can name ../ftx-2022.yaml and ftx-2022.csv.
// ScenarioError is the expected error; anything else that escapes is a finding.
#include "fuzz_input.hpp"
#include "output/calibrate/calibration_file.hpp"
#include "scenarios/scenario_error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bankrun;
  try {
    const calibrate::Calibration c = calibrate::read_calibration_text(
        fuzz::as_text(data, size), "fuzz-calibration.yaml", fuzz::calibrations_dir());
    // What the command derives from it before running anything.
    (void)c.initial_points();
    (void)c.population();
    (void)c.uncertainty();
    for (const calibrate::FreeParameter& p : c.parameters) (void)p.unit(p.value(0.5));
    fuzz::note("valid");
  } catch (const ScenarioError& e) {
    fuzz::note(e.what());
  }
  return 0;
}
