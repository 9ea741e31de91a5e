#include "network.hpp"

#include <algorithm>
#include <atomic>
#include <boost/container/small_vector.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

#include "parallel.hpp"
#include "rng.hpp"

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace bankrun {
namespace {

constexpr std::size_t kGrain = 4096;

// Sizes a large vector whose memory is about to be accessed at random, asking Linux to back
// it with transparent huge pages first (fewer TLB misses: the generators' scatter phases
// run about twice as fast). Only a hint: without it the result is the same.
template <typename T>
void resize_for_random_access(std::vector<T>& v, std::size_t n) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr std::size_t kHuge = std::size_t{2} << 20;
  if (v.empty() && n * sizeof(T) >= 4 * kHuge) {
    v.reserve(n);
    const auto begin = reinterpret_cast<std::uintptr_t>(v.data());
    const std::uintptr_t first = (begin + kHuge - 1) & ~(kHuge - 1);
    const std::uintptr_t last = (begin + n * sizeof(T)) & ~(kHuge - 1);
    if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
  }
#endif
  v.resize(n);
}

template <typename T>
std::uint32_t fetch_increment(T& counter) {
  return std::atomic_ref<T>(counter).fetch_add(1, std::memory_order_relaxed);
}

Network empty_network(std::uint32_t n) {
  return Network::regular(n, 0, {});
}

void sort_rows(std::uint32_t n, const std::vector<std::uint64_t>& offsets,
               std::vector<std::uint32_t>& neighbours) {
  for_range(0u, n, kGrain, [&](std::uint32_t i) {
    std::sort(neighbours.begin() + offsets[i], neighbours.begin() + offsets[i + 1]);
  });
}

// Sorts every row, removes self-loops and repeated neighbours, and closes the gaps (the
// compaction is sequential: rows only move left). Deterministic for any thread count.
void sort_and_simplify_rows(std::uint32_t n, std::vector<std::uint64_t>& offsets,
                            std::vector<std::uint32_t>& neighbours) {
  std::vector<std::uint32_t> kept(n);
  for_range(0u, n, kGrain, [&](std::uint32_t i) {
    const auto first = neighbours.begin() + offsets[i], last = neighbours.begin() + offsets[i + 1];
    std::sort(first, last);
    auto end = std::unique(first, last);
    end = std::remove(first, end, i);
    kept[i] = static_cast<std::uint32_t>(end - first);
  });
  std::uint64_t write = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint64_t begin = offsets[i];
    if (write != begin)
      std::copy(neighbours.begin() + begin, neighbours.begin() + begin + kept[i],
                neighbours.begin() + write);
    offsets[i] = write;
    write += kept[i];
  }
  offsets[n] = write;
  const std::size_t removed = neighbours.size() - write;
  neighbours.resize(write);
  // Reallocating costs a second copy at peak; only worth it when much was removed.
  if (removed > write / 16) neighbours.shrink_to_fit();
}

// Edges are applied in batches: first prefetch every random location of the batch, then
// update (the atomic increments would otherwise wait for one cache miss at a time).
struct Batch {
  static constexpr std::uint32_t kSize = 32;
  std::uint32_t j[kSize];
  std::uint32_t size = 0;
};

// Builds an undirected CSR from edges owned by nodes: gen(i, emit) calls emit(j) for each
// edge {i, j} node i owns; it must be a pure function of i (it is called twice: once to
// count degrees, once to fill). j goes into i's row and i into j's. Rows are filled through
// atomic cursors (the order within a row depends on scheduling) and then sorted, so the
// result is a pure function of the seed. With `simplify`, self-loops and repeated edges
// are removed. Peak memory: offsets (8 B/node) + cursors (4 B/node) + the neighbours.
template <typename Gen>
Network build_symmetric(std::uint32_t n, Gen gen, bool simplify) {
  std::vector<std::uint64_t> offsets;
  resize_for_random_access(offsets, std::size_t{n} + 1);
  std::vector<std::uint32_t> neighbours;
  {
    std::vector<std::uint32_t> count;  // updated through std::atomic_ref
    resize_for_random_access(count, n);
    for_range(0u, n, kGrain, [&](std::uint32_t i) {
      std::uint32_t own = 0;
      Batch batch;
      const auto flush = [&] {
        for (std::uint32_t k = 0; k < batch.size; ++k) __builtin_prefetch(&count[batch.j[k]], 1);
        for (std::uint32_t k = 0; k < batch.size; ++k) fetch_increment(count[batch.j[k]]);
        own += batch.size;
        batch.size = 0;
      };
      gen(i, [&](std::uint32_t j) {
        batch.j[batch.size++] = j;
        if (batch.size == Batch::kSize) flush();
      });
      flush();
      std::atomic_ref<std::uint32_t>(count[i]).fetch_add(own, std::memory_order_relaxed);
    });
    for (std::uint32_t i = 0; i < n; ++i) {
      offsets[i + 1] = offsets[i] + count[i];
      count[i] = 0;  // from now on: cursor within row i
    }
    resize_for_random_access(neighbours, offsets[n]);
    for_range(0u, n, kGrain, [&](std::uint32_t i) {
      Batch batch;
      const auto flush = [&] {
        for (std::uint32_t k = 0; k < batch.size; ++k) {
          __builtin_prefetch(&count[batch.j[k]], 1);
          __builtin_prefetch(&offsets[batch.j[k]], 0);
        }
        for (std::uint32_t k = 0; k < batch.size; ++k)
          __builtin_prefetch(&neighbours[offsets[batch.j[k]]], 1);
        for (std::uint32_t k = 0; k < batch.size; ++k) {
          const std::uint32_t j = batch.j[k];
          neighbours[offsets[i] + fetch_increment(count[i])] = j;
          neighbours[offsets[j] + fetch_increment(count[j])] = i;
        }
        batch.size = 0;
      };
      gen(i, [&](std::uint32_t j) {
        batch.j[batch.size++] = j;
        if (batch.size == Batch::kSize) flush();
      });
      flush();
    });
  }
  if (simplify)
    sort_and_simplify_rows(n, offsets, neighbours);
  else
    sort_rows(n, offsets, neighbours);
  return Network(std::move(offsets), std::move(neighbours));
}

// Each agent draws k neighbours uniformly from the n - 1 others, with replacement:
// u ~ U{0..n-2}, j = u if u < i else u + 1 (the reference model's rule).
Network build_k_out(std::uint32_t n, std::uint32_t k, std::uint64_t seed) {
  if (n < 2 || k == 0) return empty_network(n);
  std::vector<std::uint32_t> neighbours(std::size_t{n} * k);
  for_range(0u, n, kGrain, [&](std::uint32_t i) {
    CounterRng rng(seed, Stream::kNetwork, 0, i);
    boost::random::uniform_int_distribution<std::uint32_t> other(0, n - 2);
    for (std::uint32_t s = 0; s < k; ++s) {
      const std::uint32_t u = other(rng);
      neighbours[std::size_t{i} * k + s] = u < i ? u : u + 1;
    }
  });
  return Network::regular(n, k, std::move(neighbours));
}

// The neighbours j of node i with lo <= j < hi in a G(n, p) block, by geometric skipping
// (Batagelj & Brandes 2005): the gap to the next edge is floor(log U / log(1 - p)).
// Draws continue on `rng`, so one generator serves several blocks of the same node.
template <typename Emit>
void geometric_block(CounterRng& rng, std::uint32_t lo, std::uint32_t hi, double p, Emit& emit) {
  if (p <= 0.0 || lo >= hi) return;
  if (p >= 1.0) {
    for (std::uint32_t j = lo; j < hi; ++j) emit(j);
    return;
  }
  const double log_q = std::log1p(-p);
  double j = static_cast<double>(lo) - 1.0;
  for (;;) {
    const double u = 1.0 - rng.uniform01();  // in (0, 1]
    j += 1.0 + std::floor(std::log(u) / log_q);
    if (j >= hi) return;
    emit(static_cast<std::uint32_t>(j));
  }
}

// G(n, p), p = z / (n - 1): node i owns its upper edges j > i, drawn from
// CounterRng(seed, kNetwork, 0, i).
Network build_erdos_renyi(std::uint32_t n, double mean_degree, std::uint64_t seed) {
  if (n < 2 || mean_degree <= 0.0) return empty_network(n);
  const double p = std::min(1.0, mean_degree / (n - 1.0));
  return build_symmetric(
      n,
      [&](std::uint32_t i, auto&& emit) {
        CounterRng rng(seed, Stream::kNetwork, 0, i);
        geometric_block(rng, i + 1, n, p, emit);
      },
      false);
}

// Stochastic block model: class c holds ids [class_begin[c], class_begin[c+1]); edge
// {i, j} (i < j) is present with probability block_probability[c(i)][c(j)] (the upper
// triangle c(i) <= c(j) is read). Node i owns its upper edges and draws them block after
// block (its own class first, then the later classes), by geometric skipping, from
// CounterRng(seed, kNetwork, 0, i).
Network build_stochastic_block(std::uint32_t n, const std::vector<std::vector<double>>& prob,
                               std::vector<std::uint32_t> begin, std::uint64_t seed) {
  if (begin.empty()) begin = {0, n};
  const std::size_t classes = begin.size() - 1;
  if (begin.front() != 0 || begin.back() != n || !std::is_sorted(begin.begin(), begin.end()))
    throw std::invalid_argument("stochastic_block: class ranges do not cover the agents");
  if (prob.size() < classes)
    throw std::invalid_argument("stochastic_block: block_probability has " +
                                std::to_string(prob.size()) + " rows for " +
                                std::to_string(classes) + " classes");
  for (const auto& row : prob)
    if (row.size() < classes)
      throw std::invalid_argument("stochastic_block: block_probability is not square");
  return build_symmetric(
      n,
      [&](std::uint32_t i, auto&& emit) {
        const std::size_t c = std::upper_bound(begin.begin(), begin.end(), i) - begin.begin() - 1;
        CounterRng rng(seed, Stream::kNetwork, 0, i);
        geometric_block(rng, i + 1, begin[c + 1], prob[c][c], emit);
        for (std::size_t d = c + 1; d < classes; ++d)
          geometric_block(rng, begin[d], begin[d + 1], prob[c][d], emit);
      },
      false);
}

// Watts-Strogatz. Ring lattice: node i owns its k/2 "right" edges {i, i+s mod n},
// s = 1..k/2. With probability p (one uniform per edge from CounterRng(seed, kNetwork, 0,
// i)), the far end i+s is replaced by a uniform node t that is not in i's lattice
// neighbourhood (ring distance <= k/2, which includes i itself) and not one of i's
// targets chosen so far; a rejected t is redrawn, at most 10 tries, after which the
// lattice edge is kept. Excluding the whole lattice neighbourhood (not only i's current
// neighbours) keeps every node's decision independent of the others, so the graph is
// generated in parallel; the only duplicates left are the pairs where i rewires to t and
// t rewires to i (probability ~ (k p)^2 / (4 n) per pair), removed by making rows unique
// after symmetrisation. p = 0 gives exactly the ring lattice. Undirected, simple.
Network build_watts_strogatz(std::uint32_t n, std::uint32_t k, double p, std::uint64_t seed) {
  if (n < 2 || k == 0) return empty_network(n);
  if (k % 2 != 0) throw std::invalid_argument("watts_strogatz: k must be even");
  if (k >= n) throw std::invalid_argument("watts_strogatz: k must be less than the agent count");
  const std::uint32_t half = k / 2;
  const auto in_lattice = [n, half](std::uint32_t i, std::uint32_t t) {
    const std::uint32_t d = t >= i ? t - i : i - t;
    return std::min(d, n - d) <= half;
  };
  return build_symmetric(
      n,
      [&](std::uint32_t i, auto&& emit) {
        CounterRng rng(seed, Stream::kNetwork, 0, i);
        boost::random::uniform_int_distribution<std::uint32_t> any(0, n - 1);
        boost::container::small_vector<std::uint32_t, 16> chosen;
        for (std::uint32_t s = 1; s <= half; ++s) {
          std::uint32_t j = static_cast<std::uint32_t>((std::uint64_t{i} + s) % n);
          if (p > 0.0 && rng.uniform01() < p) {
            for (int attempt = 0; attempt < 10; ++attempt) {
              const std::uint32_t t = any(rng);
              if (in_lattice(i, t) || std::find(chosen.begin(), chosen.end(), t) != chosen.end())
                continue;
              j = t;
              chosen.push_back(t);
              break;
            }
          }
          emit(j);
        }
      },
      p > 0.0);
}

// Barabasi-Albert: a complete graph on m + 1 nodes, then each new node v attaches to m
// distinct earlier nodes with probability proportional to their degree. Sequential, with
// the "repeated nodes" list of Batagelj & Brandes (2005): a uniform entry of the list of
// edge endpoints is a node drawn proportionally to degree. Only the targets of new edges
// are stored (4 B per edge): the source of new edge e is implied by e, so a uniform
// endpoint is a uniform edge plus a uniform side. Node v draws from CounterRng(seed,
// kNetwork, 0, v), over the endpoints of the edges that existed before v; a target already
// chosen by v is redrawn. n <= m + 1 gives the complete graph on n nodes.
Network build_barabasi_albert(std::uint32_t n, std::uint32_t m, std::uint64_t seed) {
  if (n < 2 || m == 0) return empty_network(n);
  const std::uint32_t n0 =
      static_cast<std::uint32_t>(std::min<std::uint64_t>(n, std::uint64_t{m} + 1));
  std::vector<std::uint32_t> src0, tgt0;  // the initial clique
  for (std::uint32_t a = 0; a < n0; ++a)
    for (std::uint32_t b = a + 1; b < n0; ++b) src0.push_back(a), tgt0.push_back(b);
  const std::uint64_t e0 = src0.size();
  std::vector<std::uint32_t> target;
  resize_for_random_access(target, std::uint64_t{n - n0} * m);
  const auto endpoint = [&](std::uint64_t r) -> std::uint32_t {
    const std::uint64_t e = r >> 1;
    if (e < e0) return (r & 1) ? tgt0[e] : src0[e];
    const std::uint64_t f = e - e0;
    return (r & 1) ? target[f] : static_cast<std::uint32_t>(n0 + f / m);
  };
  for (std::uint32_t v = n0; v < n; ++v) {
    CounterRng rng(seed, Stream::kNetwork, 0, v);
    const std::uint64_t first = std::uint64_t{v - n0} * m;
    boost::random::uniform_int_distribution<std::uint64_t> pick(0, 2 * (e0 + first) - 1);
    for (std::uint32_t j = 0; j < m; ++j) {
      std::uint32_t t;
      do t = endpoint(pick(rng));
      while (std::find(target.begin() + first, target.begin() + first + j, t) !=
             target.begin() + first + j);
      target[first + j] = t;
    }
  }
  return build_symmetric(
      n,
      [&](std::uint32_t i, auto&& emit) {
        if (i < n0) {
          for (std::uint32_t j = i + 1; j < n0; ++j) emit(j);
        } else {
          const std::uint64_t first = std::uint64_t{i - n0} * m;
          for (std::uint32_t j = 0; j < m; ++j) emit(target[first + j]);
        }
      },
      false);
}

// Erased configuration model. Degrees d_i = max(0, llround(degree.sample(i, rng_i))) with
// rng_i = CounterRng(seed, kNetwork, 0, i), capped at n - 1; if the sum is odd the last
// node gets one more stub. The stubs (node i owns stubs offsets[i] .. offsets[i+1]) are
// put in a uniformly random order and consecutive stubs paired: each stub s goes to a
// bucket drawn from CounterRng(seed, kNetwork, 1, s) (about 65536 stubs per bucket), the
// buckets are laid out in order with the stubs of a bucket in stub order, and each bucket
// is shuffled (Fisher-Yates) with CounterRng(seed, kNetwork, 2, bucket). Uniform buckets
// followed by uniform shuffles within them give a uniform permutation, and every step is
// independent of the thread count. Self-loops and multi-edges are then erased.
// Peak memory: the stub order (4 B/stub) plus the neighbours (4 B/stub) plus 12 B/node.
Network build_configuration(std::uint32_t n, const Distribution& degree, std::uint64_t seed) {
  if (n < 2) return empty_network(n);
  std::vector<std::uint64_t> offsets;
  resize_for_random_access(offsets, std::size_t{n} + 1);
  {
    std::vector<std::uint32_t> d(n);
    for_range(0u, n, kGrain, [&](std::uint32_t i) {
      CounterRng rng(seed, Stream::kNetwork, 0, i);
      const double x = std::clamp(degree.sample(i, rng), 0.0, n - 1.0);
      d[i] = x >= 0.0 ? static_cast<std::uint32_t>(std::llround(x)) : 0;  // NaN -> 0
    });
    for (std::uint32_t i = 0; i < n; ++i) offsets[i + 1] = offsets[i] + d[i];
  }
  if (offsets[n] % 2 == 1) ++offsets[n];
  const std::uint64_t stubs = offsets[n];
  if (stubs > std::numeric_limits<std::uint32_t>::max())
    throw std::length_error("configuration: more than 2^32 - 1 stubs");
  if (stubs == 0) return empty_network(n);

  // Random order of the stubs (each entry: the node owning the stub).
  std::vector<std::uint32_t> order;
  resize_for_random_access(order, stubs);
  {
    const std::uint64_t buckets = std::max<std::uint64_t>(1, stubs >> 16);
    const std::uint64_t chunk = std::max<std::uint64_t>(std::uint64_t{1} << 20, (stubs + 63) / 64);
    const std::uint64_t chunks = (stubs + chunk - 1) / chunk;
    const auto bucket_of = [&](std::uint64_t s) {
      CounterRng rng(seed, Stream::kNetwork, 1, static_cast<std::uint32_t>(s));
      return ((rng() >> 32) * buckets) >> 32;  // buckets < 2^16: no overflow
    };
    // Walks the stubs of chunk c with their owners.
    const auto for_chunk = [&](std::uint64_t c, auto&& body) {
      const std::uint64_t lo = c * chunk, hi = std::min(stubs, lo + chunk);
      std::uint32_t owner = static_cast<std::uint32_t>(
          std::upper_bound(offsets.begin(), offsets.end(), lo) - offsets.begin() - 1);
      for (std::uint64_t s = lo; s < hi; ++s) {
        while (offsets[owner + 1] <= s) ++owner;
        body(s, std::min(owner, n - 1));  // the extra stub of an odd sum belongs to n - 1
      }
    };
    std::vector<std::uint64_t> slot(chunks * buckets, 0);  // counts, then write positions
    for_range(std::uint64_t{0}, chunks, [&](std::uint64_t c) {
      for_chunk(c, [&](std::uint64_t s, std::uint32_t) { ++slot[c * buckets + bucket_of(s)]; });
    });
    std::vector<std::uint64_t> bucket_begin(buckets + 1, 0);
    std::uint64_t position = 0;
    for (std::uint64_t b = 0; b < buckets; ++b) {
      bucket_begin[b] = position;
      for (std::uint64_t c = 0; c < chunks; ++c) {
        const std::uint64_t count = slot[c * buckets + b];
        slot[c * buckets + b] = position;
        position += count;
      }
    }
    bucket_begin[buckets] = position;
    for_range(std::uint64_t{0}, chunks, [&](std::uint64_t c) {
      for_chunk(c, [&](std::uint64_t s, std::uint32_t owner) {
        order[slot[c * buckets + bucket_of(s)]++] = owner;
      });
    });
    for_range(std::uint64_t{0}, buckets, [&](std::uint64_t b) {
      CounterRng rng(seed, Stream::kNetwork, 2, static_cast<std::uint32_t>(b));
      const auto first = order.begin() + bucket_begin[b];
      for (std::uint64_t k = bucket_begin[b + 1] - bucket_begin[b]; k > 1; --k) {
        const std::uint64_t j =
            boost::random::uniform_int_distribution<std::uint64_t>(0, k - 1)(rng);
        std::swap(first[k - 1], first[j]);
      }
    });
  }
  // Pair stubs 2t and 2t + 1; row sizes are the stub counts (offsets), filled by cursors.
  std::vector<std::uint32_t> neighbours;
  resize_for_random_access(neighbours, stubs);
  {
    std::vector<std::uint32_t> cursor;  // updated through std::atomic_ref
    resize_for_random_access(cursor, n);
    for_pieces(std::uint64_t{0}, stubs / 2, kGrain, [&](std::uint64_t lo, std::uint64_t hi) {
      // In batches of 16 pairs, prefetching first (see Batch).
      for (std::uint64_t t0 = lo; t0 < hi; t0 += 16) {
        const std::uint64_t t1 = std::min<std::uint64_t>(hi, t0 + 16);
        for (std::uint64_t s = 2 * t0; s < 2 * t1; ++s) {
          __builtin_prefetch(&cursor[order[s]], 1);
          __builtin_prefetch(&offsets[order[s]], 0);
        }
        for (std::uint64_t s = 2 * t0; s < 2 * t1; ++s)
          __builtin_prefetch(&neighbours[offsets[order[s]]], 1);
        for (std::uint64_t t = t0; t < t1; ++t) {
          const std::uint32_t a = order[2 * t], b = order[2 * t + 1];
          neighbours[offsets[a] + fetch_increment(cursor[a])] = b;
          neighbours[offsets[b] + fetch_increment(cursor[b])] = a;
        }
      }
    });
  }
  std::vector<std::uint32_t>().swap(order);
  sort_and_simplify_rows(n, offsets, neighbours);
  return Network(std::move(offsets), std::move(neighbours));
}

// The given edges. Undirected: {a, b} puts b in a's row and a in b's; directed: (a, b)
// puts b in a's row only (a watches b). Repeated edges are dropped; self-loops are
// rejected (std::invalid_argument naming the edge) or dropped.
Network build_edge_list(std::uint32_t n, const NetworkSpec& spec) {
  const auto& edges = spec.edges;
  const bool drop_loops = spec.self_loops == NetworkSpec::SelfLoops::kDrop;
  for (std::size_t e = 0; e < edges.size(); ++e) {
    const auto [a, b] = edges[e];
    if (a >= n || b >= n)
      throw std::invalid_argument("edge_list: edge " + std::to_string(e) + " (" +
                                  std::to_string(a) + ", " + std::to_string(b) +
                                  ") names an agent id >= " + std::to_string(n));
    if (a == b && !drop_loops)
      throw std::invalid_argument("edge_list: edge " + std::to_string(e) +
                                  " is a self-loop on agent " + std::to_string(a));
  }
  std::vector<std::uint64_t> offsets(std::size_t{n} + 1, 0);
  for (const auto& [a, b] : edges) {
    if (a == b) continue;
    ++offsets[a + 1];
    if (!spec.directed) ++offsets[b + 1];
  }
  std::partial_sum(offsets.begin(), offsets.end(), offsets.begin());
  std::vector<std::uint32_t> neighbours(offsets[n]);
  {
    std::vector<std::uint64_t> cursor(offsets.begin(), offsets.end() - 1);
    for (const auto& [a, b] : edges) {
      if (a == b) continue;
      neighbours[cursor[a]++] = b;
      if (!spec.directed) neighbours[cursor[b]++] = a;
    }
  }
  sort_and_simplify_rows(n, offsets, neighbours);
  return Network(std::move(offsets), std::move(neighbours));
}

}  // namespace

Network::Network(std::vector<std::uint64_t> offsets, std::vector<std::uint32_t> neighbours)
    : offsets_(std::move(offsets)), neighbours_(std::move(neighbours)) {
  if (offsets_.empty() || offsets_.back() != neighbours_.size())
    throw std::invalid_argument("Network: offsets do not match the neighbour list");
  node_count_ = static_cast<std::uint32_t>(offsets_.size() - 1);
}

Network Network::regular(std::uint32_t node_count, std::uint32_t degree,
                         std::vector<std::uint32_t> neighbours) {
  if (neighbours.size() != std::size_t{node_count} * degree)
    throw std::invalid_argument("Network: the neighbour list does not match the degree");
  Network net;
  net.node_count_ = node_count;
  net.degree_ = degree;
  net.neighbours_ = std::move(neighbours);
  return net;
}

std::uint64_t Network::degree(std::uint32_t i) const {
  return offsets_.empty() ? degree_ : offsets_[i + 1] - offsets_[i];
}

DegreeStats Network::degree_stats() const {
  DegreeStats s;
  const std::uint32_t n = node_count();
  if (n == 0) return s;
  s.edges = neighbours_.size();
  s.min = ~std::uint64_t{0};
  double sum_sq = 0.0;
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint64_t d = degree(i);
    s.min = std::min(s.min, d);
    s.max = std::max(s.max, d);
    sum_sq += static_cast<double>(d) * static_cast<double>(d);
  }
  s.mean = static_cast<double>(s.edges) / n;
  s.sd = std::sqrt(std::max(0.0, sum_sq / n - s.mean * s.mean));
  return s;
}

Network build_network(const NetworkSpec& spec, std::uint32_t node_count, std::uint64_t seed,
                      const std::vector<std::uint32_t>& class_begin) {
  switch (spec.kind) {
    case NetworkSpec::Kind::kNone:
    case NetworkSpec::Kind::kComplete:  // the engine uses global counts, not a CSR
      return empty_network(node_count);
    case NetworkSpec::Kind::kKOut:
      return build_k_out(node_count, spec.k, seed);
    case NetworkSpec::Kind::kErdosRenyi:
      return build_erdos_renyi(node_count, spec.mean_degree, seed);
    case NetworkSpec::Kind::kWattsStrogatz:
      return build_watts_strogatz(node_count, spec.k, spec.rewire_probability, seed);
    case NetworkSpec::Kind::kBarabasiAlbert:
      return build_barabasi_albert(node_count, spec.m, seed);
    case NetworkSpec::Kind::kConfiguration:
      return build_configuration(node_count, spec.degree, seed);
    case NetworkSpec::Kind::kStochasticBlock:
      return build_stochastic_block(node_count, spec.block_probability, class_begin, seed);
    case NetworkSpec::Kind::kEdgeList:
      return build_edge_list(node_count, spec);
  }
  throw std::logic_error("build_network: unknown kind");
}

}  // namespace bankrun
