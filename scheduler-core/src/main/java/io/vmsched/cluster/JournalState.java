package io.vmsched.cluster;

import io.vmsched.journal.Journal;
import io.vmsched.journal.JournalRecord;
import io.vmsched.journal.RecordType;
import org.agrona.collections.LongHashSet;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one host's journal says it owns and what it left unfinished: the state recovery starts from.
 * Replaying is pure bookkeeping over the records (no schedule, no guests), so tools can use it too.
 * <p>
 * <b>Note:</b> Not threadsafe.
 */
final class JournalState
{
    /** A VM the host owns, with the last state journaled for it. */
    static final class Owned
    {
        final long vmId;
        final int weight;
        final String kind;
        byte[] state;

        Owned(final long vmId, final int weight, final String kind, final byte[] state)
        {
            this.vmId = vmId;
            this.weight = weight;
            this.kind = kind;
            this.state = state;
        }
    }

    /** A migration with no end record. */
    static final class Pending
    {
        final long migrationId;
        final long vmId;
        final int peer;
        final int weight;
        final String kind;
        final byte[] state;

        Pending(final long migrationId, final long vmId, final int peer, final int weight, final String kind,
            final byte[] state)
        {
            this.migrationId = migrationId;
            this.vmId = vmId;
            this.peer = peer;
            this.weight = weight;
            this.kind = kind;
            this.state = state;
        }
    }

    private final Map<Long, Owned> owned = new LinkedHashMap<>();
    private final Map<Long, Pending> pendingOut = new LinkedHashMap<>();
    private final Map<Long, Pending> pendingIn = new LinkedHashMap<>();
    private final LongHashSet activatedHere = new LongHashSet(); // the commit points: asked per in-doubt migration
    private final List<Long> refusedHere = new ArrayList<>();
    private long maxSequence;

    static JournalState replay(final Journal journal)
    {
        final JournalState state = new JournalState();
        journal.replay(state::apply);
        return state;
    }

    void apply(final long index, final JournalRecord record)
    {
        final long vmId = record.vmId();
        final long migrationId = record.migrationId();
        switch (record.type())
        {
            case ADMITTED:
                owned.put(vmId, new Owned(vmId, record.aux(), record.guestKind(), record.guestState()));
                break;
            case REMOVED:
                owned.remove(vmId);
                break;
            case MIGRATION_INTENT:
                pendingOut.put(migrationId, new Pending(migrationId, vmId, record.peer(), 0, null, null));
                maxSequence = Math.max(maxSequence, JournalRecord.migrationSequence(migrationId));
                break;
            case SUSPENDED:
            {
                final Owned vm = owned.get(vmId);
                if (vm != null)
                {
                    vm.state = record.guestState(); // the freshest state of the VM this journal holds
                }
                break;
            }
            case COMMITTED:
                pendingOut.remove(migrationId);
                owned.remove(vmId);
                break;
            case ABORTED:
                if (pendingOut.remove(migrationId) == null)
                {
                    pendingIn.remove(migrationId);
                }
                if (JournalRecord.migrationSource(migrationId) != record.host())
                {
                    refusedHere.add(migrationId); // a target's refusal stands: a late transfer must not activate
                }
                break;
            case RECEIVED:
                pendingIn.put(migrationId, new Pending(migrationId, vmId, record.peer(), record.aux(),
                    record.guestKind(), record.guestState()));
                break;
            case ACTIVATED:
            {
                final Pending in = pendingIn.remove(migrationId);
                if (in != null)
                {
                    owned.put(vmId, new Owned(vmId, in.weight, in.kind, in.state));
                }
                activatedHere.add(migrationId);
                break;
            }
            default:
                break;
        }
    }

    /** @return VMs owned, by id (recovery removes those a commit point gives away). */
    Map<Long, Owned> owned()
    {
        return owned;
    }

    /** @return migrations from this host with no end record. */
    Collection<Pending> pendingOut()
    {
        return Collections.unmodifiableCollection(pendingOut.values());
    }

    /** @return migrations to this host received but neither activated nor aborted. */
    Collection<Pending> pendingIn()
    {
        return Collections.unmodifiableCollection(pendingIn.values());
    }

    /** @return every migration this host activated. */
    LongHashSet activatedHere()
    {
        return activatedHere;
    }

    /** @return every migration to this host that this host aborted (refused). */
    List<Long> refusedHere()
    {
        return refusedHere;
    }

    /** @return the highest sequence number this host gave a migration. */
    long maxMigrationSequence()
    {
        return maxSequence;
    }
}
