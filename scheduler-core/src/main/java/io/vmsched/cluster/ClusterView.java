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
    final ClusterListener listener;

    ClusterView(final int hosts, final HostCapacity capacity, final ClusterListener listener)
    {
        this.hosts = hosts;
        this.capacities = new HostCapacity[hosts];
        java.util.Arrays.fill(capacities, capacity);
        this.loadBits = new AtomicLongArray(hosts);
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

    void publishLoad(final int host, final double load)
    {
        loadBits.lazySet(host, Double.doubleToRawLongBits(load));
    }
}
