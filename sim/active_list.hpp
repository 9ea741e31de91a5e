#pragma once
// The active list: ids of the agents that evaluate the decision rule this tick, in
// increasing id order, and what becomes of them.
//
// The decide phase runs over fixed blocks of kBlock entries of the list. Block b writes its
// stayers in place over its own entries of the list, and its withdrawers and re-depositors
// into staging slots at its own offset b * kBlock; compact() then gathers them in block
// order, so the next active list, the withdrawers and the re-depositors stay in id order
// whatever the thread count. Agents paid in full rejoin through the returning list (merged
// in id order); agents with a reaction lag sit in the waiting list until their request is
// due. Everything is sized at construction.
//
// Memory: three or four id arrays of n, whose lifetimes within a tick let them share
// storage (the phases run in the order decide, compact, submit, settle):
//   list_       the active ids; block b's stayers are written over its entries
//   spare_      decide: withdrawers' slots; submit: the tick's requests; settle: the
//               returning agents
//   redeposit_  decide: re-depositors' slots (only when some agent can re-deposit)
//   outcomes_   compact to submit: withdrawers, then re-depositors; settle: the merge's
//               output, which then becomes the list (the two swap)
// and the waiting list, with room for the agents whose reaction lag is above 0.
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

  // What the list needs room for besides the n agents: re-depositors (some agent can
  // re-deposit) and agents waiting out a reaction lag (at most `lagged` at a time: the
  // agents whose lag is above 0).
  struct Room {
    bool redepositors = true;
    std::uint32_t lagged = 0;
  };

  // All n agents active, in id order. The default room suits any use with n lagged agents.
  explicit ActiveList(std::uint32_t n) : ActiveList(n, Room{true, n}) {}
  ActiveList(std::uint32_t n, Room room);

  std::uint32_t count() const { return active_count_; }
  std::uint32_t blocks() const { return blocks_of(active_count_); }
  // Entries [lo, hi) of block b.
  std::uint32_t block_begin(std::uint32_t b) const { return b * kBlock; }
  std::uint32_t block_end(std::uint32_t b) const {
    return std::min(b * kBlock + kBlock, active_count_);
  }
  const std::uint32_t* ids() const { return list_.data(); }

  // Block b's slots (kBlock each); it reports how many it filled in set_block(). The
  // stayers' slots are the block's own entries of the list (stay_slots(b) == ids() +
  // block_begin(b)): the caller must read entry lo + k before it writes stayer number
  // m <= k, which holds when it reads the entries in order and writes each stayer after
  // reading it. An agent is a withdrawer or a stayer; a re-depositor is also a stayer.
  std::uint32_t* stay_slots(std::uint32_t b) { return list_.data() + block_begin(b); }
  std::uint32_t* withdraw_slots(std::uint32_t b) { return spare_.data() + block_begin(b); }
  // Null without room for re-depositors (Room::redepositors false): none may be written.
  std::uint32_t* redeposit_slots(std::uint32_t b) {
    return redeposit_.empty() ? nullptr : redeposit_.data() + block_begin(b);
  }
  void set_block(std::uint32_t b, BlockCounts counts) { blocks_[b] = counts; }
  // Between set_block(b) and compact(): block b's stayers and withdrawers, each in id order
  // (together, the agents of the block).
  std::span<const std::uint32_t> block_stayers(std::uint32_t b) const {
    return {list_.data() + block_begin(b), blocks_[b].stay};
  }
  std::span<const std::uint32_t> block_withdrawers(std::uint32_t b) const {
    return {spare_.data() + block_begin(b), blocks_[b].withdraw};
  }

  // Gathers the first `nblocks` blocks' slots in block order: the stayers become the next
  // active list; withdrawers() and redepositors() keep id order (until settle's merge).
  void compact(std::uint32_t nblocks);
  std::span<const std::uint32_t> withdrawers() const {
    return {outcomes_.data(), withdrawer_count_};
  }
  std::span<const std::uint32_t> redepositors() const {
    return {outcomes_.data() + withdrawer_count_, redepositor_count_};
  }

  // Requests of this tick: agents that request now (add_request) or after a reaction lag
  // (wait); take_requests(t) adds those whose lag ends at t and returns them all in id order
  // (valid until the next clear_returning()).
  void add_request(std::uint32_t i) { spare_[request_count_++] = i; }
  void wait(std::int32_t due, std::uint32_t i) { waiting_[waiting_count_++] = {due, i}; }
  std::span<const std::uint32_t> take_requests(std::int32_t t);

  // Agents paid in full this tick that act again from the next: merged into the list, which
  // stays sorted by id.
  void clear_returning() { returning_count_ = 0; }
  void add_returning(std::uint32_t i) { spare_[returning_count_++] = i; }
  void merge_returning();

  // Checkpoints: the used part of the list and of the agents waiting out a reaction lag
  // (the entries past each count are scratch). Between two ticks the slots, block counts,
  // withdrawers, re-depositors, returning agents and requests are spent (each tick refills
  // them before reading them), so they are not saved.
  template <class Archive>
  void visit_state(Archive& a) {
    a.item("active_list.count", active_count_);
    a.item("active_list.ids", list_, active_count_);
    a.item("active_list.waiting_count", waiting_count_);
    a.item("active_list.waiting", waiting_, waiting_count_);
  }

 private:
  void move_stayers_down(std::uint32_t nblocks);

  std::vector<std::uint32_t> list_, spare_, redeposit_, outcomes_;
  std::vector<std::pair<std::int32_t, std::uint32_t>> waiting_;  // (due tick, agent)
  std::vector<BlockCounts> blocks_;
  std::uint32_t active_count_ = 0, withdrawer_count_ = 0, redepositor_count_ = 0;
  std::uint32_t returning_count_ = 0, waiting_count_ = 0, request_count_ = 0;
};

}  // namespace bankrun
