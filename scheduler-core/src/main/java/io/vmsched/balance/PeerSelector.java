package io.vmsched.balance;

import java.util.SplittableRandom;

/**
 * Picks the peer of an exchange (seed VM claims 4, 17, 18): a host chosen uniformly at random
 * among the others, never the host itself; with d &gt; 1 choices, the least loaded of d such picks.
 * <p>
 * Pure and seeded: the same seed gives the same peers. <b>Note:</b> Not threadsafe: one per host
 * agent (or per simulator).
 */
public final class PeerSelector
{
    private final SplittableRandom random;
    private java.util.function.IntPredicate closed = host -> false;

    /**
     * @param seed the seed.
     */
    public PeerSelector(final long seed)
    {
        this.random = new SplittableRandom(seed);
    }

    /**
     * @param closed the hosts that are no peers however light (closed to VMs: {@link PlacementRule#closed}); tested
     *               on the choosing host's thread, must not allocate.
     */
    public void closed(final java.util.function.IntPredicate closed)
    {
        this.closed = closed;
    }

    /**
     * A host other than {@code self}, uniformly.
     *
     * @param self  the choosing host's index.
     * @param hosts number of hosts, at least 2.
     * @return the peer's index.
     */
    public int pick(final int self, final int hosts)
    {
        if (hosts < 2)
        {
            throw new IllegalArgumentException("a peer needs at least 2 hosts, got " + hosts);
        }
        final int r = random.nextInt(hosts - 1);
        return r >= self ? r + 1 : r;
    }

    /**
     * The peers of one exchange: {@code choices} uniform picks other than the view's own host,
     * without repeats and without hosts that are down, sorted by the load the host learns at contact,
     * the least loaded first (ties in the order drawn): the first is the peer of the exchange, the
     * least loaded of d choices.
     *
     * @param view    the choosing host.
     * @param choices picks to sample, at least 1.
     * @param first   a host to contact in place of the first random pick (the gossip view's aim), -1 for none.
     * @param out     receives the contacts (length at least {@code choices}).
     * @param loads   receives their loads (length at least {@code choices}).
     * @return number of contacts written (0 if every pick was down).
     */
    public int contacts(final HostView view, final int choices, final int first, final int[] out, final double[] loads)
    {
        final int self = view.hostId();
        final int hosts = view.hosts();
        int n = 0;
        for (int i = 0; i < choices; i++)
        {
            final int candidate = i == 0 && first >= 0 && first != self && first < hosts ? first : pick(self, hosts);
            final double load = view.peerLoad(candidate);
            if (Double.isNaN(load) || closed.test(candidate) || VmSelector.contains(out, n, candidate))
            {
                continue;
            }
            int at = n; // insertion by load, ties kept in draw order
            while (at > 0 && loads[at - 1] > load)
            {
                out[at] = out[at - 1];
                loads[at] = loads[at - 1];
                at--;
            }
            out[at] = candidate;
            loads[at] = load;
            n++;
        }
        return n;
    }

    /**
     * The least loaded of every other host, as the global view reads them (a comparison only: no host
     * of a real cluster knows every load at once); ties go to the first found from a random start.
     *
     * @param view the choosing host.
     * @return the peer's index, or -1 if every other host is down.
     */
    public int pickGlobalLeast(final HostView view)
    {
        final int self = view.hostId();
        final int hosts = view.hosts();
        final int start = random.nextInt(hosts);
        int best = -1;
        double bestLoad = Double.POSITIVE_INFINITY;
        for (int i = 0; i < hosts; i++)
        {
            final int candidate = start + i < hosts ? start + i : start + i - hosts;
            if (candidate == self || closed.test(candidate))
            {
                continue;
            }
            final double load = orInfinity(view.peerLoad(candidate));
            if (load < bestLoad)
            {
                best = candidate;
                bestLoad = load;
            }
        }
        return best;
    }

    private static double orInfinity(final double load)
    {
        return Double.isNaN(load) ? Double.POSITIVE_INFINITY : load;
    }

    /**
     * @return the underlying random source (for order shuffles that must stay on the same seed).
     */
    public SplittableRandom random()
    {
        return random;
    }
}
