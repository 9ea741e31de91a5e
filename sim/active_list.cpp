#include "active_list.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "agents/parallel.hpp"

namespace bankrun {

ActiveList::ActiveList(std::uint32_t n, Room room)
    : list_(n), spare_(n), outcomes_(n), waiting_(room.lagged), blocks_(blocks_of(n) + 1) {
  std::iota(list_.begin(), list_.end(), 0u);
  active_count_ = n;
  if (room.redepositors) redeposit_.resize(n);
}

// Block b's output starts where the blocks before it end (an exclusive prefix sum of the
// counts, in block order); blocks_[nblocks] holds the totals.
void ActiveList::compact(std::uint32_t nblocks) {
  BlockCounts total;
  for (std::uint32_t b = 0; b < nblocks; ++b) {
    const BlockCounts c = blocks_[b];
    blocks_[b] = total;  // from here on: output offsets
    total.stay += c.stay;
    total.withdraw += c.withdraw;
    total.redeposit += c.redeposit;
  }
  blocks_[nblocks] = total;
  for_blocks(nblocks, [&](std::uint32_t b) {
    const BlockCounts& from = blocks_[b];
    const BlockCounts& to = blocks_[b + 1];
    const std::size_t lo = std::size_t{b} * kBlock;
    std::copy_n(spare_.begin() + lo, to.withdraw - from.withdraw,
                outcomes_.begin() + from.withdraw);
    if (!redeposit_.empty())
      std::copy_n(redeposit_.begin() + lo, to.redeposit - from.redeposit,
                  outcomes_.begin() + total.withdraw + from.redeposit);
  });
  move_stayers_down(nblocks);
  active_count_ = total.stay;
  withdrawer_count_ = total.withdraw;
  redepositor_count_ = total.redeposit;
}

// Block b's stayers move from its entries down to their output offset, in block order: a
// block's output may overlap the entries of the blocks before it, never those after it, so
// each block's source is intact when its turn comes. Blocks already in place (no one before
// them withdrew) do not move.
void ActiveList::move_stayers_down(std::uint32_t nblocks) {
  for (std::uint32_t b = 0; b < nblocks; ++b) {
    const std::uint32_t from = blocks_[b].stay, count = blocks_[b + 1].stay - from;
    if (from != block_begin(b) && count > 0)
      std::memmove(list_.data() + from, list_.data() + block_begin(b),
                   std::size_t{count} * sizeof(std::uint32_t));
  }
}

// Agents whose lag ends now leave the waiting list (kept in arrival order otherwise). The
// requests are already in id order unless lagged ones came due (the common case costs O(n)).
std::span<const std::uint32_t> ActiveList::take_requests(std::int32_t t) {
  std::uint32_t still_waiting = 0;
  for (std::uint32_t k = 0; k < waiting_count_; ++k) {
    if (waiting_[k].first <= t) {
      spare_[request_count_++] = waiting_[k].second;
    } else {
      waiting_[still_waiting++] = waiting_[k];
    }
  }
  waiting_count_ = still_waiting;
  const auto end = spare_.begin() + request_count_;
  if (!std::is_sorted(spare_.begin(), end)) std::sort(spare_.begin(), end);
  const std::span<const std::uint32_t> due(spare_.data(), request_count_);
  request_count_ = 0;
  return due;
}

void ActiveList::merge_returning() {
  if (returning_count_ == 0) return;
  // Distinct ids: the sorted order is the same whichever algorithm or thread count sorts.
  if (returning_count_ < 16384) {
    std::sort(spare_.begin(), spare_.begin() + returning_count_);
  } else {
    sort_in_parallel(spare_.begin(), spare_.begin() + returning_count_, std::less<>());
  }
  const auto end = std::merge(list_.begin(), list_.begin() + active_count_, spare_.begin(),
                              spare_.begin() + returning_count_, outcomes_.begin());
  active_count_ = static_cast<std::uint32_t>(end - outcomes_.begin());
  std::swap(list_, outcomes_);
}

}  // namespace bankrun
