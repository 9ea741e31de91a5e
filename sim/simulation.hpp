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
// Where each mechanism lives: observe, decide, submit, settle in simulation.cpp; policies
// (fire at the start of a tick, armed at its end) in policies.cpp; phase 5 in defaults.cpp;
// phase 6 in recording.cpp; every ledger identity in ledger.cpp.
//
// Work per tick is proportional to the agents that can still act plus the requests
// moved; nothing is allocated after construction.
#include <cstdint>
#include <span>
#include <vector>

#include "active_list.hpp"
#include "agents/network.hpp"
#include "agents/population.hpp"
#include "institution.hpp"
#include "news.hpp"
#include "record.hpp"
#include "scenario.hpp"

namespace bankrun {

class Simulation {
 public:
  explicit Simulation(Scenario scenario);

  // Runs one tick and returns its record (valid until the next call).
  const TickRecord& step();
  bool done() const { return tick_ >= scenario_.time.ticks; }

  // After step(): the per-agent sample if the tick just run is a snapshot tick, else empty.
  std::span<const SnapshotRow> snapshot() const { return snapshot_view_; }

  // The scenario as given.
  const Scenario& scenario() const { return scenario_; }
  // The news events as run: the scenario's, those drawn by the news process (sorted by tick
  // together), then those the run added (proofs of reserves, write-downs), in order.
  const std::vector<NewsEvent>& news_events() const { return news_.events(); }
  const Population& population() const { return population_; }
  const Network& network() const { return network_; }
  const std::vector<Institution>& institutions() const { return institutions_; }
  // Tick at which policy k of institution `in` fired, or kForever.
  std::int32_t policy_fired_tick(std::size_t in, std::size_t k) const {
    return policy_fired_[policy_begin_[in] + k];
  }

  // Full O(N) audit of the ledger against the per-agent state; throws LedgerError.
  void audit() const;

 private:
  enum class Outcome : std::uint8_t { kStay, kWithdraw, kRedeposit };

  void build_institutions();
  void prepare_policies(std::uint32_t n);
  void apply_policies(std::int32_t t);
  void fire_policy(std::size_t in, const PolicySpec& policy, std::int32_t t);
  void arm_policies();
  double insured_stress_scale(std::uint32_t i) const;
  void observe(std::int32_t t);
  double flow_signal(std::size_t in) const;
  double queue_signal(std::size_t in) const;
  void reveal_peers(std::int32_t t);
  void decide(std::int32_t t);
  void gather_stress_quantiles(std::uint32_t nblocks);
  void submit(std::int32_t t);
  void credit_redeposits();
  void request(std::uint32_t i, std::int32_t t);
  void settle(std::int32_t t);
  void pay(std::size_t in, std::uint32_t i, Money amount, bool done, int asset);
  void map_currencies();
  // Splits `amount` by class c's portfolio: parts[k] for currency k (parts[0] = USD takes
  // the rounding remainder). Returns whether any part is not USD.
  bool split(Money amount, std::uint8_t c, Money* parts) const;
  std::int32_t asset_of(std::size_t in, std::size_t currency) const {
    return currency_asset_[in * currencies_ + currency];
  }
  void resolve_defaults(std::int32_t t);
  bool write_down_exposures(std::int32_t t);
  void start_tick(std::int32_t t);
  void update_prices(std::int32_t t);
  void record(std::int32_t t);
  void record_institutions();
  void check_conservation() const;
  void end_tick();
  void remember_flow();
  void take_snapshot(std::int32_t t);

  Outcome decide_agent(std::uint32_t i, std::int32_t t, double public_term, double& stress);
  double peer_fraction(std::uint32_t i) const;
  double peer_fraction_other(std::uint32_t i) const;
  bool peer_seen(std::uint32_t j) const { return (peers_seen_[j >> 6] >> (j & 63)) & 1u; }
  bool can_redeposit(std::uint32_t i) const {
    return redeposit_rate_[population_.class_id[i]] > 0.0;
  }

  Scenario scenario_;
  Population population_;
  Network network_;
  std::vector<Institution> institutions_;  // scenario order; agents' accounts index it
  // Claim currencies (0 = USD): each class's normalised portfolio [class * currencies_ + k],
  // whether it holds anything but USD, and institution k's asset index of each currency
  // ([k * currencies_ + c]; -1 for USD or where it holds none); and back, the currency of
  // each asset of each institution (0 if customers hold no claims in it).
  std::size_t currencies_ = 1;
  std::vector<double> portfolio_;
  std::vector<char> in_kind_class_;
  std::vector<std::int32_t> currency_asset_;
  std::vector<std::vector<std::size_t>> asset_currency_;
  std::vector<std::uint8_t> pending_parts_;  // per agent: parts of its request still unpaid
  std::vector<Money> transfer_liabilities_;  // [destination * currencies_ + c] this tick
  std::size_t classes_ = 0;
  std::vector<double> redeposit_rate_;  // per class
  bool any_redeposit_ = false;

  // Agent state and the active list (agents that evaluate the rule, in id order).
  std::vector<AgentState> state_;
  ActiveList active_;

  std::vector<double> block_class_stress_;  // [block * classes + class]
  std::vector<std::uint32_t> block_class_acting_;

  NewsBoard news_;

  // Peers: every first decision in order (agent ids), the log's size at the end of each of
  // the last L+2 ticks, and the bitset of agents whose decision their peers see this tick.
  std::vector<std::uint32_t> decision_log_;
  std::uint64_t decision_log_size_ = 0;
  std::vector<std::uint64_t> log_end_;
  std::vector<std::uint64_t> peers_seen_;
  enum class PeerMode { kCounted, kOther };  // kOther: weighted or complete graph
  PeerMode peer_mode_ = PeerMode::kCounted;
  std::uint64_t seen_count_ = 0;  // complete graph: agents seen
  double seen_weight_ = 0.0;      // complete graph: their initial claims
  double total_weight_ = 0.0;     // complete graph: all initial claims

  // Per institution: b_flow G + b_queue Q + b_price X of this tick (the same for all its
  // depositors), and rings of (net outflow, deposits) at the end of the last W+1 ticks for
  // the flow window, [institution * (W + 1) + slot].
  std::vector<double> public_stress_;  // [institution * classes + class]
  bool uniform_public_ = false;        // one institution, USD-only claims: one value
  std::vector<Money> flow_out_, flow_deposits_;
  std::size_t flow_ring_ = 1;
  // Payments of this tick on their way to destination institutions (arrive after settling).
  std::vector<Money> transfers_pending_;
  Money self_custody_ = 0;  // funds withdrawn to self-custody, all agents

  // Per-class results of this tick and the stress quantile workspace.
  std::vector<ClassTick> class_ticks_;
  std::vector<double> class_quantiles_;         // [class * quantiles + q]
  std::vector<double> quantile_work_;           // stress of the acting agents, grouped by class
  std::vector<std::uint64_t> quantile_offset_;  // [class * (blocks + 1) + block]

  // Policies of all institutions, flat (institution k's are [policy_begin_[k],
  // policy_begin_[k+1])): the tick each fired (kForever: not yet), whether its end-of-tick
  // conditions held at the end of the last tick; and per institution the state the fired
  // ones put in force.
  std::vector<std::size_t> policy_begin_;
  std::vector<std::int32_t> policy_fired_;
  std::vector<char> policy_armed_;
  struct PolicyState {
    bool insurance = false, gate = false;
    Money coverage = 0;
    double insured_stress_factor = 1.0, gate_fraction = 1.0;
  };
  std::vector<PolicyState> policy_state_;
  bool any_insurance_ = false, any_gate_ = false;
  std::int32_t ticks_per_day_ = 24;
  std::vector<std::int32_t> last_request_;  // tick of each agent's last request (gates)

  std::vector<InstitutionTick> institution_ticks_;
  std::vector<AssetTick> asset_ticks_;  // all institutions' assets, institution by institution
  std::vector<std::size_t> asset_begin_;

  std::vector<SnapshotRow> snapshot_rows_;
  std::span<const SnapshotRow> snapshot_view_;
  std::size_t next_snapshot_ = 0;

  std::int32_t tick_ = 0;
  std::int64_t withdrawn_agents_ = 0, paid_agents_ = 0;
  TickRecord record_;
};

}  // namespace bankrun
