// Checkpoints (sim/checkpoint.hpp): a run saved after K ticks and restored into a fresh
// Simulation of the same scenario continues bit-identically (every TickRecord row and
// snapshot, compared as bytes), for 1 and 2 threads; mismatched checkpoints are refused.
#include <doctest/doctest.h>
#include <tbb/global_control.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <functional>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "scenarios/loader.hpp"
#include "sim/checkpoint.hpp"
#include "sim/simulation.hpp"

using namespace bankrun;

namespace {

// Appends the bytes of each value (field by field: no padding bytes are compared).
template <class... T>
void put(std::string& out, const T&... values) {
  (out.append(reinterpret_cast<const char*>(&values), sizeof(values)), ...);
}

// Every field of a tick's record and of its snapshot, as bytes.
std::string tick_bytes(const TickRecord& r, std::span<const SnapshotRow> snapshot) {
  std::string out;
  put(out, r.tick, r.withdrawn_agents, r.new_withdrawals, r.paid_agents, r.acting_agents,
      r.stress_mean, r.news_signal, r.self_custody);
  for (const InstitutionTick& k : r.institutions) {
    put(out, k.deposits, k.requested, k.paid, k.transfers_out, k.inflows, k.transfers_in,
        k.queue_value, k.queue_count, k.oldest_wait_ticks, k.hot, k.cold, k.in_transit);
    put(out, k.illiquid, k.claims_on_institutions, k.write_downs, k.equity, k.injections, k.halted,
        k.insolvent, k.flow_signal, k.queue_signal, k.price_signal);
    for (const AssetTick& a : k.assets)
      put(out, a.price, a.value, a.proceeds, a.loss, a.hot_units, a.cold_units, a.in_transit_units,
          a.illiquid_units, a.liabilities, a.paid, a.paid_units, a.queue_value, a.queue_count,
          a.oldest_wait_ticks);
  }
  for (const ClassTick& c : r.classes)
    put(out, c.withdrawn_agents, c.withdrawn_value, c.acting_agents, c.stress_mean);
  for (const double q : r.class_stress_quantiles) put(out, q);
  for (const SnapshotRow& s : snapshot)
    put(out, s.agent, s.class_id, s.account, s.state, s.claim, s.outside, s.threshold, s.stress);
  return out;
}

// Runs `sim` for at most `ticks` more ticks, appending each tick's bytes to `trace`.
void run_ticks(Simulation& sim, std::int32_t ticks, std::vector<std::string>& trace) {
  for (std::int32_t k = 0; k < ticks && !sim.done(); ++k) {
    const TickRecord& r = sim.step();
    trace.push_back(tick_bytes(r, sim.snapshot()));
  }
}

struct Case {
  Scenario scenario;
  std::string digest;  // the test's digest of the resolved YAML
};

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A shipped or golden scenario at `agents` agents, with a snapshot of 64 agents at every
// tick (set in code: the per-agent state after any restore point is compared too).
Case load_case(const std::string& relative, std::uint32_t agents,
               std::vector<std::string> overrides = {}) {
  const std::string path = std::string(BANKRUN_SOURCE_DIR) + "/" + relative;
  overrides.insert(overrides.end(), {"population.agents=" + std::to_string(agents),
                                     "output.snapshot_ticks=[0]", "output.snapshot_agents=64"});
  LoadedScenario loaded = load_scenario_text(read_text(path), path, overrides);
  std::vector<std::int32_t>& ticks = loaded.scenario.output.snapshot_ticks;
  ticks.resize(static_cast<std::size_t>(loaded.scenario.time.ticks));
  std::iota(ticks.begin(), ticks.end(), 0);
  return {loaded.scenario, std::to_string(std::hash<std::string>{}(loaded.resolved_yaml))};
}

// The run's trace; its state at the end into *end if given.
std::vector<std::string> uninterrupted(const Scenario& scenario, SimulationState* end = nullptr) {
  Simulation sim(scenario);
  std::vector<std::string> trace;
  run_ticks(sim, scenario.time.ticks, trace);
  if (end) *end = sim.save_state("");
  return trace;
}

// Two states hold the same bytes in every item.
void check_same_state(const SimulationState& a, const SimulationState& b) {
  REQUIRE(a.items.size() == b.items.size());
  for (std::size_t j = 0; j < a.items.size(); ++j) {
    INFO("item " << a.items[j].name);
    CHECK(a.items[j].bytes == b.items[j].bytes);
  }
}

// The first tick after one in which some institution was halted (0 if none halted).
std::int32_t tick_inside_halt(const Scenario& scenario) {
  Simulation sim(scenario);
  while (!sim.done()) {
    sim.step();
    for (const Institution& in : sim.institutions())
      if (in.halted()) return in.halt_tick() + 1;
  }
  return 0;
}

// Saves after k ticks, restores into a fresh Simulation, runs to the end.
std::vector<std::string> resumed(const Case& c, std::int32_t k, SimulationState& end) {
  std::vector<std::string> trace;
  Simulation first(c.scenario);
  run_ticks(first, k, trace);
  const SimulationState state = first.save_state(c.digest);
  Simulation second(c.scenario);
  const std::size_t room = second.news_events().capacity();
  second.restore_state(state, c.digest);
  CHECK(second.news_events().capacity() == room);  // the added events fit the room reserved
  // The restored state saves back to the very same items.
  check_same_state(second.save_state(c.digest), state);
  run_ticks(second, c.scenario.time.ticks, trace);
  end = second.save_state("");
  return trace;
}

void check_resume(const std::string& relative, std::uint32_t agents,
                  const std::vector<std::string>& overrides = {}) {
  const Case c = load_case(relative, agents, overrides);
  const std::int32_t ticks = c.scenario.time.ticks;
  const std::int32_t halt = tick_inside_halt(c.scenario);
  std::vector<std::int32_t> ks{0, 1, 3, ticks / 2, ticks - 1, ticks};
  if (halt > 0 && halt < ticks) ks.push_back(halt);
  for (const int threads : {1, 2}) {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
    SimulationState expected_end, end;
    const std::vector<std::string> expected = uninterrupted(c.scenario, &expected_end);
    REQUIRE(expected.size() == static_cast<std::size_t>(ticks));
    for (const std::int32_t k : ks) {
      INFO(relative << ", " << threads << " threads, saved after " << k << " ticks");
      const std::vector<std::string> got = resumed(c, k, end);
      check_same_state(end, expected_end);  // the whole state at the end, too
      REQUIRE(got.size() == expected.size());
      std::size_t first_difference = got.size();
      for (std::size_t t = 0; t < got.size() && first_difference == got.size(); ++t)
        if (got[t] != expected[t]) first_difference = t;
      CHECK_MESSAGE(first_difference == got.size(), "first different tick: " << first_difference);
    }
  }
}

}  // namespace

TEST_CASE("checkpoint: golden queue-and-halt resumes bit-identically") {
  const Case c = load_case("tests/golden/queue-and-halt.yaml", 4000);
  CHECK(tick_inside_halt(c.scenario) > 0);  // the halt case is really exercised
  check_resume("tests/golden/queue-and-halt.yaml", 4000);
}

TEST_CASE("checkpoint: golden reference-small resumes bit-identically") {
  check_resume("tests/golden/reference-small.yaml", 5000);
}

TEST_CASE("checkpoint: ftx-contagion-2022 resumes bit-identically") {
  check_resume("scenarios/ftx-contagion-2022.yaml", 3000);
}

TEST_CASE("checkpoint: the reference scenario resumes bit-identically") {
  check_resume("scenarios/bench/reference.yaml", 5000);
}

TEST_CASE("checkpoint: a checkpoint that does not fit is refused with the item's name") {
  const Case c = load_case("tests/golden/queue-and-halt.yaml", 2000);
  Simulation sim(c.scenario);
  std::vector<std::string> trace;
  run_ticks(sim, 10, trace);
  const SimulationState state = sim.save_state(c.digest);
  const auto refused_item = [&](const SimulationState& s, const std::string& digest) {
    Simulation fresh(c.scenario);
    try {
      fresh.restore_state(s, digest);
    } catch (const CheckpointError& e) {
      return e.item();
    }
    return std::string("(accepted)");
  };
  CHECK(refused_item(state, c.digest) == "(accepted)");
  CHECK(refused_item(state, c.digest + "x") == "scenario_digest");

  const auto index_of = [&](const std::string& name) {
    const auto it = std::find_if(state.items.begin(), state.items.end(),
                                 [&](const StateItem& item) { return item.name == name; });
    REQUIRE(it != state.items.end());
    return static_cast<std::size_t>(it - state.items.begin());
  };
  SimulationState truncated = state;
  truncated.items[index_of("active_list.ids")].bytes.pop_back();
  CHECK(refused_item(truncated, c.digest) == "active_list.ids");

  SimulationState renamed = state;
  renamed.items[index_of("peers.seen")].name = "peers.seen_by";
  CHECK(refused_item(renamed, c.digest) == "peers.seen");

  SimulationState missing = state;
  missing.items.pop_back();
  CHECK(refused_item(missing, c.digest) == state.items.back().name);

  SimulationState extra = state;
  extra.items.push_back(state.items.front());
  CHECK(refused_item(extra, c.digest) == state.items.front().name);

  SimulationState resized = state;
  StateItem& stress = resized.items[index_of("population.stress")];
  stress.count -= 1;
  stress.bytes.resize(stress.bytes.size() - sizeof(double));
  CHECK(refused_item(resized, c.digest) == "population.stress");

  SimulationState other_version = state;
  other_version.format_version += 1;
  CHECK(refused_item(other_version, c.digest) == "format_version");

  // The same digest but another population size: the counts do not fit.
  const Case bigger = load_case("tests/golden/queue-and-halt.yaml", 2001);
  Simulation other(bigger.scenario);
  CHECK_THROWS_AS(other.restore_state(state, c.digest), CheckpointError);
}

namespace {

// Every policy kind on the golden queue-and-halt bank: insurance and a gate in force, a
// loan and a proof of reserves (news the run adds).
const std::vector<std::string> kPolicies{
    "institutions[0].policies=[{kind: deposit_insurance, when: {at_tick: 8}, coverage_usd: "
    "5000, insured_stress_factor: 0.3}, {kind: gate, when: {withdrawn_fraction_at_least: "
    "0.05}, fraction_per_day: 0.2}, {kind: lender_of_last_resort, when: {hot_ratio_below: "
    "0.1}, amount_usd: 1.0e7}, {kind: proof_of_reserves, when: {at_tick: 12}, magnitude: "
    "-0.2, decay_ticks: 6}]"};

TEST_CASE("checkpoint: every policy kind resumes bit-identically") {
  check_resume("tests/golden/queue-and-halt.yaml", 4000, kPolicies);
}

// The items whose loss changes a run saved after k ticks: a lost item is restored as the
// constructor built it (a run that is refused or breaks a ledger identity counts too).
std::vector<std::string> items_that_matter(const Case& c, std::int32_t k) {
  const std::vector<std::string> expected = uninterrupted(c.scenario);
  std::vector<std::string> head;
  Simulation first(c.scenario);
  run_ticks(first, k, head);
  const SimulationState saved = first.save_state(c.digest);
  const SimulationState initial = Simulation(c.scenario).save_state(c.digest);
  std::vector<std::string> matter;
  for (std::size_t j = 0; j < saved.items.size(); ++j) {
    SimulationState lost = saved;
    lost.items[j] = initial.items[j];
    Simulation second(c.scenario);
    std::vector<std::string> trace = head;
    try {
      second.restore_state(lost, c.digest);
      run_ticks(second, c.scenario.time.ticks, trace);
    } catch (const std::exception&) {
      trace.clear();
    }
    if (trace != expected) matter.push_back(saved.items[j].name);
  }
  return matter;
}

void check_matter(const std::vector<std::string>& matter, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    INFO("item " << name);
    CHECK(std::find(matter.begin(), matter.end(), name) != matter.end());
  }
}

}  // namespace

TEST_CASE("checkpoint: losing one mechanism's item changes the resumed run") {
  const Case ftx = load_case("scenarios/ftx-contagion-2022.yaml", 3000);
  check_matter(items_that_matter(ftx, tick_inside_halt(ftx.scenario)),
               {"tick",
                "withdrawn_agents",
                "paid_agents",
                "self_custody",
                "agent_state",
                "class_ticks",
                "population.account",
                "population.destination",
                "population.claim",
                "population.stress",
                "population.decided_at",
                "institution.0.cash_queue.ring",
                "institution.0.asset.1.factor",
                "institution.0.asset.0.market",
                "institution.0.halt_tick",
                "institution.1.cash.arrivals",
                "institution.1.exposure_default_tick",
                "institution.2.asset.0.liabilities_credited",
                "active_list.ids",
                "news.added_events",
                "public_signals.flow_out",
                "peers.log",
                "peers.seen",
                "snapshots.next"});
  const Case policies = load_case("tests/golden/queue-and-halt.yaml", 4000, kPolicies);
  check_matter(items_that_matter(policies, 20),
               {"policies.fired", "policies.state", "policies.any_insurance", "policies.any_gate",
                "policies.last_request", "news.added_labels"});
}
