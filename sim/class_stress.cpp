#include "class_stress.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "agents/parallel.hpp"

namespace bankrun {
namespace {

// Linear interpolation between order statistics (numpy's default "linear" method) of the
// n values at `v`, which it reorders.
double quantile(double* v, std::size_t n, double q) {
  const double pos = q * static_cast<double>(n - 1);
  const std::size_t lo = static_cast<std::size_t>(std::floor(pos));
  std::nth_element(v, v + lo, v + n);
  const double a = v[lo];
  if (lo + 1 >= n) return a;
  const double b = *std::min_element(v + lo + 1, v + n);
  return a + (pos - static_cast<double>(lo)) * (b - a);
}

}  // namespace

ClassStress::ClassStress(std::size_t classes, std::uint32_t agents, std::vector<double> quantiles)
    : classes_(classes), probabilities_(std::move(quantiles)) {
  const std::size_t max_blocks = std::size_t{ActiveList::blocks_of(agents)} + 1;
  block_sums_.resize(max_blocks * classes);
  block_counts_.resize(max_blocks * classes);
  values_.assign(classes * probabilities_.size(), 0.0);
  if (!probabilities_.empty()) {
    work_.resize(agents);
    offset_.resize(classes * (max_blocks + 1));
  }
}

void ClassStress::store_block(std::uint32_t b, const double* sums, const std::uint32_t* counts) {
  std::copy_n(sums, classes_, &block_sums_[std::size_t{b} * classes_]);
  std::copy_n(counts, classes_, &block_counts_[std::size_t{b} * classes_]);
}

double ClassStress::combine(std::uint32_t nblocks, std::span<ClassTick> ticks) const {
  double total = 0.0;
  for (std::size_t c = 0; c < classes_; ++c) {
    double sum = 0.0;
    std::int64_t acting = 0;
    for (std::uint32_t b = 0; b < nblocks; ++b) {
      sum += block_sums_[std::size_t{b} * classes_ + c];
      acting += block_counts_[std::size_t{b} * classes_ + c];
    }
    ticks[c].acting_agents = acting;
    ticks[c].stress_mean = acting > 0 ? sum / static_cast<double>(acting) : 0.0;
    total += sum;
  }
  return total;
}

// Copies the acting agents' stress into work_, grouped by class (block order within a
// class: block b of class c starts at offset_[c * (nblocks + 1) + b]; id order within a
// block), then takes each class's quantiles. The list's entries hold only the stayers by
// now, so a block's agents are its stayers and withdrawers.
void ClassStress::take_quantiles(std::uint32_t nblocks, const ActiveList& active,
                                 const Population& population, std::span<const ClassTick> ticks) {
  const auto& qs = probabilities_;
  if (qs.empty()) return;
  const std::size_t stride = std::size_t{nblocks} + 1;
  std::uint64_t offset = 0;
  for (std::size_t c = 0; c < classes_; ++c)
    for (std::uint32_t b = 0; b <= nblocks; ++b) {
      offset_[c * stride + b] = offset;
      if (b < nblocks) offset += block_counts_[std::size_t{b} * classes_ + c];
    }
  for_blocks(nblocks, [&](std::uint32_t b) {
    // The block's agents in id order: its stayers and withdrawers, merged.
    const auto stayers = active.block_stayers(b), withdrawers = active.block_withdrawers(b);
    std::size_t s = 0, w = 0;
    while (s < stayers.size() || w < withdrawers.size()) {
      const bool stayer =
          w == withdrawers.size() || (s < stayers.size() && stayers[s] < withdrawers[w]);
      const std::uint32_t i = stayer ? stayers[s++] : withdrawers[w++];
      const std::uint8_t c = population.class_id[i];
      work_[offset_[c * stride + b]++] = population.stress[i];
    }
  });
  std::uint64_t begin = 0;
  for (std::size_t c = 0; c < classes_; ++c) {
    const std::uint64_t end = begin + static_cast<std::uint64_t>(ticks[c].acting_agents);
    for (std::size_t q = 0; q < qs.size(); ++q)
      values_[c * qs.size() + q] = end > begin ? quantile(&work_[begin], end - begin, qs[q])
                                               : std::numeric_limits<double>::quiet_NaN();
    begin = end;
  }
}

}  // namespace bankrun
