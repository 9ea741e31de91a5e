#include "branch.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "limits.hpp"

namespace bankrun {
namespace {

const StateItem& item_named(const SimulationState& state, std::string_view name) {
  const auto it = std::find_if(state.items.begin(), state.items.end(),
                               [&](const StateItem& i) { return i.name == name; });
  if (it == state.items.end()) throw CheckpointError(std::string(name), "missing");
  return *it;
}

template <class T>
std::vector<T> values_of(const StateItem& item) {
  if (item.element_size != sizeof(T) || item.bytes.size() != item.count * sizeof(T))
    throw CheckpointError(item.name, "not of the expected element size");
  std::vector<T> out(item.count);
  if (!out.empty()) std::memcpy(out.data(), item.bytes.data(), item.bytes.size());
  return out;
}

template <class T>
void set_values(StateItem& item, const std::vector<T>& values) {
  item.element_size = sizeof(T);
  item.count = values.size();
  item.bytes.resize(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(item.bytes.data(), values.data(), item.bytes.size());
}

std::string tick_text(std::int32_t t) {
  return "tick " + std::to_string(t);
}

// Everything but policies, halts and news must be the parent's.
void check_fixed_parts(const Scenario& parent, const Scenario& child) {
  Scenario same = child;
  same.name = parent.name;
  same.description = parent.description;
  same.news = parent.news;
  if (same.institutions.size() != parent.institutions.size())
    throw BranchError("institutions cannot be added or removed in a branch");
  for (std::size_t k = 0; k < same.institutions.size(); ++k) {
    same.institutions[k].policies = parent.institutions[k].policies;
    same.institutions[k].halt = parent.institutions[k].halt;
  }
  if (same == parent) return;
  const auto section = [&]() -> std::string {
    if (same.seed != parent.seed) return "seed";
    if (!(same.time == parent.time)) return "time";
    if (!(same.population == parent.population)) return "population";
    if (!(same.network == parent.network)) return "network";
    if (!(same.stress == parent.stress)) return "stress";
    if (!(same.news_process == parent.news_process)) return "news_process";
    if (!(same.decision == parent.decision)) return "decision";
    if (same.currencies != parent.currencies) return "currencies";
    if (!(same.output == parent.output)) return "output";
    for (std::size_t k = 0; k < same.institutions.size(); ++k)
      if (!(same.institutions[k] == parent.institutions[k]))
        return "institutions." + parent.institutions[k].name + " (other than halt and policies)";
    return "the scenario";
  }();
  throw BranchError(section +
                    " cannot change in a branch: the state at the branch tick was built with it "
                    "(a branch may change institutions' halt and policies, and news at or after "
                    "the branch tick)");
}

// News before the branch tick happened as the parent had it.
void check_news(const Scenario& parent, const Scenario& child, std::int32_t t) {
  const auto before = [t](const Scenario& s) {
    std::vector<NewsEvent> out;
    for (const NewsEvent& e : s.news)
      if (e.tick < t) out.push_back(e);
    return out;
  };
  if (before(parent) != before(child))
    throw BranchError("news before the branch at " + tick_text(t) +
                      " cannot change: only events at or after it may be added, changed or "
                      "removed");
}

void check_halt(const InstitutionSpec& parent, const InstitutionSpec& child,
                std::int32_t parent_halt_tick, std::int32_t t) {
  if (child.halt == parent.halt) return;
  if (parent_halt_tick != kForever)
    throw BranchError("institutions." + parent.name + ".halt cannot change: it halted at " +
                      tick_text(parent_halt_tick) + ", before the branch at " + tick_text(t));
  if (child.halt.at_tick < t)
    throw BranchError("institutions." + parent.name + ".halt at " + tick_text(child.halt.at_tick) +
                      " is before the branch at " + tick_text(t) +
                      "; branch from an earlier checkpoint");
}

// The fired ticks and armed flags of the child's policies, from the parent's.
struct PolicyBook {
  std::vector<std::int32_t> fired;
  std::vector<char> armed;
};

PolicyBook map_policies(const Scenario& parent, const Scenario& child, const PolicyBook& from,
                        std::int32_t t) {
  PolicyBook to;
  std::size_t parent_begin = 0;
  for (std::size_t k = 0; k < child.institutions.size(); ++k) {
    const auto& old_list = parent.institutions[k].policies;
    const auto& new_list = child.institutions[k].policies;
    std::vector<bool> taken(old_list.size(), false);
    for (const PolicySpec& p : new_list) {
      std::size_t j = 0;
      while (j < old_list.size() && (taken[j] || !(old_list[j] == p))) ++j;
      if (j < old_list.size()) {
        taken[j] = true;
        to.fired.push_back(from.fired[parent_begin + j]);
        to.armed.push_back(from.armed[parent_begin + j]);
        continue;
      }
      if (p.trigger.at_tick < t)
        throw BranchError("institutions." + child.institutions[k].name + ".policies: '" + p.label +
                          "' is scheduled at " + tick_text(p.trigger.at_tick) +
                          ", before the branch at " + tick_text(t) +
                          "; branch from an earlier checkpoint");
      to.fired.push_back(kForever);
      to.armed.push_back(0);
    }
    for (std::size_t j = 0; j < old_list.size(); ++j)
      if (!taken[j] && from.fired[parent_begin + j] != kForever)
        throw BranchError("institutions." + child.institutions[k].name + ".policies: '" +
                          old_list[j].label + "' fired at " +
                          tick_text(from.fired[parent_begin + j]) + ", before the branch at " +
                          tick_text(t) + "; a branch cannot change or remove it");
    parent_begin += old_list.size();
  }
  return to;
}

}  // namespace

SimulationState branch_state(const SimulationState& parent_state, const Scenario& parent,
                             std::string_view parent_digest, const SimulationState& child_fresh,
                             const Scenario& child) {
  check_state_header(parent_state, parent_digest);
  const std::int32_t t = values_of<std::int32_t>(item_named(parent_state, "tick")).at(0);
  check_fixed_parts(parent, child);
  check_news(parent, child, t);
  for (std::size_t k = 0; k < parent.institutions.size(); ++k) {
    const std::string item = "institution." + std::to_string(k) + ".halt_tick";
    check_halt(parent.institutions[k], child.institutions[k],
               values_of<std::int32_t>(item_named(parent_state, item)).at(0), t);
  }
  const PolicyBook book =
      map_policies(parent, child,
                   {values_of<std::int32_t>(item_named(parent_state, "policies.fired")),
                    values_of<char>(item_named(parent_state, "policies.armed"))},
                   t);

  // The child's layout; each item the parent's, but for the policy bookkeeping.
  SimulationState out = child_fresh;
  for (StateItem& item : out.items) {
    if (item.name == "policies.fired") {
      set_values(item, book.fired);
    } else if (item.name == "policies.armed") {
      set_values(item, book.armed);
    } else if (item.name == "policies.last_request") {
      // Tracked only where some policy is a gate: a gate new in the branch counts requests
      // from the branch tick on (the parent did not track those before it).
      const StateItem& old = item_named(parent_state, item.name);
      if (old.count == item.count) item = old;
    } else {
      item = item_named(parent_state, item.name);
    }
  }
  return out;
}

}  // namespace bankrun
