#pragma once
// Branching runs (counterfactuals): the state of a parent run after T ticks, carried into
// a run of a changed scenario (`bankrun run --from CHECKPOINT --set ...`). What may change
// is what acts only from the branch tick on: institutions' policies and halt rules, and
// news events at or after T. Everything else built the state at T (the population, the
// network, the balance sheets, the seed, the stress rule, ...) and must stay as it was.
//
// The random numbers are the parent's: every draw is keyed by (seed, stream, tick, agent),
// so after T the child draws what the parent drew, and the difference between the two
// runs is the change's effect alone (common random numbers). One caveat: whether a news
// event reached an agent is drawn by the event's position in the tick-sorted list, so an
// event added at tick t >= T gives the later events (and the run's own added ones) new
// reach draws; events before T keep theirs.
#include <stdexcept>
#include <string>
#include <string_view>

#include "checkpoint.hpp"
#include "scenario.hpp"

namespace bankrun {

// A change a branch cannot make; the message says which and why.
class BranchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The child's state at the branch tick: `parent_state` (saved from a run of `parent`,
// whose digest is `parent_digest`) with the policy bookkeeping mapped onto the child's
// policy list. A child policy equal to one of the parent's (same institution) takes over
// its fired and armed flags; a new or changed policy starts unfired and unarmed (its
// conditions are first checked at the end of tick T). `child_fresh` is a Run of `child`
// saved before its first tick (the layout the child expects, and the values of the items a
// new policy needs). Throws BranchError for a change a branch cannot make, CheckpointError
// if the parent state does not fit `parent`.
SimulationState branch_state(const SimulationState& parent_state, const Scenario& parent,
                             std::string_view parent_digest, const SimulationState& child_fresh,
                             const Scenario& child);

}  // namespace bankrun
