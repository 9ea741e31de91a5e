#pragma once
// The tick loop. Each call to step() runs one tick in the fixed order of MODEL.md section 7:
//
//   1. observe  public signals from the state at the end of t-1 (flow G, queue delay Q,
//               news values, which peers' decisions are visible)
//   2. decide   every active agent computes S_i(t) and applies the decision rule
//               (parallel over fixed blocks of the active list)
//   3. submit   re-deposits are credited; requests whose reaction lag is over join the
//               FIFO queue of the agent's account institution in agent-id order
//   4. settle   each institution, in scenario order, pays its queue and evaluates its halt
//               conditions; payments sent to other institutions arrive after all have
//               settled; agents paid in full with something left to do become active again
//   5. default  exposures to institutions that have halted or are insolvent are written
//               down (news to the creditor's depositors from t+1); halts are re-evaluated,
//               repeating until nothing changes (a cascade resolves within the tick)
//   6. record   a TickRecord (and snapshots at chosen ticks); ledger identities checked
//
// Where each mechanism lives (each owns its state; Simulation wires them together):
//   simulation.cpp  the constructor and step() (phase 1, observe, calls the ones below)
//   active_list.*   the active list, staging, compaction, returning and waiting lists
//   signals.*       PublicSignals (flow G, queue Q, price X, flow rings) and Peers (the
//                   decision log and the bitset of visible decisions)
//   news.*          NewsBoard: scenario, drawn and runtime news events, values, reach
//   portfolio.*     claim currencies: class portfolios, split(), asset_of()
//   calendar.*      agents' activity a(t) and opening hours by local time
//   policies.*      Policies: fire, arm, the state in force (insurance, gates)
//   decide.cpp      phase 2: decide() and its passes; class_stress.* its per-class sums
//                   and quantiles
//   submit.cpp      phase 3: re-deposits, first decisions, requests into the queues
//   settle.cpp      phase 4: payments to agents (institution.*: each institution's own
//                   settlement), announcements of realised losses, the final date's
//                   payout; transfers.* the payments to destination institutions
//   defaults.cpp    phase 5: write-downs of exposures, cascades of halts
//   recording.cpp   phase 6: the TickRecord; snapshots.* the per-agent sample
//   ledger.cpp      every ledger identity, the conservation check and the audit
//
// Work per tick is proportional to the agents that can still act plus the requests
// moved; nothing is allocated after construction.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "active_list.hpp"
#include "agents/network.hpp"
#include "agents/population.hpp"
#include "checkpoint.hpp"
#include "class_stress.hpp"
#include "hazard.hpp"
#include "institution.hpp"
#include "news.hpp"
#include "policies.hpp"
#include "portfolio.hpp"
#include "record.hpp"
#include "scenario.hpp"
#include "signals.hpp"
#include "snapshots.hpp"
#include "summary.hpp"
#include "transfers.hpp"

namespace bankrun {

class Simulation {
 public:
  explicit Simulation(Scenario scenario);

  // Runs one tick and returns its record (valid until the next call).
  const TickRecord& step();
  bool done() const { return tick_ >= scenario_.time.ticks; }
  std::int32_t ticks_done() const { return tick_; }

  // After step(): the per-agent sample if the tick just run is a snapshot tick, else empty.
  std::span<const SnapshotRow> snapshot() const { return snapshots_.last(); }

  // The scenario as given.
  const Scenario& scenario() const { return scenario_; }
  // The news events as run: the scenario's, those drawn by the news process (sorted by tick
  // together), then those the run added (proofs of reserves, write-downs), in order.
  const std::vector<NewsEvent>& news_events() const { return news_.events(); }
  const Population& population() const { return population_; }
  // The social network's degree statistics (the network itself is not kept: the peers hold
  // its transpose, signals.hpp).
  const DegreeStats& network_stats() const { return network_stats_; }
  const std::vector<Institution>& institutions() const { return institutions_; }
  // Tick at which policy k of institution `in` fired, or kForever.
  std::int32_t policy_fired_tick(std::size_t in, std::size_t k) const {
    return policies_.fired_tick(in, k);
  }

  // After a final payout (InstitutionSpec::final_payout): each class's payoffs, split by
  // whether its agents ran ([2 * class + ran]); empty otherwise.
  const std::vector<ClassPayoff>& payoffs() const { return payoffs_; }

  // Full O(N) audit of the ledger against the per-agent state; throws LedgerError.
  void audit() const;

  // Checkpoints (checkpoint.hpp): the state between two ticks, and its restore into a
  // Simulation built from the same scenario (the caller's digest of its resolved YAML must
  // match the saved one). A restore throws CheckpointError on a mismatch, and may then
  // leave this Simulation partly restored: build a fresh one before running.
  SimulationState save_state(std::string scenario_digest) const;
  void restore_state(const SimulationState& state, std::string_view scenario_digest);
  // The same items into or out of any archive (in memory, or a file's backend), which may
  // hold more (a Run adds its summary's).
  template <class Archive>
  void save_into(Archive& archive) const {
    static_assert(!Archive::loading);
    // visit_state serves both directions; a saving archive only reads what it visits.
    const_cast<Simulation&>(*this).visit_state(archive);
  }
  template <class Archive>
  void load_from(Archive& archive) {
    static_assert(Archive::loading);
    visit_state(archive);
    peers_.recount_seen(population_);
    snapshots_.forget_last();
  }

  // Saved: the tick counter and run totals, the per-agent state and pending request parts,
  // the cumulative per-class results, and every mechanism's own state (each says what).
  // Not saved: the scenario, network, portfolio and per-class rates (built from the
  // scenario), the per-tick institution and asset rows and the record (rebuilt by every
  // tick before they are read).
  template <class Archive>
  void visit_state(Archive& a) {
    a.item("tick", tick_);
    a.item("withdrawn_agents", withdrawn_agents_);
    a.item("paid_agents", paid_agents_);
    a.item("self_custody", self_custody_);
    a.item("agent_state", state_);
    a.item("pending_parts", pending_parts_);
    a.item("class_ticks", class_ticks_);
    a.item("payoffs", payoffs_);
    population_.visit_state(a);
    for (std::size_t k = 0; k < institutions_.size(); ++k)
      institutions_[k].visit_state(a, "institution." + std::to_string(k) + ".");
    active_.visit_state(a);
    news_.visit_state(a);
    public_signals_.visit_state(a);
    peers_.visit_state(a);
    policies_.visit_state(a);
    transfers_.visit_state(a);
    snapshots_.visit_state(a);
  }

 private:
  // kIdle: the calendar gave the agent no chance to act this tick (it stays).
  enum class Outcome : std::uint8_t { kStay, kWithdraw, kRedeposit, kIdle };

  // Set-up (simulation.cpp).
  std::vector<Institution> build_institutions() const;
  // Phase 1, observe (simulation.cpp; the policies that fire first, policies.*).
  void observe(std::int32_t t);
  // Phase 2, decide (decide.cpp).
  void decide(std::int32_t t);
  // A batch of up to 256 active agents on its way through the rule's passes (decide.cpp;
  // on the stack of each block's task: 20 KiB).
  struct DecideBatch {
    std::uint32_t ids[kBatchLanes];
    double news[kBatchLanes];                       // N_i(t)
    BlockWords noise, hazard, redeposit, activity;  // first Philox blocks of the draws
    double stress[kBatchLanes];                     // S_i(t)
    Outcome outcome[kBatchLanes];
    std::uint32_t lanes[kBatchLanes];          // the lanes a pass considers, compacted
    std::uint32_t candidate_ids[kBatchLanes];  // and their agents
  };
  void batch_stress(std::int32_t t, DecideBatch& batch, std::uint32_t count, double* class_stress,
                    std::uint32_t* class_acting);
  void batch_withdrawals(std::int32_t t, DecideBatch& batch, std::uint32_t count) const;
  void batch_redeposits(std::int32_t t, DecideBatch& batch, std::uint32_t count) const;
  void batch_activity(std::int32_t t, DecideBatch& batch, std::uint32_t count) const;
  bool can_redeposit(std::uint32_t i) const {
    return redeposit_rate_[population_.class_id[i]] > 0.0;
  }
  // Phase 3, submit (submit.cpp).
  void submit(std::int32_t t);
  void credit_redeposits();
  void credit_redeposit(std::uint32_t i);
  Money redeposit_amount(std::uint32_t i) const;
  static constexpr std::size_t kCreditPiece = 4096;  // re-depositors a parallel piece credits
  void request(std::uint32_t i, std::int32_t t);
  // Phase 4, settle (settle.cpp).
  void settle(std::int32_t t);
  void pay(std::size_t in, std::uint32_t i, Money amount, bool done, int asset);
  void announce_realised_losses(std::size_t k, std::int32_t t);
  void final_payouts(std::int32_t t);
  void pay_out_finally(std::size_t k);
  void add_wealth(bool before);
  void update_prices(std::int32_t t);
  // Phase 5, default (defaults.cpp).
  void resolve_defaults(std::int32_t t);
  bool write_down_exposures(std::int32_t t);
  // Phase 6, record (recording.cpp, ledger.cpp), and the tick's bookkeeping.
  void start_tick(std::int32_t t);
  void record(std::int32_t t);
  void record_institutions();
  void check_conservation() const;
  Money money_held() const;  // the right side of the conservation identity (ledger.cpp)
  void end_tick();

  Scenario scenario_;
  Population population_;
  // The network's statistics, and the peers, which hold its transpose: built before the
  // engine's arrays, so the network is gone before they exist.
  DegreeStats network_stats_;
  Peers peers_;
  std::size_t classes_ = 0;
  Portfolio portfolio_;                    // claim currencies
  std::vector<Institution> institutions_;  // scenario order; agents' accounts index it
  std::vector<AgentState> state_;
  ActiveList active_;  // agents that evaluate the rule, in id order
  NewsBoard news_;
  PublicSignals public_signals_;
  Policies policies_;

  std::vector<double> redeposit_rate_, calm_threshold_;  // per class
  bool any_redeposit_ = false;
  bool any_noise_ = false;                   // some agent has sigma_i > 0
  std::vector<std::uint8_t> pending_parts_;  // per agent: parts of its request still unpaid
  Transfers transfers_;                      // payments on their way to destination institutions
  Money self_custody_ = 0;                   // funds withdrawn to self-custody, all agents
  // Per piece of re-depositors: the amounts credited at each institution and the agents
  // whose claim was 0 (credit_redeposits), room for n / kCreditPiece + 1 pieces.
  std::vector<Money> credit_sums_;

  // Per-class results of this tick; the stress of the agents that acted, by class.
  std::vector<ClassTick> class_ticks_;
  ClassStress class_stress_;

  std::vector<InstitutionTick> institution_ticks_;
  std::vector<AssetTick> asset_ticks_;  // all institutions' assets, institution by institution
  std::vector<std::size_t> asset_begin_;

  Snapshots snapshots_;
  HazardProbability hazard_;  // h0 Phi of the hazard rule, tabulated

  std::int32_t tick_ = 0;
  double activity_ = 1.0;  // a(t) of the calendar, this tick
  std::int64_t withdrawn_agents_ = 0, paid_agents_ = 0;
  std::vector<ClassPayoff> payoffs_;  // after a final payout: [2 * class + ran]
  TickRecord record_;
};

}  // namespace bankrun
