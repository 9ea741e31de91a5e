// The calendar (sim/calendar.hpp): local time, opening hours, activity by hour, weekday and
// holiday; an institution closed outside its hours; agents idle with probability 1 - a(t).
#include <doctest/doctest.h>
#include <tbb/global_control.h>

#include <cmath>
#include <vector>

#include "fixtures.hpp"
#include "scenarios/yaml_reader.hpp"
#include "sim/calendar.hpp"
#include "sim/institution.hpp"
#include "sim/run.hpp"
#include "sim/simulation.hpp"

using namespace bankrun;
using namespace bankrun::testing;

namespace {

std::int64_t utc(const char* text) {
  return yaml_reader::parse_utc_timestamp(text).unix_seconds;
}
std::int64_t date(const char* text) {
  return utc(text) / 86400;
}

// New York business hours: Monday to Friday, 9:00 to 17:00 at UTC-5.
OpeningHours new_york() {
  OpeningHours h;
  h.utc_offset_hours = -5;
  h.days = {true, true, true, true, true, false, false};
  h.from_hour = 9;
  h.to_hour = 17;
  return h;
}

}  // namespace

TEST_CASE("opening hours: local weekday, hours and closed dates") {
  const OpeningHours h = new_york();
  // 2022-12-12 was a Monday: 14:00 UTC is 9:00 in New York, 13:59 is 8:59.
  CHECK(open_at(h, utc("2022-12-12T14:00:00Z")));
  CHECK_FALSE(open_at(h, utc("2022-12-12T13:59:00Z")));
  CHECK(open_at(h, utc("2022-12-12T21:59:00Z")));        // 16:59
  CHECK_FALSE(open_at(h, utc("2022-12-12T22:00:00Z")));  // 17:00
  // Saturday 2022-12-10 at noon local; Saturday 03:00 UTC is still Friday 22:00 local.
  CHECK_FALSE(open_at(h, utc("2022-12-10T17:00:00Z")));
  CHECK(open_at(h, utc("2022-12-09T15:00:00Z")));  // Friday 10:00
  OpeningHours closed = h;
  closed.closed_dates = {date("2022-12-12")};
  CHECK_FALSE(open_at(closed, utc("2022-12-12T15:00:00Z")));
  CHECK(open_at(closed, utc("2022-12-13T15:00:00Z")));
  CHECK(OpeningHours{}.always_open());
  // Dates before 1970 and their weekdays: 1969-12-31 was a Wednesday.
  OpeningHours wednesdays;
  wednesdays.days = {false, false, true, false, false, false, false};
  CHECK(open_at(wednesdays, utc("1969-12-31T12:00:00Z")));
  CHECK_FALSE(open_at(wednesdays, utc("1970-01-01T12:00:00Z")));
}

TEST_CASE("a tick is open when any of its hours is; activity is the mean over its hours") {
  TimeSpec time;
  time.start_unix_seconds = utc("2022-12-10T00:00:00Z");  // a Saturday
  time.tick_hours = 24;
  const OpeningHours h = new_york();
  // Daily ticks from Saturday 00:00 UTC: Sat, Sun, Mon (open from 14:00 UTC), ...
  CHECK_FALSE(open_in_tick(h, time, 0));
  CHECK_FALSE(open_in_tick(h, time, 1));
  CHECK(open_in_tick(h, time, 2));
  CalendarSpec c;
  c.activity_by_weekday = {1, 1, 1, 1, 1, 0.5, 0.25};
  CHECK(activity_in_tick(c, time, 0) == doctest::Approx(0.5));  // UTC = local: Saturday
  CHECK(activity_in_tick(c, time, 1) == doctest::Approx(0.25));
  c.holidays = {date("2022-12-12")};  // Monday counts as a Sunday
  CHECK(activity_in_tick(c, time, 2) == doctest::Approx(0.25));
  c.holidays.clear();
  c.utc_offset_hours = -5;  // Saturday 00:00 UTC is Friday 19:00: 5 hours of Friday
  CHECK(activity_in_tick(c, time, 0) == doctest::Approx((5 * 1.0 + 19 * 0.5) / 24));
  // Hourly ticks: the factor of the local hour.
  time.tick_hours = 1;
  CalendarSpec hours;
  hours.activity_by_hour.assign(24, 1.0);
  hours.activity_by_hour[3] = 0.2;
  CHECK(activity_in_tick(hours, time, 3) == 0.2);
  CHECK(activity_in_tick(hours, time, 4) == 1.0);
  CHECK(activity_in_tick(CalendarSpec{}, time, 3) == 1.0);
}

TEST_CASE("closed institution: nothing paid, no cold transfer starts, transit still lands") {
  InstitutionSpec spec;
  spec.hot_reserve_fraction = 0.1;
  spec.cold_reserve_fraction = 0.9;
  spec.cold_delay_ticks = 2;
  spec.opening_hours.days = {true, true, true, true, true, false, false};
  TimeSpec time;  // daily ticks from Friday 2022-12-09
  time.start_unix_seconds = utc("2022-12-09T00:00:00Z");
  time.tick_hours = 24;
  Institution inst(spec, 1000, 10);
  const auto settle = [&](std::int32_t t) {
    inst.open_for(time, t);
    return inst.settle(t, [](std::uint32_t, Money, bool) {});
  };
  inst.submit(0, 0, 500);
  CHECK(settle(0) == 100);  // Friday: hot pays 100; 400 of cold leave, arriving Sunday
  CHECK(inst.in_transit() == 400);
  CHECK(settle(1) == 0);  // Saturday: closed
  CHECK_FALSE(inst.open());
  CHECK(settle(2) == 0);  // Sunday: closed, but the transfer lands
  CHECK(inst.hot() == 400);
  CHECK(inst.in_transit() == 0);
  CHECK(inst.queue_value() == 400);
  CHECK(settle(3) == 400);  // Monday
  inst.check_ledger();
}

TEST_CASE("activity a(t): an agent acts on its decision with probability a(t)") {
  // Everyone's stress exceeds the threshold from tick 0; with a(t) = 0.4 every tick, the
  // share that has withdrawn by the end of tick t is 1 - 0.6^(t+1), within binomial error.
  const std::uint32_t n = 20000;
  Scenario s = news_only_scenario(n, 0.5, 1.0, 4);
  s.calendar.activity_by_hour.assign(24, 0.4);
  std::vector<std::int64_t> first;
  for (const int threads : {1, 2}) {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
    Simulation sim(s);
    Collect c;
    run(sim, c);
    std::vector<std::int64_t> withdrawn;
    for (std::int32_t t = 0; t < 4; ++t) {
      const double p = 1.0 - std::pow(0.6, t + 1);
      const double share = static_cast<double>(c.ticks[t].withdrawn_agents) / n;
      CHECK(std::abs(share - p) < 5.0 * std::sqrt(p * (1 - p) / n));
      CHECK(c.ticks[t].activity == doctest::Approx(0.4));
      withdrawn.push_back(c.ticks[t].withdrawn_agents);
    }
    if (first.empty()) first = withdrawn;
    CHECK(withdrawn == first);  // the same agents at 1 and 2 threads
  }
}
