// The memory a run needs, from the element sizes of what it allocates (see the files named
// beside each term), and the memory the process may use (Linux: /proc/meminfo, cgroups).
// From 1e6 agents on, the estimate is 0.78 to 0.97 of the measured peak resident size
// (tests/unit/test_memory.cpp lists the measurements); the process's fixed ~22 MiB
// (libraries, thread stacks, HDF5) is left out (without it: 0.97 to 1.03). It only has to
// tell a run that fits from one that cannot, long before the run allocates.
#include "memory.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <utility>

#include "active_list.hpp"
#include "institution.hpp"
#include "news.hpp"
#include "record.hpp"

namespace bankrun {
namespace {

template <typename Vector>
constexpr double element_bytes(const Vector&) {
  return static_cast<double>(sizeof(typename Vector::value_type));
}

bool all_constant(const Scenario& s, const Distribution InvestorClass::*field) {
  return std::all_of(
      s.population.classes.begin(), s.population.classes.end(),
      [&](const InvestorClass& c) { return (c.*field).kind == Distribution::Kind::kConstant; });
}

// Some class sends withdrawn funds to another institution (agents/population.cpp).
bool any_destination(const Scenario& s) {
  for (const InvestorClass& c : s.population.classes)
    for (std::size_t k = 1; k < c.destination_shares.size(); ++k)
      if (c.destination_shares[k] > 0.0) return true;
  return false;
}

// Population (agents/population.hpp): every per-agent array, from its element type, during
// the run. attention, withdraw_fraction, noise_sd and reaction_lag are per class when every
// class's is a constant; moved only when funds can go to another institution; the initial claims
// are freed once the population is drawn unless the peers are balance-weighted
// (simulation.cpp).
double population_bytes_per_agent(const Scenario& s) {
  const Population p;
  double bytes = element_bytes(p.threshold) + element_bytes(p.class_id) +
                 element_bytes(p.destination) + element_bytes(p.account) + element_bytes(p.claim) +
                 element_bytes(p.outside) + element_bytes(p.stress) + element_bytes(p.decided_at);
  if (!all_constant(s, &InvestorClass::attention)) bytes += element_bytes(p.attention);
  if (!all_constant(s, &InvestorClass::noise_sd)) bytes += element_bytes(p.noise_sd);
  if (!all_constant(s, &InvestorClass::withdraw_fraction))
    bytes += element_bytes(p.withdraw_fraction);
  if (!all_constant(s, &InvestorClass::reaction_lag_ticks)) bytes += element_bytes(p.reaction_lag);
  if (any_destination(s)) bytes += element_bytes(p.moved);
  if (s.stress.peer_balance_weighted) bytes += element_bytes(p.initial_claim);
  return bytes;
}

// What the population holds only while it is drawn: the initial claims, when the run frees
// them (simulation.cpp, before the network is built).
double population_setup_bytes(const Scenario& s) {
  if (s.stress.peer_balance_weighted) return 0.0;
  return s.population.agents * static_cast<double>(sizeof(Money));
}

// create_population's temporaries: the drawn balances (double), and for a class with a
// threshold-balance rank correlation one (double, id) key per agent of the class.
double population_temporaries(const Scenario& s) {
  const double n = s.population.agents;
  double keys = 0.0;
  if (!s.population.classes.empty()) {
    const auto counts = class_counts(s.population);
    for (std::size_t c = 0; c < counts.size(); ++c)
      if (s.population.classes[c].threshold_balance_rank_correlation != 0.0)
        keys = std::max(keys,
                        counts[c] * static_cast<double>(sizeof(std::pair<double, std::uint32_t>)));
  }
  return n * sizeof(double) + keys;
}

// Queues (institution.*): each institution has a cash queue and one queue per asset its
// customers hold claims in, each with room for every agent whose account or destination it
// is. With one institution that is every agent once per queue; with several, an agent can
// also sit in its destination's queues.
double queue_entries(const Scenario& s) {
  std::size_t most_queues = 1;
  for (const InstitutionSpec& in : s.institutions) {
    std::size_t queues = 1;
    for (const AssetSpec& a : in.assets)
      queues += std::find(s.currencies.begin(), s.currencies.end(), a.name) != s.currencies.end();
    most_queues = std::max(most_queues, queues);
  }
  const double holders = s.institutions.size() > 1 ? 2.0 : 1.0;
  return holders * static_cast<double>(most_queues) * s.population.agents;
}

bool has_gate(const Scenario& s) {
  for (const InstitutionSpec& in : s.institutions)
    for (const PolicySpec& p : in.policies)
      if (p.kind == PolicySpec::Kind::kGate) return true;
  return false;
}

// Agents that may wait out a reaction lag: those of the classes whose lag is not a
// constant 0 (the active list's waiting list has room for each).
double lagged_agents(const Scenario& s) {
  if (s.population.classes.empty()) return 0.0;
  const auto counts = class_counts(s.population);
  double lagged = 0.0;
  for (std::size_t c = 0; c < counts.size(); ++c) {
    const Distribution& lag = s.population.classes[c].reaction_lag_ticks;
    if (lag.kind != Distribution::Kind::kConstant || lag.value >= 0.5) lagged += counts[c];
  }
  return lagged;
}

// The news board's pool of reach bits (news.hpp): one bit per agent for each event that can
// be live at once. Counting the slots draws the news process; past 1e5 expected draws the
// pool's largest size stands in for it (the estimate must not allocate what it checks).
double reach_bits_bytes(const Scenario& s) {
  const NewsProcessSpec& p = s.news_process;
  const double window = std::max(0, std::min(p.end_tick, s.time.ticks) - p.start_tick);
  const std::size_t slots =
      p.rate_per_tick * window <= 1e5 ? NewsBoard::reach_slots(s) : NewsBoard::kMaxReachSlots;
  return static_cast<double>(slots) * std::ceil(s.population.agents / 64.0) * 8.0;
}

// The engine's per-agent arrays: Simulation's state and pending parts (simulation.hpp), the
// active list's three id arrays, a fourth when agents can re-deposit, and its waiting list
// (active_list.hpp), the peers' decision log and bitset (signals.hpp), the gates' last
// request ticks (policies.hpp), the stress quantiles' work array (class_stress.hpp), the
// queues' ring buffers and the news reach bits.
double engine_bytes(const Scenario& s) {
  const double n = s.population.agents;
  constexpr double id = sizeof(std::uint32_t);
  double per_agent = sizeof(AgentState) + sizeof(std::uint8_t);
  per_agent += (any_class_redeposits(s.population) ? 4 : 3) * id;
  per_agent += id + 1.0 / 8.0;
  if (has_gate(s)) per_agent += sizeof(std::int32_t);
  if (!s.output.stress_quantiles.empty()) per_agent += sizeof(double);
  const double waiting = lagged_agents(s) * sizeof(std::pair<std::int32_t, std::uint32_t>);
  return n * per_agent + waiting + queue_entries(s) * sizeof(WithdrawalRequest) +
         reach_bits_bytes(s);
}

// Stochastic block model: edge {i, j} of classes a <= b with probability p[a][b] (per pair
// of agents: agent_network).
double block_entries(const Scenario& s) {
  const auto prob = agent_network(s).block_probability;
  if (s.population.classes.empty()) return 0.0;
  const auto counts = class_counts(s.population);
  double edges = 0.0;
  for (std::size_t a = 0; a < counts.size() && a < prob.size(); ++a)
    for (std::size_t b = a; b < counts.size() && b < prob[a].size(); ++b) {
      const double na = counts[a], nb = counts[b];
      edges += std::clamp(prob[a][b], 0.0, 1.0) * (a == b ? na * (na - 1.0) / 2.0 : na * nb);
    }
  return 2.0 * edges;
}

// Expected adjacency entries of the network (each undirected edge counts twice).
double expected_entries(const Scenario& s) {
  const NetworkSpec& net = s.network;
  const double n = s.population.agents;
  if (n < 2) return 0.0;
  switch (net.kind) {
    case NetworkSpec::Kind::kNone:
    case NetworkSpec::Kind::kComplete:
      return 0.0;
    case NetworkSpec::Kind::kKOut:
    case NetworkSpec::Kind::kWattsStrogatz:
      return n * net.k;
    case NetworkSpec::Kind::kErdosRenyi:
      return n * std::clamp(net.mean_degree, 0.0, n - 1.0);
    case NetworkSpec::Kind::kBarabasiAlbert: {
      const double n0 = std::min(n, net.m + 1.0);
      return 2.0 * (n0 * (n0 - 1.0) / 2.0 + (n - n0) * net.m);
    }
    case NetworkSpec::Kind::kConfiguration: {
      const Distribution& d = net.degree;
      double mean = d.unclipped_mean();
      if (!std::isfinite(mean)) mean = n - 1.0;
      return n * std::clamp(std::clamp(mean, d.clip_min, d.clip_max), 0.0, n - 1.0);
    }
    case NetworkSpec::Kind::kStochasticBlock:
      return block_entries(s);
    case NetworkSpec::Kind::kEdgeList:
      return static_cast<double>(net.edges.size()) * (net.directed ? 1.0 : 2.0);
  }
  return 0.0;
}

// The network (agents/network.cpp): the CSR (offsets, 8 B a node plus one, except for the
// regular networks, k_out and none, whose offsets are implied; neighbours, 4 B an entry)
// and what its generator holds beside it at its peak. Then what the peers keep for the
// whole run (signals.hpp): the transpose (4 B an entry, offsets of 4 B a node plus one, 8 B
// from 2^32 entries on), the per-agent count of seen slots (4 B; balance-weighted: the
// seen and all neighbours' claims, 16 B), and each agent's degree (4 B) where degrees
// differ (every type but k_out); nothing without a peer term or on the complete graph.
struct NetworkBytes {
  double csr = 0.0, generation = 0.0;  // generation: the CSR plus the temporaries
  // What the peers keep: the transpose (allocated beside the network) and the per-agent
  // counts (allocated once the network is freed).
  double transpose = 0.0, counts = 0.0;
};

bool keeps_watchers(const Scenario& s, double entries) {
  return s.stress.peer_weight != 0.0 && entries > 0.0 &&
         s.network.kind != NetworkSpec::Kind::kComplete;
}

// The seen-slot counts (or the seen claims).
double count_bytes(const Scenario& s, double entries) {
  if (!keeps_watchers(s, entries)) return 0.0;
  return s.population.agents *
         (s.stress.peer_balance_weighted ? sizeof(Money) : sizeof(std::uint32_t));
}

double transpose_bytes(const Scenario& s, double entries) {
  const double n = s.population.agents;
  if (!keeps_watchers(s, entries)) return 0.0;
  const double offset = entries < 4294967296.0 ? 4.0 : 8.0;
  double bytes = entries * sizeof(std::uint32_t) + (n + 1.0) * offset;
  if (s.stress.peer_balance_weighted) bytes += n * sizeof(Money);  // all neighbours' claims
  if (s.network.kind != NetworkSpec::Kind::kKOut) bytes += n * sizeof(std::uint32_t);
  return bytes;
}

NetworkBytes network_bytes(const Scenario& s) {
  const double n = s.population.agents, entries = expected_entries(s);
  constexpr double offset = sizeof(std::uint64_t), id = sizeof(std::uint32_t);
  NetworkBytes b;
  b.transpose = transpose_bytes(s, entries);
  b.counts = count_bytes(s, entries);
  const bool regular = s.network.kind == NetworkSpec::Kind::kKOut ||
                       s.network.kind == NetworkSpec::Kind::kNone ||
                       s.network.kind == NetworkSpec::Kind::kComplete;
  b.csr = (regular ? 0.0 : (n + 1.0) * offset) + entries * id;
  double temporaries = 0.0;
  switch (s.network.kind) {
    case NetworkSpec::Kind::kErdosRenyi:
    case NetworkSpec::Kind::kWattsStrogatz:
    case NetworkSpec::Kind::kStochasticBlock:
      temporaries = n * id;  // build_symmetric's degree counts, then its cursors
      break;
    case NetworkSpec::Kind::kBarabasiAlbert:  // the new edges' targets, then build_symmetric
      temporaries = n * id + (entries / 2.0) * id;
      break;
    case NetworkSpec::Kind::kConfiguration:  // the stub order and the cursors
      temporaries = entries * id + n * id;
      break;
    case NetworkSpec::Kind::kEdgeList:  // the cursors; the scenario's edges (the loaded
      // scenario and the engine's copy) stay for the whole run
      temporaries = n * offset;
      b.csr += 2.0 * static_cast<double>(s.network.edges.size()) *
               sizeof(std::pair<std::uint32_t, std::uint32_t>);
      break;
    default:
      break;
  }
  b.generation = b.csr + temporaries;
  return b;
}

// News events (news.cpp): the scenario's, those a run can add (one per exposure and
// policy at most), and the news process's expected draws, which are pushed one by one: a
// growing vector holds up to three times its size when it moves (old and new buffers), and
// the stable sort after it takes a buffer of the same size.
double news_bytes(const Scenario& s) {
  const NewsProcessSpec& p = s.news_process;
  const double window = std::max(0, std::min(p.end_tick, s.time.ticks) - p.start_tick);
  const double drawn = p.rate_per_tick * window;
  double events = static_cast<double>(s.news.size()) + drawn;
  for (const InstitutionSpec& in : s.institutions)
    events += static_cast<double>(in.exposures.size() + in.policies.size());
  return events * (sizeof(NewsEvent) + sizeof(double) + sizeof(std::uint32_t)) +
         2.0 * drawn * sizeof(NewsEvent);
}

// What does not grow with the agents: news events with their values and live list
// (news.hpp), the snapshot rows (snapshots.hpp), the flow rings (signals.hpp: W + 1 ticks
// per institution), the peers' log ends (L + 2), the cold-to-hot arrival rings (delay + 1
// per institution and asset), the per-block sums of the decide phase (class_stress.hpp)
// and the tick's per-institution, per-class and per-asset records (record.hpp).
double other_bytes(const Scenario& s) {
  const double n = s.population.agents, institutions = s.institutions.size();
  const double classes = s.population.classes.size();
  double bytes = news_bytes(s);
  if (!s.output.snapshot_ticks.empty())
    bytes += std::min<double>(s.output.snapshot_agents, n) * sizeof(SnapshotRow);
  bytes += institutions * (s.stress.flow_window_ticks + 1.0) * 2.0 * sizeof(Money);
  bytes += (s.stress.peer_lag_ticks + 2.0) * sizeof(std::uint64_t);
  for (const InstitutionSpec& in : s.institutions) {
    bytes += (in.cold_delay_ticks + 1.0) * sizeof(std::int64_t) + sizeof(InstitutionTick);
    for (const AssetSpec& a : in.assets)
      bytes += (a.cold_delay_ticks + 1.0) * sizeof(std::int64_t) + sizeof(AssetTick);
  }
  const double blocks = std::ceil(n / ActiveList::kBlock) + 2.0;
  bytes += blocks * classes * (sizeof(double) + sizeof(std::uint32_t));
  if (!s.output.stress_quantiles.empty()) bytes += blocks * classes * sizeof(std::uint64_t);
  return bytes + classes * sizeof(ClassTick);
}

// Saturates: an absurd scenario's estimate may exceed 2^64.
std::uint64_t to_bytes(double x) {
  if (!(x > 0.0)) return 0;
  if (x >= 1.8e19) return std::numeric_limits<std::uint64_t>::max();
  return static_cast<std::uint64_t>(std::ceil(x));
}

}  // namespace

// The phases: drawing the population (with the initial claims and its temporaries);
// generating the network; transposing it into the peers while it is still held (the
// peers' counts are allocated once it is gone); the run.
MemoryEstimate estimate_memory(const Scenario& s) {
  const double population = s.population.agents * population_bytes_per_agent(s);
  const double setup = population + population_setup_bytes(s);
  const NetworkBytes net = network_bytes(s);
  const double engine = engine_bytes(s), other = other_bytes(s);
  const double peak = std::max({setup + population_temporaries(s), population + net.generation,
                                population + net.csr + net.transpose,
                                population + net.transpose + net.counts + engine + other});
  MemoryEstimate e;
  e.agents = s.population.agents;
  e.agent_state = to_bytes(population + engine);
  e.network = to_bytes(std::max(net.generation, net.csr + net.transpose));
  e.other = to_bytes(other);
  e.peak = to_bytes(peak);
  return e;
}

namespace {

// The first number in a file ("max" or an unreadable file: nullopt).
std::optional<std::uint64_t> read_number(const std::string& path) {
  std::ifstream in(path);
  std::uint64_t value = 0;
  if (in >> value) return value;
  return std::nullopt;
}

// MemAvailable from /proc/meminfo, in bytes.
std::optional<std::uint64_t> meminfo_available() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::uint64_t kib = 0;
  std::string unit;
  while (in >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024;
  return std::nullopt;
}

// The memory limit of this process's cgroup: v2 memory.max, or v1 memory.limit_in_bytes
// (v1 writes "no limit" as a number near 2^63). Looked up under the path /proc/self/cgroup
// gives, then at the mount's root (a container sees its own cgroup there).
std::optional<std::uint64_t> cgroup_limit() {
  constexpr std::uint64_t kUnlimited = std::uint64_t{1} << 62;
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  std::optional<std::uint64_t> limit;
  const auto consider = [&](const std::string& file) {
    const auto value = read_number(file);
    if (value && *value < kUnlimited) limit = std::min(limit.value_or(*value), *value);
  };
  while (std::getline(in, line)) {
    const auto first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    if (controllers.empty()) {
      consider("/sys/fs/cgroup" + path + "/memory.max");
      consider("/sys/fs/cgroup/memory.max");
    } else if (controllers.find("memory") != std::string::npos) {
      consider("/sys/fs/cgroup/memory" + path + "/memory.limit_in_bytes");
      consider("/sys/fs/cgroup/memory/memory.limit_in_bytes");
    }
  }
  return limit;
}

// 4000000000 -> "4,000,000,000".
std::string with_thousands(std::uint64_t value) {
  std::string digits = std::to_string(value);
  for (auto k = static_cast<std::ptrdiff_t>(digits.size()) - 3; k > 0; k -= 3)
    digits.insert(static_cast<std::size_t>(k), ",");
  return digits;
}

}  // namespace

std::optional<std::uint64_t> available_memory() {
  if (const char* set = std::getenv("BANKRUN_MEMORY_LIMIT_BYTES"); set && *set) {
    char* end = nullptr;
    const unsigned long long bytes = std::strtoull(set, &end, 10);
    if (*end != '\0' || *set == '-')
      throw ResourceError("BANKRUN_MEMORY_LIMIT_BYTES: expected a number of bytes, got '" +
                          std::string(set) + "'");
    return bytes;
  }
  const auto available = meminfo_available(), limit = cgroup_limit();
  if (available && limit) return std::min(*available, *limit);
  return available ? available : limit;
}

std::string format_bytes(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < std::size(kUnits)) value /= 1024.0, ++unit;
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(1);
  out << value << ' ' << kUnits[unit];
  return out.str();
}

void check_memory(const MemoryEstimate& e, std::uint64_t available) {
  if (e.peak <= available) return;
  // News and per-tick buffers are named only when they are a real part of the need (a
  // news process drawing millions of events over millions of ticks).
  const bool other_counts = e.other >= e.peak / 10;
  throw ResourceError(
      "the scenario needs about " + format_bytes(e.peak) + " (" + with_thousands(e.agents) +
      " agents: " + format_bytes(e.agent_state) + " of agent state, " + format_bytes(e.network) +
      " of network" +
      (other_counts ? ", " + format_bytes(e.other) + " of news and per-tick buffers" : "") +
      "), more than the " + format_bytes(available) +
      " available; lower population.agents or network degree" +
      (other_counts ? ", or news_process.rate_per_tick or time.ticks" : ""));
}

Scenario require_memory(Scenario scenario) {
  if (const auto available = available_memory())
    check_memory(estimate_memory(scenario), *available);
  return scenario;
}

}  // namespace bankrun
