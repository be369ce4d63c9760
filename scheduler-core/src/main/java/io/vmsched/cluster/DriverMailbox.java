package io.vmsched.cluster;

import io.vmsched.balloon.BalloonDriver;
import io.vmsched.balloon.BalloonRequest;
import io.vmsched.balloon.BalloonResult;

/**
 * An external VM's balloon: the request goes to its {@link BalloonDriver} (which never blocks the agent), and the
 * driver's thread leaves the answer here, waking the agent. A driver answers every request exactly once, also
 * after the deadline, so a withdrawn request is always answered late.
 * <p>
 * Threading: {@link #offer}, {@link #answer}, {@link #withdraw} and {@link #close} are the agent's; the answer is
 * set on the driver's thread.
 */
final class DriverMailbox implements BalloonMailbox
{
    private final BalloonDriver driver;
    private final Runnable wake;
    private volatile BalloonResult answer;

    DriverMailbox(final BalloonDriver driver, final Runnable wake)
    {
        this.driver = driver;
        this.wake = wake;
    }

    @Override
    public void offer(final BalloonRequest request)
    {
        answer = null;
        try
        {
            driver.request(request, result ->
            {
                answer = result == null ? BalloonResult.of(request, BalloonResult.Outcome.FAILED,
                    "the balloon driver answered null") : result;
                wake.run();
            });
        }
        catch (final RuntimeException ex) // a driver's failure is the request's, not the agent's
        {
            answer = BalloonResult.of(request, BalloonResult.Outcome.FAILED, "the balloon driver threw " +
                ex.getClass().getSimpleName() + (ex.getMessage() == null ? "" : ": " + ex.getMessage()));
        }
    }

    @Override
    public BalloonResult answer(final BalloonRequest request)
    {
        final BalloonResult result = answer;
        return result != null && result.requestId() == request.requestId() ? result : null;
    }

    @Override
    public boolean withdraw(final BalloonRequest request)
    {
        return false; // the driver answers it all the same, at its own deadline at the latest
    }

    /** The VM left this host, or the host closes: the driver's thread stops. */
    void close()
    {
        try
        {
            driver.close();
        }
        catch (final RuntimeException ignore)
        {
            // a driver that fails to close leaves nothing of ours behind: the VM is gone from here
        }
    }
}
