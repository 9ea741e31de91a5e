#pragma once
// Resource limits: how much memory a scenario's run needs at its peak, how much the
// machine (or the container's cgroup) has, and the check the Simulation constructor makes
// before it allocates anything, so that an absurd agent count, network degree or tick
// count fails at once with a message instead of an out-of-memory kill.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "scenario.hpp"

namespace bankrun {

// The scenario needs more memory than is available (thrown before any allocation).
class ResourceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bytes at the peak of a run, by what holds them. The run goes through four phases, each
// holding the population: drawing it (plus its temporaries), generating the network (plus
// the generator's temporaries), transposing it into the peers' form (both held), then the
// run itself (the peers' transpose and the engine's per-agent, per-tick and per-event
// arrays). peak is the largest of the four.
struct MemoryEstimate {
  std::uint64_t agents = 0;
  std::uint64_t agent_state = 0;  // population + engine per-agent arrays (run phase)
  std::uint64_t network = 0;      // the network at its largest (generation, or CSR + transpose)
  std::uint64_t other = 0;        // per-tick buffers, news, snapshots, institutions
  std::uint64_t peak = 0;         // bytes: the largest phase
};

// Derived from the element sizes of the arrays the run allocates and the expected edge
// count of the scenario's network type.
MemoryEstimate estimate_memory(const Scenario& scenario);

// Bytes this process may still use: the smaller of MemAvailable (/proc/meminfo) and the
// cgroup's limit (v2 memory.max, or v1 memory.limit_in_bytes) when one is set.
// BANKRUN_MEMORY_LIMIT_BYTES, when set, replaces the measurement (tests). nullopt when nothing can
// be read (then no check is made).
std::optional<std::uint64_t> available_memory();

// "212.4 GiB", "3.1 MiB", "512 B".
std::string format_bytes(std::uint64_t bytes);

// Throws ResourceError when estimate.peak exceeds `available`.
void check_memory(const MemoryEstimate& estimate, std::uint64_t available);

// The Simulation constructor's first step: checks the scenario against available_memory()
// and hands it back.
Scenario require_memory(Scenario scenario);

}  // namespace bankrun
