#pragma once
// The tick loop. Each call to step() runs one tick in the fixed order of MODEL.md section 7:
//
//   1. observe  public signals from the state at the end of t-1 (flow G, news values)
//   2. decide   every agent still holding its claim computes S_i(t) and compares it
//               with theta_i (parallel over fixed blocks of the active list)
//   3. submit   new requests join the FIFO queue in agent-id order
//   4. settle   the institution pays the queue, then evaluates its halt conditions
//   5. record   a TickRecord; the ledger identities are checked
//
// Work per tick is proportional to the agents that can still act (the active list) plus
// the requests paid; nothing is allocated after construction.
#include <cstdint>
#include <vector>

#include "agents/network.hpp"
#include "agents/population.hpp"
#include "institution.hpp"
#include "record.hpp"
#include "scenario.hpp"

namespace bankrun {

class Simulation {
 public:
  explicit Simulation(Scenario scenario);

  // Runs one tick and returns its record (valid until the next call).
  const TickRecord& step();
  bool done() const { return tick_ >= scenario_.time.ticks; }
  std::int32_t next_tick() const { return tick_; }

  const Scenario& scenario() const { return scenario_; }
  const Population& population() const { return population_; }
  const Network& network() const { return network_; }
  const Institution& institution() const { return institution_; }

  // Full O(N) audit of the ledger against the per-agent state; throws LedgerError.
  void audit() const;

 private:
  struct BlockResult {
    std::uint32_t survivors = 0;
    std::uint32_t deciders = 0;
    double stress_sum = 0.0;
  };

  double flow_signal() const;
  void prepare_news(std::int32_t t);
  void decide(std::int32_t t, double flow);
  void submit(std::int32_t t);
  void settle(std::int32_t t);
  void remember_flow();
  double agent_news(std::uint32_t i, std::uint8_t cls) const;
  double peer_fraction(std::uint32_t i) const;
  void reveal_peers(std::int32_t t);

  Scenario scenario_;
  Population population_;
  Network network_;
  Institution institution_;

  // Active list: ids of agents that can still decide, in increasing id order. Each block
  // of the decide phase writes its survivors and deciders into the staging arrays at its
  // own offset; a compaction then gathers them in block order.
  std::vector<std::uint32_t> active_, staging_, deciders_, decider_staging_;
  std::vector<BlockResult> blocks_;
  std::uint32_t active_count_ = 0, decider_count_ = 0;
  // News values of this tick (one per event; 0 when inactive) and reach probabilities
  // per (event, class).
  std::vector<double> news_value_;
  std::vector<double> reach_;  // [event * classes + class]
  std::vector<std::uint32_t> live_events_;
  std::uint32_t live_event_count_ = 0;
  // Ring of (paid_total, deposits) at the end of the last W+1 ticks, for the flow window.
  std::vector<Money> flow_paid_, flow_deposits_;
  std::vector<double> noise_sd_;  // per class
  // Every decision in order (agent ids), the log's size at the end of each of the last
  // L+2 ticks, and the bitset of agents whose decision their peers can see this tick.
  std::vector<std::uint32_t> decision_log_;
  std::uint64_t decision_log_size_ = 0;
  std::vector<std::uint64_t> log_end_;
  std::vector<std::uint64_t> peers_seen_;

  std::int32_t tick_ = 0;
  std::int64_t withdrawn_agents_ = 0, paid_agents_ = 0;
  TickRecord record_;
};

}  // namespace bankrun
