// The strict YAML reader's helpers (scenarios/yaml_reader.*): edit distances and
// suggestions, numbers, UTC timestamps.
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

// ---- reader helpers -----------------------------------------------------------------------

TEST_CASE("yaml_reader: levenshtein and suggestions") {
  CHECK(yr::levenshtein("kitten", "sitting") == 3);
  CHECK(yr::levenshtein("", "abc") == 3);
  CHECK(yr::levenshtein("abc", "") == 3);
  CHECK(yr::levenshtein("share", "share") == 0);
  CHECK(yr::levenshtein("shares", "share") == 1);
  CHECK(yr::levenshtein("tick_hour", "tick_hours") == 1);
  CHECK(yr::nearest("shares", {"name", "share"}) == std::optional<std::string>("share"));
  CHECK(yr::nearest("xyz", {"name", "share"}) == std::nullopt);
  // Threshold max(2, len / 3): 3 edits are allowed for a 9-letter word, not for a 6-letter one.
  CHECK(yr::nearest("attentxxx", {"attention"}) == std::optional<std::string>("attention"));
  CHECK(yr::nearest("abcxyz", {"abcdef"}) == std::nullopt);
  CHECK(yr::suggestion("shares", {"share"}) == "did you mean 'share'?");
  CHECK(yr::suggestion("zzz", {"a", "b"}) == "valid keys: a, b");
}

TEST_CASE("yaml_reader: numbers") {
  using yr::NumberStatus;
  CHECK(yr::parse_number("1e6").value == 1e6);
  CHECK(yr::parse_number("+1.5").value == 1.5);
  CHECK(yr::parse_number("-.5").value == -0.5);
  CHECK(yr::parse_number("1.").status == NumberStatus::kOk);
  CHECK(yr::parse_number("1e-400").value == 0.0);
  CHECK(yr::parse_number("abc").status == NumberStatus::kNotANumber);
  CHECK(yr::parse_number("0x10").status == NumberStatus::kNotANumber);
  CHECK(yr::parse_number("1e").status == NumberStatus::kNotANumber);
  CHECK(yr::parse_number("").status == NumberStatus::kNotANumber);
  CHECK(yr::parse_number(".").status == NumberStatus::kNotANumber);
  CHECK(yr::parse_number(".inf").status == NumberStatus::kNonFinite);
  CHECK(yr::parse_number("-.Inf").status == NumberStatus::kNonFinite);
  CHECK(yr::parse_number(".NaN").status == NumberStatus::kNonFinite);
  CHECK(yr::parse_number("1e400").status == NumberStatus::kNonFinite);
  CHECK(yr::Range::above(0).describe() == "> 0");
  CHECK(yr::Range::open_closed(0, 8760).describe() == "in (0, 8760]");
  CHECK(yr::format_number(0.1) == "0.1");
}

TEST_CASE("yaml_reader: UTC timestamps") {
  CHECK(yr::days_from_civil(1970, 1, 1) == 0);
  CHECK(yr::days_from_civil(2000, 3, 1) == 11017);
  CHECK(yr::days_from_civil(1969, 12, 31) == -1);
  CHECK(yr::parse_utc_timestamp("2022-11-06T15:47:00Z").unix_seconds == 1667749620);
  CHECK(yr::parse_utc_timestamp("2022-11-06T15:47Z").unix_seconds == 1667749620);
  CHECK(yr::parse_utc_timestamp("2022-11-06").unix_seconds == 1667692800);
  CHECK(yr::parse_utc_timestamp("1900-03-01").error.empty());
  CHECK(!yr::parse_utc_timestamp("1900-02-29").error.empty());  // not a leap year
  CHECK(yr::parse_utc_timestamp("2000-02-29").error.empty());   // leap year
  CHECK(!yr::parse_utc_timestamp("2022-11-06T15:47:00").error.empty());
  CHECK(!yr::parse_utc_timestamp("2022-11-06T15:47:60Z").error.empty());
  CHECK(!yr::parse_utc_timestamp("22-11-06").error.empty());
  CHECK(!yr::parse_utc_timestamp("0000-01-01").error.empty());
  CHECK(yr::format_utc_timestamp(0) == "1970-01-01T00:00:00Z");
  CHECK(yr::format_utc_timestamp(1667749620) == "2022-11-06T15:47:00Z");
  CHECK(yr::format_utc_timestamp(-1) == "1969-12-31T23:59:59Z");
  CHECK(yr::format_utc_timestamp(yr::parse_utc_timestamp("9999-12-31T23:59:59Z").unix_seconds) ==
        "9999-12-31T23:59:59Z");
  CHECK(yr::format_utc_timestamp(yr::parse_utc_timestamp("0001-01-01").unix_seconds) ==
        "0001-01-01T00:00:00Z");
}
