package io.vmsched.cluster;

import io.vmsched.balloon.Balloon;
import io.vmsched.balloon.BalloonRequest;
import io.vmsched.balloon.BalloonResult;
import io.vmsched.dispatch.Guest;
import io.vmsched.dispatch.SliceContext;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A host's guest as its schedule runs it: the guest, and a mailbox for its balloon. The agent posts a request
 * ({@link #offer}); the guest's next slice takes it, runs {@link Balloon#adjust} before the guest's own slice, and
 * leaves the answer for the agent to collect ({@link #answer}), waking it. A balloon that throws is answered
 * FAILED and the guest's slice runs all the same: the guest keeps running.
 * <p>
 * Threading: {@link #offer}, {@link #withdraw} and {@link #answer} are the agent's; {@link #runSlice} a
 * dispatcher worker's. The request passes by a compare-and-set, so exactly one slice takes it, and never after
 * the agent withdrew it (its deadline passed).
 */
final class BalloonedGuest implements Guest, BalloonMailbox
{
    private static final VarHandle PENDING;

    static
    {
        try
        {
            PENDING = MethodHandles.lookup().findVarHandle(BalloonedGuest.class, "pending", BalloonRequest.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    final Guest guest;
    /** The guest's balloon, null if it has none. */
    final Balloon balloon;
    private final Runnable wake;
    private volatile BalloonRequest pending;
    private volatile BalloonResult answer;

    /**
     * @param guest the guest.
     * @param wake  wakes the host's agent (a worker calls it with an answer).
     */
    BalloonedGuest(final Guest guest, final Runnable wake)
    {
        this.guest = guest;
        this.balloon = guest.balloon();
        this.wake = wake;
    }

    /** Agent: post a request for the guest's next slice (the previous one is answered or withdrawn). */
    @Override
    public void offer(final BalloonRequest request)
    {
        answer = null;
        pending = request;
    }

    /**
     * Agent: take back a request no slice has taken yet.
     *
     * @return false if a slice took it: its answer comes late, and the agent still collects it.
     */
    @Override
    public boolean withdraw(final BalloonRequest request)
    {
        return PENDING.compareAndSet(this, request, null);
    }

    /** @return the guest's answer to this request, or null if none yet. */
    @Override
    public BalloonResult answer(final BalloonRequest request)
    {
        final BalloonResult result = answer;
        return result != null && result.requestId() == request.requestId() ? result : null;
    }

    @Override
    public void runSlice(final SliceContext context)
    {
        final BalloonRequest request = pending;
        if (request != null && PENDING.compareAndSet(this, request, null))
        {
            answer = adjust(request);
            wake.run();
        }
        guest.runSlice(context);
    }

    /** @return the balloon's answer, with the request's ids; FAILED if it threw or answered nothing. */
    BalloonResult adjust(final BalloonRequest request)
    {
        try
        {
            final BalloonResult result = balloon.adjust(request);
            if (result == null)
            {
                return BalloonResult.of(request, BalloonResult.Outcome.FAILED, "the guest's balloon answered null");
            }
            return result.requestId() == request.requestId() && result.vmId() == request.vmId() ? result :
                new BalloonResult(request.requestId(), request.vmId(), result.outcome(), result.memoryBytes(),
                    result.processors(), result.reason());
        }
        catch (final RuntimeException | Error ex) // a guest's failure, not the worker's: the guest's slice still runs
        {
            return BalloonResult.of(request, BalloonResult.Outcome.FAILED, "the guest's balloon threw " +
                ex.getClass().getSimpleName() + (ex.getMessage() == null ? "" : ": " + ex.getMessage()));
        }
    }

    @Override
    public byte[] snapshot()
    {
        return guest.snapshot();
    }

    @Override
    public void restore(final byte[] state)
    {
        guest.restore(state);
    }

    @Override
    public String kind()
    {
        return guest.kind();
    }

    @Override
    public Balloon balloon()
    {
        return balloon;
    }

    @Override
    public String toString()
    {
        return guest.toString();
    }
}
