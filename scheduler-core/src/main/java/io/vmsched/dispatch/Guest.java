package io.vmsched.dispatch;

/**
 * An in-JVM VM: the workload a schedule entry stands for. The dispatcher runs it one slice at a
 * time on its worker threads.
 * <p>
 * Threading: the dispatcher never runs two slices of one guest at once, but consecutive slices may
 * run on different worker threads; the claim and release of the slot order them (a guest's fields
 * written in one slice are visible in the next without further synchronisation).
 * {@link #snapshot()} and {@link #restore(byte[])} are called by the host agent only while the
 * guest's entry is stopped (not dispatched).
 */
public interface Guest
{
    /**
     * Run one slice. Return when the work of the slice is done or when
     * {@link SliceContext#expired()}, whichever comes first; a guest that overruns its budget is
     * charged for it (the dispatcher measures the thread's CPU time, it does not trust the guest).
     * Report I/O done and memory held through the context.
     *
     * @param context the slice's budget and the place to report usage; valid only during the call.
     */
    void runSlice(SliceContext context);

    /**
     * The guest's state as bytes, enough for {@link #restore(byte[])} on another host to continue
     * where this one stopped.
     *
     * @return the state.
     */
    byte[] snapshot();

    /**
     * Replace the guest's state with one taken by {@link #snapshot()}.
     *
     * @param state the bytes of a snapshot.
     * @throws IllegalArgumentException if the bytes are not a snapshot of this kind of guest.
     */
    void restore(byte[] state);

    /**
     * The guest's kind: the name under which a host that receives or recovers this VM finds the
     * factory that makes an empty guest to {@link #restore(byte[])} into (see
     * {@code io.vmsched.cluster.GuestRegistry}). The class name unless overridden.
     *
     * @return the kind's name.
     */
    default String kind()
    {
        return getClass().getName();
    }

    /**
     * The guest's reservation module, which the host asks for memory or processors
     * ({@link io.vmsched.balloon.Balloon}). Called once by the host when it makes the guest; the balloon it
     * returns is called on the guest's own slices.
     *
     * @return its balloon, or null (the default): the guest cannot be asked, and a request is answered
     *         {@link io.vmsched.balloon.BalloonResult.Outcome#NO_BALLOON} at once.
     */
    default io.vmsched.balloon.Balloon balloon()
    {
        return null;
    }
}
