package io.vmsched.cluster;

/**
 * Answers, for recovery, whether a migration reached its commit point: whether the target journaled
 * ACTIVATED for it. In the embedded cluster it reads the target's journal; a node of a cluster across
 * machines asks the {@link OwnerRegistry} (and reclaims what the target did not take).
 */
@FunctionalInterface
public interface CommitPoint
{
    /**
     * @param targetHost  the migration's target.
     * @param migrationId the migration.
     * @return true if the target activated the VM (the migration committed), false if not.
     */
    boolean activated(int targetHost, long migrationId);

    /**
     * @param targetHost  the migration's target.
     * @param migrationId the migration.
     * @param vmId        the VM it moves.
     * @return true if the target activated the VM (the migration committed), false if not.
     */
    default boolean activated(final int targetHost, final long migrationId, final long vmId)
    {
        return activated(targetHost, migrationId);
    }

    /**
     * A migration this host received and had not activated when it crashed: did it reach its commit point
     * all the same? Never in the embedded cluster (this host's missing ACTIVATED is the answer); a node asks
     * the registry whether its move was applied.
     *
     * @param sourceHost  the migration's source.
     * @param migrationId the migration.
     * @param vmId        the VM it moves.
     * @return true if the VM is this host's by this migration.
     */
    default boolean movedHere(final int sourceHost, final long migrationId, final long vmId)
    {
        return false;
    }
}
