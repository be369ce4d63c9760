package io.vmsched.concurrency;

import io.vmsched.schedule.EntryState;
import io.vmsched.schedule.Schedule;

/**
 * Builds the one-slot schedules the jcstress tests race on: capacity 1, so a claim scans exactly
 * the contended slot.
 */
final class ScheduleTestSupport
{
    static final long VM_ID = 7;

    private ScheduleTestSupport()
    {
    }

    static Schedule oneRunnableEntry()
    {
        final Schedule schedule = Schedule.allocate(1, 1_000, 1);
        schedule.insert(VM_ID, 1, EntryState.RUNNABLE, null);
        return schedule;
    }
}
