#include "calendar.hpp"

#include <algorithm>
#include <cmath>

namespace bankrun {
namespace {

// Local time of a UTC instant: days since 1970-01-01, hour of day and weekday (Monday 0;
// 1970-01-01 was a Thursday).
struct LocalTime {
  std::int64_t date;
  std::int32_t hour, weekday;
};

LocalTime local_time(std::int64_t unix_seconds, double utc_offset_hours) {
  const std::int64_t local = unix_seconds + std::llround(utc_offset_hours * 3600.0);
  const std::int64_t date = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
  const auto second_of_day = local - date * 86400;
  const auto weekday = static_cast<std::int32_t>(((date + 3) % 7 + 7) % 7);
  return {date, static_cast<std::int32_t>(second_of_day / 3600), weekday};
}

bool listed(const std::vector<std::int64_t>& dates, std::int64_t date) {
  return std::find(dates.begin(), dates.end(), date) != dates.end();
}

}  // namespace

std::int32_t hours_in_tick(const TimeSpec& time) {
  return std::max(1, static_cast<std::int32_t>(std::ceil(time.tick_hours - 1e-9)));
}

std::int64_t instant(const TimeSpec& time, std::int32_t t, std::int32_t hour) {
  return time.start_unix_seconds + std::llround(t * time.tick_hours * 3600.0) +
         std::int64_t{hour} * 3600;
}

bool open_at(const OpeningHours& hours, std::int64_t unix_seconds) {
  const LocalTime at = local_time(unix_seconds, hours.utc_offset_hours);
  return hours.days[static_cast<std::size_t>(at.weekday)] && at.hour >= hours.from_hour &&
         at.hour < hours.to_hour && !listed(hours.closed_dates, at.date);
}

bool open_in_tick(const OpeningHours& hours, const TimeSpec& time, std::int32_t t) {
  if (hours.always_open()) return true;
  for (std::int32_t h = 0; h < hours_in_tick(time); ++h)
    if (open_at(hours, instant(time, t, h))) return true;
  return false;
}

double activity_at(const CalendarSpec& calendar, std::int64_t unix_seconds) {
  const LocalTime at = local_time(unix_seconds, calendar.utc_offset_hours);
  const std::int32_t weekday = listed(calendar.holidays, at.date) ? 6 : at.weekday;
  double a = 1.0;
  if (!calendar.activity_by_hour.empty())
    a *= calendar.activity_by_hour[static_cast<std::size_t>(at.hour)];
  if (!calendar.activity_by_weekday.empty())
    a *= calendar.activity_by_weekday[static_cast<std::size_t>(weekday)];
  return a;
}

double activity_in_tick(const CalendarSpec& calendar, const TimeSpec& time, std::int32_t t) {
  if (calendar.always_active()) return 1.0;
  const std::int32_t hours = hours_in_tick(time);
  double sum = 0.0;
  for (std::int32_t h = 0; h < hours; ++h) sum += activity_at(calendar, instant(time, t, h));
  return sum / hours;
}

}  // namespace bankrun
