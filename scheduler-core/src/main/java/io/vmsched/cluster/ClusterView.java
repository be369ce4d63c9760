package io.vmsched.cluster;

import io.vmsched.load.HostCapacity;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What the hosts of an embedded cluster share: each host's published load and its hint of the heaviest host (the
 * summaries a peer reads when it contacts the host; a network transport would carry them), capacities, which host owns each VM, and counters.
 * <p>
 * Threadsafe: each host writes its own load; the owner map is concurrent.
 */
final class ClusterView
{
    /** Hosts in the cluster now (ids 0 .. hosts - 1): grows by {@link Cluster#addHost}, once the new host runs. */
    volatile int hosts;
    /** Room for hosts: the per-host arrays' length. */
    final int capacity;
    final HostCapacity[] capacities;
    final AtomicLongArray loadBits;
    // each host's hint of the heaviest host it heard of: three fields, each written by that host alone;
    // a reader may see them from two different writes, which costs a pull that the fresh contact refuses
    final java.util.concurrent.atomic.AtomicIntegerArray heavyHost;
    final AtomicLongArray heavyLoadBits;
    final AtomicLongArray heavyAt;
    final ConcurrentHashMap<Long, Integer> owners = new ConcurrentHashMap<>();
    /**
     * Across machines: where other nodes' VMs that share an affinity rule with this node's VMs run, as the registry
     * last said (replaced whole by the node each directory period, {@link Cluster#peerOwners}); empty embedded.
     * Only a hint for choosing a target: the registry checks every move's rules at its commit point.
     */
    volatile java.util.Map<Long, Integer> elsewhere = java.util.Map.of();
    /** The services and placement rules, and the compiled rules every placement reads. */
    final io.vmsched.placement.Placement placement = new io.vmsched.placement.Placement();
    // each host's usage as it last sampled it, per resource, and its VM count: written by that host alone
    final AtomicLongArray usedCpuBits;
    final AtomicLongArray usedIoBits;
    final AtomicLongArray usedMemoryBits;
    final java.util.concurrent.atomic.AtomicIntegerArray vmCounts;
    /** Each host's capacity rules. */
    final io.vmsched.placement.HostLimits[] limits;
    /**
     * By host, while it is drained: its VMs that can go nowhere now, each with why (the rule or the limit that
     * refused it, and where); replaced whole by the host's agent each drain turn, read by any thread.
     */
    final java.util.concurrent.atomic.AtomicReferenceArray<java.util.Map<Long, String>> drainBlocked;
    final AtomicLong committed = new AtomicLong();
    final AtomicLong aborted = new AtomicLong();
    /** Requests accepted by the API and not yet settled (done, or reported failed) by a host. */
    final AtomicLong pending = new AtomicLong();
    /** {@link Cluster#balloon} calls waiting for their result, by call id (ids from {@link #balloonCallIds}, never 0). */
    final java.util.concurrent.ConcurrentHashMap<Long, java.util.concurrent.CompletableFuture<io.vmsched.balloon.BalloonResult>>
        balloonCalls = new java.util.concurrent.ConcurrentHashMap<>();
    final AtomicLong balloonCallIds = new AtomicLong();
    /** Admissions queued to each host and not yet handled by its agent (so placement sees them). */
    final java.util.concurrent.atomic.AtomicIntegerArray admitsQueued;
    final ClusterListener listener;
    /** The registry of VM owners across machines (a node), or null (the embedded cluster). */
    final OwnerRegistry registry;
    /** -1: every host runs in this JVM; otherwise the one host that does (a node): the others' loads are gossiped. */
    final int local;

    /**
     * Where a VM runs, as rules see it: this JVM's owner map (a migrating VM is its source's until it commits),
     * else, across machines, the registry's last word on a rule partner elsewhere ({@link #elsewhere}). Any thread.
     *
     * @param vmId a VM.
     * @return its host, or -1 if unknown here.
     */
    int hostOf(final long vmId)
    {
        final Integer host = owners.get(vmId);
        if (host != null)
        {
            return host;
        }
        final Integer there = elsewhere.get(vmId);
        return there == null ? -1 : there;
    }

    /**
     * @param hosts      hosts at the start.
     * @param capacities each host's capacity, for every host the cluster may grow to (its length is the room).
     * @param listener   told of events.
     */
    ClusterView(final int hosts, final HostCapacity[] capacities, final ClusterListener listener)
    {
        this(hosts, capacities, listener, -1, null);
    }

    /**
     * @param local    -1, or the one host that runs in this JVM (a node of a cluster across machines).
     * @param registry the owner registry (a node), or null.
     */
    ClusterView(final int hosts, final HostCapacity[] capacities, final ClusterListener listener, final int local,
        final OwnerRegistry registry)
    {
        this.local = local;
        this.registry = registry;
        this.hosts = hosts;
        this.capacity = capacities.length;
        this.capacities = capacities.clone();
        this.loadBits = new AtomicLongArray(capacity);
        this.admitsQueued = new java.util.concurrent.atomic.AtomicIntegerArray(capacity);
        this.heavyHost = new java.util.concurrent.atomic.AtomicIntegerArray(capacity);
        this.heavyLoadBits = new AtomicLongArray(capacity);
        this.heavyAt = new AtomicLongArray(capacity);
        this.usedCpuBits = new AtomicLongArray(capacity);
        this.usedIoBits = new AtomicLongArray(capacity);
        this.usedMemoryBits = new AtomicLongArray(capacity);
        this.vmCounts = new java.util.concurrent.atomic.AtomicIntegerArray(capacity);
        this.limits = new io.vmsched.placement.HostLimits[capacity];
        this.drainBlocked = new java.util.concurrent.atomic.AtomicReferenceArray<>(capacity);
        for (int h = 0; h < capacity; h++)
        {
            drainBlocked.set(h, java.util.Map.of());
        }
        java.util.Arrays.fill(limits, io.vmsched.placement.HostLimits.NONE);
        for (int h = 0; h < capacity; h++)
        {
            loadBits.set(h, Double.doubleToRawLongBits(Double.NaN)); // NaN: not up (yet)
            heavyHost.set(h, -1); // no hint yet
        }
        this.listener = listener;
    }

    /** @return whether {@code host} runs in another process (a node's peer): nothing of it is shared here. */
    boolean remote(final int host)
    {
        return local >= 0 && host != local;
    }

    double load(final int host)
    {
        return Double.longBitsToDouble(loadBits.get(host));
    }

    void publishHeavy(final int host, final int heavy, final double load, final long at)
    {
        heavyLoadBits.lazySet(host, Double.doubleToRawLongBits(load));
        heavyAt.lazySet(host, at);
        heavyHost.lazySet(host, heavy);
    }

    void settled()
    {
        pending.decrementAndGet();
    }

    /** A host's usage per resource and its VM count, as it sampled them (that host's thread). */
    void publishUsage(final int host, final double cpu, final double io, final double memory, final int vms)
    {
        usedCpuBits.lazySet(host, Double.doubleToRawLongBits(cpu));
        usedIoBits.lazySet(host, Double.doubleToRawLongBits(io));
        usedMemoryBits.lazySet(host, Double.doubleToRawLongBits(memory));
        vmCounts.lazySet(host, vms);
    }

    /**
     * Whether a VM with these figures fits on {@code host} under its limits, by the usage it last published
     * (a peer in another process publishes none here: its own check, when the VM arrives, decides).
     *
     * @return null if it fits, else the limit it breaks.
     */
    String refusedByLimits(final int host, final double cpu, final double io, final double memory)
    {
        final io.vmsched.placement.HostLimits l = limits[host];
        if (l.none() || remote(host))
        {
            return null;
        }
        return l.refuses(capacities[host], Double.longBitsToDouble(usedCpuBits.get(host)),
            Double.longBitsToDouble(usedIoBits.get(host)), Double.longBitsToDouble(usedMemoryBits.get(host)),
            vmCounts.get(host), cpu, io, memory);
    }

    /** @return whether no host has capacity limits (admission then needs no rule-bound placement). */
    boolean limitsNone()
    {
        for (final io.vmsched.placement.HostLimits l : limits)
        {
            if (!l.none())
            {
                return false;
            }
        }
        return true;
    }

    void publishLoad(final int host, final double load)
    {
        loadBits.lazySet(host, Double.doubleToRawLongBits(load));
    }
}
