package io.vmsched.cluster;

import io.vmsched.load.HostCapacity;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What the hosts of an embedded cluster share: each host's published load (the load summaries a
 * network transport would gossip), capacities, which host owns each VM, and counters.
 * <p>
 * Threadsafe: each host writes its own load; the owner map is concurrent.
 */
final class ClusterView
{
    final int hosts;
    final HostCapacity[] capacities;
    final AtomicLongArray loadBits;
    final ConcurrentHashMap<Long, Integer> owners = new ConcurrentHashMap<>();
    final AtomicLong committed = new AtomicLong();
    final AtomicLong aborted = new AtomicLong();
    /** Requests accepted by the API and not yet settled (done, or reported failed) by a host. */
    final AtomicLong pending = new AtomicLong();
    /** Admissions queued to each host and not yet handled by its agent (so placement sees them). */
    final java.util.concurrent.atomic.AtomicIntegerArray admitsQueued;
    final ClusterListener listener;

    ClusterView(final int hosts, final HostCapacity capacity, final ClusterListener listener)
    {
        this.hosts = hosts;
        this.capacities = new HostCapacity[hosts];
        java.util.Arrays.fill(capacities, capacity);
        this.loadBits = new AtomicLongArray(hosts);
        this.admitsQueued = new java.util.concurrent.atomic.AtomicIntegerArray(hosts);
        for (int h = 0; h < hosts; h++)
        {
            loadBits.set(h, Double.doubleToRawLongBits(Double.NaN)); // NaN: not up (yet)
        }
        this.listener = listener;
    }

    double load(final int host)
    {
        return Double.longBitsToDouble(loadBits.get(host));
    }

    void settled()
    {
        pending.decrementAndGet();
    }

    void publishLoad(final int host, final double load)
    {
        loadBits.lazySet(host, Double.doubleToRawLongBits(load));
    }
}
