#pragma once
// The social network between investors, in compressed sparse row form with 32-bit ids:
// the neighbours of agent i are neighbours[offsets[i] .. offsets[i+1]).
// Generation is parallel and deterministic in the seed: node i's edges are drawn from
// CounterRng(seed, Stream::kNetwork, 0, i) whatever the thread count.
#include <cstdint>
#include <span>
#include <vector>

namespace bankrun {

struct NetworkSpec {
  enum class Kind {
    kNone,        // no peers: the peer signal is 0
    kKOut,        // k out-neighbours per agent, uniform with replacement, no self-loops
    kErdosRenyi,  // undirected G(n, p) with p = mean_degree / (n - 1)
  };
  Kind kind = Kind::kNone;
  std::uint32_t k = 10;
  double mean_degree = 10.0;
};

struct DegreeStats {
  double mean = 0.0, sd = 0.0;
  std::uint64_t min = 0, max = 0, edges = 0;  // edges = total adjacency entries
};

class Network {
 public:
  Network() = default;
  Network(std::vector<std::uint64_t> offsets, std::vector<std::uint32_t> neighbours);

  std::uint32_t node_count() const { return static_cast<std::uint32_t>(offsets_.size() - 1); }
  std::span<const std::uint32_t> neighbours_of(std::uint32_t i) const {
    return {neighbours_.data() + offsets_[i], neighbours_.data() + offsets_[i + 1]};
  }
  bool empty() const { return neighbours_.empty(); }
  DegreeStats degree_stats() const;
  std::size_t memory_bytes() const {
    return offsets_.size() * sizeof(std::uint64_t) + neighbours_.size() * sizeof(std::uint32_t);
  }

 private:
  std::vector<std::uint64_t> offsets_{0};
  std::vector<std::uint32_t> neighbours_;
};

Network build_network(const NetworkSpec& spec, std::uint32_t node_count, std::uint64_t seed);

}  // namespace bankrun
