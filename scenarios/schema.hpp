#pragma once
// The scenario schema as data: one table per section of a scenario file. Each row is a key
// with its documentation (type, unit, default, range, meaning: the cells of its row in the
// key tables of scenarios/README.md, which bankrun_schema_doc generates from these rows)
// and where its value goes:
// - a scalar key has a target: a member of the section's spec struct, with its Range or
//   integer bounds. read_scalars() reads it (a "required" default fails when absent; else
//   the spec's default stays), so a new scalar key is one row here plus its spec field;
// - a structured key (distributions, share maps, lists, sub-sections, either/or pairs,
//   names, bounds that depend on other keys) names its reader in scenarios/loader.cpp
//   (by("read_...")); its row still documents it and lets it through allow_only.
// Every section's allow_only list is taken from its table (keys()); cross-key rules stay
// code in the loader. Variant sections (distributions, network types, policy kinds,
// decision rules) list per row the variants that allow the key; the variants' names come
// from the enum <-> name tables (agents/names.hpp, sim/names.hpp), as do the docs' "one
// of ..." texts. A Child names the section a key's value is (or lists), for checking the
// keys on the way of a --set path (check_override_path).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "agents/money.hpp"
#include "agents/names.hpp"
#include "scenarios/yaml_reader.hpp"
#include "sim/scenario.hpp"

namespace bankrun::schema {

using yaml_reader::MapReader;
using yaml_reader::Range;
using yaml_reader::Value;

inline constexpr const char* kDefaultStart = "2022-01-01T00:00:00Z";  // time.start
inline constexpr const char* kDefaultInstitutionName = "bank";        // institutions[k].name

// A USD amount in [0, 1e14] (or (0, 1e14] when `positive`), in cents; a positive amount
// must be at least one cent.
Money read_usd(const Value& v, bool positive);

// The documentation of one key: the cells of its row in scenarios/README.md.
struct KeyDoc {
  std::string key;
  std::string type;
  std::string unit;
  std::string default_text;  // "required": read_scalars fails when the key is absent
  std::string range;
  std::string meaning;
};

// Where a scalar key's value goes and how it is checked; for a key read by code in the
// loader, no member (monostate) but the name of its reader.
template <class Spec>
struct Target {
  using Member = std::variant<std::monostate, double Spec::*, std::optional<double> Spec::*,
                              std::int32_t Spec::*, std::uint32_t Spec::*, std::uint64_t Spec::*,
                              bool Spec::*, std::string Spec::*, Money Spec::*>;
  Member member;
  Range range;          // numbers
  std::int64_t lo = 0;  // integers: lo .. hi
  std::uint64_t hi = 0;
  bool positive = false;         // USD amounts (Money members, read in cents): > 0, else >= 0
  const char* reader = nullptr;  // no member: the loader's function that reads the key

  bool is_custom() const { return std::holds_alternative<std::monostate>(member); }
};

// A number (double), or an optional number (absent: unset).
template <class Spec, class M>
Target<Spec> number(M Spec::*member, Range range) {
  Target<Spec> t;
  t.member = member;
  t.range = range;
  return t;
}
template <class Spec, class T>
Target<Spec> integer(T Spec::*member, std::type_identity_t<T> lo, std::type_identity_t<T> hi) {
  Target<Spec> t;
  t.member = member;
  t.lo = static_cast<std::int64_t>(lo);
  t.hi = static_cast<std::uint64_t>(hi);
  return t;
}
// A bool or a string (any scalar, as written).
template <class Spec, class M>
Target<Spec> plain(M Spec::*member) {
  Target<Spec> t;
  t.member = member;
  return t;
}
// USD in the file, cents in the spec (read_usd).
template <class Spec>
Target<Spec> usd(Money Spec::*member, bool positive) {
  Target<Spec> t;
  t.member = member;
  t.positive = positive;
  return t;
}

// The variants that allow a key (names as in the enum's name table), and a note for the
// docs' "for" column (", with `file`").
struct Variants {
  std::vector<std::string> names;
  std::string note{};
};
// The id of the section a key's value is, or lists the items of.
struct Child {
  std::string id;
};

// A key read by code: `reader` names its function in scenarios/loader.cpp (structured
// values, names, either/or pairs, bounds that depend on other keys). Still a row: for the
// docs, the allow_only list and --set paths.
struct ByCode {
  const char* reader;
};
inline ByCode by(const char* reader) {
  return {reader};
}

template <class Spec>
struct Row {
  // (Constructors, not default member initializers: GCC 12 fails on those here.)
  Row(KeyDoc doc_, Target<Spec> target_, Variants variants_ = Variants(), Child child_ = Child())
      : doc(std::move(doc_)),
        target(std::move(target_)),
        variants(std::move(variants_.names)),
        child(std::move(child_.id)),
        variant_note(std::move(variants_.note)) {}
  Row(KeyDoc doc_, ByCode code, Variants variants_ = Variants(), Child child_ = Child())
      : Row(std::move(doc_), code_target(code), std::move(variants_), std::move(child_)) {}
  Row(KeyDoc doc_, ByCode code, Child child_)
      : Row(std::move(doc_), code_target(code), Variants(), std::move(child_)) {}

  KeyDoc doc;
  Target<Spec> target;
  // Variant sections: the variants that allow the key (names as in the enum's name table);
  // empty: every variant (the selector key and the keys common to all).
  std::vector<std::string> variants;
  // The id of the section the value is, or lists the items of (for --set path checks);
  // empty when the value is a scalar, a list of scalars or a map with free keys.
  std::string child;
  std::string variant_note;  // appended to the variants in the "for" column of the docs

  bool required() const { return doc.default_text == "required"; }
  static Target<Spec> code_target(ByCode code) {
    Target<Spec> t;
    t.reader = code.reader;
    return t;
  }
  bool allowed_in(std::string_view variant) const {
    if (variants.empty()) return true;
    for (const std::string& v : variants)
      if (v == variant) return true;
    return false;
  }
};

// How a section's rows are laid out in scenarios/README.md.
enum class DocLayout {
  kTable,            // one table: key | type | unit | default | range | meaning
  kVariantColumn,    // one table: key | type | default | range | for `SELECTOR` | meaning
  kTablePerVariant,  // the common keys, then one table per variant with its own keys
};

template <class Spec>
struct Section {
  // The key path of the section, with [i] / [k] / [j] for list items
  // ("population.classes[i]"); "scenario" for the top level, "distribution" and
  // "trigger" for the shapes used in several places. It names the README table.
  std::string id;
  std::vector<Row<Spec>> rows;
  std::string selector{};                    // variant sections: the key that picks the variant
  std::vector<std::string> variant_names{};  // in the order of the enum's name table
  DocLayout layout = DocLayout::kTable;

  // Every key once, in row order: the allow_only list.
  std::vector<std::string> keys() const { return keys_for({}, true); }
  // The keys a variant allows, in row order (`all`: every key of every variant).
  std::vector<std::string> keys_for(std::string_view variant, bool all = false) const {
    std::vector<std::string> out;
    for (const Row<Spec>& row : rows)
      if ((all || row.allowed_in(variant)) && !contains(out, row.doc.key))
        out.push_back(row.doc.key);
    return out;
  }
  // Key -> the variants it belongs to (in variant order), for the keys of some variants only.
  std::map<std::string, std::vector<std::string>> owners() const {
    std::map<std::string, std::vector<std::string>> out;
    for (const std::string& variant : variant_names)
      for (const Row<Spec>& row : rows)
        if (!row.variants.empty() && row.allowed_in(variant) &&
            !contains(out[row.doc.key], variant))
          out[row.doc.key].push_back(variant);
    return out;
  }

 private:
  static bool contains(const std::vector<std::string>& list, const std::string& s) {
    for (const std::string& x : list)
      if (x == s) return true;
    return false;
  }
};

// ---- The tables (schema.cpp) ----------------------------------------------------------------

const Section<Scenario>& scenario_section();
const Section<TimeSpec>& time_section();
const Section<PopulationSpec>& population_section();
const Section<InvestorClass>& class_section();
const Section<Distribution>& distribution_section();
const Section<NetworkSpec>& network_section();
const Section<StressSpec>& stress_section();
const Section<DecisionSpec>& decision_section();
const Section<NewsEvent>& news_event_section();
const Section<NewsProcessSpec>& news_process_section();
const Section<InstitutionSpec>& institution_section();
const Section<Trigger>& trigger_section();
const Section<AssetSpec>& asset_section();
const Section<PolicySpec>& policy_section();
const Section<ExposureSpec>& exposure_section();
const Section<OutputSpec>& output_section();
const Section<CalendarSpec>& calendar_section();
const Section<OpeningHours>& opening_hours_section();

// ---- Reading --------------------------------------------------------------------------------

// Reads every scalar key of `section` allowed in `variant` that `m` has into `spec`, with
// the row's range; a required key that is absent fails; other absent keys keep the
// spec's value (its default). Rows are read in table order.
template <class Spec>
void read_scalars(const MapReader& m, const Section<Spec>& section, Spec& spec,
                  std::string_view variant = {}) {
  for (const Row<Spec>& row : section.rows) {
    if (row.target.is_custom() || !row.allowed_in(variant)) continue;
    std::optional<Value> v = m.get(row.doc.key);
    if (!v && row.required()) v = m.required(row.doc.key);  // fails
    if (!v) continue;
    const Target<Spec>& t = row.target;
    std::visit(
        [&](auto member) {
          using M = decltype(member);
          if constexpr (std::is_same_v<M, std::monostate>) {
          } else {
            using T = std::remove_reference_t<decltype(spec.*member)>;
            if constexpr (std::is_same_v<T, double> || std::is_same_v<T, std::optional<double>>)
              spec.*member = v->number(t.range);
            else if constexpr (std::is_same_v<T, bool>)
              spec.*member = v->boolean();
            else if constexpr (std::is_same_v<T, std::string>)
              spec.*member = v->string();
            else if constexpr (std::is_same_v<T, Money>)
              spec.*member = read_usd(*v, t.positive);
            else
              spec.*member = v->template integer<T>(static_cast<T>(t.lo), static_cast<T>(t.hi));
          }
        },
        t.member);
  }
}

// Rejects an override ("key.path=value") whose path goes through a key that no section
// of the schema has, with the nearest valid key, as the loader would for the same key in
// the file. Only the keys on the way are checked (the last one is checked by the loader,
// which knows the variant); paths below free-keyed maps and malformed texts are left to
// yaml_reader::apply_override and the loader.
void check_override_path(const std::string& text);

// ---- Documentation --------------------------------------------------------------------------

// One section's rows without their targets: what the README tables and the --set path
// check need.
struct DocRow {
  KeyDoc doc;
  std::vector<std::string> variants;
  std::string child;
  std::string variant_note;
};
struct DocSection {
  std::string id;
  std::vector<DocRow> rows;
  std::string selector;
  std::vector<std::string> variant_names;
  DocLayout layout = DocLayout::kTable;
};

template <class Spec>
DocSection doc_view(const Section<Spec>& s) {
  DocSection d{s.id, {}, s.selector, s.variant_names, s.layout};
  for (const Row<Spec>& row : s.rows)
    d.rows.push_back({row.doc, row.variants, row.child, row.variant_note});
  return d;
}

// Every section, in the order of scenarios/README.md.
const std::vector<DocSection>& reference();
const DocSection* find_section(std::string_view id);

// The markdown tables, each as "<!-- schema:ID -->\n| key | ... |\n...<!-- /schema -->\n"
// (ID: the section id, and for kTablePerVariant "ID SELECTOR: VARIANT" per variant).
struct MarkdownTable {
  std::string id;
  std::string text;  // the table, without the markers
};
std::vector<MarkdownTable> markdown_tables();

// `readme` with the text between each pair of markers replaced by its generated table.
// Fails (std::runtime_error) on a marker with an unknown id, a missing end marker, or a
// table that has no marker.
std::string rewrite_reference(const std::string& readme);

}  // namespace bankrun::schema
