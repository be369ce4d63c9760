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
     * A driven VM's live migration committed (told just before {@link #onMigrated}): the hypervisor's own figures.
     *
     * @param vmId   the VM.
     * @param source where it was.
     * @param target where it runs now.
     * @param status how the hypervisor ended it: total time, downtime, bytes sent.
     */
    default void onLiveMigration(final long vmId, final int source, final int target,
        final io.vmsched.vm.MigrationStatus status)
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
     * A migration aborted, with its coded reason (what the source's ABORTED record holds): the VM runs on
     * at the source. This is the method the runtime calls; the default passes the detail to
     * {@link #onAborted(long, int, int, String)}, so a listener overrides one or the other.
     *
     * @param vmId   the VM.
     * @param source where it stays.
     * @param target where it was going.
     * @param reason why, coded (e.g. {@link io.vmsched.journal.AbortReason#TARGET_DID_NOT_ACTIVATE}).
     * @param detail why, in words.
     */
    default void onAborted(final long vmId, final int source, final int target,
        final io.vmsched.journal.AbortReason reason, final String detail)
    {
        onAborted(vmId, source, target, detail);
    }

    /**
     * A request whose call had returned normally failed at a host (the VM was gone, the schedule was
     * full, the cluster closed before the host reached it, …): nothing it asked for was done. Every
     * accepted request ends either in its effect (an admission, a removal, a started migration, a
     * load applied) or in exactly one call of this method. The default passes a
     * {@link RequestFailedException} to {@link #onError}.
     *
     * @param host    the host that gave up on it.
     * @param request what was asked.
     * @param vmId    of which VM.
     * @param reason  why it failed, one line.
     */
    default void onRequestFailed(final int host, final Request request, final long vmId, final String reason)
    {
        onError(host, new RequestFailedException(request, vmId, reason));
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

    /**
     * A service's status changed (or was first computed after a start or its definition); journaled before this is called.
     * Called on the cluster's service watch thread (or the thread calling {@link Cluster#status()}); must not block.
     *
     * @param status the change.
     */
    default void onServiceStatus(final io.vmsched.placement.ServiceStatus status)
    {
    }

    /**
     * A balloon request ({@link Cluster#balloon}, or one recovery made again) ended; journaled (BALLOON_RESULT)
     * before this is called, and its future is completed right after. Called on the host's agent thread; must not
     * block.
     *
     * @param result how it ended and what the guest holds now.
     */
    default void onBalloon(final io.vmsched.balloon.BalloonResult result)
    {
    }
}
