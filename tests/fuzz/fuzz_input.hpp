#pragma once
// Shared by the fuzz targets of tests/fuzz/: the libFuzzer entry point's declaration, the
// input as text, and the folders the targets resolve relative paths against (in the source
// tree, compiled in; the targets never write there).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace bankrun::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The lines of `text` ('\n'-separated; a trailing '\r' is kept: it is part of the input).
inline std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    lines.emplace_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

// Set by the replay driver (not under libFuzzer): each target then says what its input did,
// so that a replayed corpus shows which inputs load and which are rejected, and why.
inline bool verbose = false;
inline void note(const char* what) {
  if (verbose) std::fprintf(stderr, "  %s\n", what);
}

// tests/fuzz/data: small CSV, price and edge-list files that scenario inputs may name.
inline std::filesystem::path data_dir() {
  return std::filesystem::path(BANKRUN_SOURCE_DIR) / "tests" / "fuzz" / "data";
}

// scenarios/sweeps: sweep inputs name their base as the shipped sweeps do (../bench/...).
inline std::filesystem::path sweeps_dir() {
  return std::filesystem::path(BANKRUN_SOURCE_DIR) / "scenarios" / "sweeps";
}

// scenarios/calibration: calibration inputs name their base and data as the shipped ones do.
inline std::filesystem::path calibrations_dir() {
  return std::filesystem::path(BANKRUN_SOURCE_DIR) / "scenarios" / "calibration";
}

}  // namespace bankrun::fuzz
