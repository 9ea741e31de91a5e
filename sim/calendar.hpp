#pragma once
// The calendar of a run: agents' activity and institutions' opening hours by local time
// (scenario.hpp: CalendarSpec, OpeningHours). Pure functions of the scenario and the tick.
#include <cstdint>

#include "scenario.hpp"

namespace bankrun {

// The instants that stand for tick t: the start of each of its hours (just its start for
// ticks shorter than an hour), as UTC seconds: start + t * tick + h * 3600, h = 0 .. H-1,
// H = max(1, ceil(tick_hours)).
std::int32_t hours_in_tick(const TimeSpec& time);
std::int64_t instant(const TimeSpec& time, std::int32_t t, std::int32_t hour);

// Open at a UTC instant: local weekday listed, from_hour <= local hour < to_hour, local date
// not closed.
bool open_at(const OpeningHours& hours, std::int64_t unix_seconds);
// Open during tick t: at any of its hours.
bool open_in_tick(const OpeningHours& hours, const TimeSpec& time, std::int32_t t);

// Activity at a UTC instant: hour factor x weekday factor (a holiday counts as a Sunday).
double activity_at(const CalendarSpec& calendar, std::int64_t unix_seconds);
// a(t): the mean activity over tick t's hours; exactly 1 for an always-active calendar.
double activity_in_tick(const CalendarSpec& calendar, const TimeSpec& time, std::int32_t t);

}  // namespace bankrun
