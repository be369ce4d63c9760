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

    /**
     * @param seed the seed.
     */
    public PeerSelector(final long seed)
    {
        this.random = new SplittableRandom(seed);
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
     * The least loaded of {@code choices} uniform picks other than {@code self}.
     *
     * @param self    the choosing host's index.
     * @param hosts   number of hosts, at least 2.
     * @param choices picks to sample, at least 1.
     * @param loads   load of each host, as the chooser sees it.
     * @return the peer's index.
     */
    public int pickLeastLoaded(final int self, final int hosts, final int choices, final double[] loads)
    {
        int best = pick(self, hosts);
        for (int i = 1; i < choices; i++)
        {
            final int candidate = pick(self, hosts);
            if (loads[candidate] < loads[best])
            {
                best = candidate;
            }
        }
        return best;
    }

    /**
     * @return the underlying random source (for order shuffles that must stay on the same seed).
     */
    public SplittableRandom random()
    {
        return random;
    }
}
