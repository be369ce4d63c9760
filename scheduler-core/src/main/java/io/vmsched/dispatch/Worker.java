package io.vmsched.dispatch;

import io.vmsched.schedule.DispatchCursor;
import io.vmsched.schedule.Schedule;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.Agent;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One dispatcher worker: claim, run a slice, charge, release. Allocates nothing per slice.
 * <p>
 * <b>Note:</b> Not threadsafe: run by one {@link org.agrona.concurrent.AgentRunner}; its counters
 * may be read from any thread.
 */
final class Worker implements Agent
{
    private static final VarHandle SLICES;
    private static final VarHandle FAILURES;

    static
    {
        try
        {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            SLICES = lookup.findVarHandle(Worker.class, "slices", long.class);
            FAILURES = lookup.findVarHandle(Worker.class, "failures", long.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private final Schedule schedule;
    private final DispatchCursor cursor = new DispatchCursor();
    private final SliceContext context = new SliceContext();
    private final ErrorHandler errorHandler;
    private final String roleName;
    private long slices;
    private long failures;
    private volatile long threadId = -1; // the OS's id of its thread, once started (Linux), else 0

    Worker(final Schedule schedule, final int index, final ErrorHandler errorHandler)
    {
        this.schedule = schedule;
        this.errorHandler = errorHandler;
        this.roleName = "vmsched-dispatcher-" + index;
    }

    @Override
    public int doWork()
    {
        final Schedule schedule = this.schedule;
        final int slot = schedule.claimNext(cursor);
        if (slot == Schedule.NO_SLOT)
        {
            return 0;
        }

        final long budget = schedule.budgetNanos(slot);
        final long cpuStart = ThreadCpuClock.nanos();
        context.reset(schedule.vmId(slot), budget, (long)schedule.weight(slot) * schedule.quantumNanos(),
            System.nanoTime(), schedule.memBytes(slot));
        try
        {
            // inside the try: an attachment that is not a Guest fails this entry, not the worker
            ((Guest)schedule.attachment(slot)).runSlice(context);
        }
        catch (final Throwable ex)
        {
            schedule.releaseFailed(slot, ThreadCpuClock.nanos() - cpuStart);
            FAILURES.setOpaque(this, failures + 1);
            errorHandler.onError(new GuestFailedException(context.vmId(), ex));
            return 1;
        }
        schedule.release(slot, ThreadCpuClock.nanos() - cpuStart, context.ioBytes(), context.memBytes());
        SLICES.setOpaque(this, slices + 1);
        return context.wasIdle() ? 0 : 1; // 0 lets the idle strategy back off when every guest is idle
    }

    long slices()
    {
        return (long)SLICES.getOpaque(this);
    }

    long failures()
    {
        return (long)FAILURES.getOpaque(this);
    }

    @Override
    public void onStart()
    {
        Idle.resetTimerSlack(); // started by a thread on the message path, it would have that thread's slack
        final long tid = LinuxThread.id(); // the id renice takes for this one thread
        threadId = tid;
    }

    /** @return the OS's id of the worker's thread: -1 before it started, 0 where there is none (not Linux). */
    long threadId()
    {
        return threadId;
    }

    @Override
    public String roleName()
    {
        return roleName;
    }
}
