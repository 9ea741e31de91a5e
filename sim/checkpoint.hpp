#pragma once
// Checkpoints: the state of a Simulation as a list of named items, and its restore.
//
// Every mechanism class with state that changes during a run has a member
//   template <class Archive> void visit_state(Archive& a);
// that names each such piece of state once: a.item("name", scalar) or a.item("name",
// vector) (elements trivially copyable). The same function saves and restores; what is
// derived from the scenario at construction is not visited, because a restore first builds
// the Simulation from the same Scenario and then loads the items over it.
//
// An archive is StateArchive<Backend>: the backend sees only (name, element size, count,
// bytes), so a file format (output/, e.g. one HDF5 dataset per item) is one more backend
// and needs nothing from sim/. A saving backend has `static constexpr bool kLoading =
// false` and put(name, element_size, count, const void*); a loading one has kLoading = true,
// count(name, element_size) (checks the name and element size, returns the count) and
// get(name, void*) (copies the bytes of the item count() just checked).
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace bankrun {

// A checkpoint that does not fit the Simulation: another format version or scenario, or an
// item missing, renamed, truncated or of another element size. item() names the item.
class CheckpointError : public std::runtime_error {
 public:
  CheckpointError(std::string item, const std::string& message);
  const std::string& item() const { return item_; }

 private:
  std::string item_;
};

// What an item may hold: values whose bytes are the value (std::pair qualifies, though
// libstdc++ gives it a non-trivial assignment).
template <class T>
concept StateElement = std::is_trivially_copy_constructible_v<T> &&
    std::is_trivially_destructible_v<T> && !std::is_pointer_v<T>;

template <class Backend>
class StateArchive {
 public:
  static constexpr bool loading = Backend::kLoading;

  template <StateElement T>
  void item(std::string_view name, T& value) {
    if constexpr (loading) {
      if (backend().count(name, sizeof(T)) != 1)
        throw CheckpointError(std::string(name), "expected one value");
      backend().get(name, &value);
    } else {
      backend().put(name, sizeof(T), 1, &value);
    }
  }
  // A vector sized at construction: a restore must find the same count (it never resizes,
  // so the capacity, and the no-allocation-per-tick rule, survive a restore).
  template <StateElement T>
  void item(std::string_view name, std::vector<T>& values) {
    if constexpr (loading) {
      const std::size_t count = backend().count(name, sizeof(T));
      if (count != values.size())
        throw CheckpointError(std::string(name), "holds " + std::to_string(count) +
                                                     " elements, the simulation has " +
                                                     std::to_string(values.size()));
      backend().get(name, values.data());
    } else {
      backend().put(name, sizeof(T), values.size(), values.data());
    }
  }
  // The first `used` elements of a vector sized at construction (the rest is scratch whose
  // contents do not matter); `used` is an item visited before, so a restore knows it.
  template <StateElement T>
  void item(std::string_view name, std::vector<T>& values, std::size_t used) {
    if (used > values.size())
      throw CheckpointError(std::string(name), std::to_string(used) + " elements used of " +
                                                   std::to_string(values.size()));
    if constexpr (loading) {
      if (backend().count(name, sizeof(T)) != used)
        throw CheckpointError(std::string(name), "does not hold the " + std::to_string(used) +
                                                     " elements its count says");
      backend().get(name, values.data());
    } else {
      backend().put(name, sizeof(T), used, values.data());
    }
  }
  // A vector of any length (restore-time temporaries, e.g. the news events a run added):
  // resized to the saved count.
  template <StateElement T>
  void items(std::string_view name, std::vector<T>& values) {
    if constexpr (loading) {
      values.resize(backend().count(name, sizeof(T)));
      backend().get(name, values.data());
    } else {
      backend().put(name, sizeof(T), values.size(), values.data());
    }
  }

 private:
  Backend& backend() { return static_cast<Backend&>(*this); }
};

// One saved item: its bytes and how to read them.
struct StateItem {
  std::string name;
  std::size_t element_size = 0;
  std::size_t count = 0;
  std::vector<std::byte> bytes;  // element_size * count
};

// The whole state of a run between two ticks. scenario_digest is the caller's digest of the
// scenario's resolved YAML: a restore into a Simulation of another scenario is refused.
struct SimulationState {
  // 2: issue 13's memory work (population.moved empty without destination institutions,
  // peers.seen_weight kept only for balance-weighted peers). 3: early liquidation and the
  // final payout (institutions' totals, queues' cancelled value, the payoffs). Older
  // versions are refused.
  static constexpr std::uint32_t kFormatVersion = 3;
  std::uint32_t format_version = kFormatVersion;
  std::string scenario_digest;
  std::vector<StateItem> items;  // in visit order
};

// Throws CheckpointError unless `state` is of this build's format version and was saved
// from the scenario whose digest is `scenario_digest`.
void check_state_header(const SimulationState& state, std::string_view scenario_digest);

// Writes every item into a SimulationState, in visit order.
class SaveArchive : public StateArchive<SaveArchive> {
 public:
  static constexpr bool kLoading = false;
  explicit SaveArchive(SimulationState& state) : state_(state) {}
  void put(std::string_view name, std::size_t element_size, std::size_t count, const void* data);

 private:
  SimulationState& state_;
};

// Reads the items back in visit order, checking each name, element size and count; finish()
// checks that none is left over.
class LoadArchive : public StateArchive<LoadArchive> {
 public:
  static constexpr bool kLoading = true;
  explicit LoadArchive(const SimulationState& state) : state_(state) {}
  std::size_t count(std::string_view name, std::size_t element_size);
  void get(std::string_view name, void* data);
  void finish() const;

 private:
  const SimulationState& state_;
  std::size_t next_ = 0;
};

// The state of anything with save_into / load_from (a Simulation, a Run) in memory, and
// its restore (header checked, every item used).
template <class Subject>
SimulationState save_state_of(const Subject& subject, std::string scenario_digest) {
  SimulationState state;
  state.scenario_digest = std::move(scenario_digest);
  SaveArchive archive(state);
  subject.save_into(archive);
  return state;
}
template <class Subject>
void restore_state_of(Subject& subject, const SimulationState& state,
                      std::string_view scenario_digest) {
  check_state_header(state, scenario_digest);
  LoadArchive archive(state);
  subject.load_from(archive);
  archive.finish();
}

}  // namespace bankrun
