// The HDF5 run writer. Layout: output/README.md. (Only output/ includes hdf5.h: this file,
// the helpers hdf5_handle.hpp and hdf5_compound.hpp, and the sweep index sweep/merge.cpp.)
#include "hdf5_writer.hpp"

#include <hdf5.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "output/hdf5_compound.hpp"
#include "output/hdf5_handle.hpp"
#include "sim/names.hpp"

namespace bankrun {
namespace {

constexpr int kFormatVersion = 3;
// Ticks buffered in memory between two writes; also the chunk length of every per-tick
// dataset, so each flush of a full block writes whole chunks.
constexpr std::size_t kBlock = 1024;
constexpr unsigned kDeflateLevel = 4;
// Fixed width (bytes, NUL terminator included) of the string fields of compound rows.
constexpr std::size_t kLabelBytes = 64;

// Owned HDF5 identifiers, errors, attributes and compound rows (output/hdf5_handle.hpp,
// output/hdf5_compound.hpp)

using hdf5::CompoundType;
using hdf5::Handle;

// ---------------------------------------------------------------------------------------
// Per-tick columns

// Copies one field of n buffered rows (TickRecord, InstitutionTick or ClassTick) into `out`
// as T.
template <typename Row>
using Fill = void (*)(const Row* rows, std::size_t n, void* out);

template <typename Row, typename T, auto Get>
void fill(const Row* rows, std::size_t n, void* out) {
  T* o = static_cast<T*>(out);
  for (std::size_t i = 0; i < n; ++i) o[i] = static_cast<T>(Get(rows[i]));
}

enum class ColumnType { kInt32, kInt64, kFloat64, kUint8 };

// A sum of money in cents, as USD (float64).
template <typename Row, auto GetCents>
void fill_usd(const Row* rows, std::size_t n, void* out) {
  double* o = static_cast<double*>(out);
  for (std::size_t i = 0; i < n; ++i) o[i] = cents_to_usd(GetCents(rows[i]));
}

// One per-tick dataset, filled from one field of Row: 1-D [tick] (population and institution
// series), or 2-D [tick, item] (item: an investor class, or an asset of an institution).
template <typename Row>
struct ColumnSpec {
  const char* group;  // population columns: absolute group path; institution columns: a
                      // subgroup of /institutions/<name> ("" = the institution group itself);
                      // class and asset columns: "" (their table's group)
  std::string name;
  ColumnType type;
  const char* units;
  std::string description;
  Fill<Row> fill;
  Fill<Row> usd_fill = nullptr;  // set on a money column until with_money_pairs expands it
};

// A money column: a sum of money (GetCents: a field of Row in cents) written twice by
// with_money_pairs, as `<name>` in USD (float64) and `<name>_cents` (int64, exact).
template <typename Row, auto GetCents>
ColumnSpec<Row> money(const char* group, const char* name, const char* description) {
  return {group,
          name,
          ColumnType::kInt64,
          "USD cents",
          description,
          &fill<Row, std::int64_t, GetCents>,
          &fill_usd<Row, GetCents>};
}
// The columns to write: each money column becomes its USD column ("<description>
// (<name>_cents / 100)") followed by its cents column ("<description>, exact").
template <typename Spec>
std::vector<Spec> with_money_pairs(std::initializer_list<Spec> specs) {
  std::vector<Spec> out;
  for (const Spec& spec : specs) {
    if (spec.usd_fill == nullptr) {
      out.push_back(spec);
      continue;
    }
    Spec usd = spec;
    usd.type = ColumnType::kFloat64;
    usd.units = "USD";
    usd.description = spec.description + " (" + spec.name + "_cents / 100)";
    usd.fill = spec.usd_fill;
    usd.usd_fill = nullptr;
    Spec cents = spec;
    cents.name = spec.name + "_cents";
    cents.description = spec.description + ", exact";
    cents.usd_fill = nullptr;
    out.push_back(std::move(usd));
    out.push_back(std::move(cents));
  }
  return out;
}

template <typename T, auto Get>
constexpr Fill<TickRecord> from_record = &fill<TickRecord, T, Get>;
template <typename T, auto Get>
constexpr Fill<InstitutionTick> from_institution = &fill<InstitutionTick, T, Get>;
template <typename T, auto Get>
constexpr Fill<ClassTick> from_class = &fill<ClassTick, T, Get>;
template <typename T, auto Get>
constexpr Fill<AssetTick> from_asset = &fill<AssetTick, T, Get>;

// Base units of an asset (1e-8) as units of the asset.
double asset_units(std::int64_t base_units) {
  return static_cast<double>(base_units) * kAssetUnit;
}

// Population-level columns (from TickRecord), one dataset each.
// clang-format off
const std::vector<ColumnSpec<TickRecord>> kColumns = with_money_pairs<ColumnSpec<TickRecord>>({
  {"/time", "tick", ColumnType::kInt32, "tick",
   "tick index t (0-based); tick t covers [start + t*tick_hours, start + (t+1)*tick_hours)",
   from_record<std::int32_t, [](const TickRecord& r) { return r.tick; }>},
  {"/population", "withdrawn_agents", ColumnType::kInt64, "agents",
   "agents that have decided to withdraw at least once, cumulative",
   from_record<std::int64_t, [](const TickRecord& r) { return r.withdrawn_agents; }>},
  {"/population", "new_withdrawals", ColumnType::kInt64, "agents",
   "agents that decided to withdraw this tick",
   from_record<std::int64_t, [](const TickRecord& r) { return r.new_withdrawals; }>},
  {"/population", "paid_agents", ColumnType::kInt64, "agents",
   "agents whose claim is fully paid out (claim 0) at the end of the tick",
   from_record<std::int64_t, [](const TickRecord& r) { return r.paid_agents; }>},
  {"/population", "acting_agents", ColumnType::kInt64, "agents",
   "agents that evaluated the decision rule this tick",
   from_record<std::int64_t, [](const TickRecord& r) { return r.acting_agents; }>},
  {"/population", "stress_mean", ColumnType::kFloat64, "stress",
   "mean stress S_i(t) over the acting agents (0 if none acted)",
   from_record<double, [](const TickRecord& r) { return r.stress_mean; }>},
  money<TickRecord, [](const TickRecord& r) { return r.self_custody; }>(
      "/population", "self_custody",
      "funds withdrawn to self-custody (outside every institution) at the end of the tick"),
  {"/signals", "activity", ColumnType::kFloat64, "probability",
   "a(t): the calendar's chance for an agent to act on its decision this tick (1 without a "
   "calendar)",
   from_record<double, [](const TickRecord& r) { return r.activity; }>},
  {"/signals", "news", ColumnType::kFloat64, "stress units",
   "total news value at tick t: sum of A_j exp(-(t - t_j)/tau_j) over the active events "
   "(whatever their target)",
   from_record<double, [](const TickRecord& r) { return r.news_signal; }>},
});

// Per-institution columns (from InstitutionTick): created once in every
// /institutions/<name> group.
const std::vector<ColumnSpec<InstitutionTick>> kInstitutionColumns =
    with_money_pairs<ColumnSpec<InstitutionTick>>({
  money<InstitutionTick, [](const InstitutionTick& r) { return r.deposits; }>(
      "", "deposits", "customers' claims outstanding at the end of the tick"),
  {"", "requests", ColumnType::kFloat64, "USD",
   "value of the withdrawal requests submitted this tick",
   from_institution<double, [](const InstitutionTick& r) { return cents_to_usd(r.requested); }>},
  money<InstitutionTick, [](const InstitutionTick& r) { return r.paid; }>(
      "", "payments", "value paid out this tick, to self-custody or to other institutions"),
  money<InstitutionTick, [](const InstitutionTick& r) { return r.transfers_out; }>(
      "", "transfers_out", "the part of this tick's payments sent on to other institutions"),
  money<InstitutionTick, [](const InstitutionTick& r) { return r.inflows; }>(
      "", "inflows", "value re-deposited from self-custody this tick"),
  money<InstitutionTick, [](const InstitutionTick& r) { return r.transfers_in; }>(
      "", "transfers_in", "value arriving from other institutions' payments this tick"),
  {"", "queue_value", ColumnType::kFloat64, "USD",
   "unpaid value of the withdrawal queue at the end of the tick",
   from_institution<double, [](const InstitutionTick& r) { return cents_to_usd(r.queue_value); }>},
  {"", "queue_count", ColumnType::kInt64, "requests",
   "requests waiting in the queue at the end of the tick",
   from_institution<std::int64_t, [](const InstitutionTick& r) { return r.queue_count; }>},
  {"", "oldest_wait", ColumnType::kInt32, "ticks",
   "ticks the oldest unpaid request has waited at the end of the tick (0 if none)",
   from_institution<std::int32_t, [](const InstitutionTick& r) { return r.oldest_wait_ticks; }>},
  {"", "hot_reserves", ColumnType::kFloat64, "USD",
   "hot (immediately payable) reserves at the end of the tick",
   from_institution<double, [](const InstitutionTick& r) { return cents_to_usd(r.hot); }>},
  {"", "cold_reserves", ColumnType::kFloat64, "USD",
   "cold reserves at the end of the tick",
   from_institution<double, [](const InstitutionTick& r) { return cents_to_usd(r.cold); }>},
  {"", "in_transit", ColumnType::kFloat64, "USD",
   "cold funds on their way to hot reserves at the end of the tick",
   from_institution<double, [](const InstitutionTick& r) { return cents_to_usd(r.in_transit); }>},
  {"", "illiquid", ColumnType::kFloat64, "USD",
   "illiquid assets (at par) at the end of the tick",
   from_institution<double, [](const InstitutionTick& r) { return cents_to_usd(r.illiquid); }>},
  {"", "claims_on_institutions", ColumnType::kFloat64, "USD",
   "exposures to other institutions at the end of the tick, after write-downs",
   from_institution<double, [](const InstitutionTick& r) { return cents_to_usd(r.claims_on_institutions); }>},
  {"", "write_downs", ColumnType::kFloat64, "USD",
   "exposures to other institutions written down this tick",
   from_institution<double, [](const InstitutionTick& r) { return cents_to_usd(r.write_downs); }>},
  {"", "equity", ColumnType::kFloat64, "USD",
   "hot + cold + in transit + illiquid + market assets (securities held to maturity at book) + "
   "claims on institutions - deposits - lender-of-last-resort loans - debts to other "
   "institutions",
   from_institution<double, [](const InstitutionTick& r) { return cents_to_usd(r.equity); }>},
  {"", "insolvent", ColumnType::kUint8, "flag",
   "1 when equity < 0 at the end of the tick, else 0",
   from_institution<std::uint8_t, [](const InstitutionTick& r) { return r.insolvent ? 1 : 0; }>},
  {"", "injections", ColumnType::kFloat64, "USD",
   "lender-of-last-resort injections into hot reserves this tick",
   from_institution<double, [](const InstitutionTick& r) { return cents_to_usd(r.injections); }>},
  money<InstitutionTick, [](const InstitutionTick& r) { return r.capital_raised; }>(
      "", "capital_raised", "new equity raised this tick (capital_raise policy)"),
  money<InstitutionTick, [](const InstitutionTick& r) { return r.equity_at_market; }>(
      "", "equity_at_market",
      "equity with every asset at its market price (securities held to maturity included)"),
  money<InstitutionTick, [](const InstitutionTick& r) { return r.unrealised_loss; }>(
      "", "unrealised_loss",
      "book - market value of the securities held to maturity at the end of the tick"),
  money<InstitutionTick, [](const InstitutionTick& r) { return r.liquidation_proceeds; }>(
      "", "liquidation_proceeds",
      "what illiquid book sold early this tick raised (illiquid_liquidation_value)"),
  money<InstitutionTick, [](const InstitutionTick& r) { return r.matured; }>(
      "", "matured", "final date (last tick, final_payout): what the illiquid book matured to"),
  money<InstitutionTick, [](const InstitutionTick& r) { return r.final_surplus; }>(
      "", "final_surplus", "final date: paid to depositors on top of their claims"),
  money<InstitutionTick, [](const InstitutionTick& r) { return r.written_off; }>(
      "", "written_off", "final date: claims the final payout could not cover"),
  {"", "open", ColumnType::kUint8, "flag",
   "1 when the tick is in the institution's opening hours (cash payouts and cold-to-hot "
   "moves), else 0",
   from_institution<std::uint8_t, [](const InstitutionTick& r) { return r.open ? 1 : 0; }>},
  {"", "halted", ColumnType::kUint8, "flag",
   "1 once the institution has suspended convertibility, else 0",
   from_institution<std::uint8_t, [](const InstitutionTick& r) { return r.halted ? 1 : 0; }>},
  {"signals", "flow", ColumnType::kFloat64, "share of deposits",
   "flow signal G(t-1) of this institution, seen by its depositors at tick t",
   from_institution<double, [](const InstitutionTick& r) { return r.flow_signal; }>},
  {"signals", "price", ColumnType::kFloat64, "share",
   "price signal X(t-1) seen by its depositors at tick t: the institution's own token's "
   "drawdown 1 - P / max P so far (0 without an own token)",
   from_institution<double, [](const InstitutionTick& r) { return r.price_signal; }>},
  {"signals", "queue", ColumnType::kFloat64, "days",
   "queue signal Q(t-1) seen by its depositors at tick t: the oldest unpaid request's wait at "
   "the end of t-1",
   from_institution<double, [](const InstitutionTick& r) { return r.queue_signal; }>},
});
// clang-format on

// Per-class columns: 2-D datasets [tick, class] under /population/by_class.
using ClassColumnSpec = ColumnSpec<ClassTick>;

// clang-format off
const std::vector<ClassColumnSpec> kClassColumns = with_money_pairs<ClassColumnSpec>({
  {"", "withdrawn_agents", ColumnType::kInt64, "agents",
   "agents of the class that have decided to withdraw at least once, cumulative",
   from_class<std::int64_t, [](const ClassTick& c) { return c.withdrawn_agents; }>},
  money<ClassTick, [](const ClassTick& c) { return c.withdrawn_value; }>(
      "", "withdrawn_value", "value paid out to the class's agents, cumulative"),
  {"", "acting_agents", ColumnType::kInt64, "agents",
   "agents of the class that evaluated the decision rule this tick",
   from_class<std::int64_t, [](const ClassTick& c) { return c.acting_agents; }>},
  {"", "stress_mean", ColumnType::kFloat64, "stress",
   "mean stress S_i(t) over the class's acting agents (0 if none acted)",
   from_class<double, [](const ClassTick& c) { return c.stress_mean; }>},
});
// clang-format on

// Per-asset columns: 2-D datasets [tick, asset] under /institutions/<name>/assets.
using AssetColumnSpec = ColumnSpec<AssetTick>;

// clang-format off
const std::vector<AssetColumnSpec> kAssetColumns = with_money_pairs<AssetColumnSpec>({
  {"", "price", ColumnType::kFloat64, "USD per unit", "price at the end of the tick",
   from_asset<double, [](const AssetTick& a) { return a.price; }>},
  {"", "value", ColumnType::kFloat64, "USD",
   "the institution's holding (hot + cold + in transit + illiquid units) at the end-of-tick price",
   from_asset<double, [](const AssetTick& a) { return cents_to_usd(a.value); }>},
  {"", "sale_proceeds", ColumnType::kFloat64, "USD", "fire-sale proceeds this tick",
   from_asset<double, [](const AssetTick& a) { return cents_to_usd(a.proceeds); }>},
  {"", "realised_loss", ColumnType::kFloat64, "USD",
   "loss on this tick's sales: P q - proceeds (price impact)",
   from_asset<double, [](const AssetTick& a) { return cents_to_usd(a.loss); }>},
  {"", "hot_units", ColumnType::kFloat64, "units of the asset",
   "hot units (payable in kind and sellable now) at the end of the tick",
   from_asset<double, [](const AssetTick& a) { return asset_units(a.hot_units); }>},
  {"", "cold_units", ColumnType::kFloat64, "units of the asset",
   "cold units at the end of the tick",
   from_asset<double, [](const AssetTick& a) { return asset_units(a.cold_units); }>},
  {"", "in_transit_units", ColumnType::kFloat64, "units of the asset",
   "cold units on their way to hot at the end of the tick",
   from_asset<double, [](const AssetTick& a) { return asset_units(a.in_transit_units); }>},
  {"", "illiquid_units", ColumnType::kFloat64, "units of the asset",
   "illiquid units (lent out: valued at the price, never sold or paid out) at the end of the tick",
   from_asset<double, [](const AssetTick& a) { return asset_units(a.illiquid_units); }>},
  money<AssetTick, [](const AssetTick& a) { return a.liabilities; }>(
      "", "liabilities", "customers' claims held in this asset, by value, at the end of the tick"),
  money<AssetTick, [](const AssetTick& a) { return a.paid; }>(
      "", "payments", "value paid out in kind in this asset this tick"),
  {"", "paid_units", ColumnType::kFloat64, "units of the asset",
   "units paid out in kind this tick",
   from_asset<double, [](const AssetTick& a) { return asset_units(a.paid_units); }>},
  {"", "queue_value", ColumnType::kFloat64, "USD",
   "unpaid value of the withdrawal queue in this asset at the end of the tick",
   from_asset<double, [](const AssetTick& a) { return cents_to_usd(a.queue_value); }>},
  {"", "queue_count", ColumnType::kInt64, "requests",
   "requests waiting in this asset's queue at the end of the tick",
   from_asset<std::int64_t, [](const AssetTick& a) { return a.queue_count; }>},
  {"", "oldest_wait", ColumnType::kInt32, "ticks",
   "ticks the oldest unpaid request in this asset has waited at the end of the tick (0 if none)",
   from_asset<std::int32_t, [](const AssetTick& a) { return a.oldest_wait_ticks; }>},
});
// clang-format on

hid_t file_type(ColumnType t) {
  switch (t) {
    case ColumnType::kInt32:
      return H5T_STD_I32LE;
    case ColumnType::kInt64:
      return H5T_STD_I64LE;
    case ColumnType::kFloat64:
      return H5T_IEEE_F64LE;
    case ColumnType::kUint8:
      return H5T_STD_U8LE;
  }
  return H5T_IEEE_F64LE;
}

hid_t memory_type(ColumnType t) {
  switch (t) {
    case ColumnType::kInt32:
      return H5T_NATIVE_INT32;
    case ColumnType::kInt64:
      return H5T_NATIVE_INT64;
    case ColumnType::kFloat64:
      return H5T_NATIVE_DOUBLE;
    case ColumnType::kUint8:
      return H5T_NATIVE_UINT8;
  }
  return H5T_NATIVE_DOUBLE;
}

// Copies `s` into a fixed field of `bytes` bytes (NUL-terminated), cutting it on a UTF-8
// character boundary if it is too long.
void copy_fixed(const std::string& s, char* out, std::size_t bytes) {
  std::size_t n = std::min(s.size(), bytes - 1);
  if (n < s.size())
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // continuation
  std::memset(out, 0, bytes);
  std::memcpy(out, s.data(), n);
}

// The items' names (or values), comma-separated.
template <typename Items, typename Name>
std::string join(const Items& items, Name&& name) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ',';
    out += name(item);
  }
  return out;
}

// A class's portfolio mix as text, "USD:0.7,BTC:0.3": every claim currency (USD first,
// then Scenario::currencies), with its share normalised to sum to 1 (10 significant
// digits). An empty portfolio is all USD: "USD:1".
std::string portfolio_text(const std::vector<double>& portfolio,
                           const std::vector<std::string>& currencies) {
  if (portfolio.empty()) return "USD:1";
  double sum = 0.0;
  for (const double w : portfolio) sum += w;
  std::string out;
  for (std::size_t c = 0; c < portfolio.size(); ++c) {
    if (!out.empty()) out += ',';
    if (c == 0)
      out += "USD";
    else if (c - 1 < currencies.size())
      out += currencies[c - 1];
    else
      out += "currency" + std::to_string(c);  // the loader never lets this happen
    out += ':';
    std::array<char, 32> digits{};
    const double share = sum > 0.0 ? portfolio[c] / sum : 0.0;
    const auto res = std::to_chars(digits.data(), digits.data() + digits.size(), share,
                                   std::chars_format::general, 10);
    out.append(digits.data(), res.ptr);
  }
  return out;
}

struct NewsRow {
  char label[kLabelBytes];
  char institution[kLabelBytes];  // the target's name; "" = every agent
  std::int32_t tick;
  double magnitude;
  double decay_ticks;
  std::int32_t duration_ticks;
  double reach;
};

// One agent of a snapshot (file layout: output/README.md).
struct SnapshotFileRow {
  std::int32_t tick;
  std::uint32_t agent;
  std::uint8_t class_id;
  std::uint8_t account;  // institution index
  std::uint8_t state;
  double claim;    // USD
  double outside;  // USD
  double threshold;
  double stress;
};

// The payoffs of the agents of one class who ran or waited (sim/summary.hpp ClassPayoff).
struct PayoffRow {
  std::int32_t class_id;  // row of /classes
  std::uint8_t ran;       // 1: decided to withdraw at least once
  std::int64_t agents;
  std::int64_t before_cents;  // their claims at par + funds outside before the final date
  std::int64_t final_cents;   // funds outside + claims left after it
  double payoff;              // final / before (NaN when before is 0)
};

// One investor class; in the file each row is followed by the `portfolio` string, whose
// width is that of the longest class's portfolio (see write_classes).
struct ClassRow {
  char name[kLabelBytes];
  std::int64_t agents;
  double share;
  std::uint32_t first_agent_id;
  double accounts_per_agent;
};

// One market asset of an institution, as given in the scenario.
struct AssetSpecRow {
  char name[kLabelBytes];
  double hot_share;
  double cold_share;
  double cold_to_hot_units_per_tick;  // inf = unlimited
  std::int32_t cold_delay_ticks;
  double max_payout_per_tick_usd;          // -1 = unlimited
  std::int64_t max_payout_per_tick_cents;  // -1 = unlimited
};

const char* network_type(NetworkSpec::Kind kind) {
  return name_of(kind);  // agents/names.hpp
}

}  // namespace

// ---------------------------------------------------------------------------------------

struct Hdf5Writer::Impl : hdf5::Checker {
  Impl(const std::string& path, double flush_seconds)
      : Checker("HDF5 output " + partial_path_of(path)),
        final_path(path),
        partial_path(partial_path_of(path)),
        creating_path(partial_path + ".new"),
        flush_interval(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double>(std::min(flush_seconds, 1e6)))) {}

  // The run being written (it outlives the writer). The news table, the policy firings and
  // the exposures' defaults are written when the file is closed: news joins the events
  // (proof of reserves, write-downs), policies fire and exposures default during the run.
  const Simulation* sim = nullptr;
  enum class State { kOpen, kClosed };

  std::string final_path;
  std::string partial_path;
  std::string creating_path;     // until the file's header is written (create())
  bool partial_written = false;  // the file is at partial_path
  // Continuing an earlier part's `.partial` (Hdf5Writer::Continue): groups, datasets and
  // the tables of tick 0 exist and are opened, not created.
  bool reopening = false;
  State state = State::kOpen;
  bool renamed = false;  // the file is at final_path

  Handle file;
  std::vector<Handle> datasets;    // one per kColumns entry
  std::vector<TickRecord> buffer;  // kBlock records, preallocated (spans cleared)

  // One /institutions/<name> group: its per-tick datasets and its buffered ticks.
  struct InstitutionOut {
    std::string path;                     // "institutions/<name>"
    std::vector<Handle> datasets;         // one per kInstitutionColumns entry
    std::vector<InstitutionTick> buffer;  // kBlock, preallocated (asset spans cleared)
    std::size_t assets = 0;
    std::vector<Handle> asset_datasets;   // one per kAssetColumns entry
    std::vector<AssetTick> asset_buffer;  // [kBlock * assets], preallocated
  };
  std::vector<InstitutionOut> institutions;  // scenario order

  std::size_t classes = 0, quantiles = 0;
  std::vector<Handle> class_datasets;   // one per kClassColumns entry
  Handle quantile_dataset;              // [tick, class, quantile]
  std::vector<ClassTick> class_buffer;  // [kBlock * classes], preallocated
  std::vector<double> quantile_buffer;  // [kBlock * classes * quantiles], preallocated
  Handle snapshot_dataset, snapshot_type;
  std::vector<SnapshotFileRow> snapshot_rows;
  std::int64_t snapshot_written = 0;

  std::vector<std::byte> scratch;  // one column of one block, preallocated
  std::size_t buffered = 0;        // records in `buffer`
  std::int64_t written = 0;        // records already in the datasets
  // A partly filled block is flushed once `wait` has passed since the last flush; its
  // chunks are then rewritten (the datasets' values are the same). `wait` starts at
  // flush_interval and doubles at each such flush within a block, so that the space the
  // rewrites leave unused (never reused, see create()) stays under about two blocks' worth.
  std::chrono::steady_clock::duration flush_interval, wait = flush_interval;
  std::chrono::steady_clock::time_point last_flush = std::chrono::steady_clock::now();
  bool flush_due() {
    if (buffered == kBlock) {
      wait = flush_interval;
      return true;
    }
    if (buffered == 0 || std::chrono::steady_clock::now() - last_flush < wait) return false;
    wait = std::min(wait * 2, flush_interval * 1024);
    return true;
  }

  Handle group(hid_t parent, const std::string& name) {
    if (reopening) return open_group(parent, name);
    return {check(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                  "cannot create group " + name),
            H5Gclose};
  }
  Handle open_group(hid_t parent, const std::string& name) {
    return {check(H5Gopen2(parent, name.c_str(), H5P_DEFAULT), "cannot open group " + name),
            H5Gclose};
  }

  void attribute(hid_t obj, const char* name, hid_t file_t, hid_t mem_t, const void* value) {
    hdf5::write_attribute(obj, name, file_t, mem_t, value, *this);
  }

  void attr(hid_t obj, const char* name, const std::string& value) {
    hdf5::write_string_attribute(obj, name, value, *this);
  }
  // The root's `status` changes during a run (running -> interrupted, failed, complete):
  // one fixed 16-byte string type, so that each change rewrites the attribute's value in
  // place instead of deleting and re-creating the attribute (a string attribute's type is
  // sized to its value), which a SIGKILL in between could leave unreadable.
  void status(hid_t root, std::string_view value) {
    constexpr std::size_t kStatusBytes = 16;
    char text[kStatusBytes] = {};
    value.copy(text, kStatusBytes - 1);
    const hdf5::Handle type = hdf5::string_type(kStatusBytes, *this);
    attribute(root, "status", type.get(), type.get(), text);
  }
  void attr(hid_t obj, const char* name, const char* value) { attr(obj, name, std::string(value)); }
  void attr(hid_t obj, const char* name, std::int32_t v) {
    attribute(obj, name, H5T_STD_I32LE, H5T_NATIVE_INT32, &v);
  }
  void attr(hid_t obj, const char* name, std::int64_t v) {
    attribute(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v);
  }
  void attr(hid_t obj, const char* name, std::uint32_t v) {
    attribute(obj, name, H5T_STD_U32LE, H5T_NATIVE_UINT32, &v);
  }
  void attr(hid_t obj, const char* name, std::uint64_t v) {
    attribute(obj, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &v);
  }
  void attr(hid_t obj, const char* name, double v) {
    attribute(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v);
  }
  // A sum of money twice: `<stem>_usd` (float64) and `<stem>_cents` (int64, exact).
  void money_attrs(hid_t obj, const std::string& stem, Money cents) {
    attr(obj, (stem + "_usd").c_str(), cents_to_usd(cents));
    attr(obj, (stem + "_cents").c_str(), std::int64_t{cents});
  }

  // A fixed-size 1-D dataset of compound rows (stored packed); shape (0,) when there are none.
  void table(hid_t parent, const char* name, const CompoundType& row_t, const void* rows,
             hsize_t count) {
    if (reopening) return;  // written by the first part
    write_table(parent, name, row_t, rows, count);
  }
  // The same, also when reopening (tables of /summary, which is written again at the end).
  void write_table(hid_t parent, const char* name, const CompoundType& row_t, const void* rows,
                   hsize_t count) {
    const std::string what = std::string("dataset ") + name;
    const Handle mem_type = row_t.memory_type();
    const hid_t mem_t = mem_type.get();
    Handle file_t(check(H5Tcopy(mem_t), "cannot copy the row type of " + what), H5Tclose);
    check_status(H5Tpack(file_t.get()), "cannot pack the row type of " + what);
    const hsize_t dims[1] = {count};
    Handle space(
        check(H5Screate_simple(1, dims, nullptr), "cannot create the dataspace of " + what),
        H5Sclose);
    Handle ds(check(H5Dcreate2(parent, name, file_t.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT,
                               H5P_DEFAULT),
                    "cannot create " + what),
              H5Dclose);
    if (count > 0)
      check_status(H5Dwrite(ds.get(), mem_t, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows),
                   "cannot write " + what);
    if (!ds.close()) fail("cannot close " + what);
  }

  void create(const Simulation& sim, const Provenance& prov);
  Handle open_dataset(hid_t parent, const char* name) {
    return {check(H5Dopen2(parent, name, H5P_DEFAULT), std::string("cannot open dataset ") + name),
            H5Dclose};
  }
  void cut_back(hid_t ds, hsize_t rows, const char* name);
  void check_same_run(const Hdf5Writer::Continue& from) const;
  void continue_at(Hdf5Writer::Position at);
  void write_root(const Simulation& sim, const Provenance& prov);
  void write_institution_group(hid_t group, std::size_t k, const Simulation& sim);
  void write_classes(const Simulation& sim);
  void write_network(const Simulation& sim);
  void write_news(const Simulation& sim);
  void write_policies(std::size_t k, const Simulation& sim);
  void write_exposures(std::size_t k, const Simulation& sim);
  void write_closing_tables() {
    write_news(*sim);
    for (std::size_t k = 0; k < institutions.size(); ++k) {
      write_policies(k, *sim);
      write_exposures(k, *sim);
    }
  }
  Handle create_series(hid_t parent, const char* name, ColumnType type, const char* units,
                       const char* description);
  void create_columns();
  void create_institution_columns(InstitutionOut& out, hid_t group);
  void create_class_columns(const Simulation& sim);
  void create_snapshots(const Simulation& sim);
  void write_snapshot(std::int32_t tick, std::span<const SnapshotRow> rows);
  void buffer_record(const TickRecord& r);
  void flush_block();
  void flush_class_block();
  void flush_institution_block(InstitutionOut& out);
  Handle create_matrix(hid_t parent, const char* name, ColumnType type, int rank,
                       const hsize_t* extra);
  void append_matrix(hid_t ds, int rank, const hsize_t* extra, hid_t mem_t, const void* data,
                     const char* name);
  void create_asset_columns(InstitutionOut& out, hid_t group, const InstitutionSpec& spec);
  void write_asset_specs(hid_t group, const InstitutionSpec& spec);
  void write_summary(const Summary& s);
  void write_payoffs(hid_t summary, const std::vector<ClassPayoff>& payoffs);
  template <typename F>
  void for_each_handle(F&& f) {
    for (Handle& h : datasets) f(h);
    for (InstitutionOut& out : institutions) {
      for (Handle& h : out.datasets) f(h);
      for (Handle& h : out.asset_datasets) f(h);
    }
    for (Handle& h : class_datasets) f(h);
    f(quantile_dataset);
    f(snapshot_dataset);
    f(snapshot_type);
  }
  void close_checked();
  void close_quietly() noexcept;
  void rename_to_final();
};

void Hdf5Writer::Impl::create(const Simulation& sim, const Provenance& prov) {
  Handle fapl(check(H5Pcreate(H5P_FILE_ACCESS), "cannot create file access properties"), H5Pclose);
  // Object headers of HDF5 1.8 and later: attributes of any size (the scenario text) are
  // stored densely; readable by every HDF5 since 1.8.
  check_status(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_LATEST),
               "cannot set library version bounds");
#if H5_VERSION_GE(1, 10, 7)
  // Lock the file where the file system supports it; do not fail where it does not.
  check_status(H5Pset_file_locking(fapl.get(), true, true), "cannot set file locking");
#endif
  // Freed file space is never reused: a flush rewrites partly filled chunks elsewhere, and
  // if the old place could be reused before the chunk index pointing to it is written, a
  // kill during a flush could leave a chunk that does not decompress (seen in 3 of 40
  // kills, none in 120 with this). The space lost is bounded by flush_due()'s back-off.
  Handle fcpl(check(H5Pcreate(H5P_FILE_CREATE), "cannot create file creation properties"),
              H5Pclose);
  check_status(H5Pset_file_space_strategy(fcpl.get(), H5F_FSPACE_STRATEGY_NONE, false, 1),
               "cannot set the file space strategy");
  // Created under a name of its own and renamed to `.partial` once its header is on disk,
  // so that a `.partial` always opens (a kill in these milliseconds leaves `.partial.new`).
  if (reopening)
    file = Handle(check(H5Fopen(partial_path.c_str(), H5F_ACC_RDWR, fapl.get()),
                        "cannot open the file to continue it"),
                  H5Fclose);
  else
    file = Handle(check(H5Fcreate(creating_path.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get()),
                        "cannot create the file"),
                  H5Fclose);
  this->sim = &sim;

  write_root(sim, prov);
  write_classes(sim);
  write_network(sim);
  create_columns();
  Handle groups = group(file.get(), "institutions");
  const auto& specs = sim.scenario().institutions;
  institutions.clear();
  institutions.resize(specs.size());
  std::size_t max_assets = 0;
  for (std::size_t k = 0; k < specs.size(); ++k) {
    InstitutionOut& out = institutions[k];
    out.path = "institutions/" + specs[k].name;
    Handle g = group(groups.get(), specs[k].name);
    if (!reopening) write_institution_group(g.get(), k, sim);  // the state at tick 0
    create_institution_columns(out, g.get());
    create_asset_columns(out, g.get(), specs[k]);
    max_assets = std::max(max_assets, out.assets);
  }
  create_class_columns(sim);
  create_snapshots(sim);
  check_status(H5Fflush(file.get(), H5F_SCOPE_GLOBAL), "cannot flush the file");
  if (!reopening) {
    std::error_code ec;
    std::filesystem::rename(creating_path, partial_path, ec);
    if (ec) fail("cannot rename " + creating_path + " to " + partial_path + ": " + ec.message());
  }
  partial_written = true;

  buffer.resize(kBlock);
  scratch.resize(kBlock * std::max<std::size_t>({1, classes, max_assets}) * sizeof(std::int64_t));
}

void Hdf5Writer::Impl::write_root(const Simulation& sim, const Provenance& prov) {
  const hid_t root = file.get();
  const Scenario& sc = sim.scenario();
  attr(root, "format", "bankrun");
  attr(root, "format_version", std::int32_t{kFormatVersion});
  attr(root, "bankrun_version", prov.bankrun_version);
  attr(root, "git_commit", prov.git_commit);
  attr(root, "scenario_name", sc.name);
  attr(root, "scenario_yaml", prov.scenario_yaml);
  attr(root, "scenario_file", prov.scenario_file);
  attr(root, "seed", std::uint64_t{prov.seed});
  attr(root, "threads", std::int32_t{prov.threads});
  attr(root, "started_utc", prov.started_utc);
  status(root, "running");
  attr(root, "wall_seconds", std::numeric_limits<double>::quiet_NaN());
  attr(root, "loop_seconds", std::numeric_limits<double>::quiet_NaN());
  if (!reopening) {
    attr(root, "ticks_recorded", std::int64_t{0});
    attr(root, "resumed_at_ticks", "");
  }
  attr(root, "parent_file", prov.parent_file);
  attr(root, "parent_tick", std::int32_t{prov.parent_tick});
  attr(root, "ticks_planned", std::int32_t{sc.time.ticks});
  attr(root, "tick_hours", sc.time.tick_hours);
  attr(root, "start_utc", sc.time.start_utc);
  attr(root, "start_unix_seconds", std::int64_t{sc.time.start_unix_seconds});
  attr(root, "agents", static_cast<std::int64_t>(sim.population().size()));
  attr(root, "institution_names", join(sc.institutions, [](const auto& in) { return in.name; }));
  attr(root, "currencies",
       "USD" + std::string(sc.currencies.empty() ? "" : ",") +
           join(sc.currencies, [](const std::string& c) { return c; }));
}

// Attributes of /institutions/<name>, known at tick 0.
void Hdf5Writer::Impl::write_institution_group(hid_t g, std::size_t k, const Simulation& sim) {
  const Institution& in = sim.institutions()[k];
  const Money max_payout = in.spec().max_payout_per_tick;
  attr(g, "index", static_cast<std::int32_t>(k));
  attr(g, "initial_deposits_cents", std::int64_t{in.issued()});
  attr(g, "issued_cents", std::int64_t{in.issued()});
  attr(g, "issued", cents_to_usd(in.issued()));
  attr(g, "initial_hot_cents", std::int64_t{in.hot()});
  attr(g, "max_payout_per_tick_cents",
       std::int64_t{max_payout == std::numeric_limits<Money>::max() ? -1 : max_payout});
  attr(g, "owed_to_institutions", cents_to_usd(in.owed_to_institutions()));
  attr(g, "owed_to_institutions_cents", std::int64_t{in.owed_to_institutions()});
}

void Hdf5Writer::Impl::write_classes(const Simulation& sim) {
  const Scenario& sc = sim.scenario();
  const auto& classes = sc.population.classes;
  const Population& pop = sim.population();
  std::vector<std::string> portfolios;
  std::size_t width = 2;  // bytes of the portfolio field, NUL included
  for (const auto& c : classes) {
    portfolios.push_back(portfolio_text(c.portfolio, sc.currencies));
    width = std::max(width, portfolios.back().size() + 1);
  }
  // Each row: a ClassRow, then the portfolio string (`width` bytes), padded to the alignment
  // of ClassRow.
  const std::size_t offset = sizeof(ClassRow);
  const std::size_t row_bytes =
      (offset + width + alignof(ClassRow) - 1) / alignof(ClassRow) * alignof(ClassRow);
  std::vector<std::byte> rows(classes.size() * row_bytes);
  double share_sum = 0.0;
  for (const auto& c : classes) share_sum += c.share;
  for (std::size_t c = 0; c < classes.size(); ++c) {
    ClassRow row{};
    copy_fixed(classes[c].name, row.name, kLabelBytes);
    const bool known = c + 1 < pop.class_begin.size();
    row.first_agent_id = known ? pop.class_begin[c] : 0;
    row.agents = known ? std::int64_t{pop.class_begin[c + 1]} - pop.class_begin[c] : 0;
    row.share = share_sum > 0.0 ? classes[c].share / share_sum : 0.0;  // normalised
    row.accounts_per_agent = classes[c].accounts_per_agent;
    std::byte* out = rows.data() + c * row_bytes;
    std::memcpy(out, &row, sizeof row);
    copy_fixed(portfolios[c], reinterpret_cast<char*>(out + offset), width);
  }
  CompoundType row_t(*this, "class row", row_bytes);
  row_t.string_member("name", HOFFSET(ClassRow, name), kLabelBytes)
      .member("agents", HOFFSET(ClassRow, agents), H5T_NATIVE_INT64)
      .member("share", HOFFSET(ClassRow, share), H5T_NATIVE_DOUBLE)
      .member("first_agent_id", HOFFSET(ClassRow, first_agent_id), H5T_NATIVE_UINT32)
      .member("accounts_per_agent", HOFFSET(ClassRow, accounts_per_agent), H5T_NATIVE_DOUBLE)
      .string_member("portfolio", offset, width);
  table(file.get(), "classes", row_t, rows.data(), classes.size());
}

void Hdf5Writer::Impl::write_network(const Simulation& sim) {
  const NetworkSpec& spec = sim.scenario().network;
  const DegreeStats d = sim.network_stats();
  Handle g = group(file.get(), "network");
  attr(g.get(), "type", network_type(spec.kind));
  attr(g.get(), "k", std::uint32_t{spec.k});
  attr(g.get(), "mean_degree_requested", spec.mean_degree);
  attr(g.get(), "degree_mean", d.mean);
  attr(g.get(), "degree_sd", d.sd);
  attr(g.get(), "degree_min", std::uint64_t{d.min});
  attr(g.get(), "degree_max", std::uint64_t{d.max});
  attr(g.get(), "edges", std::uint64_t{d.edges});
}

struct PolicyRow {
  char label[kLabelBytes];
  char kind[32];
  std::int32_t fired_tick;
};

const char* policy_kind(PolicySpec::Kind kind) {
  return name_of(kind);  // sim/names.hpp
}

// /institutions/<name>/policies: one row per policy, the tick it fired (-1: never).
void Hdf5Writer::Impl::write_policies(std::size_t k, const Simulation& sim) {
  const auto& policies = sim.scenario().institutions[k].policies;
  std::vector<PolicyRow> rows(policies.size());
  for (std::size_t p = 0; p < policies.size(); ++p) {
    copy_fixed(policies[p].label, rows[p].label, kLabelBytes);
    copy_fixed(policy_kind(policies[p].kind), rows[p].kind, sizeof rows[p].kind);
    const std::int32_t fired = sim.policy_fired_tick(k, p);
    rows[p].fired_tick = fired == kForever ? -1 : fired;
  }
  CompoundType row_t(*this, "policy row", sizeof(PolicyRow));
  row_t.string_member("label", HOFFSET(PolicyRow, label), kLabelBytes)
      .string_member("kind", HOFFSET(PolicyRow, kind), sizeof(PolicyRow::kind))
      .member("fired_tick", HOFFSET(PolicyRow, fired_tick), H5T_NATIVE_INT32);
  Handle g = open_group(file.get(), institutions[k].path);
  table(g.get(), "policies", row_t, rows.data(), rows.size());
}

struct ExposureRow {
  char debtor[kLabelBytes];
  double amount_usd;
  std::int64_t amount_cents;
  double loss_given_default;
  std::int32_t default_tick;
  double loss_usd;
  std::int64_t loss_cents;
};

// /institutions/<name>/exposures: one row per claim on another institution, whether (and
// when) it was written down and the loss.
void Hdf5Writer::Impl::write_exposures(std::size_t k, const Simulation& sim) {
  const Institution& in = sim.institutions()[k];
  const auto& exposures = in.spec().exposures;
  const auto& specs = sim.scenario().institutions;
  std::vector<ExposureRow> rows(exposures.size());
  for (std::size_t e = 0; e < exposures.size(); ++e) {
    ExposureRow& row = rows[e];
    const ExposureSpec& x = exposures[e];
    copy_fixed(x.debtor < specs.size() ? specs[x.debtor].name : std::string(), row.debtor,
               kLabelBytes);
    row.amount_usd = cents_to_usd(x.amount);
    row.amount_cents = x.amount;
    row.loss_given_default = x.loss_given_default;
    const std::int32_t when = in.exposure_default_tick(e);
    row.default_tick = when == kForever ? -1 : when;
    row.loss_usd = cents_to_usd(in.exposure_loss(e));
    row.loss_cents = in.exposure_loss(e);
  }
  CompoundType row_t(*this, "exposure row", sizeof(ExposureRow));
  row_t.string_member("debtor", HOFFSET(ExposureRow, debtor), kLabelBytes)
      .member("amount_usd", HOFFSET(ExposureRow, amount_usd), H5T_NATIVE_DOUBLE)
      .member("amount_cents", HOFFSET(ExposureRow, amount_cents), H5T_NATIVE_INT64)
      .member("loss_given_default", HOFFSET(ExposureRow, loss_given_default), H5T_NATIVE_DOUBLE)
      .member("default_tick", HOFFSET(ExposureRow, default_tick), H5T_NATIVE_INT32)
      .member("loss_usd", HOFFSET(ExposureRow, loss_usd), H5T_NATIVE_DOUBLE)
      .member("loss_cents", HOFFSET(ExposureRow, loss_cents), H5T_NATIVE_INT64);
  Handle g = open_group(file.get(), institutions[k].path);
  table(g.get(), "exposures", row_t, rows.data(), rows.size());
}

void Hdf5Writer::Impl::write_news(const Simulation& sim) {
  const auto& news = sim.news_events();
  const auto& specs = sim.scenario().institutions;
  std::vector<NewsRow> rows(news.size());
  for (std::size_t j = 0; j < news.size(); ++j) {
    NewsRow& row = rows[j];
    const NewsEvent& e = news[j];
    copy_fixed(e.label, row.label, kLabelBytes);
    const bool targeted =
        e.institution >= 0 && static_cast<std::size_t>(e.institution) < specs.size();
    copy_fixed(targeted ? specs[static_cast<std::size_t>(e.institution)].name : std::string(),
               row.institution, kLabelBytes);
    row.tick = e.tick;
    row.magnitude = e.magnitude;
    row.decay_ticks = e.decay_ticks;
    row.duration_ticks = e.duration_ticks;
    row.reach = e.reach;
  }
  CompoundType row_t(*this, "news row", sizeof(NewsRow));
  row_t.string_member("label", HOFFSET(NewsRow, label), kLabelBytes)
      .string_member("institution", HOFFSET(NewsRow, institution), kLabelBytes)
      .member("tick", HOFFSET(NewsRow, tick), H5T_NATIVE_INT32)
      .member("magnitude", HOFFSET(NewsRow, magnitude), H5T_NATIVE_DOUBLE)
      .member("decay_ticks", HOFFSET(NewsRow, decay_ticks), H5T_NATIVE_DOUBLE)
      .member("duration_ticks", HOFFSET(NewsRow, duration_ticks), H5T_NATIVE_INT32)
      .member("reach", HOFFSET(NewsRow, reach), H5T_NATIVE_DOUBLE);
  Handle events = group(file.get(), "events");
  table(events.get(), "news", row_t, rows.data(), rows.size());
}

// A 1-D extensible per-tick dataset: shape (0,), chunks of kBlock, shuffle + deflate.
Handle Hdf5Writer::Impl::create_series(hid_t parent, const char* name, ColumnType type,
                                       const char* units, const char* description) {
  if (reopening) return open_dataset(parent, name);
  Handle dcpl(check(H5Pcreate(H5P_DATASET_CREATE), "cannot create dataset properties"), H5Pclose);
  const hsize_t chunk[1] = {kBlock};
  check_status(H5Pset_chunk(dcpl.get(), 1, chunk), "cannot set the chunk size");
  check_status(H5Pset_shuffle(dcpl.get()), "cannot enable the shuffle filter");
  check_status(H5Pset_deflate(dcpl.get(), kDeflateLevel), "cannot enable deflate compression");
  const hsize_t dims[1] = {0}, maxdims[1] = {H5S_UNLIMITED};
  Handle space(check(H5Screate_simple(1, dims, maxdims), "cannot create an extensible dataspace"),
               H5Sclose);
  Handle ds(check(H5Dcreate2(parent, name, file_type(type), space.get(), H5P_DEFAULT, dcpl.get(),
                             H5P_DEFAULT),
                  std::string("cannot create dataset ") + name),
            H5Dclose);
  attr(ds.get(), "units", units);
  attr(ds.get(), "description", description);
  return ds;
}

// The population-level series: /time/tick, /population/*, /signals/news.
void Hdf5Writer::Impl::create_columns() {
  std::vector<std::pair<std::string, Handle>> groups;  // created on first use
  datasets.clear();
  datasets.reserve(kColumns.size());
  for (const auto& col : kColumns) {
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const auto& g) { return g.first == col.group; });
    if (it == groups.end()) {
      groups.emplace_back(col.group, group(file.get(), col.group));
      it = std::prev(groups.end());
    }
    datasets.push_back(create_series(it->second.get(), col.name.c_str(), col.type, col.units,
                                     col.description.c_str()));
  }
}

// The series of one institution, in its group (and its subgroup signals/).
void Hdf5Writer::Impl::create_institution_columns(InstitutionOut& out, hid_t inst) {
  std::vector<std::pair<std::string, Handle>> groups;  // subgroups, created on first use
  out.datasets.clear();
  out.datasets.reserve(kInstitutionColumns.size());
  for (const auto& col : kInstitutionColumns) {
    hid_t parent = inst;
    if (*col.group != '\0') {
      auto it = std::find_if(groups.begin(), groups.end(),
                             [&](const auto& g) { return g.first == col.group; });
      if (it == groups.end()) {
        groups.emplace_back(col.group, group(inst, col.group));
        it = std::prev(groups.end());
      }
      parent = it->second.get();
    }
    out.datasets.push_back(
        create_series(parent, col.name.c_str(), col.type, col.units, col.description.c_str()));
  }
  out.buffer.assign(kBlock, InstitutionTick{});
}

// Copies one tick into the block buffers. The record's spans are only valid until the next
// tick: everything they point to is copied, and the buffered copies hold no spans.
void Hdf5Writer::Impl::buffer_record(const TickRecord& r) {
  const auto mismatch = [&](const std::string& what, std::size_t got, std::size_t expected) {
    throw OutputError("HDF5 output " + partial_path + ": tick " + std::to_string(r.tick) + " has " +
                      std::to_string(got) + " " + what + ", expected " + std::to_string(expected));
  };
  if (r.institutions.size() != institutions.size())
    mismatch("institution rows", r.institutions.size(), institutions.size());
  if (r.classes.size() != classes) mismatch("class rows", r.classes.size(), classes);
  if (r.class_stress_quantiles.size() != classes * quantiles)
    mismatch("stress quantiles", r.class_stress_quantiles.size(), classes * quantiles);
  for (std::size_t k = 0; k < institutions.size(); ++k)
    if (r.institutions[k].assets.size() != institutions[k].assets)
      mismatch("asset rows for institution " + std::to_string(k), r.institutions[k].assets.size(),
               institutions[k].assets);

  for (std::size_t k = 0; k < institutions.size(); ++k) {
    InstitutionOut& out = institutions[k];
    const InstitutionTick& in = r.institutions[k];
    std::copy(in.assets.begin(), in.assets.end(),
              out.asset_buffer.begin() + static_cast<std::ptrdiff_t>(buffered * out.assets));
    InstitutionTick& copy = out.buffer[buffered];
    copy = in;
    copy.assets = {};
  }
  std::copy(r.classes.begin(), r.classes.end(),
            class_buffer.begin() + static_cast<std::ptrdiff_t>(buffered * classes));
  std::copy(r.class_stress_quantiles.begin(), r.class_stress_quantiles.end(),
            quantile_buffer.begin() + static_cast<std::ptrdiff_t>(buffered * classes * quantiles));
  TickRecord& copy = buffer[buffered];
  copy = r;
  copy.institutions = {};
  copy.classes = {};
  copy.class_stress_quantiles = {};
  ++buffered;
}

void Hdf5Writer::Impl::flush_block() {
  if (buffered == 0) return;
  const hsize_t none[2] = {0, 0};
  for (std::size_t c = 0; c < kColumns.size(); ++c) {
    const auto& col = kColumns[c];
    col.fill(buffer.data(), buffered, scratch.data());
    append_matrix(datasets[c].get(), 1, none, memory_type(col.type), scratch.data(),
                  col.name.c_str());
  }
  for (InstitutionOut& out : institutions) flush_institution_block(out);
  flush_class_block();
  // Two flushes: the rows and their chunk indexes first, then ticks_recorded, so that a
  // kill during a flush leaves ticks_recorded rows that are all on disk (the datasets may
  // then be longer: only their first ticks_recorded rows count).
  check_status(H5Fflush(file.get(), H5F_SCOPE_GLOBAL), "cannot flush the file");
  written += static_cast<std::int64_t>(buffered);
  buffered = 0;
  attr(file.get(), "ticks_recorded", std::int64_t{written});
  check_status(H5Fflush(file.get(), H5F_SCOPE_GLOBAL), "cannot flush the file");
  last_flush = std::chrono::steady_clock::now();
}

// Appends one institution's buffered ticks: its series, then its [tick, asset] datasets.
void Hdf5Writer::Impl::flush_institution_block(InstitutionOut& out) {
  const hsize_t none[2] = {0, 0};
  for (std::size_t c = 0; c < kInstitutionColumns.size(); ++c) {
    const auto& col = kInstitutionColumns[c];
    col.fill(out.buffer.data(), buffered, scratch.data());
    append_matrix(out.datasets[c].get(), 1, none, memory_type(col.type), scratch.data(),
                  col.name.c_str());
  }
  const hsize_t dims[2] = {out.assets, 1};
  for (std::size_t c = 0; c < kAssetColumns.size(); ++c) {
    const AssetColumnSpec& col = kAssetColumns[c];
    col.fill(out.asset_buffer.data(), buffered * out.assets, scratch.data());
    append_matrix(out.asset_datasets[c].get(), 2, dims, memory_type(col.type), scratch.data(),
                  col.name.c_str());
  }
}

// An extensible chunked dataset of shape (0, extra[0][, extra[1]]), rank 2 or 3.
Handle Hdf5Writer::Impl::create_matrix(hid_t parent, const char* name, ColumnType type, int rank,
                                       const hsize_t* extra) {
  if (reopening) return open_dataset(parent, name);
  Handle dcpl(check(H5Pcreate(H5P_DATASET_CREATE), "cannot create dataset properties"), H5Pclose);
  hsize_t dims[3] = {0, extra[0], extra[1]}, maxdims[3] = {H5S_UNLIMITED, extra[0], extra[1]};
  hsize_t chunk[3] = {kBlock / 8, std::max<hsize_t>(1, extra[0]), std::max<hsize_t>(1, extra[1])};
  check_status(H5Pset_chunk(dcpl.get(), rank, chunk), "cannot set the chunk size");
  check_status(H5Pset_shuffle(dcpl.get()), "cannot enable the shuffle filter");
  check_status(H5Pset_deflate(dcpl.get(), kDeflateLevel), "cannot enable deflate");
  Handle space(check(H5Screate_simple(rank, dims, maxdims), "cannot create a dataspace"), H5Sclose);
  return Handle(check(H5Dcreate2(parent, name, file_type(type), space.get(), H5P_DEFAULT,
                                 dcpl.get(), H5P_DEFAULT),
                      std::string("cannot create dataset ") + name),
                H5Dclose);
}

// Appends the buffered ticks' rows (shape (buffered[, extra[0][, extra[1]]]), rank 1 to 3)
// to `ds`.
void Hdf5Writer::Impl::append_matrix(hid_t ds, int rank, const hsize_t* extra, hid_t mem_t,
                                     const void* data, const char* name) {
  const std::string what = std::string("dataset ") + name;
  const hsize_t start[3] = {static_cast<hsize_t>(written), 0, 0};
  const hsize_t count[3] = {buffered, extra[0], extra[1]};
  const hsize_t size[3] = {static_cast<hsize_t>(written) + buffered, extra[0], extra[1]};
  check_status(H5Dset_extent(ds, size), "cannot extend " + what);
  Handle filespace(check(H5Dget_space(ds), "cannot get the dataspace of " + what), H5Sclose);
  check_status(H5Sselect_hyperslab(filespace.get(), H5S_SELECT_SET, start, nullptr, count, nullptr),
               "cannot select the new rows of " + what);
  Handle memspace(check(H5Screate_simple(rank, count, nullptr), "cannot create a dataspace"),
                  H5Sclose);
  check_status(H5Dwrite(ds, mem_t, memspace.get(), filespace.get(), H5P_DEFAULT, data),
               "cannot write " + what);
}

// /institutions/<name>/assets/: [tick, asset] datasets, assets in liquidation order.
void Hdf5Writer::Impl::create_asset_columns(InstitutionOut& out, hid_t inst,
                                            const InstitutionSpec& spec) {
  out.assets = spec.assets.size();
  out.asset_buffer.assign(kBlock * out.assets, AssetTick{});
  Handle g = group(inst, "assets");
  attr(g.get(), "asset_names", join(spec.assets, [](const auto& a) { return a.name; }));
  const hsize_t dims[2] = {out.assets, 1};
  out.asset_datasets.clear();
  for (const AssetColumnSpec& col : kAssetColumns) {
    Handle ds = create_matrix(g.get(), col.name.c_str(), col.type, 2, dims);
    attr(ds.get(), "units", col.units);
    attr(ds.get(), "description", col.description);
    out.asset_datasets.push_back(std::move(ds));
  }
  write_asset_specs(g.get(), spec);
}

// /institutions/<name>/assets/spec: one row per asset (liquidation order), its tiers and
// its payout limit.
void Hdf5Writer::Impl::write_asset_specs(hid_t g, const InstitutionSpec& spec) {
  std::vector<AssetSpecRow> rows(spec.assets.size());
  for (std::size_t a = 0; a < spec.assets.size(); ++a) {
    const AssetSpec& x = spec.assets[a];
    AssetSpecRow& row = rows[a];
    copy_fixed(x.name, row.name, kLabelBytes);
    row.hot_share = x.hot_share;
    row.cold_share = x.cold_share;
    row.cold_to_hot_units_per_tick = x.cold_to_hot_units_per_tick;  // inf = unlimited
    row.cold_delay_ticks = x.cold_delay_ticks;
    const bool unlimited = x.max_payout_per_tick == std::numeric_limits<Money>::max();
    row.max_payout_per_tick_usd = unlimited ? -1.0 : cents_to_usd(x.max_payout_per_tick);
    row.max_payout_per_tick_cents = unlimited ? -1 : x.max_payout_per_tick;
  }
  CompoundType row_t(*this, "asset spec row", sizeof(AssetSpecRow));
  row_t.string_member("name", HOFFSET(AssetSpecRow, name), kLabelBytes)
      .member("hot_share", HOFFSET(AssetSpecRow, hot_share), H5T_NATIVE_DOUBLE)
      .member("cold_share", HOFFSET(AssetSpecRow, cold_share), H5T_NATIVE_DOUBLE)
      .member("cold_to_hot_units_per_tick", HOFFSET(AssetSpecRow, cold_to_hot_units_per_tick),
              H5T_NATIVE_DOUBLE)
      .member("cold_delay_ticks", HOFFSET(AssetSpecRow, cold_delay_ticks), H5T_NATIVE_INT32)
      .member("max_payout_per_tick_usd", HOFFSET(AssetSpecRow, max_payout_per_tick_usd),
              H5T_NATIVE_DOUBLE)
      .member("max_payout_per_tick_cents", HOFFSET(AssetSpecRow, max_payout_per_tick_cents),
              H5T_NATIVE_INT64);
  table(g, "spec", row_t, rows.data(), rows.size());
}

// Extensible chunked datasets of shape (0, classes[, quantiles]) and their buffers.
void Hdf5Writer::Impl::create_class_columns(const Simulation& sim) {
  const Scenario& sc = sim.scenario();
  classes = sc.population.classes.size();
  quantiles = sc.output.stress_quantiles.size();
  class_buffer.resize(kBlock * classes);
  quantile_buffer.resize(kBlock * classes * quantiles);
  Handle by_class = group(file.get(), "population/by_class");
  attr(by_class.get(), "class_names",
       join(sc.population.classes, [](const auto& c) { return c.name; }));

  const auto create = [&](const char* name, ColumnType type, int rank, const hsize_t* extra) {
    return create_matrix(by_class.get(), name, type, rank, extra);
  };
  const hsize_t class_dims[2] = {classes, 1};
  class_datasets.clear();
  for (const ClassColumnSpec& col : kClassColumns) {
    Handle ds = create(col.name.c_str(), col.type, 2, class_dims);
    attr(ds.get(), "units", col.units);
    attr(ds.get(), "description", col.description);
    class_datasets.push_back(std::move(ds));
  }
  const hsize_t quantile_dims[2] = {classes, quantiles};
  quantile_dataset = create("stress_quantiles", ColumnType::kFloat64, 3, quantile_dims);
  attr(quantile_dataset.get(), "units", "stress");
  attr(quantile_dataset.get(), "description",
       "quantiles of S_i(t) over the class's acting agents (linear interpolation between order "
       "statistics; NaN if none acted); the quantile levels are in attribute `quantiles`");
  attr(quantile_dataset.get(), "quantiles",
       join(sc.output.stress_quantiles, [](double q) { return std::to_string(q); }));
}

// Appends the buffered ticks' class rows to the [tick, class(, quantile)] datasets.
void Hdf5Writer::Impl::flush_class_block() {
  const hsize_t class_dims[2] = {classes, 1};
  for (std::size_t c = 0; c < kClassColumns.size(); ++c) {
    const ClassColumnSpec& col = kClassColumns[c];
    col.fill(class_buffer.data(), buffered * classes, scratch.data());
    append_matrix(class_datasets[c].get(), 2, class_dims, memory_type(col.type), scratch.data(),
                  col.name.c_str());
  }
  const hsize_t quantile_dims[2] = {classes, quantiles};
  append_matrix(quantile_dataset.get(), 3, quantile_dims, H5T_NATIVE_DOUBLE, quantile_buffer.data(),
                "stress_quantiles");
}

// /snapshots: an extensible table, one row per sampled agent and snapshot tick.
void Hdf5Writer::Impl::create_snapshots(const Simulation& sim) {
  const std::size_t rows =
      sim.scenario().output.snapshot_ticks.empty()
          ? 0
          : std::min<std::size_t>(sim.scenario().output.snapshot_agents, sim.population().size());
  snapshot_rows.resize(rows);
  CompoundType row_t(*this, "snapshot row", sizeof(SnapshotFileRow));
  row_t.member("tick", HOFFSET(SnapshotFileRow, tick), H5T_NATIVE_INT32)
      .member("agent", HOFFSET(SnapshotFileRow, agent), H5T_NATIVE_UINT32)
      .member("class", HOFFSET(SnapshotFileRow, class_id), H5T_NATIVE_UINT8)
      .member("account", HOFFSET(SnapshotFileRow, account), H5T_NATIVE_UINT8)
      .member("state", HOFFSET(SnapshotFileRow, state), H5T_NATIVE_UINT8)
      .member("claim_usd", HOFFSET(SnapshotFileRow, claim), H5T_NATIVE_DOUBLE)
      .member("outside_usd", HOFFSET(SnapshotFileRow, outside), H5T_NATIVE_DOUBLE)
      .member("threshold", HOFFSET(SnapshotFileRow, threshold), H5T_NATIVE_DOUBLE)
      .member("stress", HOFFSET(SnapshotFileRow, stress), H5T_NATIVE_DOUBLE);
  // The file keeps the struct's layout (padding included): the dataset is created from the
  // memory type itself.
  snapshot_type = row_t.memory_type();
  const hid_t t = snapshot_type.get();
  Handle dcpl(check(H5Pcreate(H5P_DATASET_CREATE), "cannot create dataset properties"), H5Pclose);
  const hsize_t chunk[1] = {std::max<hsize_t>(1, std::min<hsize_t>(rows, 4096))};
  check_status(H5Pset_chunk(dcpl.get(), 1, chunk), "cannot set the chunk size");
  check_status(H5Pset_deflate(dcpl.get(), kDeflateLevel), "cannot enable deflate");
  const hsize_t dims[1] = {0}, maxdims[1] = {H5S_UNLIMITED};
  Handle space(check(H5Screate_simple(1, dims, maxdims), "cannot create a dataspace"), H5Sclose);
  if (reopening) {
    snapshot_dataset = open_dataset(file.get(), "snapshots");
    return;
  }
  snapshot_dataset = Handle(check(H5Dcreate2(file.get(), "snapshots", t, space.get(), H5P_DEFAULT,
                                             dcpl.get(), H5P_DEFAULT),
                                  "cannot create dataset snapshots"),
                            H5Dclose);
  attr(snapshot_dataset.get(), "description",
       "per-agent sample (agents floor(k N / size)) at the end of the snapshot ticks; account: "
       "index of the institution holding the claim (root attribute institution_names); state: "
       "0 holding, 1 waiting out its reaction lag, 2 request pending in the queue, 3 left");
}

void Hdf5Writer::Impl::write_snapshot(std::int32_t tick, std::span<const SnapshotRow> rows) {
  const std::size_t n = std::min(rows.size(), snapshot_rows.size());
  for (std::size_t k = 0; k < n; ++k) {
    const SnapshotRow& r = rows[k];
    snapshot_rows[k] = {tick,
                        r.agent,
                        r.class_id,
                        r.account,
                        static_cast<std::uint8_t>(r.state),
                        cents_to_usd(r.claim),
                        cents_to_usd(r.outside),
                        r.threshold,
                        r.stress};
  }
  const hid_t ds = snapshot_dataset.get();
  const hsize_t start[1] = {static_cast<hsize_t>(snapshot_written)}, count[1] = {n};
  const hsize_t size[1] = {static_cast<hsize_t>(snapshot_written) + n};
  check_status(H5Dset_extent(ds, size), "cannot extend dataset snapshots");
  Handle filespace(check(H5Dget_space(ds), "cannot get the dataspace of snapshots"), H5Sclose);
  check_status(H5Sselect_hyperslab(filespace.get(), H5S_SELECT_SET, start, nullptr, count, nullptr),
               "cannot select the new rows of snapshots");
  Handle memspace(check(H5Screate_simple(1, count, nullptr), "cannot create a dataspace"),
                  H5Sclose);
  check_status(H5Dwrite(ds, snapshot_type.get(), memspace.get(), filespace.get(), H5P_DEFAULT,
                        snapshot_rows.data()),
               "cannot write dataset snapshots");
  snapshot_written += static_cast<std::int64_t>(n);
}

// /summary: the population-level numbers as attributes, and one subgroup per institution.
void Hdf5Writer::Impl::write_summary(const Summary& s) {
  Handle g = group(file.get(), "summary");
  const hid_t id = g.get();
  attr(id, "ticks_run", std::int32_t{s.ticks_run});
  money_attrs(id, "issued", s.issued);
  attr(id, "withdrawn_agents", std::int64_t{s.withdrawn_agents});
  attr(id, "agents", std::int64_t{s.agents});
  for (const InstitutionSummary& in : s.institutions) {
    Handle sub = group(id, in.name);
    const hid_t k = sub.get();
    money_attrs(k, "issued", in.issued);
    money_attrs(k, "total_outflow", in.total_outflow);
    money_attrs(k, "total_requested", in.total_requested);
    money_attrs(k, "total_inflows", in.total_inflows);
    money_attrs(k, "total_transfers_in", in.total_transfers_in);
    money_attrs(k, "peak_daily_outflow", in.peak_daily_outflow);
    attr(k, "peak_daily_outflow_end_tick", std::int32_t{in.peak_daily_outflow_end_tick});
    static_assert(InstitutionSummary::kMilestones.size() == 3);
    attr(k, "ticks_to_10pct", std::int32_t{in.tick_to_withdrawn[0]});
    attr(k, "ticks_to_25pct", std::int32_t{in.tick_to_withdrawn[1]});
    attr(k, "ticks_to_50pct", std::int32_t{in.tick_to_withdrawn[2]});
    attr(k, "halt_tick", std::int32_t{in.halt_tick});
    attr(k, "insolvent_tick", std::int32_t{in.insolvent_tick});
    money_attrs(k, "write_downs", in.write_downs);
    money_attrs(k, "liquidated_book", in.liquidated_book);
    money_attrs(k, "liquidation_proceeds", in.liquidation_proceeds);
    money_attrs(k, "final_surplus", in.final_surplus);
    money_attrs(k, "written_off", in.written_off);
    if (!sub.close()) fail("cannot close group summary/" + in.name);
  }
  if (!s.payoffs.empty()) write_payoffs(id, s.payoffs);
  if (!g.close()) fail("cannot close group summary");
}

// /summary/payoffs: one row per class and group (waited, ran), after a final payout.
void Hdf5Writer::Impl::write_payoffs(hid_t summary, const std::vector<ClassPayoff>& payoffs) {
  std::vector<PayoffRow> rows;
  for (std::size_t r = 0; r < payoffs.size(); ++r) {
    const ClassPayoff& p = payoffs[r];
    const double payoff = p.before > 0
                              ? static_cast<double>(p.final) / static_cast<double>(p.before)
                              : std::numeric_limits<double>::quiet_NaN();
    rows.push_back({static_cast<std::int32_t>(r / 2), static_cast<std::uint8_t>(r % 2), p.agents,
                    p.before, p.final, payoff});
  }
  CompoundType row_t(*this, "payoff row", sizeof(PayoffRow));
  row_t.member("class_id", HOFFSET(PayoffRow, class_id), H5T_NATIVE_INT32)
      .member("ran", HOFFSET(PayoffRow, ran), H5T_NATIVE_UINT8)
      .member("agents", HOFFSET(PayoffRow, agents), H5T_NATIVE_INT64)
      .member("before_cents", HOFFSET(PayoffRow, before_cents), H5T_NATIVE_INT64)
      .member("final_cents", HOFFSET(PayoffRow, final_cents), H5T_NATIVE_INT64)
      .member("payoff", HOFFSET(PayoffRow, payoff), H5T_NATIVE_DOUBLE);
  write_table(summary, "payoffs", row_t, rows.data(), rows.size());
}

// Cuts dataset `ds` back to `rows` rows (its first dimension).
void Hdf5Writer::Impl::cut_back(hid_t ds, hsize_t rows, const char* name) {
  const std::string what = std::string("dataset ") + name;
  Handle space(check(H5Dget_space(ds), "cannot get the dataspace of " + what), H5Sclose);
  hsize_t dims[3] = {0, 0, 0};
  const int rank = H5Sget_simple_extent_dims(space.get(), dims, nullptr);
  if (rank < 1 || rank > 3) fail("unexpected rank of " + what);
  if (dims[0] < rows)
    fail(what + " holds " + std::to_string(dims[0]) + " rows, the checkpoint needs " +
         std::to_string(rows));
  dims[0] = rows;
  check_status(H5Dset_extent(ds, dims), "cannot cut back " + what);
}

// Before anything is written: the file at partial_path is the run `from` continues.
void Hdf5Writer::Impl::check_same_run(const Hdf5Writer::Continue& from) const {
  Handle f(check(H5Fopen(partial_path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT),
                 "cannot open the file to continue it"),
           H5Fclose);
  if (hdf5::read_string_attribute(f.get(), "scenario_yaml") != from.scenario_yaml ||
      hdf5::read_string_attribute(f.get(), "started_utc") != from.started_utc)
    fail(std::string("is not the run the checkpoint was saved from (another scenario, or a run "
                     "started at another time") +
         (from.branch ? "" : "; start it again, or resume the checkpoint of this file") + ")");
}

// After create() reopened the file: the file as it was at `at`, ready for the next tick.
void Hdf5Writer::Impl::continue_at(Hdf5Writer::Position at) {
  const hid_t root = file.get();
  const std::int64_t recorded =
      hdf5::read_attribute<std::int64_t>(root, "ticks_recorded", H5T_NATIVE_INT64).value_or(-1);
  if (recorded < at.ticks)
    fail("holds " + std::to_string(recorded) + " ticks, fewer than the checkpoint's " +
         std::to_string(at.ticks));
  const auto ticks = static_cast<hsize_t>(at.ticks);
  for (std::size_t c = 0; c < datasets.size(); ++c)
    cut_back(datasets[c].get(), ticks, kColumns[c].name.c_str());
  for (InstitutionOut& out : institutions) {
    for (Handle& h : out.datasets) cut_back(h.get(), ticks, out.path.c_str());
    for (Handle& h : out.asset_datasets) cut_back(h.get(), ticks, out.path.c_str());
  }
  for (Handle& h : class_datasets) cut_back(h.get(), ticks, "population/by_class");
  cut_back(quantile_dataset.get(), ticks, "population/by_class/stress_quantiles");
  cut_back(snapshot_dataset.get(), static_cast<hsize_t>(at.snapshot_rows), "snapshots");
  written = at.ticks;
  snapshot_written = at.snapshot_rows;
  // The tables a finished (interrupted or failed) part wrote at its end.
  const auto remove = [&](const std::string& link) {
    const htri_t exists = H5Lexists(root, link.c_str(), H5P_DEFAULT);
    check_status(exists, "cannot look up " + link);
    if (exists > 0)
      check_status(H5Ldelete(root, link.c_str(), H5P_DEFAULT), "cannot remove " + link);
  };
  remove("summary");
  remove("events");
  for (const InstitutionOut& out : institutions) {
    remove(out.path + "/policies");
    remove(out.path + "/exposures");
  }
  attr(root, "ticks_recorded", std::int64_t{written});
  status(root, "running");
  check_status(H5Fflush(root, H5F_SCOPE_GLOBAL), "cannot flush the file");
}

// Every dataset and type the writer holds, then the file (so that closing the file really
// closes it, before the rename).
void Hdf5Writer::Impl::close_checked() {
  bool ok = true;
  const auto close = [&](Handle& h) { ok = h.close() && ok; };
  for_each_handle(close);
  if (!ok) fail("cannot close a dataset");
  if (!file.close()) fail("cannot close the file");
  state = State::kClosed;
}

void Hdf5Writer::Impl::close_quietly() noexcept {
  for_each_handle([](Handle& h) { h.close(); });
  file.close();
  H5Eclear2(H5E_DEFAULT);
  state = State::kClosed;
}

// Only a complete run gets the final name (a later resume continues a `.partial`).
void Hdf5Writer::Impl::rename_to_final() {
  std::error_code ec;
  std::filesystem::rename(partial_path, final_path, ec);
  if (ec)
    throw OutputError("HDF5 output " + partial_path + ": cannot rename to " + final_path + ": " +
                      ec.message());
  renamed = true;
}

// ---------------------------------------------------------------------------------------

void disable_hdf5_cleanup_at_exit() {
  H5dont_atexit();
}

Hdf5Writer::Hdf5Writer(const std::string& path, const Simulation& sim, const Provenance& provenance,
                       double flush_seconds)
    : impl_(std::make_unique<Impl>(path, flush_seconds)), path_(path) {
  // Errors are reported through return codes and turned into OutputError.
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  try {
    impl_->create(sim, provenance);
  } catch (...) {
    // Nothing useful was written: close and leave no file behind.
    const bool opened = impl_->file.valid();
    impl_->close_quietly();
    if (opened) {
      std::error_code ec;
      std::filesystem::remove(impl_->creating_path, ec);
      if (impl_->partial_written) std::filesystem::remove(impl_->partial_path, ec);
    }
    throw;
  }
}

Hdf5Writer::Hdf5Writer(const std::string& path, const Simulation& sim, const Provenance& provenance,
                       const Continue& from, double flush_seconds)
    : impl_(std::make_unique<Impl>(path, flush_seconds)), path_(path) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  Impl& m = *impl_;
  m.reopening = true;
  try {
    m.check_same_run(from);
    m.create(sim, provenance);
    std::string resumed;  // a branch's own resumes only
    if (!from.branch) {
      resumed = hdf5::read_string_attribute(m.file.get(), "resumed_at_ticks").value_or("");
      resumed += (resumed.empty() ? "" : ",") + std::to_string(from.at.ticks);
    }
    m.attr(m.file.get(), "resumed_at_ticks", resumed);
    m.continue_at(from.at);
    m.reopening = false;  // what is written from now on is new
  } catch (...) {
    // The `.partial` stays as it was or cut back to the checkpoint: a resume can retry.
    m.close_quietly();
    throw;
  }
}

Hdf5Writer::Position Hdf5Writer::flush() {
  Impl& m = *impl_;
  if (m.state != Impl::State::kOpen)
    throw OutputError("HDF5 output " + path_ + ": flush() after finish()");
  m.flush_block();
  // Snapshot rows are written as they come, not buffered: make them durable too.
  m.check_status(H5Fflush(m.file.get(), H5F_SCOPE_GLOBAL), "cannot flush the file");
  return {m.written, m.snapshot_written};
}

Hdf5Writer::~Hdf5Writer() {
  if (!impl_ || impl_->state != Impl::State::kOpen) return;
  // finish() was not called: an exception is unwinding the stack. Keep what was recorded,
  // marked "failed", as `<path>.partial` (never under the final name).
  Impl& m = *impl_;
  try {
    try {
      m.flush_block();
    } catch (const OutputError&) {
      // The buffered ticks are lost; the ticks already written are kept.
    }
    try {
      m.write_closing_tables();
    } catch (const OutputError&) {
      // The file stays readable without them.
    }
    m.status(m.file.get(), "failed");
    m.attr(m.file.get(), "ticks_recorded", std::int64_t{m.written});
    m.close_checked();
  } catch (...) {
    m.close_quietly();
  }
}

std::string Hdf5Writer::current_path() const {
  return impl_->renamed ? impl_->final_path : impl_->partial_path;
}

void Hdf5Writer::record(const TickRecord& r) {
  Impl& m = *impl_;
  if (m.state != Impl::State::kOpen)
    throw OutputError("HDF5 output " + path_ + ": record() after finish()");
  if (m.buffered == kBlock) m.flush_block();  // a previous flush failed
  m.buffer_record(r);
  if (m.flush_due()) m.flush_block();
}

void Hdf5Writer::snapshot(std::int32_t tick, std::span<const SnapshotRow> rows) {
  Impl& m = *impl_;
  if (m.state != Impl::State::kOpen)
    throw OutputError("HDF5 output " + path_ + ": snapshot() after finish()");
  m.write_snapshot(tick, rows);
}

void Hdf5Writer::finish(std::string_view status, const Summary& summary, double wall_seconds,
                        double loop_seconds) {
  Impl& m = *impl_;
  if (m.state != Impl::State::kOpen)
    throw OutputError("HDF5 output " + path_ + ": finish() called twice");
  if (status != "complete" && status != "interrupted" && status != "failed")
    throw OutputError("HDF5 output " + path_ + ": invalid status \"" + std::string(status) +
                      "\" (expected complete, interrupted or failed)");
  try {
    m.flush_block();
    m.write_summary(summary);
    m.write_closing_tables();
    const hid_t root = m.file.get();
    m.status(root, status);
    m.attr(root, "wall_seconds", wall_seconds);
    m.attr(root, "loop_seconds", loop_seconds);
    m.attr(root, "ticks_recorded", std::int64_t{m.written});
    m.close_checked();
  } catch (...) {
    // The file may be inconsistent: close it and leave it as `.partial`.
    m.close_quietly();
    throw;
  }
  if (status == "complete") m.rename_to_final();
}

}  // namespace bankrun
