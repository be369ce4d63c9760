package io.vmsched.balance;

/**
 * A host's estimate of the cluster's mean load, by pairwise averaging gossip: at each exchange the
 * source sends its figure, the peer replaces its own by the mean of the two ({@link #receive}) and
 * answers the change the source's takes to reach that mean ({@link #adjust}); each host adds its own
 * load's changes to its estimate as it observes them, except what migrations moved ({@link #moved}).
 * <p>
 * Invariant: the estimates sum to the loads the hosts last observed, whatever the timing: the two
 * changes of one averaging are computed together, by the peer, from the same two figures, and add to
 * zero (a source that averaged locally with a figure it read earlier lost the difference each time
 * the peer's figure moved in between, and in a pile-up the estimates drifted a quarter below the mean).
 * Pairwise averaging, not push-sum: push-sum's sum / weight swings without bound at a host that sends
 * more shares than it receives (a loaded host, which is never anyone's least loaded peer).
 * <p>
 * <b>Note:</b> Not threadsafe: the host's own thread.
 */
public final class MeanEstimate
{
    private double value;
    private double observed;
    private boolean primed;
    private double movedBeforePrimed; // load migrations brought before the first observation (a host just added)

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
        // a host's first figure is its load less what migrations brought it: their sources still count that load
        value = primed ? value + ownLoad - observed : ownLoad - movedBeforePrimed;
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
        else
        {
            movedBeforePrimed += delta;
        }
    }

    /**
     * A source's figure arrived: take the mean of the two.
     *
     * @param sourceEstimate the source's figure as it sent it.
     * @return the change the source's estimate takes to reach the same mean (its answer).
     */
    public double receive(final double sourceEstimate)
    {
        if (Double.isNaN(sourceEstimate))
        {
            return 0.0;
        }
        if (!primed)
        {
            return 0.0; // no figure of its own yet (its load joins at its first observation): both keep theirs
        }
        final double mean = (value + sourceEstimate) * 0.5;
        value = mean;
        return mean - sourceEstimate;
    }

    /**
     * The peer's answer to this host's figure arrived.
     *
     * @param delta the change {@link #receive} computed for this host.
     */
    public void adjust(final double delta)
    {
        if (primed && Double.isFinite(delta))
        {
            value += delta;
        }
    }

    /** @return the estimate of the cluster's mean load. */
    public double estimate()
    {
        return value;
    }
}
