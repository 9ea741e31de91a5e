#pragma once
// Per-agent snapshots at the scenario's snapshot ticks (phase 6): a fixed sample of agents,
// floor(k * N / size) for k = 0 .. size-1, in rows sized at construction.
#include <cstdint>
#include <span>
#include <vector>

#include "agents/population.hpp"
#include "record.hpp"
#include "scenario.hpp"

namespace bankrun {

class Snapshots {
 public:
  Snapshots(const OutputSpec& output, std::uint32_t agents);

  // End of tick t: the sample's rows if t is a snapshot tick (ticks come in increasing
  // order), else empty; valid until the next call.
  std::span<const SnapshotRow> take(std::int32_t t, const Population& population,
                                    const std::vector<AgentState>& state);
  std::span<const SnapshotRow> last() const { return view_; }

  // Checkpoints: the position in the list of snapshot ticks. The rows are rewritten at each
  // snapshot tick; after a restore no tick has just run, so last() is empty.
  template <class Archive>
  void visit_state(Archive& a) {
    a.item("snapshots.next", next_);
  }
  void forget_last() { view_ = {}; }

 private:
  std::vector<std::int32_t> ticks_;
  std::size_t next_ = 0;
  std::vector<SnapshotRow> rows_;
  std::span<const SnapshotRow> view_;
};

}  // namespace bankrun
