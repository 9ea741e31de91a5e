#pragma once
// The one list of random streams. Every random draw in bankrun is a pure function of
// (seed, stream, tick-or-index, agent-or-node id, draw number); see rng.hpp.
// Adding a stream: append it. Never renumber: that would change every existing result.
#include <cstdint>

namespace bankrun {

enum class Stream : std::uint32_t {
  kClassBalance = 1,     // set-up: balance of agent id              (index slot: 0)
  kClassThreshold = 2,   // set-up: panic threshold of agent id      (index slot: 0)
  kNetwork = 3,          // set-up: edges generated from node id     (index slot: 0; the
                         //   configuration model: 1 = stub bucket, 2 = in-bucket shuffle)
  kNewsReach = 4,        // whether news event j reached agent id    (index slot: j / 4)
  kDecisionNoise = 5,    // epsilon_i(t) of the stress equation      (index slot: tick)
  kClassAttributes = 6,  // set-up: attention, omega, lag, noise sd   (index slot: 0)
  kThresholdRank = 7,    // set-up: noise of the balance-rank score    (index slot: 0)
  kNewsProcess = 8,      // set-up: Poisson news arrivals of tick t    (index slot: tick, id 0)
  kHazard = 9,           // hazard-mode decision uniform               (index slot: tick)
  kRedeposit = 10,       // calm re-deposit uniform                    (index slot: tick)
  kAssetPrice = 11,      // price shock of asset a at tick t           (slot: tick, id: a)
  kAccount = 12,         // set-up: the agent's account institution    (index slot: 0)
  kDestination = 13,     // set-up: where its withdrawn funds go       (index slot: 0)
  kActivity = 14,        // whether the agent may act at tick t (calendar) (slot: tick)
};

}  // namespace bankrun
