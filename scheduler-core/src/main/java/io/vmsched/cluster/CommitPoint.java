package io.vmsched.cluster;

/**
 * Answers, for recovery, whether a migration reached its commit point: whether the target journaled
 * ACTIVATED for it. In the embedded cluster it reads the target's journal; a networked cluster would
 * ask the target.
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
}
