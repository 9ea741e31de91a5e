#include "portfolio.hpp"

#include <algorithm>
#include <stdexcept>

namespace bankrun {

// The classes' normalised portfolios (an empty or all-zero one is all USD) and, per
// institution, which of its assets holds each currency (by name).
Portfolio::Portfolio(const Scenario& scenario, std::size_t classes)
    : currencies_(1 + scenario.currencies.size()) {
  const auto& names = scenario.currencies;
  if (currencies_ > kMaxCurrencies)
    throw std::invalid_argument("at most " + std::to_string(kMaxCurrencies - 1) +
                                " claim currencies besides USD");
  weights_.assign(classes * currencies_, 0.0);
  in_kind_class_.assign(classes, 0);
  for (std::size_t c = 0; c < classes; ++c) {
    const auto& w = scenario.population.classes[c].portfolio;
    double total = 0.0;
    for (const double x : w) total += x;
    if (w.empty() || total <= 0.0) {
      weights_[c * currencies_] = 1.0;
      continue;
    }
    if (w.size() != currencies_) throw std::invalid_argument("a portfolio has the wrong size");
    for (std::size_t k = 0; k < currencies_; ++k) {
      weights_[c * currencies_ + k] = w[k] / total;
      if (k > 0 && w[k] > 0.0) in_kind_class_[c] = 1;
    }
  }
  currency_asset_.assign(scenario.institutions.size() * currencies_, -1);
  for (std::size_t in = 0; in < scenario.institutions.size(); ++in) {
    const auto& assets = scenario.institutions[in].assets;
    asset_currency_.emplace_back(assets.size(), 0);
    for (std::size_t a = 0; a < assets.size(); ++a)
      for (std::size_t k = 1; k < currencies_; ++k)
        if (assets[a].name == names[k - 1]) {
          currency_asset_[in * currencies_ + k] = static_cast<std::int32_t>(a);
          asset_currency_[in][a] = k;
        }
  }
}

bool Portfolio::any_in_kind() const {
  return std::any_of(in_kind_class_.begin(), in_kind_class_.end(), [](char c) { return c != 0; });
}

}  // namespace bankrun
