package io.vmsched.cluster;

import io.vmsched.handoff.HostMessages;
import io.vmsched.jfr.FlightEvents;
import io.vmsched.journal.AbortReason;
import io.vmsched.journal.Journal;
import io.vmsched.journal.JournalRecord;
import io.vmsched.journal.RecordType;
import io.vmsched.schedule.EntryState;
import io.vmsched.schedule.Schedule;
import org.agrona.DirectBuffer;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The target side of the journaled handoff: RECEIVED is journaled, the guest is made from its kind
 * and restored, inserted MIGRATING_IN, ACTIVATED is journaled (<b>the commit point</b>) and only then
 * is the entry made runnable, so the VM never runs here before the commit point; then the ack. Any
 * failure before ACTIVATED is journaled ABORTED and answered with a nack.
 * <p>
 * Invariant: the answer to a migration never changes. What became of each migration a source sent
 * here is kept (activated or refused) until that source's watermark passes it, and a resolve for a
 * migration that never arrived refuses it for good, so a late transfer cannot activate it.
 * <p>
 * A driven VM (a hypervisor's) arrives as its launch spec: the host's driver starts an incoming copy (on a driver
 * thread; PREPARING), RECEIVED is journaled with the copy's handle, and the source is told where the copy
 * listens (PREPARED); the copy is watched (WATCHING) until it holds the whole VM, paused (the driver starts it so):
 * that is the commit point, ACTIVATED is journaled, and only then is the copy let run, then the ack. A copy that
 * does not get there (the migration failed, it died, the deadline passed), or a resolve that comes first, is killed
 * before the nack, so the source resumes its own only once no other copy can run. A transfer that comes again
 * (a node's source repeats it until it hears back) gets PREPARED again while the copy waits for the migration.
 * <p>
 * <b>Note:</b> Not threadsafe: the host's agent only.
 */
final class HandoffTarget
{
    static final long ACTIVATED = 1;
    static final long REFUSED = 2;
    /** A node's move is with the owner registry: no answer yet (a repeated transfer or resolve waits for it). */
    static final long AWAITING_REGISTRY = 3;
    /** A driven VM's incoming copy is being started: no answer yet (a resolve is answered once it is decided). */
    static final long PREPARING = 4;
    /** A driven VM's incoming copy waits for, or receives, the migration: no answer until it runs or is killed. */
    static final long WATCHING = 5;

    /** A driven VM's arrival, between its transfer and its outcome. */
    private static final class Arrival
    {
        final long migrationId;
        final long vmId;
        final int source;
        final int weight;
        final String kind;
        final double cpu;
        final double io;
        final double memory;
        final boolean programmed;
        final java.util.concurrent.atomic.AtomicBoolean resolve = new java.util.concurrent.atomic.AtomicBoolean();
        HostVm vm; // once its copy is started

        Arrival(final long migrationId, final long vmId, final int source, final int weight, final String kind,
            final double cpu, final double io, final double memory, final boolean programmed)
        {
            this.migrationId = migrationId;
            this.vmId = vmId;
            this.source = source;
            this.weight = weight;
            this.kind = kind;
            this.cpu = cpu;
            this.io = io;
            this.memory = memory;
            this.programmed = programmed;
        }
    }

    private HostVmDriver vmDriver;
    private final org.agrona.collections.Long2ObjectHashMap<Arrival> arrivals = new org.agrona.collections.Long2ObjectHashMap<>();
    private final HostMessages.Prepared prepared = new HostMessages.Prepared();
    private UnsafeBuffer preparedBuffer = new UnsafeBuffer(new byte[HostMessages.Prepared.HEADER_LENGTH + 256]);

    private final int hostId;
    private final ClusterView view;
    private final Journal journal;
    private final Schedule schedule;
    private final VmTable vms;
    private final Requests requests;
    /** Told of each VM this side moves (agent thread): the balancer keeps a migration out of its mean. */
    private java.util.function.Consumer<HostVm> moved = vm -> { };
    /** The highest migration id this host has used as a source (a node's move fences them all off). */
    private java.util.function.LongSupplier tenureFence = () -> 0;
    private final Forwarder forwarder;
    private final Faults faults;
    // what became of each migration a source sent here, until the source's watermark passes it
    private final Long2LongHashMap outcomes = new Long2LongHashMap(0);
    private final Long2LongHashMap watermarks = new Long2LongHashMap(0);
    // the last watermark journaled per source: journaled every WATERMARK_STEP migrations, so recovery keeps
    // at most that many outcomes more than memory did (a lagging watermark only keeps more, never refuses more)
    private final Long2LongHashMap journaledWatermarks = new Long2LongHashMap(0);
    static final long WATERMARK_STEP = 64;
    private final HostMessages.Transfer transfer = new HostMessages.Transfer();
    private final HostMessages.Resolve resolve = new HostMessages.Resolve();
    private final HostMessages.Answer answer = new HostMessages.Answer();
    private final UnsafeBuffer answerBuffer = new UnsafeBuffer(ByteBuffer.allocateDirect(HostMessages.Answer.LENGTH));
    // a node's migrations whose move the registry has not answered: MIGRATING_IN, never dispatched, until it does
    private final org.agrona.collections.Long2ObjectHashMap<HostVm> awaiting = new org.agrona.collections.Long2ObjectHashMap<>();
    private volatile int awaitingCount; // for other threads: awaiting's size, published by the agent

    final AtomicLong activated = new AtomicLong();
    final AtomicLong aborts = new AtomicLong();

    HandoffTarget(final int hostId, final ClusterView view, final Journal journal, final Schedule schedule,
        final VmTable vms, final Requests requests, final Forwarder forwarder, final Faults faults)
    {
        this.hostId = hostId;
        this.view = view;
        this.journal = journal;
        this.schedule = schedule;
        this.vms = vms;
        this.requests = requests;
        this.forwarder = forwarder;
        this.faults = faults;
    }

    /**
     * Recovery: a migration's outcome as journaled here.
     *
     * @param migrationId the migration.
     * @param activated   whether this host activated it (else it refused it).
     */
    void outcome(final long migrationId, final boolean activated)
    {
        outcomes.put(migrationId, activated ? ACTIVATED : REFUSED);
    }

    /**
     * Recovery: a source's watermark as journaled here (outcomes below it were not restored).
     *
     * @param source    the source.
     * @param watermark its watermark.
     */
    void watermark(final int source, final long watermark)
    {
        watermarks.put(source, Math.max(watermarks.get(source), watermark));
        journaledWatermarks.put(source, Math.max(journaledWatermarks.get(source), watermark));
    }

    /**
     * @param migrationId a migration.
     * @return whether this host still remembers what became of it (tests).
     */
    boolean remembers(final long migrationId)
    {
        return outcomes.get(migrationId) != 0;
    }

    void onTransfer(final DirectBuffer buffer, final int offset, final int length)
    {
        transfer.wrapRead(buffer, offset);
        final long migrationId = transfer.migrationId();
        final long vmId = transfer.vmId();
        final int source = transfer.source();
        final int weight = transfer.weight();
        if (JournalRecord.migrationSource(migrationId) != source)
        {
            // a migration's id names its source: a transfer that disagrees is refused unread
            throw new IllegalArgumentException("transfer of migration " + migrationId + " from host " + source +
                ", whose id names host " + JournalRecord.migrationSource(migrationId) + ": refused");
        }
        advanceWatermark(source, transfer.watermark());
        final long known = outcomes.get(migrationId);
        if (known == WATCHING)
        {
            // a repeat: the source has not started the migration yet (a node's PREPARED may be lost), or ignores this
            sendPrepared(arrivals.get(migrationId));
            return;
        }
        if (known == AWAITING_REGISTRY || known == PREPARING)
        {
            return; // a repeat: the registry's answer, or the copy's start, settles it
        }
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
        final String kind = transfer.kind();
        final byte[] state = transfer.state(length);
        final double cpu = transfer.cpuCores();
        final double io = transfer.ioBytesPerSecond();
        final double memory = transfer.memoryBytes();
        final boolean programmed = transfer.programmed();
        final String refused = placementRefuses(vmId, cpu, io, memory);
        if (refused != null)
        {
            // the target is the authority on what runs on it: two sources that each saw room, or a rule
            // kept, cannot both fill it (this agent alone inserts here)
            final String detail = "target refused the vm: " + refused;
            journal.appendText(RecordType.ABORTED, migrationId, vmId, source, 0, 0, 0,
                AbortReason.PLACEMENT_REFUSED.code(), detail);
            FlightEvents.handoffAbort(hostId, FlightEvents.TARGET, migrationId, vmId, source, hostId,
                AbortReason.PLACEMENT_REFUSED.label(), detail);
            outcomes.put(migrationId, REFUSED);
            aborts.incrementAndGet();
            answer(source, migrationId, vmId, false);
            return;
        }

        if (kind.startsWith(HostRuntime.DRIVEN_KIND_PREFIX))
        {
            prepare(new Arrival(migrationId, vmId, source, weight, kind, cpu, io, memory, programmed), state);
            return;
        }
        boolean inserted = false;
        final HostVm vm;
        try
        {
            fault(Faults.Point.TARGET_ON_TRANSFER, migrationId);
            if (vms.contains(vmId))
            {
                throw new IllegalStateException("vm " + vmId + " is already on host " + hostId);
            }
            vm = requests.shell(vmId, weight, kind);
            if (programmed)
            {
                vm.load.program(cpu, io, memory); // an operator's target goes where the VM goes
            }
            else
            {
                vm.load.measure(cpu, io, memory); // the source's smoothed figure: measurements here go on from it
            }
            journal.appendGuest(RecordType.RECEIVED, migrationId, vmId, source, weight, vm.kindUtf8, state);
            fault(Faults.Point.TARGET_AFTER_RECEIVED, migrationId);
            vm.guest = requests.guest(kind, state);
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
            final String detail = "target failed before activating: " + ex.getMessage();
            journal.appendText(RecordType.ABORTED, migrationId, vmId, source, 0, 0, 0,
                AbortReason.TARGET_FAILED_BEFORE_ACTIVATING.code(), detail);
            FlightEvents.handoffAbort(hostId, FlightEvents.TARGET, migrationId, vmId, source, hostId,
                AbortReason.TARGET_FAILED_BEFORE_ACTIVATING.label(), detail);
            outcomes.put(migrationId, REFUSED);
            aborts.incrementAndGet();
            answer(source, migrationId, vmId, false);
            return;
        }
        if (view.registry != null)
        {
            // a node: the commit point is the registry applying this move, asked without waiting
            if (!view.registry.requestMove(vmId, source, migrationId, tenureFence.getAsLong()))
            {
                refuse(vm, migrationId, source, AbortReason.TARGET_FAILED_BEFORE_ACTIVATING,
                    "target failed before activating: the owner registry's queue is full");
                return;
            }
            outcomes.put(migrationId, AWAITING_REGISTRY);
            awaiting.put(migrationId, vm);
            awaitingCount = awaiting.size();
            return;
        }
        activate(vm, migrationId, source);
    }

    /** @param vmDriver the host's hypervisor driver, or null. */
    void vmDriver(final HostVmDriver vmDriver)
    {
        this.vmDriver = vmDriver;
    }

    /** A driven VM's transfer: start its incoming copy on a driver thread (nothing is journaled before it runs). */
    private void prepare(final Arrival arrival, final byte[] state)
    {
        final io.vmsched.vm.VmHandle from;
        try
        {
            fault(Faults.Point.TARGET_ON_TRANSFER, arrival.migrationId);
            if (vms.contains(arrival.vmId))
            {
                throw new IllegalStateException("vm " + arrival.vmId + " is already on host " + hostId);
            }
            if (vmDriver == null || !vmDriver.vmKind().equals(arrival.kind))
            {
                throw new IllegalStateException("host " + hostId + " has no VM driver for kind '" + arrival.kind + "'");
            }
            from = io.vmsched.vm.VmHandle.decode(state);
        }
        catch (final RuntimeException ex)
        {
            failedBefore(arrival, "target failed before activating: " + ex.getMessage());
            return;
        }
        outcomes.put(arrival.migrationId, PREPARING);
        arrivals.put(arrival.migrationId, arrival);
        vmDriver.submit(driver -> driver.prepareIncoming(from.name(), from.spec()),
            (copy, failure) -> prepared(arrival, copy, failure));
    }

    private void failedBefore(final Arrival arrival, final String detail)
    {
        arrivals.remove(arrival.migrationId);
        journal.appendText(RecordType.ABORTED, arrival.migrationId, arrival.vmId, arrival.source, 0, 0, 0,
            AbortReason.TARGET_FAILED_BEFORE_ACTIVATING.code(), detail);
        FlightEvents.handoffAbort(hostId, FlightEvents.TARGET, arrival.migrationId, arrival.vmId, arrival.source, hostId,
            AbortReason.TARGET_FAILED_BEFORE_ACTIVATING.label(), detail);
        outcomes.put(arrival.migrationId, REFUSED);
        aborts.incrementAndGet();
        answer(arrival.source, arrival.migrationId, arrival.vmId, false);
    }

    /** Agent: the incoming copy started (or not): journal it, tell the source where it listens, watch it. */
    private void prepared(final Arrival arrival, final io.vmsched.vm.VmHandle copy, final String failure)
    {
        if (copy == null)
        {
            failedBefore(arrival, "target could not start the incoming copy: " + failure);
            return;
        }
        if (arrival.resolve.get())
        {
            kill(arrival, copy, AbortReason.RESOLVED_BEFORE_TRANSFER, "target: resolved before its copy was ready");
            return;
        }
        final HostVm vm = requests.shell(arrival.vmId, arrival.weight, arrival.kind);
        vm.handle = copy;
        if (arrival.programmed)
        {
            vm.load.program(arrival.cpu, arrival.io, arrival.memory);
        }
        else
        {
            vm.load.measure(arrival.cpu, arrival.io, arrival.memory);
        }
        try
        {
            journal.appendGuest(RecordType.RECEIVED, arrival.migrationId, arrival.vmId, arrival.source, arrival.weight,
                vm.kindUtf8, copy.encode());
            schedule.insert(arrival.vmId, arrival.weight, EntryState.MIGRATING_IN, null);
        }
        catch (final RuntimeException ex)
        {
            kill(arrival, copy, AbortReason.TARGET_FAILED_BEFORE_ACTIVATING, "target failed before activating: " +
                ex.getMessage());
            return;
        }
        arrival.vm = vm;
        outcomes.put(arrival.migrationId, WATCHING);
        sendPrepared(arrival);
        final long deadlineNs = System.nanoTime() + requests.config().vmMigrationTimeoutNs;
        vmDriver.submit(driver -> watch(driver, copy, arrival.resolve, deadlineNs),
            (state, watchFailure) -> watched(arrival, state, watchFailure));
    }

    /** Tell the source where an arrival's copy listens (again, for a transfer sent again). */
    private void sendPrepared(final Arrival arrival)
    {
        if (arrival == null || arrival.vm == null)
        {
            return;
        }
        final byte[] uri = arrival.vm.handle.incomingUri().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (preparedBuffer.capacity() < HostMessages.Prepared.HEADER_LENGTH + uri.length)
        {
            preparedBuffer = new UnsafeBuffer(new byte[HostMessages.Prepared.HEADER_LENGTH + uri.length]);
        }
        final int length = prepared.wrap(preparedBuffer, 0).set(arrival.migrationId, arrival.vmId, hostId, uri);
        try
        {
            forwarder.send(arrival.source, HostMessages.PREPARED, preparedBuffer, 0, length);
        }
        catch (final RuntimeException ex)
        {
            view.listener.onError(hostId, ex); // the source sends the transfer again, or times out and asks
        }
    }

    /**
     * On a driver thread: the copy's state once it holds the VM or cannot, a resolve asks, or the deadline passes;
     * waited for in slices of {@link HandoffSource#DRIVER_WAIT_NS} (the hypervisor's events, or 2 ms polls:
     * {@link io.vmsched.vm.VmDriver#awaitStateChange}), a resolve seen between them.
     */
    private static io.vmsched.vm.VmState watch(final io.vmsched.vm.VmDriver driver, final io.vmsched.vm.VmHandle copy,
        final java.util.concurrent.atomic.AtomicBoolean resolve, final long deadlineNs) throws io.vmsched.vm.VmDriverException
    {
        while (true)
        {
            final long left = deadlineNs - System.nanoTime();
            final io.vmsched.vm.VmState state = driver.awaitStateChange(copy, io.vmsched.vm.VmState.Kind.INMIGRATE,
                resolve.get() ? 0 : Math.max(0, Math.min(HandoffSource.DRIVER_WAIT_NS, left)));
            if (state.kind() != io.vmsched.vm.VmState.Kind.INMIGRATE || resolve.get() ||
                System.nanoTime() - deadlineNs > 0 || Thread.currentThread().isInterrupted())
            {
                return state;
            }
        }
    }

    /** Agent: the copy holds the VM (the commit point: activate, then let it run) or it does not (kill it, refuse). */
    private void watched(final Arrival arrival, final io.vmsched.vm.VmState state, final String failure)
    {
        if (state != null && (state.kind() == io.vmsched.vm.VmState.Kind.PAUSED ||
            state.kind() == io.vmsched.vm.VmState.Kind.RUNNING))
        {
            arrivals.remove(arrival.migrationId);
            if (view.registry != null)
            {
                // a node: the copy holds the VM, paused, until the registry applies the move (the commit point)
                if (!view.registry.requestMove(arrival.vmId, arrival.source, arrival.migrationId, tenureFence.getAsLong()))
                {
                    quitThenRefuse(arrival.vm, arrival.migrationId, arrival.source,
                        AbortReason.TARGET_FAILED_BEFORE_ACTIVATING,
                        "target failed before activating: the owner registry's queue is full");
                    return;
                }
                outcomes.put(arrival.migrationId, AWAITING_REGISTRY);
                awaiting.put(arrival.migrationId, arrival.vm);
                awaitingCount = awaiting.size();
                return;
            }
            activate(arrival.vm, arrival.migrationId, arrival.source); // the ack follows once the copy runs
            return;
        }
        kill(arrival, arrival.vm.handle, AbortReason.TARGET_FAILED_BEFORE_ACTIVATING, "target: its incoming copy " +
            (state == null ? "could not be asked: " + failure : "is " + state.kind() +
            (state.status().isEmpty() ? "" : " (" + state.status() + ")")) +
            (arrival.resolve.get() ? " when the source asked" : ""));
    }

    /** Kill an incoming copy that must not run, then (on the agent) refuse the migration for good. */
    private void kill(final Arrival arrival, final io.vmsched.vm.VmHandle copy, final AbortReason code, final String reason)
    {
        vmDriver.submit(driver ->
        {
            driver.remove(copy);
            return null;
        }, (none, failure) ->
        {
            arrivals.remove(arrival.migrationId);
            if (failure != null)
            {
                view.listener.onError(hostId, new IllegalStateException("vm " + arrival.vmId + ": its incoming copy " +
                    "could not be removed: " + failure));
            }
            if (arrival.vm != null)
            {
                refuse(arrival.vm, arrival.migrationId, arrival.source, code, reason);
            }
            else
            {
                journal.appendText(RecordType.ABORTED, arrival.migrationId, arrival.vmId, arrival.source, 0, 0, 0,
                    code.code(), reason);
                FlightEvents.handoffAbort(hostId, FlightEvents.TARGET, arrival.migrationId, arrival.vmId,
                    arrival.source, hostId, code.label(), reason);
                outcomes.put(arrival.migrationId, REFUSED);
                aborts.incrementAndGet();
                answer(arrival.source, arrival.migrationId, arrival.vmId, false);
            }
        });
    }

    /** @return driven VMs arriving: their copies being started or watched, or activated and being let run (agent thread). */
    int liveArrivals()
    {
        return arrivals.size() + resuming;
    }

    private int resuming; // activated driven VMs whose copy's resume is in flight (agent thread)

    /** Where VMs are as this host alone knows: its own (and those arriving), nowhere else. */
    private final io.vmsched.placement.Constraints.Locator here = this::hereOrNowhere;

    private int hereOrNowhere(final long vmId)
    {
        return vms.contains(vmId) || awaitingVm(vmId) ? hostId : -1;
    }

    private boolean awaitingVm(final long vmId)
    {
        if (awaiting.isEmpty())
        {
            return false;
        }
        for (final HostVm vm : awaiting.values())
        {
            if (vm.vmId == vmId)
            {
                return true;
            }
        }
        return false;
    }

    /**
     * @return null if the VM may run here by the hard rules this host can judge alone (anti-affinity,
     *         labels) and its capacity limits, counting the VMs it runs and those arriving; else why not.
     */
    private String placementRefuses(final long vmId, final double cpu, final double io, final double memory)
    {
        final io.vmsched.placement.Constraints rules = view.placement.constraints();
        final String closed = rules.closedReason(hostId);
        if (closed != null)
        {
            return "host " + hostId + " is " + closed + ": it takes no VM";
        }
        if (rules.hardRuleCount() > 0)
        {
            final int broken = rules.breaks(rules.rulesOf(vmId), vmId, hostId, here, false, true);
            if (broken >= 0)
            {
                return rules.rule(broken).describe() + " forbids it on host " + hostId;
            }
        }
        final io.vmsched.placement.HostLimits limits = view.limits[hostId];
        if (limits.none())
        {
            return null;
        }
        double usedCpu = 0;
        double usedIo = 0;
        double usedMemory = 0;
        for (int i = 0, n = vms.size(); i < n; i++)
        {
            final io.vmsched.load.LoadFactors f = vms.at(i).load.factors();
            usedCpu += f.cpuCores;
            usedIo += f.ioBytesPerSecond;
            usedMemory += f.memoryBytes;
        }
        for (final HostVm vm : awaiting.values())
        {
            final io.vmsched.load.LoadFactors f = vm.load.factors();
            usedCpu += f.cpuCores;
            usedIo += f.ioBytesPerSecond;
            usedMemory += f.memoryBytes;
        }
        final String limit = limits.refuses(view.capacities[hostId], usedCpu, usedIo, usedMemory,
            vms.size() + awaiting.size(), cpu, io, memory);
        return limit == null ? null : "host " + hostId + "'s " + limit + " would be exceeded";
    }

    /**
     * A node's owner registry answered a move (agent thread): activate it, or refuse it for good.
     *
     * @param migrationId the migration.
     * @param applied     whether the move was applied (the VM is this host's).
     * @param owner       the owner the answer names ({@link OwnerRegistry#REFUSED_BY_RULE}: a hard rule refused it).
     */
    void onMoveAnswer(final long migrationId, final boolean applied, final int owner)
    {
        final HostVm vm = awaiting.remove(migrationId);
        awaitingCount = awaiting.size();
        if (vm == null)
        {
            return; // not asked here (a stale answer)
        }
        final int source = JournalRecord.migrationSource(migrationId);
        if (applied)
        {
            activate(vm, migrationId, source);
        }
        else if (owner == OwnerRegistry.REFUSED_BY_RULE)
        {
            quitThenRefuse(vm, migrationId, source, AbortReason.PLACEMENT_REFUSED,
                "the owner registry refused the move: a hard placement rule, or a drain, forbids the vm on host " + hostId);
        }
        else
        {
            quitThenRefuse(vm, migrationId, source, AbortReason.REGISTRY_REFUSED_MOVE,
                "the owner registry refused the move: the source kept the vm");
        }
    }

    /** @return arrivals accepted and waiting for the owner registry's answer (racy, any thread). */
    int arriving()
    {
        return awaitingCount;
    }

    /** Refuse a migration for good; a driven VM's copy (paused, never let run) is quit first. */
    private void quitThenRefuse(final HostVm vm, final long migrationId, final int source, final AbortReason code,
        final String reason)
    {
        if (!vm.driven || vmDriver == null)
        {
            refuse(vm, migrationId, source, code, reason);
            return;
        }
        final io.vmsched.vm.VmHandle copy = vm.handle;
        vmDriver.submit(driver ->
        {
            driver.remove(copy);
            return null;
        }, (none, failure) ->
        {
            if (failure != null)
            {
                view.listener.onError(hostId, new IllegalStateException("vm " + vm.vmId + ": its incoming copy could " +
                    "not be removed: " + failure));
            }
            refuse(vm, migrationId, source, code, reason);
        });
    }

    private void refuse(final HostVm vm, final long migrationId, final int source, final AbortReason code,
        final String reason)
    {
        schedule.delete(vm.vmId); // MIGRATING_IN is never dispatched: freed at once
        journal.appendText(RecordType.ABORTED, migrationId, vm.vmId, source, 0, 0, 0, code.code(), reason);
        FlightEvents.handoffAbort(hostId, FlightEvents.TARGET, migrationId, vm.vmId, source, hostId, code.label(), reason);
        outcomes.put(migrationId, REFUSED);
        aborts.incrementAndGet();
        answer(source, migrationId, vm.vmId, false);
    }

    private void activate(final HostVm vm, final long migrationId, final int source)
    {
        final long vmId = vm.vmId;
        // the commit point (embedded cluster): journaled before the entry may run here
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
        FlightEvents.handoffAck(hostId, migrationId, vmId, source);
        view.owners.put(vmId, hostId);
        vm.arrivedNs = System.nanoTime();
        vm.cameFrom = source;
        vms.add(vm);
        if (vm.driven && vm.balloonDriver == null)
        {
            requests.openBalloon(vm, null); // its copy's balloon, through this host's driver
        }
        if (vm.external)
        {
            // a hypervisor runs it: kept stopped here, never dispatched
            schedule.delete(vmId);
            schedule.insert(vmId, vm.weight, EntryState.SUSPENDED, null);
        }
        else
        {
            schedule.resume(vmId);
        }
        moved.accept(vm);
        activated.incrementAndGet();
        try
        {
            fault(Faults.Point.TARGET_AFTER_ACTIVATED, migrationId);
        }
        catch (final RuntimeException ex)
        {
            view.listener.onError(hostId, ex); // past the commit point: the VM is ours; the source will ask
            return;
        }
        // the ack first: the source quits its paused copy while this one is let run (both are paused until
        // then, so two never run; the order of the two changes nothing but the time, which is the sum otherwise)
        answer(source, migrationId, vmId, true);
        if (vm.driven && vmDriver != null)
        {
            final io.vmsched.vm.VmHandle copy = vm.handle;
            resuming++; // a host closing waits for it: a copy left paused would need a restart's recovery
            vmDriver.submit(driver ->
            {
                driver.resume(copy); // past the commit point: it runs here now, the source's stays paused
                return null;
            }, (none, failure) ->
            {
                resuming--;
                if (failure != null)
                {
                    view.listener.onError(hostId, new IllegalStateException("vm " + vmId + " is host " + hostId +
                        "'s, but its copy could not be let run: " + failure));
                }
            });
        }
    }

    void onResolve(final DirectBuffer buffer, final int offset)
    {
        resolve.wrapRead(buffer, offset);
        final long migrationId = resolve.migrationId();
        final long vmId = resolve.vmId();
        final int source = resolve.source();
        if (JournalRecord.migrationSource(migrationId) != source)
        {
            throw new IllegalArgumentException("resolve of migration " + migrationId + " from host " + source +
                ", whose id names host " + JournalRecord.migrationSource(migrationId) + ": refused");
        }
        advanceWatermark(source, resolve.watermark());
        long known = outcomes.get(migrationId);
        if (known == AWAITING_REGISTRY)
        {
            return; // the registry's answer settles it, and is sent then
        }
        if (known == PREPARING || known == WATCHING)
        {
            final Arrival arrival = arrivals.get(migrationId);
            if (arrival != null)
            {
                arrival.resolve.set(true); // decided by its copy at once: runs (activated) or killed (refused)
            }
            return;
        }
        if (known == 0 && migrationId < watermarks.get(source))
        {
            answer(source, migrationId, vmId, false); // the source settled it (a node's, asking after its recovery)
            return;
        }
        if (known == 0)
        {
            // never arrived (or not yet): refuse it for good, so a late transfer cannot activate it
            final String detail = "target: resolved before the transfer arrived";
            journal.appendText(RecordType.ABORTED, migrationId, vmId, source, 0, 0, 0,
                AbortReason.RESOLVED_BEFORE_TRANSFER.code(), detail);
            FlightEvents.handoffAbort(hostId, FlightEvents.TARGET, migrationId, vmId, source, hostId,
                AbortReason.RESOLVED_BEFORE_TRANSFER.label(), detail);
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
        if (JournalRecord.migrationSequence(watermark) - JournalRecord.migrationSequence(journaledWatermarks.get(source)) >=
            WATERMARK_STEP)
        {
            journal.append(RecordType.WATERMARK, watermark, -1, source, 0, 0, 0);
            journaledWatermarks.put(source, watermark);
        }
        // forget outcomes the source will never ask about again
        final Long2LongHashMap.KeyIterator keys = outcomes.keySet().iterator();
        while (keys.hasNext())
        {
            final long migrationId = keys.nextValue();
            if (JournalRecord.migrationSource(migrationId) == source && migrationId < watermark)
            {
                final Arrival arrival = arrivals.get(migrationId);
                if (arrival != null)
                {
                    // the source settled it, yet a copy is still started or watched here: a node's source that
                    // restarted and reclaimed the VM, whose migration will never come. Resolved as a RESOLVE is (the
                    // copy is quit, or, holding the VM, asks the registry, which refuses), not left to its deadline;
                    // its outcome is kept until then
                    arrival.resolve.set(true);
                    continue;
                }
                keys.remove();
            }
        }
    }

    private void answer(final int source, final long migrationId, final long vmId, final boolean activated)
    {
        answer.wrap(answerBuffer, 0).set(migrationId, vmId, hostId);
        final int type = activated ? HostMessages.ACK : HostMessages.NACK;
        try
        {
            // a full source inbox keeps the answer for a later duty cycle; a lost one, the source asks again
            forwarder.send(source, type, answerBuffer, 0, HostMessages.Answer.LENGTH);
        }
        catch (final RuntimeException ex)
        {
            view.listener.onError(hostId, ex); // the source will ask again
        }
    }

    private void fault(final Faults.Point point, final long migrationId)
    {
        if (faults.at(point, hostId, migrationId) == Faults.Action.THROW)
        {
            throw new Faults.InjectedFault(point);
        }
    }

    /**
     * @param moved told of each VM that leaves (source) or arrives (target) by a committed migration,
     *              on the agent thread.
     */
    void onMoved(final java.util.function.Consumer<HostVm> moved)
    {
        this.moved = moved;
    }

    /** @param tenureFence the highest migration id this host has used as a source (agent thread). */
    void tenureFence(final java.util.function.LongSupplier tenureFence)
    {
        this.tenureFence = tenureFence;
    }
}
