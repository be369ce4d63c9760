package io.vmsched.cluster;

import io.vmsched.balloon.BalloonRequest;
import io.vmsched.balloon.BalloonResult;

/**
 * Where a host's agent posts a balloon request and collects its answer without waiting: a guest's next slice
 * ({@link BalloonedGuest}) or an external VM's hypervisor ({@link DriverMailbox}).
 * <p>
 * Threading: every method is the agent's; the answer is left by another thread (a worker, a driver's).
 * Invariant: at most one request is posted at a time; the agent posts the next only when the previous one was
 * answered or withdrawn.
 */
interface BalloonMailbox
{
    /** Post a request; the previous one is answered or withdrawn. */
    void offer(BalloonRequest request);

    /** @return the answer to this request, or null if none yet. */
    BalloonResult answer(BalloonRequest request);

    /**
     * Take back a request whose deadline passed.
     *
     * @return true if no answer will come; false if the guest or driver has it and will still answer (late).
     */
    boolean withdraw(BalloonRequest request);
}
