// The loader on network: types, their parameters and limits, block matrices, edge lists.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "loader_fixtures.hpp"
#include "scenarios/loader.hpp"
#include "scenarios/yaml_reader.hpp"

using namespace bankrun;
using namespace bankrun::loader_test;
namespace yr = bankrun::yaml_reader;

// ---- network ------------------------------------------------------------------------------

TEST_CASE("loader: network types and their parameters") {
  CHECK(load(kMinimal + "network: {type: complete}\n").scenario.network.kind ==
        NetworkSpec::Kind::kComplete);
  const NetworkSpec ws =
      load(kMinimal + "network: {type: watts_strogatz, k: 4, rewire_probability: 0.25}\n")
          .scenario.network;
  CHECK(ws.kind == NetworkSpec::Kind::kWattsStrogatz);
  CHECK(ws.k == 4);
  CHECK(ws.rewire_probability == 0.25);
  const NetworkSpec ws_default =
      load(kMinimal + "network: {type: watts_strogatz}\n").scenario.network;
  CHECK(ws_default.k == 10);
  CHECK(ws_default.rewire_probability == 0.1);
  const NetworkSpec ba =
      load(kMinimal + "network: {type: barabasi_albert, m: 5}\n").scenario.network;
  CHECK(ba.kind == NetworkSpec::Kind::kBarabasiAlbert);
  CHECK(ba.m == 5);
  CHECK(load(kMinimal + "network: {type: barabasi_albert}\n").scenario.network.m == 3);
  const NetworkSpec conf =
      load(kMinimal +
           "network: {type: configuration, degree: {dist: pareto, scale: 2, shape: 2.5}}\n")
          .scenario.network;
  CHECK(conf.kind == NetworkSpec::Kind::kConfiguration);
  CHECK(conf.degree.kind == Distribution::Kind::kPareto);
  CHECK(conf.degree.shape == 2.5);
  CHECK(load(kMinimal + "network: {type: configuration, degree: -3}\n")
            .scenario.network.degree.value == -3.0);  // negative draws become 0 in the engine

  const std::string two_classes =
      replace(kMinimal, "  classes:\n",
              "  classes:\n    - {name: whale, share: 0.1, balance_usd: 1e6, threshold: 0.2}\n");
  const NetworkSpec sbm =
      load(two_classes +
           "network:\n  type: stochastic_block\n  block_probability: [[0.5, 0.01], [0.01, 0.1]]\n")
          .scenario.network;
  CHECK(sbm.kind == NetworkSpec::Kind::kStochasticBlock);
  CHECK(sbm.block_probability == std::vector<std::vector<double>>{{0.5, 0.01}, {0.01, 0.1}});
}

TEST_CASE("loader: network parameter errors") {
  CHECK(contains(error_of(kMinimal + "network: {type: watts_strogatz, k: 5}\n"),
                 "network.k: expected an even k (the ring lattice links k / 2 neighbours on each "
                 "side), got 5"));
  CHECK(contains(error_of(kMinimal + "network: {type: watts_strogatz, k: 100}\n"),
                 "network.k: expected an integer in 2 .. 99, got 100"));
  CHECK(contains(error_of(kMinimal + "network: {type: watts_strogatz, k: 0}\n"),
                 "network.k: expected an integer in 2 .. 99, got 0"));
  CHECK(contains(
      error_of(replace(kMinimal, "agents: 100", "agents: 8") + "network: {type: watts_strogatz}\n"),
      "test.yaml:12:10: network.k: expected k in 2 .. 7 (min(1000, population.agents - "
      "1)), got 10 (the default; set network.k)"));
  CHECK(contains(error_of(replace(kMinimal, "agents: 100", "agents: 2") +
                          "network: {type: watts_strogatz, k: 2}\n"),
                 "network.type: type: watts_strogatz needs population.agents >= 3"));
  CHECK(contains(error_of(kMinimal + "network: {type: watts_strogatz, rewire_probability: 2}\n"),
                 "network.rewire_probability: expected a number in [0, 1], got 2"));
  CHECK(contains(error_of(kMinimal + "network: {type: barabasi_albert, m: 0}\n"),
                 "network.m: expected an integer in 1 .. 99, got 0"));
  CHECK(contains(error_of(replace(kMinimal, "agents: 100", "agents: 1") +
                          "network: {type: barabasi_albert}\n"),
                 "needs population.agents >= 2"));
  CHECK(contains(error_of(replace(kMinimal, "agents: 100", "agents: 3") +
                          "network: {type: barabasi_albert}\n"),
                 "network.m: expected m in 1 .. 2"));
  CHECK(contains(error_of(kMinimal + "network: {type: configuration}\n"),
                 "network.degree: missing required key 'degree' in network"));
  CHECK(contains(error_of(kMinimal + "network: {type: configuration, degree: {dist: normal}}\n"),
                 "network.degree.mean: missing required key 'mean'"));
  // Keys of another type.
  CHECK(contains(error_of(kMinimal + "network: {type: watts_strogatz, m: 3}\n"),
                 "network.m: unknown key 'm' in network (type: watts_strogatz) ('m' is only valid "
                 "with type: barabasi_albert)"));
  CHECK(contains(error_of(kMinimal + "network: {type: barabasi_albert, k: 3}\n"),
                 "('k' is only valid with type: k_out or watts_strogatz)"));
  CHECK(contains(error_of(kMinimal + "network: {type: k_out, rewire_probability: 0.1}\n"),
                 "('rewire_probability' is only valid with type: watts_strogatz)"));
  CHECK(contains(error_of(kMinimal + "network: {type: complete, k: 3}\n"),
                 "unknown key 'k' in network (type: complete)"));
  CHECK(contains(error_of(kMinimal + "network: {type: k_out, directed: true}\n"),
                 "('directed' is only valid with type: edge_list)"));
  CHECK(contains(error_of(kMinimal + "network: {type: watts_strogatz, rewire_probabilty: 0.1}\n"),
                 "did you mean 'rewire_probability'?"));
  CHECK(contains(error_of(kMinimal + "network: {file: e.txt}\n"),
                 "network.file: unknown key 'file' in network ('file' needs type: edge_list)"));
  CHECK(contains(error_of(kMinimal + "network: {type: watts-strogatz}\n"),
                 "did you mean 'watts_strogatz'?"));
}

TEST_CASE("loader: stochastic block matrix errors") {
  const std::string two_classes =
      replace(kMinimal, "  classes:\n",
              "  classes:\n    - {name: whale, share: 0.1, balance_usd: 1e6, threshold: 0.2}\n");
  auto sbm_error = [&](const std::string& matrix) {
    return error_of(two_classes +
                    "network:\n  type: stochastic_block\n  block_probability: " + matrix + "\n");
  };
  CHECK(contains(sbm_error("[[0.5, 0.1], [0.2, 0.3]]"),
                 "test.yaml:15:36: network.block_probability[1][0]: expected a symmetric matrix: "
                 "block_probability[1][0] = 0.2 but block_probability[0][1] = 0.1"));
  CHECK(contains(sbm_error("[[0.5, 0.1]]"),
                 "network.block_probability: expected 2 rows (one per investor class, in class "
                 "order: whale, all), got 1"));
  CHECK(contains(sbm_error("[[0.5, 0.1], [0.1]]"),
                 "network.block_probability[1]: expected 2 entries (one per investor class: the "
                 "matrix is classes x classes), got 1"));
  CHECK(contains(sbm_error("[[0.5, 0.1], [0.1, 1.5]]"),
                 "network.block_probability[1][1]: expected a number in [0, 1], got 1.5"));
  CHECK(
      contains(sbm_error("[0.5, 0.1]"), "network.block_probability[0]: expected a list, got 0.5"));
  CHECK(contains(sbm_error("0.5"), "network.block_probability: expected a list, got 0.5"));
  CHECK(contains(error_of(kMinimal + "network: {type: stochastic_block}\n"),
                 "network.block_probability: missing required key 'block_probability'"));
}

TEST_CASE("loader: edge list read from a file") {
  const TempDir dir;
  dir.write("net/edges.txt",
            "# id pairs\n"
            "0 1\n"
            "\n"
            "1,2   # a comment\n"
            "  3 ,\t4\r\n"
            "99 0\n"
            "5 5\n");
  const std::string path =
      dir.write("scenario.yaml", kMinimal +
                                     "network: {type: edge_list, file: net/edges.txt, "
                                     "self_loops: drop, directed: true}\n");
  const NetworkSpec n = load_scenario_file(path).scenario.network;
  CHECK(n.kind == NetworkSpec::Kind::kEdgeList);
  CHECK(n.directed);
  CHECK(n.self_loops == NetworkSpec::SelfLoops::kDrop);
  using Edges = std::vector<std::pair<std::uint32_t, std::uint32_t>>;
  CHECK(n.edges == Edges{{0, 1}, {1, 2}, {3, 4}, {99, 0}});
  // Defaults: undirected, self-loops rejected.
  dir.write("net/ok.txt", "0 1\n2 3\n");
  const NetworkSpec d =
      load_scenario_file(path, {"network={type: edge_list, file: net/ok.txt}"}).scenario.network;
  CHECK_FALSE(d.directed);
  CHECK(d.self_loops == NetworkSpec::SelfLoops::kReject);
  CHECK(d.edges == Edges{{0, 1}, {2, 3}});
  // An empty edge list is allowed (no peers).
  dir.write("net/empty.txt", "# nothing\n\n");
  CHECK(load_scenario_file(path, {"network.file=net/empty.txt"}).scenario.network.edges.empty());
}

TEST_CASE("loader: edge list errors name the edge file and its line") {
  const TempDir dir;
  const std::string path = dir.write("s.yaml", replace(kMinimal, "agents: 100", "agents: 1000") +
                                                   "network:\n  type: edge_list\n  file: e.txt\n");
  const std::string edges = (dir.path() / "e.txt").string();
  auto edge_error = [&](const std::string& text, const std::vector<std::string>& overrides = {}) {
    dir.write("e.txt", text);
    return file_error(path, overrides);
  };
  CHECK(edge_error("0 1\n# c\n5 1200\n") ==
        edges +
            ":3:3: network.file: agent id 1200 out of range 0 .. 999 (population.agents = "
            "1000)");
  CHECK(edge_error("0 1\n7 7\n") ==
        edges +
            ":2:1: network.file: self-loop: agent 7 is linked to itself (set "
            "network.self_loops: drop to skip self-loops)");
  CHECK(edge_error("0 1 2\n") ==
        edges +
            ":1:1: network.file: expected two agent ids (integers) separated by whitespace "
            "or a comma, got '0 1 2'");
  CHECK(contains(edge_error("0\n"), edges + ":1:1: network.file: expected two agent ids"));
  CHECK(contains(edge_error("1 2\n0 x\n"), edges + ":2:3: network.file: expected two agent ids"));
  CHECK(contains(edge_error("-1 2\n"), edges + ":1:1: network.file: expected two agent ids"));
  CHECK(contains(edge_error("1.5 2\n"), "expected two agent ids"));
  CHECK(contains(edge_error("1,,2\n"), "expected two agent ids"));
  CHECK(contains(edge_error("1 2,\n"), "expected two agent ids"));
  CHECK(contains(edge_error("3 99999999999999999999999\n"),
                 ":1:3: network.file: agent id 99999999999999999999999 out of range 0 .. 999"));
  CHECK(contains(file_error(path, {"network.file=nope.txt"}),
                 "--set network.file=nope.txt: network.file: cannot open '"));
  CHECK(contains(edge_error("1 2\n", {"network.self_loops=keep"}),
                 "network.self_loops: expected one of reject, drop, got 'keep'"));
  CHECK(contains(edge_error("1 2\n", {"network.directed=yes please"}),
                 "network.directed: expected true or false, got 'yes please'"));
  CHECK(contains(edge_error("1 2\n", {"network.directed='true'"}),
                 "expected true or false, got the string \"true\""));
  CHECK(contains(error_of(kMinimal + "network: {type: edge_list}\n"),
                 "network.file: missing required key 'file' in network"));
}
