// Network generators: structure, determinism across thread counts, degree distributions.
#include <doctest/doctest.h>
#include <tbb/global_control.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "agents/network.hpp"

using namespace bankrun;

namespace {
Network build_with_threads(const NetworkSpec& spec, std::uint32_t n, int threads,
                           const std::vector<std::uint32_t>& class_begin = {}) {
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
  return build_network(spec, n, 77, class_begin);
}
bool same(const Network& a, const Network& b) {
  if (a.node_count() != b.node_count()) return false;
  for (std::uint32_t i = 0; i < a.node_count(); ++i) {
    const auto x = a.neighbours_of(i), y = b.neighbours_of(i);
    if (!std::equal(x.begin(), x.end(), y.begin(), y.end())) return false;
  }
  return true;
}

// Undirected, simple, sorted, ids in range (REQUIREs: one failure stops the test).
void check_simple_undirected(const Network& net) {
  const std::uint32_t n = net.node_count();
  for (std::uint32_t i = 0; i < n; ++i) {
    const auto nb = net.neighbours_of(i);
    REQUIRE(std::is_sorted(nb.begin(), nb.end()));
    REQUIRE(std::adjacent_find(nb.begin(), nb.end()) == nb.end());
    for (const auto j : nb) {
      REQUIRE(j < n);
      REQUIRE(j != i);
      const auto back = net.neighbours_of(j);
      REQUIRE(std::binary_search(back.begin(), back.end(), i));
    }
  }
}

NetworkSpec spec_of(NetworkSpec::Kind kind) {
  NetworkSpec s;
  s.kind = kind;
  return s;
}

std::vector<double> degrees(const Network& net) {
  std::vector<double> d(net.node_count());
  for (std::uint32_t i = 0; i < net.node_count(); ++i) d[i] = net.neighbours_of(i).size();
  return d;
}
}  // namespace

TEST_CASE("k-out: k neighbours per agent, no self-loops, ids in range, thread-independent") {
  NetworkSpec spec{NetworkSpec::Kind::kKOut, 10, 0.0};
  const std::uint32_t n = 20000;
  const Network net = build_with_threads(spec, n, 1);
  CHECK(net.node_count() == n);
  for (std::uint32_t i = 0; i < n; ++i) {
    const auto nb = net.neighbours_of(i);
    REQUIRE(nb.size() == 10);
    for (const auto j : nb) {
      REQUIRE(j < n);
      REQUIRE(j != i);
    }
  }
  CHECK(same(net, build_with_threads(spec, n, 2)));
  // In-degree ~ Binomial(n k, 1/(n-1)): mean k, variance ~ k.
  std::vector<int> indeg(n, 0);
  for (std::uint32_t i = 0; i < n; ++i)
    for (const auto j : net.neighbours_of(i)) ++indeg[j];
  double sum = 0, sq = 0;
  for (const int d : indeg) sum += d, sq += double(d) * d;
  const double mean = sum / n, var = sq / n - mean * mean;
  CHECK(mean == doctest::Approx(10.0));
  CHECK(std::abs(var - 10.0) < 5 * 10.0 * std::sqrt(2.0 / n));
}

TEST_CASE("Erdos-Renyi: symmetric, simple, sorted, Poisson-like degrees, thread-independent") {
  NetworkSpec spec{NetworkSpec::Kind::kErdosRenyi, 0, 8.0};
  const std::uint32_t n = 50000;
  const Network net = build_with_threads(spec, n, 1);
  for (std::uint32_t i = 0; i < n; ++i) {
    const auto nb = net.neighbours_of(i);
    REQUIRE(std::is_sorted(nb.begin(), nb.end()));
    REQUIRE(std::adjacent_find(nb.begin(), nb.end()) == nb.end());  // no multi-edges
    for (const auto j : nb) {
      REQUIRE(j != i);
      const auto back = net.neighbours_of(j);
      REQUIRE(std::binary_search(back.begin(), back.end(), i));  // undirected
    }
  }
  const DegreeStats s = net.degree_stats();
  // Mean degree 2E/n with E ~ Binomial(n(n-1)/2, p): SE of the mean ~ sqrt(2 z / n).
  CHECK(std::abs(s.mean - 8.0) < 5 * std::sqrt(2 * 8.0 / n));
  // Degree variance of G(n,p) is (n-1)p(1-p) ~ z.
  CHECK(std::abs(s.sd * s.sd - 8.0) < 0.3);
  CHECK(same(net, build_with_threads(spec, n, 2)));
}

TEST_CASE("Erdos-Renyi with mean degree n-1 is the complete graph") {
  const Network net = build_network({NetworkSpec::Kind::kErdosRenyi, 0, 9.0}, 10, 1);
  for (std::uint32_t i = 0; i < 10; ++i) CHECK(net.neighbours_of(i).size() == 9);
}

TEST_CASE("no network: every agent has no neighbours") {
  const Network net = build_network({NetworkSpec::Kind::kNone, 0, 0.0}, 100, 1);
  CHECK(net.node_count() == 100);
  CHECK(net.degree_stats().edges == 0);
}

TEST_CASE("complete: node count only, no CSR edges") {
  const Network net = build_network(spec_of(NetworkSpec::Kind::kComplete), 1000, 1);
  CHECK(net.node_count() == 1000);
  CHECK(net.empty());
}

TEST_CASE("Watts-Strogatz with p = 0 is exactly the ring lattice") {
  NetworkSpec spec = spec_of(NetworkSpec::Kind::kWattsStrogatz);
  spec.k = 6;
  spec.rewire_probability = 0.0;
  const std::uint32_t n = 1000;
  const Network net = build_network(spec, n, 3);
  check_simple_undirected(net);
  for (std::uint32_t i = 0; i < n; ++i) {
    std::vector<std::uint32_t> expected;
    for (std::uint32_t s = 1; s <= 3; ++s)
      expected.push_back((i + s) % n), expected.push_back((i + n - s) % n);
    std::sort(expected.begin(), expected.end());
    const auto nb = net.neighbours_of(i);
    REQUIRE(std::equal(nb.begin(), nb.end(), expected.begin(), expected.end()));
  }
  spec.k = 5;
  CHECK_THROWS_AS(build_network(spec, n, 3), std::invalid_argument);
  spec.k = 1000;
  CHECK_THROWS_AS(build_network(spec, n, 3), std::invalid_argument);
}

TEST_CASE("Watts-Strogatz with p = 1: mean degree k, Poisson-like spread, simple") {
  NetworkSpec spec = spec_of(NetworkSpec::Kind::kWattsStrogatz);
  spec.k = 10;
  spec.rewire_probability = 1.0;
  const std::uint32_t n = 50000;
  const Network net = build_with_threads(spec, n, 2);
  check_simple_undirected(net);
  const DegreeStats s = net.degree_stats();
  // Only pairs that rewire to each other are merged: (k/2)^2 / n per node, tiny.
  CHECK(s.mean <= 10.0);
  CHECK(s.mean > 10.0 - 0.01);
  // Every node keeps its k/2 own edges; the k/2 edges others send it are ~ Poisson(k/2).
  CHECK(s.min >= 5);
  CHECK(s.sd * s.sd == doctest::Approx(5.0).epsilon(0.1));
  const auto d = degrees(net);
  const double only_own = std::count(d.begin(), d.end(), 5.0) / double(n);
  CHECK(only_own == doctest::Approx(std::exp(-5.0)).epsilon(0.25));  // P(Poisson(5) = 0)
}

TEST_CASE("Watts-Strogatz with p = 0.2: simple, mean degree k, rewired share p") {
  NetworkSpec spec = spec_of(NetworkSpec::Kind::kWattsStrogatz);
  spec.k = 8;
  spec.rewire_probability = 0.2;
  const std::uint32_t n = 40000;
  const Network net = build_network(spec, n, 5);
  check_simple_undirected(net);
  CHECK(net.degree_stats().mean == doctest::Approx(8.0).epsilon(0.001));
  // Share of edges that are not lattice edges ~ p (binomial over n k / 2 edges).
  double off_lattice = 0;
  for (std::uint32_t i = 0; i < n; ++i)
    for (const auto j : net.neighbours_of(i)) {
      const std::uint32_t dist = std::min((i + n - j) % n, (j + n - i) % n);
      off_lattice += dist > 4;
    }
  const double edges = net.degree_stats().edges;
  CHECK(std::abs(off_lattice / edges - 0.2) < 5 * std::sqrt(0.2 * 0.8 / (edges / 2)));
}

TEST_CASE("Barabasi-Albert: mean degree 2m, minimum m, heavy tail, simple") {
  NetworkSpec spec = spec_of(NetworkSpec::Kind::kBarabasiAlbert);
  spec.m = 3;
  const std::uint32_t n = 50000;
  const Network net = build_network(spec, n, 9);
  check_simple_undirected(net);
  const DegreeStats s = net.degree_stats();
  // Edges: the clique on m + 1 nodes plus m per later node.
  CHECK(s.edges == 2 * (6 + std::uint64_t{n - 4} * 3));
  CHECK(s.min == 3);
  CHECK(s.max > 30 * s.mean);  // hubs: max degree ~ m sqrt(n)
  // P(degree = m) -> 2 / (m + 2) for the BA model.
  const auto d = degrees(net);
  const double at_m = std::count(d.begin(), d.end(), 3.0) / double(n);
  CHECK(at_m == doctest::Approx(0.4).epsilon(0.05));
  // Power-law tail: P(degree >= 30) ~ m(m+1)/(30 * 31) ... = 12/930 (continuum 9/900).
  const double tail =
      std::count_if(d.begin(), d.end(), [](double x) { return x >= 30; }) / double(n);
  CHECK(tail > 0.005);
  CHECK(tail < 0.02);
  // Fewer nodes than m + 1: the complete graph.
  spec.m = 5;
  const Network small = build_network(spec, 4, 9);
  for (std::uint32_t i = 0; i < 4; ++i) CHECK(small.neighbours_of(i).size() == 3);
}

TEST_CASE("configuration model: degrees as drawn up to erased loops and multi-edges") {
  NetworkSpec spec = spec_of(NetworkSpec::Kind::kConfiguration);
  spec.degree.kind = Distribution::Kind::kNormal;
  spec.degree.mean = 8.0;
  spec.degree.sd = 3.0;
  const std::uint32_t n = 50000;
  const std::uint64_t seed = 77;
  const Network net = build_with_threads(spec, n, 2);
  check_simple_undirected(net);
  std::vector<double> drawn(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    CounterRng rng(seed, Stream::kNetwork, 0, i);
    drawn[i] =
        static_cast<double>(std::llround(std::clamp(spec.degree.sample(i, rng), 0.0, n - 1.0)));
  }
  double stubs = std::accumulate(drawn.begin(), drawn.end(), 0.0);
  if (std::fmod(stubs, 2.0) == 1.0) drawn[n - 1] += 1, stubs += 1;
  double lost = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    const double d = net.neighbours_of(i).size();
    REQUIRE(d <= drawn[i]);
    lost += drawn[i] - d;
  }
  CHECK(lost < 0.01 * stubs);
  // Stubs are matched uniformly: a neighbour's degree averages sum d^2 / sum d.
  double sq = 0, nb_deg = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    sq += drawn[i] * drawn[i];
    for (const auto j : net.neighbours_of(i)) nb_deg += drawn[j];
  }
  CHECK(nb_deg / net.degree_stats().edges == doctest::Approx(sq / stubs).epsilon(0.01));
  // A heavy-tailed (Pareto) degree sequence works too.
  spec.degree = {};
  spec.degree.kind = Distribution::Kind::kPareto;
  spec.degree.scale = 2.0;
  spec.degree.shape = 2.2;
  const Network heavy = build_network(spec, 20000, 3);
  check_simple_undirected(heavy);
  CHECK(heavy.degree_stats().max > 100);
}

TEST_CASE("stochastic block model: edge counts per block within 5 SE") {
  NetworkSpec spec = spec_of(NetworkSpec::Kind::kStochasticBlock);
  spec.block_probability = {{8e-4, 1e-4, 0.0}, {1e-4, 6e-4, 2e-4}, {0.0, 2e-4, 1e-3}};
  const std::vector<std::uint32_t> begin{0, 20000, 35000, 50000};
  const std::uint32_t n = 50000;
  const Network net = build_with_threads(spec, n, 2, begin);
  check_simple_undirected(net);
  const auto class_of = [&](std::uint32_t i) {
    return static_cast<std::size_t>(std::upper_bound(begin.begin(), begin.end(), i) -
                                    begin.begin() - 1);
  };
  double count[3][3] = {};
  for (std::uint32_t i = 0; i < n; ++i)
    for (const auto j : net.neighbours_of(i))
      if (i < j) count[class_of(i)][class_of(j)] += 1;
  for (std::size_t a = 0; a < 3; ++a)
    for (std::size_t b = a; b < 3; ++b) {
      CAPTURE(a);
      CAPTURE(b);
      const double na = begin[a + 1] - begin[a], nb = begin[b + 1] - begin[b];
      const double pairs = a == b ? na * (na - 1) / 2 : na * nb;
      const double p = spec.block_probability[a][b];
      const double expected = pairs * p;
      CHECK(std::abs(count[a][b] - expected) <= 5 * std::sqrt(expected * (1 - p)));
    }
  CHECK(count[0][2] == 0);
  // Without class ranges it is one class: G(n, p) with p = block_probability[0][0].
  spec.block_probability = {{2e-4}};
  const DegreeStats s = build_network(spec, n, 4).degree_stats();
  const double z = 2e-4 * (n - 1);
  CHECK(std::abs(s.mean - z) < 5 * std::sqrt(2 * z / n));
  spec.block_probability = {{0.1}};
  CHECK_THROWS_AS(build_network(spec, n, 4, begin), std::invalid_argument);
}

TEST_CASE("edge list: undirected and directed, duplicates dropped, self-loops and bad ids") {
  NetworkSpec spec = spec_of(NetworkSpec::Kind::kEdgeList);
  spec.edges = {{0, 1}, {1, 2}, {1, 0}, {3, 1}, {0, 1}};
  const Network net = build_network(spec, 5, 1);
  check_simple_undirected(net);
  CHECK(std::vector<std::uint32_t>(net.neighbours_of(1).begin(), net.neighbours_of(1).end()) ==
        std::vector<std::uint32_t>{0, 2, 3});
  CHECK(net.neighbours_of(4).empty());
  CHECK(net.degree_stats().edges == 6);
  spec.directed = true;
  const Network watch = build_network(spec, 5, 1);
  CHECK(std::vector<std::uint32_t>(watch.neighbours_of(0).begin(), watch.neighbours_of(0).end()) ==
        std::vector<std::uint32_t>{1});
  CHECK(std::vector<std::uint32_t>(watch.neighbours_of(1).begin(), watch.neighbours_of(1).end()) ==
        std::vector<std::uint32_t>{0, 2});
  CHECK(watch.neighbours_of(2).empty());
  CHECK(watch.degree_stats().edges == 4);
  spec.edges.push_back({4, 4});
  try {
    build_network(spec, 5, 1);
    FAIL("a self-loop must be rejected");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("edge 5") != std::string::npos);
  }
  spec.self_loops = NetworkSpec::SelfLoops::kDrop;
  CHECK(build_network(spec, 5, 1).degree_stats().edges == 4);
  spec.edges.push_back({2, 5});
  CHECK_THROWS_AS(build_network(spec, 5, 1), std::invalid_argument);
}

TEST_CASE("every generator is identical for 1 and 2 threads") {
  const std::uint32_t n = 30000;
  const std::vector<std::uint32_t> begin{0, 10000, 30000};
  std::vector<NetworkSpec> specs;
  for (const auto kind :
       {NetworkSpec::Kind::kNone, NetworkSpec::Kind::kComplete, NetworkSpec::Kind::kKOut,
        NetworkSpec::Kind::kErdosRenyi, NetworkSpec::Kind::kWattsStrogatz,
        NetworkSpec::Kind::kBarabasiAlbert, NetworkSpec::Kind::kConfiguration,
        NetworkSpec::Kind::kStochasticBlock, NetworkSpec::Kind::kEdgeList}) {
    NetworkSpec s = spec_of(kind);
    s.rewire_probability = 0.3;
    s.degree.kind = Distribution::Kind::kLognormal;
    s.degree.mu = 1.5;
    s.degree.sigma = 0.7;
    s.block_probability = {{5e-4, 1e-4}, {1e-4, 3e-4}};
    for (std::uint32_t e = 0; e < 50000; ++e)
      s.edges.push_back({(e * 7919u) % n, (e * 104729u + 1) % n});
    s.self_loops = NetworkSpec::SelfLoops::kDrop;
    specs.push_back(s);
  }
  for (const auto& s : specs) {
    CAPTURE(static_cast<int>(s.kind));
    const Network one = build_with_threads(s, n, 1, begin);
    CHECK(same(one, build_with_threads(s, n, 2, begin)));
    CHECK(same(one, build_with_threads(s, n, 3, begin)));
    CHECK(one.node_count() == n);
  }
}
