// Replays files through a fuzz target's entry point, without libFuzzer: the regression
// inputs (tests/fuzz/regressions/<target>/) and the seed corpus are checked by the ordinary
// build's CTest, with any compiler. Usage: bankrun_fuzz_replay_<target> FILE_OR_DIR...
// Fails if an argument is missing or no input was found; a crash or an unexpected exception
// of the target fails it too (as it would abort the fuzzer), and so does an input that takes
// over kSecondsPerInput (SIGALRM) or allocates over kMemoryLimit (std::bad_alloc): the hang
// of a regression then fails the test at once instead of filling the machine's memory.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

#include "fuzz_input.hpp"

namespace {

namespace fs = std::filesystem;

constexpr unsigned kSecondsPerInput = 30;
constexpr rlim_t kMemoryLimit = rlim_t{4} << 30;  // address space, bytes

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BANKRUN_REPLAY_UNDER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define BANKRUN_REPLAY_UNDER_ASAN 1
#endif

void limit_memory() {
#ifndef BANKRUN_REPLAY_UNDER_ASAN  // ASan reserves terabytes of address space for its shadow
  const rlimit limit{kMemoryLimit, kMemoryLimit};
  setrlimit(RLIMIT_AS, &limit);
#endif
}

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
  limit_memory();
  bool missing = false;
  const std::vector<fs::path> files = inputs(argc, argv, missing);
  for (const fs::path& file : files) {
    std::ifstream in(file, std::ios::binary);
    const std::vector<char> bytes{std::istreambuf_iterator<char>(in), {}};
    std::fprintf(stderr, "%s\n", file.c_str());
    alarm(kSecondsPerInput);
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    alarm(0);
  }
  std::printf("%zu inputs replayed\n", files.size());
  return missing || files.empty() ? 1 : 0;
}
