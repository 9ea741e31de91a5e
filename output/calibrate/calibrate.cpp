// `bankrun calibrate` (see calibrate.hpp and scenarios/CALIBRATION.md): the batches, their
// sweeps, the losses and the search.
#include "output/calibrate/calibrate.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <limits>
#include <thread>

#include "output/calibrate/observables.hpp"
#include "output/errors.hpp"
#include "output/stop_signal.hpp"
#include "output/sweep/manifest.hpp"
#include "output/sweep/merge.hpp"
#include "output/sweep/process.hpp"
#include "output/sweep/slurm.hpp"
#include "output/sweep/sweep_file.hpp"
#include "scenarios/loader.hpp"
#include "scenarios/yaml_reader.hpp"

namespace bankrun::calibrate {

namespace fs = std::filesystem;

double replicate_mean(const std::vector<double>& values) {
  double sum = 0.0;
  for (double x : values) sum += x;
  return values.empty() ? std::nan("") : sum / static_cast<double>(values.size());
}

const char* phase_name(Phase phase) {
  switch (phase) {
    case Phase::kInitial:
      return "initial";
    case Phase::kSearch:
      return "search";
    case Phase::kUncertainty:
      return "uncertainty";
    case Phase::kEdges:
      return "edges";
  }
  return "unknown";
}

namespace {

using Clock = std::chrono::steady_clock;

std::vector<Row> make_rows(const Calibration& c, std::vector<std::string>& terms) {
  std::vector<Row> rows;
  for (const SeriesTarget& t : c.targets) {
    terms.push_back(t.name);
    for (const Observation& o : t.observations)
      rows.push_back({t.name, false, series_name(t.series), t.institution, t.asset, o.time, o.end,
                      observed(t, o, c.start_unix_seconds), t.scale, t.weight});
  }
  for (const Moment& m : c.moments) {
    terms.push_back(m.name);
    rows.push_back({m.name, true, name_in(kStatisticNames, m.statistic), m.institution, "", 0,
                    std::nullopt, m.observed, m.scale, m.weight});
  }
  return rows;
}

// The simulated value of every row in one run (rows in make_rows' order).
std::vector<double> simulate_rows(const Calibration& c, const RunSeries& run) {
  std::vector<double> values;
  for (const SeriesTarget& t : c.targets)
    for (const Observation& o : t.observations) values.push_back(simulated(t, o, run));
  for (const Moment& m : c.moments) values.push_back(statistic(m, run));
  return values;
}

// loss = sum over rows of weight * ((mean over replicates - observed) / scale)^2, and the
// same per term.
void score(const std::vector<Row>& rows, const std::vector<std::string>& terms, Evaluation& e) {
  e.term_losses.assign(terms.size(), 0.0);
  e.loss = 0.0;
  std::size_t term = 0;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    while (terms[term] != rows[r].term) ++term;
    const double z = (replicate_mean(e.simulated[r]) - rows[r].observed) / rows[r].scale;
    const double part = rows[r].weight * z * z;
    e.term_losses[term] += part;
    e.loss += part;
  }
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  return yaml_reader::format_utc_timestamp(static_cast<std::int64_t>(now));
}

class Calibrator {
 public:
  Calibrator(const Calibration& c, const CalibrateCommand& cmd)
      : c_(c), cmd_(cmd), started_(Clock::now()) {
    results_.rows = make_rows(c, results_.terms);
    results_.started_utc = utc_now();
    results_.version = cmd.version;
    results_.commit = cmd.commit;
    results_.jobs = cmd.jobs;
    results_.threads = cmd.threads;
    for (std::uint32_t r = 0; r < c.replicates; ++r)
      results_.replicate_seeds.push_back(sweep::run_seed(c.seed, 0, r));
    results_.threshold = chi2_1_quantile(c.level);
  }

  int run() {
    fs::create_directories(c_.output_dir / "batches");
    const std::size_t d = c_.parameters.size();
    const std::uint64_t budget = c_.max_evaluations;
    const std::uint64_t initial = std::min(c_.initial_points(), budget);
    const std::uint64_t uncertainty = std::min(c_.uncertainty(), budget - initial);
    // The last phase: the uncertainty sample and the edge rounds (at most 4 d points each).
    const std::uint64_t edges =
        std::min<std::uint64_t>(4 * d * c_.edge_rounds, budget - initial - uncertainty);
    const std::uint64_t search_end = budget - uncertainty - edges;

    std::vector<Point> points;
    for (std::uint64_t k = 0; k < initial; ++k)
      points.push_back(c_.search.design == Design::kHalton ? halton_point(k, d, c_.seed)
                                                           : lhs_point(k, initial, d, c_.seed));
    if (int rc = batch(Phase::kInitial, points); rc != kExitOk) return finish_early(rc);

    std::optional<Cmaes> cmaes;
    if (c_.search.method == Method::kCmaes) {
      cmaes.emplace(best_point(), c_.population(), c_.search.sigma);
      if (int rc = search(*cmaes, search_end); rc != kExitOk) return finish_early(rc);
    } else {
      results_.stop_reason = "design";
    }
    if (uncertainty > 0) {
      if (out_of_time()) return finish_early(kExitIncomplete);
      const std::vector<Point> sample =
          uncertainty_sample(cmaes ? &*cmaes : nullptr, uncertainty, initial);
      if (int rc = batch(Phase::kUncertainty, sample); rc != kExitOk) return finish_early(rc);
    }
    for (std::uint32_t round = 0; round < c_.edge_rounds; ++round) {
      if (out_of_time()) return finish_early(kExitIncomplete);
      const std::vector<Point> edge = edge_batch(cmaes ? &*cmaes : nullptr);
      if (edge.empty() || evaluations() + edge.size() > budget) break;
      if (int rc = batch(Phase::kEdges, edge); rc != kExitOk) return finish_early(rc);
    }
    return finish(kExitOk, "complete");
  }

 private:
  // CMA-ES generations, one batch each, while a whole generation fits before `search_end`
  // evaluations and the largest step is at least the tolerance.
  int search(Cmaes& cmaes, std::uint64_t search_end) {
    for (std::uint64_t generation = 0;; ++generation) {
      if (evaluations() + c_.population() > search_end) {
        results_.stop_reason = "budget";
        return kExitOk;
      }
      if (cmaes.max_step() < c_.search.tolerance) {
        results_.stop_reason = "converged";
        return kExitOk;
      }
      if (out_of_time()) return kExitIncomplete;
      const std::vector<Point> points = cmaes.ask(c_.seed, generation);
      const std::size_t first = results_.evaluations.size();
      if (int rc = batch(Phase::kSearch, points); rc != kExitOk) return rc;
      std::vector<double> losses;
      for (std::size_t k = first; k < results_.evaluations.size(); ++k)
        losses.push_back(results_.evaluations[k].loss);
      cmaes.tell(points, losses);
    }
  }

  // After a search: a quasi-random sample of N(best, (c sigma)^2 C), c = 1, 2, 3 in turn,
  // the search distribution's shape around the best point (the loss valley). Without one:
  // the Halton sequence continued over the whole cube.
  std::vector<Point> uncertainty_sample(const Cmaes* cmaes, std::uint64_t count,
                                        std::uint64_t initial) const {
    const Point center = best_point();
    std::vector<Point> sample;
    for (std::uint64_t k = 0; k < count; ++k)
      sample.push_back(cmaes ? cmaes->around(center, static_cast<double>(1 + k % 3), k, c_.seed)
                             : halton_point(initial + k, center.size(), c_.seed));
    return sample;
  }

  // A batch failed, was interrupted, or the wall-time budget is spent (kExitIncomplete).
  int finish_early(int rc) {
    return finish(rc, "stopped", rc == kExitIncomplete ? "wall_time" : "");
  }

  std::uint64_t evaluations() const { return results_.evaluations.size(); }

  bool out_of_time() const {
    return c_.max_wall_seconds > 0.0 &&
           std::chrono::duration<double>(Clock::now() - started_).count() > c_.max_wall_seconds;
  }

  Point best_point() const { return results_.evaluations[*results_.best].unit; }

  // Points bracketing every interval edge that no evaluation brackets yet (search.hpp,
  // edge_points), moving the other parameters along the search's covariance; along the
  // coordinate alone without a search.
  std::vector<Point> edge_batch(const Cmaes* cmaes) const {
    const std::vector<Interval>& intervals = results_.intervals;  // after the last batch
    std::vector<Point> points;
    for (std::size_t j = 0; j < intervals.size(); ++j) {
      Point direction(intervals.size(), 0.0);
      if (cmaes) direction = cmaes->slope(j);
      direction[j] = 1.0;
      for (Point& p : edge_points(best_point(), intervals[j], j, direction))
        points.push_back(std::move(p));
    }
    return points;
  }

  fs::path batch_dir(std::uint32_t b) const {
    return c_.output_dir / "batches" / std::to_string(b);
  }

  // The batch's sweep file: the base, the fixed values and the parameters as zip lists,
  // common random numbers.
  std::string sweep_text(std::uint32_t b, const std::vector<std::vector<std::string>>& values) {
    YAML::Emitter out;
    out << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << fmt::format("{}-batch-{}", short_name(), b);
    out << YAML::Key << "description" << YAML::Value
        << fmt::format("batch {} of the calibration {}", b, c_.file);
    out << YAML::Key << "base" << YAML::Value << c_.base_file;
    out << YAML::Key << "seed" << YAML::Value << c_.seed;
    out << YAML::Key << "mode" << YAML::Value << "zip";
    out << YAML::Key << "replicates" << YAML::Value << c_.replicates;
    out << YAML::Key << "common_random_numbers" << YAML::Value << true;
    out << YAML::Key << "output" << YAML::Value << batch_dir(b).string();
    out << YAML::Key << "parameters" << YAML::Value << YAML::BeginMap;
    for (const std::string& fixed : c_.fixed) {
      const auto eq = fixed.find('=');
      out << YAML::Key << fixed.substr(0, eq) << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (std::size_t p = 0; p < values.size(); ++p) out << fixed.substr(eq + 1);
      out << YAML::EndSeq;
    }
    for (std::size_t j = 0; j < c_.parameters.size(); ++j) {
      out << YAML::Key << c_.parameters[j].path << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (const auto& point : values) out << point[j];
      out << YAML::EndSeq;
    }
    out << YAML::EndMap << YAML::EndMap;
    return std::string(out.c_str()) + "\n";
  }

  // A sweep name is at most 63 characters: the calibration's name, cut to leave room.
  std::string short_name() const { return c_.name.substr(0, 40); }

  int run_sweep(const fs::path& file) {
    sweep::SweepCommand s;
    s.sweep_file = file.string();
    s.jobs = cmd_.jobs;
    s.threads = cmd_.threads;
    s.quiet = true;
    s.version = cmd_.version;
    s.commit = cmd_.commit;
    s.executable = cmd_.executable;
    if (!cmd_.slurm) return sweep::sweep_command(s);
    s.slurm = true;
    s.slurm_options = cmd_.slurm_options;
    const int rc = sweep::sweep_command(s);
    if (rc != kExitOk) return rc;
    wait_for_slurm(sweep::read_sweep_file(file.string()));
    if (stop_requested()) return stop_exit_code();
    const sweep::MergeReport report = sweep::merge_sweep(file.parent_path());
    if (report.problem_count > 0) {
      fmt::print(stderr,
                 "bankrun calibrate: {} of {} runs of {} did not complete (see `bankrun merge "
                 "{}`); run `bankrun calibrate` again to retry them\n",
                 report.problem_count, report.runs, file.parent_path().string(),
                 file.parent_path().string());
      return kExitFailure;
    }
    return kExitOk;
  }

  void wait_for_slurm(const sweep::Sweep& batch) const {
    const std::string name = sweep::job_name(batch);
    while (!stop_requested()) {
      const auto [rc, out] = sweep::run_capture({"squeue", "--noheader", "--name=" + name});
      if (rc != 0) throw std::runtime_error("squeue failed while waiting for job " + name);
      if (out.find_first_not_of(" \n") == std::string::npos) return;
      std::this_thread::sleep_for(std::chrono::duration<double>(cmd_.poll_seconds));
    }
  }

  // Runs the points as batch b (skipping runs already complete), then scores them.
  int batch(Phase phase, const std::vector<Point>& points) {
    const auto b = static_cast<std::uint32_t>(batches_++);
    std::vector<std::vector<std::string>> texts;
    std::vector<std::vector<double>> values;
    for (const Point& u : points) {
      std::vector<std::string> t;
      std::vector<double> v;
      for (std::size_t j = 0; j < c_.parameters.size(); ++j) {
        t.push_back(sweep::format_value(c_.parameters[j].value(u[j])));
        v.push_back(yaml_reader::parse_number(t.back()).value);
      }
      texts.push_back(t);
      values.push_back(v);
    }
    const fs::path dir = batch_dir(b);
    fs::create_directories(dir);
    const fs::path file = dir / "batch.yaml";
    sweep::write_atomically(file, sweep_text(b, texts));
    const std::uint64_t runs = points.size() * c_.replicates;
    std::uint64_t done_before = 0;
    for (std::uint64_t i = 0; i < runs; ++i)
      if (fs::exists(sweep::run_path(dir, i))) ++done_before;
    const auto t0 = Clock::now();
    if (int rc = run_sweep(file); rc != kExitOk) return rc;
    for (std::size_t p = 0; p < points.size(); ++p) {
      Evaluation e;
      e.index = results_.evaluations.size();
      e.batch = b;
      e.phase = phase;
      e.point = p;
      e.unit = points[p];
      e.values = values[p];
      e.simulated.assign(results_.rows.size(), {});
      for (std::uint32_t r = 0; r < c_.replicates; ++r) {
        const RunSeries run = read_run_series(sweep::run_path(dir, p * c_.replicates + r), c_);
        const std::vector<double> sims = simulate_rows(c_, run);
        for (std::size_t k = 0; k < sims.size(); ++k) e.simulated[k].push_back(sims[k]);
      }
      score(results_.rows, results_.terms, e);
      if (!results_.best || e.loss < results_.evaluations[*results_.best].loss)
        results_.best = e.index;
      results_.evaluations.push_back(std::move(e));
    }
    const Evaluation& best = results_.evaluations[*results_.best];
    if (!cmd_.quiet)
      fmt::print(
          "batch {} ({}): {} points x {} replicates, {} runs ({} done before) in {:.1f} s; "
          "best loss {:.6g} (evaluation {}: {})\n",
          b, phase_name(phase), points.size(), c_.replicates, runs, done_before,
          std::chrono::duration<double>(Clock::now() - t0).count(), best.loss, best.index,
          describe(best.values));
    std::fflush(stdout);
    write_outputs();
    return kExitOk;
  }

  std::string describe(const std::vector<double>& values) const {
    std::string s;
    for (std::size_t j = 0; j < values.size(); ++j)
      s += fmt::format("{}{}={}", j ? ", " : "", c_.parameters[j].path,
                       sweep::format_value(values[j]));
    return s;
  }

  void write_outputs() {
    std::vector<Point> units;
    std::vector<double> losses;
    for (const Evaluation& e : results_.evaluations) {
      units.push_back(e.unit);
      losses.push_back(e.loss);
    }
    results_.intervals = profile_intervals(units, losses, results_.threshold);
    results_.wall_seconds = std::chrono::duration<double>(Clock::now() - started_).count();
    write_results(c_, results_, c_.output_dir / "calibration.h5");
    write_best_fit();
  }

  // The best point's scenario (replicate 0's seed), resolved, with a header saying where it
  // came from: `bankrun run best-fit.yaml` reruns replicate 0 of the best evaluation.
  void write_best_fit() const {
    const Evaluation& best = results_.evaluations[*results_.best];
    std::vector<std::string> sets = c_.fixed;
    for (std::size_t j = 0; j < c_.parameters.size(); ++j)
      sets.push_back(c_.parameters[j].path + "=" + sweep::format_value(best.values[j]));
    sets.push_back(fmt::format("seed={}", results_.replicate_seeds.front()));
    const LoadedScenario loaded = load_scenario_file(c_.base_file, sets);
    std::string header = fmt::format(
        "# Best fit of the calibration {} ({}), written by bankrun {} ({}).\n"
        "# Evaluation {} (batch {}, {} phase): loss {:.6g} over {} replicates; the seed is "
        "replicate 0's.\n# Base scenario: {}\n",
        c_.name, fs::absolute(c_.file).lexically_normal().string(), cmd_.version, cmd_.commit,
        best.index, best.batch, phase_name(best.phase), best.loss, c_.replicates, c_.base_file);
    for (const std::string& fixed : c_.fixed) header += "# fixed:  " + fixed + "\n";
    for (std::size_t j = 0; j < c_.parameters.size(); ++j)
      header += fmt::format("# fitted: {}={}\n", c_.parameters[j].path,
                            sweep::format_value(best.values[j]));
    sweep::write_atomically(c_.output_dir / "best-fit.yaml", header + loaded.resolved_yaml);
  }

  int finish(int rc, const std::string& status, const std::string& reason = "") {
    if (!reason.empty()) results_.stop_reason = reason;
    if (rc == kExitInterrupted || rc == kExitTerminated)
      results_.stop_reason = "interrupted";
    else if (rc != kExitOk && rc != kExitIncomplete)
      results_.stop_reason = "failed";
    if (results_.stop_reason == "wall_time")
      fmt::print(
          "bankrun calibrate: the wall-time budget is spent after {} evaluations; run "
          "the same command again to go on\n",
          evaluations());
    if (results_.evaluations.empty()) return rc;
    results_.status = status;
    write_outputs();
    if (!cmd_.quiet && status == "complete") print_summary();
    return rc;
  }

  void print_summary() const {
    const Evaluation& best = results_.evaluations[*results_.best];
    fmt::print("calibration '{}': {} evaluations ({}), best loss {:.6g} at evaluation {}\n",
               c_.name, evaluations(), results_.stop_reason, best.loss, best.index);
    for (std::size_t j = 0; j < c_.parameters.size(); ++j) {
      const FreeParameter& p = c_.parameters[j];
      const Interval& in = results_.intervals[j];
      fmt::print("  {} = {}  ({:g}% profile interval {} .. {}{})\n", p.path,
                 sweep::format_value(best.values[j]), 100.0 * c_.level,
                 sweep::format_value(p.value(in.low)), sweep::format_value(p.value(in.high)),
                 in.low_at_bound || in.high_at_bound ? ", reaching the search bounds" : "");
    }
    fmt::print("results: {}\nbest fit: {}\n", (c_.output_dir / "calibration.h5").string(),
               (c_.output_dir / "best-fit.yaml").string());
  }

  const Calibration& c_;
  const CalibrateCommand& cmd_;
  Clock::time_point started_;
  Results results_;
  std::uint64_t batches_ = 0;
};

void print_plan(const Calibration& c) {
  fmt::print(
      "{}: valid calibration '{}': {} parameters, {} targets ({} observed rows), {} moments; "
      "{} replicates per point; budget {} evaluations ({} initial {} points, CMA-ES "
      "population {}, {} uncertainty points); output {}\n",
      c.file, c.name, c.parameters.size(), c.targets.size(),
      [&] {
        std::size_t n = 0;
        for (const SeriesTarget& t : c.targets) n += t.observations.size();
        return n;
      }(),
      c.moments.size(), c.replicates, c.max_evaluations, c.initial_points(),
      name_in(kDesignNames, c.search.design),
      c.search.method == Method::kCmaes ? std::to_string(c.population()) : "none", c.uncertainty(),
      c.output_dir.string());
}

}  // namespace

int calibrate_command(const CalibrateCommand& command) {
  CalibrateCommand cmd = command;
  if (cmd.executable.empty()) {
    std::error_code ec;
    cmd.executable = fs::read_symlink("/proc/self/exe", ec).string();
    if (ec) throw std::runtime_error("cannot find this executable's path: " + ec.message());
  }
  Calibration c = read_calibration_file(cmd.file);
  if (!cmd.output.empty()) c.output_dir = fs::absolute(cmd.output).lexically_normal();
  if (!c.unused_quantities.empty() && !cmd.quiet)
    fmt::print(stderr, "bankrun calibrate: note: no target uses the rows of {} of {}\n",
               yaml_reader::join(c.unused_quantities), c.observed_file);
  if (cmd.dry_run) {
    print_plan(c);
    return kExitOk;
  }
  stop_on_signal_interrupting_reads();
  Calibrator calibrator(c, cmd);
  return calibrator.run();
}

}  // namespace bankrun::calibrate
