// The HDF5 writer: drives a small simulation through bankrun::run and reads the file back
// with the HDF5 C API.
#include <doctest/doctest.h>
#include <hdf5.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
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
  s.institution.name = "svb";
  s.institution.hot_reserve_fraction = 0.6;
  s.institution.max_payout_per_tick = 50 * 100 * 100;  // 5000 USD per tick
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

template <typename T>
std::vector<T> read_column(hid_t file, const std::string& path, hid_t mem_type) {
  std::vector<T> v(length(file, path));
  const hid_t d = H5Dopen2(file, path.c_str(), H5P_DEFAULT);
  if (!v.empty()) REQUIRE(H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0);
  H5Dclose(d);
  return v;
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
    "/institutions/svb/hot_reserves",
    "/institutions/svb/halted",
    "/population/withdrawn_agents",
    "/population/new_withdrawals",
    "/population/paid_agents",
    "/population/acting_agents",
    "/population/stress_mean",
    "/signals/flow",
    "/signals/news",
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
  const Money issued = sim.institution().issued();
  const Money hot0 = sim.institution().hot();
  RunResult result;
  {
    Hdf5Writer writer(path.string(), sim, provenance());
    CHECK(writer.path() == path.string());
    CHECK(fs::exists(path.string() + ".partial"));
    CHECK_FALSE(fs::exists(path));
    result = run(sim, writer);
    REQUIRE(result.status == RunStatus::kComplete);
    writer.finish("complete", result.summary, 1.5, result.loop_seconds);
    CHECK_THROWS_AS(writer.finish("complete", result.summary, 1.5, 1.0), OutputError);
    CHECK_THROWS_AS(writer.record(TickRecord{}), OutputError);
  }
  CHECK(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) == 0);  // every HDF5 object was closed
  CHECK_FALSE(fs::exists(path.string() + ".partial"));
  REQUIRE(fs::exists(path));

  File f(path);
  const hid_t id = f.id;
  CHECK(string_attr(id, "/", "format") == "bankrun");
  CHECK(int_attr(id, "/", "format_version") == 1);
  CHECK(string_attr(id, "/", "status") == "complete");
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

  for (const std::string& c : kColumns) {
    CHECK_MESSAGE(length(id, c) == 2500, c);
    CHECK_MESSAGE(has_attr(id, c, "units"), c);
    CHECK_MESSAGE(has_attr(id, c, "description"), c);
  }
  CHECK(string_attr(id, "/institutions/svb/deposits", "units") == "USD");

  const std::string inst = "/institutions/svb";
  CHECK(int_attr(id, inst, "initial_deposits_cents") == issued);
  CHECK(issued == 1000 * 100 * 100);
  CHECK(int_attr(id, inst, "initial_hot_cents") == hot0);
  CHECK(int_attr(id, inst, "max_payout_per_tick_cents") == 50 * 100 * 100);

  // The ledger identity at every tick: outstanding + paid so far == issued.
  const auto ticks = read_column<std::int32_t>(id, "/time/tick", H5T_NATIVE_INT32);
  const auto deposits = read_column<std::int64_t>(id, inst + "/deposits_cents", H5T_NATIVE_INT64);
  const auto payments = read_column<std::int64_t>(id, inst + "/payments_cents", H5T_NATIVE_INT64);
  const auto deposits_usd = read_column<double>(id, inst + "/deposits", H5T_NATIVE_DOUBLE);
  Money paid = 0;
  bool identity = true, ticks_ok = true, usd_ok = true;
  for (std::size_t t = 0; t < ticks.size(); ++t) {
    paid += payments[t];
    identity = identity && deposits[t] + paid == issued;
    ticks_ok = ticks_ok && ticks[t] == static_cast<std::int32_t>(t);
    usd_ok = usd_ok && deposits_usd[t] == static_cast<double>(deposits[t]) / 100.0;
  }
  CHECK(identity);
  CHECK(ticks_ok);
  CHECK(usd_ok);
  CHECK(paid == result.summary.total_outflow);
  CHECK(paid > 0);  // the scenario does produce a run

  const auto withdrawn =
      read_column<std::int64_t>(id, "/population/withdrawn_agents", H5T_NATIVE_INT64);
  CHECK(withdrawn.back() == result.summary.withdrawn_agents);
  const auto news = read_column<double>(id, "/signals/news", H5T_NATIVE_DOUBLE);
  CHECK(news[9] == 0.0);
  CHECK(news[10] == doctest::Approx(0.8));

  // Summary.
  CHECK(int_attr(id, "/summary", "ticks_run") == 2500);
  CHECK(int_attr(id, "/summary", "issued_cents") == issued);
  CHECK(int_attr(id, "/summary", "total_outflow_cents") == result.summary.total_outflow);
  CHECK(double_attr(id, "/summary", "total_outflow_usd") ==
        doctest::Approx(cents_to_usd(result.summary.total_outflow)));
  CHECK(int_attr(id, "/summary", "ticks_to_10pct") == result.summary.tick_to_withdrawn[0]);
  CHECK(int_attr(id, "/summary", "halt_tick") == -1);
  CHECK(int_attr(id, "/summary", "agents") == 1000);

  // Network, classes, news events.
  CHECK(string_attr(id, "/network", "type") == "k_out");
  CHECK(int_attr(id, "/network", "edges") == 3000);
  CHECK(double_attr(id, "/network", "degree_mean") == 3.0);
  CHECK(length(id, "/classes") == 1);
  CHECK(length(id, "/events/news") == 1);

  struct NewsRow {
    char label[64];
    std::int32_t tick;
    double magnitude;
    double decay_ticks;
    std::int32_t duration_ticks;
    double reach;
  } row{};
  const hid_t label_t = H5Tcopy(H5T_C_S1);
  H5Tset_size(label_t, 64);
  H5Tset_cset(label_t, H5T_CSET_UTF8);  // HDF5 does not convert between ASCII and UTF-8
  const hid_t row_t = H5Tcreate(H5T_COMPOUND, sizeof(NewsRow));
  H5Tinsert(row_t, "label", HOFFSET(NewsRow, label), label_t);
  H5Tinsert(row_t, "tick", HOFFSET(NewsRow, tick), H5T_NATIVE_INT32);
  H5Tinsert(row_t, "duration_ticks", HOFFSET(NewsRow, duration_ticks), H5T_NATIVE_INT32);
  H5Tinsert(row_t, "decay_ticks", HOFFSET(NewsRow, decay_ticks), H5T_NATIVE_DOUBLE);
  const hid_t d = H5Dopen2(id, "/events/news", H5P_DEFAULT);
  REQUIRE(H5Dread(d, row_t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &row) >= 0);
  H5Dclose(d);
  H5Tclose(row_t);
  H5Tclose(label_t);
  CHECK(std::string(row.label) == "rumour");
  CHECK(row.tick == 10);
  CHECK(row.decay_ticks == 200.0);
  CHECK(row.duration_ticks == kForever);
}

TEST_CASE("hdf5 writer: a writer destroyed without finish leaves a failed file") {
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
  CHECK_FALSE(fs::exists(path.string() + ".partial"));
  REQUIRE(fs::exists(path));
  File f(path);
  CHECK(string_attr(f.id, "/", "status") == "failed");
  CHECK(int_attr(f.id, "/", "ticks_recorded") == 1500);
  CHECK(std::isnan(double_attr(f.id, "/", "wall_seconds")));
  for (const std::string& c : kColumns) CHECK_MESSAGE(length(f.id, c) == 1500, c);
  CHECK(H5Lexists(f.id, "summary", H5P_DEFAULT) == 0);
}

TEST_CASE("hdf5 writer: a killed process leaves a readable .partial file") {
  const TempPath tmp("killed");
  const fs::path& path = tmp.path;
  const std::string partial = path.string() + ".partial";
  Simulation sim(small_scenario());
  // The child records synthetic ticks (no TBB work after fork) and dies inside the
  // writer's scope, without unwinding, as if killed.
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int code = 0;
    try {
      Hdf5Writer writer(path.string(), sim, provenance());
      TickRecord r;
      r.deposits = sim.institution().issued();
      for (std::int32_t t = 0; t < 2100; ++t) {
        r.tick = t;
        writer.record(r);
      }
      ::_exit(0);
    } catch (...) {
      code = 2;
    }
    ::_exit(code);
  }
  int wstatus = 0;
  REQUIRE(::waitpid(pid, &wstatus, 0) == pid);
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
  }
  File f(path);
  CHECK(string_attr(f.id, "/", "status") == "interrupted");
  CHECK(int_attr(f.id, "/", "ticks_recorded") == 123);
  CHECK(int_attr(f.id, "/summary", "ticks_run") == 123);
  CHECK(length(f.id, "/signals/flow") == 123);
}

TEST_CASE(
    "hdf5 writer: edge cases - no news events / unlimited payout / empty strings / large scenario "
    "text") {
  const TempPath tmp("edge");
  const fs::path& path = tmp.path;
  Scenario s = small_scenario(5);
  s.news.clear();
  s.network.kind = NetworkSpec::Kind::kNone;
  s.institution.max_payout_per_tick = std::numeric_limits<Money>::max();
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
