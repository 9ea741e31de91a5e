// Replays files through a fuzz target's entry point, without libFuzzer: the regression
// inputs (tests/fuzz/regressions/<target>/) and the seed corpus are checked by the ordinary
// build's CTest, with any compiler. Usage: bankrun_fuzz_replay_<target> FILE_OR_DIR...
// Fails if an argument is missing or no input was found; a crash or an unexpected exception
// of the target fails it too (as it would abort the fuzzer).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "fuzz_input.hpp"

namespace {

namespace fs = std::filesystem;

// The regular files named or found (recursively, sorted) under the arguments.
std::vector<fs::path> inputs(int argc, char** argv, bool& missing) {
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    const fs::path arg = argv[i];
    if (fs::is_regular_file(arg)) {
      files.push_back(arg);
    } else if (fs::is_directory(arg)) {
      std::vector<fs::path> found;
      for (const auto& entry : fs::recursive_directory_iterator(arg))
        if (entry.is_regular_file() && entry.path().filename() != "README.md")
          found.push_back(entry.path());
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      std::fprintf(stderr, "no such file or folder: %s\n", arg.c_str());
      missing = true;
    }
  }
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  bankrun::fuzz::verbose = true;
  bool missing = false;
  const std::vector<fs::path> files = inputs(argc, argv, missing);
  for (const fs::path& file : files) {
    std::ifstream in(file, std::ios::binary);
    const std::vector<char> bytes{std::istreambuf_iterator<char>(in), {}};
    std::fprintf(stderr, "%s\n", file.c_str());
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  }
  std::printf("%zu inputs replayed\n", files.size());
  return missing || files.empty() ? 1 : 0;
}
