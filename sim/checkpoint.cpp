// The in-memory archives and Simulation::save_state / restore_state (checkpoint.hpp).
#include "checkpoint.hpp"

#include <cstring>

#include "simulation.hpp"

namespace bankrun {

CheckpointError::CheckpointError(std::string item, const std::string& message)
    : std::runtime_error("checkpoint item '" + item + "': " + message), item_(std::move(item)) {}

void SaveArchive::put(std::string_view name, std::size_t element_size, std::size_t count,
                      const void* data) {
  StateItem& item = state_.items.emplace_back();
  item.name = name;
  item.element_size = element_size;
  item.count = count;
  item.bytes.resize(element_size * count);
  if (count > 0) std::memcpy(item.bytes.data(), data, item.bytes.size());
}

std::size_t LoadArchive::count(std::string_view name, std::size_t element_size) {
  if (next_ >= state_.items.size())
    throw CheckpointError(std::string(name), "missing (the checkpoint ends before it)");
  const StateItem& item = state_.items[next_];
  if (item.name != name)
    throw CheckpointError(std::string(name), "found '" + item.name + "' in its place");
  if (item.element_size != element_size)
    throw CheckpointError(std::string(name), "elements of " + std::to_string(item.element_size) +
                                                 " bytes, expected " +
                                                 std::to_string(element_size));
  if (item.bytes.size() != item.element_size * item.count)
    throw CheckpointError(std::string(name), "truncated: " + std::to_string(item.bytes.size()) +
                                                 " bytes for " + std::to_string(item.count) +
                                                 " elements");
  return item.count;
}

void LoadArchive::get(std::string_view name, void* data) {
  const StateItem& item = state_.items[next_++];
  if (item.name != name) throw CheckpointError(std::string(name), "read out of order");
  if (!item.bytes.empty()) std::memcpy(data, item.bytes.data(), item.bytes.size());
}

void LoadArchive::finish() const {
  if (next_ != state_.items.size())
    throw CheckpointError(state_.items[next_].name, "not part of this simulation's state");
}

void check_state_header(const SimulationState& state, std::string_view scenario_digest) {
  if (state.format_version != SimulationState::kFormatVersion)
    throw CheckpointError("format_version", "version " + std::to_string(state.format_version) +
                                                ", this build reads " +
                                                std::to_string(SimulationState::kFormatVersion));
  if (state.scenario_digest != scenario_digest)
    throw CheckpointError("scenario_digest", "saved from another scenario (digest " +
                                                 state.scenario_digest + ", this one " +
                                                 std::string(scenario_digest) + ")");
}

SimulationState Simulation::save_state(std::string scenario_digest) const {
  return save_state_of(*this, std::move(scenario_digest));
}

void Simulation::restore_state(const SimulationState& state, std::string_view scenario_digest) {
  restore_state_of(*this, state, scenario_digest);
}

}  // namespace bankrun
