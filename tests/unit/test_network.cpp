// Network generators: structure, determinism across thread counts, degree distributions.
#include <doctest/doctest.h>
#include <tbb/global_control.h>

#include <algorithm>
#include <cmath>

#include "agents/network.hpp"

using namespace bankrun;

namespace {
Network build_with_threads(const NetworkSpec& spec, std::uint32_t n, int threads) {
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
  return build_network(spec, n, 77);
}
bool same(const Network& a, const Network& b) {
  if (a.node_count() != b.node_count()) return false;
  for (std::uint32_t i = 0; i < a.node_count(); ++i) {
    const auto x = a.neighbours_of(i), y = b.neighbours_of(i);
    if (!std::equal(x.begin(), x.end(), y.begin(), y.end())) return false;
  }
  return true;
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
