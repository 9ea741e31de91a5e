#pragma once
// Per-class stress of the agents that acted in a tick (phase 2): the decide phase's
// per-block sums and counts, combined in block order into each class's mean, and the
// class's stress quantiles. Nothing depends on the thread count.
#include <cstdint>
#include <span>
#include <vector>

#include "active_list.hpp"
#include "agents/population.hpp"
#include "record.hpp"

namespace bankrun {

class ClassStress {
 public:
  // Room for the blocks of `agents` entries and for the given quantiles (in (0, 1)).
  ClassStress(std::size_t classes, std::uint32_t agents, std::vector<double> quantiles);

  // Block b's per-class sums and counts of the acting agents (`classes` entries each).
  void store_block(std::uint32_t b, const double* sums, const std::uint32_t* counts);
  // Each class's acting agents and mean stress into ticks[c], adding the blocks in block
  // order; returns the sum over all classes (for the overall mean).
  double combine(std::uint32_t nblocks, std::span<ClassTick> ticks) const;
  // The quantiles of the stress of each class's acting agents (those of the first
  // `nblocks` blocks of `active`, before its compaction), after combine().
  void take_quantiles(std::uint32_t nblocks, const ActiveList& active, const Population& population,
                      std::span<const ClassTick> ticks);
  // [class * quantiles + q]; NaN where no agent of the class acted.
  std::span<const double> quantiles() const { return values_; }

 private:
  std::size_t classes_;
  std::vector<double> probabilities_;        // the quantiles asked for
  std::vector<double> block_sums_;           // [block * classes + class]
  std::vector<std::uint32_t> block_counts_;  // [block * classes + class]
  std::vector<double> values_;               // [class * quantiles + q]
  std::vector<double> work_;                 // stress of the acting agents, grouped by class
  std::vector<std::uint64_t> offset_;        // [class * (blocks + 1) + block]
};

}  // namespace bankrun
