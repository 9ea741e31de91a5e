#pragma once
// Claim currencies. Currency 0 is USD; currencies 1 .. are the scenario's `currencies`
// (tokens held in kind). Each class's portfolio (normalised weights w_ck) says how its
// members' claims, and therefore their requests, are split across currencies; each
// institution holds a currency as one of its assets (matched by name).
#include <cmath>
#include <cstdint>
#include <vector>

#include "agents/money.hpp"
#include "limits.hpp"
#include "scenario.hpp"

namespace bankrun {

class Portfolio {
 public:
  // Throws std::invalid_argument for more than kMaxCurrencies or a portfolio of the wrong
  // size.
  Portfolio(const Scenario& scenario, std::size_t classes);

  std::size_t currencies() const { return currencies_; }
  // Class c holds something besides USD.
  bool in_kind(std::size_t c) const { return in_kind_class_[c] != 0; }
  bool any_in_kind() const;
  // w_ck: the share of class c's claims held in currency k.
  double weight(std::size_t c, std::size_t k) const { return weights_[c * currencies_ + k]; }

  // Splits `amount` by class c's portfolio: parts[k] for currency k; returns whether any
  // part is not USD (if not, only parts[0] = amount is written).
  //   parts[k] = floor(amount * w_ck) for k >= 1;  parts[0] = amount - the others
  bool split(Money amount, std::uint8_t c, Money* parts) const {
    parts[0] = amount;
    if (!in_kind_class_[c]) return false;
    const double* w = &weights_[std::size_t{c} * currencies_];
    for (std::size_t k = 1; k < currencies_; ++k) {
      parts[k] = static_cast<Money>(std::floor(w[k] * static_cast<double>(amount)));
      parts[0] -= parts[k];
    }
    return true;
  }

  // Institution in's asset index holding `currency`; -1 for USD or where it holds none.
  std::int32_t asset_of(std::size_t in, std::size_t currency) const {
    return currency_asset_[in * currencies_ + currency];
  }
  // The currency of asset a of institution in (0 if customers hold no claims in it).
  std::size_t currency_of(std::size_t in, std::size_t a) const { return asset_currency_[in][a]; }

 private:
  std::size_t currencies_ = 1;
  std::vector<double> weights_;                           // [class * currencies_ + k]
  std::vector<char> in_kind_class_;                       // per class
  std::vector<std::int32_t> currency_asset_;              // [institution * currencies_ + k]
  std::vector<std::vector<std::size_t>> asset_currency_;  // [institution][asset]
};

}  // namespace bankrun
