#pragma once
// The social network between investors, in compressed sparse row form with 32-bit ids:
// the neighbours of agent i are neighbours[offsets[i] .. offsets[i+1]). A network whose
// nodes all have the same degree d (k_out, no network) keeps no offsets: they are i * d.
// Generation is parallel and deterministic in the seed: node i's edges are drawn from
// CounterRng(seed, Stream::kNetwork, 0, i) whatever the thread count.
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "distribution.hpp"

namespace bankrun {

struct NetworkSpec {
  enum class Kind {
    kNone,             // no peers: the peer signal is 0
    kComplete,         // everyone sees everyone (no CSR: the engine uses global counts)
    kKOut,             // k out-neighbours per agent, uniform with replacement, no self-loops
    kErdosRenyi,       // undirected G(n, p) with p = mean_degree / (n - 1)
    kWattsStrogatz,    // ring lattice, k nearest neighbours (k even), rewired with prob. p
    kBarabasiAlbert,   // preferential attachment, m edges per new node
    kConfiguration,    // configuration model: degrees drawn from `degree`, stubs matched
    kStochasticBlock,  // G(n, p) within and between classes, p = block_probability[a][b]
    kEdgeList,         // the given edges (from a file, read by the scenario loader)
  };
  enum class SelfLoops { kReject, kDrop };
  Kind kind = Kind::kNone;
  std::uint32_t k = 10;                                // k_out, watts_strogatz
  double mean_degree = 10.0;                           // erdos_renyi
  double rewire_probability = 0.1;                     // watts_strogatz
  std::uint32_t m = 3;                                 // barabasi_albert
  Distribution degree = Distribution::constant(10.0);  // configuration (rounded, >= 0)
  // stochastic_block: symmetric matrix of edge probabilities between classes.
  std::vector<std::vector<double>> block_probability;
  // edge_list: pairs of agent ids; undirected unless `directed` (then i -> j means i
  // watches j). Duplicate edges are dropped; self-loops rejected or dropped.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> edges;
  bool directed = false;
  SelfLoops self_loops = SelfLoops::kReject;
  bool operator==(const NetworkSpec&) const = default;
};

struct DegreeStats {
  double mean = 0.0, sd = 0.0;
  std::uint64_t min = 0, max = 0, edges = 0;  // edges = total adjacency entries
};

class Network {
 public:
  Network() = default;
  Network(std::vector<std::uint64_t> offsets, std::vector<std::uint32_t> neighbours);
  // Every node has `degree` neighbours: node i's are neighbours[i * degree, (i + 1) * degree).
  static Network regular(std::uint32_t node_count, std::uint32_t degree,
                         std::vector<std::uint32_t> neighbours);

  std::uint32_t node_count() const { return node_count_; }
  std::span<const std::uint32_t> neighbours_of(std::uint32_t i) const {
    if (offsets_.empty()) return {neighbours_.data() + std::size_t{i} * degree_, degree_};
    return {neighbours_.data() + offsets_[i], neighbours_.data() + offsets_[i + 1]};
  }
  bool empty() const { return neighbours_.empty(); }
  DegreeStats degree_stats() const;

 private:
  std::uint64_t degree(std::uint32_t i) const;

  std::uint32_t node_count_ = 0;
  std::uint32_t degree_ = 0;            // of every node, when offsets_ is empty
  std::vector<std::uint64_t> offsets_;  // node_count_ + 1 of them, or none (regular)
  std::vector<std::uint32_t> neighbours_;
};

// class_begin: the class id ranges of the population (for the stochastic block model).
Network build_network(const NetworkSpec& spec, std::uint32_t node_count, std::uint64_t seed,
                      const std::vector<std::uint32_t>& class_begin = {});

}  // namespace bankrun
