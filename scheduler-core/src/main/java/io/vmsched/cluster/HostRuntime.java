package io.vmsched.cluster;

import io.vmsched.balance.BalanceConfig;
import io.vmsched.balance.BalanceDecision;
import io.vmsched.balance.Candidates;
import io.vmsched.balance.PeerSelector;
import io.vmsched.balance.Rejection;
import io.vmsched.balance.VmSelector;
import io.vmsched.dispatch.Dispatcher;
import io.vmsched.dispatch.Guest;
import io.vmsched.journal.AbortReason;
import io.vmsched.journal.Journal;
import io.vmsched.journal.JournalRecord;
import io.vmsched.journal.RecordType;
import io.vmsched.load.HostCapacity;
import io.vmsched.load.LoadModel;
import io.vmsched.load.VmLoad;
import io.vmsched.schedule.EntryState;
import io.vmsched.schedule.Schedule;
import org.agrona.DirectBuffer;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One host: its schedule, its dispatcher workers, and its agent, the single writer that admits and
 * removes VMs, measures their load, balances with random peers and runs both sides of the journaled
 * handoff. Everything reaches the agent through its inbox, a {@link ManyToOneRingBuffer}: commands
 * from the API and messages from peers alike.
 * <p>
 * The handoff (seed VM claim 13; REL claims 5, 6, 13), source side: MIGRATION_INTENT is journaled,
 * the entry is stopped (a running slice ends first), the guest's snapshot is journaled as SUSPENDED
 * and sent. Target: RECEIVED is journaled, the guest is made from its kind and restored, inserted
 * MIGRATING_IN, ACTIVATED is journaled (<b>the commit point</b>) and only then is the entry made
 * runnable, so the VM never runs at the target before the commit point; then the ack. Source, on
 * the ack: COMMITTED, its entry deleted and its copy dropped. Before ACTIVATED any failure ends in
 * ABORTED on both sides and the VM runs on at the source. A source that hears nothing within the
 * timeout does not guess: it asks the target to resolve the migration, and the target answers from
 * its journal's memory (activated: ack; otherwise it refuses the migration for good: nack).
 * <p>
 * Invariants (hold at every moment, and after recovery from a crash at any point): every admitted VM
 * is owned by exactly one host (the target from ACTIVATED on, the source before); it is runnable on
 * at most one host (the source's entry is MIGRATING_OUT, not dispatched, from the stop until the
 * outcome, and the target's entry becomes runnable only after ACTIVATED).
 * <p>
 * Threading: construct, {@link #start()} and {@link #close()} from one thread; the agent thread does
 * all else. The public getters are racy snapshots, safe from any thread.
 */
public final class HostRuntime implements Agent, AutoCloseable
{
    // message layouts: ADMIT = vmId 8, weight 4, kind length 2, kind, state;
    // TRANSFER = migrationId 8, vmId 8, source 4, weight 4, watermark 8, kind length 2, kind, state
    static final int ADMIT_HEADER = 14;
    static final int TRANSFER_HEADER = 34;
    static final int MSG_ADMIT = 1;
    static final int MSG_REMOVE = 2;
    static final int MSG_PROGRAM = 3;
    static final int MSG_MIGRATE = 4;
    static final int MSG_USAGE = 5;

    /** The guest kind of an external VM: an OS process bound by PID, measured from outside, never dispatched. */
    public static final String EXTERNAL_KIND = "external";
    static final int MSG_TRANSFER = 10;
    static final int MSG_ACK = 11;
    static final int MSG_NACK = 12;
    static final int MSG_RESOLVE = 13;

    private static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;
    private static final long ACTIVATED = 1;
    private static final long REFUSED = 2;
    private static final int PHASE_STOPPING = 1;
    private static final int PHASE_AWAIT_ACK = 2;
    private static final int PHASE_RESOLVING = 3;

    private final int hostId;
    private final HostConfig config;
    private final ClusterView view;
    private final Transport transport;
    private final Journal journal;
    private final GuestRegistry registry;
    private final Faults faults;
    private final Schedule schedule;
    private final Dispatcher dispatcher;
    private final ManyToOneRingBuffer inbox;
    private final LoadModel model;
    private final HostCapacity capacity;
    private final BalanceConfig balance;
    private final PeerSelector peers;
    private final SplittableRandom jitter;
    private final MessageHandler onMessage = this::onMessage; // one handler, not a lambda per duty cycle

    private final Long2ObjectHashMap<Vm> vms = new Long2ObjectHashMap<>();
    private final List<Vm> vmList = new ArrayList<>();
    private final List<Outgoing> outgoing = new ArrayList<>();
    // target side: what became of each migration a source sent here, until the source's watermark passes it
    private final Long2LongHashMap outcomes = new Long2LongHashMap(0);
    private final Long2LongHashMap watermarks = new Long2LongHashMap(0);
    private final List<Delayed> delayed = new ArrayList<>();
    private final Long2ObjectHashMap<Vm> recovering = new Long2ObjectHashMap<>(); // checked, not yet recovered
    // requests bound for another host whose inbox was full: sent in order, retried each duty cycle
    private final java.util.ArrayDeque<Delayed> forwards = new java.util.ArrayDeque<>();
    private DirectBuffer currentMessage; // the message being handled, so a handler can forward it whole
    private int currentOffset;
    private int currentLength;
    private boolean kept; // set by a request's handler that passes the request on (forwarded or held)
    private volatile Thread agentThread;

    private final UnsafeBuffer sendBuffer = new UnsafeBuffer(ByteBuffer.allocateDirect(256));
    private UnsafeBuffer transferBuffer = new UnsafeBuffer(new byte[1024]);
    private final double[] loadsScratch;
    private final Candidates candidates = new Candidates(); // one exchange's, reused

    private AgentRunner runner;
    private long migrationSequence;
    private long nextSampleNs;
    private long nextBalanceNs;
    private long nextSnapshotNs;
    private long lastSampleNs;
    private double load;
    private volatile boolean balancing;

    private final AtomicLong migrationsOut = new AtomicLong();
    private final AtomicLong migrationsIn = new AtomicLong();
    private final AtomicLong aborts = new AtomicLong();
    private final AtomicLong decisions = new AtomicLong();
    private volatile int vmCount;

    /** One VM on this host; agent-owned. */
    private static final class Vm
    {
        final long vmId;
        final int weight;
        final byte[] kindUtf8;
        final boolean external; // runs outside (bound to a process): never dispatched, never moved
        final VmLoad load;
        Guest guest;
        long lastCpuNs;
        long lastIoBytes;
        long arrivedNs;
        int cameFrom = -1;
        Outgoing out;
        int heldRemoves; // remove requests that wait for this VM's migration outcome
        double usageCpu;
        double usageIo;
        double usageMemory;
        int index;

        Vm(final long vmId, final int weight, final String kind, final Guest guest, final double smoothing)
        {
            this.vmId = vmId;
            this.weight = weight;
            this.kindUtf8 = kind.getBytes(StandardCharsets.UTF_8);
            this.external = EXTERNAL_KIND.equals(kind);
            this.guest = guest;
            this.load = new VmLoad(smoothing);
        }
    }

    /** A migration away from this host, until its outcome. */
    private static final class Outgoing
    {
        final long migrationId;
        final Vm vm;
        final int peer;
        final long startNs;
        int phase = PHASE_STOPPING;
        long deadlineNs;

        Outgoing(final long migrationId, final Vm vm, final int peer, final long startNs)
        {
            this.migrationId = migrationId;
            this.vm = vm;
            this.peer = peer;
            this.startNs = startNs;
        }
    }

    /** A message held back by a DELAY fault. */
    private static final class Delayed
    {
        final long dueNs;
        final int toHost;
        final int type;
        final byte[] bytes;

        Delayed(final long dueNs, final int toHost, final int type, final byte[] bytes)
        {
            this.dueNs = dueNs;
            this.toHost = toHost;
            this.type = type;
            this.bytes = bytes;
        }
    }

    HostRuntime(
        final int hostId,
        final HostConfig config,
        final ClusterView view,
        final Transport transport,
        final Journal journal,
        final GuestRegistry registry,
        final Faults faults)
    {
        this.hostId = hostId;
        this.config = config;
        this.view = view;
        this.transport = transport;
        this.journal = journal;
        this.registry = registry;
        this.faults = faults;
        this.schedule = Schedule.allocate(config.scheduleCapacity);
        this.dispatcher = new Dispatcher(schedule, config.workers, Dispatcher::defaultIdleStrategy,
            ex -> view.listener.onError(hostId, ex));
        this.inbox = new ManyToOneRingBuffer(new UnsafeBuffer(
            ByteBuffer.allocateDirect(config.inboxBytes + RingBufferDescriptor.TRAILER_LENGTH)));
        this.model = new LoadModel(config.weights);
        this.capacity = config.capacity();
        this.balance = config.balance.forHosts(view.hosts); // the cluster's size is fixed at start
        this.peers = new PeerSelector(config.seed * 1_000_003L + hostId);
        this.jitter = new SplittableRandom(config.seed * 7_919L + hostId);
        this.loadsScratch = new double[view.hosts];
        this.balancing = config.balancing;
    }

    // ------------------------------------------------------------------------------------------
    // Recovery: before start, on the constructing thread.
    // ------------------------------------------------------------------------------------------

    /**
     * Rebuild this host's schedule from its journal: the VMs it owns run again from their last
     * journaled state; a migration the crash cut short is resolved by its commit point (committed if
     * the target journaled ACTIVATED, otherwise aborted on both sides).
     *
     * Call {@link #checkRecoverable} on every host first: it makes the guests this uses.
     *
     * @param state       what this host's journal holds, replayed.
     * @param commitPoint answers whether a target activated a migration.
     * @return number of VMs this host owns after recovery.
     */
    int recover(final JournalState state, final CommitPoint commitPoint)
    {
        migrationSequence = state.maxMigrationSequence();
        for (final JournalState.Pending pending : state.pendingOut())
        {
            final boolean committed = commitPoint.activated(pending.peer, pending.migrationId);
            journal.append(RecordType.RESOLVED, pending.migrationId, pending.vmId, pending.peer, committed ? 1 : 0, 0, 0);
            if (committed)
            {
                journal.append(RecordType.COMMITTED, pending.migrationId, pending.vmId, pending.peer, 0, 0, 0);
                state.owned().remove(pending.vmId);
            }
            else
            {
                journal.appendText(RecordType.ABORTED, pending.migrationId, pending.vmId, pending.peer, 0, 0, 0,
                    AbortReason.RECOVERY_TARGET_NEVER_ACTIVATED.code(), "recovery: the target never activated it");
            }
        }
        for (final JournalState.Pending pending : state.pendingIn())
        {
            journal.append(RecordType.RESOLVED, pending.migrationId, pending.vmId, pending.peer, 0, 0, 0);
            journal.appendText(RecordType.ABORTED, pending.migrationId, pending.vmId, pending.peer, 0, 0, 0,
                AbortReason.RECOVERY_RECEIVED_NOT_ACTIVATED.code(),
                "recovery: received but not activated before the crash");
            outcomes.put(pending.migrationId, REFUSED);
        }
        for (final long migrationId : state.refusedHere())
        {
            outcomes.put(migrationId, REFUSED);
        }
        for (final long migrationId : state.activatedHere())
        {
            outcomes.put(migrationId, ACTIVATED);
        }
        for (final JournalState.Owned owned : state.owned().values())
        {
            final Vm vm = recovering.get(owned.vmId); // made by checkRecoverable
            schedule.insert(owned.vmId, owned.weight, vm.external ? EntryState.SUSPENDED : EntryState.RUNNABLE, vm.guest);
            addVm(vm);
            view.owners.put(owned.vmId, hostId);
        }
        recovering.clear();
        journal.append(RecordType.HOST_STARTED, 0, -1, -1, vmList.size(), 0, 0);
        return vmList.size();
    }

    /**
     * Check, before anything is written, that {@link #recover} can rebuild this host from its journal:
     * every unresolved migration's peer exists, every VM's guest can be made, and they fit the
     * schedule. Changes nothing, so a cluster that cannot start leaves every journal as it was.
     *
     * @param state       what this host's journal holds, replayed.
     * @param commitPoint answers whether a target activated a migration.
     * @throws IllegalArgumentException naming the host and what stops it.
     */
    void checkRecoverable(final JournalState state, final CommitPoint commitPoint)
    {
        final org.agrona.collections.LongHashSet leaving = new org.agrona.collections.LongHashSet();
        for (final JournalState.Pending pending : state.pendingOut())
        {
            if (pending.peer < 0 || pending.peer >= view.hosts)
            {
                throw new IllegalArgumentException("host " + hostId + "'s journal has migration " + pending.migrationId +
                    " of vm " + pending.vmId + " to host " + pending.peer + " unresolved, but the cluster has " +
                    view.hosts + " hosts: start it with all its hosts");
            }
            if (commitPoint.activated(pending.peer, pending.migrationId))
            {
                leaving.add(pending.vmId);
            }
        }
        int owned = 0;
        for (final long vmId : state.owned().keySet())
        {
            owned += leaving.contains(vmId) ? 0 : 1;
        }
        if (owned > schedule.capacity())
        {
            throw new IllegalArgumentException("host " + hostId + "'s journal holds " + owned + " VMs, more than its " +
                "schedule's " + schedule.capacity() + " slots: start it with HostConfig.scheduleCapacity >= " + owned);
        }
        recovering.clear();
        for (final JournalState.Owned vm : state.owned().values())
        {
            if (leaving.contains(vm.vmId))
            {
                continue;
            }
            try
            {
                recovering.put(vm.vmId, newVm(vm.vmId, vm.weight, vm.kind, vm.state));
            }
            catch (final RuntimeException ex)
            {
                throw new IllegalArgumentException("host " + hostId + ": vm " + vm.vmId + " of kind '" + vm.kind +
                    "' cannot be re-created from its journaled state: " + ex.getMessage(), ex);
            }
        }
    }

    /** Start the dispatcher and the agent. */
    void start()
    {
        dispatcher.start(); // the journal passes to the agent thread in onStart
        view.publishLoad(hostId, 0.0);
        runner = new AgentRunner(config.agentIdleStrategy.get(),
            ex -> view.listener.onError(hostId, ex), null, this);
        AgentRunner.startOnThread(runner);
    }

    // ------------------------------------------------------------------------------------------
    // The agent's duty cycle.
    // ------------------------------------------------------------------------------------------

    @Override
    public void onStart()
    {
        agentThread = Thread.currentThread();
        journal.handOver();
        final long now = System.nanoTime();
        lastSampleNs = now;
        nextSampleNs = now + config.samplePeriodNs;
        nextBalanceNs = now + jittered(config.balancePeriodNs);
        nextSnapshotNs = now + config.loadSnapshotPeriodNs;
        for (final Vm vm : vmList)
        {
            vm.arrivedNs = now;
        }
    }

    @Override
    public int doWork()
    {
        int work = inbox.read(onMessage, 64);
        work += schedule.reclaim();
        final long now = System.nanoTime();
        work += progressOutgoing(now);
        if (!delayed.isEmpty())
        {
            work += sendDelayed(now);
        }
        if (!forwards.isEmpty())
        {
            work += retryForwards();
        }
        if (now - nextSampleNs >= 0)
        {
            sample(now);
            nextSampleNs = now + config.samplePeriodNs;
            work++;
        }
        if (now - nextBalanceNs >= 0)
        {
            nextBalanceNs = now + jittered(config.balancePeriodNs);
            if (balancing)
            {
                exchange(now);
                work++;
            }
        }
        if (now - nextSnapshotNs >= 0)
        {
            nextSnapshotNs = now + config.loadSnapshotPeriodNs;
            journal.append(RecordType.LOAD_SNAPSHOT, 0, -1, -1, vmList.size(), load, 0);
        }
        return work;
    }

    @Override
    public String roleName()
    {
        return "vmsched-host-" + hostId;
    }

    private long jittered(final long period)
    {
        return (long)(period * (0.75 + 0.5 * jitter.nextDouble()));
    }

    /*
     * Invariant: every request message (Request.of(type) != null) that reaches an agent is settled
     * exactly once cluster-wide: by its effect, or by one onRequestFailed, on the host that last holds
     * it; a host that passes it on (forward, held remove) does not settle it. view.pending counts the
     * unsettled ones, so close() knows when everything it accepted is done.
     */
    private void onMessage(final int type, final DirectBuffer buffer, final int offset, final int length)
    {
        final Request request = Request.of(type);
        kept = false;
        currentMessage = buffer;
        currentOffset = offset;
        currentLength = length;
        try
        {
            switch (type)
            {
                case MSG_ADMIT: onAdmit(buffer, offset, length); break;
                case MSG_REMOVE: onRemove(buffer.getLong(offset, ORDER)); break;
                case MSG_PROGRAM: onProgram(buffer, offset); break;
                case MSG_MIGRATE: onMigrate(buffer.getLong(offset, ORDER), buffer.getInt(offset + 8, ORDER)); break;
                case MSG_USAGE: onUsage(buffer, offset); break;
                case MSG_TRANSFER: onTransfer(buffer, offset, length); break;
                case MSG_ACK: onAnswer(buffer.getLong(offset, ORDER), true); break;
                case MSG_NACK: onAnswer(buffer.getLong(offset, ORDER), false); break;
                case MSG_RESOLVE: onResolve(buffer, offset); break;
                default: view.listener.onError(hostId, new IllegalStateException("unknown message type " + type));
            }
        }
        catch (final RuntimeException ex)
        {
            if (request != null)
            {
                failed(request, buffer.getLong(offset, ORDER), ex.getMessage());
            }
            else
            {
                view.listener.onError(hostId, ex);
            }
            return;
        }
        if (request != null && !kept)
        {
            view.settled();
        }
    }

    /** A request failed here: tell the listener, then settle it (close() waits for the callback). */
    private void failed(final Request request, final long vmId, final String reason)
    {
        try
        {
            view.listener.onRequestFailed(hostId, request, vmId, reason);
        }
        catch (final RuntimeException ex)
        {
            view.listener.onError(hostId, ex);
        }
        view.settled();
    }

    // ------------------------------------------------------------------------------------------
    // Admission, removal, programmed loads.
    // ------------------------------------------------------------------------------------------

    private void onAdmit(final DirectBuffer buffer, final int offset, final int length)
    {
        view.admitsQueued.decrementAndGet(hostId);
        final long vmId = buffer.getLong(offset, ORDER);
        final int weight = buffer.getInt(offset + 8, ORDER);
        final int kindLength = buffer.getShort(offset + 12, ORDER) & 0xFFFF;
        final String kind = buffer.getStringWithoutLengthUtf8(offset + ADMIT_HEADER, kindLength);
        final byte[] state = new byte[length - ADMIT_HEADER - kindLength];
        buffer.getBytes(offset + ADMIT_HEADER + kindLength, state);
        boolean inserted = false;
        try
        {
            if (vms.containsKey(vmId))
            {
                throw new IllegalArgumentException("vm " + vmId + " is already on host " + hostId);
            }
            final Vm vm = newVm(vmId, weight, kind, state);
            // inserted stopped first: a VM the schedule refuses (full, bad weight) is never journaled,
            // and one that is journaled does not run before its ADMITTED record is written
            schedule.insert(vmId, weight, EntryState.SUSPENDED, vm.guest);
            inserted = true;
            journal.appendGuest(RecordType.ADMITTED, 0, vmId, -1, weight, vm.kindUtf8, state);
            if (!vm.external)
            {
                schedule.resume(vmId); // an external VM runs outside: its entry is never dispatched
            }
            vm.arrivedNs = System.nanoTime();
            addVm(vm);
        }
        catch (final RuntimeException ex)
        {
            if (inserted) // addVm is the last step, so the VM is not in vms yet
            {
                schedule.delete(vmId);
            }
            view.owners.remove(vmId, hostId); // the reservation the API made
            throw ex;
        }
        try
        {
            view.listener.onAdmitted(hostId, vmId);
        }
        catch (final RuntimeException ex)
        {
            view.listener.onError(hostId, ex); // the admission stands: a listener's failure is not the request's
        }
    }

    private Vm newVm(final long vmId, final int weight, final String kind, final byte[] state)
    {
        final Guest guest = EXTERNAL_KIND.equals(kind) ? null : registry.create(kind, state);
        return new Vm(vmId, weight, kind, guest, config.smoothingWindow);
    }

    private void onRemove(final long vmId)
    {
        final Vm vm = vms.get(vmId);
        if (vm == null)
        {
            if (!forwardToOwner(MSG_REMOVE, vmId))
            {
                throw new IllegalArgumentException("vm " + vmId + " is not in the cluster");
            }
            return;
        }
        if (vm.out != null)
        {
            vm.heldRemoves++; // done when the migration's outcome is known (held in memory: a crash forgets it)
            kept = true;
            return;
        }
        removeNow(vm);
    }

    private void removeNow(final Vm vm)
    {
        journal.append(RecordType.REMOVED, 0, vm.vmId, -1, 0, 0, 0);
        schedule.delete(vm.vmId);
        dropVm(vm);
        view.owners.remove(vm.vmId, hostId);
        try
        {
            view.listener.onRemoved(hostId, vm.vmId);
        }
        catch (final RuntimeException ex)
        {
            view.listener.onError(hostId, ex);
        }
    }

    /** Settle the removes held while the VM was migrating: it stayed here (aborted). */
    private void removeHeld(final Vm vm)
    {
        final int held = vm.heldRemoves;
        vm.heldRemoves = 0;
        for (int i = 0; i < held; i++)
        {
            if (i > 0)
            {
                failed(Request.REMOVE, vm.vmId, "vm " + vm.vmId + " was removed by an earlier request");
                continue;
            }
            try
            {
                removeNow(vm);
            }
            catch (final RuntimeException ex)
            {
                failed(Request.REMOVE, vm.vmId, ex.getMessage());
                continue;
            }
            view.settled();
        }
    }

    /**
     * Pass a request for a VM that is not here on to the host that owns it now (it moved on).
     *
     * @return false if no other host owns it.
     */
    private boolean forwardToOwner(final int type, final long vmId)
    {
        final Integer owner = view.owners.get(vmId);
        if (owner == null || owner == hostId)
        {
            return false;
        }
        forward(owner, type, currentMessage, currentOffset, currentLength);
        return true;
    }

    /** Send a request on to another host, in order; if its inbox is full, keep it and retry (never drop it). */
    private void forward(final int to, final int type, final DirectBuffer buffer, final int offset, final int length)
    {
        kept = true;
        sendOrQueue(to, type, buffer, offset, length);
    }

    /**
     * Send now, or if the host's inbox is full (or everything queued before has not gone yet) keep a
     * copy and send it, in order, from a later duty cycle: a requests or an answer is never dropped
     * for want of room.
     */
    private void sendOrQueue(final int to, final int type, final DirectBuffer buffer, final int offset, final int length)
    {
        if (forwards.isEmpty() && transport.send(to, type, buffer, offset, length))
        {
            return;
        }
        final byte[] copy = new byte[length];
        buffer.getBytes(offset, copy);
        forwards.add(new Delayed(0, to, type, copy));
    }

    private int retryForwards()
    {
        int sent = 0;
        while (!forwards.isEmpty())
        {
            final Delayed f = forwards.peekFirst();
            if (!transport.send(f.toHost, f.type, new UnsafeBuffer(f.bytes), 0, f.bytes.length))
            {
                break; // still full: keep the order, try again next duty cycle
            }
            forwards.pollFirst();
            sent++;
        }
        return sent;
    }

    private void onProgram(final DirectBuffer buffer, final int offset)
    {
        final long vmId = buffer.getLong(offset, ORDER);
        final Vm vm = vms.get(vmId);
        if (vm == null)
        {
            if (!forwardToOwner(MSG_PROGRAM, vmId))
            {
                throw new IllegalArgumentException("vm " + vmId + " is not in the cluster");
            }
            return;
        }
        final double cpu = buffer.getDouble(offset + 8, ORDER);
        if (Double.isNaN(cpu))
        {
            vm.load.clearTarget();
        }
        else
        {
            vm.load.program(cpu, buffer.getDouble(offset + 16, ORDER), buffer.getDouble(offset + 24, ORDER));
        }
    }

    private void onUsage(final DirectBuffer buffer, final int offset)
    {
        final long vmId = buffer.getLong(offset, ORDER);
        final Vm vm = vms.get(vmId);
        if (vm == null)
        {
            if (!forwardToOwner(MSG_USAGE, vmId))
            {
                throw new IllegalArgumentException("vm " + vmId + " is not in the cluster");
            }
            return;
        }
        if (!vm.external)
        {
            throw new IllegalArgumentException("vm " + vmId + " is a guest: its usage is measured, not reported");
        }
        else
        {
            vm.usageCpu = buffer.getDouble(offset + 8, ORDER);
            vm.usageIo = buffer.getDouble(offset + 16, ORDER);
            vm.usageMemory = buffer.getDouble(offset + 24, ORDER);
        }
    }

    private void onMigrate(final long vmId, final int target)
    {
        final Vm vm = vms.get(vmId);
        if (vm == null && view.owners.get(vmId) != null && view.owners.get(vmId) != target &&
            forwardToOwner(MSG_MIGRATE, vmId))
        {
            return; // it moved on since the call: the host that has it now starts the migration
        }
        if (vm == null || vm.out != null || vm.external || target == hostId || target < 0 || target >= view.hosts)
        {
            throw new IllegalArgumentException("vm " + vmId + (vm == null ? " is not on host " + hostId :
                vm.out != null ? " is already migrating" : vm.external ? " is an external process (no driver moves it)" :
                " cannot go to host " + target));
        }
        final double here = model.load(vm.load.factors(), capacity);
        startMigration(vm, target, here, model.load(vm.load.factors(), view.capacities[target]), System.nanoTime());
    }

    // ------------------------------------------------------------------------------------------
    // Load: measured from the schedule's counters, published for the peers.
    // ------------------------------------------------------------------------------------------

    private void sample(final long now)
    {
        final double seconds = Math.max(1e-9, (now - lastSampleNs) / 1e9);
        lastSampleNs = now;
        double total = 0;
        for (int i = 0, n = vmList.size(); i < n; i++)
        {
            final Vm vm = vmList.get(i);
            if (vm.external)
            {
                vm.load.measure(vm.usageCpu, vm.usageIo, vm.usageMemory); // as the metrics agent last reported it
                total += model.load(vm.load.factors(), capacity);
                continue;
            }
            final int slot = schedule.slotOf(vm.vmId);
            if (slot == Schedule.NO_SLOT)
            {
                continue;
            }
            final long cpu = schedule.cpuNanos(slot);
            final long io = schedule.ioBytes(slot);
            vm.load.measure(Math.max(0, cpu - vm.lastCpuNs) / 1e9 / seconds, Math.max(0, io - vm.lastIoBytes) / seconds,
                schedule.memBytes(slot));
            vm.lastCpuNs = cpu;
            vm.lastIoBytes = io;
            total += model.load(vm.load.factors(), capacity);
        }
        load = total;
        view.publishLoad(hostId, total);
    }

    // ------------------------------------------------------------------------------------------
    // Balancing: one exchange with a random peer.
    // ------------------------------------------------------------------------------------------

    private void exchange(final long now)
    {
        final int hosts = view.hosts;
        if (hosts < 2)
        {
            return;
        }
        double sum = 0;
        int live = 0;
        for (int h = 0; h < hosts; h++)
        {
            final double l = view.load(h);
            loadsScratch[h] = Double.isNaN(l) ? Double.POSITIVE_INFINITY : l; // a host that is down is never chosen
            if (!Double.isNaN(l))
            {
                sum += l;
                live++;
            }
        }
        final int peer = balance.peerChoices > 1 ? peers.pickLeastLoaded(hostId, hosts, balance.peerChoices, loadsScratch) :
            peers.pick(hostId, hosts);
        if (loadsScratch[peer] == Double.POSITIVE_INFINITY)
        {
            return;
        }
        final double peerLoad = loadsScratch[peer];
        final double mean = Math.max(sum / Math.max(1, live), 1e-9);
        final int limit = balance.movesAllowed(outgoing.size());
        if (!balance.dryRun && (limit < 0 || !VmSelector.worthExchanging(balance, load, peerLoad, mean)))
        {
            return; // nothing to decide: no record either, or an idle cluster would fill its journals
        }
        final int count = vmList.size();
        final Candidates c = candidates.ensure(count);
        final long[] ids = c.ids;
        final double[] onSource = c.onSource;
        final double[] onPeer = c.onPeer;
        final Rejection[] blocked = c.blocked;
        final int[] chosen = c.chosen;
        final HostCapacity peerCapacity = view.capacities[peer];
        final long period = config.balancePeriodNs;
        for (int i = 0; i < count; i++)
        {
            final Vm vm = vmList.get(i);
            ids[i] = vm.vmId;
            onSource[i] = model.load(vm.load.factors(), capacity);
            onPeer[i] = model.load(vm.load.factors(), peerCapacity); // what the peer computes from the load factors
            if (vm.out != null)
            {
                blocked[i] = Rejection.MIGRATING;
            }
            else if (vm.external)
            {
                blocked[i] = Rejection.PINNED;
            }
            else if (now - vm.arrivedNs < balance.minResidency * period)
            {
                blocked[i] = Rejection.RESIDENCY;
            }
            else if (vm.cameFrom == peer && now - vm.arrivedNs < balance.pingPongGuard * period)
            {
                blocked[i] = Rejection.PING_PONG;
            }
            else
            {
                blocked[i] = Rejection.NONE;
            }
        }
        final BalanceDecision decision = new BalanceDecision(hostId, peer, load, peerLoad,
            balance.thresholdFraction * mean);
        final int moves = VmSelector.select(balance, load, peerLoad, mean, count, ids, onSource, onPeer, null, blocked,
            limit, chosen, decision);
        decisions.incrementAndGet();
        journal.appendText(RecordType.DECISION, 0, moves > 0 ? ids[chosen[0]] : -1, peer, moves, load, peerLoad,
            decision.decisionOutcome().code(), decision.toString());
        if (balance.dryRun)
        {
            return;
        }
        for (int i = 0; i < moves; i++)
        {
            startMigration(vms.get(ids[chosen[i]]), peer, onSource[chosen[i]], onPeer[chosen[i]], now);
        }
    }

    /**
     * Start moving a VM to a peer. Agent thread only (the API sends a request through the inbox).
     */
    private void startMigration(final Vm vm, final int peer, final double loadHere, final double loadThere,
        final long now)
    {
        final long migrationId = JournalRecord.migrationId(hostId, ++migrationSequence);
        final Outgoing out = new Outgoing(migrationId, vm, peer, now);
        journal.append(RecordType.MIGRATION_INTENT, migrationId, vm.vmId, peer, 0, loadHere, loadThere);
        vm.out = out;
        outgoing.add(out);
        outgoingVolatile = outgoing.size();
        try
        {
            fault(Faults.Point.SOURCE_AFTER_INTENT, migrationId);
            schedule.stopForMigration(vm.vmId);
        }
        catch (final RuntimeException ex)
        {
            abortAtSource(out, AbortReason.SOURCE_FAILED_TO_STOP, "source failed to stop it: " + ex.getMessage());
        }
    }

    private int progressOutgoing(final long now)
    {
        int work = 0;
        for (int i = outgoing.size() - 1; i >= 0; i--)
        {
            if (i >= outgoing.size())
            {
                continue;
            }
            final Outgoing out = outgoing.get(i);
            if (out.phase == PHASE_STOPPING)
            {
                if (schedule.stateOf(out.vm.vmId) == EntryState.MIGRATING_OUT && !schedule.isPending(out.vm.vmId))
                {
                    sendTransfer(out, now);
                    work++;
                }
            }
            else if (now - out.deadlineNs >= 0)
            {
                // no answer in time: ask the target to resolve it, never guess
                out.phase = PHASE_RESOLVING;
                out.deadlineNs = now + config.handoffTimeoutNs;
                sendBuffer.putLong(0, out.migrationId, ORDER);
                sendBuffer.putLong(8, out.vm.vmId, ORDER);
                sendBuffer.putInt(16, hostId, ORDER);
                sendBuffer.putLong(20, watermark(), ORDER);
                transport.send(out.peer, MSG_RESOLVE, sendBuffer, 0, 28);
                work++;
            }
        }
        return work;
    }

    private void sendTransfer(final Outgoing out, final long now)
    {
        final Vm vm = out.vm;
        final int length;
        try
        {
            final byte[] state = vm.guest.snapshot();
            journal.appendGuest(RecordType.SUSPENDED, out.migrationId, vm.vmId, out.peer, vm.weight, vm.kindUtf8, state);
            fault(Faults.Point.SOURCE_AFTER_SUSPENDED, out.migrationId);
            length = TRANSFER_HEADER + vm.kindUtf8.length + state.length;
            if (transferBuffer.capacity() < length)
            {
                transferBuffer = new UnsafeBuffer(new byte[Math.max(length, transferBuffer.capacity() * 2)]);
            }
            final UnsafeBuffer b = transferBuffer;
            b.putLong(0, out.migrationId, ORDER);
            b.putLong(8, vm.vmId, ORDER);
            b.putInt(16, hostId, ORDER);
            b.putInt(20, vm.weight, ORDER);
            b.putLong(24, watermark(), ORDER);
            b.putShort(32, (short)vm.kindUtf8.length, ORDER);
            b.putBytes(TRANSFER_HEADER, vm.kindUtf8);
            b.putBytes(TRANSFER_HEADER + vm.kindUtf8.length, state);
        }
        catch (final RuntimeException ex)
        {
            abortAtSource(out, AbortReason.SOURCE_FAILED_BEFORE_TRANSFER,
                "source failed before the transfer: " + ex.getMessage());
            return;
        }
        // from here the target may activate it: the source no longer decides alone
        out.phase = PHASE_AWAIT_ACK;
        out.deadlineNs = now + config.handoffTimeoutNs;
        try
        {
            if (!send(Faults.Point.SOURCE_SEND_TRANSFER, out.migrationId, out.peer, MSG_TRANSFER, transferBuffer, length))
            {
                abortAtSource(out, AbortReason.TRANSFER_NOT_QUEUED, "the transfer of " + length +
                    " bytes could not be queued at host " + out.peer +
                    " (its inbox is full, down, or smaller than 8 x the message)"); // it never left: safe
            }
        }
        catch (final RuntimeException ex)
        {
            abortAtSource(out, AbortReason.TRANSFER_NOT_SENT,
                "the transfer could not be sent: " + ex.getMessage()); // it never left: safe
        }
    }

    private long watermark()
    {
        long lowest = JournalRecord.migrationId(hostId, migrationSequence + 1);
        for (int i = 0, n = outgoing.size(); i < n; i++)
        {
            lowest = Math.min(lowest, outgoing.get(i).migrationId);
        }
        return lowest;
    }

    private void onAnswer(final long migrationId, final boolean activated)
    {
        Outgoing out = null;
        for (int i = 0, n = outgoing.size(); i < n; i++)
        {
            if (outgoing.get(i).migrationId == migrationId)
            {
                out = outgoing.get(i);
                break;
            }
        }
        if (out == null || out.phase == PHASE_STOPPING)
        {
            return; // a duplicate answer (to a resolve) for a migration already settled
        }
        if (!activated)
        {
            abortAtSource(out, AbortReason.TARGET_DID_NOT_ACTIVATE, "the target did not activate it");
            return;
        }
        fault(Faults.Point.SOURCE_ON_ACK, migrationId); // a throw here loses the ack: the resolve asks again
        final Vm vm = out.vm;
        journal.append(RecordType.COMMITTED, migrationId, vm.vmId, out.peer, 0, 0, 0);
        outgoing.remove(out);
        outgoingVolatile = outgoing.size();
        schedule.delete(vm.vmId);
        dropVm(vm);
        migrationsOut.incrementAndGet();
        view.committed.incrementAndGet();
        view.listener.onMigrated(vm.vmId, hostId, out.peer, System.nanoTime() - out.startNs);
        for (int i = vm.heldRemoves; i > 0; i--) // they follow the VM; the target settles them
        {
            sendBuffer.putLong(0, vm.vmId, ORDER);
            forward(out.peer, MSG_REMOVE, sendBuffer, 0, 8);
        }
        vm.heldRemoves = 0;
    }

    private void abortAtSource(final Outgoing out, final AbortReason code, final String reason)
    {
        final Vm vm = out.vm;
        journal.appendText(RecordType.ABORTED, out.migrationId, vm.vmId, out.peer, 0, 0, 0, code.code(), reason);
        outgoing.remove(out);
        outgoingVolatile = outgoing.size();
        vm.out = null;
        try
        {
            // an abort comes before the stop was requested, or after the entry reached MIGRATING_OUT
            if (schedule.stateOf(vm.vmId) == EntryState.MIGRATING_OUT && !schedule.isPending(vm.vmId))
            {
                schedule.resume(vm.vmId);
            } // else it was never stopped (the failure came first): it is still runnable
        }
        catch (final RuntimeException ex)
        {
            view.listener.onError(hostId, ex);
        }
        aborts.incrementAndGet();
        view.aborted.incrementAndGet();
        view.listener.onAborted(vm.vmId, hostId, out.peer, reason);
        if (vm.heldRemoves > 0)
        {
            removeHeld(vm);
        }
    }


    // ------------------------------------------------------------------------------------------
    // Target side.
    // ------------------------------------------------------------------------------------------

    private void onTransfer(final DirectBuffer buffer, final int offset, final int length)
    {
        final long migrationId = buffer.getLong(offset, ORDER);
        final long vmId = buffer.getLong(offset + 8, ORDER);
        final int source = buffer.getInt(offset + 16, ORDER);
        final int weight = buffer.getInt(offset + 20, ORDER);
        advanceWatermark(source, buffer.getLong(offset + 24, ORDER));
        final long known = outcomes.get(migrationId);
        if (known != 0)
        {
            answer(source, migrationId, vmId, known == ACTIVATED);
            return;
        }
        if (migrationId < watermarks.get(source))
        {
            answer(source, migrationId, vmId, false); // stale: the source settled it long ago
            return;
        }
        final int kindLength = buffer.getShort(offset + 32, ORDER) & 0xFFFF;
        final String kind = buffer.getStringWithoutLengthUtf8(offset + TRANSFER_HEADER, kindLength);
        final byte[] state = new byte[length - TRANSFER_HEADER - kindLength];
        buffer.getBytes(offset + TRANSFER_HEADER + kindLength, state);

        boolean inserted = false;
        final Vm vm;
        try
        {
            fault(Faults.Point.TARGET_ON_TRANSFER, migrationId);
            if (vms.containsKey(vmId))
            {
                throw new IllegalStateException("vm " + vmId + " is already on host " + hostId);
            }
            vm = new Vm(vmId, weight, kind, null, config.smoothingWindow);
            journal.appendGuest(RecordType.RECEIVED, migrationId, vmId, source, weight, vm.kindUtf8, state);
            fault(Faults.Point.TARGET_AFTER_RECEIVED, migrationId);
            vm.guest = registry.create(kind, state);
            schedule.insert(vmId, weight, EntryState.MIGRATING_IN, vm.guest);
            inserted = true;
            fault(Faults.Point.TARGET_AFTER_INSERT, migrationId);
        }
        catch (final RuntimeException ex)
        {
            if (inserted)
            {
                schedule.delete(vmId); // MIGRATING_IN is never dispatched: freed at once
            }
            journal.appendText(RecordType.ABORTED, migrationId, vmId, source, 0, 0, 0,
                AbortReason.TARGET_FAILED_BEFORE_ACTIVATING.code(),
                "target failed before activating: " + ex.getMessage());
            outcomes.put(migrationId, REFUSED);
            aborts.incrementAndGet();
            answer(source, migrationId, vmId, false);
            return;
        }
        // the commit point: journaled before the entry may run here
        try
        {
            journal.append(RecordType.ACTIVATED, migrationId, vmId, source, 0, 0, 0);
        }
        catch (final RuntimeException ex)
        {
            schedule.delete(vmId);
            outcomes.put(migrationId, REFUSED);
            view.listener.onError(hostId, ex);
            answer(source, migrationId, vmId, false);
            return;
        }
        outcomes.put(migrationId, ACTIVATED);
        view.owners.put(vmId, hostId);
        final long now = System.nanoTime();
        vm.arrivedNs = now;
        vm.cameFrom = source;
        addVm(vm);
        schedule.resume(vmId);
        migrationsIn.incrementAndGet();
        try
        {
            fault(Faults.Point.TARGET_AFTER_ACTIVATED, migrationId);
        }
        catch (final RuntimeException ex)
        {
            view.listener.onError(hostId, ex); // past the commit point: the VM is ours; the source will ask
            return;
        }
        answer(source, migrationId, vmId, true);
    }

    private void onResolve(final DirectBuffer buffer, final int offset)
    {
        final long migrationId = buffer.getLong(offset, ORDER);
        final long vmId = buffer.getLong(offset + 8, ORDER);
        final int source = buffer.getInt(offset + 16, ORDER);
        advanceWatermark(source, buffer.getLong(offset + 20, ORDER));
        long known = outcomes.get(migrationId);
        if (known == 0)
        {
            // never arrived (or not yet): refuse it for good, so a late transfer cannot activate it
            journal.appendText(RecordType.ABORTED, migrationId, vmId, source, 0, 0, 0,
                AbortReason.RESOLVED_BEFORE_TRANSFER.code(), "target: resolved before the transfer arrived");
            outcomes.put(migrationId, REFUSED);
            known = REFUSED;
        }
        answer(source, migrationId, vmId, known == ACTIVATED);
    }

    private void advanceWatermark(final int source, final long watermark)
    {
        if (watermark <= watermarks.get(source))
        {
            return;
        }
        watermarks.put(source, watermark);
        // forget outcomes the source will never ask about again
        final Long2LongHashMap.KeyIterator keys = outcomes.keySet().iterator();
        while (keys.hasNext())
        {
            final long migrationId = keys.nextValue();
            if (JournalRecord.migrationSource(migrationId) == source && migrationId < watermark)
            {
                keys.remove();
            }
        }
    }

    private void answer(final int source, final long migrationId, final long vmId, final boolean activated)
    {
        sendBuffer.putLong(0, migrationId, ORDER);
        sendBuffer.putLong(8, vmId, ORDER);
        sendBuffer.putInt(16, hostId, ORDER);
        if (activated)
        {
            try
            {
                if (!send(Faults.Point.TARGET_SEND_ACK, migrationId, source, MSG_ACK, sendBuffer, 20))
                {
                    sendOrQueue(source, MSG_ACK, sendBuffer, 0, 20); // the source's inbox is full: retried
                }
            }
            catch (final RuntimeException ex)
            {
                view.listener.onError(hostId, ex); // the source will ask again
            }
        }
        else
        {
            sendOrQueue(source, MSG_NACK, sendBuffer, 0, 20);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Helpers.
    // ------------------------------------------------------------------------------------------

    /** @return false only if the transport refused the message (a fault's drop or delay counts as sent). */
    private boolean send(final Faults.Point point, final long migrationId, final int to, final int type,
        final UnsafeBuffer buffer, final int length)
    {
        final Faults.Action action = faults.at(point, hostId, migrationId);
        if (action == Faults.Action.THROW)
        {
            throw new Faults.InjectedFault(point);
        }
        if (action == Faults.Action.DROP)
        {
            return true;
        }
        if (action == Faults.Action.DELAY)
        {
            final byte[] copy = new byte[length];
            buffer.getBytes(0, copy);
            delayed.add(new Delayed(System.nanoTime() + 2 * config.handoffTimeoutNs, to, type, copy));
            return true;
        }
        return transport.send(to, type, buffer, 0, length);
    }

    private int sendDelayed(final long now)
    {
        int sent = 0;
        for (int i = delayed.size() - 1; i >= 0; i--)
        {
            final Delayed d = delayed.get(i);
            if (now - d.dueNs >= 0)
            {
                transport.send(d.toHost, d.type, new UnsafeBuffer(d.bytes), 0, d.bytes.length);
                delayed.remove(i);
                sent++;
            }
        }
        return sent;
    }

    private void fault(final Faults.Point point, final long migrationId)
    {
        if (faults.at(point, hostId, migrationId) == Faults.Action.THROW)
        {
            throw new Faults.InjectedFault(point);
        }
    }

    private void addVm(final Vm vm)
    {
        vm.index = vmList.size();
        vmList.add(vm);
        vms.put(vm.vmId, vm);
        vmCount = vmList.size();
    }

    private void dropVm(final Vm vm)
    {
        final int last = vmList.size() - 1;
        final Vm moved = vmList.get(last);
        vmList.set(vm.index, moved);
        moved.index = vm.index;
        vmList.remove(last);
        vms.remove(vm.vmId);
        vm.guest = null; // the source's copy of the VM's data is dropped
        vmCount = vmList.size();
    }

    // ------------------------------------------------------------------------------------------
    // API side (any thread).
    // ------------------------------------------------------------------------------------------

    /** @return this host's id. */
    public int hostId()
    {
        return hostId;
    }

    /** @return the load last published (a fraction of this host's capacity). */
    public double load()
    {
        return view.load(hostId);
    }

    /** @return VMs on this host (including any migrating away), a racy snapshot. */
    public int vmCount()
    {
        return vmCount;
    }

    /** @return migrations committed with this host as the source. */
    public long migrationsOut()
    {
        return migrationsOut.get();
    }

    /** @return migrations activated here. */
    public long migrationsIn()
    {
        return migrationsIn.get();
    }

    /** @return migrations aborted at this host (either side). */
    public long aborts()
    {
        return aborts.get();
    }

    /** @return balance decisions journaled. */
    public long decisions()
    {
        return decisions.get();
    }

    /** @return records this host has appended to its journal (racy). */
    public long journalRecords()
    {
        return journal.recordsAppended();
    }

    /** @return slices this host's dispatcher has run. */
    public long slicesDispatched()
    {
        return dispatcher.slicesDispatched();
    }

    /** @return this host's schedule (read its slots from any thread; change it only through the API). */
    public Schedule schedule()
    {
        return schedule;
    }

    /** @return this host's journal. */
    public Journal journal()
    {
        return journal;
    }

    boolean offer(final int type, final DirectBuffer buffer, final int offset, final int length)
    {
        return inbox.write(type, buffer, offset, length);
    }

    ManyToOneRingBuffer inbox()
    {
        return inbox;
    }

    void balancing(final boolean on)
    {
        balancing = on;
    }

    /** @return migrations this host has in flight as the source (racy). */
    int outgoingCount()
    {
        return outgoingVolatile;
    }

    private volatile int outgoingVolatile;

    /** @return whether the caller is this host's agent (a listener callback): it must not wait for its own inbox. */
    boolean isAgentThread()
    {
        return Thread.currentThread() == agentThread;
    }

    /**
     * The agent's last act: every request it still holds (in its inbox, waiting to be forwarded, or
     * held for a migration's outcome) is reported failed, so none is silently dropped. Messages
     * between hosts are left to the handoff's own timeouts and to recovery.
     */
    @Override
    public void onClose()
    {
        final String reason = "host " + hostId + " closed before it took effect";
        while (inbox.read((type, buffer, offset, length) ->
        {
            final Request request = Request.of(type);
            if (request == Request.ADMIT)
            {
                view.admitsQueued.decrementAndGet(hostId);
                view.owners.remove(buffer.getLong(offset, ORDER), hostId); // the reservation the API made
            }
            if (request != null)
            {
                failed(request, buffer.getLong(offset, ORDER), reason);
            }
        }) > 0)
        {
            // drain it all
        }
        for (final Delayed f : forwards)
        {
            if (Request.of(f.type) == null)
            {
                continue; // an answer between hosts: the handoff's timeouts and recovery cover it
            }
            failed(Request.of(f.type), new UnsafeBuffer(f.bytes).getLong(0, ORDER),
                "host " + hostId + " closed before it could pass it on to host " + f.toHost);
        }
        forwards.clear();
        for (final Vm vm : vmList)
        {
            for (int i = 0; i < vm.heldRemoves; i++)
            {
                failed(Request.REMOVE, vm.vmId, "host " + hostId + " closed while the vm was migrating");
            }
            vm.heldRemoves = 0;
        }
    }

    /** Stop the agent and the dispatcher, and close the journal. */
    @Override
    public void close()
    {
        if (runner != null)
        {
            runner.close();
        }
        dispatcher.close();
        view.publishLoad(hostId, Double.NaN);
        journal.close();
    }
}
