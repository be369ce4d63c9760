package io.vmsched.cluster;

/**
 * Told what the cluster does. Every method has an empty default; override what you need.
 * <p>
 * Threading: called on the host agents' threads, several at once; keep it short and threadsafe
 * (a slow listener slows its host's agent).
 */
public interface ClusterListener
{
    /**
     * A VM was admitted.
     *
     * @param host the host it runs on.
     * @param vmId the VM.
     */
    default void onAdmitted(final int host, final long vmId)
    {
    }

    /**
     * A VM was removed from the cluster.
     *
     * @param host the host it was on.
     * @param vmId the VM.
     */
    default void onRemoved(final int host, final long vmId)
    {
    }

    /**
     * A migration committed: the VM runs on the target and is gone from the source.
     *
     * @param vmId       the VM.
     * @param source     where it was.
     * @param target     where it runs now.
     * @param durationNs from MIGRATION_INTENT to COMMITTED at the source.
     */
    default void onMigrated(final long vmId, final int source, final int target, final long durationNs)
    {
    }

    /**
     * A migration aborted: the VM runs on at the source.
     *
     * @param vmId   the VM.
     * @param source where it stays.
     * @param target where it was going.
     * @param reason why.
     */
    default void onAborted(final long vmId, final int source, final int target, final String reason)
    {
    }

    /**
     * Something went wrong on a host that did not stop it (a guest failed, a request was refused).
     *
     * @param host  the host.
     * @param error what.
     */
    default void onError(final int host, final Throwable error)
    {
    }
}
