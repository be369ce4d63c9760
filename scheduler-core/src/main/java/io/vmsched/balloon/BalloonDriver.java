package io.vmsched.balloon;

import java.util.function.Consumer;

/**
 * The balloon of an external VM (an OS process the host does not dispatch), driven through its
 * hypervisor: QEMU's virtio-balloon over QMP ({@code balloon}, {@code query-balloon}).
 * <p>
 * Threading: {@link #request} is called on the host's agent and must not block it: the driver works on
 * its own thread and calls {@code done} there, exactly once per request, also when it fails or the
 * deadline passes ({@link BalloonResult.Outcome#FAILED}, {@link BalloonResult.Outcome#TIMED_OUT}).
 */
public interface BalloonDriver extends AutoCloseable
{
    /**
     * Ask the VM's balloon for the request's targets (memory only: a hypervisor's balloon has no processors;
     * a request for processors alone is answered {@link BalloonResult.Outcome#REFUSED}).
     *
     * @param request the targets.
     * @param done    told the result, once, on the driver's thread.
     */
    void request(BalloonRequest request, Consumer<BalloonResult> done);

    /** Stop the driver's thread; requests in flight are answered {@link BalloonResult.Outcome#FAILED}. */
    @Override
    void close();
}
