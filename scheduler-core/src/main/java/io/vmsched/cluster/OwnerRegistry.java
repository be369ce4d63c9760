package io.vmsched.cluster;

import org.agrona.concurrent.ringbuffer.RingBuffer;

/**
 * The authority on which host owns each VM when the hosts are separate machines
 * (docs/across-machines.md): a VM is admitted, moved to a migration's target, or reclaimed by a
 * migration's source only through it, so a VM is never owned by two hosts even while one is
 * partitioned. Without one ({@link ClusterConfig#owners} null, the embedded cluster) the commit point of
 * a migration is the target's journal, as before.
 * <p>
 * The runtime's requests never block its agent: the {@code request*} methods queue one and return; the
 * answer arrives later in the host's inbox as a {@link io.vmsched.handoff.HostMessages#OWNER_ANSWER}.
 * Answers are definite (applied, or refused with the entry that refused it): an implementation that
 * cannot reach its registry keeps trying and answers nothing meanwhile, so the host keeps what waits
 * on it stopped rather than guess. The recovery calls ({@link #owner}, {@link #reclaim}) block.
 * <p>
 * Threading: {@code request*} from the host's agent; {@link #owner} and {@link #reclaim} from the thread
 * recovering the host, before its agent starts; {@link #attach} once, before either.
 */
public interface OwnerRegistry extends AutoCloseable
{
    /** What a request asked. */
    int ADMIT = 1;
    /** What a request asked. */
    int MOVE = 2;
    /** What a request asked. */
    int RECLAIM = 3;
    /** What a request asked. */
    int RELEASE = 4;
    /**
     * The owner an answer names when the registry refused an admission or a move because the VM would
     * break a hard placement rule on this host, or this host is drained (checked there, at the commit point,
     * against the whole cluster).
     */
    int REFUSED_BY_RULE = -2;

    /**
     * @param hostId the host whose requests this serves.
     * @param inbox  where the answers go (a multi-producer ring: the registry's thread writes to it).
     */
    void attach(int hostId, RingBuffer inbox);

    /**
     * Ask that a new VM be owned by this host (admission).
     *
     * @param vmId the VM.
     * @return false if the request could not be queued now (ask again later).
     */
    boolean requestAdmit(long vmId);

    /**
     * Ask, as a migration's target, that the VM become this host's: applied only if {@code fromHost}
     * still owns it and has not reclaimed this migration.
     *
     * @param vmId        the VM.
     * @param fromHost    the migration's source.
     * @param migrationId the migration.
     * @param tenureFence the highest migration id this host has used so far: no move of one of them
     *                    (a stale one, from an earlier time this host owned the VM) can apply once this does.
     * @return false if the request could not be queued now.
     */
    boolean requestMove(long vmId, int fromHost, long migrationId, long tenureFence);

    /**
     * Ask, as a migration's source, to keep the VM: applied only if this host still owns it; after it
     * no move of this migration (or an earlier one) can apply. Refused when the target's move won.
     *
     * @param vmId        the VM.
     * @param migrationId the migration.
     * @return false if the request could not be queued now.
     */
    boolean requestReclaim(long vmId, long migrationId);

    /**
     * Tell the registry that a VM removed here has no owner any more (no answer comes).
     *
     * @param vmId the VM.
     * @return false if the request could not be queued now.
     */
    boolean requestRelease(long vmId);

    /**
     * Recovery: who owns a VM now (blocks until the registry answers).
     *
     * @param vmId the VM.
     * @return its entry, {@link Owner#host} {@code -1} if it has none.
     */
    Owner owner(long vmId);

    /**
     * Recovery: resolve a migration this host started and a crash cut short: reclaim the VM, or learn
     * that the target's move won (blocks until the registry answers).
     *
     * @param vmId        the VM.
     * @param migrationId the migration.
     * @return the entry after the reclaim: this host if it keeps the VM; otherwise the VM left (the target's
     *         move won, and it may have moved on since: then another host, with a later migration).
     */
    Owner reclaim(long vmId, long migrationId);

    @Override
    void close();

    /** An owner-table entry: the host that owns a VM and the migration that last changed it (0: admission). */
    final class Owner
    {
        /** The owning host, -1 if none. */
        public final int host;
        /** The migration of the last change (0 if admission, or none). */
        public final long migrationId;

        /**
         * @param host        the owning host, -1 if none.
         * @param migrationId the migration of the last change.
         */
        public Owner(final int host, final long migrationId)
        {
            this.host = host;
            this.migrationId = migrationId;
        }

        @Override
        public String toString()
        {
            return host < 0 ? "no owner" : "host " + host + (migrationId == 0 ? "" : " (migration " + migrationId + ")");
        }
    }
}
