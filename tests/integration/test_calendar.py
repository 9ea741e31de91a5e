"""The calendar from a researcher's side: a bank open on New York business hours pays only
then (its queue waits over the weekend and is paid on Monday morning), and depositors
less active at weekends withdraw later. Runs the real binary and reads its HDF5."""
import math

import h5py
import numpy as np

from conftest import run_scenario_text

# Hourly ticks from Saturday 10 Dec 2022 00:00 UTC (Friday 19:00 in New York) for 4 days.
SCENARIO = """\
name: calendar
seed: 3
time: {ticks: 96, tick_hours: 1, start: "2022-12-10T00:00:00Z"}
population:
  agents: 20000
  classes:
    - name: all
      balance_usd: 100
      threshold: 0.5
stress: {news_weight: 1}
news: [{tick: 6, magnitude: 1}]
calendar:
  utc_offset_hours: -5
  activity_by_weekday: [1, 1, 1, 1, 1, 0.1, 0.1]
institutions:
  - name: bank
    hot_reserve_fraction: 0.3
    cold_reserve_fraction: 0.7
    opening_hours: {utc_offset_hours: -5, days: [mon, tue, wed, thu, fri], from_hour: 9,
                    to_hour: 17}
"""


def run(tmp_path, *sets):
    return h5py.File(run_scenario_text(tmp_path, "calendar", SCENARIO, *sets))


def test_business_hours_and_weekend_activity(tmp_path, bankrun_bin):
    with run(tmp_path) as f:
        bank = f["institutions/bank"]
        open_ = bank["open"][:].astype(bool)
        paid = bank["payments_cents"][:]
        queue = bank["queue_count"][:]
        activity = f["signals/activity"][:]
        withdrawn = f["population/withdrawn_agents"][:]
        n = int(f.attrs["agents"])
    hours = np.arange(96)
    # Local time = UTC - 5: tick t starts at Friday 19:00 + t hours. Open Monday 9:00-17:00
    # (ticks 62 .. 69) and Tuesday from 9:00 (ticks 86 .. 93).
    local_hour = (19 + hours) % 24
    local_day = (4 + (19 + hours) // 24) % 7  # Monday 0: tick 0 is a Friday
    expected_open = (local_day < 5) & (local_hour >= 9) & (local_hour < 17)
    np.testing.assert_array_equal(open_, expected_open)
    assert open_[62] and not open_[61]
    # Nothing is paid while closed; the weekend's requests are paid on Monday at 9:00.
    assert (paid[~open_] == 0).all()
    assert queue[61] > 0 and paid[62] > 0
    # Activity: 1 on Friday evening (ticks 0 .. 4), 0.1 on the weekend, 1 from Monday 0:00.
    np.testing.assert_allclose(activity[:5], 1.0)
    np.testing.assert_allclose(activity[5:53], 0.1)
    np.testing.assert_allclose(activity[53:], 1.0)
    # The news hits at tick 6 (Saturday 1:00): each hour a tenth of the stressed agents act.
    for t in (6, 7, 10, 20):
        p = 1 - 0.9 ** (t - 5)
        assert abs(withdrawn[t] / n - p) < 5 * math.sqrt(p * (1 - p) / n), (t, withdrawn[t])
    # Monday 0:00 local (tick 53): everyone still stressed acts.
    assert withdrawn[53] == n


def test_always_open_and_active_without_a_calendar(tmp_path, bankrun_bin):
    with run(tmp_path, "calendar.activity_by_weekday=[1,1,1,1,1,1,1]",
             "institutions[0].opening_hours.days=[mon,tue,wed,thu,fri,sat,sun]",
             "institutions[0].opening_hours.from_hour=0",
             "institutions[0].opening_hours.to_hour=24") as f:
        bank = f["institutions/bank"]
        assert bank["open"][:].all()
        np.testing.assert_array_equal(f["signals/activity"][:], 1.0)
        assert f["population/withdrawn_agents"][6] == int(f.attrs["agents"])
        assert bank["payments_cents"][6] > 0
