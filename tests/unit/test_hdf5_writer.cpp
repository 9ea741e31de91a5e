// The HDF5 writer: drives a small simulation through bankrun::run and reads the file back
// with the HDF5 C API.
#include <doctest/doctest.h>
#include <hdf5.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "output/hdf5_writer.hpp"
#include "sim/run.hpp"
#include "sim/simulation.hpp"

namespace fs = std::filesystem;
using namespace bankrun;

namespace {

Scenario small_scenario(std::int32_t ticks = 2500) {
  Scenario s;
  s.name = "writer-test";
  s.seed = 42;
  s.time.ticks = ticks;
  s.time.tick_hours = 1.0;
  s.time.start_unix_seconds = 1678406400;
  s.time.start_utc = "2023-03-10T00:00:00Z";
  s.population.agents = 1000;
  InvestorClass retail;
  retail.name = "retail";
  retail.share = 1.0;
  retail.balance_usd = Distribution::constant(100.0);
  retail.threshold.kind = Distribution::Kind::kNormal;
  retail.threshold.mean = 1.0;
  retail.threshold.sd = 0.3;
  retail.noise_sd = Distribution::constant(0.05);
  s.population.classes.push_back(retail);
  s.network.kind = NetworkSpec::Kind::kKOut;
  s.network.k = 3;
  s.stress.news_weight = 1.0;
  s.stress.peer_weight = 0.5;
  NewsEvent e;
  e.label = "rumour";
  e.tick = 10;
  e.magnitude = 0.8;
  e.decay_ticks = 200.0;
  e.reach = 0.9;
  s.news.push_back(e);
  InstitutionSpec svb;
  svb.name = "svb";
  svb.hot_reserve_fraction = 0.6;
  svb.max_payout_per_tick = 50 * 100 * 100;  // 5000 USD per tick
  s.institutions = {svb};
  return s;
}

// Three institutions: the population banks at all of them and moves some withdrawn funds
// between them; "bank-b" lends $20,000 to "bank-a", which halts at tick 40 (the loan is
// written down at 60 %); a rumour targets bank-a's depositors; "bank-c" publishes a proof
// of reserves at tick 20. Snapshots at ticks 10 and 50.
Scenario three_institutions(std::int32_t ticks = 1500) {
  Scenario s = small_scenario(ticks);
  s.population.agents = 3000;
  s.population.classes[0].account_shares = {0.5, 0.3, 0.2};
  s.population.classes[0].destination_shares = {0.4, 0.2, 0.3, 0.1};
  s.news[0].institution = 0;
  s.stress.flow_weight = 0.5;
  s.stress.flow_window_ticks = 5;
  InstitutionSpec a = s.institutions[0], b, c;
  a.name = "bank-a";
  a.halt.at_tick = 40;
  a.illiquid_fraction = 0.6;  // ~$150,000 of deposits: solvent with the $20,000 loan
  b.name = "bank-b";
  b.hot_reserve_fraction = 0.5;
  ExposureSpec loan;
  loan.debtor = 0;
  loan.amount = usd_to_cents(20000);
  loan.loss_given_default = 0.6;
  loan.news_per_loss = 1.0;
  b.exposures = {loan};
  c.name = "bank-c";
  PolicySpec audit;
  audit.kind = PolicySpec::Kind::kProofOfReserves;
  audit.label = "audit";
  audit.trigger.at_tick = 20;
  c.policies = {audit};
  s.institutions = {a, b, c};
  s.output.snapshot_ticks = {10, 50};
  s.output.snapshot_agents = 300;
  return s;
}

Provenance provenance() {
  Provenance p;
  p.bankrun_version = "0.1.0-test";
  p.git_commit = "deadbeef";
  p.scenario_yaml = "name: writer-test\n";
  p.scenario_file = "tests/unit/test_hdf5_writer.cpp";
  p.started_utc = "2024-01-01T00:00:00Z";
  p.seed = 42;
  p.threads = 2;
  return p;
}

// A unique path in the temporary directory; the file and its `.partial` are removed at the
// end of the test.
struct TempPath {
  fs::path path;
  explicit TempPath(const std::string& stem) {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("bankrun-writer-test-" + stem + "-" + std::to_string(::getpid()) + "-" +
            std::to_string(counter++) + ".h5");
    remove();
  }
  ~TempPath() { remove(); }
  TempPath(const TempPath&) = delete;
  TempPath& operator=(const TempPath&) = delete;
  void remove() const {
    std::error_code ec;
    fs::remove(path, ec);
    fs::remove(path.string() + ".partial", ec);
  }
};

// --- Reading back ------------------------------------------------------------------------

struct File {
  hid_t id;
  explicit File(const fs::path& p) : id(H5Fopen(p.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT)) {
    if (id < 0) throw std::runtime_error("cannot open " + p.string());
  }
  ~File() { H5Fclose(id); }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
};

bool has_attr(hid_t obj, const std::string& object, const std::string& name) {
  return H5Aexists_by_name(obj, object.c_str(), name.c_str(), H5P_DEFAULT) > 0;
}

std::string string_attr(hid_t file, const std::string& object, const std::string& name) {
  const hid_t a = H5Aopen_by_name(file, object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE_MESSAGE(a >= 0, object << " @" << name);
  const hid_t t = H5Aget_type(a);
  REQUIRE(H5Tget_class(t) == H5T_STRING);
  CHECK(H5Tis_variable_str(t) == 0);
  CHECK(H5Tget_cset(t) == H5T_CSET_UTF8);
  const std::size_t size = H5Tget_size(t);
  std::vector<char> buf(size + 1, '\0');
  REQUIRE(H5Aread(a, t, buf.data()) >= 0);
  H5Tclose(t);
  H5Aclose(a);
  return std::string(buf.data());
}

template <typename T>
T number_attr(hid_t file, const std::string& object, const std::string& name, hid_t mem_type) {
  const hid_t a = H5Aopen_by_name(file, object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE_MESSAGE(a >= 0, object << " @" << name);
  T v{};
  REQUIRE(H5Aread(a, mem_type, &v) >= 0);
  H5Aclose(a);
  return v;
}

std::int64_t int_attr(hid_t f, const std::string& obj, const std::string& name) {
  return number_attr<std::int64_t>(f, obj, name, H5T_NATIVE_INT64);
}
double double_attr(hid_t f, const std::string& obj, const std::string& name) {
  return number_attr<double>(f, obj, name, H5T_NATIVE_DOUBLE);
}

hsize_t length(hid_t file, const std::string& path) {
  const hid_t d = H5Dopen2(file, path.c_str(), H5P_DEFAULT);
  REQUIRE_MESSAGE(d >= 0, path);
  const hid_t s = H5Dget_space(d);
  REQUIRE(H5Sget_simple_extent_ndims(s) == 1);
  hsize_t dims[1] = {0};
  H5Sget_simple_extent_dims(s, dims, nullptr);
  H5Sclose(s);
  H5Dclose(d);
  return dims[0];
}

// A UTF-8 string type of `bytes` bytes (HDF5 does not convert between ASCII and UTF-8).
hid_t utf8_type(std::size_t bytes) {
  const hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, bytes);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return t;
}

// Reads a compound table into rows of `row_t` (which names the fields to read).
template <typename Row>
std::vector<Row> read_table(hid_t file, const std::string& path, hid_t row_t) {
  std::vector<Row> rows(length(file, path));
  const hid_t d = H5Dopen2(file, path.c_str(), H5P_DEFAULT);
  if (!rows.empty()) REQUIRE(H5Dread(d, row_t, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()) >= 0);
  H5Dclose(d);
  return rows;
}

template <typename T>
std::vector<T> read_column(hid_t file, const std::string& path, hid_t mem_type) {
  std::vector<T> v(length(file, path));
  const hid_t d = H5Dopen2(file, path.c_str(), H5P_DEFAULT);
  if (!v.empty()) REQUIRE(H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0);
  H5Dclose(d);
  return v;
}

// A 2-D [tick, item] dataset: its shape, and its values row-major.
template <typename T>
std::vector<T> read_matrix(hid_t file, const std::string& path, hid_t mem_type,
                           std::array<hsize_t, 2>& dims) {
  const hid_t d = H5Dopen2(file, path.c_str(), H5P_DEFAULT);
  REQUIRE_MESSAGE(d >= 0, path);
  const hid_t s = H5Dget_space(d);
  REQUIRE_MESSAGE(H5Sget_simple_extent_ndims(s) == 2, path);
  H5Sget_simple_extent_dims(s, dims.data(), nullptr);
  H5Sclose(s);
  std::vector<T> v(dims[0] * dims[1]);
  if (!v.empty()) REQUIRE(H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0);
  H5Dclose(d);
  return v;
}

// The stored type of a dataset: class and size in bytes.
std::pair<H5T_class_t, std::size_t> stored_type(hid_t file, const std::string& path) {
  const hid_t d = H5Dopen2(file, path.c_str(), H5P_DEFAULT);
  REQUIRE_MESSAGE(d >= 0, path);
  const hid_t t = H5Dget_type(d);
  const std::pair<H5T_class_t, std::size_t> out{H5Tget_class(t), H5Tget_size(t)};
  H5Tclose(t);
  H5Dclose(d);
  return out;
}

// The /classes table's name and portfolio columns.
std::vector<std::pair<std::string, std::string>> read_portfolios(hid_t file) {
  struct Row {
    char name[64];
    char portfolio[128];
  };
  const hid_t name_t = utf8_type(64), portfolio_t = utf8_type(128);
  const hid_t row_t = H5Tcreate(H5T_COMPOUND, sizeof(Row));
  H5Tinsert(row_t, "name", HOFFSET(Row, name), name_t);
  H5Tinsert(row_t, "portfolio", HOFFSET(Row, portfolio), portfolio_t);
  const auto rows = read_table<Row>(file, "/classes", row_t);
  H5Tclose(row_t);
  H5Tclose(portfolio_t);
  H5Tclose(name_t);
  std::vector<std::pair<std::string, std::string>> out;
  for (const Row& r : rows) out.emplace_back(r.name, r.portfolio);
  return out;
}

const std::vector<std::string> kColumns = {
    "/time/tick",
    "/institutions/svb/deposits",
    "/institutions/svb/deposits_cents",
    "/institutions/svb/requests",
    "/institutions/svb/payments",
    "/institutions/svb/payments_cents",
    "/institutions/svb/queue_value",
    "/institutions/svb/queue_count",
    "/institutions/svb/oldest_wait",
    "/institutions/svb/inflows_cents",
    "/institutions/svb/transfers_in",
    "/institutions/svb/transfers_in_cents",
    "/institutions/svb/transfers_out",
    "/institutions/svb/transfers_out_cents",
    "/institutions/svb/hot_reserves",
    "/institutions/svb/claims_on_institutions",
    "/institutions/svb/write_downs",
    "/institutions/svb/equity",
    "/institutions/svb/halted",
    "/institutions/svb/signals/flow",
    "/institutions/svb/signals/queue",
    "/institutions/svb/signals/price",
    "/population/withdrawn_agents",
    "/population/new_withdrawals",
    "/population/paid_agents",
    "/population/acting_agents",
    "/population/stress_mean",
    "/population/self_custody",
    "/population/self_custody_cents",
    "/signals/news",
};

// The news table as written (the fields this test reads).
struct NewsFileRow {
  char label[64];
  char institution[64];
  std::int32_t tick;
  double magnitude;
  double decay_ticks;
  std::int32_t duration_ticks;
};

std::vector<NewsFileRow> read_news(hid_t file) {
  const hid_t label_t = utf8_type(64);
  const hid_t row_t = H5Tcreate(H5T_COMPOUND, sizeof(NewsFileRow));
  H5Tinsert(row_t, "label", HOFFSET(NewsFileRow, label), label_t);
  H5Tinsert(row_t, "institution", HOFFSET(NewsFileRow, institution), label_t);
  H5Tinsert(row_t, "tick", HOFFSET(NewsFileRow, tick), H5T_NATIVE_INT32);
  H5Tinsert(row_t, "magnitude", HOFFSET(NewsFileRow, magnitude), H5T_NATIVE_DOUBLE);
  H5Tinsert(row_t, "decay_ticks", HOFFSET(NewsFileRow, decay_ticks), H5T_NATIVE_DOUBLE);
  H5Tinsert(row_t, "duration_ticks", HOFFSET(NewsFileRow, duration_ticks), H5T_NATIVE_INT32);
  auto rows = read_table<NewsFileRow>(file, "/events/news", row_t);
  H5Tclose(row_t);
  H5Tclose(label_t);
  return rows;
}

// Synthetic ticks for `sim`'s scenario, with spans of the right sizes.
struct SyntheticTick {
  std::vector<InstitutionTick> institutions;
  std::vector<ClassTick> classes;
  std::vector<double> quantiles;
  TickRecord record;
  explicit SyntheticTick(const Simulation& sim) {
    const Scenario& sc = sim.scenario();
    for (const Institution& in : sim.institutions()) {
      InstitutionTick t;
      t.deposits = in.issued();
      institutions.push_back(t);
    }
    classes.resize(sc.population.classes.size());
    quantiles.resize(classes.size() * sc.output.stress_quantiles.size());
    record.institutions = institutions;
    record.classes = classes;
    record.class_stress_quantiles = quantiles;
  }
};

// A recorder that forwards to the writer and keeps the snapshots' accounts.
class SnapshotTee final : public Recorder {
 public:
  explicit SnapshotTee(Recorder& inner) : inner_(inner) {}
  void record(const TickRecord& r) override { inner_.record(r); }
  void snapshot(std::int32_t tick, std::span<const SnapshotRow> rows) override {
    for (const SnapshotRow& row : rows) accounts.push_back(row.account);
    inner_.snapshot(tick, rows);
  }
  std::vector<std::uint8_t> accounts;  // in the order written

 private:
  Recorder& inner_;
};

// A recorder that forwards to the writer and throws after `limit` ticks.
class ThrowingRecorder final : public Recorder {
 public:
  ThrowingRecorder(Recorder& inner, std::int32_t limit) : inner_(inner), limit_(limit) {}
  void record(const TickRecord& r) override {
    if (r.tick >= limit_) throw std::runtime_error("boom");
    inner_.record(r);
  }

 private:
  Recorder& inner_;
  std::int32_t limit_;
};

}  // namespace

TEST_CASE("hdf5 writer: complete run round-trips through the HDF5 C API") {
  const TempPath tmp("complete");
  const fs::path& path = tmp.path;
  const Scenario scenario = small_scenario();
  Simulation sim(scenario);
  const Money issued = sim.institutions()[0].issued();
  const Money hot0 = sim.institutions()[0].hot();
  RunResult result;
  {
    Hdf5Writer writer(path.string(), sim, provenance());
    CHECK(writer.path() == path.string());
    CHECK(fs::exists(path.string() + ".partial"));
    CHECK_FALSE(fs::exists(path));
    result = run(sim, writer);
    REQUIRE(result.status == RunStatus::kComplete);
    writer.finish("complete", result.summary, 1.5, result.loop_seconds);
    CHECK(writer.current_path() == path.string());
    CHECK_THROWS_AS(writer.finish("complete", result.summary, 1.5, 1.0), OutputError);
    CHECK_THROWS_AS(writer.record(TickRecord{}), OutputError);
  }
  CHECK(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) == 0);  // every HDF5 object was closed
  CHECK_FALSE(fs::exists(path.string() + ".partial"));
  REQUIRE(fs::exists(path));

  File f(path);
  const hid_t id = f.id;
  CHECK(string_attr(id, "/", "format") == "bankrun");
  CHECK(int_attr(id, "/", "format_version") == 3);
  CHECK(string_attr(id, "/", "status") == "complete");
  CHECK(string_attr(id, "/", "resumed_at_ticks").empty());  // ran in one go
  CHECK(string_attr(id, "/", "parent_file").empty());       // not a branch
  CHECK(int_attr(id, "/", "parent_tick") == -1);
  CHECK(string_attr(id, "/", "bankrun_version") == "0.1.0-test");
  CHECK(string_attr(id, "/", "git_commit") == "deadbeef");
  CHECK(string_attr(id, "/", "scenario_yaml") == "name: writer-test\n");
  CHECK(string_attr(id, "/", "start_utc") == "2023-03-10T00:00:00Z");
  CHECK(number_attr<std::uint64_t>(id, "/", "seed", H5T_NATIVE_UINT64) == 42);
  CHECK(int_attr(id, "/", "threads") == 2);
  CHECK(int_attr(id, "/", "ticks_recorded") == 2500);
  CHECK(int_attr(id, "/", "start_unix_seconds") == 1678406400);
  CHECK(int_attr(id, "/", "agents") == 1000);
  CHECK(double_attr(id, "/", "tick_hours") == 1.0);
  CHECK(double_attr(id, "/", "wall_seconds") == 1.5);
  CHECK(double_attr(id, "/", "loop_seconds") == result.loop_seconds);
  CHECK(string_attr(id, "/", "institution_names") == "svb");
  CHECK(string_attr(id, "/", "currencies") == "USD");
  const auto portfolios = read_portfolios(id);
  REQUIRE(portfolios.size() == 1);
  CHECK(portfolios[0] == std::make_pair(std::string("retail"), std::string("USD:1")));
  CHECK(length(id, "/institutions/svb/assets/spec") == 0);
  std::array<hsize_t, 2> no_assets{};
  read_matrix<double>(id, "/institutions/svb/assets/hot_units", H5T_NATIVE_DOUBLE, no_assets);
  CHECK(no_assets[0] == 2500);
  CHECK(no_assets[1] == 0);

  for (const std::string& c : kColumns) {
    CHECK_MESSAGE(length(id, c) == 2500, c);
    CHECK_MESSAGE(has_attr(id, c, "units"), c);
    CHECK_MESSAGE(has_attr(id, c, "description"), c);
  }
  CHECK(string_attr(id, "/institutions/svb/deposits", "units") == "USD");
  CHECK(string_attr(id, "/population/self_custody_cents", "units") == "USD cents");
  CHECK(H5Lexists(id, "/signals/flow", H5P_DEFAULT) == 0);  // per institution since version 2

  const std::string inst = "/institutions/svb";
  CHECK(int_attr(id, inst, "initial_deposits_cents") == issued);
  CHECK(issued == 1000 * 100 * 100);
  CHECK(int_attr(id, inst, "initial_hot_cents") == hot0);
  CHECK(int_attr(id, inst, "max_payout_per_tick_cents") == 50 * 100 * 100);
  CHECK(int_attr(id, inst, "issued_cents") == issued);
  CHECK(double_attr(id, inst, "issued") == cents_to_usd(issued));
  CHECK(int_attr(id, inst, "owed_to_institutions_cents") == 0);
  CHECK(int_attr(id, inst, "index") == 0);
  CHECK(length(id, inst + "/policies") == 0);
  CHECK(length(id, inst + "/exposures") == 0);

  // The ledger identity at every tick: outstanding + paid so far == issued (no inflows or
  // transfers here), and money is conserved: outstanding + self-custody == issued.
  const auto ticks = read_column<std::int32_t>(id, "/time/tick", H5T_NATIVE_INT32);
  const auto deposits = read_column<std::int64_t>(id, inst + "/deposits_cents", H5T_NATIVE_INT64);
  const auto payments = read_column<std::int64_t>(id, inst + "/payments_cents", H5T_NATIVE_INT64);
  const auto deposits_usd = read_column<double>(id, inst + "/deposits", H5T_NATIVE_DOUBLE);
  const auto outside =
      read_column<std::int64_t>(id, "/population/self_custody_cents", H5T_NATIVE_INT64);
  const auto transfers_out =
      read_column<std::int64_t>(id, inst + "/transfers_out_cents", H5T_NATIVE_INT64);
  Money paid = 0;
  bool identity = true, conserved = true, ticks_ok = true, usd_ok = true, no_transfers = true;
  for (std::size_t t = 0; t < ticks.size(); ++t) {
    paid += payments[t];
    identity = identity && deposits[t] + paid == issued;
    conserved = conserved && deposits[t] + outside[t] == issued;
    ticks_ok = ticks_ok && ticks[t] == static_cast<std::int32_t>(t);
    usd_ok = usd_ok && deposits_usd[t] == static_cast<double>(deposits[t]) / 100.0;
    no_transfers = no_transfers && transfers_out[t] == 0;
  }
  CHECK(identity);
  CHECK(conserved);
  CHECK(ticks_ok);
  CHECK(usd_ok);
  CHECK(no_transfers);
  REQUIRE(result.summary.institutions.size() == 1);
  CHECK(paid == result.summary.institutions[0].total_outflow);
  CHECK(paid > 0);  // the scenario does produce a run

  const auto withdrawn =
      read_column<std::int64_t>(id, "/population/withdrawn_agents", H5T_NATIVE_INT64);
  CHECK(withdrawn.back() == result.summary.withdrawn_agents);
  const auto news = read_column<double>(id, "/signals/news", H5T_NATIVE_DOUBLE);
  CHECK(news[9] == 0.0);
  CHECK(news[10] == doctest::Approx(0.8));

  // Summary: population-level attributes, one subgroup per institution.
  const InstitutionSummary& svb = result.summary.institutions[0];
  CHECK(int_attr(id, "/summary", "ticks_run") == 2500);
  CHECK(int_attr(id, "/summary", "issued_cents") == issued);
  CHECK(int_attr(id, "/summary", "agents") == 1000);
  CHECK(int_attr(id, "/summary", "withdrawn_agents") == result.summary.withdrawn_agents);
  CHECK_FALSE(has_attr(id, "/summary", "total_outflow_cents"));
  CHECK(int_attr(id, "/summary/svb", "issued_cents") == issued);
  CHECK(int_attr(id, "/summary/svb", "total_outflow_cents") == svb.total_outflow);
  CHECK(double_attr(id, "/summary/svb", "total_outflow_usd") ==
        doctest::Approx(cents_to_usd(svb.total_outflow)));
  CHECK(int_attr(id, "/summary/svb", "total_requested_cents") == svb.total_requested);
  CHECK(int_attr(id, "/summary/svb", "total_inflows_cents") == 0);
  CHECK(int_attr(id, "/summary/svb", "total_transfers_in_cents") == 0);
  CHECK(int_attr(id, "/summary/svb", "peak_daily_outflow_cents") == svb.peak_daily_outflow);
  CHECK(int_attr(id, "/summary/svb", "peak_daily_outflow_end_tick") ==
        svb.peak_daily_outflow_end_tick);
  CHECK(int_attr(id, "/summary/svb", "ticks_to_10pct") == svb.tick_to_withdrawn[0]);
  CHECK(int_attr(id, "/summary/svb", "ticks_to_50pct") == svb.tick_to_withdrawn[2]);
  CHECK(int_attr(id, "/summary/svb", "halt_tick") == -1);
  CHECK(int_attr(id, "/summary/svb", "insolvent_tick") == svb.insolvent_tick);
  CHECK(int_attr(id, "/summary/svb", "write_downs_cents") == 0);

  // Network, classes, news events.
  CHECK(string_attr(id, "/network", "type") == "k_out");
  CHECK(int_attr(id, "/network", "edges") == 3000);
  CHECK(double_attr(id, "/network", "degree_mean") == 3.0);
  CHECK(length(id, "/classes") == 1);
  const auto news_rows = read_news(id);
  REQUIRE(news_rows.size() == 1);
  const NewsFileRow& row = news_rows[0];
  CHECK(std::string(row.label) == "rumour");
  CHECK(std::string(row.institution).empty());  // everyone
  CHECK(row.tick == 10);
  CHECK(row.decay_ticks == 200.0);
  CHECK(row.duration_ticks == kForever);
}

TEST_CASE("hdf5 writer: several institutions - groups, ledgers, conservation, exposures") {
  const TempPath tmp("three");
  const fs::path& path = tmp.path;
  Simulation sim(three_institutions());
  std::vector<Money> issued;
  for (const Institution& in : sim.institutions()) issued.push_back(in.issued());
  RunResult result;
  std::vector<std::uint8_t> snapshot_accounts;
  {
    Hdf5Writer writer(path.string(), sim, provenance());
    SnapshotTee tee(writer);
    result = run(sim, tee);
    REQUIRE(result.status == RunStatus::kComplete);
    writer.finish("complete", result.summary, 1.0, result.loop_seconds);
    snapshot_accounts = tee.accounts;
  }
  CHECK(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) == 0);
  File f(path);
  const hid_t id = f.id;
  const std::vector<std::string> names = {"bank-a", "bank-b", "bank-c"};
  CHECK(string_attr(id, "/", "institution_names") == "bank-a,bank-b,bank-c");
  const std::size_t n = length(id, "/time/tick");
  REQUIRE(n == 1500);
  const auto outside =
      read_column<std::int64_t>(id, "/population/self_custody_cents", H5T_NATIVE_INT64);
  const auto outside_usd = read_column<double>(id, "/population/self_custody", H5T_NATIVE_DOUBLE);
  std::vector<Money> total(n, 0);
  Money moved_out = 0, moved_in = 0;
  for (std::size_t k = 0; k < names.size(); ++k) {
    const std::string inst = "/institutions/" + names[k];
    CHECK(int_attr(id, inst, "index") == static_cast<std::int64_t>(k));
    CHECK(int_attr(id, inst, "issued_cents") == issued[k]);
    for (const char* c : {"/deposits_cents", "/transfers_in_cents", "/transfers_out_cents",
                          "/claims_on_institutions", "/write_downs", "/signals/flow",
                          "/signals/queue", "/signals/price"})
      CHECK_MESSAGE(length(id, inst + c) == n, inst << c);
    const auto col = [&](const char* c) {
      return read_column<std::int64_t>(id, inst + c, H5T_NATIVE_INT64);
    };
    const auto deposits = col("/deposits_cents"), payments = col("/payments_cents"),
               inflows = col("/inflows_cents"), in = col("/transfers_in_cents"),
               out = col("/transfers_out_cents");
    // Per institution: deposits = issued + cumsum(inflows + transfers_in - payments).
    Money balance = issued[k];
    bool ledger = true, part = true;
    for (std::size_t t = 0; t < n; ++t) {
      balance += inflows[t] + in[t] - payments[t];
      ledger = ledger && deposits[t] == balance;
      part = part && 0 <= out[t] && out[t] <= payments[t];
      total[t] += deposits[t];
      moved_out += out[t];
      moved_in += in[t];
    }
    CHECK_MESSAGE(ledger, names[k]);
    CHECK_MESSAGE(part, names[k]);
    // The summary subgroup agrees with the run's summary.
    const InstitutionSummary& s = result.summary.institutions[k];
    const std::string sum = "/summary/" + names[k];
    CHECK(int_attr(id, sum, "issued_cents") == issued[k]);
    CHECK(int_attr(id, sum, "total_outflow_cents") == s.total_outflow);
    CHECK(int_attr(id, sum, "total_inflows_cents") == s.total_inflows);
    CHECK(int_attr(id, sum, "total_transfers_in_cents") == s.total_transfers_in);
    CHECK(int_attr(id, sum, "halt_tick") == s.halt_tick);
    CHECK(int_attr(id, sum, "insolvent_tick") == s.insolvent_tick);
    CHECK(int_attr(id, sum, "write_downs_cents") == s.write_downs);
  }
  // Money conservation, exact at every tick: all deposits + self-custody == all issued.
  const Money all_issued = issued[0] + issued[1] + issued[2];
  bool conserved = true, usd = true;
  for (std::size_t t = 0; t < n; ++t) {
    conserved = conserved && total[t] + outside[t] == all_issued;
    usd = usd && outside_usd[t] == static_cast<double>(outside[t]) / 100.0;
  }
  CHECK(conserved);
  CHECK(usd);
  CHECK(int_attr(id, "/summary", "issued_cents") == all_issued);
  CHECK(moved_in == moved_out);
  CHECK(moved_in > 0);  // the scenario does move funds between institutions
  CHECK(int_attr(id, "/summary/bank-a", "halt_tick") == 40);

  // bank-a owes bank-b's loan; bank-b's exposure defaulted when bank-a halted.
  CHECK(int_attr(id, "/institutions/bank-a", "owed_to_institutions_cents") == usd_to_cents(20000));
  CHECK(int_attr(id, "/institutions/bank-b", "owed_to_institutions_cents") == 0);
  struct ExposureFileRow {
    char debtor[64];
    double amount_usd;
    std::int64_t amount_cents;
    double loss_given_default;
    std::int32_t default_tick;
    double loss_usd;
    std::int64_t loss_cents;
  };
  const hid_t name_t = utf8_type(64);
  const hid_t row_t = H5Tcreate(H5T_COMPOUND, sizeof(ExposureFileRow));
  H5Tinsert(row_t, "debtor", HOFFSET(ExposureFileRow, debtor), name_t);
  H5Tinsert(row_t, "amount_usd", HOFFSET(ExposureFileRow, amount_usd), H5T_NATIVE_DOUBLE);
  H5Tinsert(row_t, "amount_cents", HOFFSET(ExposureFileRow, amount_cents), H5T_NATIVE_INT64);
  H5Tinsert(row_t, "loss_given_default", HOFFSET(ExposureFileRow, loss_given_default),
            H5T_NATIVE_DOUBLE);
  H5Tinsert(row_t, "default_tick", HOFFSET(ExposureFileRow, default_tick), H5T_NATIVE_INT32);
  H5Tinsert(row_t, "loss_usd", HOFFSET(ExposureFileRow, loss_usd), H5T_NATIVE_DOUBLE);
  H5Tinsert(row_t, "loss_cents", HOFFSET(ExposureFileRow, loss_cents), H5T_NATIVE_INT64);
  const auto exposures = read_table<ExposureFileRow>(id, "/institutions/bank-b/exposures", row_t);
  H5Tclose(row_t);
  H5Tclose(name_t);
  REQUIRE(exposures.size() == 1);
  const ExposureFileRow& loan = exposures[0];
  CHECK(std::string(loan.debtor) == "bank-a");
  CHECK(loan.amount_cents == usd_to_cents(20000));
  CHECK(loan.amount_usd == 20000.0);
  CHECK(loan.loss_given_default == 0.6);
  CHECK(loan.default_tick == 40);
  CHECK(loan.loss_cents == usd_to_cents(12000));
  CHECK(loan.loss_usd == 12000.0);
  CHECK(length(id, "/institutions/bank-a/exposures") == 0);
  const auto write_downs =
      read_column<double>(id, "/institutions/bank-b/write_downs", H5T_NATIVE_DOUBLE);
  CHECK(write_downs[40] == 12000.0);
  CHECK(int_attr(id, "/summary/bank-b", "write_downs_cents") == usd_to_cents(12000));
  const auto claims =
      read_column<double>(id, "/institutions/bank-b/claims_on_institutions", H5T_NATIVE_DOUBLE);
  CHECK(claims[39] == 20000.0);
  CHECK(claims[40] == 8000.0);

  // Policies per institution; news with its target.
  CHECK(length(id, "/institutions/bank-a/policies") == 0);
  CHECK(length(id, "/institutions/bank-c/policies") == 1);
  std::vector<std::pair<std::string, std::string>> news;  // (label, institution)
  for (const NewsFileRow& r : read_news(id)) news.emplace_back(r.label, r.institution);
  const auto has = [&](const std::string& label, const std::string& target) {
    return std::find(news.begin(), news.end(), std::make_pair(label, target)) != news.end();
  };
  CHECK(has("rumour", "bank-a"));
  CHECK(has("proof of reserves: audit", "bank-c"));
  CHECK(has("loss on exposure to bank-a", "bank-b"));

  // Snapshots carry each sampled agent's account institution.
  struct SnapRow {
    std::int32_t tick;
    std::uint32_t agent;
    std::uint8_t account;
  };
  const hid_t snap_t = H5Tcreate(H5T_COMPOUND, sizeof(SnapRow));
  H5Tinsert(snap_t, "tick", HOFFSET(SnapRow, tick), H5T_NATIVE_INT32);
  H5Tinsert(snap_t, "agent", HOFFSET(SnapRow, agent), H5T_NATIVE_UINT32);
  H5Tinsert(snap_t, "account", HOFFSET(SnapRow, account), H5T_NATIVE_UINT8);
  const auto snaps = read_table<SnapRow>(id, "/snapshots", snap_t);
  H5Tclose(snap_t);
  REQUIRE(snaps.size() == 600);
  REQUIRE(snapshot_accounts.size() == 600);
  std::array<int, 3> per_account{};
  bool same = true;
  for (std::size_t k = 0; k < snaps.size(); ++k) {
    same = same && snaps[k].account == snapshot_accounts[k];
    if (snaps[k].account < 3 && snaps[k].tick == 10) ++per_account[snaps[k].account];
  }
  CHECK(same);
  for (const int c : per_account) CHECK(c > 0);  // agents bank at every institution
}

TEST_CASE("hdf5 writer: claims held in an asset - per-asset tiers, liabilities, payments") {
  const TempPath tmp("portfolio");
  const fs::path& path = tmp.path;
  Scenario s = small_scenario(300);
  s.currencies = {"BTC"};
  s.population.classes[0].portfolio = {0.5, 0.5};
  InstitutionSpec& svb = s.institutions[0];
  svb.hot_reserve_fraction = 0.4;
  AssetSpec btc;
  btc.name = "BTC";
  btc.holding_fraction = 0.6;
  btc.price_usd = 25000.0;
  btc.hot_share = 0.5;
  btc.cold_share = 0.3;
  btc.cold_delay_ticks = 2;
  btc.max_payout_per_tick = usd_to_cents(4000);
  svb.assets = {btc};
  Simulation sim(s);
  RunResult result;
  {
    Hdf5Writer writer(path.string(), sim, provenance());
    result = run(sim, writer);
    REQUIRE(result.status == RunStatus::kComplete);
    writer.finish("complete", result.summary, 1.0, result.loop_seconds);
  }
  CHECK(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) == 0);
  File f(path);
  const hid_t id = f.id;
  CHECK(int_attr(id, "/", "format_version") == 3);
  CHECK(string_attr(id, "/", "currencies") == "USD,BTC");
  const auto portfolios = read_portfolios(id);
  REQUIRE(portfolios.size() == 1);
  CHECK(portfolios[0].first == "retail");
  CHECK(portfolios[0].second == "USD:0.5,BTC:0.5");

  // The asset's spec table.
  const std::string assets = "/institutions/svb/assets";
  CHECK(string_attr(id, assets, "asset_names") == "BTC");
  struct SpecRow {
    char name[64];
    double hot_share;
    double cold_share;
    double cold_to_hot_units_per_tick;
    std::int32_t cold_delay_ticks;
    double max_payout_per_tick_usd;
    std::int64_t max_payout_per_tick_cents;
  };
  const hid_t name_t = utf8_type(64);
  const hid_t spec_t = H5Tcreate(H5T_COMPOUND, sizeof(SpecRow));
  H5Tinsert(spec_t, "name", HOFFSET(SpecRow, name), name_t);
  H5Tinsert(spec_t, "hot_share", HOFFSET(SpecRow, hot_share), H5T_NATIVE_DOUBLE);
  H5Tinsert(spec_t, "cold_share", HOFFSET(SpecRow, cold_share), H5T_NATIVE_DOUBLE);
  H5Tinsert(spec_t, "cold_to_hot_units_per_tick", HOFFSET(SpecRow, cold_to_hot_units_per_tick),
            H5T_NATIVE_DOUBLE);
  H5Tinsert(spec_t, "cold_delay_ticks", HOFFSET(SpecRow, cold_delay_ticks), H5T_NATIVE_INT32);
  H5Tinsert(spec_t, "max_payout_per_tick_usd", HOFFSET(SpecRow, max_payout_per_tick_usd),
            H5T_NATIVE_DOUBLE);
  H5Tinsert(spec_t, "max_payout_per_tick_cents", HOFFSET(SpecRow, max_payout_per_tick_cents),
            H5T_NATIVE_INT64);
  const auto specs = read_table<SpecRow>(id, assets + "/spec", spec_t);
  H5Tclose(spec_t);
  H5Tclose(name_t);
  REQUIRE(specs.size() == 1);
  CHECK(std::string(specs[0].name) == "BTC");
  CHECK(specs[0].hot_share == 0.5);
  CHECK(specs[0].cold_share == 0.3);
  CHECK(std::isinf(specs[0].cold_to_hot_units_per_tick));
  CHECK(specs[0].cold_delay_ticks == 2);
  CHECK(specs[0].max_payout_per_tick_usd == 4000.0);
  CHECK(specs[0].max_payout_per_tick_cents == usd_to_cents(4000));

  // Every [tick, asset] dataset: shape (ticks, 1), stored type, units.
  struct Expected {
    const char* name;
    H5T_class_t cls;
    std::size_t bytes;
    const char* units;
  };
  const std::vector<Expected> expected = {
      {"price", H5T_FLOAT, 8, "USD per unit"},
      {"value", H5T_FLOAT, 8, "USD"},
      {"sale_proceeds", H5T_FLOAT, 8, "USD"},
      {"realised_loss", H5T_FLOAT, 8, "USD"},
      {"hot_units", H5T_FLOAT, 8, "units of the asset"},
      {"cold_units", H5T_FLOAT, 8, "units of the asset"},
      {"in_transit_units", H5T_FLOAT, 8, "units of the asset"},
      {"illiquid_units", H5T_FLOAT, 8, "units of the asset"},
      {"liabilities", H5T_FLOAT, 8, "USD"},
      {"liabilities_cents", H5T_INTEGER, 8, "USD cents"},
      {"payments", H5T_FLOAT, 8, "USD"},
      {"payments_cents", H5T_INTEGER, 8, "USD cents"},
      {"paid_units", H5T_FLOAT, 8, "units of the asset"},
      {"queue_value", H5T_FLOAT, 8, "USD"},
      {"queue_count", H5T_INTEGER, 8, "requests"},
      {"oldest_wait", H5T_INTEGER, 4, "ticks"},
  };
  const std::array<hsize_t, 2> kShape{300, 1};
  for (const Expected& e : expected) {
    const std::string ds = assets + "/" + e.name;
    std::array<hsize_t, 2> dims{};
    read_matrix<double>(id, ds, H5T_NATIVE_DOUBLE, dims);
    CHECK_MESSAGE(dims == kShape, ds);
    const auto [cls, bytes] = stored_type(id, ds);
    CHECK_MESSAGE(cls == e.cls, ds);
    CHECK_MESSAGE(bytes == e.bytes, ds);
    CHECK_MESSAGE(string_attr(id, ds, "units") == e.units, ds);
    CHECK_MESSAGE(has_attr(id, ds, "description"), ds);
  }

  std::array<hsize_t, 2> dims{};
  const auto cents = [&](const char* name) {
    return read_matrix<std::int64_t>(id, assets + "/" + name, H5T_NATIVE_INT64, dims);
  };
  const auto usd = [&](const char* name) {
    return read_matrix<double>(id, assets + "/" + name, H5T_NATIVE_DOUBLE, dims);
  };
  const auto liabilities = cents("liabilities_cents"), paid = cents("payments_cents");
  const auto liabilities_usd = usd("liabilities"), paid_usd = usd("payments");
  const auto paid_units = usd("paid_units"), price = usd("price"), value = usd("value");
  const auto hot = usd("hot_units"), cold = usd("cold_units"), transit = usd("in_transit_units"),
             illiquid = usd("illiquid_units");
  const auto queue_count = cents("queue_count");
  const std::string inst = "/institutions/svb";
  const auto deposits = read_column<std::int64_t>(id, inst + "/deposits_cents", H5T_NATIVE_INT64);
  const auto payments = read_column<std::int64_t>(id, inst + "/payments_cents", H5T_NATIVE_INT64);
  const auto inst_queue = read_column<std::int64_t>(id, inst + "/queue_count", H5T_NATIVE_INT64);
  REQUIRE(deposits.size() == 300);

  // Half of every claim is held in BTC: about half the deposits at tick 0.
  CHECK(static_cast<double>(liabilities[0]) ==
        doctest::Approx(0.5 * static_cast<double>(deposits[0])).epsilon(0.02));
  // Tick 0: 0.6 of the deposits in BTC, split 0.5 / 0.3 / 0.2 across hot, cold, illiquid.
  const double units0 = hot[0] + cold[0] + transit[0] + illiquid[0];
  CHECK(units0 * 25000.0 ==
        doctest::Approx(0.6 * cents_to_usd(sim.institutions()[0].issued())).epsilon(0.05));
  CHECK(illiquid[0] == doctest::Approx(0.2 * units0).epsilon(0.01));

  bool bounded = true, in_kind = true, usd_ok = true, valued = true, units_fall = true;
  bool illiquid_fixed = true, queues = true;
  Money paid_in_kind = 0;
  double units_paid = 0.0;
  double previous_units = units0;
  for (std::size_t t = 0; t < deposits.size(); ++t) {
    bounded = bounded && 0 <= liabilities[t] && liabilities[t] <= deposits[t];
    in_kind = in_kind && 0 <= paid[t] && paid[t] <= payments[t];
    usd_ok = usd_ok && liabilities_usd[t] == cents_to_usd(liabilities[t]) &&
             paid_usd[t] == cents_to_usd(paid[t]);
    const double units = hot[t] + cold[t] + transit[t] + illiquid[t];
    valued = valued && std::abs(value[t] - units * price[t]) <= 0.05;
    units_fall = units_fall && units <= previous_units + 1e-9;
    previous_units = units;
    illiquid_fixed = illiquid_fixed && illiquid[t] == illiquid[0];
    queues = queues && 0 <= queue_count[t] && queue_count[t] <= inst_queue[t];
    paid_in_kind += paid[t];
    units_paid += paid_units[t];
  }
  CHECK(bounded);
  CHECK(in_kind);
  CHECK(usd_ok);
  CHECK(valued);
  CHECK(units_fall);
  CHECK(illiquid_fixed);
  CHECK(queues);
  CHECK(paid_in_kind > 0);  // the rumour makes retail withdraw, half of it in BTC
  CHECK(units_paid > 0.0);
}

TEST_CASE("hdf5 writer: a writer destroyed without finish leaves a failed .partial file") {
  const TempPath tmp("failed");
  const fs::path& path = tmp.path;
  Simulation sim(small_scenario());
  bool threw = false;
  try {
    Hdf5Writer writer(path.string(), sim, provenance());
    ThrowingRecorder recorder(writer, 1500);  // one full block written, 476 ticks buffered
    run(sim, recorder);
  } catch (const std::runtime_error& e) {
    threw = std::string(e.what()) == "boom";
  }
  CHECK(threw);
  CHECK(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) == 0);
  CHECK_FALSE(fs::exists(path));  // only a complete run gets the final name
  REQUIRE(fs::exists(path.string() + ".partial"));
  File f(path.string() + ".partial");
  CHECK(string_attr(f.id, "/", "status") == "failed");
  CHECK(int_attr(f.id, "/", "ticks_recorded") == 1500);
  CHECK(std::isnan(double_attr(f.id, "/", "wall_seconds")));
  for (const std::string& c : kColumns) CHECK_MESSAGE(length(f.id, c) == 1500, c);
  CHECK(H5Lexists(f.id, "summary", H5P_DEFAULT) == 0);
}

// A child process records `ticks` synthetic ticks (no TBB work after fork) and dies inside
// the writer's scope, without unwinding, as if killed. Returns its wait status.
int record_then_die(const fs::path& path, const Simulation& sim, std::int32_t ticks,
                    double flush_seconds) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int code = 0;
    try {
      Hdf5Writer writer(path.string(), sim, provenance(), flush_seconds);
      SyntheticTick synthetic(sim);
      for (std::int32_t t = 0; t < ticks; ++t) {
        synthetic.record.tick = t;
        writer.record(synthetic.record);
      }
      ::_exit(0);
    } catch (...) {
      code = 2;
    }
    ::_exit(code);
  }
  int wstatus = 0;
  REQUIRE(::waitpid(pid, &wstatus, 0) == pid);
  return wstatus;
}

TEST_CASE("hdf5 writer: a killed process leaves a readable .partial file") {
  const TempPath tmp("killed");
  const fs::path& path = tmp.path;
  const std::string partial = path.string() + ".partial";
  Simulation sim(small_scenario());
  // Full blocks only (no wall-time flush), so what was flushed does not depend on speed.
  const int wstatus = record_then_die(path, sim, 2100, std::numeric_limits<double>::infinity());
  REQUIRE(WIFEXITED(wstatus));
  REQUIRE(WEXITSTATUS(wstatus) == 0);
  CHECK_FALSE(fs::exists(path));
  REQUIRE(fs::exists(partial));
  File f(partial);
  CHECK(string_attr(f.id, "/", "status") == "running");
  CHECK(int_attr(f.id, "/", "ticks_recorded") == 2048);  // two full blocks were flushed
  for (const std::string& c : kColumns) CHECK_MESSAGE(length(f.id, c) == 2048, c);
  const auto ticks = read_column<std::int32_t>(f.id, "/time/tick", H5T_NATIVE_INT32);
  CHECK(ticks.back() == 2047);
}

TEST_CASE("hdf5 writer: a flush interval flushes partial blocks") {
  const TempPath tmp("flush_interval");
  Simulation sim(small_scenario());
  // Interval 0: every tick is flushed, so a kill loses nothing recorded.
  const int wstatus = record_then_die(tmp.path, sim, 37, 0.0);
  REQUIRE(WIFEXITED(wstatus));
  REQUIRE(WEXITSTATUS(wstatus) == 0);
  File f(tmp.path.string() + ".partial");
  CHECK(string_attr(f.id, "/", "status") == "running");
  CHECK(int_attr(f.id, "/", "ticks_recorded") == 37);
  for (const std::string& c : kColumns) CHECK_MESSAGE(length(f.id, c) == 37, c);
  const auto ticks = read_column<std::int32_t>(f.id, "/time/tick", H5T_NATIVE_INT32);
  CHECK(ticks.back() == 36);
}

TEST_CASE("hdf5 writer: interrupted run keeps a summary of the ticks run") {
  const TempPath tmp("interrupted");
  const fs::path& path = tmp.path;
  Simulation sim(small_scenario(300));
  std::atomic<bool> stop{false};
  RunControl control;
  control.stop = &stop;
  control.on_tick = [&](std::int32_t done, std::int32_t) {
    if (done == 123) stop = true;
  };
  {
    Hdf5Writer writer(path.string(), sim, provenance());
    const RunResult result = run(sim, writer, control);
    REQUIRE(result.status == RunStatus::kInterrupted);
    writer.finish("interrupted", result.summary, 0.25, result.loop_seconds);
    CHECK(writer.current_path() == path.string() + ".partial");
  }
  CHECK_FALSE(fs::exists(path));  // an interrupted run stays `.partial` (to be resumed)
  File f(path.string() + ".partial");
  CHECK(string_attr(f.id, "/", "status") == "interrupted");
  CHECK(int_attr(f.id, "/", "ticks_recorded") == 123);
  CHECK(int_attr(f.id, "/summary", "ticks_run") == 123);
  CHECK(length(f.id, "/institutions/svb/signals/flow") == 123);
}

TEST_CASE(
    "hdf5 writer: edge cases - no news events / unlimited payout / empty strings / large scenario "
    "text") {
  const TempPath tmp("edge");
  const fs::path& path = tmp.path;
  Scenario s = small_scenario(5);
  s.news.clear();
  s.network.kind = NetworkSpec::Kind::kNone;
  s.institutions[0].max_payout_per_tick = std::numeric_limits<Money>::max();
  Simulation sim(s);
  Provenance p = provenance();
  p.git_commit = "";
  p.scenario_yaml = std::string(300000, 'x') + "\u00e9";  // beyond the 64 KiB compact limit
  {
    Hdf5Writer writer(path.string(), sim, p);
    const RunResult result = run(sim, writer);
    writer.finish("complete", result.summary, 0.0, result.loop_seconds);
  }
  File f(path);
  CHECK(length(f.id, "/events/news") == 0);
  CHECK(length(f.id, "/time/tick") == 5);
  CHECK(string_attr(f.id, "/", "git_commit") == "");
  CHECK(string_attr(f.id, "/", "scenario_yaml") == p.scenario_yaml);
  CHECK(string_attr(f.id, "/network", "type") == "none");
  CHECK(int_attr(f.id, "/institutions/svb", "max_payout_per_tick_cents") == -1);
}

TEST_CASE("hdf5 writer: a record that does not match the scenario is refused") {
  const TempPath tmp("mismatch");
  Simulation sim(three_institutions(3));
  Hdf5Writer writer(tmp.path.string(), sim, provenance());
  SyntheticTick synthetic(sim);
  writer.record(synthetic.record);  // fine
  TickRecord wrong = synthetic.record;
  wrong.institutions = wrong.institutions.first(2);
  CHECK_THROWS_AS(writer.record(wrong), OutputError);
  wrong = synthetic.record;
  wrong.classes = {};
  CHECK_THROWS_AS(writer.record(wrong), OutputError);
  std::vector<AssetTick> asset(1);
  std::vector<InstitutionTick> institutions = synthetic.institutions;
  institutions[1].assets = asset;  // bank-b holds no market asset
  wrong = synthetic.record;
  wrong.institutions = institutions;
  CHECK_THROWS_AS(writer.record(wrong), OutputError);
  writer.record(synthetic.record);  // the refused ticks left nothing behind
  RunResult result;
  writer.finish("interrupted", result.summary, 0.0, 0.0);
  File f(tmp.path.string() + ".partial");
  CHECK(int_attr(f.id, "/", "ticks_recorded") == 2);
}

TEST_CASE("hdf5 writer: finish replaces an existing file at the final path") {
  const TempPath tmp("overwrite");
  const fs::path& path = tmp.path;
  { std::ofstream(path) << "old contents"; }
  Simulation sim(small_scenario(3));
  {
    Hdf5Writer writer(path.string(), sim, provenance());
    const RunResult result = run(sim, writer);
    CHECK_THROWS_AS(writer.finish("done", result.summary, 0.0, 0.0), OutputError);
    writer.finish("complete", result.summary, 0.0, result.loop_seconds);
  }
  File f(path);
  CHECK(string_attr(f.id, "/", "status") == "complete");
}

TEST_CASE("hdf5 writer: an unwritable path throws OutputError and leaves nothing") {
  Simulation sim(small_scenario(3));
  const std::string path = "/nonexistent-dir/x.h5";
  try {
    Hdf5Writer writer(path, sim, provenance());
    FAIL("no exception");
  } catch (const OutputError& e) {
    const std::string what = e.what();
    CHECK(what.find("/nonexistent-dir/x.h5.partial") != std::string::npos);
    CHECK(what.find("cannot create the file") != std::string::npos);
  }
  CHECK_FALSE(fs::exists(path + ".partial"));
}
