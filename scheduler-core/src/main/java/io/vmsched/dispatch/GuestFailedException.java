package io.vmsched.dispatch;

/**
 * A guest threw from {@link Guest#runSlice(SliceContext)}; its entry has been taken out of dispatch
 * (SUSPENDED). Passed to the dispatcher's error handler.
 */
public final class GuestFailedException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    private final long vmId;

    /**
     * @param vmId  the VM whose guest failed.
     * @param cause what it threw.
     */
    public GuestFailedException(final long vmId, final Throwable cause)
    {
        super("guest of vm " + vmId + " failed in its slice and was suspended: " + cause, cause);
        this.vmId = vmId;
    }

    /** @return the VM whose guest failed. */
    public long vmId()
    {
        return vmId;
    }
}
