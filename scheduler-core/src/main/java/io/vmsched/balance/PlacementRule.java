package io.vmsched.balance;

/**
 * Where placement constraints plug into an {@link Exchange}: asked for each candidate that every
 * other guard let through, whether it may go to the peer.
 * <p>
 * <b>Note:</b> Called on the exchanging host's thread.
 */
@FunctionalInterface
public interface PlacementRule
{
    /** Every move allowed. */
    PlacementRule NONE = (view, vm, peer) -> true;

    /**
     * @param view the source host.
     * @param vm   a candidate index in {@code view}.
     * @param peer the peer.
     * @return whether the candidate may run on the peer; a refused one is rejected for {@link Rejection#RULE}.
     */
    boolean allows(HostView view, int vm, int peer);
}
