package io.vmsched.balance;

import java.util.Arrays;

/**
 * One host's table of the cluster's loads as gossip carried them ({@link BalanceConfig.PeerView#GOSSIP}):
 * for each host the last load heard and when it was taken, on the view's clock. Two tables merge by
 * keeping, host by host, the newer figure (push-pull: each side ends with the newer of both), so a
 * figure spreads through the cluster in a few quiet periods without a message per pair of hosts.
 * <p>
 * Invariant: a figure is replaced only by a newer one of the same host, so merging in any order, or
 * the same table twice (a repeated message), leaves the same table.
 * <p>
 * <b>Note:</b> Not threadsafe: its host's thread. Ranking allocates nothing once the table has grown
 * to the cluster's size.
 */
public final class LoadTable
{
    /** {@link #at(int)} of a host never heard of. */
    public static final long UNKNOWN = Long.MIN_VALUE;

    private double[] loads = new double[0];
    private long[] at = new long[0];
    private double[] scratchLoads = new double[0];
    private int[] scratchIds = new int[0];
    private int size; // hosts 0 .. size - 1 have a slot

    /** @return hosts the table has a slot for (some may be unknown). */
    public int size()
    {
        return size;
    }

    /**
     * @param host a host.
     * @return its last load heard (NaN if unknown).
     */
    public double load(final int host)
    {
        return host < size && at[host] != UNKNOWN ? loads[host] : Double.NaN;
    }

    /**
     * @param host a host.
     * @return when that figure was taken, {@link #UNKNOWN} if never heard of.
     */
    public long at(final int host)
    {
        return host < size ? at[host] : UNKNOWN;
    }

    /**
     * Keep a figure if it is newer than the one held.
     *
     * @param host  the host.
     * @param load  its load.
     * @param takenAt when it was taken.
     * @return true if it replaced the one held.
     */
    public boolean put(final int host, final double load, final long takenAt)
    {
        if (host < 0 || Double.isNaN(load) || takenAt == UNKNOWN)
        {
            return false;
        }
        ensure(host + 1);
        if (takenAt <= at[host])
        {
            return false;
        }
        loads[host] = load;
        at[host] = takenAt;
        return true;
    }

    /**
     * Push-pull in one process (the simulator): both tables end with the newer figure of each host.
     *
     * @param other the peer's table.
     */
    public void exchange(final LoadTable other)
    {
        final int n = Math.max(size, other.size);
        ensure(n);
        other.ensure(n);
        for (int h = 0; h < n; h++)
        {
            if (at[h] > other.at[h])
            {
                other.loads[h] = loads[h];
                other.at[h] = at[h];
            }
            else if (other.at[h] > at[h])
            {
                loads[h] = other.loads[h];
                at[h] = other.at[h];
            }
        }
    }

    /**
     * The peer a host aims at in an active period: it ranks itself among the figures known no earlier
     * than {@code oldest} (its own included, from the table like every other) and, if it is in the
     * heavy half, returns the host at the same rank from the light end (the r-th heaviest pairs with the
     * r-th lightest, as a greedy sequence of pairings would). Figures rank by (load, host id).
     *
     * @param self   the ranking host.
     * @param oldest the oldest figure time still used.
     * @return the host aimed at, -1 if none (self unknown, in the light half, or alone).
     */
    public int match(final int self, final long oldest)
    {
        if (self >= size || at[self] == UNKNOWN || at[self] < oldest)
        {
            return -1;
        }
        final double own = loads[self];
        int n = 0;
        int above = 0; // hosts ranked above self: the heavier, and equal loads with a higher id
        for (int h = 0; h < size; h++)
        {
            if (at[h] == UNKNOWN || at[h] < oldest)
            {
                continue;
            }
            if (loads[h] > own || (loads[h] == own && h > self))
            {
                above++;
            }
            scratchLoads[n] = loads[h];
            scratchIds[n] = h;
            n++;
        }
        if (above >= n / 2)
        {
            return -1; // the light half does not aim
        }
        final int match = select(n, above); // the above-th lightest
        return match == self ? -1 : match;
    }

    /** Quickselect over the scratch: the id of the k-th smallest (load, id), 0-based. */
    private int select(final int n, final int k)
    {
        int lo = 0;
        int hi = n - 1;
        while (lo < hi)
        {
            final int mid = (lo + hi) >>> 1;
            final double pivotLoad = scratchLoads[mid];
            final int pivotId = scratchIds[mid];
            int i = lo;
            int j = hi;
            while (i <= j)
            {
                while (less(scratchLoads[i], scratchIds[i], pivotLoad, pivotId))
                {
                    i++;
                }
                while (less(pivotLoad, pivotId, scratchLoads[j], scratchIds[j]))
                {
                    j--;
                }
                if (i <= j)
                {
                    swap(i, j);
                    i++;
                    j--;
                }
            }
            if (k <= j)
            {
                hi = j;
            }
            else if (k >= i)
            {
                lo = i;
            }
            else
            {
                return scratchIds[k];
            }
        }
        return scratchIds[k];
    }

    private static boolean less(final double loadA, final int idA, final double loadB, final int idB)
    {
        return loadA < loadB || (loadA == loadB && idA < idB);
    }

    private void swap(final int i, final int j)
    {
        final double l = scratchLoads[i];
        scratchLoads[i] = scratchLoads[j];
        scratchLoads[j] = l;
        final int id = scratchIds[i];
        scratchIds[i] = scratchIds[j];
        scratchIds[j] = id;
    }

    /**
     * Make room for hosts 0 .. {@code hosts} - 1 (a cluster that grew).
     *
     * @param hosts the hosts.
     */
    public void ensure(final int hosts)
    {
        if (hosts <= size)
        {
            return;
        }
        if (hosts > loads.length)
        {
            final int room = Math.max(hosts, loads.length * 2);
            loads = Arrays.copyOf(loads, room);
            at = Arrays.copyOf(at, room);
            Arrays.fill(at, size, room, UNKNOWN);
            scratchLoads = new double[room];
            scratchIds = new int[room];
        }
        size = hosts;
    }
}
