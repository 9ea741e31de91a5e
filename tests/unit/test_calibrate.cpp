// Calibration (output/calibrate/): the search's pure parts (Halton and Latin hypercube
// designs, mirroring, the Jacobi eigen decomposition, CMA-ES on known functions, profile
// intervals), the simulated counterparts of observed rows on a hand-made run, and the
// errors of bad calibration files (file:line:column, key path, what was expected).
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "output/calibrate/calibration_file.hpp"
#include "output/calibrate/observables.hpp"
#include "output/calibrate/search.hpp"
#include "scenarios/scenario_error.hpp"

using namespace bankrun;
using namespace bankrun::calibrate;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A folder with a base scenario and an observed CSV, removed at the end of the test.
struct CalibrationFolder {
  fs::path dir;
  CalibrationFolder() {
    dir = fs::temp_directory_path() / ("bankrun-calibrate-unit-" + std::to_string(getpid()));
    fs::create_directories(dir);
    std::ofstream(dir / "base.yaml") << R"(name: tiny
time: {ticks: 48, tick_hours: 1, start: 2022-11-01T00:00:00Z}
population:
  agents: 100
  classes: [{name: all, balance_usd: 1000, threshold: 0.5}]
news: [{tick: 6, magnitude: 0.3}]
institutions: [{name: bank}]
)";
    std::ofstream(dir / "obs.csv") << "timestamp,quantity,value,end_timestamp\n"
                                      "2022-11-01T10:00:00Z,withdrawn,0.2,\n"
                                      "2022-11-01T12:00:00Z,out,0.1,2022-11-01T18:00:00Z\n";
  }
  ~CalibrationFolder() { fs::remove_all(dir); }
  Calibration read(const std::string& text) const {
    return read_calibration_text(text, (dir / "cal.yaml").string(), dir);
  }
  std::string error(const std::string& text) const {
    try {
      read(text);
    } catch (const ScenarioError& e) {
      return e.what();
    }
    FAIL("no error for:\n" << text);
    return "";
  }
};

const std::string kValid = R"(base: base.yaml
seed: 3
parameters:
  news[0].magnitude: {low: 0.05, high: 0.6}
  stress.peer_weight: {low: 0.01, high: 1, scale: log}
observed: obs.csv
targets:
  - {quantity: withdrawn, series: withdrawn_fraction, scale: 0.02}
)";

}  // namespace

TEST_CASE(
    "calibrate: Halton points lie in the unit interval and the first 8 of base 2 fill 8 strata") {
  std::set<int> strata;
  const double shift = halton_point(7, 1, 42)[0] - std::floor(halton_point(7, 1, 42)[0]);
  (void)shift;
  std::vector<double> xs;
  for (std::uint64_t k = 0; k < 8; ++k) {
    const Point p = halton_point(k, 3, 42);
    for (double x : p) CHECK((x >= 0.0 && x < 1.0));
    xs.push_back(p[0]);
  }
  // Indices 1..8 of the van der Corput sequence take each stratum [i/8, (i+1)/8) once; the
  // rotation by the seed's shift moves the strata, so count them relative to point 8 (1/16).
  const double rotation = xs[7] - 1.0 / 16.0;
  for (double x : xs) {
    double v = x - rotation;
    v -= std::floor(v);
    strata.insert(static_cast<int>(std::floor(v * 8.0 + 1e-12)));
  }
  CHECK(strata.size() == 8);
  CHECK(halton_point(3, 2, 1) == halton_point(3, 2, 1));  // a pure function
  CHECK(halton_point(3, 2, 1) != halton_point(3, 2, 2));  // the seed rotates it
}

TEST_CASE("calibrate: a Latin hypercube has one point per stratum in every coordinate") {
  const std::uint64_t n = 17;
  for (std::size_t j = 0; j < 3; ++j) {
    std::set<int> strata;
    for (std::uint64_t k = 0; k < n; ++k)
      strata.insert(static_cast<int>(std::floor(lhs_point(k, n, 3, 9)[j] * n)));
    CHECK(strata.size() == n);
  }
}

TEST_CASE("calibrate: mirror folds into the unit interval by reflection") {
  CHECK(mirror(0.3) == doctest::Approx(0.3));
  CHECK(mirror(-0.2) == doctest::Approx(0.2));
  CHECK(mirror(1.25) == doctest::Approx(0.75));
  CHECK(mirror(2.5) == doctest::Approx(0.5));
  CHECK(mirror(-1.75) == doctest::Approx(0.25));
}

TEST_CASE("calibrate: the Jacobi eigen decomposition reconstructs a symmetric matrix") {
  const std::size_t n = 4;
  const std::vector<double> a = {4,   1,   0.5, 0.2, 1,   3,   0.3, 0.1,
                                 0.5, 0.3, 2,   0.4, 0.2, 0.1, 0.4, 1};
  std::vector<double> values, v;
  symmetric_eigen(a, n, values, v);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double x = 0.0, identity = 0.0;
      for (std::size_t k = 0; k < n; ++k) {
        x += v[i * n + k] * values[k] * v[j * n + k];  // V diag V^T
        identity += v[k * n + i] * v[k * n + j];       // V^T V
      }
      CHECK(x == doctest::Approx(a[i * n + j]).epsilon(1e-12));
      CHECK(identity == doctest::Approx(i == j ? 1.0 : 0.0).epsilon(1e-12));
    }
}

TEST_CASE("calibrate: CMA-ES finds the minimum of a rotated ellipsoid inside the unit cube") {
  const Point target = {0.3, 0.7, 0.55};
  auto f = [&](const Point& x) {
    const double a = x[0] - target[0], b = x[1] - target[1], c = x[2] - target[2];
    return 100.0 * (a + b) * (a + b) + (a - b) * (a - b) + 10.0 * c * c;
  };
  Cmaes es(Point{0.5, 0.5, 0.5}, 8, 0.3);
  std::uint64_t generation = 0;
  for (; generation < 300 && es.max_step() > 1e-6; ++generation) {
    const std::vector<Point> points = es.ask(7, generation);
    std::vector<double> losses;
    for (const Point& p : points) {
      for (double x : p) CHECK((x >= 0.0 && x <= 1.0));
      losses.push_back(f(p));
    }
    es.tell(points, losses);
  }
  CHECK(generation < 300);
  for (std::size_t j = 0; j < 3; ++j)
    CHECK(es.mean()[j] == doctest::Approx(target[j]).epsilon(1e-4));
}

TEST_CASE("calibrate: CMA-ES reaches an optimum on the boundary (mirrored samples)") {
  Cmaes es(Point{0.5, 0.5}, 6, 0.3);
  for (std::uint64_t g = 0; g < 200 && es.max_step() > 1e-6; ++g) {
    const std::vector<Point> points = es.ask(3, g);
    std::vector<double> losses;
    for (const Point& p : points) losses.push_back(p[0] + (p[1] - 0.4) * (p[1] - 0.4));
    es.tell(points, losses);
  }
  CHECK(es.mean()[0] < 1e-3);
  CHECK(es.mean()[1] == doctest::Approx(0.4).epsilon(1e-3));
}

TEST_CASE(
    "calibrate: profile intervals: points within the threshold, and bounds from those above") {
  const std::vector<Point> points = {{0.5, 0.5}, {0.4, 0.9}, {0.7, 0.2}, {0.0, 0.6}, {1.0, 0.5}};
  const std::vector<double> losses = {1.0, 3.0, 4.5, 20.0, std::nan("")};
  const double q = chi2_1_quantile(0.95);
  CHECK(q == doctest::Approx(3.841458820694124).epsilon(1e-9));
  const std::vector<Interval> in = profile_intervals(points, losses, q);
  REQUIRE(in.size() == 2);
  // Coordinate 0: 0.4 and 0.7 are within; (0.0, L = 20) bounds the lower edge at
  // 0.5 - 0.5 sqrt(q / 19) (a profile rising quadratically from the best point).
  CHECK(in[0].low == doctest::Approx(0.5 - 0.5 * std::sqrt(q / 19.0)));
  CHECK(in[0].high == 0.7);
  CHECK(in[0].within == 3);
  CHECK(!in[0].low_at_bound);
  // Resolved edges need an evaluation beyond them within a quarter of the width (0.106):
  // 0.0 and the failed 1.0 are farther.
  CHECK(!in[0].low_resolved);
  CHECK(!in[0].high_resolved);
  CHECK(in[1].low == 0.2);
  CHECK(in[1].high == 0.9);
  CHECK(!in[1].high_resolved);  // nothing evaluated above 0.9
  // The points that would bracket it: at 0.9 + 0.175 and 0.9 + 0.35, clipped to 1.
  const std::vector<Point> edge = edge_points(points[0], in[1], 1, Point{0.0, 1.0});
  REQUIRE(edge.size() == 4);  // the low edge is unresolved too (nothing below 0.2 near it)
  CHECK(edge[2][1] == doctest::Approx(1.0));
  CHECK(edge[2][0] == doctest::Approx(0.5));
}

TEST_CASE("calibrate: parameters map the unit interval linearly, on a log scale or to integers") {
  FreeParameter lin{"a", 2.0, 6.0};
  CHECK(lin.value(0.25) == doctest::Approx(3.0));
  CHECK(lin.unit(5.0) == doctest::Approx(0.75));
  FreeParameter log{"b", 0.01, 1.0, true};
  CHECK(log.value(0.5) == doctest::Approx(0.1));
  CHECK(log.unit(0.1) == doctest::Approx(0.5));
  FreeParameter integer{"c", 1.0, 10.0, false, true};
  CHECK(integer.value(0.52) == 6.0);
  CHECK(lin.value(1.5) == 6.0);  // clamped
}

TEST_CASE("calibrate: simulated counterparts of stocks, windows, halts and moments") {
  RunSeries run;
  run.start_unix_seconds = 1'000'000;
  run.tick_hours = 2.0;
  run.agents = 10;
  run.withdrawn_agents = {1, 2, 4, 8};
  InstitutionSeries in;
  in.issued = 100.0;
  in.deposits = {90, 80, 60, 50};
  in.payments = {10, 12, 25, 10};
  in.inflows = {0, 1, 5, 0};
  in.transfers_in = {0, 1, 0, 0};
  in.halted = {0, 0, 1, 1};
  run.institutions.emplace("bank", in);
  const std::int64_t h = 3600;
  auto row = [&](double hours, std::optional<double> end = std::nullopt) {
    Observation o;
    o.time = run.start_unix_seconds + static_cast<std::int64_t>(hours * h);
    if (end) o.end = run.start_unix_seconds + static_cast<std::int64_t>(*end * h);
    return o;
  };
  SeriesTarget t;
  t.institution = "bank";
  t.series = Series::kDeposits;
  CHECK(simulated(t, row(1.0), run) == 100.0);  // before tick 0 ends: the claims at the start
  CHECK(simulated(t, row(2.0), run) == 90.0);   // tick 0 ends at 2 h
  CHECK(simulated(t, row(5.0), run) == 80.0);   // tick 1 ended at 4 h
  t.series = Series::kDepositsFraction;
  CHECK(simulated(t, row(8.0), run) == doctest::Approx(0.5));
  t.series = Series::kWithdrawnFraction;
  CHECK(simulated(t, row(6.0), run) == doctest::Approx(0.4));
  t.series = Series::kNetOutflow;  // since the start: ticks starting before 4 h (0 and 1)
  CHECK(simulated(t, row(4.0), run) == doctest::Approx(10 + 12 - 1 - 1));
  t.series = Series::kNetOutflowFraction;  // window [2 h, 6 h): ticks 1 and 2
  CHECK(simulated(t, row(2.0, 6.0), run) == doctest::Approx((10.0 + 20.0) / 100.0));
  t.series = Series::kGrossOutflow;
  CHECK(simulated(t, row(2.0, 6.0), run) == doctest::Approx(37.0));
  t.series = Series::kGrossInflow;
  CHECK(simulated(t, row(0.0, 8.0), run) == doctest::Approx(7.0));
  t.series = Series::kHalt;
  CHECK(simulated(t, row(0.0), run) == doctest::Approx(4.0));  // tick 2 starts at 4 h
  CHECK(observed(t, row(7.0), run.start_unix_seconds) == doctest::Approx(7.0));

  Moment m;
  m.institution = "bank";
  m.statistic = Statistic::kTotalNetOutflowFraction;
  CHECK(statistic(m, run) == doctest::Approx(0.50));
  m.statistic = Statistic::kPeakDailyNetOutflowFraction;  // 12 ticks a day: all four
  CHECK(statistic(m, run) == doctest::Approx(0.50));
  m.statistic = Statistic::kHoursToNetOutflowFraction;
  m.fraction = 0.25;  // 10, 20, 40: reached in tick 2, which ends at 6 h
  CHECK(statistic(m, run) == doctest::Approx(6.0));
  m.fraction = 0.9;  // never: the run's length
  CHECK(statistic(m, run) == doctest::Approx(8.0));
  m.statistic = Statistic::kHaltHours;
  CHECK(statistic(m, run) == doctest::Approx(4.0));
  m.statistic = Statistic::kHoursToWithdrawnFraction;  // 1, 2, 4, 8 of 10 agents
  m.fraction = 0.4;                                    // tick 2, which ends at 6 h
  CHECK(statistic(m, run) == doctest::Approx(6.0));
  m.fraction = 0.9;
  CHECK(statistic(m, run) == doctest::Approx(8.0));
}

TEST_CASE("calibrate: a valid calibration file reads with its defaults") {
  const CalibrationFolder folder;
  const Calibration c = folder.read(kValid);
  CHECK(c.name == "cal");
  CHECK(c.replicates == 4);
  CHECK(c.parameters.size() == 2);
  CHECK(c.parameters[1].log_scale);
  CHECK(c.institutions == std::vector<std::string>{"bank"});
  REQUIRE(c.targets.size() == 1);
  CHECK(c.targets[0].observations.size() == 1);
  CHECK(c.initial_points() == 12);
  CHECK(c.population() == 6);  // 4 + floor(3 ln 2)
  CHECK(c.output_dir == folder.dir / "cal.calibration");
  CHECK(c.ticks == 48);
}

TEST_CASE("calibrate: bad calibration files name the file, line, column and key path") {
  const CalibrationFolder folder;
  const std::string cal = (folder.dir / "cal.yaml").string();
  std::string e = folder.error(kValid + "budgte: {evaluations: 10}\n");
  CHECK(contains(e, cal + ":9:1: "));
  CHECK(contains(e, "did you mean 'budget'?"));

  e = folder.error(
      "base: base.yaml\nparameters:\n  news[0].magnitud: {low: 0, high: 1}\nmoments:\n"
      "  - {statistic: halt_hours, observed: 10, scale: 1}\n");
  CHECK(contains(e, cal + ":3:3: parameters.news[0].magnitud: news[0].magnitud: unknown key"));
  CHECK(contains(e, "did you mean 'magnitude'?"));

  e = folder.error(
      "base: base.yaml\nparameters:\n  news[0].magnitude: {low: 0.5, high: 0.1}\nmoments:\n"
      "  - {statistic: halt_hours, observed: 10, scale: 1}\n");
  CHECK(contains(e, cal + ":3:39: parameters.news[0].magnitude.high"));
  CHECK(contains(e, "> 0.5"));

  e = folder.error(
      "base: base.yaml\nparameters:\n  stress.flow_weight: {low: 0, high: 1, scale: logg}\n"
      "moments:\n  - {statistic: halt_hours, observed: 10, scale: 1}\n");
  CHECK(contains(e, "parameters.stress.flow_weight.scale"));
  CHECK(contains(e, "did you mean 'log'?"));

  e = folder.error(
      "base: base.yaml\nparameters:\n  stress.flow_weight: {low: 0, high: 1}\nmoments:\n"
      "  - {statistic: peak_daily_outflow, observed: 0.1, scale: 0.01}\n");
  CHECK(contains(e, cal + ":5:17: moments[0].statistic"));
  CHECK(contains(e, "expected one of total_net_outflow_fraction, peak_daily_net_outflow_fraction"));

  e = folder.error(
      "base: base.yaml\nparameters:\n  stress.flow_weight: {low: 0, high: 1}\nmoments:\n"
      "  - {statistic: halt_hours, institution: bnak, observed: 10, scale: 1}\n");
  CHECK(contains(e, "moments[0].institution"));
  CHECK(contains(e, "did you mean 'bank'?"));

  e = folder.error(kValid + "  - {quantity: nothing, series: deposits, scale: 1}\n");
  CHECK(contains(e, cal + ":9:5: targets[1]"));
  CHECK(contains(e, "no row of "));

  e = folder.error(
      "base: base.yaml\nfixed: {seed: 4}\nparameters:\n  stress.flow_weight: {low: 0, high: 1}\n"
      "moments:\n  - {statistic: halt_hours, observed: 10, scale: 1}\n");
  CHECK(contains(e, "fixed.seed"));

  e = folder.error("base: base.yaml\nparameters:\n  stress.flow_weight: {low: 0, high: 1}\n");
  CHECK(contains(e, "nothing to fit"));

  e = folder.error("name: my fit\n" + kValid);
  CHECK(contains(e, cal + ":1:7: name: expected a name of at most 63 letters"));

  e = folder.error(kValid + "budget: {wall_time: soon}\n");
  CHECK(contains(e, cal + ":9:21: budget.wall_time: expected a duration"));

  // A CSV row outside the run names the CSV's line.
  std::ofstream(folder.dir / "late.csv") << "timestamp,quantity,value\n"
                                            "2022-11-01T10:00:00Z,withdrawn,0.2\n"
                                            "2022-12-01,withdrawn,0.3\n";
  e = folder.error(
      "base: base.yaml\nparameters:\n  stress.flow_weight: {low: 0, high: 1}\nobserved: late.csv\n"
      "targets:\n  - {quantity: withdrawn, series: withdrawn_fraction, scale: 0.1}\n");
  CHECK(contains(e, (folder.dir / "late.csv").string() + ":3:1: targets.withdrawn"));
  CHECK(contains(e, "outside the run"));

  std::ofstream(folder.dir / "bad.csv") << "time,quantity,value\n";
  e = folder.error(
      "base: base.yaml\nparameters:\n  stress.flow_weight: {low: 0, high: 1}\nobserved: bad.csv\n"
      "targets:\n  - {quantity: withdrawn, series: withdrawn_fraction, scale: 0.1}\n");
  CHECK(contains(e, "no column 'timestamp'"));
}

TEST_CASE("calibrate: the local quadratic model recovers an exact quadratic and its profile") {
  // L = 10 + (x - x*)' H (x - x*) / 2 with H = [[200, 60], [60, 50]] (unit coordinates).
  const Point minimum = {0.4, 0.6};
  const double h[2][2] = {{200.0, 60.0}, {60.0, 50.0}};
  auto loss = [&](const Point& x) {
    const double a = x[0] - minimum[0], b = x[1] - minimum[1];
    return 10.0 + 0.5 * (h[0][0] * a * a + 2 * h[0][1] * a * b + h[1][1] * b * b);
  };
  std::vector<Point> points;
  std::vector<double> losses;
  for (std::uint64_t k = 0; k < 30; ++k) {
    Point p = halton_point(k, 2, 5);
    for (std::size_t j = 0; j < 2; ++j) p[j] = minimum[j] + 0.6 * (p[j] - 0.5);
    points.push_back(p);
    losses.push_back(loss(p));
  }
  const auto fit = fit_quadratic(points, losses, 3.84);
  REQUIRE(fit.has_value());
  CHECK(fit->minimum[0] == doctest::Approx(0.4).epsilon(1e-9));
  CHECK(fit->minimum[1] == doctest::Approx(0.6).epsilon(1e-9));
  const double det = h[0][0] * h[1][1] - h[0][1] * h[0][1];  // H^-1 = adj(H) / det
  CHECK(fit->inverse_hessian[0] == doctest::Approx(h[1][1] / det).epsilon(1e-9));
  CHECK(fit->inverse_hessian[1] == doctest::Approx(-h[0][1] / det).epsilon(1e-9));
  // The exact profile interval for x_0 is x*_0 +- sqrt(2 q (H^-1)_00). The estimate is
  // within 5% of it on each side (the bounds are measured from the best evaluated point,
  // not from x*, and the model is not extrapolated beyond its points).
  const std::vector<Interval> in = profile_intervals(points, losses, 3.84);
  const double half = std::sqrt(2.0 * 3.84 * h[1][1] / det);
  CHECK(in[0].low == doctest::Approx(0.4 - half).epsilon(0.05 * half / (0.4 - half)));
  CHECK(in[0].high == doctest::Approx(0.4 + half).epsilon(0.05 * half / (0.4 + half)));
  CHECK(in[0].high - in[0].low > 0.9 * 2.0 * half);
  // A saddle is no minimum: no model.
  for (std::size_t k = 0; k < points.size(); ++k)
    losses[k] =
        (points[k][0] - 0.4) * (points[k][0] - 0.4) - (points[k][1] - 0.6) * (points[k][1] - 0.6);
  CHECK(!fit_quadratic(points, losses, 3.84).has_value());
}
