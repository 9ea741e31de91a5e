#pragma once
// What one tick leaves behind, and the interface through which it leaves the engine.
// The engine never sees a file format: output/ implements Recorder.
#include <cstdint>
#include <span>

#include "agents/money.hpp"

namespace bankrun {

// One investor class at the end of a tick.
struct ClassTick {
  std::int64_t withdrawn_agents = 0;  // agents of the class that have decided, cumulative
  Money withdrawn_value = 0;          // paid out to the class's agents, cumulative (cents)
  std::int64_t acting_agents = 0;     // agents of the class that evaluated the rule
  double stress_mean = 0.0;           // mean S_i over them (0 if none)
};

// One asset of an institution at the end of a tick. Units are base units (1e-8 of the
// asset).
struct AssetTick {
  double price = 0.0;  // USD per unit
  Money value = 0;     // holding (every tier) at that price, cents
  Money proceeds = 0;  // fire-sale proceeds this tick, cents
  Money loss = 0;      // realised loss of this tick's sales (carrying value - proceeds), cents
  std::int64_t hot_units = 0, cold_units = 0, in_transit_units = 0, illiquid_units = 0;
  // Customers' claims held in this asset (by value) and their withdrawals in it.
  Money liabilities = 0;  // claims in this asset outstanding, cents of value
  Money paid = 0;         // value paid out in kind this tick, cents
  std::int64_t paid_units = 0;
  Money queue_value = 0;  // unpaid requests in this asset
  std::int64_t queue_count = 0;
  std::int32_t oldest_wait_ticks = 0;
};

// One institution at the end of a tick (cents unless noted). Customer quantities
// (deposits, requests, payments, queue) cover every claim currency: the USD part is the
// total minus the assets' parts (AssetTick).
struct InstitutionTick {
  Money deposits = 0;       // customers' claims outstanding at the end of the tick
  Money requested = 0;      // value of withdrawal requests submitted this tick
  Money paid = 0;           // value paid out this tick (in USD and in kind)
  Money transfers_out = 0;  // of `paid`: the part sent on to other institutions (destinations)
  Money inflows = 0;        // value re-deposited this tick (calm re-deposits)
  Money transfers_in = 0;   // value arriving from other institutions' payments this tick
  Money queue_value = 0;    // unpaid requests at the end of the tick (every queue)
  std::int64_t queue_count = 0;
  std::int32_t oldest_wait_ticks = 0;  // the longest wait over its queues
  Money hot = 0;                       // hot reserves at the end of the tick
  Money cold = 0;                      // cold reserves at the end of the tick
  Money in_transit = 0;                // cold funds on their way to hot
  Money illiquid = 0;                  // illiquid assets (at par)
  Money claims_on_institutions = 0;    // exposures to other institutions, after write-downs
  Money write_downs = 0;               // exposures written down this tick
  Money equity = 0;                    // assets - deposits - loans - debts to other institutions
  Money injections = 0;                // lender-of-last-resort injections this tick
  Money capital_raised = 0;            // new equity raised this tick (capital_raise)
  Money equity_at_market = 0;          // equity with every asset at market
  Money unrealised_loss = 0;           // book - market of securities held to maturity
  Money liquidation_proceeds = 0;      // illiquid book sold early this tick: what it raised
  // The final date (last tick, final_payout): what the illiquid book matured to, the
  // surplus paid on top of claims and the claims written off; 0 on other ticks.
  Money matured = 0, final_surplus = 0, written_off = 0;
  bool halted = false;
  bool insolvent = false;
  bool open = true;  // in opening hours this tick (InstitutionSpec::opening_hours)
  // Public signals its depositors saw this tick.
  double flow_signal = 0.0;   // G(t-1)
  double queue_signal = 0.0;  // Q(t-1), days
  double price_signal = 0.0;  // X(t-1): the own token's drawdown
  // Per asset of the institution, in liquidation order (valid until the next tick).
  std::span<const AssetTick> assets;
};

struct TickRecord {
  std::int32_t tick = 0;
  // Population.
  std::int64_t withdrawn_agents = 0;  // agents that have decided to withdraw, cumulative
  std::int64_t new_withdrawals = 0;   // agents that decided for the first time this tick
  std::int64_t paid_agents = 0;       // agents whose claim is fully paid out (claim 0)
  std::int64_t acting_agents = 0;     // agents that evaluated the decision rule this tick
  double stress_mean = 0.0;           // mean S_i over the acting agents (0 if none)
  double news_signal = 0.0;  // sum of A_j exp(-(t-t_j)/tau_j) over active events (any target)
  double activity = 1.0;     // a(t): the calendar's chance for an agent to act this tick
  Money self_custody = 0;    // funds withdrawn to self-custody (outside every institution), cents
  // Per institution, in scenario order (valid until the next tick).
  std::span<const InstitutionTick> institutions;
  // Per class (valid until the next tick): one entry per class, and the stress quantiles
  // of the acting agents of each class, [class * quantiles + q] (NaN if none acted).
  std::span<const ClassTick> classes;
  std::span<const double> class_stress_quantiles;
};

// The state of one agent, as recorded in snapshots.
enum class AgentState : std::uint8_t {
  kHolding = 0,  // holds a claim (or funds outside) and evaluates the rule every tick
  kWaiting = 1,  // decided; its request waits out its reaction lag
  kPending = 2,  // its request is in the institution's queue
  kLeft = 3,     // nothing left to withdraw and nothing to re-deposit: no longer acts
};

struct SnapshotRow {
  std::uint32_t agent = 0;
  std::uint8_t class_id = 0;
  std::uint8_t account = 0;  // institution index
  AgentState state = AgentState::kHolding;
  Money claim = 0;    // cents
  Money outside = 0;  // cents withdrawn and held outside
  double threshold = 0.0;
  double stress = 0.0;
};

class Recorder {
 public:
  virtual ~Recorder() = default;
  virtual void record(const TickRecord& r) = 0;
  // Per-agent sample at the end of `tick` (only at the scenario's snapshot ticks).
  virtual void snapshot(std::int32_t /*tick*/, std::span<const SnapshotRow> /*rows*/) {}
};

}  // namespace bankrun
