#pragma once
// The signals agents observe at the start of a tick (phase 1), from the state at the end
// of the last one: the public terms of each institution (flow G, queue delay Q, price
// drawdown X; PublicSignals) and which peers' decisions are visible (Peers).
#include <cstdint>
#include <span>
#include <vector>

#include "agents/network.hpp"
#include "agents/population.hpp"
#include "institution.hpp"
#include "portfolio.hpp"
#include "record.hpp"
#include "scenario.hpp"

namespace bankrun {

// Per institution k and depositor class c, the public part of the stress equation,
//   public_kc = b_flow G_k(t-1) + b_queue Q_k(t-1) + b_price X_kc(t-1),
// the same for all of k's depositors of class c. G needs the net outflow and deposits at
// the end of each of the last W+1 ticks: rings [institution * (W + 1) + slot].
class PublicSignals {
 public:
  PublicSignals(const Scenario& scenario, const std::vector<Institution>& institutions,
                const Portfolio& portfolio, std::size_t classes);

  // Phase 1 of tick t: every term, and each institution's G, Q, X in `ticks`.
  void observe(std::int32_t t, const std::vector<Institution>& institutions,
               const Portfolio& portfolio, std::span<InstitutionTick> ticks);
  // End of tick t: its net outflows and deposits join the rings.
  void remember(std::int32_t t, const std::vector<Institution>& institutions);

  // One institution and USD-only claims (the common case): one term for every agent.
  bool uniform() const { return uniform_; }
  double term(std::size_t institution, std::size_t c) const {
    return terms_[institution * classes_ + c];
  }

  // Checkpoints: the flow rings (the last W+1 ticks' net outflows and deposits). The terms
  // are recomputed by observe() at the start of every tick; the weights come from the
  // scenario.
  template <class Archive>
  void visit_state(Archive& a) {
    a.item("public_signals.flow_out", flow_out_);
    a.item("public_signals.flow_deposits", flow_deposits_);
  }

 private:
  double flow_signal(std::int32_t t, std::size_t k, const Institution& in) const;
  double queue_signal(std::int32_t t, const Institution& in) const;

  StressSpec weights_;
  double tick_hours_;
  std::size_t classes_;
  bool uniform_ = false;
  std::vector<double> terms_;  // [institution * classes + class]
  std::vector<Money> flow_out_, flow_deposits_;
  std::size_t flow_ring_ = 1;
};

// P_i(t - L), the peer term: every first decision to withdraw is logged in order (agent
// ids) with the log's size at the end of each of the last L+2 ticks; before tick t the
// deciders of t-1-L become visible (a bitset of N bits marks them).
//
// On a network the term is pushed, not gathered: Peers keeps the transposed network (for
// each agent j, its watchers: the agents that have j in a neighbour slot, once per slot)
// and, per agent i, the neighbour slots seen so far (counted) or the initial claims seen
// (balance-weighted). Revealing j adds to each watcher's count once, so the decide phase
// reads one number per agent instead of gathering d_i neighbours on every tick, and the
// whole run does O(N d) pushes instead of O(N d T) reads. Counts are integers (claims are
// integer cents), so the order of the pushes, and the thread count, cannot change them,
// and P_i = count_i / d_i is exactly what the gather computed. The forward network is not
// needed after set-up (Simulation keeps only its degree statistics).
class Peers {
 public:
  // Generates the scenario's network (agents/network.hpp) and keeps its transpose; the
  // network itself is gone on return, except for its degree statistics in `stats`.
  static Peers for_scenario(const Scenario& scenario, const Population& population,
                            DegreeStats& stats);
  // The same from a network at hand.
  Peers(const Scenario& scenario, const Population& population, const Network& network);

  // Before tick t: mark as seen the agents that decided at tick t-1-L.
  void reveal(std::int32_t t, const Population& population);
  // Phase 3: agent i decides to withdraw for the first time; end of its tick t's log.
  void log_decision(std::uint32_t i) { log_[log_size_++] = i; }
  void close_log(std::int32_t t) {
    log_end_[static_cast<std::size_t>(t) % log_end_.size()] = log_size_;
  }

  // P_i: the share of i's neighbour slots whose agent is seen (a neighbour listed twice
  // counts twice, as in the reference model); balance-weighted: the same share weighted by
  // the neighbours' initial claims; on the complete graph the neighbours are all other
  // agents (global counts); peer_measure: count: the number of seen slots, not their share
  // (the table then holds m for m = 0 .. the largest degree). Inline: called per agent in
  // decide.
  double fraction(std::uint32_t i, const Population& population) const {
    if (mode_ == Mode::kCounted) [[likely]] {
      if (degree_.empty()) return regular_fraction_[seen_slots_[i]];
      const std::uint32_t degree = degree_[i];
      return degree == 0 ? 0.0 : static_cast<double>(seen_slots_[i]) / static_cast<double>(degree);
    }
    if (mode_ == Mode::kNoNeighbours) return 0.0;
    return fraction_other(i, population);
  }

  // Checkpoints: the decision log and its per-tick ends, the bitset of seen agents and the
  // complete graph's running sums. The per-agent counts are rebuilt from the bitset when a
  // state is loaded (recount_seen); the watchers, mode, lag and weights come from the scenario.
  template <class Archive>
  void visit_state(Archive& a) {
    a.item("peers.log_size", log_size_);
    a.item("peers.log", log_, log_size_);
    a.item("peers.log_end", log_end_);
    a.item("peers.seen", seen_);
    a.item("peers.seen_count", seen_count_);
    a.item("peers.seen_weight", seen_weight_);
  }
  // After a state is loaded: the per-agent counts from the bitset of seen agents.
  void recount_seen(const Population& population);

 private:
  bool seen(std::uint32_t j) const { return (seen_[j >> 6] >> (j & 63)) & 1u; }
  double fraction_other(std::uint32_t i, const Population& population) const;
  Peers(const Scenario& scenario, const Population& population);  // no watchers yet
  void build_watchers(const Network& network, const DegreeStats& stats,
                      const Population& population);
  void allocate_counts(const Population& population);  // once the watchers are built
  // Adds agent j's decision to its watchers' counts.
  void push(std::uint32_t j, const Population& population);
  void push_all(const std::uint32_t* agents, std::size_t count, const Population& population);

  // kOther: weighted or complete graph; kNoNeighbours: a network without edges.
  enum class Mode { kCounted, kOther, kNoNeighbours };
  Mode mode_ = Mode::kCounted;
  bool weighted_ = false, complete_ = false, active_ = false;
  bool count_ = false;  // peer_measure: count: P_i = m_i, not m_i / d_i
  std::int32_t lag_ = 0;
  std::vector<std::uint32_t> log_;
  std::uint64_t log_size_ = 0;
  std::vector<std::uint64_t> log_end_;
  std::vector<std::uint64_t> seen_;
  std::uint64_t seen_count_ = 0;  // complete graph: agents seen
  double seen_weight_ = 0.0;      // complete graph, balance-weighted: their initial claims
  double total_weight_ = 0.0;     // complete graph: all initial claims

  // The transposed network (empty without peers or on the complete graph): the watchers of
  // j are watchers_[watcher_begin(j) .. watcher_begin(j + 1)); the offsets are 32-bit
  // unless the network has 2^32 adjacency entries or more.
  std::vector<std::uint32_t> watchers_;
  std::vector<std::uint32_t> watcher_begin32_;
  std::vector<std::uint64_t> watcher_begin64_;
  // A regular network (degree_ empty): m / d for m = 0 .. d, the quotient the division
  // gives, looked up instead of divided; {0} without neighbours; counts: m itself.
  std::vector<double> regular_fraction_{0.0};
  std::vector<std::uint32_t> degree_;      // d_i, for networks whose degrees differ
  std::vector<std::uint32_t> seen_slots_;  // counted: neighbour slots of i seen
  // Balance-weighted: initial claims of i's neighbour slots, seen and all.
  std::vector<Money> seen_claims_, neighbour_claims_;
};

}  // namespace bankrun
