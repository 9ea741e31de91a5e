// The engine's mechanisms on their own: the active list (compaction in block order,
// requests in id order, returning agents merged), the news board (event order, room for
// runtime events, values, reach), claim-currency splits and the peer term.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "fixtures.hpp"
#include "sim/active_list.hpp"
#include "sim/hazard.hpp"
#include "sim/lanes.hpp"
#include "sim/news.hpp"
#include "sim/portfolio.hpp"
#include "sim/signals.hpp"

using namespace bankrun;
using namespace bankrun::testing;

namespace {

std::vector<std::uint32_t> ids_of(const ActiveList& list) {
  return {list.ids(), list.ids() + list.count()};
}

std::vector<std::uint32_t> as_vector(std::span<const std::uint32_t> s) {
  return {s.begin(), s.end()};
}

// A population of n agents with attention 1, all banking at institution 0.
Population plain_population(std::uint32_t n) {
  Population p;
  p.attention.assign(n, 1.0f);
  p.account.assign(n, 0);
  p.claim.assign(n, 100);
  p.initial_claim.assign(n, 100);
  return p;
}

}  // namespace

TEST_CASE("active list: compaction gathers the blocks' slots in block order") {
  const std::uint32_t n = 2 * ActiveList::kBlock + 10;  // three blocks, the last one short
  ActiveList list(n);
  REQUIRE(list.count() == n);
  REQUIRE(list.blocks() == 3);
  CHECK(list.block_end(2) == n);
  std::vector<std::uint32_t> stay, withdraw, redeposit;
  for (std::uint32_t b = 0; b < list.blocks(); ++b) {
    ActiveList::BlockCounts counts;
    // Block b keeps every third agent, withdraws agents = 1 mod 3, re-deposits stayers = 0
    // mod 6.
    for (std::uint32_t k = list.block_begin(b); k < list.block_end(b); ++k) {
      const std::uint32_t i = list.ids()[k];
      if (i % 3 == 1) {
        list.withdraw_slots(b)[counts.withdraw++] = i;
        withdraw.push_back(i);
        continue;
      }
      if (i % 6 == 0) {
        list.redeposit_slots(b)[counts.redeposit++] = i;
        redeposit.push_back(i);
      }
      list.stay_slots(b)[counts.stay++] = i;
      stay.push_back(i);
    }
    list.set_block(b, counts);
  }
  list.compact(list.blocks());
  CHECK(ids_of(list) == stay);
  CHECK(as_vector(list.withdrawers()) == withdraw);
  CHECK(as_vector(list.redepositors()) == redeposit);
}

TEST_CASE("active list: requests come out in id order; lagged ones only when due") {
  ActiveList list(10);
  list.add_request(7);
  list.add_request(2);
  list.wait(3, 5);  // due at tick 3
  list.wait(1, 4);  // due at tick 1
  CHECK(as_vector(list.take_requests(1)) == std::vector<std::uint32_t>{2, 4, 7});
  CHECK(list.take_requests(2).empty());
  list.add_request(9);
  CHECK(as_vector(list.take_requests(3)) == std::vector<std::uint32_t>{5, 9});
}

TEST_CASE("active list: agents paid in full rejoin in id order") {
  ActiveList list(8);
  for (std::uint32_t b = 0; b < list.blocks(); ++b) {  // everyone but 0 and 6 withdraws
    ActiveList::BlockCounts counts;
    list.stay_slots(b)[counts.stay++] = 0;
    list.stay_slots(b)[counts.stay++] = 6;
    list.set_block(b, counts);
  }
  list.compact(list.blocks());
  REQUIRE(ids_of(list) == std::vector<std::uint32_t>{0, 6});
  list.clear_returning();
  list.add_returning(7);
  list.add_returning(3);
  list.merge_returning();
  CHECK(ids_of(list) == std::vector<std::uint32_t>{0, 3, 6, 7});
}

TEST_CASE("news board: drawn events join the scenario's by tick; runtime ones after, within room") {
  Scenario s = news_only_scenario(10, 0.5, 0.2, 50, 20);
  s.news_process.rate_per_tick = 0.5;
  s.news_process.magnitude = constant(0.1);
  PolicySpec por;
  por.kind = PolicySpec::Kind::kProofOfReserves;
  s.institutions.resize(1);
  s.institutions[0].policies = {por};  // room for one runtime event
  NewsBoard board(s);
  const auto& events = board.events();
  REQUIRE(events.size() > 1);
  for (std::size_t j = 1; j < events.size(); ++j) CHECK(events[j - 1].tick <= events[j].tick);
  const std::size_t before = events.size();
  board.add({"runtime", 3, 1.0, 10.0, kForever, 1.0, -1});
  CHECK(board.events().size() == before + 1);
  CHECK(board.events().back().label == "runtime");  // appended, not sorted in
  CHECK_THROWS_AS(board.add({"one too many", 4, 1.0, 10.0, kForever, 1.0, -1}), std::logic_error);
}

TEST_CASE("news board: values A exp(-age / tau) inside the box, reach by target institution") {
  Scenario s = news_only_scenario(4, 0.5, 0.0);
  s.news = {{"all", 2, 0.8, 4.0, 3, 1.0, -1}, {"bank 1 only", 2, 0.5, 1e300, kForever, 1.0, 1}};
  NewsBoard board(s);
  Population p = plain_population(4);
  p.account[2] = 1;
  CHECK(board.prepare(1, p) == 0.0);
  CHECK_FALSE(board.any_live());
  const double total = board.prepare(3, p);  // age 1
  CHECK(board.any_live());
  CHECK(total == doctest::Approx(0.8 * std::exp(-0.25) + 0.5));
  CHECK(board.agent_news(0, p) == doctest::Approx(0.8 * std::exp(-0.25)));
  CHECK(board.agent_news(2, p) == doctest::Approx(0.8 * std::exp(-0.25) + 0.5));
  board.prepare(5, p);  // the first event's box (3 ticks) is over
  CHECK(board.agent_news(0, p) == 0.0);
  CHECK(board.agent_news(2, p) == doctest::Approx(0.5));
}

TEST_CASE(
    "news board: an event of reach r reaches about r of the agents, the same ones each tick") {
  Scenario s = news_only_scenario(1, 0.5, 0.0);
  s.news = {{"partial", 0, 1.0, 1e300, kForever, 0.3, -1}};
  NewsBoard board(s);
  const std::uint32_t n = 20000;
  const Population p = plain_population(n);
  board.prepare(0, p);
  std::vector<double> first(n);
  double reached = 0;
  for (std::uint32_t i = 0; i < n; ++i) reached += first[i] = board.agent_news(i, p);
  // Binomial(n, 0.3): SE = sqrt(n 0.3 0.7).
  CHECK(std::abs(reached - 0.3 * n) < 5 * std::sqrt(n * 0.3 * 0.7));
  board.prepare(7, p);
  for (std::uint32_t i = 0; i < n; i += 97) CHECK(board.agent_news(i, p) == first[i]);
}

TEST_CASE("news board: reach bits drawn once per event equal the draws made per agent and tick") {
  Scenario s = news_only_scenario(1, 0.5, 0.0);
  s.news_process.rate_per_tick = 0.8;  // overlapping events, slots reused as they end
  s.news_process.magnitude = constant(0.1);
  s.news_process.duration_ticks = 5;
  s.news_process.reach = 0.4;
  s.news = {{"targeted", 3, 0.7, 4.0, 8, 0.6, 1}, {"everyone", 2, 0.2, 1e300, kForever, 1.0, -1}};
  s.population.classes[0].attention.kind = Distribution::Kind::kUniform;  // not all 1
  const std::uint32_t n = 3000;
  Population p = plain_population(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    p.attention[i] = 0.5f + 0.5f * static_cast<float>(i % 7) / 6.0f;
    p.account[i] = static_cast<std::uint8_t>(i % 2);
  }
  REQUIRE(NewsBoard::reach_slots(s) > 1);
  NewsBoard with_bits(s, n), drawn(s);
  std::vector<std::uint32_t> ids;  // an active list with gaps
  for (std::uint32_t i = 0; i < n; i += 1 + i % 3) ids.push_back(i);
  std::vector<double> batch_bits(ids.size()), batch_drawn(ids.size());
  std::uint32_t reached_some = 0;
  for (std::int32_t t = 0; t < 30; ++t) {
    CHECK(with_bits.prepare(t, p) == drawn.prepare(t, p));
    for (std::uint32_t i = 0; i < n; ++i) {
      const double v = with_bits.agent_news(i, p);
      CHECK(v == drawn.agent_news(i, p));
      reached_some += v != 0.0;
    }
    with_bits.sum_news(ids.data(), static_cast<std::uint32_t>(ids.size()), p, batch_bits.data());
    drawn.sum_news(ids.data(), static_cast<std::uint32_t>(ids.size()), p, batch_drawn.data());
    for (std::size_t a = 0; a < ids.size(); ++a) {
      CHECK(batch_bits[a] == drawn.agent_news(ids[a], p));
      CHECK(batch_drawn[a] == batch_bits[a]);
    }
  }
  CHECK(reached_some > 0);
}

TEST_CASE("portfolio: parts are floors of the weights, USD takes the remainder") {
  Scenario s = news_only_scenario(1, 0.5, 0.0);
  s.currencies = {"BTC", "ETH"};
  s.population.classes.push_back(s.population.classes[0]);
  s.population.classes[1].portfolio = {1, 1, 1};  // normalised to thirds
  AssetSpec btc, eth;
  btc.name = "BTC";
  eth.name = "ETH";
  s.institutions.resize(1);
  s.institutions[0].assets = {eth, btc};
  const Portfolio portfolio(s, 2);
  CHECK_FALSE(portfolio.in_kind(0));
  CHECK(portfolio.in_kind(1));
  CHECK(portfolio.asset_of(0, 1) == 1);  // BTC is the institution's second asset
  CHECK(portfolio.asset_of(0, 2) == 0);
  CHECK(portfolio.asset_of(0, 0) == -1);
  CHECK(portfolio.currency_of(0, 1) == 1);
  Money parts[kMaxCurrencies] = {};
  CHECK_FALSE(portfolio.split(1000, 0, parts));
  CHECK(parts[0] == 1000);
  REQUIRE(portfolio.split(1000, 1, parts));
  CHECK(parts[1] == 333);
  CHECK(parts[2] == 333);
  CHECK(parts[0] == 334);
}

TEST_CASE("peers: a decision becomes visible L + 1 ticks later, as a share of neighbour slots") {
  Scenario s = news_only_scenario(3, 0.5, 0.0);
  s.stress.peer_weight = 1.0;
  s.stress.peer_lag_ticks = 1;
  const Population p = plain_population(3);
  // Agent 0 watches 1 twice and 2 once.
  const Network network({0, 3, 3, 3}, {1, 1, 2});
  Peers peers(s, p, network);
  peers.log_decision(1);  // tick 0
  peers.close_log(0);
  peers.close_log(1);
  peers.reveal(1, p);  // sees the deciders of tick -1: none
  CHECK(peers.fraction(0, p) == 0.0);
  peers.reveal(2, p);  // the deciders of tick 0
  CHECK(peers.fraction(0, p) == doctest::Approx(2.0 / 3.0));
  CHECK(peers.fraction(1, p) == 0.0);  // no neighbours
  // A network without edges (type none) keeps nothing: P_i = 0, counted or weighted.
  for (const bool weighted : {false, true}) {
    s.stress.peer_balance_weighted = weighted;
    Peers none(s, p, Network::regular(3, 0, {}));
    none.log_decision(1);
    none.close_log(0);
    none.close_log(1);
    none.reveal(2, p);
    for (std::uint32_t i = 0; i < 3; ++i) CHECK(none.fraction(i, p) == 0.0);
  }
}

namespace {

// P_i as the gather over i's neighbour slots computes it (the definition the pushed counts
// must reproduce bit for bit): counted, or weighted by the neighbours' initial claims.
double gathered_fraction(const Network& network, const Population& p, const std::vector<char>& seen,
                         std::uint32_t i, bool weighted) {
  double seen_sum = 0.0, all = 0.0;
  for (const std::uint32_t j : network.neighbours_of(i)) {
    const double w = weighted ? static_cast<double>(p.initial_claim[j]) : 1.0;
    all += w;
    seen_sum += seen[j] ? w : 0.0;
  }
  return all > 0 ? seen_sum / all : 0.0;
}

// A configuration network whose degrees differ: uniform on [0, 20).
NetworkSpec uneven_configuration() {
  NetworkSpec configuration;
  configuration.kind = NetworkSpec::Kind::kConfiguration;
  configuration.degree.kind = Distribution::Kind::kUniform;
  configuration.degree.low = 0.0;
  configuration.degree.high = 20.0;
  return configuration;
}

}  // namespace

TEST_CASE(
    "peers: pushed counts equal the gather over neighbour slots, before and after a recount") {
  // Degrees that differ (0 to 20, repeated neighbours), and a regular k-out network, each
  // counted and balance-weighted; decisions revealed over several ticks, in parallel pieces
  // when a tick has many.
  const std::uint32_t n = 30000;
  const NetworkSpec configuration = uneven_configuration();
  NetworkSpec k_out;
  k_out.kind = NetworkSpec::Kind::kKOut;
  k_out.k = 7;
  for (const NetworkSpec& spec : {configuration, k_out})
    for (const bool weighted : {false, true}) {
      CAPTURE(weighted);
      Scenario s = news_only_scenario(n, 0.5, 0.0);
      s.network = spec;
      s.stress.peer_weight = 1.0;
      s.stress.peer_balance_weighted = weighted;
      Population p = plain_population(n);
      CounterRng rng(3, Stream::kHazard, 0, 0);
      for (auto& c : p.initial_claim) c = 1 + static_cast<Money>(rng.uniform01() * 1e9);
      s.seed = 11;
      const Network network = build_network(spec, n, s.seed);
      Peers peers(s, p, network);
      // The same network generated and transposed by the engine's path (k_out: never held).
      DegreeStats stats;
      Peers built = Peers::for_scenario(s, p, stats);
      const DegreeStats expected = network.degree_stats();
      CHECK(stats.edges == expected.edges);
      CHECK(stats.mean == expected.mean);
      CHECK(stats.sd == expected.sd);
      CHECK(stats.min == expected.min);
      CHECK(stats.max == expected.max);
      std::vector<char> seen(n, 0);
      std::uint32_t next = 0;
      for (std::int32_t t = 0; t < 4; ++t) {
        // Tick t's deciders: a growing batch of agents in a shuffled-looking order.
        const std::uint32_t deciders = t == 2 ? 12000 : 500;
        for (std::uint32_t k = 0; k < deciders; ++k, ++next) peers.log_decision((next * 7919u) % n);
        for (std::uint32_t k = next - deciders; k < next; ++k) built.log_decision((k * 7919u) % n);
        peers.close_log(t);
        built.close_log(t);
        peers.reveal(t + 1, p);
        built.reveal(t + 1, p);
        for (std::uint32_t k = next - deciders; k < next; ++k) seen[(k * 7919u) % n] = 1;
        for (std::uint32_t i = 0; i < n; i += 7) {
          REQUIRE(peers.fraction(i, p) == gathered_fraction(network, p, seen, i, weighted));
          REQUIRE(built.fraction(i, p) == peers.fraction(i, p));
        }
      }
      peers.recount_seen(p);  // as after a checkpoint is loaded
      for (std::uint32_t i = 0; i < n; ++i)
        REQUIRE(peers.fraction(i, p) == gathered_fraction(network, p, seen, i, weighted));
    }
}

TEST_CASE("peers: peer_measure count gives the number of seen neighbour slots, not their share") {
  const std::uint32_t n = 5000;
  const NetworkSpec configuration = uneven_configuration();
  NetworkSpec complete;
  complete.kind = NetworkSpec::Kind::kComplete;
  for (const NetworkSpec& spec : {configuration, complete}) {
    Scenario s = news_only_scenario(n, 0.5, 0.0);
    s.network = spec;
    s.stress.peer_weight = 1.0;
    s.stress.peer_measure = StressSpec::PeerMeasure::kCount;
    s.seed = 4;
    const Population p = plain_population(n);
    DegreeStats stats;
    Peers peers = Peers::for_scenario(s, p, stats);
    std::vector<char> seen(n, 0);
    for (std::uint32_t j = 0; j < n; j += 3) {
      peers.log_decision(j);
      seen[j] = 1;
    }
    peers.close_log(0);
    peers.reveal(1, p);
    const bool is_complete = spec.kind == NetworkSpec::Kind::kComplete;
    const Network network =
        is_complete ? Network::regular(n, 0, {}) : build_network(spec, n, s.seed);
    const auto total_seen = static_cast<double>(std::count(seen.begin(), seen.end(), 1));
    for (std::uint32_t i = 0; i < n; ++i) {
      double expected = total_seen - (seen[i] ? 1.0 : 0.0);  // complete: all others
      if (!is_complete) {
        expected = 0.0;
        for (const std::uint32_t j : network.neighbours_of(i)) expected += seen[j] ? 1.0 : 0.0;
      }
      REQUIRE(peers.fraction(i, p) == expected);
    }
  }
}

TEST_CASE("lanes: add_where_set gives the same bits on every path the processor has") {
  std::vector<LanePath> paths = {LanePath::kScalar};
  if (fastest_lane_path() == LanePath::kAvx512) paths.push_back(LanePath::kAvx512);
  CounterRng rng(5, Stream::kHazard, 1, 2);
  for (const std::uint32_t count : {0u, 1u, 7u, 8u, 9u, 63u, 64u, 65u, 200u, 256u}) {
    std::uint64_t bits[kBatchLanes / 64];
    for (auto& w : bits) w = rng();
    double start[kBatchLanes];
    for (std::uint32_t a = 0; a < kBatchLanes; ++a) start[a] = (rng.uniform01() - 0.5) * 1e3;
    start[3] = 0.0;  // +0.0 stays +0.0 where not set (a sum never is -0.0)
    const double v = -0.123456789;
    // The definition: v added where the bit is set, the lanes past count untouched.
    double expected[kBatchLanes];
    for (std::uint32_t a = 0; a < kBatchLanes; ++a)
      expected[a] = a < count && ((bits[a >> 6] >> (a & 63)) & 1u) ? start[a] + v : start[a];
    for (const LanePath path : paths) {
      double out[kBatchLanes];
      std::copy(start, start + kBatchLanes, out);
      add_where_set(bits, count, v, out, path);
      CHECK(std::memcmp(out, expected, sizeof out) == 0);
    }
  }
}

TEST_CASE("hazard table: below(u, x) is u < h0 Phi(x), at cell edges, in the tails and near p") {
  for (const double h0 : {1.0, 0.2, 0.013}) {
    const HazardProbability hazard(h0);
    CounterRng rng(7, Stream::kHazard, 0, 0);
    for (int n = 0; n < 200000; ++n) {
      // x over the grid, past its ends and exactly on cell edges; u spread over [0, 1), and
      // u just around p(x), where the table cannot decide.
      const double x = n % 5 == 0 ? -8.0 + std::floor(rng.uniform01() * 1024.0) / 64.0
                                  : (rng.uniform01() - 0.5) * 20.0;
      const double p = hazard.exact(x);
      const double u = n % 3 == 0 ? std::nextafter(p, n % 2 ? 0.0 : 1.0) : rng.uniform01() * h0;
      REQUIRE(hazard.below(u, x) == (u < p));
      REQUIRE(hazard.below(p, x) == false);
    }
    CHECK(hazard.below(0.0, std::nan("")) == (0.0 < hazard.exact(std::nan(""))));
  }
}

TEST_CASE("agent weights: block probabilities are per pair of accounts") {
  // Two classes of 5,000 agents; class b's agents stand for 10 accounts each. Per pair of
  // accounts p = 1e-4; per pair of agents 1 - (1 - p)^(w_a w_b): w = 1, 10 and 100.
  Scenario s = news_only_scenario(10000, 0.5, 0.0);
  s.population.classes = {investor_class("a", 1.0, constant(100), constant(0.5)),
                          investor_class("b", 1.0, constant(100), constant(0.5))};
  s.population.classes[1].accounts_per_agent = 10.0;
  s.network.kind = NetworkSpec::Kind::kStochasticBlock;
  s.network.block_probability = {{1e-4, 1e-4}, {1e-4, 1e-4}};
  const NetworkSpec n = agent_network(s);
  CHECK(n.block_probability[0][0] == 1e-4);  // w = 1: untouched
  CHECK(n.block_probability[0][1] == doctest::Approx(1 - std::pow(1 - 1e-4, 10)));
  CHECK(n.block_probability[1][0] == n.block_probability[0][1]);
  CHECK(n.block_probability[1][1] == doctest::Approx(1 - std::pow(1 - 1e-4, 100)));
  // The engine's network has the expected number of edges (within 5 SE).
  s.stress.peer_weight = 1.0;
  const Population p = create_population(s.population, s.seed);
  DegreeStats stats;
  Peers::for_scenario(s, p, stats);
  const double na = 5000, nb = 5000;
  const double expected = na * (na - 1) / 2 * n.block_probability[0][0] +
                          na * nb * n.block_probability[0][1] +
                          nb * (nb - 1) / 2 * n.block_probability[1][1];
  CHECK(std::abs(static_cast<double>(stats.edges) / 2 - expected) < 5 * std::sqrt(expected));
}
