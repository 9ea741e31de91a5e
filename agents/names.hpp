// The one enum <-> name table of each named enum of agents/ (distribution kinds, network
// types, self-loop handling). The scenario loader reads these names, the HDF5 writer writes
// them and the messages list them: add an enum value here, and every one of them knows it.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "agents/distribution.hpp"
#include "agents/network.hpp"

namespace bankrun {

// One row of an enum <-> name table. `name` is a string literal (NUL-terminated).
template <class Enum>
struct EnumName {
  Enum value;
  const char* name;
};

// The name of `value` in `table`, or "unknown" for a value the table lacks.
template <class Enum, std::size_t N>
constexpr const char* name_in(const std::array<EnumName<Enum>, N>& table, Enum value) {
  for (const auto& row : table)
    if (row.value == value) return row.name;
  return "unknown";
}

// The names of `table`, in table order (the loaders' "expected one of ..." lists).
template <class Enum, std::size_t N>
std::vector<std::string> names_of(const std::array<EnumName<Enum>, N>& table) {
  std::vector<std::string> names;
  for (const auto& row : table) names.push_back(row.name);
  return names;
}

// In the order the loader lists them in its messages ("expected one of ...").
inline constexpr std::array<EnumName<Distribution::Kind>, 8> kDistributionKindNames{{
    {Distribution::Kind::kConstant, "constant"},
    {Distribution::Kind::kUniform, "uniform"},
    {Distribution::Kind::kNormal, "normal"},
    {Distribution::Kind::kLognormal, "lognormal"},
    {Distribution::Kind::kPareto, "pareto"},
    {Distribution::Kind::kBeta, "beta"},
    {Distribution::Kind::kEmpirical, "empirical"},
    {Distribution::Kind::kExact, "exact"},
}};

inline constexpr std::array<EnumName<NetworkSpec::Kind>, 9> kNetworkKindNames{{
    {NetworkSpec::Kind::kNone, "none"},
    {NetworkSpec::Kind::kComplete, "complete"},
    {NetworkSpec::Kind::kKOut, "k_out"},
    {NetworkSpec::Kind::kErdosRenyi, "erdos_renyi"},
    {NetworkSpec::Kind::kWattsStrogatz, "watts_strogatz"},
    {NetworkSpec::Kind::kBarabasiAlbert, "barabasi_albert"},
    {NetworkSpec::Kind::kConfiguration, "configuration"},
    {NetworkSpec::Kind::kStochasticBlock, "stochastic_block"},
    {NetworkSpec::Kind::kEdgeList, "edge_list"},
}};

inline constexpr std::array<EnumName<NetworkSpec::SelfLoops>, 2> kSelfLoopsNames{{
    {NetworkSpec::SelfLoops::kReject, "reject"},
    {NetworkSpec::SelfLoops::kDrop, "drop"},
}};

constexpr const char* name_of(Distribution::Kind k) {
  return name_in(kDistributionKindNames, k);
}
constexpr const char* name_of(NetworkSpec::Kind k) {
  return name_in(kNetworkKindNames, k);
}
constexpr const char* name_of(NetworkSpec::SelfLoops s) {
  return name_in(kSelfLoopsNames, s);
}

}  // namespace bankrun
