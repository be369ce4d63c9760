package io.vmsched.tools;

import io.vmsched.journal.AbortReason;
import io.vmsched.journal.HostJournalState;
import io.vmsched.journal.JournalRecord;
import io.vmsched.journal.RecordType;
import org.HdrHistogram.Histogram;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.collections.LongHashSet;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the merged journals say happened, rebuilt record by record: who owns each VM, every handoff
 * and its steps, each host's load, the balance decisions; and whether the ownership invariant held
 * at every record (exactly one owner per admitted VM; every handoff committed or aborted; never the
 * source aborting after the target activated, nor committing without it; never the target both
 * activating and aborting one). A handoff left without an end record (a crash) is resolved by its
 * commit point, ACTIVATED at the target, exactly as recovery resolves it, and counted as in doubt.
 * <p>
 * The journals read may be a subset of the cluster's (nodes' directories, some not given; the
 * {@link JournalSet} tells which, see {@link #onHosts}): a handoff whose other side's journal was not
 * read cannot be checked across sides, and is reported as a finding instead
 * ({@code migration 0x… of vm 7 names host 4, whose journal was not given}), never as a VM lost.
 * <p>
 * Each host's records mean what recovery takes them to mean: they are applied to a
 * {@link HostJournalState} per host, the same replay recovery starts from; this class adds what only
 * the merged journals show: the owner across hosts (a host's VM whose migration out its target has
 * activated is the target's), the checks of the invariant, the handoffs' timings, loads and decisions.
 * Aborts are counted by {@link AbortReason}, decisions by {@link io.vmsched.balance.DecisionOutcome},
 * by their labels.
 * <p>
 * <b>Note:</b> Not threadsafe: fed by one {@link JournalSet#forEach} pass.
 */
public final class History implements JournalSet.Handler
{
    /** Steps of a handoff, in order. */
    public static final String[] STEPS = { "intent→suspended", "suspended→received", "received→activated",
        "activated→committed", "intent→committed" };

    /** One handoff. */
    public static final class Migration
    {
        public final long id;
        public final long vmId;
        public final int source;
        public final int target;
        public long intentNs;
        public long suspendedNs;
        public long receivedNs;
        public long activatedNs;
        public long committedNs;
        public long abortedNs;
        public String abortReason;
        public AbortReason abortCode;
        public boolean resolvedByRecovery;
        public boolean inDoubt;
        /** When the target journaled ABORTED (a refusal), 0 if it did not. */
        public long targetAbortedNs;
        /** The host of its other side whose journal was not read, or -1 if both were. */
        public int hostNotGiven = -1;

        Migration(final long id, final long vmId, final int source, final int target, final long intentNs)
        {
            this.id = id;
            this.vmId = vmId;
            this.source = source;
            this.target = target;
            this.intentNs = intentNs;
        }

        /**
         * @return whether the VM moved: the target activated it (or, where the target's journal was not
         * read, the source committed it).
         */
        public boolean committed()
        {
            return activatedNs != 0 || committedNs != 0 && hostNotGiven == target;
        }

        /** @return whether the source journaled no end (committed or aborted) for it yet. */
        public boolean open()
        {
            return committedNs == 0 && abortedNs == 0;
        }
    }

    /** A host's load at a moment, from its LOAD_SNAPSHOT records. */
    public record LoadPoint(long timeNs, int host, double load, int vms)
    {
    }

    // onRecord runs per record: primitive maps, so no id is boxed and no map node made
    private final Int2ObjectHashMap<HostJournalState> hosts = new Int2ObjectHashMap<>();
    private int[] hostIds = new int[0]; // ascending, with their states: ownerOf answers the lowest owning host
    private HostJournalState[] hostStates = new HostJournalState[0];
    private final LongHashSet everAdmitted = new LongHashSet();
    private final Long2ObjectHashMap<Migration> migrations = new Long2ObjectHashMap<>();
    private final List<Migration> migrationsInOrder = new ArrayList<>();
    // a handoff's steps come close together: most find theirs here, not in the big map, whose hashing
    // scatters consecutive ids (a cache miss per lookup)
    private final Migration[] recent = new Migration[64];
    private final List<LoadPoint> loadPoints = new ArrayList<>();
    private final Map<String, Long> decisions = new TreeMap<>();
    private final Map<String, Long> balloons = new TreeMap<>();
    private final io.vmsched.journal.BalloonRecord balloon = new io.vmsched.journal.BalloonRecord();
    private final Map<String, Long> abortReasons = new TreeMap<>();
    private final List<String> findings = new ArrayList<>();
    private int[] given; // the hosts whose journals are read, ascending; null: unknown, taken as every host
    private final long stopAt;
    private long stopAtNs = Long.MAX_VALUE;
    private long stopAfterFirstNs = -1;
    private String violation;
    private long lost;
    private long duplicated;
    private long firstNs;
    private long lastNs;
    private long lastSeq = -1;

    /** A history of every record. */
    public History()
    {
        this(Long.MAX_VALUE);
    }

    /**
     * @param stopAt the last record number to apply (replay "at" a point).
     */
    public History(final long stopAt)
    {
        this.stopAt = stopAt;
    }

    /**
     * @param epochNs a time, ns since the epoch.
     * @return a history of the records stamped up to that time.
     */
    public static History untilTime(final long epochNs)
    {
        final History history = new History();
        history.stopAtNs = epochNs;
        return history;
    }

    /**
     * @param offsetNs ns after the first record.
     * @return a history of the records stamped up to that long after the first.
     */
    public static History untilOffset(final long offsetNs)
    {
        final History history = new History();
        history.stopAfterFirstNs = offsetNs;
        return history;
    }

    /**
     * The hosts whose journals are read ({@link JournalSet#forEach} tells it before the first record): a
     * handoff with another host is reported in {@link #findings()}, not checked across its sides.
     *
     * @param hosts their ids, ascending.
     */
    @Override
    public void onHosts(final int[] hosts)
    {
        given = hosts.clone();
    }

    @Override
    public boolean onRecord(final long seq, final int host, final long index, final JournalRecord r)
    {
        final long t = r.timestampNs();
        if (seq > stopAt || t > stopAtNs || stopAfterFirstNs >= 0 && firstNs != 0 && t > firstNs + stopAfterFirstNs)
        {
            return false;
        }
        lastSeq = seq; // record numbers run from 0 without gaps: lastSeq + 1 records applied
        if (firstNs == 0)
        {
            firstNs = t;
        }
        lastNs = t;
        final long vm = r.vmId();
        final RecordType type = r.type();
        switch (type)
        {
            case ADMITTED:
            {
                final int owner = ownerOf(vm);
                everAdmitted.add(vm);
                if (owner >= 0)
                {
                    violate(seq, host, index, "vm " + vm + " admitted at host " + host + " while host " + owner + " owns it",
                        false);
                }
                break;
            }
            case REMOVED:
            {
                if (ownerOf(vm) != host)
                {
                    violate(seq, host, index, "vm " + vm + " removed at host " + host + ", which does not own it", false);
                }
                break;
            }
            case MIGRATION_INTENT:
            {
                final int owner = ownerOf(vm);
                if (owner != host)
                {
                    violate(seq, host, index, "host " + host + " starts migrating vm " + vm + " owned by " + name(owner),
                        false);
                }
                step(r).intentNs = t; // step() knows it already if a later step sorted first (clocks)
                break;
            }
            case SUSPENDED:
                step(r).suspendedNs = t;
                break;
            case RECEIVED:
                step(r).receivedNs = t;
                break;
            case ACTIVATED:
            {
                final Migration m = step(r);
                checkSide(seq, host, index, m, vm, "activated", m.target, "target");
                if (m.abortedNs != 0)
                {
                    violate(seq, host, index, "vm " + vm + " activated at host " + host + " after its source aborted " +
                        "the migration: it would run in two places", false);
                }
                if (m.targetAbortedNs != 0)
                {
                    violate(seq, host, index, "vm " + vm + " activated at host " + host + " after it aborted migration " +
                        hex(m.id) + ": a refused transfer must never activate", false);
                }
                final int owner = ownerOf(vm);
                if (owner != m.source && m.hostNotGiven != m.source) // the source's journal not read: who knows
                {
                    violate(seq, host, index, "vm " + vm + " activated at host " + host + " but owned by " + name(owner) +
                        ", not by the migration's source " + m.source, false);
                }
                m.activatedNs = t; // from here the vm is the target's: its host state owns it, the source's is given away
                break;
            }
            case COMMITTED:
            {
                final Migration m = step(r);
                checkSide(seq, host, index, m, vm, "committed", m.source, "source");
                if (m.activatedNs == 0 && m.hostNotGiven != m.target)
                {
                    violate(seq, host, index, "host " + host + " committed migration " + hex(m.id) + " of vm " + vm +
                        " that host " + m.target + " never activated: the vm is lost", true);
                }
                m.committedNs = t;
                break;
            }
            case ABORTED:
            {
                final Migration m = step(r);
                if (host == m.source)
                {
                    if (m.activatedNs != 0)
                    {
                        violate(seq, host, index, "host " + host + " aborted migration " + hex(m.id) + " of vm " + vm +
                            " after host " + m.target + " activated it: it would run in two places", false);
                    }
                    m.abortedNs = t; // only the source's abort ends the migration
                    m.abortReason = r.text();
                    m.abortCode = r.abortReason();
                    abortReasons.merge(m.abortCode.label(), 1L, Long::sum);
                }
                else
                {
                    if (m.activatedNs != 0)
                    {
                        violate(seq, host, index, "host " + host + " aborted migration " + hex(m.id) + " of vm " + vm +
                            " after activating it: the sides disagree on where it runs", false);
                    }
                    m.targetAbortedNs = t;
                }
                break;
            }
            case RESOLVED:
                step(r).resolvedByRecovery = true;
                break;
            case LOAD_SNAPSHOT:
                loadPoints.add(new LoadPoint(t, host, r.a(), r.aux()));
                break;
            case DECISION:
                decisions.merge(r.decisionOutcome().label(), 1L, Long::sum);
                break;
            case BALLOON_REQUESTED:
                balloons.merge("requested", 1L, Long::sum);
                break;
            case BALLOON_RESULT:
            {
                final io.vmsched.balloon.BalloonResult.Outcome outcome = balloon.wrap(r).outcome();
                balloons.merge(outcome == null ? "unknown" : outcome.name().toLowerCase(java.util.Locale.ROOT), 1L, Long::sum);
                break;
            }
            default:
                break;
        }
        HostJournalState state = hosts.get(host);
        if (state == null)
        {
            state = addHost(host);
        }
        state.apply(r); // after the checks: they see the state before
        return true;
    }

    private HostJournalState addHost(final int host)
    {
        final HostJournalState state = new HostJournalState(false);
        hosts.put(host, state);
        final int at = -Arrays.binarySearch(hostIds, host) - 1; // not there yet: its insertion point
        final int[] ids = new int[hostIds.length + 1];
        final HostJournalState[] states = new HostJournalState[ids.length];
        System.arraycopy(hostIds, 0, ids, 0, at);
        System.arraycopy(hostStates, 0, states, 0, at);
        ids[at] = host;
        states[at] = state;
        System.arraycopy(hostIds, at, ids, at + 1, hostIds.length - at);
        System.arraycopy(hostStates, at, states, at + 1, hostStates.length - at);
        hostIds = ids;
        hostStates = states;
        return state;
    }

    /**
     * The owner of a VM across hosts, by the commit point: a host whose journal owns it, unless the
     * VM's migration out of that host is activated at its target (then it is the target's, which owns
     * it too from ACTIVATED on).
     *
     * @return the owner, the lowest host id if (against the invariant) several own it, or -1.
     */
    private int ownerOf(final long vm)
    {
        for (int i = 0; i < hostIds.length; i++)
        {
            if (ownsNow(hostStates[i], vm))
            {
                return hostIds[i];
            }
        }
        return -1;
    }

    private static String name(final int owner)
    {
        return owner >= 0 ? Integer.toString(owner) : "null";
    }

    private boolean ownsNow(final HostJournalState state, final long vm)
    {
        if (!state.owns(vm))
        {
            return false;
        }
        final HostJournalState.Pending out = state.pendingOutOf(vm);
        final HostJournalState target = out == null ? null : hosts.get(out.peer);
        return target == null || !target.activated(out.migrationId);
    }

    private Migration step(final JournalRecord r)
    {
        final long id = r.migrationId();
        final int slot = (int)(id ^ id >>> JournalRecord.MIGRATION_SEQUENCE_BITS) & (recent.length - 1);
        Migration m = recent[slot];
        if (m != null && m.id == id)
        {
            return m;
        }
        m = migrations.get(id);
        if (m == null)
        {
            // the intent is in a journal not read (another host's, or before a truncation): keep what we know
            final int source = JournalRecord.migrationSource(id);
            m = new Migration(id, r.vmId(), source, r.host() == source ? r.peer() : r.host(), 0);
            migrations.put(id, m);
            migrationsInOrder.add(m);
            final int other = r.host() == source ? m.target : source;
            if (given != null && Arrays.binarySearch(given, other) < 0)
            {
                m.hostNotGiven = other;
                findings.add("migration " + hex(id) + " of vm " + m.vmId + " names host " + other +
                    ", whose journal was not given");
            }
        }
        recent[slot] = m;
        return m;
    }

    /** A step of migration {@code m} journaled by a host other than the side that owns that step. */
    private void checkSide(final long seq, final int host, final long index, final Migration m, final long vm,
        final String step, final int expected, final String side)
    {
        if (host != expected)
        {
            violate(seq, host, index, "migration " + hex(m.id) + " of vm " + vm + " " + step + " at host " + host +
                ", not at its " + side + " " + expected, false);
        }
    }

    private void violate(final long seq, final int host, final long index, final String what, final boolean isLost)
    {
        if (isLost)
        {
            lost++;
        }
        else
        {
            duplicated++;
        }
        if (violation == null)
        {
            violation = "record " + seq + " (host " + host + ", index " + index + "): " + what;
        }
    }

    /**
     * Resolve handoffs left without an end record by their commit point, as recovery would.
     *
     * @return this.
     */
    public History finish()
    {
        for (final Migration m : migrationsInOrder)
        {
            final HostJournalState source = hosts.get(m.source);
            if (source != null && source.pendingOut(m.id) != null)
            {
                m.inDoubt = true; // ownership already follows ACTIVATED (or its absence)
            }
        }
        return this;
    }

    /**
     * @param id a migration id.
     * @return it as the tools print it, {@code 0x} and hex digits.
     */
    public static String hex(final long id)
    {
        return "0x" + Long.toHexString(id);
    }

    /** @return the first violation, or null if the invariant held throughout. */
    public String violation()
    {
        return violation;
    }

    /**
     * @return what the journals read cannot settle, one line each: the handoffs whose other side's journal
     * was not given (in the order met).
     */
    public List<String> findings()
    {
        return findings;
    }

    /** @return records applied. */
    public long records()
    {
        return lastSeq + 1;
    }

    /** @return the last record number applied. */
    public long lastSeq()
    {
        return lastSeq;
    }

    /** @return VMs ever admitted. */
    public int vmsAdmitted()
    {
        return everAdmitted.size();
    }

    /** @return handoffs whose VM moved. */
    public long migrationsCommitted()
    {
        return migrationsInOrder.stream().filter(Migration::committed).count();
    }

    /** @return handoffs that ended with the VM at its source. */
    public long migrationsAborted()
    {
        return migrationsInOrder.stream().filter(m -> !m.committed() && (m.abortedNs != 0 || m.inDoubt)).count();
    }

    /** @return handoffs left without an end record at the source (resolved by their commit point). */
    public long inDoubt()
    {
        return migrationsInOrder.stream().filter(m -> m.inDoubt).count();
    }

    /** @return handoffs a recovery resolved. */
    public long resolvedByRecovery()
    {
        return migrationsInOrder.stream().filter(m -> m.resolvedByRecovery).count();
    }

    /** @return violations counted as a VM lost. */
    public long lost()
    {
        return lost;
    }

    /** @return violations counted as a VM duplicated (two owners, or running in two places). */
    public long duplicated()
    {
        return duplicated;
    }

    /** @return each VM's owner now, by the commit point: a VM its target activated is the target's. */
    public Map<Long, Integer> owners()
    {
        final Map<Long, Integer> owners = new TreeMap<>();
        for (int i = 0; i < hostIds.length; i++)
        {
            for (final long vm : hostStates[i].owned().keySet())
            {
                if (ownsNow(hostStates[i], vm))
                {
                    owners.putIfAbsent(vm, hostIds[i]);
                }
            }
        }
        return owners;
    }

    /**
     * @param host a host.
     * @return what its journal says so far (null if none of its records was applied), as recovery reads it.
     */
    public HostJournalState host(final int host)
    {
        return hosts.get(host);
    }

    /** @return each host's last journaled load. */
    public Map<Integer, Double> loads()
    {
        final Map<Integer, Double> loads = new TreeMap<>();
        for (final LoadPoint point : loadPoints)
        {
            loads.put(point.host(), point.load());
        }
        return loads;
    }

    /** @return every load snapshot, in order. */
    public List<LoadPoint> loadPoints()
    {
        return loadPoints;
    }

    /** @return every handoff, in order of intent. */
    public List<Migration> migrations()
    {
        return new ArrayList<>(migrationsInOrder);
    }

    /**
     * @return balloon requests ({@code requested}) and their results by outcome (lower-case
     *         {@link io.vmsched.balloon.BalloonResult.Outcome} names).
     */
    public Map<String, Long> balloons()
    {
        return balloons;
    }

    /** @return balance decisions by outcome: {@link io.vmsched.balance.DecisionOutcome#label()}s. */
    public Map<String, Long> decisions()
    {
        return decisions;
    }

    /** @return aborts at the source by reason: {@link AbortReason#label()}s ("unknown" for records from before codes). */
    public Map<String, Long> abortReasons()
    {
        return abortReasons;
    }

    /** @return time of the first record, ns since the epoch. */
    public long firstNs()
    {
        return firstNs;
    }

    /** @return time of the last record applied. */
    public long lastNs()
    {
        return lastNs;
    }

    /**
     * Latency of each handoff step over the committed handoffs.
     *
     * @return a histogram (µs) per step name of {@link #STEPS}.
     */
    public Map<String, Histogram> stepLatencies()
    {
        final Map<String, Histogram> steps = new LinkedHashMap<>();
        for (final String step : STEPS)
        {
            steps.put(step, new Histogram(3));
        }
        for (final Migration m : migrationsInOrder)
        {
            if (m.committedNs == 0 || m.activatedNs == 0 || m.resolvedByRecovery)
            {
                continue; // a handoff a recovery finished would count the downtime as latency
            }
            record(steps.get(STEPS[0]), m.intentNs, m.suspendedNs);
            record(steps.get(STEPS[1]), m.suspendedNs, m.receivedNs);
            record(steps.get(STEPS[2]), m.receivedNs, m.activatedNs);
            record(steps.get(STEPS[3]), m.activatedNs, m.committedNs);
            record(steps.get(STEPS[4]), m.intentNs, m.committedNs);
        }
        return steps;
    }

    private static void record(final Histogram histogram, final long from, final long to)
    {
        if (from != 0 && to != 0)
        {
            histogram.recordValue(Math.max(0, (to - from) / 1000));
        }
    }

    /** @return the one-line summary {@code verify} prints. */
    public String summary()
    {
        return "verified: " + records() + " records, " + vmsAdmitted() + " vms, " + migrationsCommitted() + " migrations, " +
            lost + " lost, " + duplicated + " duplicated, " + inDoubt() + " in doubt";
    }
}
