// The enum <-> name tables (agents/names.hpp, sim/names.hpp): one row per enum value, names
// unique, name_of() round-trips.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "agents/names.hpp"
#include "sim/names.hpp"

using namespace bankrun;

namespace {

template <class Table>
void check_table(const Table& table, std::size_t enum_values) {
  CHECK(table.size() == enum_values);
  std::set<std::string> names, values;
  for (const auto& row : table) {
    names.insert(row.name);
    values.insert(std::to_string(static_cast<int>(row.value)));
    CHECK(std::string(name_of(row.value)) == row.name);
  }
  CHECK(names.size() == table.size());
  CHECK(values.size() == table.size());
}

}  // namespace

TEST_CASE("names: every enum <-> name table has one row per value and unique names") {
  check_table(kDistributionKindNames, 8);
  check_table(kNetworkKindNames, 9);
  check_table(kSelfLoopsNames, 2);
  check_table(kPolicyKindNames, 5);
  check_table(kDecisionRuleNames, 2);
  check_table(kComparisonNames, 2);
  check_table(kPeerMeasureNames, 2);
  CHECK(std::string(name_of(static_cast<PolicySpec::Kind>(99))) == "unknown");
}

TEST_CASE("names: the distribution table agrees with agents' to_string") {
  for (const auto& row : kDistributionKindNames) CHECK(to_string(row.value) == row.name);
}
