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
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * The slot is RUNNING; its worker releases it while the agent deletes the entry.
 * <p>
 * r1: 1 if delete() freed the slot at once, 2 if deferred; r2: the slot's state after both;
 * r3: 1 if the vmId survives the agent's next reclaim().
 */
@JCStressTest
@Description("Release vs delete: a delete requested while the slice runs is applied when it ends.")
@Outcome(id = "1, 0, 0", expect = Expect.ACCEPTABLE, desc = "release first; the agent won the RUNNABLE slot and freed it")
@Outcome(id = "2, 6, 0", expect = Expect.ACCEPTABLE, desc = "deferred; the releasing worker saw the request and handed the slot over")
@Outcome(id = "2, 1, 0", expect = Expect.ACCEPTABLE_INTERESTING, desc = "deferred; the worker released just before the request was published, reclaim freed it")
@Outcome(expect = Expect.FORBIDDEN, desc = "the delete was lost")
@State
public class ReleaseVsDeleteTests
{
    private final Schedule schedule = ScheduleTestSupport.oneRunnableEntry();
    private final int slot = schedule.claimNext(new DispatchCursor());

    @Actor
    public void worker()
    {
        schedule.release(slot, 1, 0, 0);
    }

    @Actor
    public void agent(final III_Result r)
    {
        r.r1 = schedule.delete(ScheduleTestSupport.VM_ID) == Schedule.Transition.DONE ? 1 : 2;
    }

    @Arbiter
    public void arbiter(final III_Result r)
    {
        r.r2 = schedule.stateOfSlot(0);
        schedule.reclaim();
        r.r3 = schedule.contains(ScheduleTestSupport.VM_ID) ? 1 : 0;
    }
}
