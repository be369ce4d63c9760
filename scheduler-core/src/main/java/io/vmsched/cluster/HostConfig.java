package io.vmsched.cluster;

import io.vmsched.balance.BalanceConfig;
import io.vmsched.load.HostCapacity;
import io.vmsched.load.LoadWeights;

/**
 * Settings of the hosts of a cluster. Every field has a default; set what differs, then hand the
 * config to {@link Cluster#start(ClusterConfig)}.
 * <p>
 * <b>Note:</b> Not threadsafe while being set; treat a config in use as immutable.
 */
public final class HostConfig
{
    /** Dispatcher workers per host (its "CPUs"). */
    public int workers = 1;
    /**
     * The OS nice value of the dispatcher's workers, 0-19 (Linux): above 0 the guests yield a core to the host's
     * agent and transport whenever a message comes ({@link io.vmsched.dispatch.Dispatcher#workerNice}). 0 (the
     * default here: an embedding process's threads are left alone); {@code vmsched node} sets 19.
     */
    public int workerNice = 0;
    /** Slots in each host's schedule. */
    public int scheduleCapacity = 1024;
    /** How often each host measures its VMs' usage. */
    public long samplePeriodNs = 100_000_000L;
    /** Samples a VM's actual load is smoothed over (1 = the last sample). */
    public double smoothingWindow = 5;
    /** Each host runs one exchange with a random peer every this often, at a moment of the period its {@link BalanceConfig#loadOrderedTurns} chooses. */
    public long balancePeriodNs = 1_000_000_000L;
    /** Whether hosts balance at all (off: placement stays as admitted, handoffs only on request). */
    public boolean balancing = true;
    /** How long a source waits for the target's answer before asking it to resolve the migration. */
    public long handoffTimeoutNs = 500_000_000L;
    /** How often a host journals a snapshot of its load. */
    public long loadSnapshotPeriodNs = 1_000_000_000L;
    /**
     * How long a {@link Cluster} request waits for room in a full inbox before its call throws
     * (back-pressure: the call blocks, then refuses; a listener callback never waits).
     */
    public long requestTimeoutNs = 1_000_000_000L;
    /**
     * How long a balloon request ({@link Cluster#balloon}) waits for the guest's answer, which comes on the guest's
     * next slice: none by then ends it {@link io.vmsched.balloon.BalloonResult.Outcome#TIMED_OUT}.
     */
    public long balloonTimeoutNs = 2_000_000_000L;
    /**
     * When the host asks its guests' balloons at its balance turns (memory above the band's top: the largest
     * guest is asked for the excess, and the host sheds nothing by migration while a balloon may still free it;
     * below the bottom: memory is given back); null for never. Default: above 85 %, below 70 % of its memory.
     */
    public io.vmsched.balloon.BalloonPolicy balloonPolicy = new io.vmsched.balloon.BalloonPolicy(0.85, 0.70);
    /**
     * Gives each external VM that comes to the host its balloon driver (its hypervisor's); null: external VMs have
     * no balloon. Called on the host's agent: it must not block.
     */
    public io.vmsched.balloon.ExternalBalloons externalBalloons;
    /**
     * Each host's hypervisor driver, given the host's id, called once as the host starts (null: none): the host
     * adopts running VMs through it ({@link Cluster#adoptVm}), moves them by live migration and starts the incoming
     * copies of those that come to it. The host closes it when it closes (the VMs keep running).
     */
    public java.util.function.IntFunction<io.vmsched.vm.VmDriver> vmDriver;
    /**
     * How long a driven VM's live migration may take, from the transfer of its spec to the hypervisor's final
     * state (the target's incoming copy started, the memory copied): past it the migration is cancelled and the VM
     * stays where it was.
     */
    public long vmMigrationTimeoutNs = 120_000_000_000L;
    /** Bytes of each host's inbox ring (a power of two, plus Agrona's trailer is added). */
    public int inboxBytes = 1 << 20;
    /** Load weights of CPU, I/O and memory. */
    public LoadWeights weights = LoadWeights.CPU_ONLY;
    /**
     * Speed of a host's cores relative to the reference core that usage is counted in (its CPU
     * capacity is {@link #workers} x this): a VM that keeps one of its cores busy uses this many
     * reference cores, so it is a smaller load on a faster host.
     */
    public double coreSpeed = 1.0;
    /** I/O bandwidth of a host, bytes per second. */
    public double ioBytesPerSecond = 200e6;
    /** Memory of a host, bytes. */
    public double memoryBytes = 4e9;
    /**
     * Balancer settings. The runtime's defaults: the exchange of the simulator's static profile (8
     * contacts, scatter, no limit on moves an exchange, peer ceiling 1, pull 2), at most 32 migrations
     * in flight per host, a VM held 2 periods after it arrives, and no return to the host it left for 4.
     */
    public BalanceConfig balance = defaultBalance();
    /**
     * The host agent's idle strategy: the default backs off to 1 ms parks (a message may wait that
     * long), 50 µs while a handoff is in flight ({@link io.vmsched.dispatch.Idle#heat}); a benchmark or a
     * latency-bound deployment with cores to spare spins or yields instead.
     */
    public java.util.function.Supplier<org.agrona.concurrent.IdleStrategy> agentIdleStrategy =
        io.vmsched.dispatch.Idle::agent;
    /**
     * The host's labels, which VM-host rules name ({@link io.vmsched.placement.Rule.Kind#ON_LABEL}); each
     * of letters, digits, '.', '_' and '-'.
     */
    public java.util.Set<String> labels = java.util.Set.of();
    /** The host's capacity rules: ceilings per resource, the most VMs, room reserved (default: none). */
    public io.vmsched.placement.HostLimits limits = io.vmsched.placement.HostLimits.NONE;
    /** While this host is drained: its VMs in flight away at most (each turn starts more up to this). */
    public int drainParallel = io.vmsched.placement.Repair.DRAIN_PARALLEL;
    /** Seed of the hosts' random peer choices (each host adds its id). */
    public long seed = 1;

    private static BalanceConfig defaultBalance()
    {
        final BalanceConfig config = new BalanceConfig();
        config.peerChoices = BalanceConfig.MAX_CONTACTS;
        config.scatter = true;
        config.maxMovesPerExchange = 0;
        config.peerCeilingFraction = 1.0;
        config.pullFactor = 2.0;
        config.maxConcurrentPerHost = 32;
        config.pingPongGuard = 4;
        config.minResidency = 2;
        return config;
    }

    /** @return the capacity of one host under these settings. */
    public HostCapacity capacity()
    {
        return new HostCapacity(workers, coreSpeed, ioBytesPerSecond, memoryBytes);
    }

    /**
     * Check the settings.
     *
     * @throws IllegalArgumentException naming the first bad setting.
     */
    public void validate()
    {
        check(workers >= 1, "workers must be at least 1, got " + workers);
        check(workerNice >= 0 && workerNice <= 19, "workerNice must be 0-19, got " + workerNice);
        check(coreSpeed > 0 && Double.isFinite(coreSpeed), "core speed must be finite and above 0, got " + coreSpeed);
        check(ioBytesPerSecond > 0 && Double.isFinite(ioBytesPerSecond) && memoryBytes > 0 && Double.isFinite(memoryBytes),
            "I/O bandwidth and memory must be finite and above 0");
        check(scheduleCapacity >= 2, "schedule capacity must be at least 2, got " + scheduleCapacity);
        check(samplePeriodNs > 0 && balancePeriodNs > 0 && handoffTimeoutNs > 0 && loadSnapshotPeriodNs > 0 &&
            requestTimeoutNs >= 0, "periods and the handoff timeout must be positive, the request timeout not negative");
        check(vmMigrationTimeoutNs > 0, "the VM migration timeout must be positive, got " + vmMigrationTimeoutNs + " ns");
        check(balloonTimeoutNs > 0, "the balloon timeout must be positive, got " + balloonTimeoutNs + " ns");
        check(Integer.bitCount(inboxBytes) == 1 && inboxBytes >= 4096, "inbox bytes must be a power of two >= 4096, got " +
            inboxBytes);
        check(limits != null && labels != null, "limits and labels must be set (none: HostLimits.NONE, an empty set)");
        for (final String label : labels)
        {
            io.vmsched.placement.Rule.checkLabel(label);
        }
        balance.validate();
    }

    private static void check(final boolean ok, final String message)
    {
        if (!ok)
        {
            throw new IllegalArgumentException(message);
        }
    }
}
