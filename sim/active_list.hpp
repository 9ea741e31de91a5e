#pragma once
// The active list: ids of the agents that evaluate the decision rule this tick, in
// increasing id order, and what becomes of them.
//
// The decide phase runs over fixed blocks of kBlock entries of the list. Block b writes its
// stayers, withdrawers and re-depositors into the staging arrays at its own offset
// b * kBlock; compact() then gathers them in block order, so the next active list, the
// withdrawers and the re-depositors stay in id order whatever the thread count. Agents paid
// in full rejoin through the returning list (merged in id order); agents with a reaction lag
// sit in the waiting list until their request is due. Everything is sized at construction.
#include <algorithm>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace bankrun {

class ActiveList {
 public:
  // Fixed block size of the decide phase: per-block partial results are combined in block
  // order, so floating-point sums do not depend on the thread count.
  static constexpr std::uint32_t kBlock = 2048;
  static constexpr std::uint32_t blocks_of(std::uint32_t n) { return (n + kBlock - 1) / kBlock; }

  // What block b of the decide phase produced; after compact(): output offsets.
  struct BlockCounts {
    std::uint32_t stay = 0, withdraw = 0, redeposit = 0;
  };

  // All n agents active, in id order.
  explicit ActiveList(std::uint32_t n);

  std::uint32_t count() const { return active_count_; }
  std::uint32_t blocks() const { return blocks_of(active_count_); }
  // Entries [lo, hi) of block b.
  std::uint32_t block_begin(std::uint32_t b) const { return b * kBlock; }
  std::uint32_t block_end(std::uint32_t b) const {
    return std::min(b * kBlock + kBlock, active_count_);
  }
  const std::uint32_t* ids() const { return active_.data(); }

  // Block b's staging slots (kBlock each); it reports how many it filled in set_block().
  std::uint32_t* stay_slots(std::uint32_t b) { return staging_.data() + block_begin(b); }
  std::uint32_t* withdraw_slots(std::uint32_t b) {
    return withdrawer_staging_.data() + block_begin(b);
  }
  std::uint32_t* redeposit_slots(std::uint32_t b) {
    return redepositor_staging_.data() + block_begin(b);
  }
  void set_block(std::uint32_t b, BlockCounts counts) { blocks_[b] = counts; }

  // Gathers the first `nblocks` blocks' staging slots in block order: the stayers become
  // the next active list; withdrawers() and redepositors() keep id order.
  void compact(std::uint32_t nblocks);
  std::span<const std::uint32_t> withdrawers() const {
    return {withdrawers_.data(), withdrawer_count_};
  }
  std::span<const std::uint32_t> redepositors() const {
    return {redepositors_.data(), redepositor_count_};
  }

  // Requests of this tick: agents that request now (add_request) or after a reaction lag
  // (wait); take_requests(t) adds those whose lag ends at t and returns them all in id order.
  void add_request(std::uint32_t i) { requests_[request_count_++] = i; }
  void wait(std::int32_t due, std::uint32_t i) { waiting_[waiting_count_++] = {due, i}; }
  std::span<const std::uint32_t> take_requests(std::int32_t t);

  // Agents paid in full this tick that act again from the next: merged into the list, which
  // stays sorted by id.
  void clear_returning() { returning_count_ = 0; }
  void add_returning(std::uint32_t i) { returning_[returning_count_++] = i; }
  void merge_returning();

  // Checkpoints: the used part of the list and of the agents waiting out a reaction lag
  // (the entries past each count are scratch). Between two ticks the staging slots, block
  // counts, withdrawers, re-depositors, returning agents and requests are spent (each tick
  // refills them before reading them), so they are not saved.
  template <class Archive>
  void visit_state(Archive& a) {
    a.item("active_list.count", active_count_);
    a.item("active_list.ids", active_, active_count_);
    a.item("active_list.waiting_count", waiting_count_);
    a.item("active_list.waiting", waiting_, waiting_count_);
  }

 private:
  std::vector<std::uint32_t> active_, staging_;
  std::vector<std::uint32_t> withdrawers_, withdrawer_staging_;
  std::vector<std::uint32_t> redepositors_, redepositor_staging_;
  std::vector<std::uint32_t> returning_;  // paid in full this tick, active again next tick
  std::vector<std::uint32_t> requests_;   // requests of this tick
  std::vector<std::pair<std::int32_t, std::uint32_t>> waiting_;  // (due tick, agent)
  std::vector<BlockCounts> blocks_;
  std::uint32_t active_count_ = 0, withdrawer_count_ = 0, redepositor_count_ = 0;
  std::uint32_t returning_count_ = 0, waiting_count_ = 0, request_count_ = 0;
};

}  // namespace bankrun
