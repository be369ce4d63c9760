package io.vmsched.concurrency;

import io.vmsched.schedule.DispatchCursor;
import io.vmsched.schedule.Schedule;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

/**
 * A worker claims (and, if it wins, runs and releases) the slot while the agent deletes its entry.
 * <p>
 * r1: 1 if the worker ran a slice; r2: 1 if delete() freed the slot at once, 2 if it was deferred;
 * r3: the slot's state after both (0 FREE, 6 DELETED); r4: 1 if the vmId is still in the schedule
 * after the agent's next reclaim(). The entry must never be left RUNNABLE or RUNNING, and never
 * survive the reclaim.
 */
@JCStressTest
@Description("Claim vs delete: the delete is never lost and the slot is freed once the slice ends.")
@Outcome(id = "1, 1, 0, 0", expect = Expect.ACCEPTABLE, desc = "slice ran and ended, then the agent freed the slot")
@Outcome(id = "0, 1, 0, 0", expect = Expect.ACCEPTABLE, desc = "agent freed the slot before the claim")
@Outcome(id = "1, 2, 6, 0", expect = Expect.ACCEPTABLE, desc = "delete deferred; the worker handed the slot over when its slice ended")
@Outcome(id = "0, 2, 6, 0", expect = Expect.ACCEPTABLE, desc = "claimer saw the pending delete and handed the slot over without running it")
@Outcome(id = "1, 2, 1, 0", expect = Expect.ACCEPTABLE_INTERESTING, desc = "worker released before seeing the request; reclaim frees it (a claimer would see the request)")
@Outcome(expect = Expect.FORBIDDEN, desc = "the delete was lost or the entry kept running")
@State
public class ClaimVsDeleteTests
{
    private final Schedule schedule = ScheduleTestSupport.oneRunnableEntry();
    private final DispatchCursor cursor = new DispatchCursor();

    @Actor
    public void worker(final IIII_Result r)
    {
        final int slot = schedule.claimNext(cursor);
        if (slot != Schedule.NO_SLOT)
        {
            schedule.release(slot, 1, 0, 0);
            r.r1 = 1;
        }
    }

    @Actor
    public void agent(final IIII_Result r)
    {
        r.r2 = schedule.delete(ScheduleTestSupport.VM_ID) == Schedule.Transition.DONE ? 1 : 2;
    }

    @Arbiter
    public void arbiter(final IIII_Result r)
    {
        r.r3 = schedule.stateOfSlot(0);
        schedule.reclaim();
        r.r4 = schedule.contains(ScheduleTestSupport.VM_ID) ? 1 : 0;
    }
}
