package io.vmsched.cluster;

/**
 * A request that a {@link Cluster} call had accepted (the call returned normally) and that then
 * failed at a host: what {@link ClusterListener#onRequestFailed}'s default passes to
 * {@link ClusterListener#onError}.
 */
public final class RequestFailedException extends IllegalStateException
{
    private static final long serialVersionUID = 1L;

    private final Request request;
    private final long vmId;

    /**
     * @param request what was asked.
     * @param vmId    of which VM.
     * @param reason  why it failed.
     */
    public RequestFailedException(final Request request, final long vmId, final String reason)
    {
        super(request.name().toLowerCase(java.util.Locale.ROOT) + " of vm " + vmId + " failed: " + reason);
        this.request = request;
        this.vmId = vmId;
    }

    /** @return what was asked. */
    public Request request()
    {
        return request;
    }

    /** @return of which VM. */
    public long vmId()
    {
        return vmId;
    }
}
