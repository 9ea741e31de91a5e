#include "network.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <atomic>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "rng.hpp"

namespace bankrun {
namespace {

constexpr std::size_t kGrain = 4096;

template <typename Body>
void parallel_nodes(std::uint32_t n, Body body) {
  tbb::parallel_for(tbb::blocked_range<std::uint32_t>(0, n, kGrain),
                    [&](const tbb::blocked_range<std::uint32_t>& r) {
                      for (std::uint32_t i = r.begin(); i != r.end(); ++i) body(i);
                    });
}

// Each agent draws k neighbours uniformly from the n - 1 others, with replacement:
// u ~ U{0..n-2}, j = u if u < i else u + 1 (the reference model's rule).
Network build_k_out(std::uint32_t n, std::uint32_t k, std::uint64_t seed) {
  if (n < 2 || k == 0) return Network(std::vector<std::uint64_t>(n + 1, 0), {});
  std::vector<std::uint64_t> offsets(std::size_t{n} + 1);
  for (std::size_t i = 0; i <= n; ++i) offsets[i] = i * k;
  std::vector<std::uint32_t> neighbours(std::size_t{n} * k);
  parallel_nodes(n, [&](std::uint32_t i) {
    CounterRng rng(seed, Stream::kNetwork, 0, i);
    boost::random::uniform_int_distribution<std::uint32_t> other(0, n - 2);
    for (std::uint32_t s = 0; s < k; ++s) {
      const std::uint32_t u = other(rng);
      neighbours[std::size_t{i} * k + s] = u < i ? u : u + 1;
    }
  });
  return Network(std::move(offsets), std::move(neighbours));
}

// The upper neighbours j > i of node i in G(n, p), by geometric skipping (Batagelj &
// Brandes 2005): the gap to the next edge is floor(log U / log(1 - p)).
template <typename Emit>
void erdos_renyi_upper(std::uint32_t i, std::uint32_t n, double p, std::uint64_t seed, Emit emit) {
  if (p >= 1.0) {
    for (std::uint64_t j = std::uint64_t{i} + 1; j < n; ++j) emit(static_cast<std::uint32_t>(j));
    return;
  }
  CounterRng rng(seed, Stream::kNetwork, 0, i);
  const double log_q = std::log1p(-p);
  double j = static_cast<double>(i);
  for (;;) {
    const double u = 1.0 - rng.uniform01();  // in (0, 1]
    j += 1.0 + std::floor(std::log(u) / log_q);
    if (j >= n) return;
    emit(static_cast<std::uint32_t>(j));
  }
}

Network build_erdos_renyi(std::uint32_t n, double mean_degree, std::uint64_t seed) {
  if (n < 2 || mean_degree <= 0.0) return Network(std::vector<std::uint64_t>(n + 1, 0), {});
  const double p = std::min(1.0, mean_degree / (n - 1.0));
  // Degree of each node = its upper edges + the lower edges other nodes draw to it.
  std::vector<std::atomic<std::uint32_t>> degree(n);
  parallel_nodes(n, [&](std::uint32_t i) {
    std::uint32_t upper = 0;
    erdos_renyi_upper(i, n, p, seed, [&](std::uint32_t j) {
      ++upper;
      degree[j].fetch_add(1, std::memory_order_relaxed);
    });
    degree[i].fetch_add(upper, std::memory_order_relaxed);
  });
  std::vector<std::uint64_t> offsets(std::size_t{n} + 1, 0);
  for (std::uint32_t i = 0; i < n; ++i) offsets[i + 1] = offsets[i] + degree[i].load();
  // Fill with per-row cursors (atomic, so the order within a row depends on scheduling),
  // then sort each row: the result is a pure function of the seed.
  std::vector<std::uint32_t> neighbours(offsets[n]);
  std::vector<std::atomic<std::uint64_t>> cursor(n);
  for (std::uint32_t i = 0; i < n; ++i) cursor[i].store(offsets[i], std::memory_order_relaxed);
  parallel_nodes(n, [&](std::uint32_t i) {
    erdos_renyi_upper(i, n, p, seed, [&](std::uint32_t j) {
      neighbours[cursor[i].fetch_add(1, std::memory_order_relaxed)] = j;
      neighbours[cursor[j].fetch_add(1, std::memory_order_relaxed)] = i;
    });
  });
  parallel_nodes(n, [&](std::uint32_t i) {
    std::sort(neighbours.begin() + offsets[i], neighbours.begin() + offsets[i + 1]);
  });
  return Network(std::move(offsets), std::move(neighbours));
}

}  // namespace

Network::Network(std::vector<std::uint64_t> offsets, std::vector<std::uint32_t> neighbours)
    : offsets_(std::move(offsets)), neighbours_(std::move(neighbours)) {
  if (offsets_.empty() || offsets_.back() != neighbours_.size())
    throw std::invalid_argument("Network: offsets do not match the neighbour list");
}

DegreeStats Network::degree_stats() const {
  DegreeStats s;
  const std::uint32_t n = node_count();
  if (n == 0) return s;
  s.edges = neighbours_.size();
  s.min = ~std::uint64_t{0};
  double sum_sq = 0.0;
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint64_t d = offsets_[i + 1] - offsets_[i];
    s.min = std::min(s.min, d);
    s.max = std::max(s.max, d);
    sum_sq += static_cast<double>(d) * static_cast<double>(d);
  }
  s.mean = static_cast<double>(s.edges) / n;
  s.sd = std::sqrt(std::max(0.0, sum_sq / n - s.mean * s.mean));
  return s;
}

Network build_network(const NetworkSpec& spec, std::uint32_t node_count, std::uint64_t seed) {
  switch (spec.kind) {
    case NetworkSpec::Kind::kNone:
      return Network(std::vector<std::uint64_t>(std::size_t{node_count} + 1, 0), {});
    case NetworkSpec::Kind::kKOut:
      return build_k_out(node_count, spec.k, seed);
    case NetworkSpec::Kind::kErdosRenyi:
      return build_erdos_renyi(node_count, spec.mean_degree, seed);
  }
  throw std::logic_error("build_network: unknown kind");
}

}  // namespace bankrun
