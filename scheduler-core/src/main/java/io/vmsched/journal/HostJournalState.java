package io.vmsched.journal;

import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.collections.LongHashSet;

import java.util.AbstractCollection;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What one host's journal says, record by record: the VMs it owns, the migrations it left without an
 * end record, the migrations it activated (its commit points) and refused. The one reading of a
 * host's records: recovery starts from it, and the journal tools apply each host's records to one
 * to follow ownership across hosts.
 * <p>
 * The rules: ADMITTED owns a VM, REMOVED drops it; MIGRATION_INTENT opens a migration out, COMMITTED
 * ends it and drops the VM, ABORTED ends it and keeps the VM; RECEIVED opens a migration in, ACTIVATED
 * ends it and owns the VM, ABORTED ends it. A VM whose migration out is still open is owned here until
 * COMMITTED, although from its target's ACTIVATED on it is the target's: whether it has gone is a
 * question for the target ({@link #activated(long)} there), as recovery and the tools ask it.
 * <p>
 * Pure bookkeeping: no schedule, no guests, no clock. Non-final only so the runtime's recovery can
 * keep its own editable copy of what is owned; extend it for nothing else.
 * <p>
 * <b>Note:</b> Not threadsafe: one thread applies the records and then reads.
 */
public class HostJournalState
{
    /** A VM the host owns, with the last state journaled for it (null when guests are not kept). */
    public static final class Owned
    {
        /** The VM's id. */
        public final long vmId;
        /** Its scheduling weight. */
        public final int weight;
        /** Its guest kind, or null when guests are not kept. */
        public final String kind;
        /** Its last journaled state, or null when guests are not kept. */
        public final byte[] state;
        private long order;

        Owned(final long vmId, final int weight, final String kind, final byte[] state)
        {
            this.vmId = vmId;
            this.weight = weight;
            this.kind = kind;
            this.state = state;
        }
    }

    /** A migration with no end record in this journal. */
    public static final class Pending
    {
        /** The migration's id. */
        public final long migrationId;
        /** The VM moving. */
        public final long vmId;
        /** The other host: the target of a migration out, the source of one in. */
        public final int peer;
        /** The VM's weight (migrations in; 0 out). */
        public final int weight;
        /** The guest kind received (migrations in, when guests are kept), else null. */
        public final String kind;
        /** The state received (migrations in, when guests are kept), else null. */
        public final byte[] state;
        private long order;

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

    private static final Comparator<Owned> OWNED_ORDER = Comparator.comparingLong(vm -> vm.order);
    private static final Comparator<Pending> PENDING_ORDER = Comparator.comparingLong(pending -> pending.order);

    // apply runs for every record of every journal read: primitive maps, so it boxes no id and makes no map node.
    // Each entry carries its arrival number instead, for the views' order.
    private final boolean keepGuests;
    private final Long2ObjectHashMap<Owned> owned = new Long2ObjectHashMap<>();
    private final Map<Long, Owned> ownedView = Collections.unmodifiableMap(new OwnedView());
    private final Map<Long, Owned> departed = new java.util.HashMap<>(); // with keepGuests only
    private final Long2ObjectHashMap<Pending> pendingOut = new Long2ObjectHashMap<>();
    private final Collection<Pending> pendingOutView = Collections.unmodifiableCollection(new PendingView(pendingOut));
    private final Long2ObjectHashMap<Pending> pendingIn = new Long2ObjectHashMap<>();
    private final Collection<Pending> pendingInView = Collections.unmodifiableCollection(new PendingView(pendingIn));
    private final LongHashSet activatedHere = new LongHashSet(); // the commit points: asked per in-doubt migration
    private final List<Long> refusedHere = new ArrayList<>();
    private final org.agrona.collections.Long2LongHashMap watermarks = new org.agrona.collections.Long2LongHashMap(0);
    private final org.agrona.collections.Long2LongHashMap ballooned = new org.agrona.collections.Long2LongHashMap(-1);
    private final BalloonRecord balloon = new BalloonRecord();
    private long maxSequence;
    private long maxBalloonRequest;
    private long arrivals;

    /**
     * @param keepGuests whether to keep each owned VM's kind and last state (recovery needs them; the
     *                   tools do not, and skip copying every state the journal holds).
     */
    public HostJournalState(final boolean keepGuests)
    {
        this.keepGuests = keepGuests;
    }

    /**
     * Replay a whole journal into a new state.
     *
     * @param journal    the host's journal.
     * @param keepGuests see {@link #HostJournalState(boolean)}.
     * @return the state its records leave.
     * @throws JournalCorruptException at the first record that cannot be decoded.
     */
    public static HostJournalState replay(final Journal journal, final boolean keepGuests)
    {
        final HostJournalState state = new HostJournalState(keepGuests);
        journal.replay((index, record) -> state.apply(record));
        return state;
    }

    /**
     * Apply the host's next record. Records must come in the journal's order; a record of a type that
     * does not bear on ownership or migrations is ignored.
     *
     * @param record a decoded record of this host's journal.
     */
    public void apply(final JournalRecord record)
    {
        final long vmId = record.vmId();
        final long migrationId = record.migrationId();
        switch (record.type())
        {
            case ADMITTED:
                ballooned.remove(vmId);
                own(new Owned(vmId, record.aux(), kind(record), state(record)));
                break;
            case REMOVED:
                ballooned.remove(vmId);
                owned.remove(vmId);
                break;
            case BALLOON_REQUESTED:
                maxBalloonRequest = Math.max(maxBalloonRequest, balloon.wrap(record).requestId());
                break;
            case BALLOON_RESULT:
            {
                final Owned vm = owned.get(vmId);
                if (vm != null && balloon.wrap(record).moved())
                {
                    if (balloon.memoryBytes() >= 0)
                    {
                        ballooned.put(vmId, balloon.memoryBytes());
                    }
                    if (balloon.processors() >= 1 && balloon.processors() != vm.weight)
                    {
                        own(new Owned(vmId, balloon.processors(), vm.kind, vm.state)); // the weight it runs at now
                    }
                }
                break;
            }
            case MIGRATION_INTENT:
                open(pendingOut, new Pending(migrationId, vmId, record.peer(), 0, null, null));
                maxSequence = Math.max(maxSequence, JournalRecord.migrationSequence(migrationId));
                break;
            case SUSPENDED:
            {
                final Owned vm = owned.get(vmId);
                if (vm != null && keepGuests)
                {
                    // the freshest state of the VM this journal holds
                    own(new Owned(vmId, vm.weight, vm.kind, record.guestState()));
                }
                break;
            }
            case COMMITTED:
            {
                pendingOut.remove(migrationId);
                ballooned.remove(vmId);
                final Owned gone = owned.remove(vmId);
                if (gone != null && keepGuests && keepDeparted(gone.kind))
                {
                    departed.put(vmId, gone);
                }
                break;
            }
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
                open(pendingIn, new Pending(migrationId, vmId, record.peer(), record.aux(), kind(record), state(record)));
                break;
            case ACTIVATED:
            {
                final Pending in = pendingIn.remove(migrationId);
                if (in != null)
                {
                    ballooned.remove(vmId); // it arrives at the size its transferred state holds
                    own(new Owned(vmId, in.weight, in.kind, in.state));
                }
                activatedHere.add(migrationId);
                break;
            }
            case WATERMARK:
                watermarks.put(record.peer(), Math.max(watermarks.get(record.peer()), migrationId)); // only grows
                break;
            default:
                break;
        }
    }

    /** @return the highest balloon request id journaled (0 if none): a restarted host numbers on from it. */
    public long maxBalloonRequestId()
    {
        return maxBalloonRequest;
    }

    /**
     * @param vmId an owned VM.
     * @return the memory, bytes, its last balloon result that moved it left it holding (since it was admitted or
     *         arrived here), or -1 if none: recovery asks its balloon for it again.
     */
    public long balloonedMemory(final long vmId)
    {
        return ballooned.get(vmId);
    }

    /** Own a VM: one owned already keeps its place (a newer state), as a LinkedHashMap keeps a key's. */
    private void own(final Owned vm)
    {
        departed.remove(vm.vmId);
        final Owned before = owned.put(vm.vmId, vm);
        vm.order = before != null ? before.order : ++arrivals;
    }

    private void open(final Long2ObjectHashMap<Pending> pending, final Pending migration)
    {
        final Pending before = pending.put(migration.migrationId, migration);
        migration.order = before != null ? before.order : ++arrivals;
    }

    private String kind(final JournalRecord record)
    {
        return keepGuests ? record.guestKind() : null;
    }

    private byte[] state(final JournalRecord record)
    {
        return keepGuests ? record.guestState() : null;
    }

    /**
     * @param kind a VM's guest kind.
     * @return whether {@link #departed()} keeps a VM of this kind once it left (default: none; recovery keeps the
     *         VMs a hypervisor runs, whose state is a small handle).
     */
    protected boolean keepDeparted(final String kind)
    {
        return false;
    }

    /**
     * @return VMs this host gave away by a commit (COMMITTED) and does not own again, by id, each as it last owned
     *         it (its last state: a driven VM's handle of the copy it left here), of the kinds
     *         {@link #keepDeparted} keeps, when guests are kept (a read-only view). Recovery makes sure such a
     *         copy is gone: the commit only sent it {@code quit}.
     */
    public Map<Long, Owned> departed()
    {
        return Collections.unmodifiableMap(departed);
    }

    /** @return VMs owned, by id, in the order they came (a read-only view). */
    public Map<Long, Owned> owned()
    {
        return ownedView;
    }

    /**
     * @param vmId a VM.
     * @return whether this journal owns it (it may have gone to a target that activated it: see the class).
     */
    public boolean owns(final long vmId)
    {
        return owned.containsKey(vmId);
    }

    /** @return migrations from this host with no end record, in order of intent. */
    public Collection<Pending> pendingOut()
    {
        return pendingOutView;
    }

    /**
     * @param migrationId a migration.
     * @return it if it is from this host and has no end record here, else null.
     */
    public Pending pendingOut(final long migrationId)
    {
        return pendingOut.get(migrationId);
    }

    /**
     * @param vmId a VM.
     * @return the migration of that VM from this host with no end record, or null.
     */
    public Pending pendingOutOf(final long vmId)
    {
        Pending first = null;
        for (final Pending pending : pendingOut.values()) // a few at most: the concurrency limit bounds them
        {
            if (pending.vmId == vmId && (first == null || pending.order < first.order))
            {
                first = pending; // the earliest intent, if (against the rules) several are open
            }
        }
        return first;
    }

    /** @return migrations to this host received but neither activated nor aborted, in order. */
    public Collection<Pending> pendingIn()
    {
        return pendingInView;
    }

    /**
     * @param migrationId a migration.
     * @return whether this host journaled ACTIVATED for it: the commit point.
     */
    public boolean activated(final long migrationId)
    {
        return activatedHere.contains(migrationId);
    }

    /**
     * @param source a source host.
     * @return the last refusal watermark journaled for it here (0: none).
     */
    public long watermark(final int source)
    {
        return watermarks.get(source);
    }

    /**
     * @param action told each source with a journaled watermark, and the watermark.
     */
    public void forEachWatermark(final java.util.function.ObjLongConsumer<Integer> action)
    {
        watermarks.forEachLong((source, watermark) -> action.accept((int)source, watermark));
    }

    /** @return every migration this host activated (do not modify). */
    public LongHashSet activatedHere()
    {
        return activatedHere;
    }

    /** @return every migration to this host that this host aborted (refused), in order. */
    public List<Long> refusedHere()
    {
        return Collections.unmodifiableList(refusedHere);
    }

    /** @return the highest sequence number this host gave a migration. */
    public long maxMigrationSequence()
    {
        return maxSequence;
    }

    /** The owned VMs as a map by id, in the order they came: sorted when iterated (read once, after the replay). */
    private final class OwnedView extends AbstractMap<Long, Owned>
    {
        private final Set<Map.Entry<Long, Owned>> entries = new AbstractSet<>()
        {
            @Override
            public Iterator<Map.Entry<Long, Owned>> iterator()
            {
                final Owned[] vms = owned.values().toArray(new Owned[0]);
                Arrays.sort(vms, OWNED_ORDER);
                return Arrays.stream(vms).map(vm -> Map.entry(vm.vmId, vm)).iterator();
            }

            @Override
            public int size()
            {
                return owned.size();
            }
        };

        @Override
        public Set<Map.Entry<Long, Owned>> entrySet()
        {
            return entries;
        }

        @Override
        public Owned get(final Object vmId)
        {
            return vmId instanceof Long ? owned.get((long)(Long)vmId) : null; // Agrona's get(Object) would cast
        }

        @Override
        public boolean containsKey(final Object vmId)
        {
            return vmId instanceof Long && owned.containsKey((long)(Long)vmId);
        }

        @Override
        public int size()
        {
            return owned.size();
        }
    }

    /** Open migrations in the order they came: sorted when iterated. */
    private static final class PendingView extends AbstractCollection<Pending>
    {
        private final Long2ObjectHashMap<Pending> pending;

        PendingView(final Long2ObjectHashMap<Pending> pending)
        {
            this.pending = pending;
        }

        @Override
        public Iterator<Pending> iterator()
        {
            final Pending[] migrations = pending.values().toArray(new Pending[0]);
            Arrays.sort(migrations, PENDING_ORDER);
            return Arrays.asList(migrations).iterator();
        }

        @Override
        public int size()
        {
            return pending.size();
        }
    }
}
