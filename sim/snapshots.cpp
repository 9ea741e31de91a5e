#include "snapshots.hpp"

#include <algorithm>

namespace bankrun {

Snapshots::Snapshots(const OutputSpec& output, std::uint32_t agents)
    : ticks_(output.snapshot_ticks) {
  if (!ticks_.empty()) rows_.resize(std::min<std::uint32_t>(output.snapshot_agents, agents));
}

std::span<const SnapshotRow> Snapshots::take(std::int32_t t, const Population& population,
                                             const std::vector<AgentState>& state) {
  view_ = {};
  if (next_ >= ticks_.size() || ticks_[next_] != t) return view_;
  ++next_;
  const std::uint64_t n = population.size(), size = rows_.size();
  for (std::uint64_t k = 0; k < size; ++k) {
    const auto i = static_cast<std::uint32_t>(k * n / size);
    rows_[k] = {i,
                population.class_id[i],
                population.account[i],
                state[i],
                population.claim[i],
                population.outside[i],
                population.threshold[i],
                population.stress[i]};
  }
  view_ = rows_;
  return view_;
}

}  // namespace bankrun
