package io.vmsched.concurrency;

import io.vmsched.schedule.DispatchCursor;
import io.vmsched.schedule.Schedule;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * Two workers race to claim the only RUNNABLE slot: exactly one wins it.
 */
@JCStressTest
@Description("Two workers claim the same RUNNABLE slot: exactly one gets it.")
@Outcome(id = "0, -1", expect = Expect.ACCEPTABLE, desc = "first worker won")
@Outcome(id = "-1, 0", expect = Expect.ACCEPTABLE, desc = "second worker won")
@Outcome(expect = Expect.FORBIDDEN, desc = "both ran the slot, or nobody claimed a runnable slot")
@State
public class ClaimVsClaimTests
{
    private final Schedule schedule = ScheduleTestSupport.oneRunnableEntry();
    private final DispatchCursor cursor1 = new DispatchCursor();
    private final DispatchCursor cursor2 = new DispatchCursor();

    @Actor
    public void worker1(final II_Result r)
    {
        r.r1 = schedule.claimNext(cursor1);
    }

    @Actor
    public void worker2(final II_Result r)
    {
        r.r2 = schedule.claimNext(cursor2);
    }
}
