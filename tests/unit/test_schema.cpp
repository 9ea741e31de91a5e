// The scenario schema (scenarios/schema.*): its documentation columns agree with what the
// loader does with each scalar key (default, range), its key lists are those the loader
// accepts, and --set paths are checked against it.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "loader_fixtures.hpp"
#include "scenarios/loader.hpp"
#include "scenarios/schema.hpp"
#include "scenarios/yaml_reader.hpp"

using namespace bankrun;
using bankrun::loader_test::error_of;
using bankrun::loader_test::kMinimal;
namespace sc = bankrun::schema;

namespace {

// "1e+14" -> "1e14", "1e+09" -> "1e9", "100000" -> "100,000" (from five digits on),
// 2^64 - 1 -> "2^64-1": the docs' spelling of numbers.
std::string doc_number(std::string text) {
  if (text == std::to_string(std::numeric_limits<std::uint64_t>::max())) return "2^64-1";
  if (const std::size_t e = text.find("e+"); e != std::string::npos) {
    std::string exponent = text.substr(e + 2);
    exponent.erase(0, std::min(exponent.find_first_not_of('0'), exponent.size() - 1));
    return text.substr(0, e + 1) + exponent;
  }
  if (text.find_first_not_of("0123456789") != std::string::npos || text.size() < 5) return text;
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i > 0 && (text.size() - i) % 3 == 0) out += ',';
    out += text[i];
  }
  return out;
}

// `text` as inline code.
std::string code(const std::string& text) {
  std::string out(1, '`');
  out += text;
  out += '`';
  return out;
}

std::string doc_range(const yaml_reader::Range& r) {
  std::string text = r.describe();
  if (text.rfind("in ", 0) == 0) text = text.substr(3);
  // Each number of the description in the docs' spelling.
  std::string out, number;
  for (char c : text + " ") {
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == '+' ||
        (c == '-' && number.empty())) {
      number += c;
      continue;
    }
    out += doc_number(number) + c;
    number.clear();
  }
  out.pop_back();
  return out;
}

// The spec's default value of a scalar row, as the docs write it ("" when the docs give no
// single value: unset sentinels, optional values, amounts in cents).
template <class Spec>
std::string default_of(const sc::Target<Spec>& target) {
  static const Spec spec{};
  return std::visit(
      [](auto member) -> std::string {
        using M = decltype(member);
        if constexpr (std::is_same_v<M, std::monostate>) {
          return "";
        } else {
          using T = std::remove_cvref_t<decltype(spec.*member)>;
          const T& value = spec.*member;
          if constexpr (std::is_same_v<T, double>)
            return std::isfinite(value) ? code(doc_number(yaml_reader::format_number(value))) : "";
          else if constexpr (std::is_same_v<T, bool>)
            return value ? "`true`" : "`false`";
          else if constexpr (std::is_same_v<T, std::string>)
            return code("\"" + value + "\"");
          else if constexpr (std::is_same_v<T, std::optional<double>> || std::is_same_v<T, Money>)
            return "";
          else if constexpr (std::is_same_v<T, std::int32_t>)
            return value == kForever ? "" : code(std::to_string(value));
          else
            return code(std::to_string(value));
        }
      },
      target.member);
}

// The range a scalar row checks, as the docs write it ("" when the docs may say anything:
// booleans and strings).
template <class Spec>
std::string range_of(const sc::Target<Spec>& t) {
  return std::visit(
      [&](auto member) -> std::string {
        using M = decltype(member);
        if constexpr (std::is_same_v<M, std::monostate>) {
          return "";
        } else {
          using T = std::remove_cvref_t<decltype(std::declval<Spec>().*member)>;
          if constexpr (std::is_same_v<T, double> || std::is_same_v<T, std::optional<double>>) {
            const std::string r = doc_range(t.range);
            return r.empty() ? "any" : r;
          } else if constexpr (std::is_same_v<T, Money>) {
            return t.positive ? "(0, 1e14], at least one cent" : "[0, 1e14]";
          } else if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::string>) {
            return "";
          } else {
            return doc_number(std::to_string(t.lo)) + " .. " + doc_number(std::to_string(t.hi));
          }
        }
      },
      t.member);
}

// scenarios/loader.cpp, where the keys without a target are read.
const std::string& loader_source() {
  static const std::string text = [] {
    std::string out;
#ifdef BANKRUN_SOURCE_DIR
    std::ifstream in(std::filesystem::path(BANKRUN_SOURCE_DIR) / "scenarios/loader.cpp");
    std::ostringstream buffer;
    buffer << in.rdbuf();
    out = buffer.str();
#endif
    return out;
  }();
  return text;
}

template <class Spec>
void check_docs(const sc::Section<Spec>& section) {
  for (const sc::Row<Spec>& row : section.rows) {
    INFO(section.id << "." << row.doc.key);
    if (row.target.is_custom()) {
      // A key read by code names a function of the loader that exists.
      REQUIRE(row.target.reader != nullptr);
      if (!loader_source().empty())
        CHECK_MESSAGE(
            loader_source().find(std::string(" ") + row.target.reader + "(") != std::string::npos,
            row.target.reader);
      continue;
    }
    CHECK(row.target.reader == nullptr);
    const std::string def = default_of(row.target);
    if (!row.required() && !def.empty()) CHECK(row.doc.default_text == def);
    const std::string range = range_of(row.target);
    // The docs may add a note after the range ("[0, 1]; hot_share + cold_share <= 1"); an
    // unchecked number may also be documented by a blank cell.
    // A number any finite value of which is read may document a cross-key rule instead
    // ("> `low`", checked by the loader's code).
    if (range == "any")
      CHECK((row.doc.range == "any" || row.doc.range.empty() ||
             row.doc.range.find('`') != std::string::npos));
    else if (!range.empty())
      CHECK(row.doc.range.substr(0, range.size()) == range);
  }
}

}  // namespace

TEST_CASE("schema: the documented default and range of every scalar key are those it reads") {
  check_docs(sc::scenario_section());
  check_docs(sc::time_section());
  check_docs(sc::population_section());
  check_docs(sc::class_section());
  check_docs(sc::distribution_section());
  check_docs(sc::network_section());
  check_docs(sc::stress_section());
  check_docs(sc::decision_section());
  check_docs(sc::news_event_section());
  check_docs(sc::news_process_section());
  check_docs(sc::institution_section());
  check_docs(sc::trigger_section());
  check_docs(sc::asset_section());
  check_docs(sc::policy_section());
  check_docs(sc::exposure_section());
  check_docs(sc::output_section());
}

TEST_CASE("schema: key lists and variants") {
  CHECK(sc::time_section().keys() == std::vector<std::string>{"ticks", "tick_hours", "start"});
  const auto& dist = sc::distribution_section();
  CHECK(dist.keys_for("beta") ==
        std::vector<std::string>{"dist", "alpha", "beta", "low", "high", "clip_min", "clip_max"});
  CHECK(dist.owners().at("low") == std::vector<std::string>{"uniform", "beta"});
  CHECK(dist.keys().size() == 17);  // low, high and values once, though two rows each
  CHECK(sc::decision_section().keys_for("threshold") ==
        std::vector<std::string>{"rule", "comparison"});
  CHECK(sc::policy_section().keys_for("gate") ==
        std::vector<std::string>{"kind", "label", "when", "fraction_per_day"});
  // Every child names a section.
  for (const sc::DocSection& s : sc::reference())
    for (const sc::DocRow& row : s.rows)
      if (!row.child.empty()) CHECK_MESSAGE(sc::find_section(row.child) != nullptr, row.child);
}

TEST_CASE("schema: every table has its marker in the README text, once") {
  const std::string text = "intro\n<!-- schema:time -->\nold\n<!-- /schema -->\nend\n";
  CHECK_THROWS_WITH(sc::rewrite_reference(text), doctest::Contains("no marker <!-- schema:"));
  std::string all;
  for (const auto& t : sc::markdown_tables())
    all += std::string("<!-- schema:").append(t.id).append(" -->\n<!-- /schema -->\n");
  const std::string written = sc::rewrite_reference(std::string("a\n").append(all).append("b\n"));
  CHECK(sc::rewrite_reference(written) == written);
  CHECK(written.find("| `tick_hours` | number | hours | `1` | (0, 8760] | Length of one tick. |") !=
        std::string::npos);
  CHECK_THROWS_WITH(sc::rewrite_reference(all + "<!-- schema:nope -->\n<!-- /schema -->\n"),
                    doctest::Contains("no schema table named 'nope'"));
  CHECK_THROWS_WITH(sc::rewrite_reference(all + all), doctest::Contains("two markers"));
}

TEST_CASE("schema: --set paths through unknown keys are rejected with the nearest key") {
  // A key on the way that no section has: today's unknown-key message, naming the override.
  CHECK(error_of(kMinimal, {"population.clases[0].share=2"}) ==
        "--set population.clases[0].share=2: population.clases: unknown key 'clases' in "
        "population; did you mean 'classes'?");
  CHECK(error_of(kMinimal, {"netwrk.type=k_out"}) ==
        "--set netwrk.type=k_out: netwrk: unknown key 'netwrk' at the top level; did you mean "
        "'network'?");
  CHECK(error_of(kMinimal, {"institutions[0].hlt.at_tick=3"}) ==
        "--set institutions[0].hlt.at_tick=3: institutions[0].hlt: unknown key 'hlt' in "
        "institutions[0]; did you mean 'halt'?");
  CHECK(error_of(kMinimal, {"news_process.magnitud.dist=normal"}) ==
        "--set news_process.magnitud.dist=normal: news_process.magnitud: unknown key 'magnitud' "
        "in news_process; did you mean 'magnitude'?");
  // The last key is checked by the loader, which knows the variant.
  CHECK(error_of(kMinimal, {"network.m=3"}) ==
        "--set network.m=3: network.m: unknown key 'm' in network ('m' needs type: "
        "barabasi_albert); valid keys: type");
  CHECK(error_of(kMinimal, {"population.classes[0].noise_sd.dits=normal"}) ==
        "--set population.classes[0].noise_sd.dits=normal: population.classes[0].noise_sd.dits: "
        "unknown key 'dits' in population.classes[0].noise_sd; did you mean 'dist'?");
  // Below free-keyed maps (accounts) the names are the loader's to check.
  CHECK(error_of(kMinimal, {"population.classes[0].accounts.bnk=1"})
            .find("unknown institution 'bnk'") != std::string::npos);
  // Valid paths still load.
  CHECK(error_of(kMinimal, {"institutions[0].halt.at_tick=3", "population.classes[0].share=2"}) ==
        "(no error)");
}
