package io.vmsched.cluster;

import io.vmsched.dispatch.Dispatcher;
import io.vmsched.journal.Journal;
import io.vmsched.journal.LoadSnapshot;
import io.vmsched.journal.RecordType;
import io.vmsched.load.HostCapacity;
import io.vmsched.load.LoadModel;
import io.vmsched.schedule.Schedule;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

import java.nio.ByteBuffer;

/**
 * One host: its schedule, its dispatcher workers, and its agent, the single writer. The agent's duty
 * cycle reads the inbox (a {@link ManyToOneRingBuffer}: API requests and peers' messages alike,
 * decoded by an {@link InboxAdapter}), progresses the migrations it sources, measures its VMs' load,
 * runs a balance exchange every period and journals its load. The roles live in their own classes:
 * {@link Requests} (admission, removal, loads, explicit migration), {@link HandoffSource} and
 * {@link HandoffTarget} (the two sides of the journaled handoff), {@link HostBalancer} (the exchange),
 * {@link Recovery} (the journal replayed at start), {@link Forwarder} (messages that wait for room),
 * {@link HostBalloons} (balloon requests: posted to a guest's next slice, collected here, never waited for).
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
    /** The guest kind of an external VM: an OS process bound by PID, measured from outside, never dispatched. */
    public static final String EXTERNAL_KIND = "external";
    /**
     * The prefix of a driven VM's kind ({@code vm:qemu}): a hypervisor's VM, adopted through the host's
     * {@link HostConfig#vmDriver}, never dispatched, moved by live migration; its state is its
     * {@link io.vmsched.vm.VmHandle}.
     */
    public static final String DRIVEN_KIND_PREFIX = "vm:";
    /** How long a duty cycle with a handoff in flight keeps the process hot ({@link io.vmsched.dispatch.Idle#heat}). */
    private static final long HEAT_NS = 2_000_000L;

    private final int hostId;
    private final HostConfig config;
    private final ClusterView view;
    private final Journal journal;
    private final Schedule schedule;
    private final Dispatcher dispatcher;
    private final ManyToOneRingBuffer inbox;
    /** The inbox as other threads write to it: each message wakes the agent. */
    private final WakingInbox sharedInbox;
    private final LoadModel model;
    private final HostCapacity capacity;
    private final VmTable vms = new VmTable();
    private final FaultInjectingTransport transport;
    private final Forwarder forwarder;
    private final Requests requests;
    private final HostBalloons balloons;
    private final HostVmDriver vmDriver; // null: no hypervisor driver, driven VMs stay where they are
    private final HandoffSource source;
    private final HandoffTarget target;
    private volatile int liveArrivals; // target.liveArrivals() as the agent last saw it, for other threads
    private final HostBalancer balancer;
    private final Recovery recovery;
    private final InboxAdapter adapter;
    private final LoadSnapshot snapshot = new LoadSnapshot();
    private final org.agrona.concurrent.UnsafeBuffer snapshotBuffer = new org.agrona.concurrent.UnsafeBuffer(
        new byte[LoadSnapshot.LENGTH]);

    private AgentRunner runner;
    private long nextSampleNs;
    private long nextPeriodNs;
    private long nextBalanceNs;
    private long nextSnapshotNs;
    private long lastSampleNs;
    private double load;
    private volatile boolean balancing;
    // closing: set by Cluster.close, then `quiesced` by the agent at the top of a duty cycle. Invariant: once the
    // closer reads quiesced, every migration this host will ever start is in its outgoing count (the cycle that
    // set it, and every later one, starts none: balancing is off and a drain turn is skipped)
    private volatile boolean quiescing;
    private volatile boolean quiesced;
    private volatile Thread agentThread;

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
        this.journal = journal;
        this.schedule = Schedule.allocate(config.scheduleCapacity);
        this.dispatcher = new Dispatcher(schedule, config.workers, Dispatcher::defaultIdleStrategy,
            ex -> view.listener.onError(hostId, ex)).workerNice(config.workerNice);
        this.inbox = new ManyToOneRingBuffer(new UnsafeBuffer(
            ByteBuffer.allocateDirect(config.inboxBytes + RingBufferDescriptor.TRAILER_LENGTH)));
        this.sharedInbox = new WakingInbox(inbox, this::wakeAgent);
        this.model = new LoadModel(config.weights);
        this.capacity = config.capacity();
        this.balancing = config.balancing;
        this.transport = new FaultInjectingTransport(transport, faults, hostId, 2 * config.handoffTimeoutNs);
        this.forwarder = new Forwarder(hostId, view.capacity, this.transport, view.local >= 0); // room for hosts added later
        final io.vmsched.vm.VmDriver driver = config.vmDriver == null ? null : config.vmDriver.apply(hostId);
        this.vmDriver = driver == null ? null : new HostVmDriver(hostId, driver, this::wakeAgent);
        this.requests = new Requests(hostId, config, view, journal, registry, schedule, vms, forwarder, model, capacity);
        this.requests.vmDriver(vmDriver);
        this.source = new HandoffSource(hostId, config, view, journal, schedule, vms, this.transport, faults, requests);
        this.requests.source(source);
        this.source.vmDriver(vmDriver);
        this.balloons = new HostBalloons(hostId, config, view, journal, schedule, capacity);
        this.requests.balloons(balloons, this::wakeAgent);
        this.target = new HandoffTarget(hostId, view, journal, schedule, vms, requests, forwarder, faults);
        this.balancer = new HostBalancer(hostId, config, view, journal, vms, source, forwarder, model, capacity);
        this.source.onMoved(balancer::left);
        this.target.onMoved(balancer::arrived);
        this.target.tenureFence(source::highestMigrationId);
        this.target.vmDriver(vmDriver);
        this.recovery = new Recovery(hostId, view, journal, schedule, vms, requests, source, target, balloons);
        this.adapter = new InboxAdapter(hostId, view, requests, source, target, balancer, this::balancingOn);
        if (view.registry != null)
        {
            view.registry.attach(hostId, sharedInbox); // its answers come as OWNER_ANSWER messages, waking the agent
        }
    }

    /**
     * Check, before anything is written, that {@link #recover} can rebuild this host from its journal.
     *
     * @param state       what this host's journal holds, replayed.
     * @param commitPoint answers whether a target activated a migration.
     * @throws IllegalArgumentException naming the host and what stops it.
     */
    void checkRecoverable(final JournalState state, final CommitPoint commitPoint)
    {
        recovery.check(state, commitPoint);
    }

    /**
     * Rebuild this host's schedule from its journal (call {@link #checkRecoverable} on every host first).
     *
     * @param state       what this host's journal holds, replayed.
     * @param commitPoint answers whether a target activated a migration.
     * @return number of VMs this host owns after recovery.
     */
    int recover(final JournalState state, final CommitPoint commitPoint)
    {
        return recovery.recover(state, commitPoint);
    }

    /** Recovery, after every host recovered: quit the driven VMs' copies that must not run (step 1 of 2). */
    void settleCopies()
    {
        recovery.settleCopies();
    }

    /** Recovery, after every host took step 1: the driven VMs kept here run again (step 2). */
    void runKept()
    {
        recovery.runKept();
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
        nextPeriodNs = balancer.nextPeriodNs(now);
        nextBalanceNs = Long.MAX_VALUE;
        nextSnapshotNs = now + config.loadSnapshotPeriodNs;
    }

    @Override
    public int doWork()
    {
        if (quiescing)
        {
            quiesced = true;
        }
        int work = transport.poll(); // a network transport's arrivals into the inbox, read next
        work += inbox.read(adapter, 64);
        work += schedule.reclaim();
        final long now = System.nanoTime();
        if (quiescing)
        {
            source.closing(now); // the first cycle's time: a closing node reclaims what stays unprepared from then
        }
        work += source.progress(now);
        if (vmDriver != null)
        {
            work += vmDriver.poll(); // what follows a hypervisor's call: a migration's progress, an incoming copy
        }
        if (balloons.inFlight() > 0)
        {
            work += balloons.poll(now);
        }
        work += transport.sendDue(now);
        if (!forwarder.isEmpty())
        {
            work += forwarder.retry();
        }
        if (now - nextSampleNs >= 0)
        {
            sample(now);
            balancer.sampled(load, now);
            nextSampleNs = now + config.samplePeriodNs;
            work++;
        }
        if (now - nextPeriodNs >= 0)
        {
            nextBalanceNs = balancer.turnNs(nextPeriodNs, load); // one turn each period, drawn as it starts
            nextPeriodNs = balancer.nextPeriodNs(now);
        }
        if (nextBalanceNs != Long.MAX_VALUE && now - nextBalanceNs >= 0)
        {
            nextBalanceNs = Long.MAX_VALUE;
            if (balancer.draining())
            {
                if (quiescing)
                {
                    return work; // closing: no new migration
                }
                balancer.evacuate(now); // drained whether balancing is on or not: the operator asked for it
                work++;
            }
            else if (balancing)
            {
                // the balloons first: while they may still free the memory, the host sheds nothing by migration
                final boolean held = balloons.turn(vms, now);
                balancer.heldForBalloons(held); // a peer's pull is held too
                if (!held)
                {
                    balancer.exchange(load, now);
                }
                work++;
            }
        }
        if (now - nextSnapshotNs >= 0)
        {
            nextSnapshotNs = now + config.loadSnapshotPeriodNs;
            journalLoadSnapshot();
        }
        final int live = target.liveArrivals();
        if (live != liveArrivals)
        {
            liveArrivals = live; // for a closing thread: a live arrival in flight is waited for like any other
        }
        if (source.awaitingPeers() > 0 || target.arriving() > 0)
        {
            // a reply is awaited: the threads it crosses here park briefly, renewed each cycle until it came. Not
            // for a hypervisor: its driver's thread wakes the agent, and parks of 50 µs all through a live
            // migration took the cores QEMU migrates on (QemuHandoffOverhead: its total-time 8 ms p50 against 6)
            io.vmsched.dispatch.Idle.heat(HEAT_NS);
        }
        return work;
    }

    /** The host's load, VMs and inventory figures, for {@code vmsched inventory} and its forecasts. Allocates nothing. */
    private void journalLoadSnapshot()
    {
        final io.vmsched.placement.HostLimits limits = view.limits[hostId];
        snapshot.wrapForWrite(snapshotBuffer, 0).maxVms(limits.maxVms());
        figures(LoadSnapshot.CPU, capacity.cpuCapacity(), limits.reservedCores(), limits.cpuCeiling(), measuredCpu,
            usedCpuCores());
        figures(LoadSnapshot.IO, capacity.ioBytesPerSecond(), limits.reservedIo(), limits.ioCeiling(), measuredIo,
            usedIoBytesPerSecond());
        figures(LoadSnapshot.MEMORY, capacity.memoryBytes(), limits.reservedMemory(), limits.memoryCeiling(),
            measuredMemory, usedMemoryBytes());
        journal.appendPayload(RecordType.LOAD_SNAPSHOT, 0, -1, -1, vms.size(), load, 0, snapshotBuffer, 0,
            LoadSnapshot.LENGTH);
    }

    private void figures(final int resource, final double capacity, final double reserved, final double ceiling,
        final double used, final double required)
    {
        snapshot.set(resource, LoadSnapshot.CAPACITY, capacity).set(resource, LoadSnapshot.RESERVED, reserved)
            .set(resource, LoadSnapshot.CEILING, ceiling).set(resource, LoadSnapshot.USED, used)
            .set(resource, LoadSnapshot.REQUIRED, required);
    }

    @Override
    public String roleName()
    {
        return "vmsched-host-" + hostId;
    }

    // ------------------------------------------------------------------------------------------
    // Load: measured from the schedule's counters, published for the peers.
    // ------------------------------------------------------------------------------------------

    private void sample(final long now)
    {
        final double seconds = Math.max(1e-9, (now - lastSampleNs) / 1e9);
        lastSampleNs = now;
        double total = 0;
        double cpuSum = 0;
        double ioSum = 0;
        double memorySum = 0;
        double measuredCpu = 0; // as measured, where the load may count programmed figures instead
        double measuredIo = 0;
        double measuredMemory = 0;
        for (int i = 0, n = vms.size(); i < n; i++)
        {
            final HostVm vm = vms.at(i);
            if (vm.external)
            {
                measure(vm, vm.usageCpu, vm.usageIo, vm.usageMemory); // as the metrics agent last reported it
                measuredCpu += vm.usageCpu;
                measuredIo += vm.usageIo;
                measuredMemory += vm.usageMemory;
                total += model.load(vm.load.factors(), capacity);
                final io.vmsched.load.LoadFactors f = vm.load.factors();
                cpuSum += f.cpuCores;
                ioSum += f.ioBytesPerSecond;
                memorySum += f.memoryBytes;
                continue;
            }
            final int slot = schedule.slotOf(vm.vmId);
            if (slot == Schedule.NO_SLOT)
            {
                if (vm.out != null)
                {
                    // suspended to move: still this host's until it commits (HostView.load), at its last figures
                    total += model.load(vm.load.factors(), capacity);
                }
                continue;
            }
            final long cpu = schedule.cpuNanos(slot);
            final long io = schedule.ioBytes(slot);
            // a second of this host's CPU does coreSpeed seconds of the reference core's work
            final double cpuNow = Math.max(0, cpu - vm.lastCpuNs) / 1e9 / seconds * capacity.coreSpeed();
            final double ioNow = Math.max(0, io - vm.lastIoBytes) / seconds;
            final double memoryNow = schedule.memBytes(slot);
            measure(vm, cpuNow, ioNow, memoryNow);
            measuredCpu += cpuNow;
            measuredIo += ioNow;
            measuredMemory += memoryNow;
            vm.lastCpuNs = cpu;
            vm.lastIoBytes = io;
            total += model.load(vm.load.factors(), capacity);
            final io.vmsched.load.LoadFactors f = vm.load.factors();
            cpuSum += f.cpuCores;
            ioSum += f.ioBytesPerSecond;
            memorySum += f.memoryBytes;
        }
        load = total;
        view.publishUsage(hostId, cpuSum, ioSum, memorySum, vms.size());
        this.measuredCpu = measuredCpu;
        this.measuredIo = measuredIo;
        this.measuredMemory = measuredMemory;
        view.publishLoad(hostId, total);
    }

    private void measure(final HostVm vm, final double cpuCores, final double ioBytesPerSecond, final double memoryBytes)
    {
        vm.load.measure(cpuCores, ioBytesPerSecond, memoryBytes);
        vm.volatility.update(model.load(cpuCores, ioBytesPerSecond, memoryBytes, capacity));
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

    /** @return this host's capacity (what its load is a fraction of). */
    public HostCapacity capacity()
    {
        return capacity;
    }

    /** @return reference cores its VMs used at the last sample (smoothed, as the load counts them), racy. */
    public double usedCpuCores()
    {
        return Double.longBitsToDouble(view.usedCpuBits.get(hostId));
    }

    /** @return I/O bytes a second its VMs did at the last sample (smoothed, as the load counts them), racy. */
    public double usedIoBytesPerSecond()
    {
        return Double.longBitsToDouble(view.usedIoBits.get(hostId));
    }

    /** @return memory bytes its VMs held at the last sample (as the load counts them), racy. */
    public double usedMemoryBytes()
    {
        return Double.longBitsToDouble(view.usedMemoryBits.get(hostId));
    }

    private volatile double measuredCpu;
    private volatile double measuredIo;
    private volatile double measuredMemory;

    /**
     * @return this host's inventory row (capacity, reserved, used as measured, required by its VMs as the load
     *         counts them, free under its ceilings), racy; any thread.
     */
    public io.vmsched.placement.Inventory.Row inventory()
    {
        return io.vmsched.placement.Inventory.row(hostId, capacity, view.limits[hostId], vms.count(),
            new double[]{measuredCpu, measuredIo, measuredMemory},
            new double[]{usedCpuCores(), usedIoBytesPerSecond(), usedMemoryBytes()});
    }

    /** @return VMs on this host (including any migrating away), a racy snapshot. */
    public int vmCount()
    {
        return vms.count();
    }

    /**
     * @return this host's mean estimate and migrations in flight out ({@code "0.1234/5"}), read without
     *         synchronising with its agent: a diagnostic for tests and harnesses, any thread.
     */
    public String balanceState()
    {
        return String.format(java.util.Locale.ROOT, "%.4f/%d", balancer.meanEstimate(), source.size());
    }

    /** @return migrations committed with this host as the source. */
    public long migrationsOut()
    {
        return source.committed.get();
    }

    /** @return migrations activated here. */
    public long migrationsIn()
    {
        return target.activated.get();
    }

    /** @return migrations aborted at this host (either side). */
    public long aborts()
    {
        return source.aborts.get() + target.aborts.get();
    }

    /** @return balance decisions journaled. */
    public long decisions()
    {
        return balancer.decisions.get();
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
        return sharedInbox.write(type, buffer, offset, length);
    }

    /** @return this host's hypervisor driver, or null if it has none. */
    io.vmsched.vm.VmDriver vmDriver()
    {
        return vmDriver == null ? null : vmDriver.driver;
    }

    /** @return the inbox for other threads to write to (the API, peers in this JVM, a transport): each message wakes the agent. */
    org.agrona.concurrent.ringbuffer.RingBuffer inbox()
    {
        return sharedInbox;
    }

    /**
     * Unpark the agent if it is parked by its idle strategy (any thread but the agent's own): a message
     * written into its inbox is read now, not when the park ends (up to 1 ms with the default backoff).
     */
    private void wakeAgent()
    {
        final Thread agent = agentThread;
        if (agent != null && agent != Thread.currentThread())
        {
            java.util.concurrent.locks.LockSupport.unpark(agent);
        }
    }

    private boolean balancingOn()
    {
        return balancing;
    }

    void balancing(final boolean on)
    {
        balancing = on;
    }

    /** Cluster.close: start no more migrations; {@link #quiesced()} says when the agent has seen it. Any thread. */
    void quiesce()
    {
        balancing = false;
        quiescing = true;
    }

    /** @return whether the agent has seen {@link #quiesce()} at the top of a duty cycle: its outgoing count is final. */
    boolean quiesced()
    {
        return quiesced;
    }

    /** @return arrivals waiting for the owner registry (racy). */
    int arrivingCount()
    {
        return target.arriving();
    }

    /** @return driven VMs arriving, their copies being started or watched, as the agent last saw (racy). */
    int liveArrivingCount()
    {
        return liveArrivals;
    }

    /** @return migrations this host has in flight as the source (racy). */
    int outgoingCount()
    {
        return source.inFlight();
    }

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
        while (inbox.read(adapter::failRequest) > 0)
        {
            // drain it all
        }
        forwarder.failQueuedRequests(requests);
        requests.failHeld();
        balloons.failAll("host " + hostId + " closed before the guest answered");
        vms.closeDrivers();
    }

    /** Stop the agent and the dispatcher, and close the journal. */
    @Override
    public void close()
    {
        if (runner != null)
        {
            runner.close();
        }
        if (vmDriver != null)
        {
            vmDriver.close(); // after the agent: nothing follows a call any more; the VMs keep running
        }
        dispatcher.close();
        view.publishLoad(hostId, Double.NaN);
        journal.close();
    }
}
