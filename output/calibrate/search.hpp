#pragma once
// The search of `bankrun calibrate`, in the unit cube of the free parameters: space-filling
// starting designs (Halton, Latin hypercube), CMA-ES, the box of the uncertainty phase and
// the profile intervals. Pure functions of their inputs and the calibration's seed: a
// calibration started again replays the same points (scenarios/CALIBRATION.md has the
// equations).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace bankrun::calibrate {

using Point = std::vector<double>;  // unit coordinates, one per free parameter

// Halton point `index` (0-based; the sequence starts at its element 1) with bases 2, 3, 5,
// ... and a Cranley-Patterson rotation keyed by `seed` (u + shift mod 1).
Point halton_point(std::uint64_t index, std::size_t dim, std::uint64_t seed);
// Latin hypercube point `index` of `count`: parameter j in stratum permute_j(index).
Point lhs_point(std::uint64_t index, std::uint64_t count, std::size_t dim, std::uint64_t seed);
// Folds x into [0, 1] by reflection at the bounds.
double mirror(double x);

// CMA-ES (Hansen 2016, "The CMA Evolution Strategy: A Tutorial"), with the default
// parameters of that tutorial, weights for the best mu = lambda / 2 points, and samples
// mirrored into the unit cube (the update uses the mirrored points).
class Cmaes {
 public:
  Cmaes(Point mean, std::uint32_t lambda, double sigma);
  // Generation `generation`'s lambda points; normal deviates are keyed by (seed,
  // generation, point, coordinate), so the same state gives the same points.
  std::vector<Point> ask(std::uint64_t seed, std::uint64_t generation) const;
  // Updates the distribution from the points of ask() and their losses (lower is better;
  // NaN is worst).
  void tell(const std::vector<Point>& points, const std::vector<double>& losses);
  // Point `index` of a quasi-random sample of N(center, (scale sigma)^2 C), mirrored into
  // the unit cube: z_j = Phi^-1 of Halton coordinates (the uncertainty phase samples the
  // shape of the loss valley the search has learnt).
  Point around(const Point& center, double scale, std::uint64_t index, std::uint64_t seed) const;
  // C_.j / C_jj: how the other coordinates move with coordinate j along the search
  // distribution's principal shape (the conditional mean's slope).
  Point slope(std::size_t j) const;
  // sigma * sqrt(the largest diagonal element of C): the largest step's scale.
  double max_step() const;
  // sigma * sqrt(C_jj) per coordinate.
  Point steps() const;
  const Point& mean() const { return mean_; }
  double sigma() const { return sigma_; }

 private:
  void decompose();  // B and D from C (Jacobi)
  // center + step B D z, mirrored into the unit cube.
  Point place(const Point& center, double step, const Point& z) const;
  std::size_t n_;
  std::uint32_t lambda_, mu_;
  std::vector<double> weights_;
  double mu_eff_, c_sigma_, d_sigma_, c_c_, c_1_, c_mu_, chi_n_;
  Point mean_;
  double sigma_;
  std::vector<double> c_, b_, d_;  // C and B (n x n, row-major), D (sqrt of eigenvalues)
  Point p_sigma_, p_c_;
  std::uint64_t generations_ = 0;
};

// The eigen decomposition of the symmetric n x n matrix `a` (row-major) by cyclic Jacobi
// rotations: a = V diag(values) V^T, V's columns the eigenvectors.
void symmetric_eigen(std::vector<double> a, std::size_t n, std::vector<double>& values,
                     std::vector<double>& vectors);

// The chi-square quantile with one degree of freedom at `level`: Phi^-1((1 + level) / 2)^2
// (3.84 at 0.95).
double chi2_1_quantile(double level);

// A quadratic model of the loss near its minimum: least squares over the evaluations with
// a loss within 4 thresholds of the lowest (at least m + d and at most 3 m of the lowest;
// m = 1 + d + d(d + 1) / 2 coefficients), L(x) ~ L* + (x - x*)' H
// (x - x*) / 2. nullopt when there are too few points or H is not positive definite.
struct QuadraticFit {
  Point minimum;                        // x*
  std::vector<double> inverse_hessian;  // H^-1, d x d, unit coordinates
  std::size_t points = 0;               // evaluations used
  Point low, high;                      // the range of those evaluations, per coordinate
};
std::optional<QuadraticFit> fit_quadratic(const std::vector<Point>& points,
                                          const std::vector<double>& losses, double threshold);

// A profile interval from the evaluations, around the best point b: each evaluation k gives
// the edge b + (x_kj - b) min(1, sqrt(threshold / (L_k - L_min))) (its own coordinate when
// it is within the threshold; otherwise where a profile rising quadratically from b to at
// most L_k at x_kj must still be below the threshold), the interval spans them all, widened to the
// quadratic model's profile interval x*_j +- sqrt(2 threshold (H^-1)_jj) when the model fits
// (clipped to the range of the evaluations it was fitted to: no extrapolation); at_bound when the
// interval reaches the search bounds (within 0.01 of 0 or 1 in unit coordinates), i.e. it is open
// there.
struct Interval {
  double low = 0.0, high = 0.0;
  bool low_at_bound = false, high_at_bound = false;
  std::uint64_t within = 0;  // evaluations within the threshold
  // The edge is bracketed: an evaluation lies beyond it, no farther than edge_step(), or the
  // edge is at the search bound.
  bool low_resolved = false, high_resolved = false;
};
std::vector<Interval> profile_intervals(const std::vector<Point>& points,
                                        const std::vector<double>& losses, double threshold);

// The resolution to which an interval's edges are bracketed: a quarter of its width, at
// least 0.02 (unit coordinates).
double edge_step(const Interval& in);
// Points that bracket interval j's unresolved edges: for each, two points at the edge plus
// one and two edge_step()s outward (clipped to [0, 1]), the other coordinates moved along
// `direction` (the change of the others per unit of coordinate j: C_.j / C_jj of the
// search's covariance, which follows the loss's valley) from `best`.
std::vector<Point> edge_points(const Point& best, const Interval& in, std::size_t j,
                               const Point& direction);

}  // namespace bankrun::calibrate
