package io.vmsched.balance;

/**
 * A host's estimate of the cluster's mean load, by pairwise averaging gossip: at each exchange the
 * host and its peer each replace their estimate by the mean of the two (the source with the figure
 * it read from the peer, the peer with the source's figure sent to it), and each host adds its own
 * load's changes to its estimate as it observes them.
 * <p>
 * Invariant: an estimate is always a convex mix of the hosts' observed loads plus changes, so it
 * stays within the range of the loads (push-sum's sum / weight does not: a host that sends more
 * shares than it receives divides its own load's changes by a weight near zero). When the two
 * sides average the same two figures, the estimates keep summing to the hosts' loads as each last
 * observed its own, and pairwise averaging draws each to the mean; in the runtime the peer's figure
 * may have moved before the source's arrives, which costs a little of that sum, never the bound.
 * <p>
 * <b>Note:</b> Not threadsafe: the host's own thread.
 */
public final class MeanEstimate
{
    private double value;
    private double observed;
    private boolean primed;

    /**
     * Start from a known mean (hosts that gossiped before the first exchange).
     *
     * @param ownLoad this host's load now.
     * @param mean    the cluster's mean.
     */
    public void start(final double ownLoad, final double mean)
    {
        observed = ownLoad;
        value = mean;
        primed = true;
    }

    /**
     * This host's load is now {@code ownLoad}: its change goes into the estimate (the first
     * observation, without a {@link #start}, is the estimate).
     *
     * @param ownLoad the host's load.
     */
    public void observe(final double ownLoad)
    {
        value = primed ? value + ownLoad - observed : ownLoad;
        observed = ownLoad;
        primed = true;
    }

    /**
     * This host's load changed by {@code delta} through a migration, not through its workload: the
     * estimate keeps it out (a migration moves load, the cluster's mean stays). Without this, a host
     * that sheds a pile-up would count every VM it sends as a fall of the mean, far below zero.
     *
     * @param delta the VM's load on this host: negative when it left, positive when it arrived.
     */
    public void moved(final double delta)
    {
        if (primed)
        {
            observed += delta;
        }
    }

    /**
     * Average with a peer's estimate.
     *
     * @param peerEstimate the peer's figure.
     */
    public void average(final double peerEstimate)
    {
        if (!Double.isNaN(peerEstimate))
        {
            value = primed ? (value + peerEstimate) * 0.5 : peerEstimate;
        }
    }

    /** @return the estimate of the cluster's mean load. */
    public double estimate()
    {
        return value;
    }
}
