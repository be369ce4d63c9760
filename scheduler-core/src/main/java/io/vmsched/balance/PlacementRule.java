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
     * The part of {@link #refuses} that costs little a candidate (no other VM located), made on every candidate
     * of an exchange at once when the selection's choice was refused (default: nothing): it may mark a
     * candidate still {@link Rejection#NONE} {@link Rejection#RULE}, naming it as {@link #refuses} does, only if
     * {@link #refuses} refuses it. So it changes which checks are made, never what is chosen.
     *
     * @param view    the source host.
     * @param peer    the peer.
     * @param count   candidates.
     * @param blocked each candidate's reason not to move.
     * @param names   receives a refused candidate's rule name, or null when no name is wanted.
     */
    default void screen(final HostView view, final int peer, final int count, final Rejection[] blocked,
        final String[] names)
    {
    }

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
