package io.vmsched.cluster;

import org.agrona.collections.Long2LongHashMap;

/**
 * A node's commit point for the migrations a crash cut short: the owner registry decides, since the peers'
 * journals are on other machines. As a source, an in-doubt migration is settled by a reclaim: if it left the VM
 * this node's, the move never applied (and now never can: the reclaim fenced it), so the VM resumes here; any
 * other owner means it left, whatever migration the registry names, since the target activated it and it may have
 * moved on since. As a target, an arrival is this node's only if the registry names this node with this migration.
 * <p>
 * Invariant: a VM is resumed by a node's recovery only if the registry names that node its owner, so it never runs
 * on two nodes. Each migration is decided once (check and recover both ask; one reclaim, remembered).
 * <p>
 * <b>Note:</b> Not threadsafe: the thread starting the node.
 */
final class RegistryCommitPoint implements CommitPoint
{
    private final OwnerRegistry owners;
    private final int host;
    private final Long2LongHashMap decided = new Long2LongHashMap(-1); // migration -> 1 activated, 0 not

    /**
     * @param owners the registry.
     * @param host   this node's host.
     */
    RegistryCommitPoint(final OwnerRegistry owners, final int host)
    {
        this.owners = owners;
        this.host = host;
    }

    @Override
    public boolean activated(final int target, final long migrationId)
    {
        throw new UnsupportedOperationException("a node resolves by VM: activated(target, migrationId, vmId)");
    }

    @Override
    public boolean activated(final int target, final long migrationId, final long vmId)
    {
        long answer = decided.get(migrationId);
        if (answer < 0)
        {
            final OwnerRegistry.Owner owner = owners.reclaim(vmId, migrationId);
            answer = owner.host == host ? 0 : 1;
            decided.put(migrationId, answer);
        }
        return answer == 1;
    }

    @Override
    public boolean movedHere(final int source, final long migrationId, final long vmId)
    {
        long answer = decided.get(migrationId);
        if (answer < 0)
        {
            final OwnerRegistry.Owner owner = owners.owner(vmId);
            answer = owner.host == host && owner.migrationId == migrationId ? 1 : 0;
            decided.put(migrationId, answer);
        }
        return answer == 1;
    }
}
