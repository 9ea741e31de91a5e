#include "active_list.hpp"

#include <algorithm>
#include <numeric>

#include "agents/parallel.hpp"

namespace bankrun {

ActiveList::ActiveList(std::uint32_t n) : active_(n), blocks_(blocks_of(n) + 1) {
  std::iota(active_.begin(), active_.end(), 0u);
  active_count_ = n;
  for (auto* v : {&staging_, &withdrawers_, &withdrawer_staging_, &redepositors_,
                  &redepositor_staging_, &returning_, &requests_})
    v->resize(n);
  waiting_.resize(n);
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
    std::copy_n(staging_.begin() + lo, to.stay - from.stay, active_.begin() + from.stay);
    std::copy_n(withdrawer_staging_.begin() + lo, to.withdraw - from.withdraw,
                withdrawers_.begin() + from.withdraw);
    std::copy_n(redepositor_staging_.begin() + lo, to.redeposit - from.redeposit,
                redepositors_.begin() + from.redeposit);
  });
  active_count_ = total.stay;
  withdrawer_count_ = total.withdraw;
  redepositor_count_ = total.redeposit;
}

// Agents whose lag ends now leave the waiting list (kept in arrival order otherwise). The
// requests are already in id order unless lagged ones came due (the common case costs O(n)).
std::span<const std::uint32_t> ActiveList::take_requests(std::int32_t t) {
  std::uint32_t still_waiting = 0;
  for (std::uint32_t k = 0; k < waiting_count_; ++k) {
    if (waiting_[k].first <= t) {
      requests_[request_count_++] = waiting_[k].second;
    } else {
      waiting_[still_waiting++] = waiting_[k];
    }
  }
  waiting_count_ = still_waiting;
  const auto end = requests_.begin() + request_count_;
  if (!std::is_sorted(requests_.begin(), end)) std::sort(requests_.begin(), end);
  const std::span<const std::uint32_t> due(requests_.data(), request_count_);
  request_count_ = 0;
  return due;
}

void ActiveList::merge_returning() {
  if (returning_count_ == 0) return;
  std::sort(returning_.begin(), returning_.begin() + returning_count_);
  const auto end = std::merge(active_.begin(), active_.begin() + active_count_, returning_.begin(),
                              returning_.begin() + returning_count_, staging_.begin());
  active_count_ = static_cast<std::uint32_t>(end - staging_.begin());
  std::swap(active_, staging_);
}

}  // namespace bankrun
