package io.vmsched.balance;

/**
 * Where placement constraints plug into an {@link Exchange}: asked for each candidate that every
 * other guard let through, whether it may go to the peer.
 * <p>
 * <b>Note:</b> Called on the exchanging host's thread; must not allocate (it runs for every candidate
 * of every exchange).
 */
@FunctionalInterface
public interface PlacementRule
{
    /** Every move allowed. */
    PlacementRule NONE = (view, vm, peer) -> null;

    /**
     * @param view the source host.
     * @param vm   a candidate index in {@code view}.
     * @param peer the peer.
     * @return null if the candidate may run on the peer; else the name of the rule or limit that forbids
     *         it (an existing string: no allocation), and it is rejected for {@link Rejection#RULE}.
     */
    String refuses(HostView view, int vm, int peer);

    /**
     * @param host a host.
     * @return whether it takes no VM at all (draining, removed): then it is no peer of an exchange either, since
     *         its load, kept low by the drain, would draw every exchange to a host that refuses every move.
     */
    default boolean closed(final int host)
    {
        return false;
    }
}
