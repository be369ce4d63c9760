package io.vmsched.concurrency;

import io.vmsched.schedule.DispatchCursor;
import io.vmsched.schedule.EntryState;
import io.vmsched.schedule.Schedule;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * A worker claims and releases while the agent stops the entry for a migration: afterwards (and
 * after reclaim) the entry is MIGRATING_OUT, never RUNNABLE, so it is not dispatched again.
 * <p>
 * r1: 1 if the worker ran a slice; r2: the entry's state after the agent's reclaim().
 */
@JCStressTest
@Description("Claim vs stop-for-migration: the stop is never lost.")
@Outcome(id = "1, 4", expect = Expect.ACCEPTABLE, desc = "the slice ran, then the entry stopped")
@Outcome(id = "0, 4", expect = Expect.ACCEPTABLE, desc = "stopped before (or instead of) the slice")
@Outcome(expect = Expect.FORBIDDEN, desc = "the stop was lost")
@State
public class ClaimVsSuspendTests
{
    private final Schedule schedule = ScheduleTestSupport.oneRunnableEntry();
    private final DispatchCursor cursor = new DispatchCursor();

    @Actor
    public void worker(final II_Result r)
    {
        final int slot = schedule.claimNext(cursor);
        if (slot != Schedule.NO_SLOT)
        {
            schedule.release(slot, 1, 0, 0);
            r.r1 = 1;
        }
    }

    @Actor
    public void agent()
    {
        schedule.stopForMigration(ScheduleTestSupport.VM_ID);
    }

    @Arbiter
    public void arbiter(final II_Result r)
    {
        schedule.reclaim();
        r.r2 = schedule.isPending(ScheduleTestSupport.VM_ID) ? -1 : schedule.stateOf(ScheduleTestSupport.VM_ID);
        if (r.r2 != EntryState.MIGRATING_OUT)
        {
            r.r2 = 100 + r.r2;
        }
    }
}
